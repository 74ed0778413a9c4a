//! The state of each runbook step, folded from the timeline. Ticks are
//! appended, never overwritten, so two people ticking at once lose nothing:
//! the last entry for a step wins.

use super::record::{Event, EventKind};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StepState {
    #[default]
    Open,
    Done {
        who: String,
        at: chrono::DateTime<chrono::Utc>,
    },
    Skipped {
        who: String,
        reason: String,
    },
}

impl StepState {
    pub fn is_settled(&self) -> bool {
        !matches!(self, StepState::Open)
    }

    /// The box as drawn: state in text, not only in colour.
    pub fn mark(&self) -> &'static str {
        match self {
            StepState::Open => "[ ]",
            StepState::Done { .. } => "[x]",
            StepState::Skipped { .. } => "[-]",
        }
    }
}

/// Step key -> state and notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checklist {
    pub states: BTreeMap<String, StepState>,
    pub notes: BTreeMap<String, Vec<String>>,
}

impl Checklist {
    pub fn from_events(events: &[Event]) -> Checklist {
        let mut checklist = Checklist::default();
        for event in events {
            let Some(step) = &event.step else { continue };
            match event.kind {
                EventKind::Tick => {
                    checklist.states.insert(step.clone(), StepState::Done { who: event.who.clone(), at: event.at });
                }
                EventKind::Untick => {
                    checklist.states.insert(step.clone(), StepState::Open);
                }
                EventKind::Skip => {
                    let reason = event.text.clone();
                    checklist.states.insert(step.clone(), StepState::Skipped { who: event.who.clone(), reason });
                }
                EventKind::Note => checklist.notes.entry(step.clone()).or_default().push(event.text.clone()),
                _ => {}
            }
        }
        checklist
    }

    pub fn state(&self, step: &str) -> StepState {
        self.states.get(step).cloned().unwrap_or_default()
    }
}
