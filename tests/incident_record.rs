//! Incidents in the shared store: two instances on one file see each other's
//! changes, only one incident is open at a time, and nothing is lost when
//! two people write at once. The post-mortem of a fixed incident is a snapshot.

use chrono::TimeZone;
use firstwatch::incident::checklist::{Checklist, StepState};
use firstwatch::incident::export::post_mortem;
use firstwatch::incident::record::{self, Event, EventKind, Incident, IncidentError, IncidentRecord, Severity};
use firstwatch::incident::runbook;
use firstwatch::store::Store;
use firstwatch::util::identity::Identity;

fn person(user: &str) -> Identity {
    Identity { user: user.into(), host: "bastion".into(), ssh_client: None, tty: None }
}

#[test]
fn two_store_instances_see_each_others_incident_changes() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open_in(dir.path()).unwrap();
    let second = Store::open_in(dir.path()).unwrap();
    let (ana, bo) = (person("ana"), person("bo"));

    let before = record::revision(&second).unwrap();
    assert!(record::current(&second).unwrap().is_none());
    let opened = record::open(&first, "orders down", Severity::P1, Some("service-down"), &ana).unwrap();
    assert_ne!(record::revision(&second).unwrap(), before, "the other instance's counter moved");
    let seen = record::current(&second).unwrap().expect("the second instance sees the open incident");
    assert_eq!(seen.incident.id, opened.id);
    assert_eq!(seen.incident.runbook.as_deref(), Some("service-down"));

    let refused = record::open(&second, "another", Severity::P2, None, &bo).unwrap_err();
    assert!(matches!(refused, IncidentError::AlreadyOpen { id, .. } if id == opened.id), "{refused}");

    let at = record::revision(&first).unwrap();
    record::add_event(&second, opened.id, EventKind::Tick, Some("1.1"), "done", &bo).unwrap();
    record::add_event(&first, opened.id, EventKind::Note, Some("1.1"), "line one\nline two", &ana).unwrap();
    assert!(record::revision(&first).unwrap() >= at + 2);
    let seen = record::current(&first).unwrap().unwrap();
    let checklist = Checklist::from_events(&seen.events);
    assert!(matches!(checklist.state("1.1"), StepState::Done { who, .. } if who == "bo"));
    assert_eq!(checklist.notes["1.1"], ["line one\nline two"]);

    record::set_severity(&first, opened.id, Severity::P0, &ana).unwrap();
    assert_eq!(record::current(&second).unwrap().unwrap().incident.severity, Severity::P0);

    record::close(&second, opened.id, "rolled back to 2.4.0", &bo).unwrap();
    assert!(record::current(&first).unwrap().is_none(), "closed everywhere");
    assert!(matches!(
        record::add_event(&first, opened.id, EventKind::Note, None, "late", &ana),
        Err(IncidentError::Closed(_))
    ));
    let next = record::open(&first, "next one", Severity::P3, None, &ana).expect("a new incident may open after close");
    assert_ne!(next.id, opened.id);
    assert_eq!(record::list(&second).unwrap().len(), 2);
}

