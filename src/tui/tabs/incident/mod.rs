//! The incident tab: the open incident with its T+ clock, the runbook
//! checklist, the actions with their confirmation dialog and live output,
//! and the timeline. The store is the record: every instance on the host
//! polls its revision counter and shows the same incident.
//!
//! `update.rs` folds keys and reports into the state (pure), `prompt.rs` holds
//! the dialogs, `engine.rs` does the store and process work behind effects,
//! `view.rs` draws.

mod copy;
mod dialogs;
mod engine;
mod milestones;
mod prompt;
pub mod timeline;
mod update;
mod view;

use super::{Services, ViewCtx};
use crate::action::{ActionSpec, CancelSignal, Canceller, Confirmed};
use crate::incident::checklist::Checklist;
use crate::incident::record::{EventKind, IncidentRecord, Severity};
use crate::incident::runbook::Runbook;
use crate::util::budget::Reservation;
use prompt::Prompt;
use ratatui::Frame;
use ratatui::layout::Rect;
use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::Arc;

pub use engine::execute;

/// Output lines kept for the live pane of a running action.
const PANE_LINES: usize = 500;
/// The most the run pane's lines take: what it reserves from `settings.memory_budget`.
const PANE_BYTES: usize = PANE_LINES * (crate::action::runner::MAX_LINE + size_of::<String>());

#[derive(Default)]
pub struct IncidentTab {
    /// The run pane's worst case, held back from the log lines' budget.
    pane_reserved: Option<Reservation>,
    /// False when there is no store: incidents cannot be kept.
    configured: bool,
    read_only: bool,
    actions: Vec<ActionSpec>,
    runbooks: Vec<Runbook>,
    /// How many of `runbooks` come from the config (they are listed first).
    configured_runbooks: usize,
    runbook_problems: Vec<String>,
    /// The open incident as last read from the store.
    record: Option<Arc<IncidentRecord>>,
    checklist: Checklist,
    focus: Focus,
    step_cursor: usize,
    action_cursor: usize,
    /// Lines scrolled up from the newest timeline entry.
    timeline_scroll: usize,
    prompt: Option<Prompt>,
    /// The running (or last finished) action's pane.
    run: Option<RunPane>,
    /// Operations running on this host, started by any terminal, as last read.
    operations: Vec<HostOperation>,
    next_nonce: u64,
    /// A one-line answer to the last command ("post-mortem written to ...").
    notice: Option<String>,
    store_error: Option<String>,
    wall: chrono::DateTime<chrono::Utc>,
    /// Shown in the confirmation dialog, so nobody runs a command on the wrong box.
    host: String,
    /// Check and alert entries are left out of the timeline (`m`).
    hide_machine: bool,
    /// The timeline's rows, folded when the record or `hide_machine` changes.
    folded: timeline::Folded,
    /// Per check name: the severity and runbook `i` suggests for it.
    check_hints: std::collections::HashMap<String, CheckHint>,
}

/// What a `[[check]]` suggests for an incident opened about it.
#[derive(Debug, Clone, Default, PartialEq)]
struct CheckHint {
    severity: Option<Severity>,
    runbook: Option<String>,
}

/// Which pane the movement keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    Checklist,
    Actions,
    Timeline,
}

/// An action's run as the pane shows it.
#[derive(Debug)]
pub struct RunPane {
    pub nonce: u64,
    pub name: String,
    pub started: chrono::DateTime<chrono::Utc>,
    pub lines: VecDeque<String>,
    pub dropped: u64,
    /// Set once it ends: the outcome in words.
    pub outcome: Option<String>,
    pub failed: bool,
    pub dry_run: bool,
    pub canceller: Option<Canceller>,
    /// A `rollback_with` action to offer when the run or its verification failed.
    pub rollback: Option<String>,
    /// The first cancel press asks; the second cancels.
    pub cancel_asked: bool,
    /// The operation (its id in the operations table) this pane follows.
    pub operation: Option<i64>,
}

/// An operation running on this host under its supervisor, whoever started it:
/// listed under the actions so a reconnecting or second operator can follow or cancel it.
#[derive(Debug, Clone, PartialEq)]
pub struct HostOperation {
    pub id: i64,
    pub name: String,
    pub target: String,
    /// `user@host (tty)`: who started it.
    pub who: String,
    pub started: Option<chrono::DateTime<chrono::Utc>>,
    pub output: std::path::PathBuf,
    /// The command ended and the service is being watched.
    pub watching: bool,
}

