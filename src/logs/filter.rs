//! Which lines a view shows, and what is searched for.

use super::level::Level;
use regex::{Regex, RegexBuilder};
use std::ops::Range;

/// Text to match: a regex, or plain text when it is not one. Lower-case
/// patterns ignore case ("smart case", as in less and ripgrep).
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    regex: Regex,
    /// The text did not compile as a regex and is matched literally.
    pub literal: bool,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Compiled patterns are capped so a hostile pattern cannot eat memory.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;

impl Pattern {
    /// `None` for empty text.
    pub fn new(text: &str) -> Option<Pattern> {
        if text.is_empty() {
            return None;
        }
        let ignore_case = !text.chars().any(char::is_uppercase);
        let build =
            |source: &str| RegexBuilder::new(source).case_insensitive(ignore_case).size_limit(REGEX_SIZE_LIMIT).build();
        match build(text) {
            Ok(regex) => Some(Pattern { text: text.to_string(), regex, literal: false }),
            Err(_) => {
                build(&regex::escape(text)).ok().map(|regex| Pattern { text: text.to_string(), regex, literal: true })
            }
        }
    }

    /// A pattern that must be a valid regex (command line, config).
    pub fn regex(text: &str) -> Result<Pattern, regex::Error> {
        let ignore_case = !text.chars().any(char::is_uppercase);
        let regex = RegexBuilder::new(text).case_insensitive(ignore_case).size_limit(REGEX_SIZE_LIMIT).build()?;
        Ok(Pattern { text: text.to_string(), regex, literal: false })
    }

    pub fn is_match(&self, haystack: &str) -> bool {
        self.regex.is_match(haystack)
    }

    /// Byte ranges of the matches, for highlighting. Empty matches are skipped.
    pub fn find_ranges(&self, haystack: &str) -> Vec<Range<usize>> {
        self.regex.find_iter(haystack).map(|m| m.range()).filter(|r| !r.is_empty()).collect()
    }
}

/// What a view keeps: lines matching (or, inverted, not matching) the
/// pattern, at or above the level floor, from sources that are not hidden.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub pattern: Option<Pattern>,
    /// `-`: hide the matches instead of keeping them.
    pub invert: bool,
    pub floor: Option<Level>,
    /// Sources switched off, by index.
    pub hidden: Vec<bool>,
}

impl Filter {
    /// Whether a line of `source` with `level` and `text` is shown. Lines with
    /// no level pass the floor only when there is none; markers always pass.
    pub fn keeps(&self, source: usize, level: Option<Level>, text: &str, marker: bool) -> bool {
        if self.hidden.get(source).copied().unwrap_or(false) {
            return false;
        }
        if marker {
            return true;
        }
        if let Some(floor) = self.floor
            && level.is_none_or(|level| level < floor)
        {
            return false;
        }
        match &self.pattern {
            Some(pattern) => pattern.is_match(text) != self.invert,
            None => true,
        }
    }

    /// One line describing the filter, or `None` when everything is shown.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(pattern) = &self.pattern {
            let verb = if self.invert { "hiding" } else { "only" };
            let kind = if pattern.literal { "text" } else { "regex" };
            parts.push(format!("{verb} {kind} \"{}\"", pattern.text));
        }
        if let Some(floor) = self.floor {
            parts.push(format!("level >= {}", floor.label()));
        }
        let hidden = self.hidden.iter().filter(|h| **h).count();
        if hidden > 0 {
            parts.push(format!("{hidden} source(s) hidden"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_regex_or_literal_text_with_smart_case() {
        let regex = Pattern::new("time[ds] out").unwrap();
        assert!(!regex.literal && regex.is_match("upstream TIMED OUT after 10s"));
        let literal = Pattern::new("cart.total(").unwrap();
        assert!(literal.literal && literal.is_match("in cart.total( here") && !literal.is_match("cartXtotal("));
        let cased = Pattern::new("Error").unwrap();
        assert!(cased.is_match("Error: x") && !cased.is_match("error: x"));
        assert!(Pattern::new("").is_none());
        assert!(Pattern::regex("(unclosed").is_err());
    }

    #[test]
    fn match_ranges_point_at_the_text() {
        let pattern = Pattern::new("ab").unwrap();
        assert_eq!(pattern.find_ranges("xxABxab"), vec![2..4, 5..7]);
        assert!(Pattern::new("x*").unwrap().find_ranges("aaa").is_empty());
    }

    #[test]
    fn filter_combines_pattern_invert_floor_and_hidden_sources() {
        let mut filter = Filter { pattern: Pattern::new("timeout"), ..Filter::default() };
        assert!(filter.keeps(0, None, "db timeout", false));
        assert!(!filter.keeps(0, None, "all good", false));
        assert!(filter.keeps(0, None, "all good", true), "markers always show");
        filter.invert = true;
        assert!(!filter.keeps(0, None, "db timeout", false));
        assert!(filter.keeps(0, None, "all good", false));
        filter = Filter { floor: Some(Level::Warn), hidden: vec![false, true], ..Filter::default() };
        assert!(filter.keeps(0, Some(Level::Error), "x", false));
        assert!(!filter.keeps(0, Some(Level::Info), "x", false));
        assert!(!filter.keeps(0, None, "x", false));
        assert!(!filter.keeps(1, Some(Level::Error), "x", false), "hidden source");
        assert_eq!(filter.describe().unwrap(), "level >= WARN, 1 source(s) hidden");
    }
}
