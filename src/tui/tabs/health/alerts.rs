//! The health tab's alerts section: the latest answer of every Alertmanager,
//! flattened into the lines drawn under the checks (a heading per group, then
//! its alerts; one line per engine that could not be read). The selection
//! moves from the last check into these lines and back; group headings are
//! stepped over. Answers arrive as messages from [`crate::engine::poll`].

use crate::engine::alerts::{self, AlertView, EngineAlerts, Entry, Severity, State};
use crate::engine::poll::AlertPoller;
use crate::incident::timeline::transition_text;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct AlertsSection {
    pub(super) poller: Option<AlertPoller>,
    /// The Alertmanagers being read, in config order.
    pub(super) engines: Vec<String>,
    /// The latest answer of each of `engines` (none before its first).
    pub(super) results: Vec<Option<Arc<EngineAlerts>>>,
    /// What is drawn, in order.
    pub(super) lines: Vec<AlertLine>,
    /// The selected line, while the selection is in this section (never a heading).
    pub(super) cursor: Option<usize>,
    pub(super) counts: Counts,
    /// How each engine's alerts stood for the timeline after its last good answer
    /// (none before its first), what the next answer is compared with.
    known: Vec<Option<Known>>,
    /// Where the lines were last drawn, for mouse clicks.
    pub(super) hits: std::cell::Cell<super::super::ListHits>,
}

/// One drawn line of the section.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertLine {
    /// A notification group's heading: `am › alertname="X", job="api" (receiver)`.
    Group {
        engine: String,
        labels: String,
        receiver: String,
    },
    Alert(Arc<AlertView>),
    /// An engine that could not be read; `error` names it.
    Unreadable {
        engine: String,
        error: String,
    },
}

impl AlertLine {
    pub fn selectable(&self) -> bool {
        !matches!(self, AlertLine::Group { .. })
    }

    /// What keeps a selection on "the same" line across answers.
    fn key(&self) -> (&str, &str) {
        match self {
            AlertLine::Group { engine, labels, .. } => (engine, labels),
            AlertLine::Alert(alert) => (&alert.engine, &alert.fingerprint),
            AlertLine::Unreadable { engine, .. } => (engine, ""),
        }
    }
}

/// What the section heading and the status line say, counted once per answer.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    pub critical: usize,
    /// Active warnings and active alerts without a severity.
    pub warning: usize,
    pub info: usize,
    pub suppressed: usize,
    pub unprocessed: usize,
    pub unreadable: usize,
    /// The oldest active critical alert's name.
    pub first_critical: Option<String>,
}

impl AlertsSection {
    /// A section reading `engines` (in config order) through `poller`.
    pub fn new(engines: Vec<String>, poller: Option<AlertPoller>) -> AlertsSection {
        let results = vec![None; engines.len()];
        AlertsSection { poller, engines, results, ..AlertsSection::default() }
    }

    /// Whether any Alertmanager is configured, so the section is drawn.
    pub fn present(&self) -> bool {
        !self.engines.is_empty()
    }

    /// Engines not heard from yet.
    pub fn waiting(&self) -> impl Iterator<Item = &str> {
        self.engines.iter().zip(&self.results).filter(|(_, r)| r.is_none()).map(|(e, _)| e.as_str())
    }

    /// Takes an engine's answer (an engine not configured here is added, so tests can feed any).
    /// Returns a timeline line for each alert that started or stopped firing, or was
    /// silenced, since the engine's last good answer; none for its first one, nor for
    /// a failure (an engine that cannot be read has not resolved anything).
    pub(super) fn apply(&mut self, answer: Arc<EngineAlerts>) -> Vec<String> {
        let index = match self.engines.iter().position(|e| *e == answer.engine) {
            Some(index) => index,
            None => {
                self.engines.push(answer.engine.clone());
                self.results.push(None);
                self.engines.len() - 1
            }
        };
        self.known.resize(self.engines.len(), None);
        let mut changes = Vec::new();
        if answer.read.is_ok() {
            let (now, changed) = alert_changes(self.known[index].as_ref(), &answer);
            if self.known[index].is_some() {
                changes = changed;
            }
            self.known[index] = Some(now);
        }
        self.results[index] = Some(answer);
        changes
    }

