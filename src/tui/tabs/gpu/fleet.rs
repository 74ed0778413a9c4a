//! The gpu tab on a fleet: hosts with a summary line each and one line per
//! GPU under it, sorted worst first (or by name), folded per host or all at
//! once, with a cursor that stays on the same host or GPU across refreshes.

use crate::gpu::GpuState;
use crate::gpu::fleet::{HostOrder, HostSummary, hosts};
use std::cell::Cell;
use std::collections::HashSet;

/// One line of the fleet list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A host's summary: a position in `Fleet::hosts`.
    Host(usize),
    /// A GPU: its position in `GpuState::gpus`, and its host's position in `Fleet::hosts`.
    Gpu { gpu: usize, host: usize },
}

/// What the cursor is on, by identity, so a re-sort does not move it to something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Host(String),
    Gpu(String, u32),
}

#[derive(Debug, Default)]
pub struct Fleet {
    pub order: HostOrder,
    /// Hosts shown as their summary line alone.
    folded: HashSet<String>,
    pub hosts: Vec<HostSummary>,
    pub rows: Vec<Row>,
    /// Position in `rows` of the cursor.
    pub cursor: usize,
    cursor_key: Option<RowKey>,
    /// The first row drawn last time and how many fit, so scrolling is smooth and a page is a screen.
    pub offset: Cell<usize>,
    pub page: Cell<usize>,
}

impl Fleet {
    /// Regroups after a new state, a new order or a fold, keeping the cursor on what it was on.
    pub fn rebuild(&mut self, state: &GpuState) {
        self.hosts = hosts(state, self.order);
        self.rows.clear();
        for (position, host) in self.hosts.iter().enumerate() {
            self.rows.push(Row::Host(position));
            if !self.folded.contains(&host.host) {
                self.rows.extend(host.positions.iter().map(|&gpu| Row::Gpu { gpu, host: position }));
            }
        }
        let found =
            self.cursor_key.as_ref().and_then(|key| self.rows.iter().position(|row| self.key(state, *row) == *key));
        self.cursor = match found {
            Some(position) => position,
            None => self.cursor.min(self.rows.len().saturating_sub(1)),
        };
        self.remember(state);
    }

    fn key(&self, state: &GpuState, row: Row) -> RowKey {
        match row {
            Row::Host(host) => RowKey::Host(self.hosts[host].host.clone()),
            Row::Gpu { gpu, host } => RowKey::Gpu(self.hosts[host].host.clone(), state.gpus[gpu].index),
        }
    }

    fn remember(&mut self, state: &GpuState) {
        self.cursor_key = self.rows.get(self.cursor).map(|row| self.key(state, *row));
    }

    pub fn selected(&self) -> Option<Row> {
        self.rows.get(self.cursor).copied()
    }

    /// Moves the cursor to `position` (clamped).
    pub fn go(&mut self, state: &GpuState, position: usize) {
        self.cursor = position.min(self.rows.len().saturating_sub(1));
        self.remember(state);
    }

    pub fn down(&mut self, state: &GpuState, by: usize) {
        self.go(state, self.cursor.saturating_add(by));
    }

    pub fn up(&mut self, state: &GpuState, by: usize) {
        self.go(state, self.cursor.saturating_sub(by));
    }

    /// One screen of rows (as many as were drawn last).
    pub fn page_size(&self) -> usize {
        self.page.get().max(1)
    }

    /// The next host's summary line below the cursor (right), or the one above it (left).
    pub fn next_host(&mut self, state: &GpuState, forward: bool) {
        let hosts = |(position, row): (usize, &Row)| matches!(row, Row::Host(_)).then_some(position);
        let target = if forward {
            self.rows.iter().enumerate().skip(self.cursor + 1).find_map(hosts)
        } else {
            self.rows.iter().enumerate().take(self.cursor).rev().find_map(hosts)
        };
        if let Some(position) = target {
            self.go(state, position);
        }
    }

    /// Folds or unfolds the host under the cursor; the cursor moves to its summary line.
    pub fn toggle_host(&mut self, state: &GpuState) {
        let Some(row) = self.selected() else { return };
        let host = match row {
            Row::Host(host) | Row::Gpu { host, .. } => self.hosts[host].host.clone(),
        };
        if !self.folded.remove(&host) {
            self.folded.insert(host.clone());
        }
        self.cursor_key = Some(RowKey::Host(host));
        self.rebuild(state);
    }

