//! Which timeline entries a person wrote and which the machine did.
//!
//! Machine entries are check transitions the health tab records while an
//! incident is open ("health: orders ok → critical: ..."). The view dims them
//! and `m` hides them, so the engineer's own notes stay on screen. This is the
//! one place that tells them apart; a richer record of entry kinds can replace
//! [`is_machine`] without touching the view.

use crate::incident::record::{Event, EventKind};

/// A check's state change written by the console, not by a person.
pub fn is_machine(event: &Event) -> bool {
    event.kind == EventKind::Note
        && event.step.is_none()
        && event.text.starts_with("health: ")
        && event.text.contains(" → ")
}

/// The entries to show, oldest first: all of them, or only people's.
pub fn visible(events: &[Event], hide_machine: bool) -> Vec<&Event> {
    events.iter().filter(|event| !(hide_machine && is_machine(event))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // The evidence `i` attaches names the check but is no transition.
        assert!(!is_machine(&event(EventKind::Note, None, "health: orders critical since 03:01: 503")));
        assert!(!is_machine(&event(EventKind::Note, Some("1.2"), "health: a → b")));
        assert!(!is_machine(&event(EventKind::Tick, None, "health: a → b")));
        let events = vec![
            event(EventKind::Note, None, "health: cpu ok → warning: 85 %"),
            event(EventKind::Note, None, "rolled back at 03:12"),
        ];
        assert_eq!(visible(&events, false).len(), 2);
        assert_eq!(visible(&events, true)[0].text, "rolled back at 03:12");
    }
}