    /// The lines drawn, in order.
    pub fn lines(&self) -> &[AlertLine] {
        &self.lines
    }

    pub fn selected(&self) -> Option<&AlertLine> {
        self.cursor.and_then(|c| self.lines.get(c))
    }

    /// Flattens the answers into lines, keeping those whose alerts match `needle`
    /// (lower case) and, with `active_only`, only active alerts. The selection stays
    /// on the same alert when it is still there, else near where it was.
    pub(super) fn rebuild(&mut self, needle: &str, active_only: bool) {
        let kept = self.selected().map(|line| (line.key().0.to_string(), line.key().1.to_string()));
        let answers: Vec<&Arc<EngineAlerts>> = self.results.iter().flatten().collect();
        let mut lines = Vec::new();
        for entry in alerts::entries(&answers) {
            match entry {
                Entry::Group(group) => {
                    let shown: Vec<&Arc<AlertView>> = group
                        .alerts
                        .iter()
                        .filter(|a| !active_only || a.state == State::Active)
                        .filter(|a| needle.is_empty() || matches(a, needle))
                        .collect();
                    if shown.is_empty() {
                        continue;
                    }
                    lines.push(AlertLine::Group {
                        engine: group.engine.clone(),
                        labels: group.labels_text(),
                        receiver: group.receiver.clone(),
                    });
                    lines.extend(shown.into_iter().map(|a| AlertLine::Alert(a.clone())));
                }
                Entry::Unreadable { engine, error } => {
                    lines.push(AlertLine::Unreadable { engine: engine.to_string(), error: error.to_string() });
                }
            }
        }
        self.counts = count(&answers);
        let before = self.cursor;
        self.lines = lines;
        self.cursor = match (kept, before) {
            (Some((engine, key)), Some(before)) => self
                .lines
                .iter()
                .position(|line| line.key() == (engine.as_str(), key.as_str()))
                .or_else(|| self.settle(before.min(self.lines.len().saturating_sub(1)), true))
                .or_else(|| self.settle(before.min(self.lines.len().saturating_sub(1)), false)),
            _ => None,
        };
    }

    /// The nearest selectable line from `line`, looking down (or up) only.
    pub(super) fn settle(&self, line: usize, down: bool) -> Option<usize> {
        if down {
            (line..self.lines.len()).find(|&i| self.lines[i].selectable())
        } else {
            (0..=line.min(self.lines.len().checked_sub(1)?)).rev().find(|&i| self.lines[i].selectable())
        }
    }
}

fn matches(alert: &AlertView, needle: &str) -> bool {
    alert.name.to_lowercase().contains(needle)
        || alert.labels.values().any(|v| v.to_lowercase().contains(needle))
        || alert.summary().to_lowercase().contains(needle)
}

fn count(answers: &[&Arc<EngineAlerts>]) -> Counts {
    let mut counts = Counts::default();
    let mut oldest: Option<&AlertView> = None;
    for answer in answers {
        if answer.read.is_err() {
            counts.unreadable += 1;
        }
        for alert in answer.alerts() {
            match (alert.state, alert.severity) {
                (State::Suppressed, _) => counts.suppressed += 1,
                (State::Unprocessed, _) => counts.unprocessed += 1,
                (State::Active, Severity::Critical) => {
                    counts.critical += 1;
                    if oldest.is_none_or(|o| alert.starts_at < o.starts_at) {
                        oldest = Some(alert);
                    }
                }
                (State::Active, Severity::Warning | Severity::None) => counts.warning += 1,
                (State::Active, Severity::Info) => counts.info += 1,
            }
        }
    }
    counts.first_critical = oldest.map(|a| a.name.clone());
    counts
}

