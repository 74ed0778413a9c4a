//! What one run of one check found.

use serde::Serialize;
use std::time::Duration;

/// How a single run went. Ordered from best to worst for sorting and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warning,
    /// The check could not be run at all (a missing program, an unset variable).
    Unknown,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Unknown => "unknown",
            Level::Critical => "critical",
        }
    }

    /// The Nagios plugin exit code for this level.
    pub fn exit_code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
            Level::Unknown => 3,
        }
    }
}

/// The answer of an HTTP check, kept for the detail pane (already sanitised).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The first lines of the body, sanitised, at most a few hundred characters each.
    pub body_lines: Vec<String>,
    pub body_bytes: usize,
    /// The body was cut at the configured limit.
    pub truncated: bool,
    pub redirects: u32,
}

/// One series of a check that returns many (a PromQL query, the down targets of an engine):
/// each is judged on its own, and the check's level is the worst of them.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    /// The row's name: the check's name and the labels that tell its series apart
    /// (`gpu memory{Hostname="gpu-a",gpu="0"}`), already sanitised.
    pub name: String,
    /// The same with label values only (`gpu memory{gpu-a,0}`), for narrow tables.
    pub short: String,
    /// Every label of the series, as the engine sent them (sanitise before drawing).
    pub labels: crate::engine::Labels,
    /// The sample's value (NaN and the infinities included); `None` for a target.
    pub value: Option<f64>,
    pub level: Level,
    /// One line for people, already sanitised: "value 0.42" or what failed.
    pub message: String,
    /// Indexes into the check's conditions of those that failed for this series.
    pub failed: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub level: Level,
    pub latency: Option<Duration>,
    /// One line for people, already sanitised: "200 OK in 35ms" or what failed.
    pub message: String,
    /// Indexes into the check's conditions of those that failed.
    pub failed: Vec<usize>,
    pub response: Option<Response>,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Per-series results of a `promql` or `targets` check (empty for other kinds, and
    /// when the engine could not be read: then the check itself is unknown).
    pub series: Vec<SeriesResult>,
}

impl Outcome {
    pub fn new(level: Level, message: impl Into<String>) -> Outcome {
        Outcome {
            level,
            latency: None,
            message: crate::util::sanitize::sanitize_str(&message.into()),
            failed: Vec::new(),
            response: None,
            at: chrono::Utc::now(),
            series: Vec::new(),
        }
    }

    pub fn with_latency(mut self, latency: Duration) -> Outcome {
        self.latency = Some(latency);
        self
    }

    pub fn is_ok(&self) -> bool {
        self.level == Level::Ok
    }
}
