//! The health tab with 1,000 active alerts (goal: drawn in under 2 ms), beside
//! what one Alertmanager answer of that size costs to take in: decoding the
//! JSON, sanitising every string, and laying the section out again.

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use firstwatch::engine::alertmanager::AlertGroup;
use firstwatch::engine::alerts::{EngineAlerts, GroupView};
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::tabs::TabMsg;
use firstwatch::tui::tabs::health::{HealthTab, Msg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

const ALERTS: usize = 1_000;
/// Alerts per notification group (grouped by alertname and cluster, as is common).
const PER_GROUP: usize = 20;

/// Alertmanager's `/api/v2/alerts/groups` answer: 1,000 active alerts in 50 groups.
fn groups_json() -> String {
    let severities = ["critical", "warning", "warning", "info"];
    let groups: Vec<serde_json::Value> = (0..ALERTS / PER_GROUP)
        .map(|g| {
            let name = format!("NodeTrouble{g:02}");
            let alerts: Vec<serde_json::Value> = (0..PER_GROUP)
                .map(|a| {
                    serde_json::json!({
                        "fingerprint": format!("{g:04x}{a:04x}deadbeef"),
                        "labels": {
                            "alertname": name, "cluster": "eu-1", "instance": format!("gpu-node-{a:03}:9100"),
                            "job": "node", "severity": severities[g % severities.len()],
                        },
                        "annotations": {
                            "summary": format!("gpu-node-{a:03} has been unhappy for a while ({name})"),
                            "runbook_url": "https://wiki.example/runbooks/node-trouble",
                        },
                        "startsAt": "2026-12-05T17:00:00.000Z",
                        "endsAt": "2026-12-05T19:00:00.000Z",
                        "updatedAt": "2026-12-05T17:59:00.000Z",
                        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
                        "status": { "state": "active", "silencedBy": [], "inhibitedBy": [] },
                        "receivers": [{ "name": "oncall" }],
                    })
                })
                .collect();
            serde_json::json!({
                "labels": { "alertname": name, "cluster": "eu-1" },
                "receiver": { "name": "oncall" },
                "alerts": alerts,
            })
        })
        .collect();
    serde_json::Value::Array(groups).to_string()
}

fn answer(json: &str) -> EngineAlerts {
    let groups: Vec<AlertGroup> = serde_json::from_str(json).unwrap();
    let groups = groups.iter().map(|g| GroupView::from_api("am", g)).collect();
    EngineAlerts { engine: "am".into(), read: Ok(groups), at: Utc::now() }
}

fn model(answer: &EngineAlerts) -> Model {
    let mut model = Model::new(
        Keymap::defaults(),
        Theme::built_in("default-dark"),
        "bench-host".into(),
        firstwatch::util::zone::Zone::UTC,
    );
    model.status.clock = "Sat 18:00 UTC".into();
    model.tabs.health = HealthTab::with_checks(&[]);
    update(&mut model, Action::Tick(Utc.with_ymd_and_hms(2026, 12, 5, 18, 0, 0).unwrap()), Instant::now());
    let msg = Action::Msg(TabMsg::Health(Msg::Alerts(Arc::new(answer.clone()))));
    update(&mut model, msg, Instant::now());
    assert_eq!(model.tabs.health.alerts().lines().len(), ALERTS + ALERTS / PER_GROUP);
    model
}

fn frames(c: &mut Criterion) {
    let json = groups_json();
    let answer = answer(&json);
    let mut model = model(&answer);
    for (width, height) in [(120, 40), (80, 24)] {
        c.bench_function(&format!("health tab, {ALERTS} active alerts, {width}x{height} frame"), |b| {
            let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
            b.iter(|| {
                terminal.clear().unwrap();
                terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
            })
        });
    }
    // The selection at the last alert, with the detail pane open.
    update(&mut model, Action::Bottom, Instant::now());
    update(&mut model, Action::Select, Instant::now());
    c.bench_function(&format!("health tab, {ALERTS} active alerts, last selected, detail open, 120x40"), |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
    c.bench_function(&format!("decode and sanitise an answer of {ALERTS} alerts"), |b| {
        b.iter(|| black_box(self::answer(black_box(&json))))
    });
    let shared = Arc::new(answer);
    c.bench_function(&format!("take in an answer of {ALERTS} alerts (lay out, count)"), |b| {
        b.iter(|| {
            let msg = Action::Msg(TabMsg::Health(Msg::Alerts(shared.clone())));
            update(&mut model, msg, Instant::now())
        })
    });
}

criterion_group!(benches, frames);
criterion_main!(benches);