/// What `i` on an alert records: a title from its name and summary, the level its
/// severity suggests (critical P1, warning or none P2, info P3), its labels and
/// annotations as the first note, and the runbooks its annotations name.
pub(super) fn declaration(alert: &AlertView) -> super::Effect {
    let summary = alert.summary();
    let name = if alert.name.is_empty() { "alert" } else { alert.name.as_str() };
    let title = if summary.is_empty() { name.to_string() } else { format!("{name}: {summary}") };
    let title = crate::util::width::truncate(&title, 120);
    let mut evidence = format!(
        "alert: {name} {} {} on {} since {}",
        alert.severity_label.as_deref().unwrap_or("(no severity)"),
        alert.state.as_str(),
        alert.engine,
        alert.starts_at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    let labels: Vec<String> = alert.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    evidence.push_str(&format!("\nlabels: {}", labels.join(", ")));
    for (key, value) in &alert.annotations {
        evidence.push_str(&format!("\n{key}: {value}"));
    }
    if !alert.silenced_by.is_empty() {
        evidence.push_str(&format!("\nsilenced by: {}", alert.silenced_by.join(", ")));
    }
    if let Some(url) = &alert.generator_url {
        evidence.push_str(&format!("\nsource: {url}"));
    }
    super::Effect::DeclareAlert {
        alert: name.to_string(),
        title,
        evidence,
        severity: alert.severity.incident_severity(),
        runbooks: alert.runbook_hints(),
    }
}

/// How an alert stands for the timeline: absent or resolved is `ok`; unprocessed
/// alerts are left out, as they are about to become one of the others.
fn timeline_state(alert: &AlertView) -> Option<&'static str> {
    match alert.state {
        State::Active => Some("firing"),
        State::Suppressed => Some("silenced"),
        State::Unprocessed => None,
    }
}

/// The lines for what changed between two answers of one engine, in the form the
/// incident timeline folds per subject (`alert: ApiDown (am) ok → firing: ...`).
/// An engine's alerts by fingerprint, with the state the timeline last gave each.
type Known = std::collections::BTreeMap<String, (Arc<AlertView>, &'static str)>;

/// How `after` stands against what was `known`, and the lines for what changed, in the
/// form the incident timeline folds per subject (`alert: ApiDown (am) ok → firing: ...`).
/// An unprocessed alert keeps the state it had: it is on its way through silences.
fn alert_changes(known: Option<&Known>, after: &EngineAlerts) -> (Known, Vec<String>) {
    let empty = Known::new();
    let was = known.unwrap_or(&empty);
    let mut now = Known::new();
    for alert in after.alerts() {
        let state = timeline_state(alert).or_else(|| was.get(&alert.fingerprint).map(|(_, state)| *state));
        if let Some(state) = state {
            now.insert(alert.fingerprint.clone(), (alert.clone(), state));
        }
    }
    let subject = |alert: &AlertView| format!("{} ({})", alert.name, alert.engine);
    let detail = |alert: &AlertView| {
        let severity = alert.severity_label.as_deref().unwrap_or("no severity");
        match alert.summary() {
            summary if summary.is_empty() => severity.to_string(),
            summary => format!("{severity}, {summary}"),
        }
    };
    let mut changes = Vec::new();
    for (fingerprint, (alert, state)) in &now {
        let from = was.get(fingerprint).map_or("ok", |(_, state)| state);
        if from != *state {
            changes.push(transition_text("alert", &subject(alert), from, state, &detail(alert)));
        }
    }
    // Still sent, only unprocessed and never seen otherwise: neither firing nor resolved yet.
    let sent: std::collections::HashSet<&str> = after.alerts().into_iter().map(|a| a.fingerprint.as_str()).collect();
    for (fingerprint, (alert, state)) in was {
        if !sent.contains(fingerprint.as_str()) {
            changes.push(transition_text("alert", &subject(alert), state, "ok", "resolved"));
        }
    }
    (now, changes)
}
