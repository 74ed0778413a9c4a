//! The health tab: every check, worst first, with latency, uptime and the
//! last result; a detail pane for the selected one. A `promql` or `targets`
//! check is one row per series it returned, each with its own state. The
//! engine (`crate::health`) does the work; this module only folds its reports
//! into rows and draws them.

mod alerts;
mod alerts_view;
mod copy;
mod series;
mod update;
mod view;

pub use alerts::{AlertLine, AlertsSection};

use super::{Services, TabCtx, ViewCtx};
use crate::engine::alerts::{AlertView, EngineAlerts};
use crate::engine::poll::{self, AlertPoller};
use crate::engine::{Engine, Labels};
use crate::health::history::History;
use crate::health::{CheckSpec, CheckView, EngineHandle, engine};
use crate::incident::record::Severity as IncidentSeverity;
use crate::tui::action::Action;
use crate::tui::tabs::TabMsg;
use crate::util::budget::Reservation;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct HealthTab {
    /// One view per check, by check index.
    rows: Vec<Arc<CheckView>>,
    /// The table's rows in display order (sorted and filtered): checks, and the series of
    /// checks that return several.
    order: Vec<RowRef>,
    /// The selected row (by check index and series name, so it stays put when the order changes).
    selected: Option<Selection>,
    /// Where the selected row is in `order` (kept with it, so a frame does not search for it).
    at: Option<usize>,
    /// Rows per state over all rows, for the title (kept with `order`).
    counts: std::collections::HashMap<crate::health::Status, usize>,
    /// Until the user moves, the selection follows the top row (the worst check).
    moved: bool,
    sort: Sort,
    failing_only: bool,
    filter: String,
    filter_open: bool,
    detail: bool,
    /// Checks asked to run now and not yet reported back.
    requested: BTreeSet<usize>,
    engine: Option<EngineHandle>,
    /// Every check's history window at its fullest, held back from the log lines' budget.
    history_reserved: Option<Reservation>,
    /// Checks in the config that could not be built.
    problems: Vec<String>,
    /// The maintenance window in force (from the status line), so failures read as expected.
    window: Option<String>,
    /// The last verdict of each check (never pending or an unconfirmed failure), so only real changes are told.
    verdicts: std::collections::BTreeMap<usize, crate::health::Status>,
    /// Where the table's rows were last drawn, for mouse clicks.
    hits: std::cell::Cell<super::ListHits>,
    /// The alerts of every Alertmanager, under the checks.
    alerts: AlertsSection,
    /// What a series row's sparkline asks, per check (`promql` checks only).
    sources: Vec<Option<RangeSource>>,
    /// The selected series over its window, for the detail pane.
    range: Option<series::RangeView>,
    /// Stamps range requests, so a late answer for an earlier selection is dropped.
    generation: u64,
}

/// One row of the table: a check, or one series (by position in its last run) of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowRef {
    pub check: usize,
    pub series: Option<usize>,
}

/// The selected row, by check index and series name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub check: usize,
    pub series: Option<String>,
}

/// Where a `promql` check's series come from, for their sparklines.
#[derive(Clone)]
struct RangeSource {
    engine: Arc<Engine>,
    promql: String,
}

impl std::fmt::Debug for RangeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RangeSource({}, {:?})", self.engine.name(), self.promql)
    }
}

/// Asks one series' values over its window (`query_range`), for the detail pane.
#[derive(Clone)]
pub struct RangeRequest {
    engine: Arc<Engine>,
    pub promql: String,
    pub labels: Labels,
    pub window: std::time::Duration,
    pub key: Selection,
    pub generation: u64,
}

impl PartialEq for RangeRequest {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.engine, &other.engine)
            && (&self.promql, &self.labels, self.window, &self.key, self.generation)
                == (&other.promql, &other.labels, other.window, &other.key, other.generation)
    }
}

impl std::fmt::Debug for RangeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangeRequest")
            .field("engine", &self.engine.name())
            .field("promql", &self.promql)
            .field("labels", &self.labels)
            .field("window", &self.window)
            .field("key", &self.key)
            .field("generation", &self.generation)
            .finish()
    }
}

/// The answer to a [`RangeRequest`]: the points (time, value), oldest first, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeAnswer {
    pub key: Selection,
    pub generation: u64,
    pub points: Result<Vec<(f64, f64)>, String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Worst first.
    #[default]
    Status,
    Name,
    /// Slowest first.
    Latency,
}

