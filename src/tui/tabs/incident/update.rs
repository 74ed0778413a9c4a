//! Folding keys and engine reports into the tab's state. Pure: every piece
//! of work goes out as an [`Effect`].

use super::prompt::{
    ConfirmDialog, ConfirmOutcome, Editor, EditorOutcome, EditorPurpose, FormOutcome, OpenForm, PickOutcome, Prompt,
    Question, SeverityPicker, answer,
};
use super::{Command, Effect, Focus, HostOperation, IncidentTab, Msg, RunPane};
use crate::action::cancel_pair;
use crate::incident::checklist::{Checklist, StepState};
use crate::incident::record::{EventKind, Severity};
use crate::incident::runbook::StepKind;
use crate::tui::action::Action;
use crate::tui::tabs::TabCtx;
use crate::util::sanitize::sanitize_str;
use crossterm::event::{KeyCode, KeyEvent};
use std::collections::VecDeque;

impl IncidentTab {
    pub fn on_msg(&mut self, msg: Msg, ctx: &mut TabCtx) -> Vec<Effect> {
        match msg {
            Msg::Loaded(record) => {
                self.checklist = record.as_ref().map(|r| Checklist::from_events(&r.events)).unwrap_or_default();
                self.record = record;
                self.refold();
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
                let mut ticks = Vec::new();
                if let Some(run) = self.run.as_ref().filter(|r| r.nonce == nonce && !failed && !r.dry_run) {
                    ticks = self.tick_steps_bound_to(&run.name.clone());
                }
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
                return ticks;
            }
            Msg::Notice(text) => self.notice = Some(text),
            Msg::Operations(operations) => {
                self.operations = operations;
                self.action_cursor = self.action_cursor.min(self.action_rows().saturating_sub(1));
            }
            Msg::Launched { nonce, id } => {
                if let Some(run) = self.run.as_mut().filter(|r| r.nonce == nonce) {
                    run.operation = Some(id);
                }
            }
        }
        Vec::new()
    }

    /// Operations on this host other than the one this console's pane already shows.
    pub(super) fn other_operations(&self) -> impl Iterator<Item = &HostOperation> {
        let shown = self.run.as_ref().filter(|r| r.outcome.is_none()).and_then(|r| r.operation);
        self.operations.iter().filter(move |op| Some(op.id) != shown)
    }

    /// Rows of the actions pane: the configured actions, then running operations.
    pub(super) fn action_rows(&self) -> usize {
        if self.read_only { 0 } else { self.actions.len() + self.other_operations().count() }
    }

    /// Follows another front end's operation in the pane.
    fn follow_operation(&mut self, operation: HostOperation) -> Vec<Effect> {
        if self.run.as_ref().is_some_and(|r| r.outcome.is_none()) {
            return self
                .say("this console's own run is still going; wait for it, or follow with firstwatch ops follow");
        }
        self.next_nonce += 1;
        let nonce = self.next_nonce;
        let name = format!("#{} {} (by {})", operation.id, operation.name, operation.who);
        self.run = Some(RunPane {
            operation: Some(operation.id),
            ..RunPane::new(nonce, name, operation.started.unwrap_or(self.wall))
        });
        vec![Effect::Follow { nonce, id: operation.id, output: operation.output }]
    }

