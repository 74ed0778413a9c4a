//! Label matchers as Alertmanager and PromQL write them: `alertname="DiskFull"`,
//! `job!="batch"`, `instance=~"db-.*"`, `env!~"dev|test"`.

use super::Labels;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub op: MatchOp,
    /// The value as an anchored pattern, for the regex operators.
    pattern: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value && self.op == other.op
    }
}

/// A matcher as the Alertmanager v2 API sends and takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("`{name}` is not a label name (letters, digits and _)"));
        }
        let pattern = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                Regex::new(&format!("^(?:{value})$"))
                    .map_err(|err| format!("`{value}` is not a regular expression: {}", one_line(&err)))?,
            ),
            _ => None,
        };
        Ok(Matcher { name: name.to_string(), value: value.to_string(), op, pattern })
    }

    /// Parses `name="value"` (quotes optional) with `=`, `!=`, `=~` or `!~`.
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let text = text.trim();
        let at = text
            .find(['=', '!'])
            .ok_or_else(|| format!("`{text}` is not a matcher; write e.g. alertname=\"DiskFull\" or job=~\"api.*\""))?;
        let name = text[..at].trim();
        let rest = &text[at..];
        let (op, value) = if let Some(value) = rest.strip_prefix("=~") {
            (MatchOp::Regex, value)
        } else if let Some(value) = rest.strip_prefix("!~") {
            (MatchOp::NotRegex, value)
        } else if let Some(value) = rest.strip_prefix("!=") {
            (MatchOp::NotEqual, value)
        } else if let Some(value) = rest.strip_prefix('=') {
            (MatchOp::Equal, value)
        } else {
            return Err(format!("`{text}`: expected =, !=, =~ or !~ after the label name"));
        };
        let value = value.trim();
        let value = match value.strip_prefix('"') {
            Some(quoted) => {
                quoted.strip_suffix('"').ok_or_else(|| format!("`{text}`: the value's closing quote is missing"))?
            }
            None => value,
        };
        Matcher::new(name, op, &value.replace("\\\"", "\""))
    }

    pub fn from_api(api: &ApiMatcher) -> Result<Matcher, String> {
        let op = match (api.is_regex, api.is_equal) {
            (false, true) => MatchOp::Equal,
            (false, false) => MatchOp::NotEqual,
            (true, true) => MatchOp::Regex,
            (true, false) => MatchOp::NotRegex,
        };
        Matcher::new(&api.name, op, &api.value)
    }

    pub fn to_api(&self) -> ApiMatcher {
        ApiMatcher {
            name: self.name.clone(),
            value: self.value.clone(),
            is_regex: matches!(self.op, MatchOp::Regex | MatchOp::NotRegex),
            is_equal: matches!(self.op, MatchOp::Equal | MatchOp::Regex),
        }
    }

    /// Whether an alert with `labels` is matched (a missing label reads as empty, as in Alertmanager).
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.name).map_or("", String::as_str);
        match (self.op, &self.pattern) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::Regex, Some(pattern)) => pattern.is_match(value),
            (MatchOp::NotRegex, Some(pattern)) => !pattern.is_match(value),
            _ => false,
        }
    }

    /// An equality on a real value: the one kind of matcher that by itself
    /// narrows a silence to something a person named.
    pub fn is_narrowing(&self) -> bool {
        self.op == MatchOp::Equal && !self.value.is_empty()
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"{}\"", self.name, self.op.as_str(), self.value.replace('"', "\\\""))
    }
}

/// The regex crate's message without its drawing of the pattern: "unclosed group".
fn one_line(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or_default();
    last.trim_start_matches("error: ").to_string()
}

/// Whether every matcher holds for `labels`.
pub fn all_match(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// Why a set of matchers would silence far more than anyone meant, or `None`
/// when it is narrow: it needs at least one equality on a real value, and must
/// not match every alert active now (when there are several).
pub fn too_broad(matchers: &[Matcher], active: &[&Labels]) -> Option<String> {
    if matchers.is_empty() {
        return Some("a silence without matchers would silence every alert".into());
    }
    if !matchers.iter().any(Matcher::is_narrowing) {
        return Some(format!(
            "{} has no equality matcher (name=\"value\"), so it could silence every alert",
            matchers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ));
    }
    if active.len() > 1 && active.iter().all(|labels| all_match(matchers, labels)) {
        return Some(format!("it would silence all {} active alerts", active.len()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn matchers_parse_in_every_operator_and_round_trip() {
        for (text, op) in [
            ("alertname=\"DiskFull\"", MatchOp::Equal),
            ("job!=\"batch\"", MatchOp::NotEqual),
            ("instance=~\"db-.*\"", MatchOp::Regex),
            ("env!~\"dev|test\"", MatchOp::NotRegex),
        ] {
            let matcher = Matcher::parse(text).unwrap();
            assert_eq!(matcher.op, op, "{text}");
            assert_eq!(matcher.to_string(), text);
            assert_eq!(Matcher::from_api(&matcher.to_api()).unwrap(), matcher);
        }
        assert_eq!(Matcher::parse("job = api").unwrap().value, "api");
        assert!(Matcher::parse("nothing").is_err());
        assert!(Matcher::parse("job=~\"(\"").unwrap_err().contains("regular expression"));
        assert!(Matcher::parse("job=\"open").is_err());
    }

    #[test]
    fn regexes_are_anchored_and_missing_labels_read_empty() {
        let alert = labels(&[("instance", "db-1:9100")]);
        assert!(!Matcher::parse("instance=~\"db\"").unwrap().matches(&alert));
        assert!(Matcher::parse("instance=~\"db-.*\"").unwrap().matches(&alert));
        assert!(Matcher::parse("team=\"\"").unwrap().matches(&alert));
        assert!(Matcher::parse("team!~\"ops\"").unwrap().matches(&alert));
    }

    #[test]
    fn a_silence_needs_an_equality_and_must_not_cover_every_active_alert() {
        let a = labels(&[("alertname", "A"), ("job", "api")]);
        let b = labels(&[("alertname", "B"), ("job", "api")]);
        let only_regex = [Matcher::parse("alertname=~\".*\"").unwrap()];
        assert!(too_broad(&only_regex, &[&a]).unwrap().contains("no equality"));
        assert!(too_broad(&[], &[]).is_some());
        let whole_job = [Matcher::parse("job=\"api\"").unwrap()];
        assert!(too_broad(&whole_job, &[&a, &b]).unwrap().contains("all 2 active alerts"));
        let one = [Matcher::parse("alertname=\"A\"").unwrap()];
        assert_eq!(too_broad(&one, &[&a, &b]), None);
        assert_eq!(too_broad(&whole_job, &[&a]), None, "one active alert is not 'everything'");
    }
}