impl Sort {
    fn next(self) -> Sort {
        match self {
            Sort::Status => Sort::Name,
            Sort::Name => Sort::Latency,
            Sort::Latency => Sort::Status,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Sort::Status => "worst first",
            Sort::Name => "name",
            Sort::Latency => "latency",
        }
    }
}

/// What this tab's sources report.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// New views of the checks that changed.
    Updated(Vec<Arc<CheckView>>),
    /// The selected series over its window.
    Range(RangeAnswer),
    /// One Alertmanager's latest answer.
    Alerts(Arc<EngineAlerts>),
}

/// What keys can be bound to in `[keys.health]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    RunSelected,
    RunAll,
    CycleSort,
    ToggleFailingOnly,
    Filter,
    ToggleDetail,
    Declare,
    SilenceAlert,
}

impl Command {
    pub const ALL: &'static [Command] = &[
        Command::RunSelected,
        Command::RunAll,
        Command::CycleSort,
        Command::ToggleFailingOnly,
        Command::Filter,
        Command::ToggleDetail,
        Command::Declare,
        Command::SilenceAlert,
    ];

    pub fn describe(&self) -> String {
        match self {
            Command::RunSelected => "health: run the selected check now",
            Command::RunAll => "health: run every check now",
            Command::CycleSort => "health: sort by status, name or latency",
            Command::ToggleFailingOnly => "health: show failing checks only, or all",
            Command::Filter => "health: filter checks by text",
            Command::ToggleDetail => "health: show or hide the detail pane",
            Command::Declare => "health: open an incident about the selected check (or note it on the open one)",
            Command::SilenceAlert => "health: silence the selected alert (matchers from its labels, confirmed)",
        }
        .into()
    }
}

/// Work this tab asks the runtime for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Run one check (by index) or all of them now.
    RunNow { engine: EngineHandle, check: Option<usize> },
    /// Record state changes on the open incident's timeline.
    Timeline(Vec<String>),
    /// Open an incident about a failing check, or add it as evidence to the open one.
    /// The console hands it to the incident tab's dialog (see `tui::update`); executed, it opens directly.
    Declare { check: String, title: String, evidence: String, severity: IncidentSeverity },
    /// Fetch the selected series over its window, for its sparkline.
    FetchRange(RangeRequest),
    /// Read every Alertmanager again now.
    RefreshAlerts(AlertPoller),
    /// Open the silence dialog for an alert: its engine and its labels as the engine sent them.
    /// The console hands it to the silence overlay (see `tui::update`).
    SilenceAlert { engine: String, labels: Labels },
    /// Open an incident about an alert (as `Declare`); `runbooks` are the names its
    /// annotations give, best first, to be matched against the runbooks' names and titles.
    DeclareAlert { alert: String, title: String, evidence: String, severity: IncidentSeverity, runbooks: Vec<String> },
}

pub fn default_keys() -> Vec<(&'static str, Command)> {
    vec![
        ("r", Command::RunSelected),
        ("R", Command::RunAll),
        ("s", Command::CycleSort),
        ("f", Command::ToggleFailingOnly),
        ("/", Command::Filter),
        ("d", Command::ToggleDetail),
        ("i", Command::Declare),
        ("z", Command::SilenceAlert),
    ]
}

pub fn start(services: &Services) -> HealthTab {
    let (specs, problems) = CheckSpec::build_all(&services.config);
    let mut tab = HealthTab::with_checks(&specs);
    tab.problems = problems;
    tab.alerts = start_alerts(services);
    tab.rebuild_alerts();
    if specs.is_empty() {
        return tab;
    }
    let sources = services.sources.clone();
    let report: engine::Report =
        Box::new(move |views| sources.try_send(Action::Msg(TabMsg::Health(Msg::Updated(views)))).is_ok());
    tab.history_reserved = Some(services.budget.reserve(specs.len() * History::MAX_BYTES));
    tab.engine = Some(engine::start(specs, services.store.clone(), report));
    tab
}

