//! Render time of a full console frame at 120x40 (goal: under 1 ms), and of the
//! incident tab with a 40-step runbook and 5,000 timeline entries, most of them
//! check transitions (goal: under 1 ms too), and what the one width function
//! costs beside a full frame of wide text (goal: under 5 % of it).

use criterion::{Criterion, criterion_group, criterion_main};
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::time::Instant;

fn model() -> Model {
    let mut model = Model::new(
        Keymap::defaults(),
        Theme::built_in("default-dark"),
        "bench-host".into(),
        firstwatch::util::zone::Zone::UTC,
    );
    model.status.clock = "Mon 03:07 UTC".into();
    model
}

fn full_frame(c: &mut Criterion) {
    let model = model();
    c.bench_function("render 120x40 frame", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            // A fresh back buffer each time, so the whole frame is diffed and written.
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
    let mut with_help = self::model();
    update(&mut with_help, Action::ToggleHelp, Instant::now());
    c.bench_function("render 120x40 frame with help overlay", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&with_help), frame)).unwrap();
        })
    });
}

/// A 40-step runbook (4 phases of 10) and `entries` timeline entries, 9 in 10 of them check transitions.
fn busy_incident(dir: &std::path::Path, entries: usize) -> Model {
    use chrono::TimeZone;
    use firstwatch::incident::record::{Event, EventKind, Incident, IncidentRecord, Severity};
    use firstwatch::tui::tab::TabId;
    use firstwatch::tui::tabs::TabMsg;
    use firstwatch::tui::tabs::incident::{IncidentTab, Msg};
    let mut runbook = String::from("# Long runbook\n");
    for phase in 1..=4 {
        runbook.push_str(&format!("## Phase {phase} ({} min)\n", phase * 15));
        for step in 1..=10 {
            runbook.push_str(&format!(
                "- [ ] Step {phase}.{step}: look at the dashboards, the recent deployments and the error logs of every service involved\n"
            ));
        }
    }
    std::fs::write(dir.join("long.md"), runbook).unwrap();
    let config =
        firstwatch::config::load_str("[[runbook]]\npath = \"long.md\"\n", &dir.join("firstwatch.toml")).unwrap();
    let opened = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 0, 0).unwrap();
    let events = (0..entries)
        .map(|i| {
            let machine = i % 10 != 0;
            Event {
                id: i as i64,
                at: opened + chrono::TimeDelta::seconds(i as i64),
                who: "ana".into(),
                kind: if machine || i % 20 == 0 { EventKind::Note } else { EventKind::Tick },
                step: if machine { None } else { Some(format!("{}.{}", i % 4 + 1, i % 10 + 1)) },
                text: if machine {
                    format!("health: cpu warning → critical: load {}", i % 100)
                } else {
                    format!("entry {i}: checked the dashboards and the logs again")
                },
            }
        })
        .collect();
    let record = IncidentRecord {
        incident: Incident {
            id: 1,
            title: "Orders checkout failing".into(),
            severity: Severity::P1,
            runbook: Some("long".into()),
            opened_at: opened,
            opened_by: "ana".into(),
            closed_at: None,
            closed_by: None,
            resolution: None,
        },
        events,
    };
    let mut model = self::model();
    model.tabs.incident = IncidentTab::new(&config, true, false, "bench-host");
    for action in [
        Action::SelectTab(TabId::Incident),
        Action::Msg(TabMsg::Incident(Msg::Loaded(Some(std::sync::Arc::new(record))))),
        Action::Tick(opened + chrono::TimeDelta::minutes(25)),
        Action::Down,
        Action::Down,
    ] {
        update(&mut model, action, Instant::now());
    }
    model
}

fn incident_frame(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let model = busy_incident(dir.path(), 5000);
    c.bench_function("render 120x40 incident tab, 40 steps, 5000 entries", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
}

/// Forty rows of the text terminals disagree about (emoji with VS16, CJK, a ZWJ
/// family, a skin tone, a flag), drawn as a 120x40 health list; beside it, the
/// width work a redraw does for them (cutting each to its column by cells), and
/// the sanitiser's, which runs once per line as it arrives.
fn width_share(c: &mut Criterion) {
    use firstwatch::util::{sanitize::sanitize_str, width};
    let raw: Vec<String> = (0..40)
        .map(|i| {
            format!("⛅️ wrangler 3.78.{i} ☁️ 漢字 deploy 👨‍👩‍👧 👍🏽 🇩🇪 failed with a long message that needs cutting {i}")
        })
        .collect();
    let mut toml = String::new();
    for (i, _) in raw.iter().enumerate() {
        toml.push_str(&format!("[[check]]\nname = \"check {i:02} ⛅️\"\ncommand = [\"true\"]\n"));
    }
    let config = firstwatch::config::load_str(&toml, std::path::Path::new("/tmp/firstwatch.toml")).unwrap();
    let (specs, _) = firstwatch::health::CheckSpec::build_all(&config);
    let mut collector = firstwatch::health::engine::Collector::new(
        specs.iter().cloned().map(std::sync::Arc::new).collect(),
        None,
        Box::new(|_| true),
    );
    for (i, text) in raw.iter().enumerate() {
        collector.apply(i, firstwatch::health::Outcome::new(firstwatch::health::Level::Critical, text.clone()));
    }
    let now = chrono::Utc::now();
    let views = (0..specs.len()).map(|i| std::sync::Arc::new(collector.view(i, now))).collect();
    let mut model = model();
    model.tabs.health = firstwatch::tui::tabs::health::HealthTab::with_checks(&specs);
    update(
        &mut model,
        Action::Msg(firstwatch::tui::tabs::TabMsg::Health(firstwatch::tui::tabs::health::Msg::Updated(views))),
        Instant::now(),
    );
    let mut group = c.benchmark_group("width");
    group.bench_function("120x40 health frame of 40 wide rows", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
    // What a redraw does with widths: cut each (already clean) row to its column by cells.
    let clean: Vec<String> = raw.iter().map(|text| sanitize_str(text)).collect();
    group.bench_function("per frame: cutting those 40 rows by cells", |b| {
        b.iter(|| {
            for text in &clean {
                black_box(width::truncate(black_box(text), 60));
            }
        })
    });
    // Once per line as it arrives, not per frame: making the text unambiguous.
    group.bench_function("at ingest: sanitising those 40 rows", |b| {
        b.iter(|| {
            for text in &raw {
                black_box(sanitize_str(black_box(text)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, full_frame, incident_frame, width_share);
criterion_main!(benches);
