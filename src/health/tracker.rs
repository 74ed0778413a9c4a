//! Debouncing: a check turns failing only after `fail_after` failed runs in a
//! row (and, if set, after failing for `fail_for`), and healthy again after
//! `recover_after` good runs. Pure: it is fed levels and times, nothing else.

use super::outcome::Level;
use chrono::{DateTime, Utc};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Tracker {
    fail_after: u32,
    recover_after: u32,
    fail_for: Option<Duration>,
    /// `None` until the first verdict: no run yet, or failures not yet confirmed.
    pub state: Option<Level>,
    /// When the current state began.
    pub since: Option<DateTime<Utc>>,
    /// Failed runs in a row (shown as "1/2" while not yet confirmed).
    pub failures: u32,
    successes: u32,
    failing_since: Option<DateTime<Utc>>,
}

/// A change of the debounced state.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub from: Option<Level>,
    pub to: Level,
    pub at: DateTime<Utc>,
}

impl Tracker {
    pub fn new(fail_after: u32, recover_after: u32, fail_for: Option<Duration>) -> Tracker {
        Tracker {
            fail_after: fail_after.max(1),
            recover_after: recover_after.max(1),
            fail_for,
            state: None,
            since: None,
            failures: 0,
            successes: 0,
            failing_since: None,
        }
    }

    /// When the current run of failures began (`None` after a good run).
    pub fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.failing_since
    }

    pub fn fail_after(&self) -> u32 {
        self.fail_after
    }

    /// Feeds one run's level; returns the change of state, if any.
    pub fn observe(&mut self, level: Level, at: DateTime<Utc>) -> Option<Change> {
        let next = if level == Level::Ok {
            self.failures = 0;
            self.failing_since = None;
            self.successes += 1;
            match self.state {
                Some(current) if current != Level::Ok && self.successes < self.recover_after => None,
                _ => Some(Level::Ok),
            }
        } else {
            self.successes = 0;
            self.failures += 1;
            let first = *self.failing_since.get_or_insert(at);
            let long_enough = self.fail_for.is_none_or(|need| (at - first).to_std().unwrap_or_default() >= need);
            match self.state {
                // Already failing: a change of level (warning -> critical) counts at once.
                Some(current) if current != Level::Ok => Some(level),
                _ if self.failures >= self.fail_after && long_enough => Some(level),
                _ => None,
            }
        };
        let next = next.filter(|next| Some(*next) != self.state)?;
        let change = Change { from: self.state, to: next, at };
        self.state = Some(next);
        self.since = Some(at);
        Some(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + chrono::Duration::seconds(seconds)
    }

    fn run(tracker: &mut Tracker, levels: &[Level]) -> Vec<Option<Level>> {
        levels
            .iter()
            .enumerate()
            .map(|(i, level)| {
                tracker.observe(*level, at(i as i64 * 10));
                tracker.state
            })
            .collect()
    }

    #[test]
    fn one_failure_is_not_an_alert_two_are() {
        let mut tracker = Tracker::new(2, 1, None);
        assert_eq!(
            run(&mut tracker, &[Ok, Critical, Ok, Critical, Critical, Ok]),
            [Some(Ok), Some(Ok), Some(Ok), Some(Ok), Some(Critical), Some(Ok)]
        );
        assert_eq!(tracker.since, Some(at(50)));
    }

    #[test]
    fn recovery_needs_recover_after_successes() {
        let mut tracker = Tracker::new(1, 3, None);
        assert_eq!(
            run(&mut tracker, &[Critical, Ok, Ok, Critical, Ok, Ok, Ok]),
            [Some(Critical), Some(Critical), Some(Critical), Some(Critical), Some(Critical), Some(Critical), Some(Ok)]
        );
    }

    #[test]
    fn a_failing_check_that_gets_worse_changes_at_once() {
        let mut tracker = Tracker::new(2, 1, None);
        run(&mut tracker, &[Warning, Warning]);
        assert_eq!(tracker.state, Some(Warning));
        let change = tracker.observe(Critical, at(100)).expect("a change");
        assert_eq!((change.from, change.to), (Some(Warning), Critical));
    }

    #[test]
    fn fail_for_waits_for_the_failure_to_last() {
        let mut tracker = Tracker::new(1, 1, Some(Duration::from_secs(60)));
        // Runs every 10 s: failing from t=0, confirmed at t=60.
        let states = run(&mut tracker, &[Critical; 8]);
        assert_eq!(states[5], None, "50 s of failure is not yet a minute");
        assert_eq!(states[6], Some(Critical));
        assert_eq!(tracker.since, Some(at(60)));
    }

    #[test]
    fn the_first_verdict_starts_from_pending() {
        let mut tracker = Tracker::new(2, 1, None);
        assert_eq!(tracker.observe(Critical, at(0)), None);
        assert_eq!(tracker.failures, 1);
        let change = tracker.observe(Critical, at(10)).unwrap();
        assert_eq!(change.from, None);
    }
}
