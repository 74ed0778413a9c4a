//! The condition language of `expect = [...]`, in the style of Gatus:
//! `status == 200`, `json.status == "healthy"`, `json.items[0].id > 3`,
//! `body contains "ok"`, `latency < 200ms`, `value > 10`, `exit == 0`,
//! `header.content-type contains "json"`.
//!
//! A condition is `subject operator literal`. Parsing happens when the config
//! is loaded, so a typo is a config error with line:col, never a check that
//! silently passes. A failed condition explains itself in one line:
//! `json.status was "degraded", expected "healthy"`.

use std::fmt;
use std::time::Duration;

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Status,
    Latency,
    Body,
    /// The value of a command (its trimmed stdout), a SQLite query, a system or disk check,
    /// or of each series a PromQL check returns.
    Value,
    Exit,
    Header(String),
    Json(Vec<PathStep>),
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    NotContains,
}

/// The right-hand side.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Duration(Duration),
    Text(String),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub subject: Subject,
    pub op: Op,
    pub literal: Literal,
    /// The condition as written, for the detail pane.
    pub text: String,
}

/// A parse error at a byte offset into the condition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a check observed, for conditions to judge.
#[derive(Debug, Default, Clone)]
pub struct Observation {
    pub status: Option<u16>,
    pub latency: Option<Duration>,
    pub body: Option<String>,
    pub headers: Vec<(String, String)>,
    pub value: Option<Value>,
    pub exit: Option<i32>,
}

/// A value a check produced (a query's first column, a command's output, a percentage).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
    Null,
}

impl Value {
    /// Reads command output or text: a number when it is one.
    pub fn from_text(text: &str) -> Value {
        let trimmed = text.trim();
        trimmed.parse::<f64>().map(Value::Number).unwrap_or_else(|_| Value::Text(trimmed.to_string()))
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::Text(t) => write!(f, "{t:?}"),
            Value::Null => f.write_str("null"),
        }
    }
}

pub fn parse(text: &str) -> Result<Condition, ParseError> {
    let mut parser = Parser { text, pos: 0 };
    parser.skip_space();
    let subject = parser.subject()?;
    parser.skip_space();
    let op = parser.op()?;
    parser.skip_space();
    let literal_at = parser.pos;
    let literal = parser.literal()?;
    parser.skip_space();
    if parser.pos < text.len() {
        return Err(parser.error("unexpected text after the value; write one condition per string"));
    }
    check_types(&subject, op, &literal, literal_at)?;
    Ok(Condition { subject, op, literal, text: text.trim().to_string() })
}

/// Rejects comparisons that can never mean anything, such as `body < 3`.
fn check_types(subject: &Subject, op: Op, literal: &Literal, at: usize) -> Result<(), ParseError> {
    let error = |message: &str| Err(ParseError { offset: at, message: message.to_string() });
    let ordering = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    let containing = matches!(op, Op::Contains | Op::NotContains);
    match subject {
        Subject::Status | Subject::Exit => match literal {
            Literal::Number(n) if n.fract() == 0.0 && !containing => Ok(()),
            _ => error("status and exit compare with a whole number, e.g. `status == 200`"),
        },
        Subject::Latency => match literal {
            Literal::Duration(_) if !containing => Ok(()),
            Literal::Number(_) => error("latency needs a unit, e.g. `latency < 200ms`"),
            _ => error("latency compares with a duration, e.g. `latency < 200ms`"),
        },
        Subject::Body | Subject::Header(_) => match literal {
            Literal::Text(_) if !ordering => Ok(()),
            _ => error("body and headers compare with a quoted string using ==, != or contains"),
        },
        Subject::Json(_) | Subject::Value => {
            if containing && !matches!(literal, Literal::Text(_)) {
                return error("contains needs a quoted string");
            }
            if ordering && !matches!(literal, Literal::Number(_)) {
                return error("<, <=, > and >= compare with a number");
            }
            if matches!(literal, Literal::Duration(_)) {
                return error("only latency compares with a duration");
            }
            Ok(())
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn error(&self, message: &str) -> ParseError {
        ParseError { offset: self.pos, message: message.to_string() }
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']')))
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.text[start..start + len]
    }

    fn subject(&mut self) -> Result<Subject, ParseError> {
        let start = self.pos;
        let word = self.word().to_string();
        let at = |message: String| ParseError { offset: start, message };
        if word.is_empty() {
            return Err(at("expected a subject: status, latency, body, value, exit, header.NAME or json.PATH".into()));
        }
        match word.as_str() {
            "status" => Ok(Subject::Status),
            "latency" => Ok(Subject::Latency),
            "body" => Ok(Subject::Body),
            "value" => Ok(Subject::Value),
            "exit" => Ok(Subject::Exit),
            "json" => Ok(Subject::Json(Vec::new())),
            _ => {
                if let Some(name) = word.strip_prefix("header.") {
                    if name.is_empty() {
                        return Err(at("header. needs a name, e.g. header.content-type".into()));
                    }
                    return Ok(Subject::Header(name.to_ascii_lowercase()));
                }
                if let Some(path) = word.strip_prefix("json") {
                    return parse_path(path)
                        .map(Subject::Json)
                        .map_err(|(offset, message)| ParseError { offset: start + 4 + offset, message });
                }
                Err(at(format!(
                    "unknown subject `{word}`; use status, latency, body, value, exit, header.NAME or json.PATH"
                )))
            }
        }
    }

    fn op(&mut self) -> Result<Op, ParseError> {
        const OPS: [(&str, Op); 8] = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("!contains", Op::NotContains),
            ("contains", Op::Contains),
        ];
        for (text, op) in OPS {
            if self.rest().starts_with(text) {
                self.pos += text.len();
                return Ok(op);
            }
        }
        if self.rest().starts_with('=') {
            return Err(self.error("a single `=` is not a comparison; write `==`"));
        }
        Err(self.error("expected an operator: ==, !=, <, <=, >, >=, contains or !contains"))
    }

    fn literal(&mut self) -> Result<Literal, ParseError> {
        let rest = self.rest();
        if rest.is_empty() {
            return Err(self.error("expected a value after the operator"));
        }
        if let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            return self.quoted(quote);
        }
        let start = self.pos;
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.pos += len;
        let word = &self.text[start..start + len];
        match word {
            "true" => return Ok(Literal::Bool(true)),
            "false" => return Ok(Literal::Bool(false)),
            "null" => return Ok(Literal::Null),
            _ => {}
        }
        if let Ok(number) = word.parse::<f64>()
            && number.is_finite()
        {
            return Ok(Literal::Number(number));
        }
        if word.starts_with(|c: char| c.is_ascii_digit())
            && let Ok(duration) = word.parse::<crate::config::units::HumanDuration>()
        {
            return Ok(Literal::Duration(duration.get()));
        }
        Err(ParseError {
            offset: start,
            message: format!("`{word}` is not a value; quote text (\"healthy\"), or write a number or a duration"),
        })
    }

    fn quoted(&mut self, quote: char) -> Result<Literal, ParseError> {
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.rest().char_indices().skip(1);
        while let Some((index, ch)) = chars.next() {
            match ch {
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                c if c == quote => {
                    self.pos = start + index + c.len_utf8();
                    return Ok(Literal::Text(out));
                }
                c => out.push(c),
            }
        }
        Err(ParseError { offset: start, message: "this quoted value is never closed".into() })
    }
}

