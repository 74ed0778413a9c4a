//! What the engine reports about one check: everything a screen or a script
//! needs, already computed, so drawing does no work beyond layout.

use super::outcome::{Level, Outcome, SeriesResult};
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
    /// The last run failed but the failure is not yet confirmed (`fail_after`, `fail_for`).
    Failing,
    Warning,
    Unknown,
    Critical,
    /// Failing while the latest run of the check it depends on fails too.
    Suppressed,
}

impl Status {
    pub fn is_failing(self) -> bool {
        matches!(self, Status::Failing | Status::Warning | Status::Unknown | Status::Critical | Status::Suppressed)
    }

    /// Worst first: the order of the default sort.
    pub fn rank(self) -> u8 {
        match self {
            Status::Critical => 0,
            Status::Unknown => 1,
            Status::Warning => 2,
            Status::Failing => 3,
            Status::Suppressed => 4,
            Status::Pending => 5,
            Status::Ok => 6,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Ok => "ok",
            Status::Failing => "failing",
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
            Status::Failing => "!",
            Status::Warning => "▲",
            Status::Unknown => "?",
            Status::Critical => "✗",
            Status::Suppressed => "↳",
        }
    }
}

/// The usual latency the slow rule compares against, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineView {
    /// `None` until there is enough history to say.
    pub usual_ms: Option<u32>,
    /// "fixed", or the window of the median: "median of 24h".
    pub source: String,
    pub factor: f64,
    pub sustained: Duration,
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
    /// The engine a `promql` or `targets` check asks.
    pub engine: Option<String>,
    pub every: Duration,
    pub severity: Severity,
    pub conditions: Vec<String>,
    pub default_conditions: bool,
    pub fail_after: u32,
    pub fail_for: Option<Duration>,
    pub parent: Option<String>,
    /// Failing, and the check it depends on is being run first to see whether it is the cause.
    pub waiting_for_parent: bool,
    pub status: Status,
    pub since: Option<DateTime<Utc>>,
    /// Failed runs in a row.
    pub failures: u32,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    pub last: Option<Arc<Outcome>>,
    /// Recent latencies in µs, oldest first.
    pub latencies: Vec<u64>,
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
    pub uptime_hour: Option<f64>,
    pub uptime_day: Option<f64>,
    /// What "normal" latency means for the slow rule, when the check has one.
    pub baseline: Option<BaselineView>,
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
            engine: spec.engine_name().map(crate::util::sanitize::sanitize_str),
            every: spec.every,
            severity: spec.severity,
            conditions: spec.conditions.iter().map(|c| crate::util::sanitize::sanitize_str(&c.text)).collect(),
            default_conditions: spec.default_conditions,
            fail_after: spec.fail_after,
            fail_for: spec.fail_for,
            parent: None,
            waiting_for_parent: false,
            status: Status::Pending,
            since: None,
            failures: 0,
            failing_since: None,
            last: None,
            latencies: Vec::new(),
            p50_ms: None,
            p95_ms: None,
            uptime_hour: None,
            uptime_day: None,
            baseline: None,
            transitions: Vec::new(),
        }
    }

    /// The state in words: "failing 1/2" while a failure is not yet confirmed.
    pub fn status_text(&self) -> String {
        match self.status {
            Status::Failing if self.waiting_for_parent => {
                format!("failing, checking {} first", self.parent.as_deref().unwrap_or("its parent"))
            }
            Status::Failing => format!("failing {}", self.progress()),
            status => status.label().to_string(),
        }
    }

    /// How far an unconfirmed failure has come: "1/2", or "40s of 1m00s" once only `fail_for` is left.
    fn progress(&self) -> String {
        let lasted = match (self.fail_for, self.failing_since, &self.last) {
            (Some(need), Some(since), Some(last)) if self.failures >= self.fail_after => {
                Some(((last.at - since).to_std().unwrap_or_default(), need))
            }
            _ => None,
        };
        match lasted {
            Some((lasted, need)) => {
                let lasted = match lasted.as_secs() {
                    0 => "0s".to_string(),
                    secs => crate::config::units::format_duration(Duration::from_secs(secs)),
                };
                format!("{lasted} of {}", crate::config::units::format_duration(need))
            }
            None => format!("{}/{}", self.failures, self.fail_after),
        }
    }

    /// The series of the last run (a `promql` or `targets` check), each its own row.
    pub fn series(&self) -> &[SeriesResult] {
        self.last.as_ref().map_or(&[], |o| o.series.as_slice())
    }

    /// The state shown for one series: its own verdict, held back as the check's is
    /// (failing while the check's failure is unconfirmed, suppressed with the check).
    pub fn series_status(&self, series: &SeriesResult) -> Status {
        match (series.level, self.status) {
            (Level::Ok, _) => Status::Ok,
            (_, Status::Failing | Status::Suppressed) => self.status,
            (_, Status::Pending | Status::Ok) => Status::Failing,
            (Level::Warning, _) => Status::Warning,
            (Level::Unknown, _) => Status::Unknown,
            (Level::Critical, _) => Status::Critical,
        }
    }

    /// One series' message, with what holds it back, as [`CheckView::message`] says it for the check.
    pub fn series_message(&self, series: &SeriesResult) -> String {
        if series.level == Level::Ok {
            return series.message.clone();
        }
        match self.status {
            Status::Failing if self.waiting_for_parent => {
                format!("{} (checking {} first)", series.message, self.parent.as_deref().unwrap_or("its parent"))
            }
            Status::Failing => format!("{} ({} before alerting)", series.message, self.progress()),
            Status::Suppressed => {
                format!("{} (suppressed: {} is down)", series.message, self.parent.as_deref().unwrap_or("parent"))
            }
            _ => series.message.clone(),
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
            (Some(last), Status::Failing) if self.waiting_for_parent => {
                format!("{} (checking {} first)", last.message, self.parent.as_deref().unwrap_or("its parent"))
            }
            (Some(last), Status::Failing) => format!("{} ({} before alerting)", last.message, self.progress()),
            (Some(last), Status::Suppressed) => {
                format!("{} (suppressed: {} is down)", last.message, self.parent.as_deref().unwrap_or("parent"))
            }
            (Some(last), _) => last.message.clone(),
        }
    }
}