/// Starts reading every Alertmanager of the config, when there is one.
fn start_alerts(services: &Services) -> AlertsSection {
    let config = &services.config;
    let Ok((engines, unbuilt)) = crate::engine::alerts::alertmanagers(config, None) else {
        return AlertsSection::default();
    };
    let names = config
        .engines
        .iter()
        .filter(|e| e.kind == crate::config::EngineKind::Alertmanager)
        .map(|e| crate::util::sanitize::sanitize_str(e.name.get_ref()))
        .collect();
    let sources = services.sources.clone();
    let report: poll::Report =
        Arc::new(move |answer| sources.try_send(Action::Msg(TabMsg::Health(Msg::Alerts(answer)))).is_ok());
    let mut section = AlertsSection::new(names, Some(poll::start(engines, poll::EVERY, report)));
    for answer in unbuilt {
        section.apply(Arc::new(answer));
    }
    section
}

pub fn execute(effect: Effect, services: &Services) {
    match effect {
        Effect::FetchRange(request) => {
            let sources = services.sources.clone();
            tokio::spawn(async move {
                let end = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
                let points = crate::health::series::range(
                    &request.engine,
                    &request.promql,
                    &request.labels,
                    end,
                    request.window,
                )
                .await
                .map_err(|err| err.to_string());
                let answer = RangeAnswer { key: request.key, generation: request.generation, points };
                // A full queue drops the answer; the next refresh of the check asks again.
                let _ = sources.try_send(Action::Msg(TabMsg::Health(Msg::Range(answer))));
            });
        }
        Effect::RefreshAlerts(poller) => poller.refresh(),
        // Handed to the silence dialog before it gets here; nothing to do on its own.
        Effect::SilenceAlert { .. } => {}
        Effect::DeclareAlert { title, evidence, severity, runbooks, .. } => {
            let Some(store) = services.store.clone() else { return };
            let (sources, identity) = (services.sources.clone(), services.identity.clone());
            let config = services.config.clone();
            tokio::task::spawn_blocking(move || {
                let (all, _) = crate::incident::runbook::load_all(&config);
                let runbook = runbooks
                    .iter()
                    .find_map(|wanted| crate::incident::runbook::Runbook::find(&all, wanted))
                    .map(|runbook| runbook.name.clone())
                    .or_else(|| default_runbook(&config));
                let reply = match declare(&store, &title, &evidence, severity, runbook.as_deref(), &identity) {
                    Ok(()) => Action::SelectTab(crate::tui::tab::TabId::Incident),
                    Err(err) => Action::Error(format!("could not open an incident: {err}")),
                };
                let _ = sources.try_send(reply);
            });
        }
        Effect::RunNow { engine, check } => {
            engine.run_now(check);
        }
        Effect::Timeline(changes) => {
            let Some(store) = services.store.clone() else { return };
            let identity = services.identity.clone();
            // A failure here is not worth the status line: the health tab itself shows the change.
            tokio::task::spawn_blocking(move || record_changes(&store, &changes, &identity));
        }
        Effect::Declare { title, evidence, severity, .. } => {
            let Some(store) = services.store.clone() else { return };
            let (sources, identity) = (services.sources.clone(), services.identity.clone());
            let config = services.config.clone();
            tokio::task::spawn_blocking(move || {
                let runbook = default_runbook(&config);
                let reply = match declare(&store, &title, &evidence, severity, runbook.as_deref(), &identity) {
                    // The incident tab picks the change up from the store; take the user there.
                    Ok(()) => Action::SelectTab(crate::tui::tab::TabId::Incident),
                    Err(err) => Action::Error(format!("could not open an incident: {err}")),
                };
                let _ = sources.try_send(reply);
            });
        }
    }
}

/// How long a change recorded by another firstwatch on this host counts as the same change.
const SAME_CHANGE_WITHIN: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Appends each change to the open incident, skipping those another instance on
/// the host (which runs the same checks) has just recorded.
fn record_changes(
    store: &crate::store::Store,
    changes: &[String],
    identity: &crate::util::identity::Identity,
) -> Result<(), crate::incident::record::IncidentError> {
    use crate::incident::record::{self, EventKind};
    for change in changes {
        let kind = if change.starts_with("alert: ") { EventKind::Alert } else { EventKind::Check };
        record::add_event_once(store, kind, change, SAME_CHANGE_WITHIN, identity)?;
    }
    Ok(())
}

/// The runbook an incident opened from a check follows: the host's own first
/// runbook, else the built-in first 15 minutes (as `n` on the incident tab offers).
fn default_runbook(config: &crate::config::Config) -> Option<String> {
    if config.runbooks.is_empty() {
        return Some("first-15-minutes".into());
    }
    crate::incident::runbook::load_all(config).0.first().map(|runbook| runbook.name.clone())
}

