//! The `:` command palette: every command of every tab and the global ones,
//! found by fuzzy matching. Whole-word matches rank first, then word prefixes,
//! then the rest by fuzzy score; choosing a tab's command goes to that tab.

use super::action::Action;
use super::keymap::{Keymap, Mode};
use super::tab::TabId;
use super::tabs::TabCommand;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

#[derive(Debug, Clone, PartialEq)]
pub struct Palette {
    pub query: String,
    pub selected: usize,
    /// Entries matching the query, best first.
    pub matches: Vec<PaletteEntry>,
    all: Vec<PaletteEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PaletteEntry {
    pub action: Action,
    pub label: String,
    /// The tab the command belongs to (shown beside it; choosing it goes there).
    pub tab: Option<TabId>,
    /// The key that does the same, taught by the palette.
    pub key: Option<String>,
    /// What the query is matched against: the tab's name and the label, lower case.
    haystack: String,
}

impl AsRef<str> for PaletteEntry {
    fn as_ref(&self) -> &str {
        &self.haystack
    }
}

impl Palette {
    pub fn new(keymap: &Keymap, mode: Mode) -> Palette {
        let visible = match mode {
            Mode::Tab(tab) => tab,
            _ => TabId::Health,
        };
        // The visible tab's commands first, so an empty query shows what is at hand.
        let order = std::iter::once(visible).chain(TabId::ALL.into_iter().filter(|t| *t != visible));
        let mut all: Vec<PaletteEntry> = Vec::new();
        for tab in order {
            for command in TabCommand::all(tab) {
                let action = Action::Tab(command);
                let key = keymap.key_for(Mode::Tab(tab), &action);
                let described = action.describe();
                // Some commands already start with their tab's name; it is shown in its own column.
                let label = described.strip_prefix(&format!("{}: ", tab.title())).unwrap_or(&described).to_string();
                all.push(PaletteEntry::new(action, label, Some(tab), key));
            }
        }
        for action in Action::palette_entries() {
            let key = keymap.key_for(mode, &action);
            all.push(PaletteEntry::new(action.clone(), action.describe(), None, key));
        }
        Palette { query: String::new(), selected: 0, matches: all.clone(), all }
    }

    pub fn type_char(&mut self, c: char) {
        if !c.is_control() && self.query.chars().count() < 64 {
            self.query.push(c);
            self.refilter();
        }
    }

    pub fn backspace(&mut self) {
        self.query.pop();
        self.refilter();
    }

    pub fn move_selection(&mut self, delta: isize) {
        if self.matches.is_empty() {
            self.selected = 0;
            return;
        }
        let len = self.matches.len() as isize;
        self.selected = (self.selected as isize + delta).rem_euclid(len) as usize;
    }

    pub fn chosen(&self) -> Option<&Action> {
        self.matches.get(self.selected).map(|entry| &entry.action)
    }

    fn refilter(&mut self) {
        self.selected = 0;
        if self.query.trim().is_empty() {
            self.matches = self.all.clone();
            return;
        }
        let mut matcher = Matcher::new(Config::DEFAULT);
        let pattern = Pattern::parse(&self.query, CaseMatching::Ignore, Normalization::Smart);
        let words: Vec<String> = self.query.split_whitespace().map(str::to_lowercase).collect();
        let mut scored: Vec<(u8, u32, usize)> = pattern
            .match_list(self.all.iter().enumerate().map(|(i, e)| Indexed(i, e)), &mut matcher)
            .into_iter()
            .map(|(Indexed(index, entry), score)| (tier(&entry.haystack, &words), score, index))
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        self.matches = scored.into_iter().map(|(_, _, index)| self.all[index].clone()).collect();
    }
}

impl PaletteEntry {
    fn new(action: Action, label: String, tab: Option<TabId>, key: Option<String>) -> PaletteEntry {
        let haystack = match tab {
            Some(tab) => format!("{} {}", tab.title(), label).to_lowercase(),
            None => label.to_lowercase(),
        };
        PaletteEntry { action, label, tab, key, haystack }
    }
}

/// An entry with its place in the list, so equal scores keep the list's order.
struct Indexed<'a>(usize, &'a PaletteEntry);

impl AsRef<str> for Indexed<'_> {
    fn as_ref(&self) -> &str {
        &self.1.haystack
    }
}

/// 0 when every query word is a whole word of `haystack`, 1 when each starts one, 2 otherwise.
fn tier(haystack: &str, words: &[String]) -> u8 {
    let hay: Vec<&str> = haystack.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    if words.iter().all(|w| hay.contains(&w.as_str())) {
        0
    } else if words.iter().all(|w| hay.iter().any(|h| h.starts_with(w.as_str()))) {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(query: &str) -> Palette {
        let mut palette = Palette::new(&Keymap::defaults(), Mode::Tab(TabId::Health));
        query.chars().for_each(|c| palette.type_char(c));
        palette
    }

    #[test]
    fn every_tab_s_commands_are_listed_with_their_tab() {
        let palette = search("");
        for tab in TabId::ALL {
            assert!(palette.matches.iter().any(|e| e.tab == Some(tab)), "{tab:?} missing");
        }
        // The visible tab's own commands come first.
        assert_eq!(palette.matches[0].tab, Some(TabId::Health));
    }

    #[test]
    fn whole_words_rank_before_prefixes_and_prefixes_before_scattered_letters() {
        assert_eq!(tier("backups verify the selected backup", &["verify".into()]), 0);
        assert_eq!(tier("backups verify every backup", &["veri".into()]), 1);
        assert_eq!(tier("incident pick the severity", &["pts".into()]), 2);
        let palette = search("verify");
        assert!(!palette.matches.is_empty());
        assert!(palette.matches[0].haystack.split(' ').any(|w| w == "verify"), "{:?}", palette.matches[0]);
        let palette = search("sev");
        assert_eq!(palette.matches[0].tab, Some(TabId::Incident), "{:?}", palette.matches[0]);
    }
}
