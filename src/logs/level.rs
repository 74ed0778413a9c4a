//! Severity levels and their detection in plain text.

use serde::Deserialize;

/// A line's severity, lowest first so `>=` is a level floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub const ALL: [Level; 6] = [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal];

    /// Fixed-width label, so columns line up.
    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// Parses a level name as written in logs, any case: `warning`, `err`, `crit`, `E` ...
    pub fn parse(word: &str) -> Option<Level> {
        const NAMES: &[(&str, Level)] = &[
            ("INFO", Level::Info),
            ("ERROR", Level::Error),
            ("WARN", Level::Warn),
            ("DEBUG", Level::Debug),
            ("WARNING", Level::Warn),
            ("TRACE", Level::Trace),
            ("ERR", Level::Error),
            ("FATAL", Level::Fatal),
            ("CRITICAL", Level::Fatal),
            ("CRIT", Level::Fatal),
            ("NOTICE", Level::Info),
            ("INF", Level::Info),
            ("WRN", Level::Warn),
            ("DBG", Level::Debug),
            ("TRC", Level::Trace),
            ("VERBOSE", Level::Debug),
            ("INFORMATION", Level::Info),
            ("SEVERE", Level::Error),
            ("EMERG", Level::Fatal),
            ("EMERGENCY", Level::Fatal),
            ("ALERT", Level::Fatal),
            ("PANIC", Level::Fatal),
            ("T", Level::Trace),
            ("D", Level::Debug),
            ("I", Level::Info),
            ("W", Level::Warn),
            ("E", Level::Error),
            ("F", Level::Fatal),
        ];
        let word = word.trim();
        // Names are short: a long word is never one, and comparing in place avoids an allocation per word.
        if word.len() > 11 {
            return None;
        }
        NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map(|(_, level)| *level)
    }

    /// A syslog priority (0 emerg .. 7 debug), as in `<3>` prefixes or journald's PRIORITY.
    pub fn from_syslog(priority: u8) -> Level {
        match priority % 8 {
            0..=2 => Level::Fatal,
            3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            _ => Level::Debug,
        }
    }

    /// The next floor for the level filter: none, then each level upwards, then none again.
    pub fn cycle(floor: Option<Level>) -> Option<Level> {
        match floor {
            None => Some(Level::Debug),
            Some(Level::Trace) => Some(Level::Debug),
            Some(Level::Debug) => Some(Level::Info),
            Some(Level::Info) => Some(Level::Warn),
            Some(Level::Warn) => Some(Level::Error),
            Some(Level::Error) | Some(Level::Fatal) => None,
        }
    }
}

/// How far into a line a level word is looked for: levels sit near the start.
const LEVEL_SCAN_BYTES: usize = 160;

/// Finds the level of a plain-text line: a syslog `<N>` prefix, a `level=x`
/// pair, or an upper-case (or bracketed) level word among the first words.
/// Lower-case words in the message itself ("no error found") do not count.
pub fn detect(line: &str) -> Option<Level> {
    let head = head_of(line);
    if let Some(rest) = head.strip_prefix('<')
        && let Some(end) = rest.find('>')
        && let Ok(priority) = rest[..end].parse::<u8>()
    {
        return Some(Level::from_syslog(priority));
    }
    for key in ["level=", "lvl=", "severity="].into_iter().filter(|_| head.contains('=')) {
        if let Some(at) = head.find(key) {
            let value = &head[at + key.len()..];
            let value = value.trim_start_matches('"');
            let end = value.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(value.len());
            if let Some(level) = Level::parse(&value[..end]) {
                return Some(level);
            }
        }
    }
    for word in head.split(|c: char| c.is_whitespace() || c == '|').filter(|w| !w.is_empty()).take(8) {
        let bracketed = word.starts_with('[') || word.starts_with('<') || word.starts_with('(');
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if bare.len() < 3 {
            continue; // single letters are too ambiguous in free text
        }
        let shouted = bare.chars().all(|c| c.is_ascii_uppercase());
        if (shouted || bracketed)
            && let Some(level) = Level::parse(bare)
        {
            return Some(level);
        }
    }
    None
}

fn head_of(line: &str) -> &str {
    if line.len() <= LEVEL_SCAN_BYTES {
        return line;
    }
    let mut end = LEVEL_SCAN_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_layouts_are_recognised() {
        assert_eq!(detect("2026-11-29T10:00:00Z ERROR [req 1] boom"), Some(Level::Error));
        assert_eq!(detect("2026-11-29 10:00:00 [warning] disk 81%"), Some(Level::Warn));
        assert_eq!(detect("ts=1 level=debug msg=\"x\""), Some(Level::Debug));
        assert_eq!(detect("<3>kernel: oops"), Some(Level::Error));
        assert_eq!(detect("Nov 29 10:00:00 host app[12]: CRITICAL db gone"), Some(Level::Fatal));
        assert_eq!(detect("I 10:00 WARNING: low memory"), Some(Level::Warn));
    }

    #[test]
    fn lower_case_words_in_the_message_are_not_levels() {
        assert_eq!(detect("request finished with no error"), None);
        assert_eq!(detect("just some text"), None);
    }

    #[test]
    fn the_floor_cycles_through_levels_and_back_to_none() {
        let mut floor = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            floor = Level::cycle(floor);
            seen.push(floor);
        }
        assert_eq!(seen, vec![Some(Level::Debug), Some(Level::Info), Some(Level::Warn), Some(Level::Error), None]);
    }
}
