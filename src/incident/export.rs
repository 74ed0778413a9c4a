//! The post-mortem draft: a blameless Markdown document with what the
//! store knows filled in (summary, timeline, actions, checklist, notes) and
//! the parts only people can write left as headed gaps.
//!
//! The summary's duration runs from the opening to the `resolved` milestone
//! (else the close); the timeline keeps every person's entry and, per check,
//! only its first failure and recovery with the flap count between.

use super::checklist::{Checklist, StepState};
use super::milestone::{Milestone, Milestones};
use super::record::{Event, EventKind, IncidentRecord};
use super::runbook::Runbook;
use super::timeline::{self, CheckFold, KeptEntry};
use std::fmt::Write;

/// Renders the draft; `now` ends the duration of an incident still open.
pub fn post_mortem(record: &IncidentRecord, runbook: Option<&Runbook>, now: chrono::DateTime<chrono::Utc>) -> String {
    let incident = &record.incident;
    let mut out = String::new();
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let _ = writeln!(out, "# Post-mortem: {}\n", incident.title);
    let _ = writeln!(
        out,
        "Blameless draft written by firstwatch from incident #{}. Fill in the sections marked _to do_.\n",
        incident.id
    );
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Severity | {} ({}) |", incident.severity.label(), incident.severity.meaning());
    let _ = writeln!(out, "| Started | {} by {} |", time(incident.opened_at), incident.opened_by);
    match (incident.closed_at, &incident.closed_by) {
        (Some(closed), Some(by)) => {
            let _ = writeln!(out, "| Closed | {} by {} |", time(closed), by);
        }
        _ => {
            let _ = writeln!(out, "| Closed | still open at {} |", time(now));
        }
    }
    let milestones = Milestones::from_events(&record.events);
    let (end, until) = match (milestones.at(Milestone::Resolved), incident.closed_at) {
        (Some(resolved), _) => (resolved, "to resolved"),
        (None, Some(closed)) => (closed, "to closed"),
        (None, None) => (now, "so far"),
    };
    let _ = writeln!(out, "| Duration | {} (opened {until}) |", duration(end - incident.opened_at));
    for (milestone, at) in milestones.reached() {
        let _ = writeln!(out, "| {} | T+{} |", capitalised(milestone.label()), duration(*at - incident.opened_at));
    }
    let _ = writeln!(
        out,
        "| Runbook | {} |",
        runbook.map(|r| r.title.as_str()).or(incident.runbook.as_deref()).unwrap_or("none")
    );
    let _ = writeln!(out, "| Impact | _to do: who was affected, and how_ |");
    if let Some(resolution) = incident.resolution.as_deref().filter(|r| !r.is_empty()) {
        let _ = writeln!(out, "\nResolution: {}", one_line(resolution));
    }

    let _ = writeln!(out, "\n## Timeline\n");
    let _ = writeln!(out, "| Time | T+ | Who | What |\n|---|---|---|---|");
    let folds = timeline::fold_checks(&record.events);
    for kept in timeline::post_mortem_entries(&record.events, &folds) {
        let (index, what) = match kept {
            KeptEntry::Human(index) => (index, human_entry(&record.events[index], runbook)),
            KeptEntry::FirstFailure { index, fold } => (index, first_failure(&record.events[index], &folds[fold])),
            KeptEntry::Recovery { index, fold } => (index, recovery(&record.events[index], &folds[fold])),
        };
        let event = &record.events[index];
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            event.at.format("%H:%M:%S"),
            duration(event.at - incident.opened_at),
            cell(&event.who),
            cell(&what)
        );
    }

    let _ = writeln!(out, "\n## Actions and their results\n");
    let actions: Vec<_> = record
        .events
        .iter()
        .filter(|e| {
            matches!(e.kind, EventKind::Action | EventKind::ActionOutcome | EventKind::Verify | EventKind::Notify)
        })
        .collect();
    if actions.is_empty() {
        let _ = writeln!(out, "No actions were run from firstwatch.");
    }
    for event in actions {
        let _ = writeln!(out, "- {} {}: {}", event.at.format("%H:%M:%S"), event.who, one_line(&event.text));
    }

    let checklist = Checklist::from_events(&record.events);
    if let Some(runbook) = runbook {
        let _ = writeln!(out, "\n## Checklist: {}", runbook.title);
        for (key, phase, step) in runbook.steps() {
            if key.ends_with(".1") {
                let _ = writeln!(out, "\n### {}\n", phase.title);
            }
            let state = checklist.state(&key);
            let how = match &state {
                StepState::Open => String::new(),
                StepState::Done { who, at } => format!(" (done by {who} at {})", at.format("%H:%M:%S")),
                StepState::Skipped { who, reason } => format!(" (skipped by {who}: {})", one_line(reason)),
            };
            let _ = writeln!(out, "- {} {} {}{}", state.mark(), key, step.text, how);
        }
    }

    let notes: Vec<_> = record.events.iter().filter(|e| e.kind == EventKind::Note).collect();
    let _ = writeln!(out, "\n## Notes\n");
    if notes.is_empty() {
        let _ = writeln!(out, "No notes were written.");
    }
    for note in notes {
        let step = note.step.as_deref().map(|s| format!(" (step {s})")).unwrap_or_default();
        let _ = writeln!(out, "- {} {}{}:", note.at.format("%H:%M:%S"), note.who, step);
        for line in note.text.lines() {
            let _ = writeln!(out, "  > {line}");
        }
    }

    for section in ["Root cause", "Contributing factors", "Lessons learned"] {
        let _ = writeln!(out, "\n## {section}\n\n_to do_");
    }
    let _ = writeln!(out, "\n## Action items\n\n| Owner | Action | Due |\n|---|---|---|\n| _to do_ | | |");
    out
}

