//! The timeline as people read it: their own entries (ticks, notes,
//! severity, actions and their outcomes, milestones) apart from what the
//! machines wrote (check and alert transitions). Machine entries fold into
//! one row per check: "orders critical since T+00:12, 4 flaps".
//!
//! A transition entry reads `health: orders ok → critical: 503 ...`; the
//! source word, the check's name, both states and the detail are read back
//! from that text, so entries written before the `check` kind existed (as
//! plain notes) fold too.

use super::record::{Event, EventKind};
use chrono::{DateTime, Utc};

/// Who wrote an entry: a person, or firstwatch watching the checks and alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Human,
    Machine,
}

/// One state change of a check or an alert, read from its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<'a> {
    /// `health` or `alert`.
    pub source: &'a str,
    pub subject: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub detail: &'a str,
}

/// Sources whose entries are transitions.
const SOURCES: [&str; 2] = ["health", "alert"];

/// The text of a transition entry, which [`transition`] reads back.
pub fn transition_text(source: &str, subject: &str, from: &str, to: &str, detail: &str) -> String {
    if detail.is_empty() {
        format!("{source}: {subject} {from} → {to}")
    } else {
        format!("{source}: {subject} {from} → {to}: {detail}")
    }
}

/// The transition an entry records, if it is a machine entry.
pub fn transition(event: &Event) -> Option<Transition<'_>> {
    match event.kind {
        EventKind::Check | EventKind::Alert => {}
        // Older stores wrote check transitions as notes without a step.
        EventKind::Note if event.step.is_none() => {}
        _ => return None,
    }
    let (source, rest) = SOURCES
        .iter()
        .find_map(|source| event.text.strip_prefix(source)?.strip_prefix(": ").map(|rest| (*source, rest)))?;
    let (left, right) = split_arrow(rest)?;
    let (subject, from) = left.trim().rsplit_once(' ')?;
    let (to, detail) = right.split_once(": ").map_or((right.trim(), ""), |(to, detail)| (to.trim(), detail.trim()));
    if subject.is_empty() || to.contains(' ') {
        return None;
    }
    Some(Transition { source, subject: subject.trim(), from, to, detail })
}

/// Splits at the first ` → ` (or ` -> `); a search for the one character is the cheap one.
fn split_arrow(text: &str) -> Option<(&str, &str)> {
    for (at, arrow) in text.match_indices('→') {
        let (left, right) = (&text[..at], &text[at + arrow.len()..]);
        if let (Some(left), Some(right)) = (left.strip_suffix(' '), right.strip_prefix(' ')) {
            return Some((left, right));
        }
    }
    text.split_once(" -> ")
}

pub fn origin(event: &Event) -> Origin {
    if transition(event).is_some() { Origin::Machine } else { Origin::Human }
}

/// Whether a state word means the check is failing (anything but ok or pending).
pub fn is_failing(state: &str) -> bool {
    !matches!(state, "ok" | "pending")
}

/// A moment of a check's history: the entry (its index in the timeline) and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldPoint {
    pub index: usize,
    pub at: DateTime<Utc>,
}

/// Every machine entry of one check, folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFold {
    pub source: String,
    pub subject: String,
    /// The state after its last entry.
    pub state: String,
    /// When the current state began: the start of the failing streak, or the recovery.
    pub since: DateTime<Utc>,
    /// The first change into a failing state.
    pub first_failure: Option<FoldPoint>,
    /// The change back to ok, when that is the last entry.
    pub recovery: Option<FoldPoint>,
    /// Changes besides the first failure and the final recovery.
    pub flaps: usize,
    /// Its entries, in order (indices into the timeline).
    pub entries: Vec<usize>,
}

impl CheckFold {
    pub fn failing(&self) -> bool {
        is_failing(&self.state)
    }

    pub fn last_at(&self, events: &[Event]) -> DateTime<Utc> {
        self.entries.last().and_then(|&i| events.get(i)).map_or(self.since, |e| e.at)
    }

    /// "orders critical since T+00:12, 4 flaps".
    pub fn summary(&self, opened_at: DateTime<Utc>) -> String {
        let flaps = match self.flaps {
            0 => String::new(),
            1 => ", 1 flap".to_string(),
            n => format!(", {n} flaps"),
        };
        let state = if self.failing() { self.state.as_str() } else { "recovered" };
        format!("{} {state} since T+{}{flaps}", self.subject, super::export::duration(self.since - opened_at))
    }
}

/// One row of the folded timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelineRow {
    /// A person's entry, by its index in the timeline.
    Human(usize),
    /// One check's machine entries, placed at its last entry.
    Machine(CheckFold),
}

