//! Turning raw lines into display lines: level, sanitised text, JSON fields.

use super::level::{self, Level};
use super::split::RawLine;
use crate::util::sanitize::{sanitize, sanitize_str};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// How a source's lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Free text; the level is found by [`level::detect`].
    #[default]
    Plain,
    /// One JSON object a line; level, time and message come from named fields.
    Jsonl,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "plain" | "text" => Some(Format::Plain),
            "jsonl" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// Field names tried, in order, in a JSON line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonFields {
    pub level: Vec<String>,
    pub message: Vec<String>,
    pub time: Vec<String>,
    /// Other fields whose names start with one of these are not shown (journald's `_PID`, `__CURSOR` ...).
    pub hidden_prefixes: Vec<String>,
}

impl Default for JsonFields {
    fn default() -> Self {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        JsonFields {
            level: names(&["level", "lvl", "severity", "PRIORITY"]),
            message: names(&["msg", "message", "MESSAGE"]),
            time: names(&["time", "ts", "timestamp", "@timestamp"]),
            hidden_prefixes: Vec::new(),
        }
    }
}

/// A line ready for display: everything in `text` is safe for the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub level: Option<Level>,
    pub text: String,
    /// The line as written in the file, when `text` shows it otherwise (a JSON
    /// line rendered as `key=value`, tabs expanded, a cut marked). Searches and
    /// field filters read this; it is never drawn.
    pub written: Option<String>,
}

impl Parsed {
    /// The line as written in the file.
    pub fn written(&self) -> &str {
        self.written.as_deref().unwrap_or(&self.text)
    }
}

#[derive(Debug, Clone, Default)]
pub struct LineParser {
    pub format: Format,
    pub fields: JsonFields,
}

impl LineParser {
    pub fn new(format: Format, fields: JsonFields) -> LineParser {
        LineParser { format, fields }
    }

    pub fn parse(&self, raw: &RawLine) -> Parsed {
        let bytes = written_bytes(raw);
        let parsed = match self.format {
            Format::Jsonl => self.parse_json(bytes).unwrap_or_else(|| plain(bytes)),
            Format::Plain => plain(bytes),
        };
        if raw.cut > 0 {
            let written = parsed.written.unwrap_or_else(|| parsed.text.clone());
            Parsed { text: format!("{} [… {} bytes cut]", parsed.text, raw.cut), written: Some(written), ..parsed }
        } else {
            parsed
        }
    }

    fn parse_json(&self, bytes: &[u8]) -> Option<Parsed> {
        let Ordered(object) = serde_json::from_slice(bytes).ok()?;
        let level_field = find(&object, &self.fields.level);
        let message_field = find(&object, &self.fields.message);
        let time_field = find(&object, &self.fields.time);
        let level = level_field.and_then(|(_, value)| match value {
            // journald writes PRIORITY as a string of a syslog number.
            Value::String(name) => Level::parse(name).or_else(|| name.parse::<u8>().ok().map(Level::from_syslog)),
            Value::Number(n) => n.as_u64().map(|p| Level::from_syslog(p.min(7) as u8)),
            _ => None,
        });
        let mut text = String::new();
        if let Some((_, time)) = time_field {
            text.push_str(&scalar(time));
            text.push(' ');
        }
        if let Some(level) = level {
            text.push_str(&format!("{:<5} ", level.label()));
        }
        if let Some((_, message)) = message_field {
            match message {
                Value::String(message) => text.push_str(message),
                other => text.push_str(&other.to_string()),
            }
        }
        let used: Vec<&str> = [level_field, message_field, time_field].iter().flatten().map(|(k, _)| *k).collect();
        for (key, value) in &object {
            if used.contains(&key.as_str()) || self.fields.hidden_prefixes.iter().any(|p| key.starts_with(p.as_str())) {
                continue;
            }
            if !text.is_empty() && !text.ends_with(' ') {
                text.push(' ');
            }
            text.push_str(key);
            text.push('=');
            text.push_str(&scalar(value));
        }
        let written = Some(String::from_utf8_lossy(bytes).into_owned());
        Some(Parsed { level, text: sanitize(text.as_bytes()), written })
    }
}