/// A person's entry as the post-mortem's timeline says it.
fn human_entry(event: &Event, runbook: Option<&Runbook>) -> String {
    let step_text = |key: &str| {
        runbook
            .and_then(|r| r.steps().find(|(k, _, _)| k == key).map(|(_, _, step)| format!(" ({})", step.text)))
            .unwrap_or_default()
    };
    match (event.kind, event.step.as_deref()) {
        (EventKind::Tick, Some(key)) => format!("step {key} done{}{}", step_text(key), tick_evidence(&event.text)),
        (EventKind::Untick, Some(key)) => format!("step {key} reopened{}", step_text(key)),
        (EventKind::Skip, Some(key)) => format!("step {key} skipped{}: {}", step_text(key), event.text),
        (EventKind::Note, Some(key)) => format!("note on step {key}: {}", event.text),
        (EventKind::Note, None) => format!("note: {}", event.text),
        (EventKind::Milestone, _) => match Milestone::of(event) {
            Some(milestone) => {
                let remark = Milestone::remark(event);
                let remark = if remark.is_empty() { String::new() } else { format!(": {remark}") };
                format!("**{}**{remark}", capitalised(milestone.label()))
            }
            None => event.text.clone(),
        },
        _ => event.text.clone(),
    }
}

/// A check's first failure, with how it went on when it never came back.
fn first_failure(event: &Event, fold: &CheckFold) -> String {
    let mut text = format!("first failure: {}", machine_text(event));
    if fold.recovery.is_none() {
        let flaps = plural(fold.flaps, "flap");
        let _ = write!(text, " (still {} at the end, {flaps} since)", fold.state);
    }
    text
}

fn recovery(event: &Event, fold: &CheckFold) -> String {
    format!("recovered: {} (after {})", machine_text(event), plural(fold.flaps, "flap"))
}

/// A transition without its source word: `orders ok → critical: 503`.
fn machine_text(event: &Event) -> String {
    match timeline::transition(event) {
        Some(change) => {
            let detail = if change.detail.is_empty() { String::new() } else { format!(": {}", change.detail) };
            format!("{} {} → {}{detail}", change.subject, change.from, change.to)
        }
        None => event.text.clone(),
    }
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 { format!("1 {word}") } else { format!("{count} {word}s") }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `T+07:42` style: minutes and seconds, hours when it runs long.
pub fn duration(span: chrono::TimeDelta) -> String {
    let seconds = span.num_seconds().max(0);
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m:02}:{s:02}") }
}

fn one_line(text: &str) -> String {
    text.lines().collect::<Vec<_>>().join(" / ")
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// What a tick recorded after its first line (health summary, log errors), as one clause.
fn tick_evidence(text: &str) -> String {
    let evidence: Vec<&str> = text.lines().skip(1).filter(|line| !line.trim().is_empty()).collect();
    if evidence.is_empty() { String::new() } else { format!(". Evidence: {}", evidence.join("; ")) }
}