    /// Folds every host to its summary line, or unfolds them all when all are folded.
    pub fn toggle_all(&mut self, state: &GpuState) {
        let all_folded = self.hosts.iter().all(|h| self.folded.contains(&h.host));
        if all_folded {
            self.folded.clear();
        } else {
            self.folded = self.hosts.iter().map(|h| h.host.clone()).collect();
            // The cursor goes to the summary line of the host it was in.
            if let Some(Row::Gpu { host, .. }) = self.selected() {
                self.cursor_key = Some(RowKey::Host(self.hosts[host].host.clone()));
            }
        }
        self.rebuild(state);
    }

    pub fn is_folded(&self, host: &str) -> bool {
        self.folded.contains(host)
    }

    pub fn next_order(&mut self, state: &GpuState) {
        self.order = self.order.next();
        self.rebuild(state);
    }

    /// The first row to draw in `height` rows: the last one, moved just enough to show the cursor.
    pub fn scroll(&self, height: usize) -> usize {
        self.page.set(height);
        let last = self.offset.get();
        let lowest = (self.cursor + 1).saturating_sub(height);
        let offset = last.clamp(lowest, self.cursor.max(lowest)).min(self.rows.len().saturating_sub(height));
        self.offset.set(offset);
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::sample::{DeviceReading, GpuSample, Reading};
    use crate::gpu::thresholds::Thresholds;
    use std::time::Duration;

    fn state(hot: (&str, u32)) -> GpuState {
        let mut state = GpuState::new(
            "fleet".into(),
            false,
            Duration::from_secs(5),
            Duration::from_secs(600),
            Thresholds::default(),
        )
        .with_fleet(Some("prom".into()));
        let mut readings = Vec::new();
        for host in ["a", "b", "c"] {
            for index in 0..2 {
                let mut sample = GpuSample::bare(index, "H100");
                sample.host = Some(host.into());
                sample.temperature = Reading::Value(if (host, index) == hot { 95 } else { 40 });
                readings.push(DeviceReading::Sampled(Box::new(sample)));
            }
        }
        state.apply(Ok(readings), chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        state
    }

    #[test]
    fn the_cursor_stays_on_its_gpu_when_the_hosts_are_re_sorted() {
        let mut fleet = Fleet::default();
        let first = state(("c", 1));
        fleet.rebuild(&first);
        assert_eq!(fleet.rows.len(), 9, "3 summary lines and 6 GPUs");
        assert_eq!(fleet.rows[0], Row::Host(0));
        assert_eq!(fleet.hosts[0].host, "c", "the hot host first");
        fleet.go(&first, 5); // host a (second), GPU 1
        assert_eq!(fleet.key(&first, fleet.selected().unwrap()), RowKey::Gpu("a".into(), 1));
        let second = state(("b", 0));
        fleet.rebuild(&second);
        assert_eq!(fleet.hosts[0].host, "b");
        assert_eq!(fleet.key(&second, fleet.selected().unwrap()), RowKey::Gpu("a".into(), 1));
        fleet.next_order(&second);
        assert_eq!(fleet.hosts.iter().map(|h| h.host.as_str()).collect::<Vec<_>>(), vec!["a", "b", "c"]);
        assert_eq!(fleet.key(&second, fleet.selected().unwrap()), RowKey::Gpu("a".into(), 1));
    }

    #[test]
    fn folding_leaves_summary_lines_and_moves_the_cursor_to_its_host() {
        let mut fleet = Fleet::default();
        let state = state(("a", 0));
        fleet.rebuild(&state);
        fleet.go(&state, 2);
        fleet.toggle_all(&state);
        assert_eq!(fleet.rows.len(), 3);
        assert_eq!(fleet.key(&state, fleet.selected().unwrap()), RowKey::Host("a".into()));
        fleet.next_host(&state, true);
        fleet.toggle_host(&state);
        assert_eq!(fleet.rows.len(), 5, "host b unfolded");
        fleet.toggle_all(&state);
        assert_eq!(fleet.rows.len(), 3, "not all were folded, so all fold");
        fleet.toggle_all(&state);
        assert_eq!(fleet.rows.len(), 9);
    }

    #[test]
    fn scrolling_moves_only_as_far_as_the_cursor_needs() {
        let mut fleet = Fleet::default();
        let state = state(("a", 0));
        fleet.rebuild(&state);
        assert_eq!(fleet.scroll(4), 0);
        fleet.go(&state, 6);
        assert_eq!(fleet.scroll(4), 3, "cursor on the last drawn row");
        fleet.up(&state, 2);
        assert_eq!(fleet.scroll(4), 3, "still in view: no jump");
        fleet.up(&state, 2);
        assert_eq!(fleet.scroll(4), 2);
        assert_eq!(fleet.page_size(), 4);
    }
}
