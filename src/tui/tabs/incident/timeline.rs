//! Which timeline entries a person wrote and which the machine did, and the
//! rows the timeline pane shows.
//!
//! Machine entries are check transitions the health tab records while an
//! incident is open ("health: orders ok → critical: ..."). A flapping check
//! writes dozens of them, so they are folded into one row per check, placed at
//! its newest change ("cpu warning since 03:10:40 · 24 changes since
//! 03:03:00"), drawn dimmed; `m` hides them, so the engineer's own notes stay
//! on screen. Telling entries apart and folding them is the record's own work
//! (`crate::incident::timeline`); this module keeps the result between frames.

use crate::incident::record::Event;
use crate::incident::timeline::TimelineRow;

/// A check's or an alert's state change written by firstwatch, not by a person
/// (the record's own reading: `check` and `alert` entries, and older plain notes).
pub fn is_machine(event: &Event) -> bool {
    crate::incident::timeline::origin(event) == crate::incident::timeline::Origin::Machine
}

/// A machine entry read back: the check, and the state it went to.
fn transition(event: &Event) -> Option<(&str, &str)> {
    let transition = crate::incident::timeline::transition(event)?;
    Some((transition.subject, transition.to))
}

/// One row of the timeline pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Row<'a> {
    /// An entry as written.
    Entry(&'a Event),
    /// A check's transitions folded together: where it is now, since when, and how many changes.
    Check { check: &'a str, state: &'a str, since: &'a Event, first: &'a Event, changes: usize },
}

/// A row by the places of its entries in the timeline, so it can be kept between frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Entry(usize),
    Check { newest: usize, first: usize, changes: usize },
}

/// The timeline's rows, worked out once per change of the record (not per frame).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folded {
    pub slots: Vec<Slot>,
    /// How many machine entries the timeline holds, shown or not.
    pub machine: usize,
}

impl Slot {
    pub fn row<'a>(&self, events: &'a [Event]) -> Option<Row<'a>> {
        match *self {
            Slot::Entry(index) => events.get(index).map(Row::Entry),
            Slot::Check { newest, first, changes } => {
                let (since, first) = (events.get(newest)?, events.get(first)?);
                let (check, state) = transition(since)?;
                Some(Row::Check { check, state, since, first, changes })
            }
        }
    }
}

/// The rows to show, oldest first: people's entries as they are, each check's
/// transitions folded into one row at its newest change (the record's own
/// folding), or left out.
pub fn fold(events: &[Event], hide_machine: bool) -> Folded {
    let mut folded = Folded::default();
    for row in crate::incident::timeline::fold_timeline(events) {
        match row {
            TimelineRow::Human(index) => folded.slots.push(Slot::Entry(index)),
            TimelineRow::Machine(check) => {
                folded.machine += check.entries.len();
                if let (false, Some(&first), Some(&newest)) =
                    (hide_machine, check.entries.first(), check.entries.last())
                {
                    folded.slots.push(Slot::Check { newest, first, changes: check.entries.len() });
                }
            }
        }
    }
    folded
}

/// [`fold`], read back as rows.
pub fn rows(events: &[Event], hide_machine: bool) -> Vec<Row<'_>> {
    fold(events, hide_machine).slots.iter().filter_map(|slot| slot.row(events)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::record::EventKind;

    fn event(kind: EventKind, step: Option<&str>, text: &str) -> Event {
        Event {
            id: 1,
            at: chrono::DateTime::UNIX_EPOCH,
            who: "ana".into(),
            kind,
            step: step.map(Into::into),
            text: text.into(),
        }
    }

    #[test]
    fn check_transitions_are_machine_entries_and_people_s_notes_are_not() {
        assert!(is_machine(&event(EventKind::Note, None, "health: cpu warning → critical: 93 %")));
        // What the health tab writes now: a `check` entry.
        assert!(is_machine(&event(EventKind::Check, None, "health: cpu warning → critical: 93 %")));
        // The evidence `i` attaches names the check but is no transition.
        assert!(!is_machine(&event(EventKind::Note, None, "health: orders critical since 03:01: 503")));
        assert!(!is_machine(&event(EventKind::Note, Some("1.2"), "health: a → b")));
        assert!(!is_machine(&event(EventKind::Tick, None, "health: a → b")));
    }

    #[test]
    fn each_check_s_transitions_fold_into_one_row_at_its_newest_change() {
        let events = vec![
            event(EventKind::Note, None, "health: cpu ok → warning: 85 %"),
            event(EventKind::Note, None, "health: disk /data ok → critical: 96 %"),
            event(EventKind::Note, None, "rolled back at 03:12"),
            event(EventKind::Note, None, "health: cpu warning → critical: 93 %"),
            event(EventKind::Check, None, "health: cpu critical → warning: 88 %"),
        ];
        let shown = rows(&events, false);
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(matches!(shown[0], Row::Check { check: "disk /data", state: "critical", changes: 1, .. }));
        assert!(matches!(shown[1], Row::Entry(e) if e.text == "rolled back at 03:12"));
        match &shown[2] {
            Row::Check { check, state, since, first, changes } => {
                assert_eq!((*check, *state, *changes), ("cpu", "warning", 3));
                assert!(since.text.contains("88 %") && first.text.contains("85 %"));
            }
            other => panic!("{other:?}"),
        }
        // m: people's entries only.
        let shown = rows(&events, true);
        assert_eq!(shown, vec![Row::Entry(&events[2])]);
    }
}
