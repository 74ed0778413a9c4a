//! The health tab's state changes: reports in, keys in, no I/O.

use super::{Command, Effect, HealthTab, Sort};
use crate::health::{CheckView, Status};
use crate::tui::action::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;

/// Rows moved by PageUp/PageDown.
const PAGE: usize = 10;

impl HealthTab {
    /// Takes new views; returns a line for each check whose state changed from a
    /// real verdict (the first verdict after start is not a change).
    pub(super) fn apply(&mut self, views: Vec<Arc<CheckView>>) -> Vec<String> {
        let mut changes = Vec::new();
        for view in views {
            let index = view.index;
            if index >= self.rows.len() {
                continue;
            }
            self.requested.remove(&index);
            // A failure not yet confirmed is no verdict: a flap must not reach the timeline.
            if !matches!(view.status, Status::Pending | Status::Failing) {
                let before = self.verdicts.insert(index, view.status);
                if let Some(before) = before.filter(|before| *before != view.status) {
                    // In the form the incident timeline folds per check.
                    changes.push(crate::incident::timeline::transition_text(
                        "health",
                        &view.name,
                        before.label(),
                        view.status.label(),
                        &view.message(),
                    ));
                }
            }
            self.rows[index] = view;
        }
        self.reorder();
        changes
    }

    /// The phrase for the status line of every tab.
    pub(super) fn summary(&self) -> Option<crate::tui::model::HealthSummary> {
        use crate::health::Status;
        if self.rows.is_empty() {
            return None;
        }
        let count = |status: Status| self.rows.iter().filter(|r| r.status == status).count();
        let ok = count(Status::Ok);
        let critical: Vec<&str> =
            self.rows.iter().filter(|r| r.status == Status::Critical).map(|r| r.name.as_str()).collect();
        let warning = count(Status::Warning) + count(Status::Unknown);
        // A failing check not yet confirmed is named when nothing worse is: it is the
        // root cause its suppressed dependents point at.
        let failing: Vec<&CheckView> =
            self.rows.iter().filter(|r| r.status == Status::Failing).map(|r| r.as_ref()).collect();
        // A dependent held while its parent runs again points at the parent, never at itself.
        let named = failing.iter().find(|r| !r.waiting_for_parent).or(failing.first());
        let maintenance = self.window.is_some();
        let text = if let Some(first) = critical.first() {
            // Compact: at 80 columns about a dozen cells are left for it.
            let expected = if maintenance { " (maintenance)" } else { "" };
            format!("✗{} {first}{expected}", critical.len())
        } else if warning > 0 {
            format!("▲{warning} warning")
        } else if let Some(first) = named {
            match (&first.parent, first.waiting_for_parent) {
                (Some(parent), true) => format!("!{} checking {parent}", failing.len()),
                _ => format!("!{} {} {}", failing.len(), first.name, first.status_text()),
            }
        } else {
            format!("✓{ok}/{} ok", self.rows.len())
        };
        Some(crate::tui::model::HealthSummary { text, critical: !critical.is_empty() && !maintenance })
    }

    /// Recomputes the display order after a report, a sort or a filter change.
    pub(super) fn reorder(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut order: Vec<usize> = (0..self.rows.len())
            .filter(|&i| {
                let row = &self.rows[i];
                (!self.failing_only || row.status.is_failing() || row.failures > 0)
                    && (needle.is_empty()
                        || row.name.to_lowercase().contains(&needle)
                        || row.kind.contains(&needle)
                        || row.target.to_lowercase().contains(&needle)
                        || row.message().to_lowercase().contains(&needle))
            })
            .collect();
        let rows = &self.rows;
        match self.sort {
            Sort::Status => order
                .sort_by(|&a, &b| (rows[a].status.rank(), &rows[a].name).cmp(&(rows[b].status.rank(), &rows[b].name))),
            Sort::Name => order.sort_by(|&a, &b| rows[a].name.cmp(&rows[b].name)),
            Sort::Latency => order.sort_by(|&a, &b| {
                let key = |i: usize| std::cmp::Reverse(rows[i].latency_ms().map_or(-1, |l| l as i64));
                (key(a), &rows[a].name).cmp(&(key(b), &rows[b].name))
            }),
        }
        self.order = order;
        if !self.moved || self.selected.is_none_or(|s| !self.order.contains(&s)) {
            self.selected = self.order.first().copied();
        }
    }

