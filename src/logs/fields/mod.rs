//! The field filter for structured lines: `--where 'status == "failure"'` and
//! the logs tab's `f`.
//!
//! Grammar (whitespace between tokens is free):
//!
//! ```text
//! filter    = condition { "and" condition }
//! condition = field operator value
//! field     = name { "." name }          name: letters, digits, _ - @ $, or "quoted"
//! operator  = "==" | "!=" | "~" | "!~" | "<" | "<=" | ">" | ">="
//! value     = "text" | 'text' | number | null | bare-word
//! ```
//!
//! A line is kept when it is a JSON object and every condition holds. A dotted
//! field (`http.status`) finds a nested field or a flat key with dots in its
//! name (`"http.status": 503`). Text compares as text; a number compares
//! numerically with a number or a string holding one. A missing field equals
//! only `null`, so `!=` keeps lines without the field, and `~`, `<` ... never
//! match it.
//!
//! A line is read once per filter with serde_json, borrowing its strings and
//! skipping every field no condition names, so filtering stays cheap.

mod grammar;
mod read;

use super::filter::Pattern;
use grammar::Parser;
use memchr::memmem;
use read::{Node, Seek};
use serde::de::DeserializeSeed;
use std::borrow::Cow;
use std::fmt;

/// A parsed `--where` expression.
#[derive(Debug, Clone)]
pub struct FieldFilter {
    /// As typed, for descriptions and the prompt.
    pub text: String,
    conditions: Vec<Condition>,
    /// Every way a condition's dotted field can be found, as a tree of keys.
    paths: Node,
    /// Text that a line must hold for every `==` on text to be met: a line
    /// without one (and without escapes, which could spell it otherwise) is
    /// dropped without being parsed.
    needles: Vec<memmem::Finder<'static>>,
}

impl PartialEq for FieldFilter {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

#[derive(Debug, Clone)]
struct Condition {
    operator: Operator,
    value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    Matches,
    NotMatches,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Number(f64),
    Null,
    Regex(Pattern),
}

/// What is wrong with an expression, and where (a byte offset into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFilterError {
    pub expression: String,
    pub at: usize,
    pub message: String,
}

impl FieldFilterError {
    /// The 1-based column of the problem, in characters.
    pub fn column(&self) -> usize {
        self.expression.get(..self.at).map_or(self.at, |before| before.chars().count()) + 1
    }

    /// One line: "column 8: expected ...".
    pub fn summary(&self) -> String {
        format!("column {}: {}", self.column(), self.message)
    }
}

impl fmt::Display for FieldFilterError {
    /// The summary, the expression, and a caret under the problem.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary())?;
        writeln!(f, "  {}", self.expression)?;
        write!(f, "  {}^", " ".repeat(self.column() - 1))
    }
}

impl std::error::Error for FieldFilterError {}

impl FieldFilter {
    pub fn parse(text: &str) -> Result<FieldFilter, FieldFilterError> {
        let mut parser = Parser { text, at: 0 };
        let mut conditions = Vec::new();
        let mut paths = Node::default();
        parser.skip_space();
        if parser.at == text.len() {
            return Err(parser.error(text.len(), "the filter is empty; write a condition like status == \"failure\""));
        }
        loop {
            let (segments, operator, value) = parser.condition()?;
            paths.insert_every_split(&segments, conditions.len());
            conditions.push(Condition { operator, value });
            parser.skip_space();
            if parser.at == text.len() {
                break;
            }
            let start = parser.at;
            let word = parser.bare_word();
            if !word.eq_ignore_ascii_case("and") {
                let message = if word.eq_ignore_ascii_case("or") {
                    "only `and` joins conditions (`or` is not supported)".to_string()
                } else {
                    format!("expected `and` or the end, found `{}`", parser.found(start))
                };
                return Err(parser.error(start, message));
            }
            parser.skip_space();
            if parser.at == text.len() {
                return Err(parser.error(parser.at, "expected a condition after `and`"));
            }
        }
        let needles = conditions.iter().filter_map(Condition::needle).collect();
        Ok(FieldFilter { text: text.to_string(), conditions, paths, needles })
    }

