//! Folding keys and engine reports into the tab's state. Pure: every piece
//! of work goes out as an [`Effect`].

use super::prompt::{
    ConfirmDialog, ConfirmOutcome, Editor, EditorOutcome, EditorPurpose, FormOutcome, OpenForm, Prompt,
};
use super::{Command, Effect, Focus, IncidentTab, Msg, RunPane};
use crate::action::cancel_pair;
use crate::incident::checklist::{Checklist, StepState};
use crate::incident::record::{EventKind, Severity};
use crate::incident::runbook::StepKind;
use crate::tui::action::Action;
use crate::tui::tabs::TabCtx;
use crate::util::sanitize::sanitize_str;
use crossterm::event::KeyEvent;
use std::collections::VecDeque;

impl IncidentTab {
    pub fn on_msg(&mut self, msg: Msg, ctx: &mut TabCtx) -> Vec<Effect> {
        match msg {
            Msg::Loaded(record) => {
                self.checklist = record.as_ref().map(|r| Checklist::from_events(&r.events)).unwrap_or_default();
                self.record = record;
                self.store_error = None;
                let steps = self.runbook().map_or(0, |r| r.step_count());
                self.step_cursor = self.step_cursor.min(steps.saturating_sub(1));
                self.update_status(ctx);
            }
            Msg::StoreError(error) => self.store_error = Some(error),
            Msg::Output { nonce, line } => {
                if let Some(run) = self.run.as_mut().filter(|r| r.nonce == nonce) {
                    run.push(line);
                }
            }
            Msg::Progress { nonce, text } => {
                if let Some(run) = self.run.as_mut().filter(|r| r.nonce == nonce) {
                    run.push(format!("» {text}"));
                }
            }
            Msg::FollowUp { nonce, name } => {
                if let Some(run) = self.run.as_mut().filter(|r| r.nonce == nonce) {
                    run.push(format!("» verification failed: running {name}"));
                    // What already ran automatically is not offered again.
                    if run.rollback.as_ref() == Some(&name) {
                        run.rollback = None;
                    }
                }
            }
            Msg::Finished { nonce, outcome, failed } => {
                if let Some(run) = self.run.as_mut().filter(|r| r.nonce == nonce) {
                    run.outcome = Some(outcome);
                    run.failed = failed;
                    run.canceller = None;
                    // Offer the rollback by putting it under the cursor; it still needs its own confirmation.
                    if failed
                        && let Some(rollback) = &run.rollback
                        && let Some(index) = self.actions.iter().position(|a| &a.name == rollback)
                    {
                        self.action_cursor = index;
                        self.focus = Focus::Actions;
                    }
                }
            }
            Msg::Notice(text) => self.notice = Some(text),
        }
        Vec::new()
    }

    /// The status line: which incident is open and for how long (minutes, so it changes rarely).
    fn update_status(&self, ctx: &mut TabCtx) {
        ctx.status.incident = self.record.as_ref().map(|record| {
            let incident = &record.incident;
            let minutes = (ctx.wall - incident.opened_at).num_minutes().max(0);
            format!("{} {} T+{minutes}m", incident.severity.label(), incident.title)
        });
    }