#[test]
fn two_threads_ticking_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open_in(dir.path()).unwrap();
    let second = Store::open_in(dir.path()).unwrap();
    let id = record::open(&first, "race", Severity::P2, None, &person("ana")).unwrap().id;
    let writers: Vec<_> = [(first, "ana"), (second, "bo")]
        .into_iter()
        .map(|(store, user)| {
            std::thread::spawn(move || {
                for n in 0..50 {
                    record::add_event(&store, id, EventKind::Tick, Some(&format!("{user}.{n}")), "done", &person(user))
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let dir_store = Store::open_in(dir.path()).unwrap();
    let record = record::get(&dir_store, id).unwrap();
    assert_eq!(record.events.iter().filter(|e| e.kind == EventKind::Tick).count(), 100);
}

#[test]
fn the_timeline_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    record::open(&store, "x", Severity::P2, None, &person("ana")).unwrap();
    assert!(store.call(|c| c.execute("DELETE FROM incident_event", [])).is_err());
    assert!(store.call(|c| c.execute("UPDATE incident_event SET text = 'forged'", [])).is_err());
}

fn fixed_record() -> IncidentRecord {
    let at = |minutes: i64, seconds: i64| {
        chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 2, 0).unwrap() + chrono::TimeDelta::seconds(minutes * 60 + seconds)
    };
    let event = |id, minutes, seconds, who: &str, kind, step: Option<&str>, text: &str| Event {
        id,
        at: at(minutes, seconds),
        who: who.into(),
        kind,
        step: step.map(str::to_string),
        text: text.into(),
    };
    IncidentRecord {
        incident: Incident {
            id: 7,
            title: "Orders checkout failing".into(),
            severity: Severity::P1,
            runbook: Some("service-down".into()),
            opened_at: at(0, 0),
            opened_by: "ana from 10.0.0.7".into(),
            closed_at: Some(at(23, 40)),
            closed_by: Some("bo".into()),
            resolution: Some("redeployed 2.4.1 | verified".into()),
        },
        events: vec![
            event(1, 0, 0, "ana from 10.0.0.7", EventKind::Opened, None, "P1 opened: Orders checkout failing"),
            event(2, 1, 5, "ana from 10.0.0.7", EventKind::Tick, Some("1.1"), "done"),
            event(3, 2, 30, "bo", EventKind::Note, Some("1.2"), "provider status page is green\nso it is ours"),
            event(4, 3, 0, "bo", EventKind::Skip, Some("1.2"), "provider is fine"),
            event(
                5,
                4,
                10,
                "ana from 10.0.0.7",
                EventKind::Action,
                None,
                "redeploy orders started: sh -c 'touch state/orders'",
            ),
            event(
                6,
                4,
                13,
                "ana from 10.0.0.7",
                EventKind::ActionOutcome,
                None,
                "redeploy orders: exit 0 after 2.1 s, 3 lines of output",
            ),
            event(7, 4, 14, "ana from 10.0.0.7", EventKind::Verify, None, "redeploy orders: verified: healthy"),
            event(8, 5, 0, "ana from 10.0.0.7", EventKind::Tick, Some("2.1"), "done"),
            event(9, 23, 40, "bo", EventKind::Closed, None, "closed: redeployed 2.4.1 | verified"),
        ],
    }
}

#[test]
fn post_mortem_of_a_fixed_incident() {
    let record = fixed_record();
    let runbook = runbook::built_in().into_iter().find(|r| r.name == "service-down").unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 4, 0, 0).unwrap();
    let text = post_mortem(&record, Some(&runbook), now);
    assert!(text.contains("| Duration | 23:40 (opened to closed) |"), "{text}");
    assert!(text.contains("redeployed 2.4.1 \\| verified"), "pipes in cells are escaped:\n{text}");
    insta::assert_snapshot!("post_mortem_fixed_incident", text);
}

/// Every flap of every check used to land in the post-mortem; now per check only
/// its first failure and its recovery do, with the flap count, and every
/// person's entry stays.
#[test]
fn the_post_mortem_keeps_every_human_entry_and_per_check_first_failure_recovery_and_flaps() {
    let mut record = fixed_record();
    let opened = record.incident.opened_at;
    let mut events = Vec::new();
    let mut id = 100;
    let mut push = |events: &mut Vec<Event>, seconds: i64, kind, text: String| {
        id += 1;
        events.push(Event {
            id,
            at: opened + chrono::TimeDelta::seconds(seconds),
            who: "firstwatch".into(),
            kind,
            step: None,
            text,
        });
    };
    // cpu flaps warning <-> critical twenty times and never recovers; orders fails and comes back.
    push(&mut events, 30, EventKind::Check, "health: orders ok → critical: 503 Service Unavailable".into());
    for round in 0..20 {
        let (from, to) = match round {
            0 => ("ok", "warning"),
            odd if odd % 2 == 1 => ("warning", "critical"),
            _ => ("critical", "warning"),
        };
        push(&mut events, 40 + round, EventKind::Check, format!("health: cpu {from} → {to}: 91%"));
    }
    // An older store's transition, written as a plain note.
    push(&mut events, 290, EventKind::Note, "health: orders critical → ok: 200 OK".into());
    push(&mut events, 300, EventKind::Milestone, "fix applied: 2.4.1".into());
    record.events.extend(events);
    record.events.sort_by_key(|e| e.at);
    let runbook = runbook::built_in().into_iter().find(|r| r.name == "service-down").unwrap();
    let text = post_mortem(&record, Some(&runbook), opened + chrono::TimeDelta::hours(1));
    let timeline = text.split("## Timeline").nth(1).unwrap().split("\n## ").next().unwrap();
    let rows: Vec<&str> = timeline.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Time")).collect();
    // The nine human entries, the fix milestone, orders' failure and recovery, cpu's first failure.
    assert_eq!(rows.len(), 9 + 1 + 3, "{timeline}");
    assert!(rows.iter().any(|r| r.contains("first failure: orders ok → critical: 503")), "{timeline}");
    assert!(rows.iter().any(|r| r.contains("recovered: orders critical → ok: 200 OK (after 0 flaps)")), "{timeline}");
    assert!(
        rows.iter()
            .any(|r| r.contains("first failure: cpu ok → warning: 91% (still critical at the end, 19 flaps since)")),
        "{timeline}"
    );
    assert!(rows.iter().any(|r| r.contains("**Fix applied**: 2.4.1")), "{timeline}");
    assert!(!timeline.contains("cpu warning → critical"), "flaps are counted, not listed:\n{timeline}");
    assert!(text.contains("| Fix applied | T+05:00 |"), "{text}");
}
