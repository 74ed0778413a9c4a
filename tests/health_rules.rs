//! Root cause first and a latency baseline that means "normal": the engine under
//! paused time with a scripted probe, and `firstwatch check` against a real server.

mod support;

#[path = "health/server.rs"]
mod server;

use firstwatch::config::load_str;
use firstwatch::health::engine::{self, Probe};
use firstwatch::health::{CheckSpec, CheckView, Level, Outcome, Status};
use firstwatch::tui::tabs::TabMsg;
use firstwatch::tui::tabs::health::{HealthTab, Msg};
use firstwatch::tui::{Action, update};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

fn specs(toml: &str) -> Vec<CheckSpec> {
    let config = load_str(toml, Path::new("/tmp/firstwatch.toml")).unwrap_or_else(|e| panic!("{e}"));
    CheckSpec::build_all(&config).0
}

/// Answers by check name and by how long the test has run: `script(name, elapsed)`.
struct Scripted<F> {
    started: Instant,
    script: F,
}

impl<F: Fn(&str, Duration) -> Outcome + Send + Sync + 'static> Probe for Scripted<F> {
    fn run<'a>(&'a self, spec: &'a CheckSpec) -> futures::future::BoxFuture<'a, Outcome> {
        let outcome = (self.script)(&spec.name, self.started.elapsed());
        Box::pin(async move { outcome })
    }
}

fn start<F: Fn(&str, Duration) -> Outcome + Send + Sync + 'static>(
    specs: Vec<CheckSpec>,
    script: F,
) -> mpsc::UnboundedReceiver<Arc<CheckView>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let report: engine::Report = Box::new(move |views| {
        for view in views {
            let _ = tx.send(view);
        }
        true
    });
    let probe = Arc::new(Scripted { started: Instant::now(), script });
    engine::start_with(specs, None, report, probe, engine::tokio_clock());
    rx
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Arc<CheckView>>) -> Arc<CheckView> {
    tokio::time::timeout(Duration::from_secs(3600), rx.recv()).await.expect("a report").expect("open")
}

const OUTAGE_AT: Duration = Duration::from_secs(100);

/// A worker with a one-minute grace and two dependents with none: the outage starts at 100 s.
const WORKER_AND_DEPENDENTS: &str = "\
[[check]]\nname = \"worker\"\nhttp = \"http://127.0.0.1:1/worker\"\nevery = \"15s\"\nfail_after = 1\nfail_for = \"1m\"\n\n\
[[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:1/api\"\nevery = \"5s\"\nfail_after = 1\ndepends_on = \"worker\"\n\n\
[[check]]\nname = \"web\"\nhttp = \"http://127.0.0.1:1/web\"\nevery = \"3s\"\nfail_after = 1\ndepends_on = \"worker\"\n";

fn outage(name: &str, elapsed: Duration) -> Outcome {
    let outcome = match (name, elapsed >= OUTAGE_AT) {
        (_, false) => Outcome::new(Level::Ok, "200 OK"),
        ("worker", true) => Outcome::new(Level::Critical, "status was 503, expected 200"),
        (_, true) => Outcome::new(Level::Critical, "status was 502, expected 200"),
    };
    outcome.with_latency(Duration::from_millis(5))
}