/// A line's bytes as written, without the newline and a CRLF's carriage return.
pub fn written_bytes(raw: &RawLine) -> &[u8] {
    raw.bytes.strip_suffix(b"\r").unwrap_or(&raw.bytes)
}

fn plain(bytes: &[u8]) -> Parsed {
    let lossy = String::from_utf8_lossy(bytes);
    let text = sanitize_str(&lossy);
    // Most lines are shown as written: keep one copy.
    let written = (text != lossy).then(|| lossy.into_owned());
    Parsed { level: level::detect(&text), text, written }
}

fn find<'a>(object: &'a [(String, Value)], names: &'a [String]) -> Option<(&'a str, &'a Value)> {
    names.iter().find_map(|name| object.iter().find(|(key, _)| key == name).map(|(key, value)| (key.as_str(), value)))
}

/// A JSON object's fields in the order the line wrote them (other fields are shown that way).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    fields.push(entry);
                }
                Ok(Ordered(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// A JSON value as shown: strings bare unless they hold spaces, the rest as JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) if !s.is_empty() && !s.contains(char::is_whitespace) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &[u8]) -> RawLine {
        RawLine { bytes: text.to_vec(), cut: 0 }
    }

    #[test]
    fn json_lines_put_time_level_and_message_first() {
        let parser = LineParser::new(Format::Jsonl, JsonFields::default());
        let line = br#"{"time":"10:00","level":"error","operation":"sync","duration_seconds":10.5,"status":"failure"}"#;
        let parsed = parser.parse(&raw(line));
        assert_eq!(parsed.level, Some(Level::Error));
        assert_eq!(parsed.text, "10:00 ERROR operation=sync duration_seconds=10.5 status=failure");
        assert_eq!(parsed.written(), std::str::from_utf8(line).unwrap(), "searches read the line as written");
        let with_message = parser.parse(&raw(br#"{"msg":"disk full","level":"warn","host":"a b"}"#));
        assert_eq!(with_message.text, "WARN  disk full host=\"a b\"");
    }

    #[test]
    fn journald_priorities_are_syslog_numbers() {
        let parser = LineParser::new(Format::Jsonl, JsonFields::default());
        let parsed = parser.parse(&raw(br#"{"PRIORITY":"3","MESSAGE":"unit failed","_PID":"12"}"#));
        assert_eq!(parsed.level, Some(Level::Error));
        assert_eq!(parsed.text, "ERROR unit failed _PID=12");
    }

    #[test]
    fn a_line_that_is_not_json_is_shown_as_text() {
        let parser = LineParser::new(Format::Jsonl, JsonFields::default());
        let parsed = parser.parse(&raw(b"ERROR not json {"));
        assert_eq!(parsed, Parsed { level: Some(Level::Error), text: "ERROR not json {".into(), written: None });
    }

    #[test]
    fn binary_and_escape_sequences_are_made_safe_and_cuts_are_marked() {
        let parser = LineParser::default();
        let parsed = parser.parse(&RawLine { bytes: b"A\x1b]0;PWNED\x07\xff\x00B\r".to_vec(), cut: 7 });
        assert_eq!(parsed.text, "A\u{fffd}\u{2400}B [… 7 bytes cut]");
        assert_eq!(parsed.written(), "A\x1b]0;PWNED\x07\u{fffd}\x00B", "kept for matching, never drawn");
        let json = LineParser::new(Format::Jsonl, JsonFields::default());
        let hostile = json.parse(&raw(br#"{"msg":"x\u001b[2Jy"}"#));
        assert!(!hostile.text.contains('\u{1b}'), "{:?}", hostile.text);
    }
}
