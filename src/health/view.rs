//! What the engine reports about one check: everything a screen or a script
//! needs, already computed, so drawing does no work beyond layout.

use super::outcome::{Level, Outcome};
use super::spec::CheckSpec;
use crate::config::Severity;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// The state shown for a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// No verdict yet (no run, or failures not yet confirmed).
    Pending,
    Ok,
    Warning,
    Unknown,
    Critical,
    /// Failing while a check it depends on is failing too.
    Suppressed,
}

impl Status {
    pub fn is_failing(self) -> bool {
        matches!(self, Status::Warning | Status::Unknown | Status::Critical | Status::Suppressed)
    }

    /// Worst first: the order of the default sort.
    pub fn rank(self) -> u8 {
        match self {
            Status::Critical => 0,
            Status::Unknown => 1,
            Status::Warning => 2,
            Status::Suppressed => 3,
            Status::Pending => 4,
            Status::Ok => 5,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Unknown => "unknown",
            Status::Critical => "critical",
            Status::Suppressed => "suppressed",
        }
    }

    /// Symbols differ in shape, so the state reads without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pending => "…",
            Status::Ok => "✓",
            Status::Warning => "▲",
            Status::Unknown => "?",
            Status::Critical => "✗",
            Status::Suppressed => "↳",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TransitionView {
    pub at: DateTime<Utc>,
    pub from: Option<Level>,
    pub to: Level,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckView {
    pub index: usize,
    pub name: String,
    pub kind: &'static str,
    pub target: String,
    pub every: Duration,
    pub severity: Severity,
    pub conditions: Vec<String>,
    pub default_conditions: bool,
    pub fail_after: u32,
    pub parent: Option<String>,
    pub status: Status,
    pub since: Option<DateTime<Utc>>,
    /// Failed runs in a row.
    pub failures: u32,
    pub last: Option<Arc<Outcome>>,
    /// Recent latencies in ms, oldest first.
    pub latencies: Vec<u64>,
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
    pub uptime_hour: Option<f64>,
    pub uptime_day: Option<f64>,
    /// Newest first.
    pub transitions: Vec<TransitionView>,
}

impl CheckView {
    /// A check before its first result.
    pub fn pending(spec: &CheckSpec, index: usize) -> CheckView {
        CheckView {
            index,
            name: crate::util::sanitize::sanitize_str(&spec.name),
            kind: spec.kind(),
            target: crate::util::sanitize::sanitize_str(&spec.target_text()),
            every: spec.every,
            severity: spec.severity,
            conditions: spec.conditions.iter().map(|c| crate::util::sanitize::sanitize_str(&c.text)).collect(),
            default_conditions: spec.default_conditions,
            fail_after: spec.fail_after,
            parent: None,
            status: Status::Pending,
            since: None,
            failures: 0,
            last: None,
            latencies: Vec::new(),
            p50_ms: None,
            p95_ms: None,
            uptime_hour: None,
            uptime_day: None,
            transitions: Vec::new(),
        }
    }

    /// The last latency in ms.
    pub fn latency_ms(&self) -> Option<u64> {
        self.last.as_ref().and_then(|o| o.latency).map(|l| l.as_millis() as u64)
    }

    /// The message line: the last result, or why there is none yet.
    pub fn message(&self) -> String {
        match (&self.last, self.status) {
            (None, _) if self.kind == "system" && self.target == "cpu" => "measuring…".into(),
            (None, _) => "waiting for the first run".into(),
            (Some(last), Status::Pending) if !last.is_ok() => {
                format!("{} ({}/{} failures before alerting)", last.message, self.failures, self.fail_after)
            }
            (Some(last), Status::Ok) if !last.is_ok() => {
                format!("{} ({}/{} failures before alerting)", last.message, self.failures, self.fail_after)
            }
            (Some(last), Status::Suppressed) => {
                format!("{} (suppressed: {} is down)", last.message, self.parent.as_deref().unwrap_or("parent"))
            }
            (Some(last), _) => last.message.clone(),
        }
    }
}
