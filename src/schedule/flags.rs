//! Which tasks need a look: the last run failed, or a run is overdue.

use super::history::{Outcome, RunRecord};
use super::plan::Task;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How long after its time a run may start before it counts as missed.
pub const START_GRACE_MINUTES: i64 = 5;

/// A task's state at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TaskState {
    /// Nothing is recorded for it, so whether it ran is unknown.
    NoHistory,
    Ok,
    Running,
    Failed {
        exit_code: Option<i32>,
    },
    /// It was due at `due` and no run started then.
    Missed {
        due: DateTime<Utc>,
    },
}

impl TaskState {
    /// Symbol and word, readable without colour.
    pub fn label(&self) -> String {
        match self {
            TaskState::NoHistory => "· no runs".into(),
            TaskState::Ok => "✓ ok".into(),
            TaskState::Running => "… running".into(),
            TaskState::Failed { exit_code: Some(code) } => format!("✗ failed ({code})"),
            TaskState::Failed { exit_code: None } => "✗ failed".into(),
            TaskState::Missed { .. } => "! missed".into(),
        }
    }

    pub fn needs_attention(&self) -> bool {
        matches!(self, TaskState::Failed { .. } | TaskState::Missed { .. })
    }
}

/// The state of `task` given its newest recorded run.
///
/// Missed runs are only judged for tasks that have history: without any
/// record, firstwatch cannot tell "not wrapped" from "did not run".
pub fn task_state(task: &Task, latest: Option<&RunRecord>, now: DateTime<Utc>) -> TaskState {
    let Some(latest) = latest else { return TaskState::NoHistory };
    let grace = Duration::minutes(START_GRACE_MINUTES);
    if let Some(due) = task.previous_run(now - grace)
        && latest.started < due - Duration::minutes(1)
        && latest.outcome() != Outcome::Running
    {
        return TaskState::Missed { due };
    }
    match latest.outcome() {
        Outcome::Ok => TaskState::Ok,
        Outcome::Running => TaskState::Running,
        Outcome::Failed => TaskState::Failed { exit_code: latest.exit_code },
    }
}