    pub fn on_command(&mut self, command: Command, ctx: &mut TabCtx) -> Vec<Effect> {
        self.notice = None;
        match command {
            Command::NewIncident => self.new_incident(),
            Command::ToggleStep => self.toggle_step(&evidence(ctx)),
            Command::SkipStep => match (self.open_incident_id(), self.selected_step()) {
                (Some(_), Some((step, _))) => {
                    self.prompt = Some(Prompt::Editor(Box::new(Editor::new(EditorPurpose::Skip { step }))));
                    Vec::new()
                }
                _ => self.say("select a runbook step of the open incident to skip it"),
            },
            Command::Note => {
                if self.open_incident_id().is_none() {
                    return self.say("no incident is open; press n to open one");
                }
                let step = if self.focus == Focus::Checklist { self.selected_step().map(|(key, _)| key) } else { None };
                self.prompt = Some(Prompt::Editor(Box::new(Editor::new(EditorPurpose::Note { step }))));
                Vec::new()
            }
            Command::RunAction => self.run_selected(),
            Command::CancelAction => self.cancel_run(),
            Command::CycleSeverity => match &self.record {
                Some(record) => {
                    let current = record.incident.severity;
                    let next = Severity::ALL[(Severity::ALL.iter().position(|s| *s == current).unwrap_or(0) + 1) % 4];
                    vec![Effect::SetSeverity { incident: record.incident.id, severity: next }]
                }
                None => self.say("no incident is open"),
            },
            Command::CloseIncident => {
                if self.open_incident_id().is_none() {
                    return self.say("no incident is open");
                }
                self.prompt = Some(Prompt::Editor(Box::new(Editor::new(EditorPurpose::Close))));
                Vec::new()
            }
            Command::Export => match self.open_incident_id() {
                Some(incident) => vec![Effect::Export { incident }],
                None => self.say("no incident is open to export (closed ones: firstwatch incident export ID)"),
            },
        }
    }

    fn say(&mut self, text: &str) -> Vec<Effect> {
        self.notice = Some(text.to_string());
        Vec::new()
    }

    fn new_incident(&mut self) -> Vec<Effect> {
        if !self.configured {
            return self.say("no store is open, so incidents cannot be kept");
        }
        if let Some(record) = &self.record {
            let text = format!("incident #{} is already open; close it first (C)", record.incident.id);
            return self.say(&text);
        }
        // The host's own runbooks come first in the list; without any, the built-in first-15-minutes.
        let runbook = if self.configured_runbooks > 0 {
            1
        } else {
            self.runbooks.iter().position(|r| r.name == "first-15-minutes").map_or(0, |i| i + 1)
        };
        self.prompt = Some(Prompt::Open(OpenForm { title: String::new(), severity: Severity::P1, runbook }));
        Vec::new()
    }

    /// Ticks or unticks the selected step; a tick carries `evidence` (what the checks and logs said then).
    fn toggle_step(&mut self, evidence: &str) -> Vec<Effect> {
        let (Some(incident), Some((step, _))) = (self.open_incident_id(), self.selected_step()) else {
            return self.say("select a runbook step of the open incident to tick it");
        };
        let (kind, text) = match self.checklist.state(&step) {
            StepState::Done { .. } => (EventKind::Untick, "reopened".to_string()),
            _ if evidence.is_empty() => (EventKind::Tick, "done".to_string()),
            _ => (EventKind::Tick, format!("done\n{evidence}")),
        };
        vec![Effect::AddEvent { incident, kind, step: Some(step), text }]
    }

    fn run_selected(&mut self) -> Vec<Effect> {
        if self.focus == Focus::Checklist
            && let Some((step, definition)) = self.selected_step()
            && let StepKind::Check(check) = &definition.kind
        {
            let effect = Effect::RunCheck { incident: self.open_incident_id(), step, check: check.clone() };
            self.notice = Some(format!("checking {check}…"));
            return vec![effect];
        }
        let name = match self.focus {
            Focus::Actions => self.actions.get(self.action_cursor).map(|a| a.name.clone()),
            _ => match self.selected_step() {
                Some((_, step)) => match &step.kind {
                    StepKind::Action(name) => Some(name.clone()),
                    _ => None,
                },
                None => None,
            },
        };
        match name {
            Some(name) => self.request_action(&name),
            None => self.say("select an action (press l or → for the action list) or a step that names one"),
        }
    }