impl RunPane {
    /// A pane for a run that has not printed anything yet.
    fn new(nonce: u64, name: String, started: chrono::DateTime<chrono::Utc>) -> RunPane {
        RunPane {
            nonce,
            name,
            started,
            lines: VecDeque::new(),
            dropped: 0,
            outcome: None,
            failed: false,
            dry_run: false,
            canceller: None,
            rollback: None,
            cancel_asked: false,
            operation: None,
        }
    }

    /// Adds a line (cut at the runner's longest, without spare capacity, so
    /// the pane stays within [`PANE_BYTES`]), dropping the oldest beyond [`PANE_LINES`].
    fn push(&mut self, mut line: String) {
        if line.len() > crate::action::runner::MAX_LINE {
            let mut end = crate::action::runner::MAX_LINE;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
        }
        line.shrink_to_fit();
        if self.lines.len() == PANE_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
        self.lines.push_back(line);
    }
}

/// What this tab's engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// The open incident (or none) after the store's revision changed.
    Loaded(Option<Arc<IncidentRecord>>),
    StoreError(String),
    Output {
        nonce: u64,
        line: String,
    },
    Progress {
        nonce: u64,
        text: String,
    },
    /// Verification failed and the action's `on_failed_verify` (named) is starting in the same pane.
    FollowUp {
        nonce: u64,
        name: String,
    },
    Finished {
        nonce: u64,
        outcome: String,
        failed: bool,
    },
    Notice(String),
    /// The operations running on this host changed.
    Operations(Vec<HostOperation>),
    /// The pane's run became operation `id` under a supervisor.
    Launched {
        nonce: u64,
        id: i64,
    },
}

/// What keys can be bound to in `[keys.incident]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    NewIncident,
    ToggleStep,
    SkipStep,
    Note,
    RunAction,
    CancelAction,
    /// Opens the P0-P3 picker (`cycle-severity` is the old name of the binding).
    #[serde(alias = "cycle-severity")]
    PickSeverity,
    CloseIncident,
    Export,
    ShowStep,
    ToggleMachineEntries,
    MarkMilestone,
}

impl Command {
    pub const ALL: &'static [Command] = &[
        Command::NewIncident,
        Command::ToggleStep,
        Command::SkipStep,
        Command::Note,
        Command::RunAction,
        Command::CancelAction,
        Command::PickSeverity,
        Command::CloseIncident,
        Command::Export,
        Command::ShowStep,
        Command::ToggleMachineEntries,
        Command::MarkMilestone,
    ];

    pub fn describe(&self) -> String {
        match self {
            Command::NewIncident => "open a new incident (title, severity, runbook)",
            Command::ToggleStep => "tick or untick the selected runbook step",
            Command::SkipStep => "skip the selected step, with a reason",
            Command::Note => "write a note (on the selected step, if any)",
            Command::RunAction => "run the selected action (after confirming it) or the step's check",
            Command::CancelAction => "cancel the running action (press twice)",
            Command::PickSeverity => "pick the incident's severity (P0-P3)",
            Command::CloseIncident => "close the incident with a resolution",
            Command::Export => "write the post-mortem draft to a file",
            Command::ShowStep => "show the selected step's full text, links and evidence",
            Command::ToggleMachineEntries => "show or hide check and alert entries on the timeline",
            Command::MarkMilestone => "mark a milestone: acknowledged, mitigated, root cause, fixed, resolved",
        }
        .into()
    }
}

/// Work this tab asks the runtime for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Read the open incident now.
    Refresh,
    Open {
        title: String,
        severity: Severity,
        runbook: Option<String>,
        /// Written as the first note (what the check said when `i` was pressed).
        evidence: Option<String>,
    },
    AddEvent {
        incident: i64,
        kind: EventKind,
        step: Option<String>,
        text: String,
    },
    SetSeverity {
        incident: i64,
        severity: Severity,
    },
    Close {
        incident: i64,
        resolution: String,
    },
    /// An audit row for something that happened in a dialog (request, refusal, cancel).
    Audit {
        event: &'static str,
        action: Box<ActionSpec>,
        detail: Option<String>,
    },
    Run {
        nonce: u64,
        confirmed: Box<Confirmed>,
        cancel: CancelSignal,
    },
    Cancel(Canceller),
    /// Show an operation another front end started in the pane, until it ends.
    Follow {
        nonce: u64,
        id: i64,
        output: std::path::PathBuf,
    },
    /// Ask an operation's supervisor to stop it (confirmed; audited).
    CancelOperation {
        confirmed: crate::ops::confirm::Confirmed<crate::ops::confirm::Cancel>,
    },
    /// Run a runbook step's health check once and put its verdict on the timeline.
    RunCheck {
        incident: Option<i64>,
        step: String,
        check: String,
    },
    Export {
        incident: i64,
    },
}

