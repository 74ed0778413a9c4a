//! Judging an observation against a condition, and saying what failed.

use super::{Condition, Literal, Observation, Op, PathStep, Subject, Value, format_latency, format_number};
use std::time::Duration;

/// What a condition found when it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
}

impl Condition {
    /// Whether this condition can apply to a check of `kind` (http, tcp, command ...).
    pub fn applies_to(&self, kind: &str) -> Result<(), String> {
        let allowed: &[&str] = match self.subject {
            Subject::Latency => return Ok(()),
            Subject::Status | Subject::Header(_) | Subject::Json(_) => &["http"],
            Subject::Body => &["http", "command"],
            Subject::Exit => &["command"],
            Subject::Value => &["command", "sqlite", "system", "disk", "tls", "gpu", "promql"],
        };
        if allowed.contains(&kind) {
            Ok(())
        } else {
            Err(format!("`{}` cannot apply to a {kind} check (it applies to {})", self.text, allowed.join(", ")))
        }
    }

    /// Judges one observation; `Err` says what was seen and what was expected.
    pub fn evaluate(&self, seen: &Observation) -> Result<(), Failure> {
        let name = self.subject_name();
        let actual: Option<Actual> = match &self.subject {
            Subject::Status => seen.status.map(|s| Actual::Number(f64::from(s))),
            Subject::Exit => seen.exit.map(|e| Actual::Number(f64::from(e))),
            Subject::Latency => seen.latency.map(Actual::Duration),
            Subject::Body => seen.body.clone().map(Actual::Text),
            Subject::Header(header) => Some(
                seen.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(header))
                    .map_or(Actual::Missing, |(_, v)| Actual::Text(v.clone())),
            ),
            Subject::Value => seen.value.as_ref().map(|v| match v {
                Value::Number(n) => Actual::Number(*n),
                Value::Text(t) => Actual::Text(t.clone()),
                Value::Null => Actual::Null,
            }),
            Subject::Json(path) => Some(json_actual(seen.body.as_deref(), path)),
        };
        let Some(actual) = actual else {
            return Err(Failure { message: format!("{name} is not available for this check") });
        };
        if self.holds(&actual) {
            return Ok(());
        }
        let message = match (&actual, self.op) {
            (Actual::Missing, _) => format!("{name} is missing"),
            (Actual::NotJson, _) => "body is not JSON".to_string(),
            (Actual::Text(_), Op::Contains) if matches!(self.subject, Subject::Body) => {
                format!("body does not contain {}", self.literal)
            }
            (Actual::Text(_), Op::NotContains) if matches!(self.subject, Subject::Body) => {
                format!("body contains {}", self.literal)
            }
            _ => format!("{name} was {}, expected {}{}", actual.shown(), self.op.prefix(), self.literal),
        };
        Err(Failure { message })
    }

    fn subject_name(&self) -> String {
        let text = &self.text;
        let end = text.find(|c: char| c.is_whitespace() || matches!(c, '=' | '!' | '<' | '>')).unwrap_or(text.len());
        text[..end].to_string()
    }

    fn holds(&self, actual: &Actual) -> bool {
        use std::cmp::Ordering;
        let ordering: Option<Ordering> = match (actual, &self.literal) {
            (Actual::Number(a), Literal::Number(b)) => a.partial_cmp(b),
            (Actual::Duration(a), Literal::Duration(b)) => Some(a.cmp(b)),
            (Actual::Text(a), Literal::Number(b)) => a.trim().parse::<f64>().ok().and_then(|a| a.partial_cmp(b)),
            (Actual::Text(a), Literal::Text(b)) => match self.op {
                Op::Contains => return a.contains(b.as_str()),
                Op::NotContains => return !a.contains(b.as_str()),
                _ => (a == b).then_some(Ordering::Equal),
            },
            (Actual::Bool(a), Literal::Bool(b)) => (a == b).then_some(Ordering::Equal),
            (Actual::Null, Literal::Null) => Some(Ordering::Equal),
            _ => None,
        };
        match self.op {
            Op::Eq => ordering == Some(Ordering::Equal),
            Op::Ne => ordering != Some(Ordering::Equal),
            Op::Lt => ordering == Some(Ordering::Less),
            Op::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
            Op::Gt => ordering == Some(Ordering::Greater),
            Op::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
            Op::Contains | Op::NotContains => false,
        }
    }
}

/// What the subject turned out to be.
#[derive(Debug, Clone, PartialEq)]
enum Actual {
    Number(f64),
    Duration(Duration),
    Text(String),
    Bool(bool),
    Null,
    /// Other JSON (an object or array), shown briefly.
    Composite(&'static str),
    Missing,
    NotJson,
}

impl Actual {
    fn shown(&self) -> String {
        match self {
            Actual::Number(n) => format_number(*n),
            Actual::Duration(d) => format_latency(*d),
            Actual::Text(t) => {
                let short: String = t.chars().take(60).collect();
                let ellipsis = if t.chars().count() > 60 { "…" } else { "" };
                format!("{short:?}{ellipsis}")
            }
            Actual::Bool(b) => b.to_string(),
            Actual::Null => "null".into(),
            Actual::Composite(what) => (*what).into(),
            Actual::Missing => "missing".into(),
            Actual::NotJson => "not JSON".into(),
        }
    }
}

fn json_actual(body: Option<&str>, path: &[PathStep]) -> Actual {
    let Some(body) = body else { return Actual::NotJson };
    let Ok(document) = serde_json::from_str::<serde_json::Value>(body) else { return Actual::NotJson };
    let mut current = &document;
    for step in path {
        let next = match (step, current) {
            (PathStep::Key(key), serde_json::Value::Object(map)) => map.get(key),
            (PathStep::Key(key), serde_json::Value::Array(items)) => {
                key.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            (PathStep::Index(i), serde_json::Value::Array(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(value) => current = value,
            None => return Actual::Missing,
        }
    }
    match current {
        serde_json::Value::Null => Actual::Null,
        serde_json::Value::Bool(b) => Actual::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(Actual::Missing, Actual::Number),
        serde_json::Value::String(s) => Actual::Text(s.clone()),
        serde_json::Value::Array(_) => Actual::Composite("an array"),
        serde_json::Value::Object(_) => Actual::Composite("an object"),
    }
}
