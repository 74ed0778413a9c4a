//! The calendar tab: scheduled tasks and maintenance windows on a month
//! calendar, the selected day's agenda, and the selected task's runs.
//!
//! The engine (`crate::schedule`) does the cron work; this module keeps the
//! view state and a cache of what the view shows, rebuilt when the plan, the
//! recorded runs, the selected day or the minute changes.

mod copy;
mod derive;
mod view;
mod week;

use super::{Services, TabCtx, ViewCtx};
use crate::ops::confirm::{self, Confirmed, TaskRun};
use crate::schedule::flags::TaskState;
use crate::schedule::import::{self, Imported};
use crate::schedule::runner::TaskCommand;
use crate::schedule::{Plan, RunRecord, history};
use crate::tui::action::Action;
use crate::tui::tabs::TabMsg;
use crate::util::zone::Zone;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use derive::{AgendaRow, DayMarks};
use ratatui::Frame;
use ratatui::layout::Rect;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// How far back recorded runs are loaded: this month and the one before.
const HISTORY_DAYS: i64 = 62;
/// How often the store is read again for runs recorded by other processes (cron wrappers).
const HISTORY_POLL_SECS: u64 = 15;
/// How often Alertmanager is asked which windows have their silence.
const SILENCES_POLL_SECS: u64 = 60;

/// Whether a window occurrence that asks for a silence (`[[window]] silence`) has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SilenceMark {
    /// A silence with the window's matchers covers it (its id).
    Silenced(String),
    /// None does: `firstwatch schedule silences --apply` creates it.
    Missing,
    /// Alertmanager's silences are not (yet) known.
    Unknown,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Focus {
    #[default]
    Calendar,
    Agenda,
}

/// A run waiting for the user's "y".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRun {
    pub task: String,
    pub command: TaskCommand,
    /// Keys count only once the question has been drawn: a `y` typed ahead (over a
    /// slow link, before the question appeared) is not an answer.
    pub armed: bool,
}

#[derive(Debug, Default)]
pub struct CalendarTab {
    /// Anything to show at all: config tasks/windows, or imported host tasks.
    configured: bool,
    plan: Arc<Plan>,
    /// How many of `plan.tasks` come from the config (the rest are imported).
    configured_tasks: usize,
    import_notes: Vec<String>,
    runs: Arc<Vec<RunRecord>>,
    zone: Option<Zone>,
    now: DateTime<Utc>,
    /// `None` until the first tick says what today is.
    day: Option<NaiveDate>,
    selected_row: usize,
    focus: Focus,
    week_view: bool,
    confirm: Option<PendingRun>,
    /// The last run started from here, and what it came to.
    notice: Option<String>,
    history_error: Option<String>,
    read_only_services: bool,
    // Cache of what the view shows.
    marks: Vec<DayMarks>,
    rows: Vec<AgendaRow>,
    states: HashMap<String, TaskState>,
    minute: i64,
    /// Where the agenda's rows were last drawn, for mouse clicks.
    hits: std::cell::Cell<super::ListHits>,
    /// Alertmanager's silences, read for windows that ask for one; `Err` says why not.
    silences: Option<Result<Arc<Vec<crate::engine::alertmanager::Silence>>, String>>,
    /// Beside `rows`: whether the window a row falls in has its silence.
    row_silences: Vec<Option<SilenceMark>>,
}

/// What this tab's sources report.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Imported(Arc<Imported>),
    History(Arc<Vec<RunRecord>>),
    HistoryFailed(String),
    RunFinished {
        task: String,
        exit_code: i32,
        store_error: Option<String>,
    },
    /// Alertmanager's silences (for the windows' marks), or why they could not be read.
    Silences(Result<Arc<Vec<crate::engine::alertmanager::Silence>>, String>),
}

/// What keys can be bound to in `[keys.calendar]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    PreviousMonth,
    NextMonth,
    Today,
    ToggleWeek,
    RunTask,
    Refresh,
}