    /// Whether `line` is a JSON object whose fields meet every condition.
    pub fn matches(&self, line: &str) -> bool {
        let bytes = line.as_bytes();
        if !self.needles.is_empty()
            && memchr::memchr(b'\\', bytes).is_none()
            && self.needles.iter().any(|needle| needle.find(bytes).is_none())
        {
            return false;
        }
        let mut found: Vec<Found> = vec![Found::Missing; self.conditions.len()];
        let mut reader = serde_json::Deserializer::from_str(line);
        let object = Seek { node: &self.paths, found: &mut found, require_object: true };
        if object.deserialize(&mut reader).is_err() || reader.end().is_err() {
            return false;
        }
        self.conditions.iter().zip(&found).all(|(condition, found)| condition.holds(found))
    }
}

impl Condition {
    /// What `field == "text"` needs written in the line: the text itself,
    /// unless it reads as a number (then `503` may be written `5.03e2`).
    fn needle(&self) -> Option<memmem::Finder<'static>> {
        match (&self.operator, &self.value) {
            (Operator::Equal, Value::Text(text)) if !text.is_empty() && text.trim().parse::<f64>().is_err() => {
                Some(memmem::Finder::new(text.as_bytes()).into_owned())
            }
            _ => None,
        }
    }

    fn holds(&self, found: &Found) -> bool {
        match self.operator {
            Operator::Equal => self.equals(found),
            Operator::NotEqual => !self.equals(found),
            Operator::Matches => self.regex_matches(found),
            Operator::NotMatches => !self.regex_matches(found),
            Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual => {
                let (Some(field), Value::Number(wanted)) = (found.number(), &self.value) else { return false };
                match self.operator {
                    Operator::Less => field < *wanted,
                    Operator::LessOrEqual => field <= *wanted,
                    Operator::Greater => field > *wanted,
                    _ => field >= *wanted,
                }
            }
        }
    }

    fn equals(&self, found: &Found) -> bool {
        match &self.value {
            Value::Null => matches!(found, Found::Missing | Found::Null),
            Value::Number(wanted) => found.number() == Some(*wanted),
            Value::Text(wanted) => match found {
                Found::Text(text) => text == wanted,
                // `code == "200"` finds 200: the other side reads as the same number.
                Found::Number(number) => wanted.trim().parse::<f64>().is_ok_and(|w| w == *number),
                other => other.text().is_some_and(|text| text == *wanted),
            },
            Value::Regex(_) => false,
        }
    }

    fn regex_matches(&self, found: &Found) -> bool {
        let Value::Regex(pattern) = &self.value else { return false };
        found.text().is_some_and(|text| pattern.is_match(&text))
    }
}

/// A field as found in one line; strings borrow from the line where they can.
#[derive(Debug, Clone, PartialEq)]
enum Found<'a> {
    Missing,
    Null,
    Bool(bool),
    Number(f64),
    Text(Cow<'a, str>),
    /// An object or array: it equals nothing and has no text.
    Nested,
}