/// Parses `.a.b[0].c` (what follows `json`); errors carry an offset into `path`.
fn parse_path(path: &str) -> Result<Vec<PathStep>, (usize, String)> {
    let mut steps = Vec::new();
    let mut pos = 0;
    let bytes = path.as_bytes();
    while pos < path.len() {
        match bytes[pos] {
            b'.' => {
                let end = path[pos + 1..].find(['.', '[']).map_or(path.len(), |i| pos + 1 + i);
                let key = &path[pos + 1..end];
                if key.is_empty() {
                    return Err((pos, "empty name in the JSON path".into()));
                }
                steps.push(PathStep::Key(key.to_string()));
                pos = end;
            }
            b'[' => {
                let Some(close) = path[pos..].find(']').map(|i| pos + i) else {
                    return Err((pos, "`[` is never closed in the JSON path".into()));
                };
                let index = path[pos + 1..close]
                    .parse::<usize>()
                    .map_err(|_| (pos + 1, "array index must be a whole number, e.g. [0]".to_string()))?;
                steps.push(PathStep::Index(index));
                pos = close + 1;
            }
            _ => return Err((pos, "a JSON path goes on with `.name` or `[index]`".into())),
        }
    }
    Ok(steps)
}

impl Op {
    fn prefix(self) -> &'static str {
        match self {
            Op::Eq => "",
            Op::Ne => "not ",
            Op::Lt => "< ",
            Op::Le => "<= ",
            Op::Gt => "> ",
            Op::Ge => ">= ",
            Op::Contains => "to contain ",
            Op::NotContains => "not to contain ",
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) => f.write_str(&format_number(*n)),
            Literal::Duration(d) => f.write_str(&format_latency(*d)),
            Literal::Text(t) => write!(f, "{t:?}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}

/// Whole numbers without a trailing `.0`; others with up to two decimals;
/// NaN and the infinities as Prometheus writes them.
pub fn format_number(n: f64) -> String {
    if !n.is_finite() {
        return crate::engine::format_value(n);
    }
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n:.2}") }
}

/// Latency the way people read it: `0.4ms`, `35ms`, `1.25s`.
pub fn format_latency(d: Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 if d.is_zero() => "0ms".into(),
        0..10 if !d.subsec_nanos().is_multiple_of(1_000_000) => format!("{:.1}ms", d.as_secs_f64() * 1000.0),
        0..1000 => format!("{ms}ms"),
        _ => format!("{:.2}s", d.as_secs_f64()),
    }
}

mod eval;

pub use eval::Failure;

#[cfg(test)]
mod tests;