impl Command {
    pub const ALL: &'static [Command] = &[
        Command::PreviousMonth,
        Command::NextMonth,
        Command::Today,
        Command::ToggleWeek,
        Command::RunTask,
        Command::Refresh,
    ];

    pub fn describe(&self) -> String {
        match self {
            Command::PreviousMonth => "calendar: previous month",
            Command::NextMonth => "calendar: next month",
            Command::Today => "calendar: back to today",
            Command::ToggleWeek => "calendar: switch between month and week (7 days x 24 hours)",
            Command::RunTask => "calendar: run the selected task now (asks first)",
            Command::Refresh => "calendar: reload runs and the host's crontabs and timers",
        }
        .into()
    }
}

/// Work this tab asks the runtime for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadHistory,
    ImportHost,
    /// A run now the operator confirmed with `y`.
    RunTask(Confirmed<TaskRun>),
}

pub fn default_keys() -> Vec<(&'static str, Command)> {
    vec![
        ("[", Command::PreviousMonth),
        ("]", Command::NextMonth),
        (".", Command::Today),
        ("t", Command::ToggleWeek),
        ("x", Command::RunTask),
        ("r", Command::Refresh),
    ]
}

pub fn start(services: &Services) -> CalendarTab {
    let config = &services.config;
    let plan = Plan::from_config(config);
    let mut tab = CalendarTab::with_plan(plan, config.settings.zone());
    tab.read_only_services = services.read_only;
    execute(Effect::ImportHost, services);
    if tab.plan.windows.iter().any(|w| !w.silence.is_empty()) {
        poll_silences(services);
    }
    if let Some(store) = services.store.clone() {
        let sender = services.sources.clone();
        tokio::spawn(async move {
            let mut last: Option<(i64, usize, Option<DateTime<Utc>>)> = None;
            let mut ticker = tokio::time::interval(std::time::Duration::from_secs(HISTORY_POLL_SECS));
            loop {
                ticker.tick().await;
                let since = Utc::now() - Duration::days(HISTORY_DAYS);
                let msg = match store.call_async(move |c| history::runs_since(c, since, 50_000)).await {
                    Ok(runs) => {
                        // Only report a change, so an idle screen stays idle.
                        let fingerprint = (
                            runs.iter().map(|r| r.id).max().unwrap_or(0),
                            runs.len(),
                            runs.iter().filter_map(|r| r.ended).max(),
                        );
                        if last == Some(fingerprint) {
                            continue;
                        }
                        last = Some(fingerprint);
                        Msg::History(Arc::new(runs))
                    }
                    Err(err) => Msg::HistoryFailed(err.to_string()),
                };
                if sender.send(Action::Msg(TabMsg::Calendar(msg))).await.is_err() {
                    return;
                }
            }
        });
    }
    tab
}

/// Reads Alertmanager's silences now and every minute, reporting only changes.
fn poll_silences(services: &Services) {
    let (engines, _) = crate::engine::Engines::from_config(&services.config);
    let sender = services.sources.clone();
    tokio::spawn(async move {
        let mut last = None;
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(SILENCES_POLL_SECS));
        loop {
            ticker.tick().await;
            let read = match engines.pick(None, crate::config::EngineKind::Alertmanager) {
                Ok(engine) => crate::engine::alertmanager::silences(&engine)
                    .await
                    .map_err(|err| crate::util::sanitize::sanitize_str(&err.to_string())),
                Err(why) => Err(format!("window silences cannot be checked: {why}")),
            };
            if last.as_ref() == Some(&read) {
                continue;
            }
            last = Some(read.clone());
            if sender.send(Action::Msg(TabMsg::Calendar(Msg::Silences(read.map(Arc::new))))).await.is_err() {
                return;
            }
        }
    });
}

