//! The backups tab: every set with its backups, newest first; verification in
//! the background with progress; a contents pane; and a restore that the user
//! confirms by typing the set's name.
//!
//! State changes only here (pure); `engine.rs` does the I/O the effects ask for.

mod copy;
mod dialog;
mod engine;
mod view;

pub use engine::{execute, start};

use super::{TabCtx, ViewCtx};
use crate::backup::compare::Comparison;
use crate::backup::contents::Contents;
use crate::backup::overview::{BackupState, SetState};
use crate::backup::restore::{Outcome, Plan};
use crate::backup::{BackupEntry, Cancel, Status, Verification};
use crate::ops::confirm::{Confirmed, NewBackup};
use crate::tui::action::Action;
use crossterm::event::KeyEvent;
use dialog::RestoreDialog;
use ratatui::Frame;
use ratatui::layout::Rect;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct BackupsTab {
    /// Whether the config has any `[[backup]]` (false: the tab says how to add one).
    configured: bool,
    sets: Arc<Vec<SetState>>,
    /// Results that arrived since the last listing, by (set, name).
    fresh_results: HashMap<(String, String), Verification>,
    selected: usize,
    job: Option<VerifyJob>,
    contents: ContentsPane,
    dialog: Option<RestoreDialog>,
    /// A new backup asked for with `b`, waiting for the operator's `y`.
    pending_create: Option<PendingCreate>,
    /// The last thing that finished, for the footer: "verified 12: 1 corrupt".
    notice: Option<String>,
    /// The minute last drawn, so ages are redrawn once a minute and no more.
    minute: i64,
    /// Numbers verification jobs, so a cancelled job's late reports are ignored.
    generation: u64,
    /// Where the list's rows were last drawn, for mouse clicks.
    hits: std::cell::Cell<super::ListHits>,
}

/// A new backup waiting for `y` (any other key: not made).
#[derive(Debug)]
struct PendingCreate {
    set: String,
    /// Keys count only once the question has been on screen (type-ahead is not an answer).
    armed: bool,
}

/// A background verification of one or more backups.
#[derive(Debug)]
struct VerifyJob {
    generation: u64,
    total: usize,
    done: usize,
    corrupt: usize,
    /// The backup being read now, and how far.
    current: Option<(String, String, u8)>,
    cancel: Cancel,
}

#[derive(Debug, Default)]
struct ContentsPane {
    key: Option<(String, String)>,
    state: PaneState,
    scroll: u16,
    focused: bool,
}

#[derive(Debug, Default, PartialEq)]
enum PaneState {
    #[default]
    Empty,
    Loading,
    Ready(Arc<Contents>),
    Compared(Arc<Comparison>),
    Failed(String),
}

/// What this tab's sources report.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Listed(Arc<Vec<SetState>>),
    VerifyProgress { generation: u64, set: String, name: String, percent: u8 },
    Verified { generation: u64, set: String, name: String, result: Option<Verification> },
    VerifyDone { generation: u64 },
    Contents { set: String, name: String, result: Result<Arc<Contents>, String> },
    Compared { set: String, name: String, result: Result<Arc<Comparison>, String> },
    Planned { set: String, name: String, result: Result<Arc<Plan>, String> },
    RestoreProgress { percent: u8 },
    Restored { result: Result<Arc<Outcome>, String> },
    Created { set: String, result: Result<String, String> },
}

/// What keys can be bound to in `[keys.backups]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    Verify,
    VerifyAll,
    CancelVerify,
    Restore,
    Compare,
    Create,
    Rescan,
}

impl Command {
    pub const ALL: &'static [Command] = &[
        Command::Verify,
        Command::VerifyAll,
        Command::CancelVerify,
        Command::Restore,
        Command::Compare,
        Command::Create,
        Command::Rescan,
    ];

    pub fn describe(&self) -> String {
        match self {
            Command::Verify => "verify the selected backup or set".into(),
            Command::VerifyAll => "verify every backup".into(),
            Command::CancelVerify => "cancel the running verification".into(),
            Command::Restore => "restore the selected backup (confirmed)".into(),
            Command::Compare => "compare the backup with its target now".into(),
            Command::Create => "back up the selected set's source now (asks y first)".into(),
            Command::Rescan => "list the backup folders again".into(),
        }
    }
}