    /// Position of the selection in the display order.
    pub(super) fn position(&self) -> Option<usize> {
        self.selected.and_then(|s| self.order.iter().position(|&i| i == s))
    }

    pub(super) fn selected_row(&self) -> Option<&CheckView> {
        self.selected.and_then(|s| self.rows.get(s)).map(|row| row.as_ref())
    }

    pub(super) fn command(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::RunSelected => {
                let (Some(engine), Some(check)) = (&self.engine, self.selected) else { return Vec::new() };
                self.requested.insert(check);
                return vec![Effect::RunNow { engine: engine.clone(), check: Some(check) }];
            }
            Command::RunAll => {
                let Some(engine) = &self.engine else { return Vec::new() };
                self.requested.extend(0..self.rows.len());
                return vec![Effect::RunNow { engine: engine.clone(), check: None }];
            }
            Command::Declare => {
                let Some(row) = self.selected_row() else { return Vec::new() };
                return vec![declaration(row)];
            }
            Command::CycleSort => self.sort = self.sort.next(),
            Command::ToggleFailingOnly => self.failing_only = !self.failing_only,
            Command::Filter => self.filter_open = true,
            Command::ToggleDetail => self.detail = !self.detail,
        }
        self.reorder();
        Vec::new()
    }

    pub(super) fn navigate(&mut self, action: &Action) -> Option<Vec<Effect>> {
        if self.rows.is_empty() {
            return None;
        }
        let last = self.order.len().saturating_sub(1);
        let position = self.position().unwrap_or(0);
        let target = match action {
            Action::Up => position.saturating_sub(1),
            Action::Down => (position + 1).min(last),
            Action::PageUp => position.saturating_sub(PAGE),
            Action::PageDown => (position + PAGE).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            Action::Select => {
                self.detail = !self.detail;
                return Some(Vec::new());
            }
            Action::Close if self.detail => {
                self.detail = false;
                return Some(Vec::new());
            }
            Action::Close if !self.filter.is_empty() || self.failing_only => {
                self.filter.clear();
                self.failing_only = false;
                self.reorder();
                return Some(Vec::new());
            }
            _ => return None,
        };
        self.selected = self.order.get(target).copied();
        self.moved = true;
        Some(Vec::new())
    }

    /// A click on a row selects that check.
    pub fn click(&mut self, x: u16, y: u16) -> bool {
        let Some(position) = self.hits.get().position_at(x, y) else { return false };
        let Some(&check) = self.order.get(position) else { return false };
        self.selected = Some(check);
        self.moved = true;
        true
    }

    /// Keys while the filter prompt is open: text edits it live; enter keeps it, esc clears it.
    pub(super) fn filter_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Enter => self.filter_open = false,
            KeyCode::Esc => {
                self.filter_open = false;
                self.filter.clear();
            }
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => self.filter.clear(),
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::CONTROL)
                    && !c.is_control()
                    && self.filter.chars().count() < 64 =>
            {
                self.filter.push(c);
            }
            _ => {}
        }
        self.reorder();
    }
}

/// What `i` records about a check: a title for a new incident and the evidence for its timeline.
fn declaration(row: &CheckView) -> Effect {
    use crate::incident::record::Severity as IncidentSeverity;
    let since = row.since.map(|t| format!(" since {}", t.format("%H:%M:%S UTC"))).unwrap_or_default();
    let evidence =
        format!("health: {} {}{since}: {} ({} {})", row.name, row.status.label(), row.message(), row.kind, row.target);
    let severity = match row.status {
        // One service down is "limited impact" until someone decides otherwise; S changes it.
        Status::Critical | Status::Unknown => IncidentSeverity::P2,
        _ => IncidentSeverity::P3,
    };
    let title = if row.status.is_failing() {
        format!("{} failing", row.name)
    } else {
        format!("{}: {}", row.name, row.status.label())
    };
    Effect::Declare { check: row.name.clone(), title, evidence, severity }
}
