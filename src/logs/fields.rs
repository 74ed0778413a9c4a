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

use super::filter::Pattern;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
        Ok(FieldFilter { text: text.to_string(), conditions, paths })
    }

    /// Whether `line` is a JSON object whose fields meet every condition.
    pub fn matches(&self, line: &str) -> bool {
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

/// A tree of keys: the conditions whose field ends here, and keys below.
#[derive(Debug, Clone, Default)]
struct Node {
    ends: Vec<usize>,
    children: Vec<(String, Node)>,
}

impl Node {
    /// Adds every grouping of the segments into keys: `a.b.c` is found as
    /// `a`→`b`→`c`, `a.b`→`c`, `a`→`b.c` and the flat key `a.b.c`.
    fn insert_every_split(&mut self, segments: &[String], condition: usize) {
        if segments.is_empty() {
            self.ends.push(condition);
            return;
        }
        for take in 1..=segments.len() {
            let key = segments[..take].join(".");
            let at = match self.children.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    self.children.push((key, Node::default()));
                    self.children.len() - 1
                }
            };
            self.children[at].1.insert_every_split(&segments[take..], condition);
        }
    }

    fn child(&self, key: &str) -> Option<&Node> {
        self.children.iter().find(|(k, _)| k == key).map(|(_, node)| node)
    }
}

/// Reads one JSON value, recording it for the conditions that end at `node`
/// and descending into objects only along keys the tree names.
struct Seek<'n, 'f, 'de> {
    node: &'n Node,
    found: &'f mut [Found<'de>],
    /// The line itself must be an object.
    require_object: bool,
}

impl<'de> Seek<'_, '_, 'de> {
    fn set(&mut self, value: Found<'de>) {
        for condition in &self.node.ends {
            if let Some(slot) = self.found.get_mut(*condition) {
                *slot = value.clone();
            }
        }
    }

