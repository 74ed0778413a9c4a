//! Which lines a view shows, and what is searched for.

use super::fields::FieldFilter;
use super::level::Level;
use memchr::memmem;
use regex::{Regex, RegexBuilder};
use std::ops::Range;

/// Text to match: a regex, or plain text when it is not one. Lower-case
/// patterns ignore case ("smart case", as in less and ripgrep). Text without
/// regex syntax is searched for directly, which is several times faster.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    matcher: Matcher,
    /// Matched as plain text (no regex syntax in it, or not a valid regex).
    pub literal: bool,
}

#[derive(Debug, Clone)]
enum Matcher {
    Regex(Regex),
    /// Case-sensitive text.
    Exact(Box<memmem::Finder<'static>>),
    /// ASCII text, any case; the needle is lower-case.
    Folded(Vec<u8>),
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Compiled patterns are capped so a hostile pattern cannot eat memory.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;

fn build(source: &str, ignore_case: bool) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source).case_insensitive(ignore_case).size_limit(REGEX_SIZE_LIMIT).build()
}

/// A direct text search for `text` when it holds no regex syntax.
fn plain_matcher(text: &str, ignore_case: bool) -> Option<Matcher> {
    // Only characters with a meaning outside brackets count; `-`, `#` ... are plain here.
    if text.is_empty() || text.contains(['\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$']) {
        return None;
    }
    if !ignore_case {
        return Some(Matcher::Exact(Box::new(memmem::Finder::new(text.as_bytes()).into_owned())));
    }
    text.is_ascii().then(|| Matcher::Folded(text.to_ascii_lowercase().into_bytes()))
}

impl Pattern {
    /// `None` for empty text.
    pub fn new(text: &str) -> Option<Pattern> {
        if text.is_empty() {
            return None;
        }
        let ignore_case = !text.chars().any(char::is_uppercase);
        if let Some(matcher) = plain_matcher(text, ignore_case) {
            return Some(Pattern { text: text.to_string(), matcher, literal: true });
        }
        match build(text, ignore_case) {
            Ok(regex) => Some(Pattern { text: text.to_string(), matcher: Matcher::Regex(regex), literal: false }),
            Err(_) => build(&regex::escape(text), ignore_case).ok().map(|regex| Pattern {
                text: text.to_string(),
                matcher: Matcher::Regex(regex),
                literal: true,
            }),
        }
    }

    /// A pattern that must be a valid regex (command line, config).
    pub fn regex(text: &str) -> Result<Pattern, regex::Error> {
        let ignore_case = !text.chars().any(char::is_uppercase);
        if let Some(matcher) = plain_matcher(text, ignore_case) {
            return Ok(Pattern { text: text.to_string(), matcher, literal: true });
        }
        let regex = build(text, ignore_case)?;
        Ok(Pattern { text: text.to_string(), matcher: Matcher::Regex(regex), literal: false })
    }

    pub fn is_match(&self, haystack: &str) -> bool {
        match &self.matcher {
            Matcher::Regex(regex) => regex.is_match(haystack),
            Matcher::Exact(finder) => finder.find(haystack.as_bytes()).is_some(),
            Matcher::Folded(needle) => find_folded(haystack.as_bytes(), needle, 0).is_some(),
        }
    }

    /// Byte ranges of the matches, for highlighting. Empty matches are skipped.
    pub fn find_ranges(&self, haystack: &str) -> Vec<Range<usize>> {
        match &self.matcher {
            Matcher::Regex(regex) => regex.find_iter(haystack).map(|m| m.range()).filter(|r| !r.is_empty()).collect(),
            Matcher::Exact(finder) => {
                let length = finder.needle().len();
                finder.find_iter(haystack.as_bytes()).map(|at| at..at + length).collect()
            }
            Matcher::Folded(needle) => {
                let mut ranges = Vec::new();
                let mut from = 0;
                while let Some(at) = find_folded(haystack.as_bytes(), needle, from) {
                    ranges.push(at..at + needle.len());
                    from = at + needle.len();
                }
                ranges
            }
        }
    }
}

/// Finds lower-case ASCII `needle` in `haystack` at or after `from`, ignoring ASCII case.
fn find_folded(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let rest = haystack.get(from..)?;
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), rest)
        .find(|at| rest.get(*at..*at + needle.len()).is_some_and(|window| window.eq_ignore_ascii_case(needle)))
        .map(|at| from + at)
}

/// A line's text as a filter reads it.
#[derive(Debug, Clone, Copy)]
pub struct LineText<'a> {
    /// As written in the file: what `--grep` and field filters read.
    pub written: &'a str,
    /// As shown on screen (JSON lines as `key=value`). The tab's text filter
    /// and search also find what the user sees; the CLI passes `written` here.
    pub shown: &'a str,
}

