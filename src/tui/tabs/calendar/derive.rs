//! What the calendar shows, worked out from the plan, the recorded runs and
//! the clock: per-day marks for the month and the rows of a day's agenda.
//! Computed when something changes, never while drawing.

use crate::schedule::flags::{TaskState, task_state};
use crate::schedule::{Outcome, Plan, RunRecord};
use crate::util::zone::Zone;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use std::collections::HashMap;

/// A day on the month grid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayMarks {
    /// Runs scheduled that day (past and future).
    pub due: u32,
    pub ok: u32,
    pub failed: u32,
    /// A maintenance window overlaps the day.
    pub window: bool,
}

/// What happened (or will) at one agenda row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    /// Still ahead.
    Upcoming,
    Ran {
        outcome: Outcome,
        exit_code: Option<i32>,
        took: Option<std::time::Duration>,
    },
    /// It was due and no run is recorded, for a task that does record its runs.
    Missed,
    /// In the past, and the task keeps no history.
    Unknown,
}

impl RowState {
    pub fn label(&self) -> String {
        match self {
            RowState::Upcoming => "next".into(),
            RowState::Ran { outcome: Outcome::Failed, exit_code: Some(code), .. } => format!("✗ exit {code}"),
            RowState::Ran { outcome, .. } => outcome.label().into(),
            RowState::Missed => "! missed".into(),
            RowState::Unknown => "· unknown".into(),
        }
    }
}

/// One line of the agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaRow {
    pub at: DateTime<Utc>,
    /// Index into `plan.tasks`, or `None` for a recorded run of a task not on the calendar.
    pub task: Option<usize>,
    pub name: String,
    /// More than a handful of runs that day are folded into one row.
    pub folded: Option<u32>,
    pub state: RowState,
    pub in_window: Option<String>,
}

/// Runs per task per day above which the day shows one summary row.
const FOLD_ABOVE: usize = 6;

/// The local day `[start, end)` in UTC.
pub fn day_bounds(day: NaiveDate, zone: Zone) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |date: NaiveDate| {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        zone.from_local_datetime(&midnight)
            .earliest()
            // Midnight skipped by DST: the day starts an hour later.
            .or_else(|| zone.from_local_datetime(&(midnight + Duration::hours(1))).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc())
    };
    (start(day), start(day.succ_opt().unwrap_or(day)))
}

/// The run that answers a scheduled time: started from a minute before it until 30 minutes after.
fn matching_run<'a>(runs: &[&'a RunRecord], at: DateTime<Utc>) -> Option<&'a RunRecord> {
    runs.iter()
        .copied()
        .find(|run| run.started >= at - Duration::minutes(1) && run.started < at + Duration::minutes(30))
}