    fn scalar<E: serde::de::Error>(mut self, value: Found<'de>) -> Result<(), E> {
        if self.require_object {
            return Err(E::custom("not a JSON object"));
        }
        self.set(value);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Seek<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Found::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Found::Number(v as f64))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(Found::Number(v as f64))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(Found::Number(v))
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.scalar(Found::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(Found::Text(Cow::Owned(v.to_string())))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(Found::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        if self.require_object {
            return Err(serde::de::Error::custom("not a JSON object"));
        }
        self.set(Found::Nested);
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.set(Found::Nested);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.node.child(&key) {
                Some(node) => {
                    map.next_value_seed(Seek { node, found: &mut *self.found, require_object: false })?
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key, borrowed from the line unless it holds escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

/// Characters of a bare field name.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | '$')
}

const OPERATORS: &str = "==, !=, ~, !~, <, <=, >, >=";

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn error(&self, at: usize, message: impl Into<String>) -> FieldFilterError {
        FieldFilterError { expression: self.text.to_string(), at, message: message.into() }
    }

    /// The word at `start`, for messages.
    fn found(&self, start: usize) -> String {
        let word: String = self.text[start..].chars().take_while(|c| !c.is_whitespace()).take(20).collect();
        if word.is_empty() { "the end".into() } else { word }
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Up to the next whitespace.
    fn bare_word(&mut self) -> &'a str {
        let rest = self.rest();
        let length = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.at += length;
        &rest[..length]
    }

    fn condition(&mut self) -> Result<(Vec<String>, Operator, Value), FieldFilterError> {
        let segments = self.field()?;
        self.skip_space();
        let operator_at = self.at;
        let operator = self.operator(&segments)?;
        let symbol = &self.text[operator_at..self.at];
        self.skip_space();
        let value_at = self.at;
        let value = self.value()?;
        let value = match (operator, value) {
            (Operator::Matches | Operator::NotMatches, Value::Text(text)) => match Pattern::regex(&text) {
                Ok(pattern) => Value::Regex(pattern),
                Err(err) => {
                    let why = err.to_string().lines().last().unwrap_or("").trim().to_string();
                    return Err(self.error(value_at, format!("not a valid regex: {why}")));
                }
            },
            (Operator::Matches | Operator::NotMatches, _) => {
                return Err(self.error(value_at, "`~` and `!~` take a regex in quotes, e.g. msg ~ \"time(d)? out\""));
            }
            (Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual, value) => {
                if !matches!(value, Value::Number(_)) {
                    return Err(self.error(value_at, format!("`{symbol}` compares numbers; give a number")));
                }
                value
            }
            (_, value) => value,
        };
        Ok((segments, operator, value))
    }

    fn field(&mut self) -> Result<Vec<String>, FieldFilterError> {
        let mut segments = Vec::new();
        loop {
            let start = self.at;
            let segment = if self.rest().starts_with(['"', '\'']) {
                self.quoted()?
            } else {
                let length = self.rest().find(|c: char| !is_name_char(c)).unwrap_or(self.rest().len());
                self.at += length;
                self.text[start..self.at].to_string()
            };
            if segment.is_empty() {
                let message = if segments.is_empty() {
                    format!("expected a field name, found `{}`", self.found(start))
                } else {
                    "expected a field name after `.`".to_string()
                };
                return Err(self.error(start, message));
            }
            segments.push(segment);
            if !self.rest().starts_with('.') {
                return Ok(segments);
            }
            self.at += 1;
        }
    }

    fn operator(&mut self, segments: &[String]) -> Result<Operator, FieldFilterError> {
        const TABLE: [(&str, Operator); 8] = [
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("!~", Operator::NotMatches),
            ("<=", Operator::LessOrEqual),
            (">=", Operator::GreaterOrEqual),
            ("~", Operator::Matches),
            ("<", Operator::Less),
            (">", Operator::Greater),
        ];
        for (symbol, operator) in TABLE {
            if self.rest().starts_with(symbol) {
                self.at += symbol.len();
                return Ok(operator);
            }
        }
        let field = segments.join(".");
        let message = if self.rest().starts_with('=') {
            format!("use == to compare (operators: {OPERATORS})")
        } else if self.rest().is_empty() {
            format!("expected an operator after `{field}` ({OPERATORS})")
        } else {
            format!("expected an operator after `{field}` ({OPERATORS}), found `{}`", self.found(self.at))
        };
        Err(self.error(self.at, message))
    }

    fn value(&mut self) -> Result<Value, FieldFilterError> {
        if self.rest().is_empty() {
            return Err(self.error(self.at, "expected a value: \"text\", a number or null"));
        }
        if self.rest().starts_with(['"', '\'']) {
            return self.quoted().map(Value::Text);
        }
        let word = self.bare_word();
        if word == "null" {
            return Ok(Value::Null);
        }
        Ok(match word.parse::<f64>() {
            Ok(number) if number.is_finite() && !word.starts_with(['+', '.']) => Value::Number(number),
            _ => Value::Text(word.to_string()),
        })
    }

    /// A string in double or single quotes. `\"` (or `\'`) is the quote itself;
    /// every other backslash stays as written, so regexes read as they do elsewhere.
    fn quoted(&mut self) -> Result<String, FieldFilterError> {
        let start = self.at;
        let mut chars = self.rest().char_indices().peekable();
        let Some((_, quote)) = chars.next() else { return Err(self.error(start, "expected a quoted string")) };
        let mut text = String::new();
        while let Some((offset, c)) = chars.next() {
            if c == quote {
                self.at += offset + c.len_utf8();
                return Ok(text);
            }
            if c == '\\' && chars.peek().is_some_and(|(_, next)| *next == quote) {
                chars.next();
                text.push(quote);
            } else {
                text.push(c);
            }
        }
        Err(self.error(start, format!("this string has no closing {quote}")))
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
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = error(r#"status = "failure""#);
        assert_eq!((e.column(), e.message.as_str()), (8, "use == to compare (operators: ==, !=, ~, !~, <, <=, >, >=)"));
        assert_eq!(e.to_string().lines().nth(2), Some("         ^"));
        assert_eq!(error("").message, "the filter is empty; write a condition like status == \"failure\"");
        assert_eq!(error("status").summary(), "column 7: expected an operator after `status` (==, !=, ~, !~, <, <=, >, >=)");
        assert_eq!(error("status ==").summary(), "column 10: expected a value: \"text\", a number or null");
        assert_eq!(error(r#"status == "failure"#).summary(), "column 11: this string has no closing \"");
        assert_eq!(error("a == 1 or b == 2").summary(), "column 8: only `and` joins conditions (`or` is not supported)");
        assert_eq!(error("a == 1 b == 2").summary(), "column 8: expected `and` or the end, found `b`");
        assert_eq!(error("a == 1 and").summary(), "column 11: expected a condition after `and`");
        assert_eq!(error("duration > slow").summary(), "column 12: `>` compares numbers; give a number");
        assert_eq!(error("== 1").summary(), "column 1: expected a field name, found `==`");
        assert_eq!(error("http. == 1").summary(), "column 6: expected a field name after `.`");
        assert!(error(r#"msg ~ "(unclosed""#).summary().starts_with("column 7: not a valid regex"));
        assert_eq!(error("é == 1 or x").column(), 8, "columns count characters");
    }
}