impl TimelineRow {
    pub fn is_machine(&self) -> bool {
        matches!(self, TimelineRow::Machine(_))
    }
}

/// Folds machine entries per check, oldest first by (source, subject) of first appearance.
pub fn fold_checks(events: &[Event]) -> Vec<CheckFold> {
    let mut folds: Vec<CheckFold> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        let Some(change) = transition(event) else { continue };
        let position = folds.iter().position(|f| f.subject == change.subject && f.source == change.source);
        let fold = match position {
            Some(position) => &mut folds[position],
            None => {
                folds.push(CheckFold {
                    source: change.source.to_string(),
                    subject: change.subject.to_string(),
                    state: change.from.to_string(),
                    since: event.at,
                    first_failure: None,
                    recovery: None,
                    flaps: 0,
                    entries: Vec::new(),
                });
                let last = folds.len() - 1;
                &mut folds[last]
            }
        };
        let point = FoldPoint { index, at: event.at };
        if fold.first_failure.is_none() && is_failing(change.to) {
            fold.first_failure = Some(point.clone());
        } else if fold.first_failure.is_some() {
            // Counted as a flap until it turns out to be the final recovery.
            fold.flaps += 1;
        }
        let was_failing = fold.failing() && !fold.entries.is_empty();
        if is_failing(change.to) != was_failing || fold.entries.is_empty() {
            fold.since = event.at;
        }
        fold.recovery = (!is_failing(change.to)).then_some(point);
        // Reuses the string's room: a flapping check changes state on every entry.
        fold.state.clear();
        fold.state.push_str(change.to);
        fold.entries.push(index);
    }
    for fold in &mut folds {
        if fold.recovery.is_some() && fold.first_failure.is_some() {
            fold.flaps = fold.flaps.saturating_sub(1);
        }
    }
    folds
}

/// The timeline with each check's entries folded into one row, in time order
/// (a check's row sits where its last entry is).
pub fn fold_timeline(events: &[Event]) -> Vec<TimelineRow> {
    let folds = fold_checks(events);
    // Where each fold goes: after the entry with the index of its last entry.
    let mut placed: Vec<(usize, CheckFold)> =
        folds.into_iter().map(|fold| (fold.entries.last().copied().unwrap_or(0), fold)).collect();
    placed.sort_by_key(|(last, _)| *last);
    let machine = machine_entries(events.len(), placed.iter().map(|(_, fold)| fold));
    let mut placed = placed.into_iter().peekable();
    let mut rows = Vec::with_capacity(events.len().min(1024));
    for (index, is_machine) in machine.into_iter().enumerate() {
        if !is_machine {
            rows.push(TimelineRow::Human(index));
        }
        while let Some((_, fold)) = placed.next_if(|(last, _)| *last == index) {
            rows.push(TimelineRow::Machine(fold));
        }
    }
    rows
}

/// Which entries are machine ones, from the folds (so no entry is read twice).
fn machine_entries<'a>(count: usize, folds: impl IntoIterator<Item = &'a CheckFold>) -> Vec<bool> {
    let mut machine = vec![false; count];
    for fold in folds {
        for &index in &fold.entries {
            if let Some(flag) = machine.get_mut(index) {
                *flag = true;
            }
        }
    }
    machine
}

/// What a post-mortem's timeline keeps of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptEntry {
    Human(usize),
    /// A check's first failure; `fold` tells how it went on.
    FirstFailure {
        index: usize,
        fold: usize,
    },
    /// A check's final recovery.
    Recovery {
        index: usize,
        fold: usize,
    },
}

