//! What a notify action tells the stakeholders: the incident's title,
//! severity, T+, where it stands (milestone reached, checks still failing)
//! and the last things people wrote on its timeline.

use super::export::duration;
use super::milestone::{Milestone, Milestones};
use super::record::{EventKind, IncidentRecord};
use super::timeline::{self, Origin};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// How many of the latest human entries a message carries.
pub const RECENT_ENTRIES: usize = 5;
/// Entries longer than this are cut in a message.
const ENTRY_CHARS: usize = 300;

/// The facts a message is written from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Briefing {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub severity_meaning: String,
    pub opened_at: DateTime<Utc>,
    /// `12:04` since it was opened.
    pub t_plus: String,
    /// `open`, the latest milestone (`mitigated`, `fix applied` ...) or `closed`.
    pub state: String,
    pub milestones: Vec<BriefMilestone>,
    /// Checks failing now, folded: "orders critical since T+00:12, 4 flaps".
    pub failing: Vec<String>,
    /// The latest human entries, oldest first.
    pub recent: Vec<BriefEntry>,
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BriefMilestone {
    pub milestone: Milestone,
    pub t_plus: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BriefEntry {
    pub at: DateTime<Utc>,
    pub t_plus: String,
    pub who: String,
    pub kind: EventKind,
    pub text: String,
}

pub fn briefing(record: &IncidentRecord, host: &str, now: DateTime<Utc>) -> Briefing {
    let incident = &record.incident;
    let since = |at: DateTime<Utc>| duration(at - incident.opened_at);
    let milestones = Milestones::from_events(&record.events);
    let state = match (incident.closed_at, milestones.latest()) {
        (Some(_), _) => "closed".to_string(),
        (None, Some(milestone)) => milestone.label().to_string(),
        (None, None) => "open".to_string(),
    };
    let failing = timeline::fold_checks(&record.events)
        .iter()
        .filter(|fold| fold.failing())
        .map(|fold| fold.summary(incident.opened_at))
        .collect();
    let mut recent: Vec<BriefEntry> = record
        .events
        .iter()
        .rev()
        // Earlier messages are not news to those who got them.
        .filter(|e| timeline::origin(e) == Origin::Human && e.kind != EventKind::Notify)
        .take(RECENT_ENTRIES)
        .map(|e| BriefEntry {
            at: e.at,
            t_plus: since(e.at),
            who: e.who.clone(),
            kind: e.kind,
            text: crate::util::sanitize::truncate_marked(&one_line(&e.text), ENTRY_CHARS),
        })
        .collect();
    recent.reverse();
    Briefing {
        id: incident.id,
        title: incident.title.clone(),
        severity: incident.severity.label().to_string(),
        severity_meaning: incident.severity.meaning().to_string(),
        opened_at: incident.opened_at,
        t_plus: since(incident.closed_at.unwrap_or(now)),
        state,
        milestones: milestones
            .reached()
            .iter()
            .map(|(milestone, at)| BriefMilestone { milestone: *milestone, t_plus: since(*at) })
            .collect(),
        failing,
        recent,
        host: host.to_string(),
    }
}

/// The text of a chat message (Slack's `{"text": ...}`).
pub fn text(brief: &Briefing) -> String {
    let mut out = format!(
        "[{}] {} on {}: T+{}, {} ({})",
        brief.severity, brief.title, brief.host, brief.t_plus, brief.state, brief.severity_meaning
    );
    if !brief.failing.is_empty() {
        out.push_str("\nStill failing: ");
        out.push_str(&brief.failing.join("; "));
    }
    if !brief.recent.is_empty() {
        out.push_str("\nLatest:");
        for entry in &brief.recent {
            out.push_str(&format!("\n- T+{} {}: {}", entry.t_plus, entry.who, entry.text));
        }
    }
    out
}

/// The request body for `format`: `{"text": ...}`, or the briefing as JSON.
pub fn body(brief: &Briefing, format: crate::config::NotifyFormat) -> serde_json::Value {
    match format {
        crate::config::NotifyFormat::Slack => serde_json::json!({ "text": text(brief) }),
        crate::config::NotifyFormat::Json => serde_json::json!({ "incident": brief }),
    }
}

fn one_line(text: &str) -> String {
    text.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::record::{Event, Incident, Severity};

    fn record() -> IncidentRecord {
        let opened = DateTime::UNIX_EPOCH;
        let event = |minute: i64, kind: EventKind, text: &str| Event {
            id: minute,
            at: opened + chrono::TimeDelta::minutes(minute),
            who: "ana".into(),
            kind,
            step: None,
            text: text.into(),
        };
        let mut events = vec![event(0, EventKind::Opened, "P1 opened: orders down")];
        for minute in 1..10 {
            events.push(event(minute, EventKind::Note, &format!("note {minute}")));
        }
        events.push(event(10, EventKind::Check, "health: orders ok → critical: 503"));
        events.push(event(11, EventKind::Notify, "notified stakeholders"));
        events.push(event(12, EventKind::Milestone, "mitigated: rolled back"));
        IncidentRecord {
            incident: Incident {
                id: 7,
                title: "orders down".into(),
                severity: Severity::P1,
                runbook: None,
                opened_at: opened,
                opened_by: "ana".into(),
                closed_at: None,
                closed_by: None,
                resolution: None,
            },
            events,
        }
    }

    #[test]
    fn the_message_carries_severity_t_plus_state_failing_checks_and_the_latest_human_entries() {
        let brief = briefing(&record(), "web-1", DateTime::UNIX_EPOCH + chrono::TimeDelta::minutes(14));
        assert_eq!(brief.state, "mitigated");
        assert_eq!(brief.t_plus, "14:00");
        let texts: Vec<&str> = brief.recent.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["note 6", "note 7", "note 8", "note 9", "mitigated: rolled back"]);
        let text = text(&brief);
        assert!(text.starts_with("[P1] orders down on web-1: T+14:00, mitigated"), "{text}");
        assert!(text.contains("Still failing: orders critical since T+10:00"), "{text}");
        assert!(!text.contains("notified stakeholders"), "{text}");
        let json = body(&brief, crate::config::NotifyFormat::Json);
        assert_eq!(json["incident"]["severity"], "P1");
        assert_eq!(json["incident"]["milestones"][0]["milestone"], "mitigated");
    }
}
