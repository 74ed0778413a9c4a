//! The health tab's state changes: reports in, keys in, no I/O.

use super::{Command, Effect, HealthTab, RowRef, Selection, Sort};
use crate::health::{CheckView, SeriesResult, Status};
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
        let alerts = &self.alerts.counts;
        if self.rows.is_empty() {
            return self.alerts_summary();
        }
        let count = |status: Status| self.rows.iter().filter(|r| r.status == status).count();
        let ok = count(Status::Ok);
        let critical: Vec<&str> =
            self.rows.iter().filter(|r| r.status == Status::Critical).map(|r| r.name.as_str()).collect();
        let warning = count(Status::Warning) + count(Status::Unknown) + alerts.warning + alerts.unreadable;
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
            format!("✗{} {first}{expected}", critical.len() + alerts.critical)
        } else if let Some(summary) = self.alerts_summary().filter(|s| s.critical) {
            return Some(summary);
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

    /// The table's rows before sorting and filtering: each check, or its series when it has some.
    pub(super) fn all_rows(&self) -> impl Iterator<Item = RowRef> + '_ {
        self.rows.iter().enumerate().flat_map(|(check, view)| {
            let count = view.series().len();
            let series: Box<dyn Iterator<Item = Option<usize>>> =
                if count == 0 { Box::new(std::iter::once(None)) } else { Box::new((0..count).map(Some)) };
            series.map(move |series| RowRef { check, series })
        })
    }

    pub(super) fn series_of(&self, row: RowRef) -> Option<&SeriesResult> {
        row.series.and_then(|index| self.rows.get(row.check)?.series().get(index))
    }

    /// The state a row shows: the check's, or its series' own.
    pub(super) fn row_status(&self, row: RowRef) -> Status {
        let view = &self.rows[row.check];
        match self.series_of(row) {
            Some(series) => view.series_status(series),
            None => view.status,
        }
    }

    pub(super) fn row_name(&self, row: RowRef) -> &str {
        match self.series_of(row) {
            Some(series) => &series.name,
            None => &self.rows[row.check].name,
        }
    }

    pub(super) fn row_message(&self, row: RowRef) -> String {
        let view = &self.rows[row.check];
        match self.series_of(row) {
            Some(series) => view.series_message(series),
            None => view.message(),
        }
    }

    /// The name drawn in a Name column `width` cells wide: a series too long for it
    /// drops its label keys (`gpu memory{gpu-a,1}`), so what tells rows apart stays.
    pub(super) fn row_label(&self, row: RowRef, width: usize) -> &str {
        match self.series_of(row) {
            Some(series) if crate::util::width::width(&series.name) > width => &series.short,
            Some(series) => &series.name,
            None => &self.rows[row.check].name,
        }
    }

    fn selection_of(&self, row: RowRef) -> Selection {
        Selection { check: row.check, series: self.series_of(row).map(|s| s.name.clone()) }
    }

    fn is_selected(&self, row: RowRef) -> bool {
        self.selected.as_ref().is_some_and(|selected| {
            selected.check == row.check && selected.series.as_deref() == self.series_of(row).map(|s| s.name.as_str())
        })
    }

    /// The status line's phrase from the alerts alone: an active critical alert by
    /// name, else how many active alerts warn (or engines cannot be read).
    fn alerts_summary(&self) -> Option<crate::tui::model::HealthSummary> {
        let alerts = &self.alerts.counts;
        let (text, critical) = if let Some(first) = &alerts.first_critical {
            (format!("✗{} {first}", alerts.critical), true)
        } else if alerts.warning + alerts.unreadable > 0 {
            (format!("▲{} warning", alerts.warning + alerts.unreadable), false)
        } else if self.alerts.present() && self.rows.is_empty() {
            ("✓ no alerts".to_string(), false)
        } else {
            return None;
        };
        Some(crate::tui::model::HealthSummary { text, critical })
    }

    /// Recomputes the display order after a report, a sort or a filter change.
    pub(super) fn reorder(&mut self) {
        let needle = self.filter.to_lowercase();
        let mut order: Vec<RowRef> = self
            .all_rows()
            .filter(|&r| {
                let view = &self.rows[r.check];
                let failed_before =
                    view.failures > 0 && self.series_of(r).is_none_or(|s| !s.level.eq(&crate::health::Level::Ok));
                (!self.failing_only || self.row_status(r).is_failing() || failed_before)
                    && (needle.is_empty()
                        || self.row_name(r).to_lowercase().contains(&needle)
                        || view.kind.contains(&needle)
                        || view.target.to_lowercase().contains(&needle)
                        || self.row_message(r).to_lowercase().contains(&needle))
            })
            .collect();
        match self.sort {
            Sort::Status => order.sort_by(|&a, &b| {
                (self.row_status(a).rank(), self.row_name(a)).cmp(&(self.row_status(b).rank(), self.row_name(b)))
            }),
            Sort::Name => order.sort_by(|&a, &b| self.row_name(a).cmp(self.row_name(b))),
            Sort::Latency => order.sort_by(|&a, &b| {
                let key = |r: RowRef| std::cmp::Reverse(self.rows[r.check].latency_ms().map_or(-1, |l| l as i64));
                (key(a), self.row_name(a)).cmp(&(key(b), self.row_name(b)))
            }),
        }
        self.order = order;
        self.at = self.selected.as_ref().and_then(|_| self.order.iter().position(|&r| self.is_selected(r)));
        if !self.moved || self.at.is_none() {
            self.select(0);
        }
        let mut counts = std::collections::HashMap::new();
        for row in self.all_rows() {
            *counts.entry(self.row_status(row)).or_insert(0) += 1;
        }
        self.counts = counts;
    }

    /// Selects the row at `position` in the display order (none when the list is empty).
    fn select(&mut self, position: usize) {
        self.selected = self.order.get(position).map(|&r| self.selection_of(r));
        self.at = self.selected.as_ref().map(|_| position);
    }

    /// Position of the selection in the display order.
    pub(super) fn position(&self) -> Option<usize> {
        self.at
    }

    /// How many rows (a check's series one each) are in `status`.
    pub(super) fn count(&self, status: Status) -> usize {
        self.counts.get(&status).copied().unwrap_or(0)
    }

    /// The check of the selected row; none while the selection is on the alerts.
    pub(super) fn selected_row(&self) -> Option<&CheckView> {
        if self.alerts.cursor.is_some() {
            return None;
        }
        self.selected.as_ref().and_then(|s| self.rows.get(s.check)).map(|row| row.as_ref())
    }

    /// The selected series, when the selected row is one.
    pub(super) fn selected_series(&self) -> Option<&SeriesResult> {
        if self.alerts.cursor.is_some() {
            return None;
        }
        let selected = self.selected.as_ref()?;
        let name = selected.series.as_ref()?;
        self.rows.get(selected.check)?.series().iter().find(|s| &s.name == name)
    }

    /// Lays the alerts out again after an answer, a filter or a failing-only change;
    /// with no check listed, the selection starts on the first alert.
    pub(super) fn rebuild_alerts(&mut self) {
        self.alerts.rebuild(&self.filter.to_lowercase(), self.failing_only);
        if self.alerts.cursor.is_none() && self.order.is_empty() {
            self.alerts.cursor = self.alerts.settle(0, true);
        }
    }

    /// Where the selection is in the one list of checks then alert lines.
    fn list_position(&self) -> usize {
        match self.alerts.cursor {
            Some(line) => self.order.len() + line,
            None => self.position().unwrap_or(0),
        }
    }

    /// Selects list position `target` (checks, then alert lines); a group heading is
    /// stepped over in the direction of travel, and above the first alert lies the last check.
    fn select_position(&mut self, target: usize, down: bool) {
        let checks = self.order.len();
        if target < checks {
            self.select(target);
            self.alerts.cursor = None;
            return;
        }
        let line = target - checks;
        let landed = if down {
            self.alerts.settle(line, true).or_else(|| self.alerts.settle(line, false))
        } else {
            self.alerts.settle(line, false)
        };
        match landed {
            Some(line) => self.alerts.cursor = Some(line),
            None if checks > 0 => {
                self.select(checks - 1);
                self.alerts.cursor = None;
            }
            None => self.alerts.cursor = self.alerts.settle(line, true),
        }
    }

    pub(super) fn command(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::RunSelected if self.alerts.cursor.is_some() => {
                return self.alerts.poller.iter().map(|p| Effect::RefreshAlerts(p.clone())).collect();
            }
            Command::RunSelected => {
                let (Some(engine), Some(check)) = (&self.engine, self.selected.as_ref().map(|s| s.check)) else {
                    return Vec::new();
                };
                self.requested.insert(check);
                return vec![Effect::RunNow { engine: engine.clone(), check: Some(check) }];
            }
            Command::RunAll => {
                let mut effects: Vec<Effect> =
                    self.alerts.poller.iter().map(|p| Effect::RefreshAlerts(p.clone())).collect();
                if let Some(engine) = &self.engine {
                    self.requested.extend(0..self.rows.len());
                    effects.push(Effect::RunNow { engine: engine.clone(), check: None });
                }
                return effects;
            }
            Command::SilenceAlert => {
                let Some(alert) = self.selected_alert() else { return Vec::new() };
                let (engine, labels) = (alert.engine.clone(), alert.raw_labels().clone());
                return vec![Effect::SilenceAlert { engine, labels }];
            }
            Command::Declare if self.alerts.cursor.is_some() => {
                return self.selected_alert().map(super::alerts::declaration).into_iter().collect();
            }
            Command::Declare => {
                let Some(row) = self.selected_row() else { return Vec::new() };
                return vec![declaration(row, self.selected_series())];
            }
            Command::CycleSort => self.sort = self.sort.next(),
            Command::ToggleFailingOnly => self.failing_only = !self.failing_only,
            Command::Filter => self.filter_open = true,
            Command::ToggleDetail => self.detail = !self.detail,
        }
        self.reorder();
        self.rebuild_alerts();
        self.fetch_range(false).into_iter().collect()
    }

    pub(super) fn navigate(&mut self, action: &Action) -> Option<Vec<Effect>> {
        if self.rows.is_empty() && self.alerts.lines.is_empty() {
            return None;
        }
        let last = (self.order.len() + self.alerts.lines.len()).saturating_sub(1);
        let position = self.list_position();
        let (target, down) = match action {
            Action::Up => (position.saturating_sub(1), false),
            Action::Down => ((position + 1).min(last), true),
            Action::PageUp => (position.saturating_sub(PAGE), false),
            Action::PageDown => ((position + PAGE).min(last), true),
            Action::Top => (0, true),
            Action::Bottom => (last, false),
            Action::Select => {
                self.detail = !self.detail;
                return Some(self.fetch_range(false).into_iter().collect());
            }
            Action::Close if self.detail => {
                self.detail = false;
                return Some(Vec::new());
            }
            Action::Close if !self.filter.is_empty() || self.failing_only => {
                self.filter.clear();
                self.failing_only = false;
                self.reorder();
                self.rebuild_alerts();
                return Some(self.fetch_range(false).into_iter().collect());
            }
            _ => return None,
        };
        self.select_position(target, down);
        self.moved = true;
        Some(self.fetch_range(false).into_iter().collect())
    }

    /// A click on a row selects that check or series, or that alert.
    pub fn click(&mut self, x: u16, y: u16) -> bool {
        if let Some(position) = self.hits.get().position_at(x, y)
            && position < self.order.len()
        {
            self.select(position);
            self.alerts.cursor = None;
            self.moved = true;
            return true;
        }
        let Some(line) = self.alerts.hits.get().position_at(x, y) else { return false };
        if !self.alerts.lines.get(line).is_some_and(|l| l.selectable()) {
            return false;
        }
        self.alerts.cursor = Some(line);
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
        self.rebuild_alerts();
    }
}

/// What `i` records about a check (or one of its series): a title for a new incident and the
/// evidence for its timeline.
fn declaration(row: &CheckView, series: Option<&SeriesResult>) -> Effect {
    use crate::incident::record::Severity as IncidentSeverity;
    let since = row.since.map(|t| format!(" since {}", t.format("%H:%M:%S UTC"))).unwrap_or_default();
    let (name, status, message) = match series {
        Some(series) => (series.name.as_str(), row.series_status(series), row.series_message(series)),
        None => (row.name.as_str(), row.status, row.message()),
    };
    let evidence = format!("health: {name} {}{since}: {message} ({} {})", status.label(), row.kind, row.target);
    let severity = match status {
        // One service down is "limited impact" until someone decides otherwise; S changes it.
        Status::Critical | Status::Unknown => IncidentSeverity::P2,
        _ => IncidentSeverity::P3,
    };
    let title = if status.is_failing() { format!("{name} failing") } else { format!("{name}: {}", status.label()) };
    Effect::Declare { check: row.name.clone(), title, evidence, severity }
}