pub fn agenda_rows(plan: &Plan, runs: &[RunRecord], day: NaiveDate, zone: Zone, now: DateTime<Utc>) -> Vec<AgendaRow> {
    let (start, end) = day_bounds(day, zone);
    let mut rows = Vec::new();
    let day_runs: Vec<&RunRecord> = runs.iter().filter(|r| r.started >= start && r.started < end).collect();
    let mut matched = std::collections::HashSet::new();
    for (index, task) in plan.tasks.iter().enumerate() {
        let times = task.runs_between(start - Duration::seconds(1), end - Duration::seconds(1), 2000);
        let own: Vec<&RunRecord> = day_runs.iter().copied().filter(|r| r.task == task.name).collect();
        let keeps_history = runs.iter().any(|r| r.task == task.name);
        if times.len() > FOLD_ABOVE {
            matched.extend(own.iter().map(|r| r.id));
            let failed = own.iter().filter(|r| r.outcome() == Outcome::Failed).count();
            let next = times.iter().copied().find(|t| *t > now);
            let state = match (own.last(), failed) {
                (Some(run), 0) => {
                    RowState::Ran { outcome: run.outcome(), exit_code: run.exit_code, took: run.duration() }
                }
                (Some(_), _) => RowState::Ran {
                    outcome: Outcome::Failed,
                    exit_code: own.iter().rev().find(|r| r.outcome() == Outcome::Failed).and_then(|r| r.exit_code),
                    took: None,
                },
                (None, _) if next.is_some() => RowState::Upcoming,
                (None, _) => RowState::Unknown,
            };
            rows.push(AgendaRow {
                at: next.unwrap_or(times[0]),
                task: Some(index),
                name: task.name.clone(),
                folded: Some(times.len() as u32),
                state,
                in_window: None,
            });
            continue;
        }
        for at in times {
            let state = if at > now {
                RowState::Upcoming
            } else if let Some(run) = matching_run(&own, at) {
                matched.insert(run.id);
                RowState::Ran { outcome: run.outcome(), exit_code: run.exit_code, took: run.duration() }
            } else if keeps_history && at < now - Duration::minutes(crate::schedule::flags::START_GRACE_MINUTES) {
                RowState::Missed
            } else if keeps_history {
                RowState::Upcoming
            } else {
                RowState::Unknown
            };
            rows.push(AgendaRow {
                at,
                task: Some(index),
                name: task.name.clone(),
                folded: None,
                state,
                in_window: plan.in_window(at).map(|w| w.name.clone()),
            });
        }
    }
    // Runs recorded that day that no scheduled time explains (on demand, or unknown tasks).
    for run in day_runs.iter().filter(|r| !matched.contains(&r.id)) {
        rows.push(AgendaRow {
            at: run.started,
            task: plan.tasks.iter().position(|t| t.name == run.task),
            name: run.task.clone(),
            folded: None,
            state: RowState::Ran { outcome: run.outcome(), exit_code: run.exit_code, took: run.duration() },
            in_window: plan.in_window(run.started).map(|w| w.name.clone()),
        });
    }
    rows.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// Marks for every day of `month` (the month containing `any_day`), index 0 = day 1.
pub fn month_marks(plan: &Plan, runs: &[RunRecord], any_day: NaiveDate, zone: Zone) -> Vec<DayMarks> {
    let first = any_day.with_day(1).unwrap_or(any_day);
    let next_month = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .unwrap_or(first);
    let days = (next_month - first).num_days().max(1) as usize;
    let mut marks = vec![DayMarks::default(); days];
    let (start, _) = day_bounds(first, zone);
    let (end, _) = day_bounds(next_month, zone);
    let day_of = |at: DateTime<Utc>| at.with_timezone(&zone).day0() as usize;
    for task in &plan.tasks {
        for at in task.runs_between(start - Duration::seconds(1), end - Duration::seconds(1), 50_000) {
            if let Some(mark) = marks.get_mut(day_of(at)) {
                mark.due += 1;
            }
        }
    }
    for run in runs.iter().filter(|r| r.started >= start && r.started < end) {
        if let Some(mark) = marks.get_mut(day_of(run.started)) {
            match run.outcome() {
                Outcome::Failed => mark.failed += 1,
                Outcome::Ok => mark.ok += 1,
                Outcome::Running => {}
            }
        }
    }
    for window in &plan.windows {
        for span in window.spans(start, end) {
            let mut at = span.start.max(start);
            while at < span.end.min(end) {
                if let Some(mark) = marks.get_mut(day_of(at)) {
                    mark.window = true;
                }
                at += Duration::hours(1);
            }
        }
    }
    marks
}

/// Each task's state, keyed by name.
pub fn task_states(plan: &Plan, runs: &[RunRecord], now: DateTime<Utc>) -> HashMap<String, TaskState> {
    let mut latest: HashMap<&str, &RunRecord> = HashMap::new();
    for run in runs {
        latest.insert(run.task.as_str(), run);
    }
    plan.tasks
        .iter()
        .map(|task| (task.name.clone(), task_state(task, latest.get(task.name.as_str()).copied(), now)))
        .collect()
}