    /// Opens the confirmation dialog for `name`, or says why not (and records the refusal).
    fn request_action(&mut self, name: &str) -> Vec<Effect> {
        let Some(spec) = self.actions.iter().find(|a| a.name == name).cloned() else {
            return self.say(&format!("no action named `{name}` in the config"));
        };
        if self.read_only {
            self.notice = Some("read-only session: actions are disabled (--read-only or settings.read_only)".into());
            let detail = Some("read-only session".to_string());
            return vec![Effect::Audit { event: "refused", action: Box::new(spec), detail }];
        }
        let placeholders = spec.placeholders();
        if !placeholders.is_empty() {
            let sets: Vec<String> = placeholders.iter().map(|p| format!("--set {p}=...")).collect();
            self.notice =
                Some(format!("`{name}` needs values: run it as firstwatch action run \"{name}\" {}", sets.join(" ")));
            let detail = Some(format!("placeholders without values: {}", placeholders.join(", ")));
            return vec![Effect::Audit { event: "refused", action: Box::new(spec), detail }];
        }
        if self.run.as_ref().is_some_and(|r| r.outcome.is_none()) {
            self.notice = Some("another action is still running; wait for it or cancel it (c)".into());
            let detail = Some("another action was running in this console".to_string());
            return vec![Effect::Audit { event: "refused", action: Box::new(spec), detail }];
        }
        self.next_nonce += 1;
        let mut dialog = ConfirmDialog::new(self.next_nonce, spec.clone(), self.host.clone());
        dialog.follow_up = spec.follow_up_summary(&self.actions);
        self.prompt = Some(Prompt::Confirm(Box::new(dialog)));
        vec![Effect::Audit {
            event: "request",
            action: Box::new(spec),
            detail: Some("confirmation dialog opened".into()),
        }]
    }

    fn cancel_run(&mut self) -> Vec<Effect> {
        let Some(run) = self.run.as_mut().filter(|r| r.outcome.is_none()) else {
            return self.say("no action is running");
        };
        let Some(canceller) = run.canceller.clone() else { return Vec::new() };
        if !run.cancel_asked {
            run.cancel_asked = true;
            return self.say("press c again to stop it (SIGTERM to its process group, then SIGKILL)");
        }
        self.notice = Some("stopping the action".into());
        vec![Effect::Cancel(canceller)]
    }

    pub fn on_nav(&mut self, action: &Action, _ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        let steps = self.runbook().map_or(0, |r| r.step_count());
        let timeline = self.record.as_ref().map_or(0, |r| r.events.len());
        // The timeline counts back from its newest entry, so "up" scrolls to older ones.
        let action = match (self.focus, action) {
            (Focus::Timeline, Action::Up) => &Action::Down,
            (Focus::Timeline, Action::Down) => &Action::Up,
            (Focus::Timeline, Action::PageUp) => &Action::PageDown,
            (Focus::Timeline, Action::PageDown) => &Action::PageUp,
            (Focus::Timeline, Action::Top) => &Action::Bottom,
            (Focus::Timeline, Action::Bottom) => &Action::Top,
            (_, action) => action,
        };
        let (cursor, len) = match self.focus {
            Focus::Checklist => (&mut self.step_cursor, steps),
            Focus::Actions => (&mut self.action_cursor, self.actions.len()),
            Focus::Timeline => (&mut self.timeline_scroll, timeline),
        };
        let last = len.saturating_sub(1);
        match action {
            Action::Up => *cursor = cursor.saturating_sub(1),
            Action::Down => *cursor = (*cursor + 1).min(last),
            Action::PageUp => *cursor = cursor.saturating_sub(10),
            Action::PageDown => *cursor = (*cursor + 10).min(last),
            Action::Top => *cursor = 0,
            Action::Bottom => *cursor = last,
            Action::Left | Action::Right => {
                let order = if self.read_only {
                    vec![Focus::Checklist, Focus::Timeline]
                } else {
                    vec![Focus::Checklist, Focus::Actions, Focus::Timeline]
                };
                let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
                let by = if *action == Action::Right { 1 } else { order.len() - 1 };
                self.focus = order[(at + by) % order.len()];
            }
            Action::Select => return Some(self.run_selected()),
            Action::Close if self.notice.is_some() => self.notice = None,
            _ => return None,
        }
        Some(Vec::new())
    }