/// Work this tab asks the runtime for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Rescan,
    Verify {
        generation: u64,
        jobs: Vec<(String, BackupEntry)>,
        cancel: Cancel,
    },
    CancelVerify(Cancel),
    LoadContents {
        set: String,
        name: String,
        path: PathBuf,
    },
    Compare {
        set: String,
        name: String,
        path: PathBuf,
    },
    PlanRestore {
        set: String,
        entry: BackupEntry,
    },
    /// A restore the operator confirmed in the dialog.
    Restore {
        confirmed: Arc<Confirmed<Plan>>,
    },
    /// A new backup the operator confirmed with `y`.
    Create {
        confirmed: Confirmed<NewBackup>,
    },
    /// A restore asked for and not run (refused or cancelled): still an audit row.
    AuditNotRun {
        set: String,
        target: Option<PathBuf>,
        event: &'static str,
        reason: String,
    },
}

pub fn default_keys() -> Vec<(&'static str, Command)> {
    vec![
        ("v", Command::Verify),
        ("V", Command::VerifyAll),
        ("x", Command::CancelVerify),
        ("r", Command::Restore),
        ("c", Command::Compare),
        ("b", Command::Create),
        ("R", Command::Rescan),
    ]
}

/// One line of the list: a set's header or one of its backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Set(usize),
    Backup(usize, usize),
}

