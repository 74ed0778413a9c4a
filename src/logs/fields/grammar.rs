//! Parsing a field filter, with the position of every mistake.

use super::{FieldFilterError, Operator, Value};
use crate::logs::filter::Pattern;

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
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

    pub(super) fn error(&self, at: usize, message: impl Into<String>) -> FieldFilterError {
        FieldFilterError { expression: self.text.to_string(), at, message: message.into() }
    }

    /// The word at `start`, for messages.
    pub(super) fn found(&self, start: usize) -> String {
        let word: String = self.text[start..].chars().take_while(|c| !c.is_whitespace()).take(20).collect();
        if word.is_empty() { "the end".into() } else { word }
    }

    pub(super) fn skip_space(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// Up to the next whitespace.
    pub(super) fn bare_word(&mut self) -> &'a str {
        let rest = self.rest();
        let length = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.at += length;
        &rest[..length]
    }

    pub(super) fn condition(&mut self) -> Result<(Vec<String>, Operator, Value), FieldFilterError> {
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