    pub fn on_key(&mut self, key: KeyEvent, _ctx: &mut TabCtx) -> Vec<Effect> {
        let Some(prompt) = self.prompt.as_mut() else { return Vec::new() };
        match prompt {
            Prompt::Open(form) => match form.on_key(key, self.runbooks.len()) {
                FormOutcome::Pending => Vec::new(),
                FormOutcome::Cancelled => {
                    self.prompt = None;
                    Vec::new()
                }
                FormOutcome::Submit => {
                    let runbook =
                        form.runbook.checked_sub(1).and_then(|i| self.runbooks.get(i)).map(|r| r.name.clone());
                    let effect =
                        Effect::Open { title: form.title.trim().to_string(), severity: form.severity, runbook };
                    self.prompt = None;
                    vec![effect]
                }
            },
            Prompt::Confirm(dialog) => match dialog.on_key(key, self.read_only) {
                ConfirmOutcome::Pending => Vec::new(),
                ConfirmOutcome::Cancelled => {
                    let action = Box::new(dialog.spec.clone());
                    self.prompt = None;
                    self.notice = Some(format!("{} cancelled; nothing was run", action.name));
                    vec![Effect::Audit { event: "cancelled", action, detail: Some("cancelled in the dialog".into()) }]
                }
                ConfirmOutcome::Refused(refusal) => {
                    vec![Effect::Audit {
                        event: "refused",
                        action: Box::new(dialog.spec.clone()),
                        detail: Some(refusal.to_string()),
                    }]
                }
                ConfirmOutcome::Confirmed(confirmed) => {
                    let nonce = dialog.nonce;
                    let spec = confirmed.spec().clone();
                    self.prompt = None;
                    let (canceller, cancel) = cancel_pair();
                    self.run = Some(RunPane {
                        nonce,
                        name: spec.name.clone(),
                        started: self.wall,
                        lines: VecDeque::from([format!("$ {}", sanitize_str(&spec.argv_line()))]),
                        dropped: 0,
                        outcome: None,
                        failed: false,
                        dry_run: confirmed.dry_run(),
                        canceller: Some(canceller),
                        rollback: spec.rollback_with.clone(),
                        cancel_asked: false,
                    });
                    vec![Effect::Run { nonce, confirmed, cancel }]
                }
            },
            Prompt::Editor(editor) => match editor.on_key(key) {
                EditorOutcome::Pending => Vec::new(),
                EditorOutcome::Cancelled => {
                    self.prompt = None;
                    Vec::new()
                }
                EditorOutcome::Save(text) => {
                    let purpose = editor.purpose.clone();
                    self.prompt = None;
                    let Some(incident) = self.open_incident_id() else {
                        return self.say("the incident was closed meanwhile; nothing saved");
                    };
                    match purpose {
                        EditorPurpose::Note { step } => {
                            vec![Effect::AddEvent { incident, kind: EventKind::Note, step, text }]
                        }
                        EditorPurpose::Skip { step } => {
                            vec![Effect::AddEvent { incident, kind: EventKind::Skip, step: Some(step), text }]
                        }
                        EditorPurpose::Close => vec![Effect::Close { incident, resolution: text }],
                    }
                }
            },
        }
    }

    /// A frame showing this tab has been drawn: an open confirmation dialog was
    /// on it, so from now on keys answer it.
    pub fn on_frame_drawn(&mut self) {
        if let Some(Prompt::Confirm(dialog)) = self.prompt.as_mut() {
            dialog.armed = true;
        }
    }

    /// Once a second: keeps the T+ clock and elapsed time current.
    pub fn on_tick(&mut self, ctx: &mut TabCtx) -> bool {
        self.wall = ctx.wall;
        if self.record.is_some() {
            self.update_status(ctx);
        }
        let running = self.run.as_ref().is_some_and(|r| r.outcome.is_none());
        self.record.is_some() || running
    }
}

/// The state of the world when a step is ticked: the health summary, GPU and backup
/// alerts, and the newest log errors.
fn evidence(ctx: &TabCtx) -> String {
    let mut lines = Vec::new();
    if let Some(health) = &ctx.status.health {
        lines.push(format!("health: {}", health.text));
    }
    if let Some(gpu) = &ctx.status.gpu {
        lines.push(format!("gpu: {}", gpu.text));
    }
    if let Some(backups) = &ctx.status.backups {
        lines.push(backups.text.clone());
    }
    lines.extend(ctx.evidence.recent_errors().map(|line| format!("log: {line}")));
    lines.join("\n")
}
