//! Key bindings: one table per mode, defaults first, then the config's
//! `[keys.<mode>]` overrides. The help overlay is generated from these tables,
//! so what it says is what the keys do.

use super::action::Action;
use super::tab::TabId;
use crate::config::{Config, Diagnostic};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::fmt;

/// Where keys are looked up. Normal modes fall back to `Global`; overlays do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Global,
    Tab(TabId),
    Help,
    Palette,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Tab(tab) => tab.title(),
            Mode::Help => "help",
            Mode::Palette => "palette",
        }
    }

    fn from_name(name: &str) -> Option<Mode> {
        match name {
            "global" => Some(Mode::Global),
            "help" => Some(Mode::Help),
            "palette" => Some(Mode::Palette),
            other => TabId::ALL.iter().find(|t| t.title() == other).map(|t| Mode::Tab(*t)),
        }
    }

    /// Overlays own the keyboard; everything else also sees the global table.
    fn falls_back_to_global(self) -> bool {
        matches!(self, Mode::Tab(_))
    }
}

/// A key with its modifiers, normalised so `G` and `shift-g` are the same chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyChord {
    code: ChordCode,
    ctrl: bool,
    alt: bool,
    shift: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ChordCode {
    Char(char),
    Named(&'static str),
    F(u8),
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
];

impl KeyChord {
    /// Parses `q`, `G`, `ctrl-c`, `shift-tab`, `alt-x`, `f5`, `space`, `pgdn` ...
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        let mut chord = KeyChord { code: ChordCode::Char(' '), ctrl: false, alt: false, shift: false };
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(tail) = lower.strip_prefix("ctrl-").or_else(|| lower.strip_prefix("c-")) {
                chord.ctrl = true;
                rest = &rest[rest.len() - tail.len()..];
            } else if let Some(tail) = lower.strip_prefix("alt-").or_else(|| lower.strip_prefix("m-")) {
                chord.alt = true;
                rest = &rest[rest.len() - tail.len()..];
            } else if let Some(tail) = lower.strip_prefix("shift-") {
                chord.shift = true;
                rest = &rest[rest.len() - tail.len()..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        chord.code = match lower.as_str() {
            "" => return Err(format!("`{text}` names no key")),
            "space" => ChordCode::Char(' '),
            "pageup" => ChordCode::Named("pgup"),
            "pagedown" => ChordCode::Named("pgdn"),
            "escape" => ChordCode::Named("esc"),
            "return" => ChordCode::Named("enter"),
            name if NAMED.iter().any(|(n, _)| *n == name) => {
                ChordCode::Named(NAMED.iter().find(|(n, _)| *n == name).map_or("esc", |(n, _)| n))
            }
            name if name.len() > 1 && name.starts_with('f') && name[1..].parse::<u8>().is_ok() => {
                ChordCode::F(name[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => ChordCode::Char(c),
                    _ => {
                        return Err(format!(
                            "`{text}` is not a key; write e.g. \"q\", \"ctrl-c\", \"shift-tab\", \"f5\""
                        ));
                    }
                }
            }
        };
        Ok(chord.normalised())
    }

    /// Builds the chord a terminal key event stands for.
    pub fn from_event(event: &KeyEvent) -> Option<KeyChord> {
        let code = match event.code {
            KeyCode::Char(c) => ChordCode::Char(c),
            KeyCode::F(n) => ChordCode::F(n),
            other => ChordCode::Named(NAMED.iter().find(|(_, k)| *k == other).map(|(n, _)| *n)?),
        };
        let mods = event.modifiers;
        let chord = KeyChord {
            code,
            ctrl: mods.contains(KeyModifiers::CONTROL),
            alt: mods.contains(KeyModifiers::ALT),
            shift: mods.contains(KeyModifiers::SHIFT),
        };
        Some(chord.normalised())
    }

    /// Shift is part of a character itself (`G`), and shift-tab is backtab.
    fn normalised(mut self) -> KeyChord {
        match self.code {
            ChordCode::Char(c) if self.shift && c.is_ascii_lowercase() => {
                self.code = ChordCode::Char(c.to_ascii_uppercase());
                self.shift = false;
            }
            ChordCode::Char(c) if !c.is_ascii_lowercase() => self.shift = false,
            ChordCode::Named("tab") if self.shift => {
                self.code = ChordCode::Named("backtab");
                self.shift = false;
            }
            ChordCode::Named("backtab") => self.shift = false,
            _ => {}
        }
        if let ChordCode::Char(c) = self.code
            && self.ctrl
        {
            self.code = ChordCode::Char(c.to_ascii_lowercase());
        }
        self
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            ChordCode::Char(' ') => f.write_str("space"),
            ChordCode::Char(c) => write!(f, "{c}"),
            ChordCode::Named("backtab") => f.write_str("shift-tab"),
            ChordCode::Named(name) => f.write_str(name),
            ChordCode::F(n) => write!(f, "f{n}"),
        }
    }
}

/// Every mode's table.
#[derive(Debug, Clone, Default)]
pub struct Keymap {
    tables: BTreeMap<Mode, BTreeMap<KeyChord, Action>>,
}

impl Keymap {
    /// The built-in bindings: vim keys and arrows both work.
    pub fn defaults() -> Keymap {
        use Action::*;
        let mut keymap = Keymap::default();
        let global: Vec<(&str, Action)> = vec![
            ("q", Quit),
            ("ctrl-c", Quit),
            ("ctrl-z", Suspend),
            ("y", Copy),
            ("M", ToggleMouse),
            ("Z", OpenSilences),
            ("?", ToggleHelp),
            ("f1", ToggleHelp),
            (":", OpenPalette),
            ("ctrl-p", OpenPalette),
            ("tab", NextTab),
            ("shift-tab", PreviousTab),
            ("1", SelectTab(TabId::Health)),
            ("2", SelectTab(TabId::Calendar)),
            ("3", SelectTab(TabId::Gpu)),
            ("4", SelectTab(TabId::Logs)),
            ("5", SelectTab(TabId::Backups)),
            ("6", SelectTab(TabId::Incident)),
            ("j", Down),
            ("down", Down),
            ("k", Up),
            ("up", Up),
            ("h", Left),
            ("left", Left),
            ("l", Right),
            ("right", Right),
            ("g", Top),
            ("home", Top),
            ("G", Bottom),
            ("end", Bottom),
            ("ctrl-d", PageDown),
            ("pgdn", PageDown),
            ("ctrl-u", PageUp),
            ("pgup", PageUp),
            ("enter", Select),
            ("esc", Close),
        ];
        let help: Vec<(&str, Action)> = vec![
            ("esc", Close),
            ("?", Close),
            ("q", Close),
            ("j", Down),
            ("down", Down),
            ("k", Up),
            ("up", Up),
            ("ctrl-c", Quit),
        ];
        let palette: Vec<(&str, Action)> = vec![
            ("esc", Close),
            ("enter", Select),
            ("up", Up),
            ("ctrl-k", Up),
            ("down", Down),
            ("ctrl-j", Down),
            ("backspace", Backspace),
            ("ctrl-c", Close),
        ];
        let mut tables = vec![(Mode::Global, global), (Mode::Help, help), (Mode::Palette, palette)];
        tables.extend(TabId::ALL.iter().map(|tab| (Mode::Tab(*tab), super::tabs::default_keys(*tab))));
        for (mode, table) in tables {
            for (key, action) in table {
                if let Ok(chord) = KeyChord::parse(key) {
                    keymap.bind(mode, chord, action);
                }
            }
        }
        keymap
    }

    /// Defaults with the config's overrides applied; every bad entry is reported with line:col.
    pub fn from_config(config: &Config) -> Result<Keymap, Vec<Diagnostic>> {
        let mut keymap = Keymap::defaults();
        let mut problems = Vec::new();
        for (mode_name, table) in &config.keys {
            let Some(mode) = Mode::from_name(mode_name) else {
                let span = table.values().next().map_or(0..0, |v| v.span());
                problems.push(
                    config
                        .diagnostic(span, format!("unknown key mode `{mode_name}`"))
                        .with_hint("modes: global, help, palette, health, calendar, gpu, logs, backups, incident"),
                );
                continue;
            };
            for (key, value) in table {
                let chord = match KeyChord::parse(key) {
                    Ok(chord) => chord,
                    Err(message) => {
                        problems.push(config.diagnostic(value.span(), message));
                        continue;
                    }
                };
                // A tab's own commands come first in its table, then the global vocabulary.
                let own = match mode {
                    Mode::Tab(tab) => super::tabs::TabCommand::parse(tab, value.get_ref().clone()).map(Action::Tab),
                    _ => None,
                };
                if let Some(action) = own {
                    keymap.bind(mode, chord, action);
                    continue;
                }
                match <Action as serde::Deserialize>::deserialize(value.get_ref().clone()) {
                    Ok(action) => keymap.bind(mode, chord, action),
                    Err(err) => problems.push(
                        config
                            .diagnostic(value.span(), format!("`{key}` is bound to an unknown action: {err}"))
                            .with_hint("actions are listed in the README under Keys, e.g. \"quit\", \"next-tab\""),
                    ),
                }
            }
        }
        if problems.is_empty() { Ok(keymap) } else { Err(problems) }
    }

    pub fn bind(&mut self, mode: Mode, chord: KeyChord, action: Action) {
        self.tables.entry(mode).or_default().insert(chord, action);
    }

    /// The action for a key in a mode, looking at the global table after a tab's own.
    pub fn lookup(&self, mode: Mode, chord: &KeyChord) -> Option<&Action> {
        let own = self.tables.get(&mode).and_then(|table| table.get(chord));
        if own.is_some() || !mode.falls_back_to_global() {
            return own;
        }
        self.tables.get(&Mode::Global).and_then(|table| table.get(chord))
    }

    /// `(keys, action)` pairs of one mode's own table, keys for the same action joined.
    pub fn bindings(&self, mode: Mode) -> Vec<(String, Action)> {
        let mut grouped: Vec<(Vec<String>, Action)> = Vec::new();
        for (chord, action) in self.tables.get(&mode).into_iter().flatten() {
            match grouped.iter_mut().find(|(_, a)| a == action) {
                Some((keys, _)) => keys.push(chord.to_string()),
                None => grouped.push((vec![chord.to_string()], action.clone())),
            }
        }
        grouped.sort_by_key(|(_, action)| action.help_rank());
        grouped.into_iter().map(|(keys, action)| (keys.join(", "), action)).collect()
    }

    /// The first key bound to `action` in `mode` (or globally), for hints such as "? help".
    pub fn key_for(&self, mode: Mode, action: &Action) -> Option<String> {
        [mode, Mode::Global]
            .iter()
            .filter_map(|m| self.tables.get(m))
            .flat_map(|table| table.iter())
            .find(|(_, a)| *a == action)
            .map(|(chord, _)| chord.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyChord {
        KeyChord::from_event(&KeyEvent::new(code, modifiers)).unwrap()
    }

    #[test]
    fn parsing_and_terminal_events_agree() {
        assert_eq!(KeyChord::parse("G").unwrap(), key(KeyCode::Char('G'), KeyModifiers::SHIFT));
        assert_eq!(KeyChord::parse("shift-g").unwrap(), KeyChord::parse("G").unwrap());
        assert_eq!(KeyChord::parse("ctrl-c").unwrap(), key(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert_eq!(KeyChord::parse("shift-tab").unwrap(), key(KeyCode::BackTab, KeyModifiers::SHIFT));
        assert_eq!(KeyChord::parse("?").unwrap(), key(KeyCode::Char('?'), KeyModifiers::SHIFT));
        assert_eq!(KeyChord::parse("PageDown").unwrap(), key(KeyCode::PageDown, KeyModifiers::NONE));
        assert_eq!(KeyChord::parse("f5").unwrap(), key(KeyCode::F(5), KeyModifiers::NONE));
        assert!(KeyChord::parse("ctrl-").is_err());
        assert!(KeyChord::parse("hyper-x").is_err());
    }

    #[test]
    fn vim_keys_and_arrows_both_move() {
        let keymap = Keymap::defaults();
        let mode = Mode::Tab(TabId::Logs);
        assert_eq!(keymap.lookup(mode, &KeyChord::parse("j").unwrap()), Some(&Action::Down));
        assert_eq!(keymap.lookup(mode, &KeyChord::parse("down").unwrap()), Some(&Action::Down));
        assert_eq!(keymap.lookup(Mode::Palette, &KeyChord::parse("j").unwrap()), None, "palette types letters");
    }

    #[test]
    fn chords_display_as_they_are_written() {
        for text in ["q", "G", "ctrl-c", "shift-tab", "f5", "space", "pgdn"] {
            assert_eq!(KeyChord::parse(text).unwrap().to_string(), text);
        }
    }
}
