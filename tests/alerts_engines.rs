//! `firstwatch alerts` and the console's alerts section against a real
//! Alertmanager (and the Prometheus whose AlwaysFiring rule fires into it),
//! started on loopback by the engines harness. Without the binaries these
//! tests print why and return; with `CI` set they fail instead.

mod support;

use firstwatch::engine::alertmanager::{self, NewSilence};
use firstwatch::engine::matcher::Matcher;
use firstwatch::tui::tabs::health::{self, Msg};
use firstwatch::tui::tabs::{Services, TabMsg};
use firstwatch::tui::{Action, update};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::engines::{self, Alertmanager, Prometheus, PrometheusOptions};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `firstwatch alerts` with `config` (off the async runtime, so a test's servers keep going).
fn alerts(config: &Path, extra: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("alerts")
        .arg("--config")
        .arg(config)
        .args(extra)
        .env("HOME", home.path())
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn write_config(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("firstwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn engine_block(name: &str, url: &str, timeout: &str) -> String {
    format!("[[engine]]\nname = \"{name}\"\nkind = \"alertmanager\"\nurl = \"{url}\"\ntimeout = \"{timeout}\"\n\n")
}

fn json(run: &Run) -> Vec<Value> {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", run.stdout, run.stderr))
}

fn named<'a>(alerts: &'a [Value], name: &str) -> Option<&'a Value> {
    alerts.iter().find(|a| a["name"] == name)
}

/// Posts one alert to Alertmanager as Prometheus would (`POST /api/v2/alerts`).
fn post_alert(alertmanager: &Alertmanager, labels: &[(&str, &str)], summary: &str) {
    let labels: serde_json::Map<String, Value> = labels.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
    let body = serde_json::json!([{ "labels": labels, "annotations": { "summary": summary } }]);
    let url = format!("{}/api/v2/alerts", alertmanager.url());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    assert_eq!(status.ok(), Some(200), "posting an alert to {url}");
}

/// Runs `firstwatch alerts --json` until `done` holds for its answer (Alertmanager
/// takes a moment to group a new alert), or panics after the harness's deadline.
fn alerts_until(config: &Path, what: &str, done: impl Fn(&Run, &[Value]) -> bool) -> (Run, Vec<Value>) {
    let found = engines::wait_until(engines::DEADLINE, || {
        let run = alerts(config, &["--json"]);
        let listed = json(&run);
        done(&run, &listed).then_some((run, listed))
    });
    found.unwrap_or_else(|| {
        let run = alerts(config, &["--json"]);
        panic!("{what}: not within {:?}; last answer (exit {}):\n{}", engines::DEADLINE, run.code, run.stdout)
    })
}

#[test]
fn always_firing_is_listed_with_every_field_and_a_critical_exits_2() {
    if !engines::installed() {
        return;
    }
    let alertmanager = Alertmanager::start(Default::default());
    let _prometheus = Prometheus::start(PrometheusOptions {
        alertmanager: Some(&alertmanager),
        warning_alert: true,
        ..Default::default()
    });
    alertmanager.wait_for_alert(engines::ALWAYS_FIRING);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &engine_block("am", &alertmanager.url(), "5s"));

    let (run, listed) = alerts_until(&config, "both alerts grouped", |_, listed| {
        named(listed, engines::ALWAYS_FIRING).is_some() && named(listed, engines::ALWAYS_WARNING).is_some()
    });
    assert_eq!(run.code, 2, "a critical is active: {}", run.stdout);
    let firing = named(&listed, engines::ALWAYS_FIRING).unwrap();
    assert_eq!(firing["severity"], "critical", "{firing}");
    assert_eq!(firing["state"], "active", "{firing}");
    assert_eq!(firing["engine"], "am", "{firing}");
    assert_eq!(firing["labels"]["alertname"], engines::ALWAYS_FIRING, "{firing}");
    assert_eq!(firing["labels"]["job"], "api", "{firing}");
    assert!(firing["annotations"]["summary"].as_str().is_some_and(|s| !s.is_empty()), "{firing}");
    assert!(firing["annotations"]["runbook"].as_str().is_some_and(|s| s.starts_with("https://")), "{firing}");
    assert!(firing["fingerprint"].as_str().is_some_and(|f| f.len() >= 8), "{firing}");
    assert_eq!(firing["silenced_by"], serde_json::json!([]), "{firing}");
    let starts_at = firing["starts_at"].as_str().expect("starts_at");
    let starts_at = chrono::DateTime::parse_from_rfc3339(starts_at).unwrap_or_else(|e| panic!("{starts_at}: {e}"));
    assert!(chrono::Utc::now().signed_duration_since(starts_at) < chrono::Duration::minutes(5), "{starts_at}");
    assert!(firing["generator_url"].as_str().is_some_and(|u| u.contains("/graph")), "{firing}");
    // Worst first: the critical before the warning.
    let position = |name: &str| listed.iter().position(|a| a["name"] == name).unwrap();
    assert!(position(engines::ALWAYS_FIRING) < position(engines::ALWAYS_WARNING), "{listed:?}");

    // The table says the same, grouped as Alertmanager groups them (by alertname here).
    let table = alerts(&config, &[]);
    assert_eq!(table.code, 2);
    let firing_group = format!("am › alertname=\"{}\"", engines::ALWAYS_FIRING);
    assert!(table.stdout.contains(&firing_group), "{}", table.stdout);
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.contains("✗ critical") && l.contains(engines::ALWAYS_FIRING) && l.contains("active")),
        "{}",
        table.stdout
    );
}

