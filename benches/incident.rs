//! The incident tab's costs: one 120x40 frame of a busy incident (goal: under
//! 1 ms, like the console frame), the post-mortem of a long incident, and
//! folding a long timeline into checklist state; the export of a 40-step
//! runbook's incident with 5,000 entries, mostly machine ones (goal: under 20 ms).

use chrono::TimeZone;
use criterion::{Criterion, criterion_group, criterion_main};
use firstwatch::incident::checklist::Checklist;
use firstwatch::incident::export::post_mortem;
use firstwatch::incident::record::{Event, EventKind, Incident, IncidentRecord, Severity};
use firstwatch::incident::runbook;
use firstwatch::incident::timeline::fold_timeline;
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::TabMsg;
use firstwatch::tui::tabs::incident::{IncidentTab, Msg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

fn long_incident(events: usize) -> IncidentRecord {
    let opened = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 0, 0).unwrap();
    let kinds = [EventKind::Tick, EventKind::Note, EventKind::Untick, EventKind::Action, EventKind::Skip];
    IncidentRecord {
        incident: Incident {
            id: 1,
            title: "Orders checkout failing".into(),
            severity: Severity::P1,
            runbook: Some("first-15-minutes".into()),
            opened_at: opened,
            opened_by: "ana".into(),
            closed_at: None,
            closed_by: None,
            resolution: None,
        },
        events: (0..events)
            .map(|i| Event {
                id: i as i64,
                at: opened + chrono::TimeDelta::seconds(i as i64),
                who: "ana".into(),
                kind: kinds[i % kinds.len()],
                step: Some(format!("{}.{}", i % 5 + 1, i % 3 + 1)),
                text: format!("entry {i}: checked the dashboards and the logs again"),
            })
            .collect(),
    }
}

fn benches(c: &mut Criterion) {
    let mut model = Model::new(
        Keymap::defaults(),
        Theme::built_in("default-dark"),
        "bench-host".into(),
        firstwatch::util::zone::Zone::UTC,
    );
    model.tabs.incident = IncidentTab::new(&firstwatch::config::Config::default(), true, false, "bench-host");
    let wall = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 9, 0).unwrap();
    for action in [
        Action::SelectTab(TabId::Incident),
        Action::Msg(TabMsg::Incident(Msg::Loaded(Some(Arc::new(long_incident(500)))))),
        Action::Tick(wall),
    ] {
        update(&mut model, action, Instant::now());
    }
    c.bench_function("render 120x40 incident tab, 500 timeline entries", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
    let record = long_incident(2000);
    let runbook = runbook::built_in().into_iter().find(|r| r.name == "first-15-minutes");
    c.bench_function("post-mortem of a 2000-entry incident", |b| {
        b.iter(|| post_mortem(black_box(&record), runbook.as_ref(), wall))
    });
    c.bench_function("checklist fold of 2000 entries", |b| {
        b.iter(|| Checklist::from_events(black_box(&record.events)))
    });
}

/// A 40-step runbook (5 phases of 8) as Markdown.
fn forty_step_runbook() -> runbook::Runbook {
    let mut text = String::from("# Orders down, long form\n");
    for phase in 1..=5 {
        text.push_str(&format!("\n## Phase {phase} ({} min)\n", phase * 15));
        for step in 1..=8 {
            text.push_str(&format!(
                "- [ ] Step {step} of phase {phase}: look at the dashboards, the logs and the deploys\n"
            ));
        }
    }
    runbook::parse("orders-long.md", &text).unwrap()
}

/// 5,000 entries: nine in ten are check transitions (12 checks flapping), the
/// rest ticks of the 40 steps, notes and milestones.
fn busy_incident() -> IncidentRecord {
    let mut record = long_incident(0);
    record.incident.runbook = Some("orders-long".into());
    let opened = record.incident.opened_at;
    let states = ["ok", "warning", "critical"];
    record.events = (0..5000)
        .map(|i| {
            let (kind, step, text) = if i % 10 == 9 {
                match i / 10 % 4 {
                    0 => (EventKind::Tick, Some(format!("{}.{}", i / 10 % 5 + 1, i / 50 % 8 + 1)), "done".to_string()),
                    1 => (EventKind::Milestone, None, "mitigated: rolled back".to_string()),
                    _ => (EventKind::Note, None, format!("note {i}: the queue is draining, watching the error rate")),
                }
            } else {
                let check = i % 12;
                let round = i / 12;
                let (from, to) = (states[round % 3], states[(round + 1) % 3]);
                (EventKind::Check, None, format!("health: service-{check} {from} → {to}: status 503 after 212 ms"))
            };
            Event {
                id: i as i64,
                at: opened + chrono::TimeDelta::seconds(i as i64),
                who: "ana".into(),
                kind,
                step,
                text,
            }
        })
        .collect();
    record
}

fn export_benches(c: &mut Criterion) {
    let record = busy_incident();
    let runbook = forty_step_runbook();
    assert_eq!(runbook.step_count(), 40);
    let wall = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 5, 0, 0).unwrap();
    c.bench_function("export: 40-step runbook, 5,000 entries (mostly machine)", |b| {
        b.iter(|| post_mortem(black_box(&record), Some(&runbook), wall))
    });
    c.bench_function("fold a 5,000-entry timeline", |b| b.iter(|| fold_timeline(black_box(&record.events))));
}

criterion_group!(incident, benches, export_benches);
criterion_main!(incident);