#[tokio::test(start_paused = true)]
async fn with_fail_for_the_worker_is_named_and_its_dependents_never_alert_first() {
    let specs = specs(WORKER_AND_DEPENDENTS);
    let mut model = support::model("no-color");
    model.tabs.health = HealthTab::with_checks(&specs);
    let mut rx = start(specs, outage);
    let started = Instant::now();
    let mut worker_failing_seen = false;
    let worker_critical = loop {
        let view = next(&mut rx).await;
        update(&mut model, Action::Msg(TabMsg::Health(Msg::Updated(vec![view.clone()]))), std::time::Instant::now());
        let line = model.status.health.as_ref().map(|h| h.text.clone()).unwrap_or_default();
        if view.name != "worker" {
            assert!(
                matches!(view.status, Status::Pending | Status::Ok | Status::Failing | Status::Suppressed),
                "{} alerted before its cause: {} ({})",
                view.name,
                view.status_text(),
                view.message()
            );
            assert!(!line.contains("api") && !line.contains("web"), "the status line blames a dependent: {line}");
            if view.status == Status::Failing {
                assert!(view.message().contains("(checking worker first)"), "{}", view.message());
                assert_eq!(line, "!1 checking worker");
            }
            if view.status == Status::Suppressed {
                assert!(view.message().contains("(suppressed: worker is down)"), "{}", view.message());
            }
        } else if view.status == Status::Failing {
            worker_failing_seen = true;
            assert_eq!(view.status.symbol(), "!", "a failing check is never drawn ✓");
            assert!(view.status_text().starts_with("failing "), "{}", view.status_text());
            assert!(view.message().contains("status was 503") && view.message().contains("before alerting"));
            let named = line.starts_with('!') && line.contains(" worker failing ");
            assert!(named, "the status line names the root cause: {line}");
        } else if view.status == Status::Critical {
            break view;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the worker never alerted");
    };
    assert!(worker_failing_seen, "the worker showed its unconfirmed failure");
    let lasted = started.elapsed() - OUTAGE_AT;
    assert!(lasted >= Duration::from_secs(60) && lasted <= Duration::from_secs(80), "{lasted:?}");
    update(&mut model, Action::Msg(TabMsg::Health(Msg::Updated(vec![worker_critical]))), std::time::Instant::now());
    let line = model.status.health.as_ref().unwrap().text.clone();
    assert_eq!(line, "✗1 worker");
}

#[tokio::test(start_paused = true)]
async fn a_dependent_that_fails_first_waits_for_its_parent_to_be_run_again() {
    // The worker runs once an hour, so only the dependent's failure can make it run again.
    let toml = WORKER_AND_DEPENDENTS.replace("every = \"15s\"\nfail_after = 1\nfail_for = \"1m\"", "every = \"1h\"");
    let specs = specs(&toml);
    let mut rx = start(specs, outage);
    let first = loop {
        let view = next(&mut rx).await;
        if view.name != "worker" && view.status != Status::Ok && view.status != Status::Pending {
            break view;
        }
    };
    assert_eq!(first.status, Status::Failing, "held while the worker is asked: {}", first.message());
    assert!(first.message().contains("(checking worker first)"), "{}", first.message());
    assert_eq!(first.status_text(), "failing, checking worker first");
    let asked = Instant::now();
    loop {
        let view = next(&mut rx).await;
        if view.name == "worker" && view.last.as_ref().is_some_and(|o| !o.is_ok()) {
            break;
        }
    }
    assert!(asked.elapsed() < Duration::from_secs(1), "the worker ran at once: {:?}", asked.elapsed());
    let again = loop {
        let view = next(&mut rx).await;
        if view.name == first.name {
            break view;
        }
    };
    assert_eq!(again.status, Status::Suppressed);
}

#[tokio::test(start_paused = true)]
async fn twice_the_normal_latency_for_five_minutes_is_a_warning() {
    let toml = "[[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:1/\"\nevery = \"15s\"\nfail_after = 1\n\
                slow_factor = 2\nslow_for = \"5m\"\n";
    // Twelve minutes at a normal 40 ms, then 25 times slower for good: soon the slow
    // spell outnumbers the normal runs, and must still not become "normal".
    let slow_from = Duration::from_secs(12 * 60);
    let script = move |_: &str, elapsed: Duration| {
        let ms = if elapsed >= slow_from { 1000 } else { 40 };
        Outcome::new(Level::Ok, "200 OK").with_latency(Duration::from_millis(ms))
    };
    let mut rx = start(specs(toml), script);
    let started = Instant::now();
    let warning = loop {
        let view = next(&mut rx).await;
        if let Some(baseline) = &view.baseline
            && started.elapsed() >= slow_from
        {
            assert_eq!(baseline.usual_ms, Some(40), "the slow spell never becomes normal");
            assert_eq!(baseline.source, "median of 24h");
        }
        if view.status == Status::Warning {
            break view;
        }
        assert!(started.elapsed() < slow_from + Duration::from_secs(20 * 60), "the slow rule never fired");
    };
    let slow_for = started.elapsed() - slow_from;
    assert!(slow_for >= Duration::from_secs(300) && slow_for <= Duration::from_secs(330), "{slow_for:?}");
    assert_eq!(warning.message(), "latency 1.00s above 2x its usual 40ms for 5m00s");
    // Twenty more minutes of the same: still a warning, still measured against 40 ms.
    let until = Instant::now() + Duration::from_secs(20 * 60);
    while Instant::now() < until {
        let view = next(&mut rx).await;
        assert_eq!(view.status, Status::Warning, "{}", view.message());
        assert!(view.message().contains("its usual 40ms"), "{}", view.message());
    }
}

#[tokio::test(start_paused = true)]
async fn normal_comes_from_the_stored_history_after_a_restart() {
    use firstwatch::health::store::{Persist, write};
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    // Twenty minutes of 30 ms runs stored by an earlier run, then a longer slow spell it had flagged.
    let now = chrono::Utc::now();
    let mut batch = Persist::default();
    for minute in 50..70 {
        batch.record("api", now - chrono::Duration::minutes(minute), true, Some(Duration::from_millis(30)));
    }
    for minute in 1..50 {
        let at = now - chrono::Duration::minutes(minute);
        batch.record_run("api", at, true, Some(Duration::from_millis(900)), true);
    }
    write(&store, batch).await.unwrap();
    let toml = "[[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:1/\"\nevery = \"15s\"\nfail_after = 1\n\
                slow_factor = 2\nslow_for = \"5m\"\n";
    let (tx, mut rx) = mpsc::unbounded_channel();
    let report: engine::Report = Box::new(move |views| {
        for view in views {
            let _ = tx.send(view);
        }
        true
    });
    let script = |_: &str, _: Duration| Outcome::new(Level::Ok, "200 OK").with_latency(Duration::from_millis(900));
    let probe = Arc::new(Scripted { started: Instant::now(), script });
    engine::start_with(specs(toml), Some(store), report, probe, engine::tokio_clock());
    let started = Instant::now();
    let warning = loop {
        let view = next(&mut rx).await;
        if view.status == Status::Warning {
            break view;
        }
        assert!(started.elapsed() < Duration::from_secs(30 * 60), "the slow rule never fired: {}", view.message());
    };
    assert_eq!(warning.message(), "latency 900ms above 2x its usual 30ms for 5m00s");
    assert_eq!(warning.baseline.as_ref().unwrap().usual_ms, Some(30));
}

#[tokio::test(start_paused = true)]
async fn a_fixed_baseline_needs_no_history() {
    let toml = "[[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:1/\"\nevery = \"15s\"\nfail_after = 1\n\
                slow_factor = 2\nslow_for = \"1m\"\nbaseline = \"200ms\"\n";
    let script = |_: &str, _: Duration| Outcome::new(Level::Ok, "200 OK").with_latency(Duration::from_millis(450));
    let mut rx = start(specs(toml), script);
    let started = Instant::now();
    let view = loop {
        let view = next(&mut rx).await;
        if view.status == Status::Warning {
            break view;
        }
        assert_eq!(view.baseline.as_ref().and_then(|b| b.usual_ms), Some(200));
    };
    assert!(started.elapsed() <= Duration::from_secs(80), "{:?}", started.elapsed());
    assert_eq!(view.message(), "latency 450ms above 2x its usual 200ms for 1m00s");
    assert_eq!(view.baseline.as_ref().unwrap().source, "fixed");
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("firstwatch.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs `firstwatch check` off the async runtime, so the test's server keeps answering.
async fn check(config: String, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["check".to_string(), "--config".to_string(), config];
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .args(&args)
            .env("HOME", home.path())
            .env_remove("FIRSTWATCH_CONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_check_suppresses_dependents_and_counts_them_no_worse_than_their_parent() {
    let server = server::start(None).await;
    let base = &server.base;
    let dir = tempfile::tempdir().unwrap();
    // The worker's failure is a warning; its dependents' own failures would be critical.
    let config = write_config(
        dir.path(),
        &format!(
            "[[check]]\nname = \"worker\"\nhttp = \"{base}/error\"\nseverity = \"warning\"\n\n\
             [[check]]\nname = \"api\"\nhttp = \"{base}/error\"\ndepends_on = \"worker\"\n\n\
             [[check]]\nname = \"web\"\nhttp = \"{base}/healthy\"\ndepends_on = \"worker\"\n\n\
             [[check]]\nname = \"search\"\nhttp = \"{base}/healthy\"\n"
        ),
    );
    let (code, out) = check(config.clone(), &["--json"]).await;
    assert_eq!(code, 1, "the suppressed critical counts as its parent's warning: {out}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{name}: {out}"));
    assert_eq!(row("api")["status"], "critical");
    assert_eq!(row("api")["suppressed_by"], "worker");
    assert_eq!(row("worker")["suppressed_by"], serde_json::Value::Null);
    assert_eq!(row("web")["suppressed_by"], serde_json::Value::Null, "a healthy dependent is not suppressed");

    let (code, table) = check(config.clone(), &[]).await;
    assert_eq!(code, 1);
    let api = table.lines().find(|l| l.contains(" api ")).unwrap_or_else(|| panic!("{table}"));
    assert!(api.starts_with("↳ CRITICAL"), "{api}");
    assert!(api.contains("(suppressed: worker is down)"), "{api}");
    assert!(table.contains("1 ok") || table.contains("2 ok"), "{table}");
    assert!(table.contains("0 critical, 0 unknown, 1 suppressed"), "{table}");

    // Only the dependent named: its parent runs to judge it, and is not printed.
    let (code, out) = check(config.clone(), &["--json", "api"]).await;
    assert_eq!(code, 1, "{out}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["suppressed_by"], "worker");

    // With a healthy parent the dependent's own failure counts in full.
    let healthy_parent = std::fs::read_to_string(&config).unwrap().replacen("/error", "/healthy", 1);
    let config = write_config(dir.path(), &healthy_parent);
    let (code, out) = check(config, &["--json", "api"]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("\"suppressed_by\": null"), "{out}");
}

#[test]
fn the_detail_pane_shows_the_usual_latency_and_where_it_came_from() {
    use firstwatch::health::engine::Collector;
    let toml = "[[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:1/\"\nslow_factor = 2\nslow_for = \"5m\"\n";
    let specs = specs(toml);
    let mut collector = Collector::new(specs.iter().cloned().map(Arc::new).collect(), None, Box::new(|_| true));
    let start = chrono::Utc::now() - chrono::Duration::minutes(30);
    for minute in 0..12 {
        let mut outcome = Outcome::new(Level::Ok, "200 OK").with_latency(Duration::from_millis(40));
        outcome.at = start + chrono::Duration::minutes(minute);
        collector.apply(0, outcome);
    }
    let now = start + chrono::Duration::minutes(12);
    let mut model = support::model("no-color");
    model.wall = now;
    model.tabs.health = HealthTab::with_checks(&specs);
    let views = vec![Arc::new(collector.view(0, now))];
    update(&mut model, Action::Msg(TabMsg::Health(Msg::Updated(views))), std::time::Instant::now());
    update(&mut model, Action::Select, std::time::Instant::now());
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| firstwatch::tui::view::render(&model, frame)).unwrap();
    let screen = format!("{}", terminal.backend());
    assert!(
        screen.contains("usual latency 40ms (median of 24h, slow minutes left out) · warn above 2x for 5m00s"),
        "{screen}"
    );
}