pub fn execute(effect: Effect, services: &Services) {
    let sender = services.sources.clone();
    let report = move |msg: Msg| {
        let _ = sender.try_send(Action::Msg(TabMsg::Calendar(msg)));
    };
    match effect {
        Effect::ImportHost if !services.config.settings.host_schedules => {}
        Effect::ImportHost => {
            let zone = services.config.settings.zone();
            tokio::task::spawn_blocking(move || report(Msg::Imported(Arc::new(import::load_host(zone)))));
        }
        Effect::LoadHistory => {
            let Some(store) = services.store.clone() else { return };
            tokio::spawn(async move {
                let since = Utc::now() - Duration::days(HISTORY_DAYS);
                match store.call_async(move |c| history::runs_since(c, since, 50_000)).await {
                    Ok(runs) => report(Msg::History(Arc::new(runs))),
                    Err(err) => report(Msg::HistoryFailed(err.to_string())),
                }
            });
        }
        Effect::RunTask(confirmed) => {
            let task = confirmed.what().task.clone();
            // Under a supervisor, like every operation: quitting the console or losing SSH
            // does not cut the task short, and `ops list` shows it to every operator.
            let Some(store) = services.store.clone() else {
                report(Msg::RunFinished {
                    task,
                    exit_code: 3,
                    store_error: Some("no store is open, so the run cannot be audited; it was not started".into()),
                });
                return;
            };
            let job = crate::ops::Job::run_task(
                &confirmed,
                &services.config,
                store.path().to_path_buf(),
                services.identity.clone(),
            );
            tokio::spawn(async move {
                let followed = crate::ops::launch_and_follow(job, &store, |_| {}, std::future::pending()).await;
                let (exit_code, store_error) = match followed {
                    Ok(crate::ops::Followed::Ended(Some(row))) => {
                        let code = row.exit.and_then(|code| i32::try_from(code).ok()).unwrap_or(1);
                        let refused =
                            (row.state == crate::ops::record::State::Refused).then(|| row.detail.unwrap_or_default());
                        (code, refused)
                    }
                    Ok(crate::ops::Followed::Ended(None)) => (1, Some("the run's record cannot be read".into())),
                    Ok(crate::ops::Followed::Detached { id, .. }) => (1, Some(format!("operation #{id} goes on"))),
                    Err(why) => (3, Some(why)),
                };
                report(Msg::RunFinished { task, exit_code, store_error });
            });
        }
    }
}

impl CalendarTab {
    /// A tab over `plan`, shown in `zone`; the first tick sets the day.
    pub fn with_plan(plan: Plan, zone: Zone) -> CalendarTab {
        CalendarTab {
            configured: !plan.tasks.is_empty() || !plan.windows.is_empty(),
            configured_tasks: plan.tasks.len(),
            plan: Arc::new(plan),
            zone: Some(zone),
            ..CalendarTab::default()
        }
    }

    fn zone(&self) -> Zone {
        self.zone.unwrap_or(Zone::UTC)
    }

    fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.zone()).date_naive()
    }

    /// Rebuilds what the view shows.
    fn rebuild(&mut self) {
        let Some(day) = self.day else { return };
        let zone = self.zone();
        self.marks = derive::month_marks(&self.plan, &self.runs, day, zone);
        self.rows = derive::agenda_rows(&self.plan, &self.runs, day, zone, self.now);
        self.states = derive::task_states(&self.plan, &self.runs, self.now);
        self.selected_row = self.selected_row.min(self.rows.len().saturating_sub(1));
        self.row_silences = self
            .rows
            .iter()
            .map(|row| {
                let window = self.plan.windows.iter().find(|w| Some(&w.name) == row.in_window.as_ref())?;
                self.silence_mark(window, window.active_at(row.at)?)
            })
            .collect();
    }

    /// Whether `span` of `window` has its silence; `None` when the window asks for none or the span is over.
    pub fn silence_mark(&self, window: &crate::schedule::Window, span: crate::schedule::Span) -> Option<SilenceMark> {
        if window.silence.is_empty() || span.end <= self.now {
            return None;
        }
        Some(match &self.silences {
            Some(Ok(silences)) => {
                match crate::silence::windows::covering(silences, &window.silence, span.start.max(self.now), span.end) {
                    Some(silence) => SilenceMark::Silenced(silence.id.clone()),
                    None => SilenceMark::Missing,
                }
            }
            _ => SilenceMark::Unknown,
        })
    }

    fn move_day(&mut self, days: i64) {
        if let Some(day) = self.day {
            self.day = day.checked_add_signed(Duration::days(days)).or(Some(day));
            self.selected_row = 0;
            self.rebuild();
        }
    }

    fn move_month(&mut self, forward: bool) {
        if let Some(day) = self.day {
            let moved =
                if forward { day.checked_add_months(Months::new(1)) } else { day.checked_sub_months(Months::new(1)) };
            self.day = moved.or(Some(day));
            self.selected_row = 0;
            self.rebuild();
        }
    }

    fn selected_next_run(&self) -> Option<DateTime<Utc>> {
        let task = self.selected_task().and_then(|index| self.plan.tasks.get(index))?;
        task.next_runs(self.now, 1).first().copied()
    }

    /// The task of the selected agenda row.
    fn selected_task(&self) -> Option<usize> {
        self.rows.get(self.selected_row).and_then(|row| row.task).or_else(|| (!self.plan.tasks.is_empty()).then_some(0))
    }

    pub fn on_msg(&mut self, msg: Msg, ctx: &mut TabCtx) -> Vec<Effect> {
        match msg {
            Msg::Imported(imported) => {
                let mut plan = (*self.plan).clone();
                plan.tasks.truncate(self.configured_tasks);
                plan.tasks.extend(imported.tasks.iter().cloned());
                self.configured |= !plan.tasks.is_empty();
                self.plan = Arc::new(plan);
                self.import_notes = imported.notes.clone();
            }
            Msg::History(runs) => {
                self.runs = runs;
                self.history_error = None;
            }
            Msg::HistoryFailed(err) => self.history_error = Some(crate::util::sanitize::sanitize_str(&err)),
            Msg::Silences(read) => self.silences = Some(read),
            Msg::RunFinished { task, exit_code, store_error } => {
                let outcome = if exit_code == 0 { "✓ ok".to_string() } else { format!("✗ exit {exit_code}") };
                self.notice = Some(match store_error {
                    None => format!("`{task}` finished: {outcome}"),
                    Some(err) => format!("`{task}` finished: {outcome} (not recorded: {err})"),
                });
                self.rebuild();
                return vec![Effect::LoadHistory];
            }
        }
        self.now = self.now.max(ctx.wall);
        self.rebuild();
        Vec::new()
    }

    pub fn on_command(&mut self, command: Command, ctx: &mut TabCtx) -> Vec<Effect> {
        match command {
            Command::PreviousMonth => self.move_month(false),
            Command::NextMonth => self.move_month(true),
            Command::Today => {
                self.day = Some(self.today());
                self.rebuild();
            }
            Command::ToggleWeek => self.week_view = !self.week_view,
            Command::Refresh => return vec![Effect::LoadHistory, Effect::ImportHost],
            Command::RunTask => {
                let Some(task) = self.selected_task().and_then(|index| self.plan.tasks.get(index)) else {
                    self.notice = Some("no task selected".into());
                    return Vec::new();
                };
                if ctx.read_only || self.read_only_services {
                    self.notice = Some("read-only: tasks cannot be run from this session".into());
                } else if task.argv.is_empty() {
                    self.notice = Some(format!("`{}` has no `run` command in the config", task.name));
                } else {
                    self.confirm = Some(PendingRun { task: task.name.clone(), command: task.command(), armed: false });
                }
            }
        }
        Vec::new()
    }

    pub fn on_nav(&mut self, action: &Action, _ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        match (action, self.focus) {
            (Action::Left, _) => self.move_day(-1),
            (Action::Right, _) => self.move_day(1),
            (Action::Up, Focus::Calendar) => self.move_day(-7),
            (Action::Down, Focus::Calendar) => self.move_day(7),
            (Action::Up, Focus::Agenda) => self.selected_row = self.selected_row.saturating_sub(1),
            (Action::Down, Focus::Agenda) => {
                self.selected_row = (self.selected_row + 1).min(self.rows.len().saturating_sub(1))
            }
            (Action::PageUp, _) => self.move_month(false),
            (Action::PageDown, _) => self.move_month(true),
            (Action::Top, _) => {
                self.day = Some(self.today());
                self.rebuild();
            }
            (Action::Bottom, Focus::Agenda) => self.selected_row = self.rows.len().saturating_sub(1),
            (Action::Select, Focus::Calendar) => self.focus = Focus::Agenda,
            (Action::Select, Focus::Agenda) | (Action::Close, Focus::Agenda) => self.focus = Focus::Calendar,
            _ => return None,
        }
        Some(Vec::new())
    }

    pub fn captures_keys(&self) -> bool {
        self.confirm.is_some()
    }

    /// A frame showing this tab was drawn: an open question has now been seen.
    pub fn on_frame_drawn(&mut self) {
        if let Some(pending) = self.confirm.as_mut() {
            pending.armed = true;
        }
    }

    /// The answer to "run this task now?": `y` confirms (through `ops::confirm`, like every
    /// operation), any other key does not. Keys before the question was drawn are ignored.
    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut TabCtx) -> Vec<Effect> {
        if !self.confirm.as_ref().is_some_and(|pending| pending.armed) {
            return Vec::new();
        }
        let Some(pending) = self.confirm.take() else { return Vec::new() };
        let typed = match key.code {
            KeyCode::Char(c) if key.modifiers.is_empty() => c.to_string(),
            _ => String::new(),
        };
        let read_only = ctx.read_only || self.read_only_services;
        match confirm::check(&TaskRun { task: pending.task.clone() }, &typed, read_only) {
            Ok(confirmed) => {
                self.notice = Some(format!("running `{}` …", pending.task));
                vec![Effect::RunTask(confirmed)]
            }
            Err(_) => {
                self.notice = Some(format!("not run: `{}`", pending.task));
                Vec::new()
            }
        }
    }

    /// Once a second: follows the clock and keeps the status line's maintenance window current.
    pub fn on_tick(&mut self, ctx: &mut TabCtx) -> bool {
        self.now = ctx.wall;
        let zone = self.zone();
        let window = self
            .plan
            .active_window(ctx.wall)
            .map(|(window, span)| format!("{} until {}", window.name, span.end.with_timezone(&zone).format("%H:%M")));
        let mut changed = false;
        if ctx.status.window != window {
            ctx.status.window = window;
            changed = true;
        }
        if self.day.is_none() {
            self.day = Some(self.today());
        }
        let minute = ctx.wall.timestamp() / 60;
        if minute != self.minute {
            self.minute = minute;
            // Redraw only when what is shown moved on: a row's state, a mark, or the selected task's next run.
            let before = (self.rows.clone(), self.marks.clone(), self.states.clone(), self.selected_next_run());
            self.rebuild();
            changed |= before != (self.rows.clone(), self.marks.clone(), self.states.clone(), self.selected_next_run());
        }
        changed
    }

    pub fn render(&self, view: &ViewCtx, frame: &mut Frame, area: Rect) {
        view::render(self, view, frame, area);
    }
}

/// The parts of the tab the view reads.
impl CalendarTab {
    fn selected_day(&self) -> NaiveDate {
        self.day.unwrap_or_else(|| self.today())
    }

    fn month_first(&self) -> NaiveDate {
        let day = self.selected_day();
        day.with_day(1).unwrap_or(day)
    }
}

#[cfg(test)]
mod tests;
