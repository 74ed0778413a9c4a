//! One memory budget (`settings.memory_budget`) for everything the console buffers.
//!
//! The windows with a fixed worst case (each check's history, the incident
//! tab's run pane) reserve it when they start and give it back when they go.
//! Log lines, which a flood could grow without end, get what is left: the
//! buffer drops its oldest lines, busiest source first, to stay within it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Log lines keep at least this much whatever the rest has reserved, so a
/// budget smaller than its windows still shows the newest lines.
pub const LOGS_FLOOR: usize = 1024 * 1024;

#[derive(Debug)]
pub struct Budget {
    total: usize,
    reserved: AtomicUsize,
}

impl Budget {
    pub fn new(total: u64) -> Arc<Budget> {
        Arc::new(Budget { total: usize::try_from(total).unwrap_or(usize::MAX), reserved: AtomicUsize::new(0) })
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes the fixed windows hold back now.
    pub fn reserved(&self) -> usize {
        self.reserved.load(Ordering::Relaxed)
    }

    /// What buffered log lines may take now.
    pub fn for_logs(&self) -> usize {
        self.total.saturating_sub(self.reserved()).max(LOGS_FLOOR.min(self.total))
    }

    /// Holds `bytes` back from the logs until the reservation is dropped.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Reservation {
        self.reserved.fetch_add(bytes, Ordering::Relaxed);
        Reservation { budget: Arc::clone(self), bytes }
    }
}

impl Default for Budget {
    fn default() -> Self {
        let total = usize::try_from(crate::config::DEFAULT_MEMORY_BUDGET).unwrap_or(usize::MAX);
        Budget { total, reserved: AtomicUsize::new(0) }
    }
}

/// A window's worst case, held back from the logs while it lives.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.reserved.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_get_what_the_windows_leave_and_get_it_back() {
        let budget = Budget::new(64 << 20);
        assert_eq!(budget.for_logs(), 64 << 20);
        let history = budget.reserve(10 << 20);
        let pane = budget.reserve(1 << 20);
        assert_eq!(budget.for_logs(), 53 << 20);
        drop(pane);
        assert_eq!(budget.for_logs(), 54 << 20);
        drop(history);
        assert_eq!((budget.reserved(), budget.for_logs()), (0, 64 << 20));
    }

    #[test]
    fn logs_keep_a_floor_when_the_windows_ask_for_more_than_the_budget() {
        let budget = Budget::new(4 << 20);
        let _history = budget.reserve(8 << 20);
        assert_eq!(budget.for_logs(), LOGS_FLOOR);
        let tiny = Budget::new(1000);
        assert_eq!(tiny.for_logs(), 1000, "never more than the whole budget");
    }
}