    /// A successful run of `action` (from the actions pane or through its step) ticks
    /// every open step bound to it.
    fn tick_steps_bound_to(&self, action: &str) -> Vec<Effect> {
        let (Some(incident), Some(runbook)) = (self.open_incident_id(), self.runbook()) else { return Vec::new() };
        runbook
            .steps()
            .filter(|(key, _, step)| {
                matches!(&step.kind, StepKind::Action(name) if name == action)
                    && !self.checklist.state(key).is_settled()
            })
            .map(|(key, _, _)| Effect::AddEvent {
                incident,
                kind: EventKind::Tick,
                step: Some(key),
                text: format!("done: {action} ran"),
            })
            .collect()
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
            Command::PickSeverity => self.pick_severity(None),
            Command::MarkMilestone => self.pick_milestone(),
            Command::CloseIncident => {
                if self.open_incident_id().is_none() {
                    return self.say("no incident is open");
                }
                let total = self.runbook().map_or(0, |r| r.step_count());
                let open = self
                    .runbook()
                    .map_or(0, |r| r.steps().filter(|(key, _, _)| !self.checklist.state(key).is_settled()).count());
                self.prompt = Some(if open > 0 {
                    Prompt::Ask(Question::CloseWithOpenSteps { open, total })
                } else {
                    Prompt::Editor(Box::new(Editor::new(EditorPurpose::Close)))
                });
                Vec::new()
            }
            Command::ShowStep => match self.selected_step() {
                Some((step, _)) => {
                    self.prompt = Some(Prompt::Step(step));
                    Vec::new()
                }
                None => self.say("no runbook step to show"),
            },
            Command::ToggleMachineEntries => {
                self.hide_machine = !self.hide_machine;
                self.refold();
                self.timeline_scroll = 0;
                Vec::new()
            }
            Command::Export => match self.open_incident_id() {
                Some(incident) => vec![Effect::Export { incident }],
                None => self.say("no incident is open to export (closed ones: firstwatch incident export ID)"),
            },
        }
    }

    /// Works out the timeline's rows again, after the record or the filter changed.
    fn refold(&mut self) {
        self.folded =
            self.record.as_ref().map(|r| super::timeline::fold(&r.events, self.hide_machine)).unwrap_or_default();
    }

    pub(super) fn say(&mut self, text: &str) -> Vec<Effect> {
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
        let runbook = self.default_runbook();
        self.prompt = Some(Prompt::Open(OpenForm::new(String::new(), Severity::P1, runbook, None)));
        Vec::new()
    }

    /// The runbook a new incident is offered (as an [`OpenForm::runbook`] index): the host's
    /// own first runbook, else the built-in first 15 minutes.
    fn default_runbook(&self) -> usize {
        if self.configured_runbooks > 0 {
            1
        } else {
            self.runbooks.iter().position(|r| r.name == "first-15-minutes").map_or(0, |i| i + 1)
        }
    }

    /// `i` on a check: the same dialog as `n`, filled in from the check (title, its
    /// `incident_severity` or P2, its `runbook` or the host's default) for the operator
    /// to confirm or change. With an incident already open, the evidence goes onto it.
    pub fn declare_from_check(&mut self, check: &str, title: String, evidence: String) -> Vec<Effect> {
        let hint = self.check_hints.get(check).cloned().unwrap_or_default();
        let severity = hint.severity.unwrap_or(Severity::P2);
        self.declare_prefilled(check, title, evidence, severity, hint.runbook.as_slice())
    }

    /// `i` on an alert: as [`Self::declare_from_check`], with the level its severity
    /// suggests and the first of `runbooks` (from its annotations) that names a
    /// runbook by name or title, else the host's default.
    pub fn declare_from_alert(
        &mut self,
        alert: &str,
        title: String,
        evidence: String,
        severity: Severity,
        runbooks: &[String],
    ) -> Vec<Effect> {
        self.declare_prefilled(alert, title, evidence, severity, runbooks)
    }

    fn declare_prefilled(
        &mut self,
        what: &str,
        title: String,
        evidence: String,
        severity: Severity,
        runbooks: &[String],
    ) -> Vec<Effect> {
        if !self.configured {
            return self.say("no store is open, so incidents cannot be kept");
        }
        if let Some(incident) = self.open_incident_id() {
            self.notice = Some(format!("{what}: noted on incident #{incident}"));
            return vec![Effect::AddEvent { incident, kind: EventKind::Note, step: None, text: evidence }];
        }
        let runbook = runbooks
            .iter()
            .find_map(|wanted| {
                let found = crate::incident::runbook::Runbook::find(&self.runbooks, wanted)?;
                self.runbooks.iter().position(|r| std::ptr::eq(r, found))
            })
            .map_or_else(|| self.default_runbook(), |i| i + 1);
        self.prompt = Some(Prompt::Open(OpenForm::new(title, severity, runbook, Some(evidence))));
        Vec::new()
    }

    /// Opens the P0-P3 picker; `step` is ticked once a level is chosen.
    fn pick_severity(&mut self, step: Option<String>) -> Vec<Effect> {
        let Some(record) = &self.record else { return self.say("no incident is open") };
        self.prompt = Some(Prompt::Severity(SeverityPicker::new(record.incident.severity, step)));
        Vec::new()
    }

    /// Ticks or unticks the selected step; a tick carries `evidence` (what the checks and logs said then).
    /// A step bound to a control opens that control instead, and completing it ticks the step.
    fn toggle_step(&mut self, evidence: &str) -> Vec<Effect> {
        let (Some(incident), Some((step, definition))) = (self.open_incident_id(), self.selected_step()) else {
            return self.say("select a runbook step of the open incident to tick it");
        };
        let settled = self.checklist.state(&step).is_settled();
        match definition.kind.clone() {
            StepKind::Severity if !settled => return self.pick_severity(Some(step)),
            StepKind::Action(name) if !settled => {
                let effects = self.request_action(&name);
                if self.prompt.is_some() {
                    self.notice = Some(format!("step {step} is ticked once {name} has run"));
                }
                return effects;
            }
            StepKind::Note if !settled => {
                let mut editor = Editor::new(EditorPurpose::Note { step: Some(step) });
                editor.ticks_step = true;
                self.prompt = Some(Prompt::Editor(Box::new(editor)));
                return Vec::new();
            }
            _ => {}
        }
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
        let operation = match self.action_cursor.checked_sub(self.actions.len()) {
            Some(index) if self.focus == Focus::Actions => self.other_operations().nth(index).cloned(),
            _ => None,
        };
        if let Some(operation) = operation {
            return self.follow_operation(operation);
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
        if self.read_only {
            return self.say("read-only session: nothing can be cancelled");
        }
        let Some(canceller) = run.canceller.clone() else {
            // Followed, not started here: its supervisor is asked, through the audited road.
            let Some(id) = run.operation else { return Vec::new() };
            // The first press asks; the second confirms and starts the question over.
            let asked = run.cancel_asked;
            run.cancel_asked = !asked;
            return match crate::ops::confirm::by_second_press(
                &crate::ops::confirm::Cancel { id },
                asked,
                self.read_only,
            ) {
                Ok(confirmed) => {
                    self.notice = Some(format!("asking operation #{id} to stop"));
                    vec![Effect::CancelOperation { confirmed }]
                }
                Err(_) => {
                    let question = format!("press c again to cancel {} (its supervisor stops it)", run.name);
                    self.say(&question)
                }
            };
        };
        if !run.cancel_asked {
            run.cancel_asked = true;
            return self.say("press c again to stop it (SIGTERM to its process group, then SIGKILL)");
        }
        self.notice = Some("stopping the action".into());
        vec![Effect::Cancel(canceller)]
    }

    pub fn on_nav(&mut self, action: &Action, ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        let steps = self.runbook().map_or(0, |r| r.step_count());
        let timeline = self.folded.slots.len();
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
            Focus::Actions => {
                let rows = self.action_rows();
                (&mut self.action_cursor, rows)
            }
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
            Action::Select if self.focus == Focus::Checklist => {
                return Some(self.on_command(super::Command::ShowStep, ctx));
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
                    let effect = Effect::Open {
                        title: form.title.trim().to_string(),
                        severity: form.severity,
                        runbook,
                        evidence: form.evidence.clone(),
                    };
                    self.prompt = None;
                    vec![effect]
                }
            },
            Prompt::Milestone(_) => self.on_milestone_key(key),
            Prompt::Severity(picker) => match picker.on_key(key) {
                PickOutcome::Pending => Vec::new(),
                PickOutcome::Cancelled => {
                    self.prompt = None;
                    Vec::new()
                }
                PickOutcome::Chosen(severity) => {
                    let (current, step) = (picker.current, picker.step.clone());
                    self.prompt = None;
                    let Some(incident) = self.open_incident_id() else {
                        return self.say("the incident was closed meanwhile; nothing saved");
                    };
                    // One change, one timeline entry: choosing the level it already has writes nothing.
                    let mut effects = Vec::new();
                    if severity != current {
                        effects.push(Effect::SetSeverity { incident, severity });
                    }
                    if let Some(step) = step {
                        let text = format!("done: severity {}", severity.label());
                        effects.push(Effect::AddEvent { incident, kind: EventKind::Tick, step: Some(step), text });
                    }
                    effects
                }
            },
            Prompt::Ask(Question::CloseWithOpenSteps { .. }) => match answer(key) {
                Some(true) => {
                    self.prompt = Some(Prompt::Editor(Box::new(Editor::new(EditorPurpose::Close))));
                    Vec::new()
                }
                Some(false) => {
                    self.prompt = None;
                    self.say("the incident stays open")
                }
                None => Vec::new(),
            },
            Prompt::Step(_) => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    self.prompt = None;
                }
                Vec::new()
            }
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
                        lines: VecDeque::from([format!("$ {}", sanitize_str(&spec.argv_line()))]),
                        dry_run: confirmed.dry_run(),
                        canceller: Some(canceller),
                        rollback: spec.rollback_with.clone(),
                        ..RunPane::new(nonce, spec.name.clone(), self.wall)
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
                    let (purpose, ticks_step) = (editor.purpose.clone(), editor.ticks_step);
                    self.prompt = None;
                    let Some(incident) = self.open_incident_id() else {
                        return self.say("the incident was closed meanwhile; nothing saved");
                    };
                    match purpose {
                        EditorPurpose::Note { step: Some(step) } if ticks_step => vec![
                            Effect::AddEvent { incident, kind: EventKind::Note, step: Some(step.clone()), text },
                            Effect::AddEvent {
                                incident,
                                kind: EventKind::Tick,
                                step: Some(step),
                                text: "done: note written".into(),
                            },
                        ],
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