/// Opens an incident titled `title` unless one is open, then records the check's state on its timeline.
fn declare(
    store: &crate::store::Store,
    title: &str,
    evidence: &str,
    severity: IncidentSeverity,
    runbook: Option<&str>,
    identity: &crate::util::identity::Identity,
) -> Result<(), crate::incident::record::IncidentError> {
    use crate::incident::record::{self, EventKind};
    let id = match record::open_incident_id(store)? {
        Some(id) => id,
        None => record::open(store, title, severity, runbook, identity)?.id,
    };
    record::add_event(store, id, EventKind::Note, None, evidence, identity).map(|_| ())
}

impl HealthTab {
    /// A tab showing `specs` as pending, with no engine behind it (tests and snapshots use it too).
    pub fn with_checks(specs: &[CheckSpec]) -> HealthTab {
        let mut tab = HealthTab {
            rows: specs.iter().enumerate().map(|(i, spec)| Arc::new(CheckView::pending(spec, i))).collect(),
            sources: specs
                .iter()
                .map(|spec| match (&spec.target, &spec.engine) {
                    (crate::config::CheckTarget::Promql(promql), Some(check)) => {
                        Some(RangeSource { engine: check.engine.clone(), promql: promql.clone() })
                    }
                    _ => None,
                })
                .collect(),
            ..HealthTab::default()
        };
        tab.reorder();
        tab
    }

    /// The alert under the selection, if the selection is on one: its engine and
    /// labels (`raw_labels()` as sent, for matchers) are what a silence starts from.
    pub fn selected_alert(&self) -> Option<&AlertView> {
        match self.alerts.selected()? {
            AlertLine::Alert(alert) => Some(alert),
            _ => None,
        }
    }

    /// The alerts section, as drawn (tests and benches read it).
    pub fn alerts(&self) -> &AlertsSection {
        &self.alerts
    }

    /// Connects an engine, so re-run keys have somewhere to go.
    pub fn with_engine(mut self, engine: EngineHandle) -> HealthTab {
        self.engine = Some(engine);
        self
    }

    pub fn on_msg(&mut self, msg: Msg, ctx: &mut TabCtx) -> Vec<Effect> {
        self.window.clone_from(&ctx.status.window);
        let views = match msg {
            Msg::Updated(views) => views,
            Msg::Range(answer) => {
                self.take_range(answer);
                return Vec::new();
            }
            Msg::Alerts(answer) => {
                let changes = self.alerts.apply(answer);
                self.rebuild_alerts();
                ctx.status.health = self.summary();
                // Alerts that start or stop firing go onto the open incident's timeline, as check changes do.
                return if ctx.status.incident.is_some() && !changes.is_empty() {
                    vec![Effect::Timeline(changes)]
                } else {
                    Vec::new()
                };
            }
        };
        let selected = self.selected.as_ref().map(|s| s.check);
        let refreshed = views.iter().any(|view| Some(view.index) == selected);
        let changes = self.apply(views);
        ctx.status.health = self.summary();
        let mut effects = Vec::new();
        // While an incident is open, every change of a check's state goes onto its timeline.
        if ctx.status.incident.is_some() && !changes.is_empty() {
            effects.push(Effect::Timeline(changes));
        }
        // The series on show is asked again when its check has run again.
        effects.extend(self.fetch_range(refreshed));
        effects
    }

    pub fn on_command(&mut self, command: Command, _ctx: &mut TabCtx) -> Vec<Effect> {
        self.command(command)
    }

    pub fn on_nav(&mut self, action: &Action, _ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        self.navigate(action)
    }

    pub fn captures_keys(&self) -> bool {
        self.filter_open
    }

    pub fn on_key(&mut self, key: KeyEvent, _ctx: &mut TabCtx) -> Vec<Effect> {
        self.filter_key(key);
        self.fetch_range(false).into_iter().collect()
    }

    /// Only a change of maintenance window changes this view between reports.
    pub fn on_tick(&mut self, ctx: &mut TabCtx) -> bool {
        if self.window != ctx.status.window {
            self.window.clone_from(&ctx.status.window);
            ctx.status.health = self.summary();
            return true;
        }
        false
    }

    pub fn render(&self, view: &ViewCtx, frame: &mut Frame, area: Rect) {
        view::render(self, view, frame, area);
    }
}