#[test]
fn exit_codes_follow_the_worst_active_alert_and_a_silenced_critical_does_not_count() {
    if !engines::installed() {
        return;
    }
    let alertmanager = Alertmanager::start(Default::default());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &engine_block("am", &alertmanager.url(), "5s"));

    let quiet = alerts(&config, &[]);
    assert_eq!((quiet.code, quiet.stdout.trim()), (0, "no alerts (am)"), "{}", quiet.stderr);

    // An info alert is listed and never alarming.
    post_alert(&alertmanager, &[("alertname", "Watchdog"), ("severity", "none")], "the pipeline works");
    let (run, _) = alerts_until(&config, "Watchdog", |_, listed| named(listed, "Watchdog").is_some());
    assert_eq!(run.code, 0, "{}", run.stdout);

    // A warning alone: 1.
    post_alert(&alertmanager, &[("alertname", "DiskFilling"), ("severity", "warning")], "disk 85% full");
    let (run, listed) = alerts_until(&config, "DiskFilling", |_, listed| named(listed, "DiskFilling").is_some());
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(named(&listed, "DiskFilling").unwrap()["severity"], "warning");

    // A critical silenced on the real server is suppressed and still 1.
    let engine_config = firstwatch::config::load_str(&std::fs::read_to_string(&config).unwrap(), &config).unwrap();
    let engine = firstwatch::engine::Engine::new(&engine_config.engines[0], dir.path()).unwrap();
    let now = chrono::Utc::now();
    let silence = NewSilence {
        matchers: vec![Matcher::parse("alertname=\"ApiDown\"").unwrap()],
        starts_at: now,
        ends_at: now + chrono::Duration::hours(1),
        created_by: "alerts test".into(),
        comment: "known".into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let silence_id = runtime.block_on(alertmanager::create_silence(&engine, &silence)).unwrap();
    post_alert(&alertmanager, &[("alertname", "ApiDown"), ("severity", "critical")], "api down");
    let (run, listed) = alerts_until(&config, "ApiDown suppressed", |_, listed| {
        named(listed, "ApiDown").is_some_and(|a| a["state"] == "suppressed")
    });
    assert_eq!(run.code, 1, "a silenced critical does not count: {}", run.stdout);
    assert_eq!(named(&listed, "ApiDown").unwrap()["silenced_by"], serde_json::json!([silence_id]));

    // An alert with no severity label counts as a warning; an active critical makes it 2.
    post_alert(&alertmanager, &[("alertname", "NoSeverity")], "who knows");
    post_alert(&alertmanager, &[("alertname", "DbDown"), ("severity", "page")], "db down");
    let (run, listed) = alerts_until(&config, "DbDown", |_, listed| named(listed, "DbDown").is_some());
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(named(&listed, "DbDown").unwrap()["severity"], "critical", "page counts as critical");
    assert_eq!(listed[0]["name"], "DbDown", "the active critical first: {listed:?}");
}

#[test]
fn an_engine_that_cannot_be_read_is_named_within_its_timeout_and_the_others_still_print() {
    if !engines::installed() {
        return;
    }
    let alertmanager = Alertmanager::start(Default::default());
    post_alert(&alertmanager, &[("alertname", "DiskFilling"), ("severity", "warning")], "disk 85% full");
    alertmanager.wait_for_alert("DiskFilling");
    // Accepts connections (the kernel does) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("{}{}", engine_block("am", &alertmanager.url(), "5s"), engine_block("am-hung", &silent_url, "1s")),
    );

    let (run, listed) =
        alerts_until(&config, "DiskFilling grouped", |_, listed| named(listed, "DiskFilling").is_some());
    assert_eq!(run.code, 3, "unknown outranks a warning: {}", run.stderr);
    assert_eq!(named(&listed, "DiskFilling").unwrap()["engine"], "am");
    assert!(run.stderr.contains("engine `am-hung`: no answer within 1"), "{}", run.stderr);
    assert!(run.took < Duration::from_secs(4), "bounded by am-hung's 1s timeout: {:?}", run.took);

    let table = alerts(&config, &["--engine", "am-hung"]);
    assert_eq!(table.code, 3);
    assert!(table.stdout.contains("am-hung › ? unknown: engine `am-hung`"), "{}", table.stdout);
    assert!(!table.stdout.contains("DiskFilling"), "only the engine named is read: {}", table.stdout);
    drop(silent);
}