/// The entries a post-mortem keeps, in time order: every human entry and, per
/// check, only the first failure and the recovery (its flap count rides on them).
pub fn post_mortem_entries(events: &[Event], folds: &[CheckFold]) -> Vec<KeptEntry> {
    let machine = machine_entries(events.len(), folds);
    let mut marks: Vec<Option<KeptEntry>> =
        (0..events.len()).map(|index| (!machine[index]).then_some(KeptEntry::Human(index))).collect();
    for (number, fold) in folds.iter().enumerate() {
        if let Some(first) = &fold.first_failure {
            marks[first.index] = Some(KeptEntry::FirstFailure { index: first.index, fold: number });
        }
        if let Some(recovery) = &fold.recovery {
            marks[recovery.index] = Some(KeptEntry::Recovery { index: recovery.index, fold: number });
        }
    }
    marks.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + chrono::TimeDelta::minutes(minute)
    }

    fn entry(kind: EventKind, text: &str, minute: i64) -> Event {
        Event { id: minute, at: at(minute), who: "ana".into(), kind, step: None, text: text.into() }
    }

    fn check(subject: &str, from: &str, to: &str, minute: i64) -> Event {
        entry(EventKind::Check, &transition_text("health", subject, from, to, "status 503"), minute)
    }

    #[test]
    fn transitions_are_read_back_and_only_they_are_machine_entries() {
        let event = check("orders api", "ok", "critical", 1);
        let change = transition(&event).unwrap();
        assert_eq!(
            (change.subject, change.from, change.to, change.detail),
            ("orders api", "ok", "critical", "status 503")
        );
        // The older form, written as a note, with an ASCII arrow and no detail.
        let legacy = entry(EventKind::Note, "health: cpu warning -> critical", 2);
        assert_eq!(transition(&legacy).map(|c| (c.subject, c.to)), Some(("cpu", "critical")));
        assert_eq!(origin(&legacy), Origin::Machine);
        for human in [
            entry(EventKind::Note, "restarted the pods → fine: for now", 3),
            entry(EventKind::Note, "gpu: GPU 0 A100: critical (memory high)", 3),
            entry(EventKind::Severity, "severity P2 -> P1", 3),
            entry(EventKind::Action, "health: x ok → critical", 3),
        ] {
            assert_eq!(origin(&human), Origin::Human, "{}", human.text);
        }
    }

    #[test]
    fn a_flapping_check_folds_into_one_row_with_its_first_failure_recovery_and_flaps() {
        let events = vec![
            entry(EventKind::Opened, "P2 opened: orders down", 0),
            check("orders", "ok", "warning", 2),
            check("orders", "warning", "critical", 3),
            entry(EventKind::Note, "looking at the deploy", 4),
            check("orders", "critical", "warning", 5),
            check("cpu", "ok", "warning", 6),
            check("orders", "warning", "critical", 7),
            check("orders", "critical", "ok", 9),
            entry(EventKind::Milestone, "mitigated", 10),
        ];
        let folds = fold_checks(&events);
        assert_eq!(folds.len(), 2);
        let orders = &folds[0];
        assert_eq!(orders.first_failure.as_ref().map(|p| p.index), Some(1));
        assert_eq!(orders.recovery.as_ref().map(|p| p.index), Some(7));
        // warning→critical, critical→warning, warning→critical; the final →ok is the recovery.
        assert_eq!(orders.flaps, 3);
        assert_eq!(orders.summary(at(0)), "orders recovered since T+09:00, 3 flaps");
        let cpu = &folds[1];
        assert!(cpu.failing() && cpu.recovery.is_none() && cpu.flaps == 0);
        assert_eq!(cpu.summary(at(0)), "cpu warning since T+06:00");

        let rows = fold_timeline(&events);
        let shape: Vec<String> = rows
            .iter()
            .map(|row| match row {
                TimelineRow::Human(i) => events[*i].text.clone(),
                TimelineRow::Machine(fold) => format!("[{}]", fold.subject),
            })
            .collect();
        assert_eq!(shape, ["P2 opened: orders down", "looking at the deploy", "[cpu]", "[orders]", "mitigated"]);
        assert_eq!(rows.iter().filter(|r| !r.is_machine()).count(), 3);
    }

    #[test]
    fn a_failing_streak_counts_from_its_start_and_a_new_failure_after_recovery_is_a_flap() {
        let events = vec![
            check("db", "ok", "critical", 1),
            check("db", "critical", "ok", 2),
            check("db", "ok", "critical", 12),
            check("db", "critical", "warning", 13),
        ];
        let db = &fold_checks(&events)[0];
        assert_eq!(db.state, "warning");
        assert_eq!(db.since, at(12), "failing again since minute 12, whatever the level");
        assert_eq!(db.recovery, None);
        assert_eq!(db.flaps, 3);
        assert_eq!(db.summary(at(0)), "db warning since T+12:00, 3 flaps");
    }

    #[test]
    fn the_post_mortem_keeps_people_and_per_check_first_failure_and_recovery() {
        let mut events = vec![entry(EventKind::Opened, "P1 opened", 0)];
        for minute in 1..=40 {
            let (from, to) = if minute % 2 == 1 { ("ok", "critical") } else { ("critical", "ok") };
            events.push(check("orders", from, to, minute));
        }
        events.push(entry(EventKind::Note, "rolled back", 41));
        let folds = fold_checks(&events);
        let kept = post_mortem_entries(&events, &folds);
        assert_eq!(
            kept,
            [
                KeptEntry::Human(0),
                KeptEntry::FirstFailure { index: 1, fold: 0 },
                KeptEntry::Recovery { index: 40, fold: 0 },
                KeptEntry::Human(41)
            ]
        );
        assert_eq!(folds[0].flaps, 38);
    }
}
