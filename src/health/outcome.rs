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