pub fn default_keys() -> Vec<(&'static str, Command)> {
    vec![
        ("n", Command::NewIncident),
        ("space", Command::ToggleStep),
        ("s", Command::SkipStep),
        ("e", Command::Note),
        ("r", Command::RunAction),
        ("c", Command::CancelAction),
        ("S", Command::PickSeverity),
        ("p", Command::MarkMilestone),
        ("C", Command::CloseIncident),
        ("X", Command::Export),
        ("m", Command::ToggleMachineEntries),
    ]
}

pub fn start(services: &Services) -> IncidentTab {
    let mut tab =
        IncidentTab::new(&services.config, services.store.is_some(), services.read_only, &services.identity.host);
    if let Some(store) = services.store.clone() {
        engine::watch(store, services.sources.clone());
        tab.pane_reserved = Some(services.budget.reserve(PANE_BYTES));
    }
    tab.wall = chrono::Utc::now();
    tab
}

impl IncidentTab {
    /// The tab for `config`, before anything is read from the store.
    pub fn new(config: &crate::config::Config, has_store: bool, read_only: bool, host: &str) -> IncidentTab {
        let (runbooks, problems) = crate::incident::runbook::load_all(config);
        let built_in: Vec<String> = crate::incident::runbook::built_in().into_iter().map(|r| r.name).collect();
        IncidentTab {
            configured: has_store,
            read_only: read_only || config.settings.read_only,
            actions: crate::action::ActionSpec::all(config),
            configured_runbooks: runbooks.iter().filter(|r| !built_in.contains(&r.name)).count(),
            runbooks,
            runbook_problems: problems.iter().map(|p| p.to_string()).collect(),
            host: host.to_string(),
            check_hints: config
                .checks
                .iter()
                .map(|check| {
                    let severity = check.incident_severity.as_ref().and_then(|s| Severity::parse(s.get_ref()));
                    (check.name.get_ref().clone(), CheckHint { severity, runbook: check.runbook.clone() })
                })
                .collect(),
            ..IncidentTab::default()
        }
    }

    pub fn captures_keys(&self) -> bool {
        self.prompt.is_some()
    }

    pub fn render(&self, view: &ViewCtx, frame: &mut Frame, area: Rect) {
        view::render(self, view, frame, area);
    }

    /// The runbook the open incident follows, if it is known here.
    fn runbook(&self) -> Option<&Runbook> {
        let name = self.record.as_ref()?.incident.runbook.as_deref()?;
        self.runbooks.iter().find(|r| r.name == name)
    }

    /// The selected step's key and its definition.
    fn selected_step(&self) -> Option<(String, &crate::incident::runbook::Step)> {
        self.runbook()?.steps().nth(self.step_cursor).map(|(key, _, step)| (key, step))
    }

    fn open_incident_id(&self) -> Option<i64> {
        self.record.as_ref().map(|r| r.incident.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::runner::MAX_LINE;

    #[test]
    fn the_run_pane_stays_within_what_it_reserved() {
        let mut pane = RunPane::new(1, "redeploy orders".into(), chrono::Utc::now());
        // Two-byte characters, so the cut must land between them.
        let long = "é".repeat(MAX_LINE);
        for _ in 0..PANE_LINES + 10 {
            pane.push(long.clone());
        }
        assert_eq!(pane.lines.len(), PANE_LINES);
        assert_eq!(pane.dropped, 10);
        assert!(pane.lines.iter().all(|line| line.len() == MAX_LINE && line.chars().all(|c| c == 'é')));
        let held: usize = pane.lines.iter().map(|line| line.capacity() + size_of::<String>()).sum();
        assert!(held <= PANE_BYTES, "{held} bytes held, {PANE_BYTES} reserved");
        let mut roomy = String::with_capacity(64 * 1024);
        roomy.push_str("done");
        pane.push(roomy);
        assert_eq!(pane.lines.back().map(String::capacity), Some(4), "no spare room kept");
    }
}
