//! The `:` command palette: every action, found by fuzzy matching.

use super::action::Action;
use super::keymap::{Keymap, Mode};
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
    /// The key that does the same, taught by the palette.
    pub key: Option<String>,
}

impl AsRef<str> for PaletteEntry {
    fn as_ref(&self) -> &str {
        &self.label
    }
}

impl Palette {
    pub fn new(keymap: &Keymap, mode: Mode) -> Palette {
        let all: Vec<PaletteEntry> = Action::palette_entries(match mode {
            Mode::Tab(tab) => tab,
            _ => super::tab::TabId::Health,
        })
        .into_iter()
        .map(|action| PaletteEntry { label: action.describe(), key: keymap.key_for(mode, &action), action })
        .collect();
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
        self.matches = pattern.match_list(self.all.iter(), &mut matcher).into_iter().map(|(e, _)| e.clone()).collect();
    }
}