#[test]
fn without_an_alertmanager_engine_the_command_says_so_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        write_config(dir.path(), "[[engine]]\nname = \"prom\"\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9\"\n");
    let run = alerts(&config, &[]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("no alertmanager engine is configured"), "{}", run.stderr);
    assert!(run.stderr.contains("kind = \"alertmanager\""), "with an example: {}", run.stderr);
    let run = alerts(&config, &["--engine", "prom"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("engine `prom` is prometheus, not alertmanager"), "{}", run.stderr);
    let run = alerts(&config, &["--engine", "nope"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("no engine named `nope`"), "{}", run.stderr);
    let help =
        std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch")).args(["alerts", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for line in ["critical, crit, page, error", "missing or anything else", "3  an engine could not be read"] {
        assert!(help.contains(line), "{line:?} missing from --help:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_the_real_always_firing_alert_and_i_prefills_from_it() {
    if !engines::installed() {
        return;
    }
    let alertmanager = Alertmanager::start(Default::default());
    let _prometheus = Prometheus::start(PrometheusOptions { alertmanager: Some(&alertmanager), ..Default::default() });
    alertmanager.wait_for_alert(engines::ALWAYS_FIRING);
    // The host's default runbook comes first; the alert's `runbook` URL ends in the second's name.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("general.md"), "# General\n## Look\n- [ ] Look around\n").unwrap();
    std::fs::write(dir.path().join("always-firing.md"), "# The API on fire\n## Act\n- [ ] Put it out\n").unwrap();
    let text = format!(
        "{}[[runbook]]\npath = \"general.md\"\n\n[[runbook]]\npath = \"always-firing.md\"\n",
        engine_block("am", &alertmanager.url(), "5s")
    );
    let config = firstwatch::config::load_str(&text, &dir.path().join("firstwatch.toml")).unwrap();
    let (mut services, mut messages) = Services::detached();
    services.config = Arc::new(config);
    let mut model = support::model("no-color");
    model.tabs.incident = firstwatch::tui::tabs::incident::IncidentTab::new(&services.config, true, false, "demo-host");
    model.tabs.health = health::start(&services);

    let deadline = Duration::from_secs(20);
    let message = tokio::time::timeout(deadline, messages.recv()).await.expect("the first read").unwrap();
    let Action::Msg(TabMsg::Health(Msg::Alerts(answer))) = &message else { panic!("{message:?}") };
    assert!(answer.read.is_ok(), "{answer:?}");
    update(&mut model, message, Instant::now());
    let alert = model.tabs.health.selected_alert().expect("with no checks, the first alert is selected");
    assert_eq!(alert.name, engines::ALWAYS_FIRING);
    assert_eq!(alert.engine, "am");

    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| firstwatch::tui::view::render(&model, frame)).unwrap();
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("✗ critical") && screen.contains(engines::ALWAYS_FIRING), "{screen}");

    let declare = Action::Tab(firstwatch::tui::tabs::TabCommand::Health(health::Command::Declare));
    update(&mut model, declare, Instant::now());
    assert_eq!(model.tab, firstwatch::tui::tab::TabId::Incident);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| firstwatch::tui::view::render(&model, frame)).unwrap();
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("new incident") && screen.contains(engines::ALWAYS_FIRING), "{screen}");
    let enter = Action::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    ));
    let opened: Vec<_> = update(&mut model, enter, Instant::now())
        .into_iter()
        .filter_map(|effect| match effect {
            firstwatch::tui::Effect::Tab(firstwatch::tui::tabs::TabEffect::Incident(
                firstwatch::tui::tabs::incident::Effect::Open { title, severity, runbook, evidence },
            )) => Some((title, severity, runbook, evidence)),
            _ => None,
        })
        .collect();
    let [(title, severity, runbook, evidence)] = opened.as_slice() else { panic!("{opened:?}") };
    assert_eq!(title, &format!("{}: The API is on fire (test alert)", engines::ALWAYS_FIRING));
    assert_eq!(*severity, firstwatch::incident::record::Severity::P1);
    assert_eq!(runbook.as_deref(), Some("always-firing"), "the runbook its annotation's URL names");
    let evidence = evidence.as_deref().unwrap_or_default();
    assert!(
        evidence.contains("job=\"api\"") && evidence.contains("runbook: https://runbooks.example.test/"),
        "{evidence}"
    );
}