impl Found<'_> {
    fn number(&self) -> Option<f64> {
        match self {
            Found::Number(n) => Some(*n),
            Found::Text(text) => text.trim().parse().ok().filter(|n: &f64| n.is_finite()),
            _ => None,
        }
    }

    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Found::Text(text) => Some(Cow::Borrowed(text)),
            Found::Number(n) => Some(Cow::Owned(n.to_string())),
            Found::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            Found::Null => Some(Cow::Borrowed("null")),
            Found::Missing | Found::Nested => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps(filter: &str, line: &str) -> bool {
        FieldFilter::parse(filter).unwrap_or_else(|e| panic!("{e}")).matches(line)
    }

    fn error(filter: &str) -> FieldFilterError {
        FieldFilter::parse(filter).expect_err("should not parse")
    }

    const LINE: &str = r#"{"time":"10:00","operation":"sync","duration_seconds":10.5,"status":"failure","code":"503","http":{"status":503,"path":"/api"},"log.level":"warn","ok":false,"tags":["a"],"note":null}"#;

    #[test]
    fn equality_on_text_numbers_and_null() {
        assert!(keeps(r#"status == "failure""#, LINE));
        assert!(keeps("status == failure", LINE), "a bare word is text");
        assert!(!keeps(r#"status == "Failure""#, LINE), "text compares exactly");
        assert!(keeps(r#"status != "success""#, LINE));
        assert!(keeps("duration_seconds == 10.5", LINE));
        assert!(keeps("code == 503", LINE), "a string holding a number equals it");
        assert!(keeps(r#"http.status == "503""#, LINE), "a number equals its text");
        assert!(keeps("ok == false", LINE));
        assert!(keeps("note == null", LINE) && keeps("absent == null", LINE));
        assert!(keeps("absent != failure", LINE), "a missing field differs from any value");
        assert!(!keeps("absent == failure", LINE));
        assert!(!keeps("tags == a", LINE), "arrays equal nothing");
    }

    #[test]
    fn dotted_fields_find_nested_and_flat_keys() {
        assert!(keeps("http.status == 503", LINE));
        assert!(keeps(r#"http.path ~ "^/api""#, LINE));
        assert!(keeps("log.level == warn", LINE), "a flat key with a dot in its name");
        assert!(keeps(r#""log.level" == warn"#, LINE), "or quoted");
        assert!(!keeps("http.missing == 1", LINE));
        assert!(keeps("a.b.c == 1", r#"{"a":{"b.c":1}}"#));
        assert!(keeps("a.b.c == 1", r#"{"a.b":{"c":1}}"#));
    }

    #[test]
    fn numbers_compare_and_regexes_match_text() {
        assert!(keeps("duration_seconds > 10", LINE));
        assert!(keeps("duration_seconds >= 10.5 and duration_seconds <= 10.5", LINE));
        assert!(!keeps("duration_seconds < 10", LINE));
        assert!(keeps("code > 500", LINE), "numeric strings compare as numbers");
        assert!(!keeps("status > 1", LINE), "text is not a number");
        assert!(!keeps("absent < 1", LINE) && !keeps("absent > 1", LINE));
        assert!(keeps(r#"status ~ "fail""#, LINE));
        assert!(!keeps(r#"status ~ "FAIL|nope""#, LINE), "capitals make the regex case-sensitive");
        assert!(keeps(r#"status !~ "^ok$""#, LINE));
        assert!(keeps(r#"http.status ~ "^5\d\d$""#, LINE), "numbers are matched as their text");
        assert!(!keeps(r#"absent ~ ".*""#, LINE));
    }

    #[test]
    fn and_joins_conditions() {
        assert!(keeps(r#"status == "failure" and operation == sync and http.status >= 500"#, LINE));
        assert!(!keeps(r#"status == "failure" AND operation == backup"#, LINE));
    }

    #[test]
    fn lines_that_are_not_json_objects_never_match() {
        for line in ["status=failure", "[1,2]", "\"status\"", "", r#"{"status":"failure"} trailing"#, "{\"status\":"] {
            assert!(!keeps("status != x", line), "{line:?}");
        }
        assert!(keeps(r#"msg == "a \"b\"""#, r#"{"msg":"a \"b\""}"#), "escaped strings are read");
        assert!(keeps("key == v", r#"{"k\u0065y":"v"}"#), "escaped keys too");
        assert!(keeps("status == failure", r#"{"status":"f\u0061ilure"}"#), "text spelled with escapes still matches");
        assert!(keeps("ok == true and note == null", r#"{"ok":true,"note":null}"#));
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = error(r#"status = "failure""#);
        assert_eq!((e.column(), e.message.as_str()), (8, "use == to compare (operators: ==, !=, ~, !~, <, <=, >, >=)"));
        assert_eq!(e.to_string().lines().nth(2), Some("         ^"));
        assert_eq!(error("").message, "the filter is empty; write a condition like status == \"failure\"");
        assert_eq!(
            error("status").summary(),
            "column 7: expected an operator after `status` (==, !=, ~, !~, <, <=, >, >=)"
        );
        assert_eq!(error("status ==").summary(), "column 10: expected a value: \"text\", a number or null");
        assert_eq!(error(r#"status == "failure"#).summary(), "column 11: this string has no closing \"");
        assert_eq!(
            error("a == 1 or b == 2").summary(),
            "column 8: only `and` joins conditions (`or` is not supported)"
        );
        assert_eq!(error("a == 1 b == 2").summary(), "column 8: expected `and` or the end, found `b`");
        assert_eq!(error("a == 1 and").summary(), "column 11: expected a condition after `and`");
        assert_eq!(error("duration > slow").summary(), "column 12: `>` compares numbers; give a number");
        assert_eq!(error("== 1").summary(), "column 1: expected a field name, found `==`");
        assert_eq!(error("http. == 1").summary(), "column 6: expected a field name after `.`");
        assert!(error(r#"msg ~ "(unclosed""#).summary().starts_with("column 7: not a valid regex"));
        assert_eq!(error("é == 1 or x").column(), 8, "columns count characters");
    }
}