impl<'a> LineText<'a> {
    /// A line shown exactly as written.
    pub fn same(text: &'a str) -> LineText<'a> {
        LineText { written: text, shown: text }
    }

    /// Whether `pattern` finds the line as written, or as shown.
    pub fn matches(&self, pattern: &Pattern) -> bool {
        pattern.is_match(self.written) || (!std::ptr::eq(self.written, self.shown) && pattern.is_match(self.shown))
    }
}

/// What a view keeps: lines matching (or, inverted, not matching) the
/// pattern, whose fields meet the field filter, at or above the level floor,
/// from sources that are not hidden.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub pattern: Option<Pattern>,
    /// `-`: hide the matches instead of keeping them.
    pub invert: bool,
    /// `--where` / `f`: conditions on a JSON line's fields.
    pub fields: Option<FieldFilter>,
    pub floor: Option<Level>,
    /// Sources switched off, by index.
    pub hidden: Vec<bool>,
}

impl Filter {
    /// Whether it keeps every line of every shown source without looking at them.
    pub fn is_empty(&self) -> bool {
        self.pattern.is_none() && self.fields.is_none() && self.floor.is_none()
    }

    /// Whether a line of `source` with `level` and `text` is shown. Lines with
    /// no level pass the floor only when there is none; markers always pass.
    pub fn keeps(&self, source: usize, level: Option<Level>, text: LineText, marker: bool) -> bool {
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
        if let Some(pattern) = &self.pattern
            && text.matches(pattern) == self.invert
        {
            return false;
        }
        self.fields.as_ref().is_none_or(|fields| fields.matches(text.written))
    }

    /// One line describing the filter, or `None` when everything is shown.
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(pattern) = &self.pattern {
            let verb = if self.invert { "hiding" } else { "only" };
            let kind = if pattern.literal { "text" } else { "regex" };
            parts.push(format!("{verb} {kind} \"{}\"", pattern.text));
        }
        if let Some(fields) = &self.fields {
            parts.push(format!("where {}", fields.text));
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
        let folded = Pattern::new("payments-api").unwrap();
        assert!(folded.literal && folded.is_match("x PAYMENTS-Api y") && !folded.is_match("payments api"));
        assert_eq!(folded.find_ranges("payments-api/Payments-API"), vec![0..12, 13..25]);
        let exact = Pattern::regex("Timeout").unwrap();
        assert!(exact.is_match("a Timeout") && !exact.is_match("a timeout"));
        assert_eq!(exact.find_ranges("TimeoutTimeout"), vec![0..7, 7..14]);
        let unicode = Pattern::new("größe").unwrap();
        assert!(
            unicode.is_match("GRÖSSE") || unicode.is_match("Größe"),
            "non-ASCII text falls back to the regex engine"
        );
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
        let same = LineText::same;
        let mut filter = Filter { pattern: Pattern::new("timeout"), ..Filter::default() };
        assert!(filter.keeps(0, None, same("db timeout"), false));
        assert!(!filter.keeps(0, None, same("all good"), false));
        assert!(filter.keeps(0, None, same("all good"), true), "markers always show");
        filter.invert = true;
        assert!(!filter.keeps(0, None, same("db timeout"), false));
        assert!(filter.keeps(0, None, same("all good"), false));
        filter = Filter { floor: Some(Level::Warn), hidden: vec![false, true], ..Filter::default() };
        assert!(filter.keeps(0, Some(Level::Error), same("x"), false));
        assert!(!filter.keeps(0, Some(Level::Info), same("x"), false));
        assert!(!filter.keeps(0, None, same("x"), false));
        assert!(!filter.keeps(1, Some(Level::Error), same("x"), false), "hidden source");
        assert_eq!(filter.describe().unwrap(), "level >= WARN, 1 source(s) hidden");
    }

    #[test]
    fn text_is_matched_as_written_and_fields_by_name() {
        let written = r#"{"level":"error","status":"failure"}"#;
        let shown = "ERROR status=failure";
        let both = LineText { written, shown };
        let grep = Filter { pattern: Pattern::new(r#""status":"failure""#), ..Filter::default() };
        assert!(grep.keeps(0, None, both, false), "the line as written");
        assert!(!grep.keeps(0, None, LineText::same(shown), false));
        let seen = Filter { pattern: Pattern::new("status=failure"), ..Filter::default() };
        assert!(seen.keeps(0, None, both, false), "the tab also finds what it shows");
        assert!(!seen.keeps(0, None, LineText::same(written), false), "the CLI reads only what is written");
        let fields = Filter { fields: FieldFilter::parse("status == failure").ok(), ..Filter::default() };
        assert!(fields.keeps(0, None, both, false));
        assert!(!fields.keeps(0, None, LineText { written: r#"{"status":"ok"}"#, shown }, false));
        assert_eq!(fields.describe().unwrap(), "where status == failure");
    }
}
