//! The tasks and windows to show: from the config and from the host, with
//! their runs over a span of time.

use super::cron::Schedule;
use crate::config::Config;
use crate::util::zone::Zone;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Where a task was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum Origin {
    Config,
    /// The user's own crontab (`crontab -l`).
    UserCrontab,
    /// `/etc/crontab` or a file under `/etc/cron.d`.
    SystemCrontab(String),
    /// A systemd timer unit.
    SystemdTimer(String),
}

impl Origin {
    /// A short label for tables: "config", "crontab", "cron.d/x", "systemd".
    pub fn label(&self) -> String {
        match self {
            Origin::Config => "config".into(),
            Origin::UserCrontab => "crontab".into(),
            Origin::SystemCrontab(path) => match path.strip_prefix("/etc/") {
                Some(rest) => rest.to_string(),
                None => path.clone(),
            },
            Origin::SystemdTimer(_) => "systemd".into(),
        }
    }
}

/// When a task runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Timing {
    Cron(Schedule),
    /// A systemd timer: its calendar spec is systemd's own, so only the elapses systemd reports are known.
    Timer {
        next: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: String,
    pub timing: Timing,
    pub zone: Zone,
    /// What firstwatch can run on demand (config tasks with `run`).
    pub argv: Vec<String>,
    /// The folder `argv` runs in (`dir`, relative to the config); `None`: firstwatch's own.
    pub dir: Option<std::path::PathBuf>,
    /// Set on top of firstwatch's environment when `argv` runs.
    pub env: std::collections::BTreeMap<String, String>,
    /// The command as the host runs it (imported tasks).
    pub command: Option<String>,
    /// The user an imported system task runs as.
    pub user: Option<String>,
    pub expected: Option<std::time::Duration>,
    pub description: Option<String>,
    pub origin: Origin,
}

impl Task {
    /// Runs in `(from, until]`, at most `limit`.
    pub fn runs_between(&self, from: DateTime<Utc>, until: DateTime<Utc>, limit: usize) -> Vec<DateTime<Utc>> {
        match &self.timing {
            Timing::Cron(schedule) => {
                schedule.runs_after(from, self.zone).take_while(|at| *at <= until).take(limit).collect()
            }
            Timing::Timer { next, .. } => next.iter().copied().filter(|at| *at > from && *at <= until).collect(),
        }
    }

    pub fn next_runs(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        match &self.timing {
            Timing::Cron(schedule) => schedule.runs_after(after, self.zone).take(count).collect(),
            Timing::Timer { next, .. } => next.iter().copied().filter(|at| *at > after).take(count).collect(),
        }
    }

    /// The latest scheduled time at or before `until`, looking back at most 40 days.
    pub fn previous_run(&self, until: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.timing {
            Timing::Cron(schedule) => {
                // Short look-backs first, so a frequent task costs a few steps, not thousands.
                [2, 26, 8 * 24, 40 * 24].iter().find_map(|hours| {
                    schedule.runs_after(until - Duration::hours(*hours), self.zone).take_while(|at| *at <= until).last()
                })
            }
            Timing::Timer { last, .. } => *last,
        }
    }

    /// What running this task on demand runs.
    pub fn command(&self) -> super::runner::TaskCommand {
        super::runner::TaskCommand { argv: self.argv.clone(), dir: self.dir.clone(), env: self.env.clone() }
    }

    /// The expression as written, or "systemd timer".
    pub fn spec(&self) -> String {
        match &self.timing {
            Timing::Cron(schedule) => schedule.text().to_string(),
            Timing::Timer { .. } => "systemd timer".into(),
        }
    }

    pub fn describe(&self) -> String {
        match &self.timing {
            Timing::Cron(schedule) => schedule.describe(),
            Timing::Timer { .. } => "As its systemd timer says (see systemctl list-timers)".into(),
        }
    }
}

/// A maintenance window: a cron start and a length.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub name: String,
    pub schedule: Schedule,
    pub zone: Zone,
    pub length: Duration,
    /// What each occurrence silences in Alertmanager (`[[window]] silence`); empty for none.
    pub silence: Vec<crate::engine::matcher::Matcher>,
}

/// One occurrence of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// Occurrences that overlap `[from, until)`.
    pub fn spans(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Span> {
        self.schedule
            .runs_after(from - self.length, self.zone)
            .take_while(|start| *start < until)
            .map(|start| Span { start, end: start + self.length })
            .filter(|span| span.end > from)
            .take(10_000)
            .collect()
    }

    /// The occurrence in force at `now` (the one that ends last if several overlap).
    pub fn active_at(&self, now: DateTime<Utc>) -> Option<Span> {
        self.schedule
            .runs_after(now - self.length, self.zone)
            .take_while(|start| *start <= now)
            .take(10_000)
            .last()
            .map(|start| Span { start, end: start + self.length })
    }

    pub fn next_after(&self, now: DateTime<Utc>) -> Option<Span> {
        self.schedule.next_after(now, self.zone).map(|start| Span { start, end: start + self.length })
    }
}

/// A run due at `at` of the task at index `task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub task: usize,
}

/// Everything on the calendar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub tasks: Vec<Task>,
    pub windows: Vec<Window>,
}

impl Plan {
    /// The config's tasks and windows; the config has been validated, so a bad one is skipped.
    pub fn from_config(config: &Config) -> Plan {
        let default_zone = config.settings.zone();
        let tasks = config
            .tasks
            .iter()
            .filter_map(|task| {
                let schedule = Schedule::parse(task.cron.get_ref()).ok()?;
                Some(Task {
                    name: task.name.get_ref().clone(),
                    timing: Timing::Cron(schedule),
                    zone: task.zone(default_zone),
                    argv: task.argv().to_vec(),
                    dir: task.dir.as_ref().map(|dir| config.resolve(dir.get_ref())),
                    env: task.env.clone(),
                    command: None,
                    user: None,
                    expected: task.duration.map(|d| d.get()),
                    description: task.description.clone(),
                    origin: Origin::Config,
                })
            })
            .collect();
        let windows = config
            .windows
            .iter()
            .filter_map(|window| {
                Some(Window {
                    name: window.name.get_ref().clone(),
                    schedule: Schedule::parse(window.cron.get_ref()).ok()?,
                    zone: window.zone(default_zone),
                    length: Duration::from_std(window.duration.get()).ok()?,
                    silence: window.silence_matchers(),
                })
            })
            .collect();
        Plan { tasks, windows }
    }

    /// Every run in `(from, until]`, in time order (each task capped at `per_task`).
    pub fn agenda(&self, from: DateTime<Utc>, until: DateTime<Utc>, per_task: usize) -> Vec<Due> {
        let mut due: Vec<Due> = self
            .tasks
            .iter()
            .enumerate()
            .flat_map(|(index, task)| {
                task.runs_between(from, until, per_task).into_iter().map(move |at| Due { at, task: index })
            })
            .collect();
        due.sort_by(|a, b| a.at.cmp(&b.at).then(a.task.cmp(&b.task)));
        due
    }

    /// The window in force at `now` that ends last, with its occurrence.
    pub fn active_window(&self, now: DateTime<Utc>) -> Option<(&Window, Span)> {
        self.windows
            .iter()
            .filter_map(|window| window.active_at(now).map(|span| (window, span)))
            .max_by_key(|(_, span)| span.end)
    }

    /// Whether `at` falls inside any window.
    pub fn in_window(&self, at: DateTime<Utc>) -> Option<&Window> {
        self.windows.iter().find(|window| window.active_at(at).is_some())
    }

    pub fn task(&self, name: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.name == name)
    }
}
