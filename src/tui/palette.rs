//! The `:` command palette: every command of every tab and the global ones,
//! found by fuzzy matching. Whole-word matches rank first, then word prefixes,
//! then the rest by fuzzy score; choosing a tab's command goes to that tab.

use super::action::Action;
use super::keymap::{Keymap, Mode};
use super::tab::TabId;
use super::tabs::TabCommand;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

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
    /// The command's own name in words ("pick severity"), as `[keys]` tables spell it.
    name: String,
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

    /// Adds "theme: NAME" for each theme that can be switched to while running.
    pub fn with_themes<'a>(mut self, names: impl IntoIterator<Item = &'a str>) -> Palette {
        for name in names {
            let action = Action::SetTheme(name.to_string());
            self.all.push(PaletteEntry::new(action.clone(), action.describe(), None, None));
        }
        self.matches = self.all.clone();
        self
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
        let matched = pattern.match_list(self.all.iter().enumerate().map(|(i, e)| Indexed(i, e)), &mut matcher);
        // Best tier first; then entries whose own name the letters also spell; then the fuzzy score.
        let mut scored: Vec<(u8, bool, u32, usize)> = matched
            .into_iter()
            .map(|(Indexed(index, entry), score)| {
                let mut buffer = Vec::new();
                let by_name = pattern.score(Utf32Str::new(&entry.name, &mut buffer), &mut matcher).is_some();
                (tier(entry, &words), !by_name, score, index)
            })
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.cmp(&a.2)).then(a.3.cmp(&b.3)));
        self.matches = scored.into_iter().map(|(_, _, _, index)| self.all[index].clone()).collect();
    }
}

impl PaletteEntry {
    fn new(action: Action, label: String, tab: Option<TabId>, key: Option<String>) -> PaletteEntry {
        let haystack = match tab {
            Some(tab) => format!("{} {}", tab.title(), label).to_lowercase(),
            None => label.to_lowercase(),
        };
        let name = command_name(&action);
        PaletteEntry { action, label, tab, key, haystack, name }
    }
}

/// The innermost variant name of an action, split into lower-case words:
/// `Tab(Incident(PickSeverity))` is "pick severity".
fn command_name(action: &Action) -> String {
    let debug = format!("{action:?}");
    let inner = debug.trim_end_matches(')').rsplit('(').next().unwrap_or_default();
    let mut words = String::new();
    for c in inner.chars() {
        if c.is_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}

/// An entry with its place in the list, so equal scores keep the list's order.
struct Indexed<'a>(usize, &'a PaletteEntry);

impl AsRef<str> for Indexed<'_> {
    fn as_ref(&self) -> &str {
        &self.1.haystack
    }
}

/// How well `entry` answers the query `words`, best first: 0 when each word is a word of the
/// command's own name, 1 when each is a whole word of its label, 2 when each starts one, 3 otherwise.
fn tier(entry: &PaletteEntry, words: &[String]) -> u8 {
    let split = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
    };
    let (name, hay) = (split(&entry.name), split(&entry.haystack));
    if words.iter().all(|w| name.contains(w)) {
        0
    } else if words.iter().all(|w| hay.contains(w)) {
        1
    } else if words.iter().all(|w| hay.iter().any(|h| h.starts_with(w.as_str()))) {
        2
    } else {
        3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::tabs::incident::Command as IncidentCommand;

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
        let entry = |action, label: &str| PaletteEntry::new(action, label.into(), Some(TabId::Incident), None);
        let pick = entry(Action::Tab(TabCommand::Incident(IncidentCommand::PickSeverity)), "pick the severity (P0-P3)");
        let open = entry(Action::Tab(TabCommand::Incident(IncidentCommand::NewIncident)), "open (title, severity)");
        assert_eq!(pick.name, "pick severity");
        assert_eq!(tier(&pick, &["severity".into()]), 0);
        assert_eq!(tier(&open, &["severity".into()]), 1);
        assert_eq!(tier(&open, &["sev".into()]), 2);
        assert_eq!(tier(&open, &["otl".into()]), 3);
        let palette = search("verify");
        assert!(!palette.matches.is_empty());
        assert!(palette.matches[0].haystack.split(' ').any(|w| w == "verify"), "{:?}", palette.matches[0]);
        let palette = search("sev");
        assert_eq!(palette.matches[0].tab, Some(TabId::Incident), "{:?}", palette.matches[0]);
    }
}