impl BackupsTab {
    fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for (s, set) in self.sets.iter().enumerate() {
            rows.push(Row::Set(s));
            rows.extend((0..set.backups.len()).map(|b| Row::Backup(s, b)));
        }
        rows
    }

    fn selected_row(&self) -> Option<Row> {
        self.rows().get(self.selected).copied()
    }

    fn selected_backup(&self) -> Option<(&SetState, &BackupState)> {
        match self.selected_row()? {
            Row::Backup(s, b) => {
                let set = self.sets.get(s)?;
                Some((set, set.backups.get(b)?))
            }
            Row::Set(_) => None,
        }
    }

    /// A backup's status now: in progress, or the newest result known.
    fn status_of(&self, set: &str, backup: &BackupState) -> Status {
        if let Some(job) = &self.job
            && let Some((s, n, percent)) = &job.current
            && s == set
            && n == &backup.entry.name
        {
            return Status::Verifying(*percent);
        }
        match self.fresh_results.get(&(set.to_string(), backup.entry.name.clone())) {
            Some(result) => Status::of(&backup.entry, Some(result)),
            None => backup.status(),
        }
    }

    pub fn on_msg(&mut self, msg: Msg, ctx: &mut TabCtx) -> Vec<Effect> {
        match msg {
            Msg::Listed(sets) => {
                let keep = self.selected_key();
                self.sets = sets;
                // A stale or corrupt backup set is a health signal on every tab, like a failing check.
                ctx.status.backups = overdue(&self.sets, ctx.wall);
                self.fresh_results.retain(|(set, name), result| {
                    // A newer listing carries results from the store; keep only what it lacks.
                    let listed = self.sets.iter().find(|s| &s.name == set).and_then(|s| s.find(name));
                    listed.is_some_and(|b| b.last.as_ref().is_none_or(|last| last.verified_at < result.verified_at))
                });
                self.reselect(keep);
            }
            Msg::VerifyProgress { generation, set, name, percent } => {
                if let Some(job) = self.job.as_mut().filter(|j| j.generation == generation) {
                    job.current = Some((set, name, percent));
                }
            }
            Msg::Verified { generation, set, name, result } => {
                if let Some(job) = self.job.as_mut().filter(|j| j.generation == generation) {
                    job.done += 1;
                    job.current = None;
                    if let Some(result) = result {
                        job.corrupt += usize::from(!result.ok);
                        self.fresh_results.insert((set, name), result);
                    }
                }
            }
            Msg::VerifyDone { generation } => {
                if let Some(job) = self.job.take_if(|j| j.generation == generation) {
                    let verdict =
                        if job.corrupt == 0 { "all good".to_string() } else { format!("{} CORRUPT", job.corrupt) };
                    let cancelled = if job.done < job.total { " (cancelled)" } else { "" };
                    self.notice = Some(format!("verified {} of {}: {verdict}{cancelled}", job.done, job.total));
                    // The set headers (last good backup, freshness) follow the new results.
                    return vec![Effect::Rescan];
                }
            }
            Msg::Contents { set, name, result } => {
                if self.contents.key.as_ref() == Some(&(set, name)) {
                    self.contents.state = match result {
                        Ok(contents) => PaneState::Ready(contents),
                        Err(reason) => PaneState::Failed(reason),
                    };
                }
            }
            Msg::Compared { set, name, result } => {
                if self.contents.key.as_ref() == Some(&(set, name)) {
                    self.contents.state = match result {
                        Ok(comparison) => PaneState::Compared(comparison),
                        Err(reason) => PaneState::Failed(reason),
                    };
                }
            }
            Msg::Planned { set, name, result } => {
                if let Some(dialog) = self.dialog.as_mut().filter(|d| d.set == set && d.name == name) {
                    dialog.planned(result);
                }
            }
            Msg::RestoreProgress { percent } => {
                if let Some(dialog) = self.dialog.as_mut() {
                    dialog.progress = Some(percent);
                }
            }
            Msg::Created { set, result } => {
                self.notice = Some(match result {
                    Ok(summary) => format!("created a backup of {set}: {summary}"),
                    Err(reason) => format!("backup of {set} failed: {reason}"),
                });
                return vec![Effect::Rescan];
            }
            Msg::Restored { result } => {
                let message = match &result {
                    Ok(outcome) => format!("restored {}", outcome.target.display()),
                    Err(reason) => format!("restore failed: {reason}"),
                };
                if result.is_err() {
                    ctx.status.last_error = Some(crate::util::sanitize::sanitize_str(&message));
                }
                self.notice = Some(message);
                if let Some(dialog) = self.dialog.as_mut() {
                    dialog.finished(result);
                }
                return vec![Effect::Rescan];
            }
        }
        Vec::new()
    }

    fn selected_key(&self) -> Option<(String, Option<String>)> {
        match self.selected_row()? {
            Row::Set(s) => Some((self.sets.get(s)?.name.clone(), None)),
            Row::Backup(s, b) => {
                let set = self.sets.get(s)?;
                Some((set.name.clone(), Some(set.backups.get(b)?.entry.name.clone())))
            }
        }
    }

    /// Keeps the same set or backup selected when the list changes under it.
    fn reselect(&mut self, key: Option<(String, Option<String>)>) {
        let rows = self.rows();
        let found = key.and_then(|(set, name)| {
            rows.iter().position(|row| match (row, &name) {
                (Row::Set(s), None) => self.sets[*s].name == set,
                (Row::Backup(s, b), Some(name)) => {
                    self.sets[*s].name == set && &self.sets[*s].backups[*b].entry.name == name
                }
                _ => false,
            })
        });
        self.selected = found.unwrap_or(self.selected).min(rows.len().saturating_sub(1));
    }

    pub fn on_command(&mut self, command: Command, ctx: &mut TabCtx) -> Vec<Effect> {
        match command {
            Command::Verify => {
                let jobs = match self.selected_row() {
                    Some(Row::Set(s)) => self.jobs_of(Some(s)),
                    Some(Row::Backup(..)) => self
                        .selected_backup()
                        .map(|(set, b)| vec![(set.name.clone(), b.entry.clone())])
                        .unwrap_or_default(),
                    None => Vec::new(),
                };
                self.start_job(jobs)
            }
            Command::VerifyAll => {
                let jobs = self.jobs_of(None);
                self.start_job(jobs)
            }
            Command::CancelVerify => match &self.job {
                Some(job) => vec![Effect::CancelVerify(job.cancel.clone())],
                None => Vec::new(),
            },
            Command::Rescan => vec![Effect::Rescan],
            Command::Restore => self.open_restore(ctx),
            Command::Create => self.create(ctx),
            Command::Compare => self.compare(),
        }
    }

    fn jobs_of(&self, only: Option<usize>) -> Vec<(String, BackupEntry)> {
        self.sets
            .iter()
            .enumerate()
            .filter(|(s, _)| only.is_none_or(|o| o == *s))
            .flat_map(|(_, set)| set.backups.iter().map(|b| (set.name.clone(), b.entry.clone())))
            .collect()
    }

    fn start_job(&mut self, jobs: Vec<(String, BackupEntry)>) -> Vec<Effect> {
        if jobs.is_empty() {
            return Vec::new();
        }
        if self.job.is_some() {
            self.notice = Some("a verification is already running (x cancels it)".into());
            return Vec::new();
        }
        self.generation += 1;
        let generation = self.generation;
        let cancel = Cancel::new();
        self.job = Some(VerifyJob {
            generation,
            total: jobs.len(),
            done: 0,
            corrupt: 0,
            current: None,
            cancel: cancel.clone(),
        });
        self.notice = None;
        vec![Effect::Verify { generation, jobs, cancel }]
    }

    fn create(&mut self, ctx: &mut TabCtx) -> Vec<Effect> {
        let Some(set) = self.selected_set().map(|set| set.name.clone()) else { return Vec::new() };
        if ctx.read_only {
            self.notice = Some("read-only: creating backups is disabled".into());
            return Vec::new();
        }
        self.pending_create = Some(PendingCreate { set, armed: false });
        Vec::new()
    }

    /// The answer to "back up SET now?": `y` confirms (through `ops::confirm`), any other key does not.
    fn answer_create(&mut self, key: KeyEvent, ctx: &mut TabCtx) -> Vec<Effect> {
        if !self.pending_create.as_ref().is_some_and(|pending| pending.armed) {
            return Vec::new();
        }
        let Some(pending) = self.pending_create.take() else { return Vec::new() };
        let typed = match key.code {
            crossterm::event::KeyCode::Char(c) if key.modifiers.is_empty() => c.to_string(),
            _ => String::new(),
        };
        match crate::ops::confirm::check(&NewBackup { set: pending.set.clone() }, &typed, ctx.read_only) {
            Ok(confirmed) => {
                self.notice = Some(format!("creating a backup of {}…", pending.set));
                vec![Effect::Create { confirmed }]
            }
            Err(_) => {
                self.notice = Some(format!("not backed up: {}", pending.set));
                Vec::new()
            }
        }
    }

    /// The set of the selected row (its header or one of its backups).
    fn selected_set(&self) -> Option<&SetState> {
        match self.selected_row()? {
            Row::Set(s) | Row::Backup(s, _) => self.sets.get(s),
        }
    }

    fn open_restore(&mut self, ctx: &mut TabCtx) -> Vec<Effect> {
        let Some((set, backup)) = self.selected_backup() else {
            self.notice = Some("select a backup to restore".into());
            return Vec::new();
        };
        let (set_name, entry, target) = (set.name.clone(), backup.entry.clone(), set.restore_to.clone());
        if ctx.read_only {
            ctx.status.last_error = Some("read-only: restores are disabled".into());
            self.notice = Some("read-only: restores are disabled (--read-only or settings.read_only)".into());
            return vec![Effect::AuditNotRun {
                set: set_name,
                target,
                event: "restore-refused",
                reason: "read-only mode".into(),
            }];
        }
        let status = self.status_of(&set_name, backup);
        self.dialog = Some(RestoreDialog::new(set_name.clone(), entry.clone(), status));
        vec![Effect::PlanRestore { set: set_name, entry }]
    }

    pub fn on_nav(&mut self, action: &Action, _ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        if !self.configured {
            return None;
        }
        let count = self.rows().len();
        if self.contents.focused {
            let scroll = &mut self.contents.scroll;
            match action {
                Action::Up => *scroll = scroll.saturating_sub(1),
                Action::Down => *scroll = scroll.saturating_add(1),
                Action::PageUp => *scroll = scroll.saturating_sub(10),
                Action::PageDown => *scroll = scroll.saturating_add(10),
                Action::Top => *scroll = 0,
                Action::Left | Action::Close => self.contents.focused = false,
                _ => return None,
            }
            return Some(Vec::new());
        }
        let last = count.saturating_sub(1);
        match action {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(10),
            Action::PageDown => self.selected = (self.selected + 10).min(last),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Right => {
                if self.contents.state != PaneState::Empty {
                    self.contents.focused = true;
                }
            }
            Action::Select => return Some(self.load_contents()),
            _ => return None,
        }
        Some(Vec::new())
    }

    fn compare(&mut self) -> Vec<Effect> {
        let Some((set, backup)) = self.selected_backup() else { return Vec::new() };
        let key = (set.name.clone(), backup.entry.name.clone());
        let path = backup.entry.path.clone();
        self.contents = ContentsPane { key: Some(key.clone()), state: PaneState::Loading, scroll: 0, focused: false };
        vec![Effect::Compare { set: key.0, name: key.1, path }]
    }

    fn load_contents(&mut self) -> Vec<Effect> {
        let Some((set, backup)) = self.selected_backup() else { return Vec::new() };
        let key = (set.name.clone(), backup.entry.name.clone());
        let path = backup.entry.path.clone();
        self.contents = ContentsPane { key: Some(key.clone()), state: PaneState::Loading, scroll: 0, focused: false };
        vec![Effect::LoadContents { set: key.0, name: key.1, path }]
    }

    /// A frame showing this tab was drawn: an open dialog has now been seen.
    pub fn on_frame_drawn(&mut self) {
        if let Some(dialog) = self.dialog.as_mut() {
            dialog.armed = true;
        }
        if let Some(pending) = self.pending_create.as_mut() {
            pending.armed = true;
        }
    }

    pub fn captures_keys(&self) -> bool {
        self.dialog.is_some() || self.pending_create.is_some()
    }

    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut TabCtx) -> Vec<Effect> {
        if self.pending_create.is_some() {
            return self.answer_create(key, ctx);
        }
        let Some(dialog) = self.dialog.as_mut() else { return Vec::new() };
        match dialog.on_key(key, ctx.read_only) {
            dialog::Reply::Stay => Vec::new(),
            dialog::Reply::Close => {
                self.dialog = None;
                Vec::new()
            }
            dialog::Reply::Cancelled { target } => {
                let set = dialog.set.clone();
                self.dialog = None;
                vec![Effect::AuditNotRun {
                    set,
                    target,
                    event: "restore-cancelled",
                    reason: "cancelled in the dialog".into(),
                }]
            }
            dialog::Reply::Run(confirmed) => vec![Effect::Restore { confirmed }],
        }
    }

    pub fn on_tick(&mut self, ctx: &mut TabCtx) -> bool {
        let minute = ctx.wall.timestamp().div_euclid(60);
        if minute == self.minute {
            return false;
        }
        self.minute = minute;
        self.configured
    }

    pub fn render(&self, view: &ViewCtx, frame: &mut Frame, area: Rect) {
        view::render(self, view, frame, area);
    }
}

/// The worst backup set for the status line, judged as `firstwatch backups list` judges it:
/// "backup app db: 1 missed" (warning), "backup app db: 2 corrupt · 3 missed" (critical).
fn overdue(sets: &[SetState], now: chrono::DateTime<chrono::Utc>) -> Option<crate::tui::model::HealthSummary> {
    use crate::backup::assess::{Limits, assess};
    use crate::health::Level;
    sets.iter()
        .map(|set| (set, assess(set, Limits::for_set(set.every, None, None), now)))
        .filter(|(_, verdict)| verdict.level != Level::Ok)
        .max_by_key(|(_, verdict)| verdict.level)
        .map(|(set, verdict)| crate::tui::model::HealthSummary {
            text: format!("backup {}: {}", set.name, verdict.short),
            critical: verdict.level >= Level::Unknown,
        })
}
