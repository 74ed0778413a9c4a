//! The milestones of a post-mortem timeline: when the page was taken, the
//! damage stopped, the cause was named, the fix went in and the service was
//! back. They are timeline entries like any other; the post-mortem reads its
//! duration from them.

use super::record::{Event, EventKind};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Milestone {
    Acknowledged,
    Mitigated,
    RootCause,
    Fixed,
    Resolved,
}

impl Milestone {
    /// In the order an incident usually reaches them.
    pub const ALL: [Milestone; 5] =
        [Milestone::Acknowledged, Milestone::Mitigated, Milestone::RootCause, Milestone::Fixed, Milestone::Resolved];

    /// The word typed on the command line: `acknowledged`, `root-cause` ...
    pub fn key(self) -> &'static str {
        match self {
            Milestone::Acknowledged => "acknowledged",
            Milestone::Mitigated => "mitigated",
            Milestone::RootCause => "root-cause",
            Milestone::Fixed => "fixed",
            Milestone::Resolved => "resolved",
        }
    }

    /// As the timeline and the post-mortem say it.
    pub fn label(self) -> &'static str {
        match self {
            Milestone::Acknowledged => "acknowledged",
            Milestone::Mitigated => "mitigated",
            Milestone::RootCause => "root cause found",
            Milestone::Fixed => "fix applied",
            Milestone::Resolved => "resolved",
        }
    }

    /// The key or the label, any case.
    pub fn parse(text: &str) -> Option<Milestone> {
        let text = text.trim();
        Milestone::ALL.into_iter().find(|m| m.key().eq_ignore_ascii_case(text) || m.label().eq_ignore_ascii_case(text))
    }

    /// The timeline entry's text: the label, then what the operator added.
    pub fn entry_text(self, text: &str) -> String {
        let text = text.trim();
        if text.is_empty() { self.label().to_string() } else { format!("{}: {text}", self.label()) }
    }

    /// Which milestone a timeline entry marks, if it is one.
    pub fn of(event: &Event) -> Option<Milestone> {
        if event.kind != EventKind::Milestone {
            return None;
        }
        let head = event.text.split_once(':').map_or(event.text.as_str(), |(head, _)| head);
        Milestone::parse(head)
    }

    /// What the operator wrote with it (after `label: `), if anything.
    pub fn remark(event: &Event) -> &str {
        event.text.split_once(':').map_or("", |(_, rest)| rest.trim())
    }
}

/// When each milestone was reached: the latest mark wins, so marking again corrects it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Milestones {
    reached: Vec<(Milestone, DateTime<Utc>)>,
}

impl Milestones {
    pub fn from_events(events: &[Event]) -> Milestones {
        let mut milestones = Milestones::default();
        for event in events {
            if let Some(milestone) = Milestone::of(event) {
                milestones.reached.retain(|(m, _)| *m != milestone);
                milestones.reached.push((milestone, event.at));
            }
        }
        milestones.reached.sort();
        milestones
    }

    pub fn at(&self, milestone: Milestone) -> Option<DateTime<Utc>> {
        self.reached.iter().find(|(m, _)| *m == milestone).map(|(_, at)| *at)
    }

    /// Reached milestones in their usual order, with when.
    pub fn reached(&self) -> &[(Milestone, DateTime<Utc>)] {
        &self.reached
    }

    /// The last one reached in the usual order: the incident's state in a word.
    pub fn latest(&self) -> Option<Milestone> {
        self.reached.last().map(|(m, _)| *m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(text: &str, minute: i64) -> Event {
        Event {
            id: minute,
            at: DateTime::UNIX_EPOCH + chrono::TimeDelta::minutes(minute),
            who: "ana".into(),
            kind: EventKind::Milestone,
            step: None,
            text: text.into(),
        }
    }

    #[test]
    fn keys_and_labels_parse_and_the_latest_mark_wins() {
        assert_eq!(Milestone::parse("root-cause"), Some(Milestone::RootCause));
        assert_eq!(Milestone::parse("Fix Applied"), Some(Milestone::Fixed));
        assert_eq!(Milestone::parse("done"), None);
        assert_eq!(Milestone::Fixed.entry_text(" deployed 1.4.2 "), "fix applied: deployed 1.4.2");
        let events =
            [event("mitigated", 5), event("fix applied: 1.4.2", 20), event("mitigated: for real", 9), event("x", 30)];
        let milestones = Milestones::from_events(&events);
        assert_eq!(milestones.at(Milestone::Mitigated), Some(events[2].at));
        assert_eq!(milestones.latest(), Some(Milestone::Fixed));
        assert_eq!(Milestone::remark(&events[1]), "1.4.2");
        assert_eq!(milestones.reached().len(), 2);
    }
}
