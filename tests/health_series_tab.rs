//! The health tab with `promql` and `targets` checks: one row per series, each
//! with its own state, and a detail pane with the series' labels and a sparkline
//! of its value fetched once per look. Fed with fixed views; no server needed.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use firstwatch::config::load_str;
use firstwatch::engine::Labels;
use firstwatch::health::engine::Collector;
use firstwatch::health::{CheckSpec, Level, Outcome, SeriesResult};
use firstwatch::tui::tabs::health::{Command, Effect, HealthTab, Msg, RangeAnswer};
use firstwatch::tui::tabs::{TabCommand, TabEffect, TabMsg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[[engine]]
name = "prom"
kind = "prometheus"
url = "http://127.0.0.1:9"

[[check]]
name = "api"
http = "http://127.0.0.1:8080/health"

[[check]]
name = "gpu memory"
promql = 'DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)'
expect = ['value < 0.9']
fail_after = 1

[[check]]
name = "scrapes"
targets = "prom"
fail_after = 1

[[check]]
name = "odd"
promql = 'fw_test_value'
expect = ['value < 2']
severity = "warning"
fail_after = 1
"#;

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 3, 0, 0).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A series named `check{key="value",...}` by `keys`.
fn series(check: &str, keys: &[&str], labels: Labels, value: Option<f64>, level: Level, message: &str) -> SeriesResult {
    let failed = if level == Level::Ok || value.is_none() { Vec::new() } else { vec![0] };
    let pairs: Vec<String> = keys.iter().map(|k| format!("{k}=\"{}\"", labels[*k])).collect();
    let values: Vec<&str> = keys.iter().map(|k| labels[*k].as_str()).collect();
    SeriesResult {
        name: format!("{check}{{{}}}", pairs.join(",")),
        short: format!("{check}{{{}}}", values.join(",")),
        labels,
        value,
        level,
        message: message.into(),
        failed,
    }
}

fn gpu(host: &str, gpu: &str, value: f64) -> SeriesResult {
    let labels = labels(&[
        ("Hostname", host),
        ("UUID", &format!("GPU-{host}-{gpu}-4f57-8a3c")),
        ("gpu", gpu),
        ("job", "dcgm"),
        ("modelName", "NVIDIA H100 80GB HBM3"),
    ]);
    let (level, message) = if value < 0.9 {
        (Level::Ok, format!("value {value}"))
    } else {
        (Level::Critical, format!("value was {value}, expected < 0.9"))
    };
    series("gpu memory", &["Hostname", "gpu"], labels, Some(value), level, &message)
}

fn outcome(series: Vec<SeriesResult>, seconds: i64) -> Outcome {
    let worst = series.iter().map(|s| s.level).max().unwrap_or(Level::Ok);
    let mut outcome = Outcome::new(worst, "summary").with_latency(Duration::from_millis(12));
    outcome.at = base_time() + chrono::Duration::seconds(seconds);
    outcome.series = series;
    outcome
}

struct Screen {
    model: Model,
    collector: Collector,
}

impl Screen {
    fn new() -> Screen {
        let config = load_str(CONFIG, Path::new("/tmp/firstwatch.toml")).unwrap();
        let (specs, problems) = CheckSpec::build_all(&config);
        assert!(problems.is_empty(), "{problems:?}");
        let collector = Collector::new(specs.iter().cloned().map(Arc::new).collect(), None, Box::new(|_| true));
        let mut model = support::model("no-color");
        model.tabs.health = HealthTab::with_checks(&specs);
        let mut screen = Screen { model, collector };
        for run in 0..3 {
            screen.run(run * 30);
        }
        screen
    }

    /// One run of every check, reported to the tab; returns the tab's effects.
    fn run(&mut self, seconds: i64) -> Vec<firstwatch::tui::Effect> {
        let mut ok = Outcome::new(Level::Ok, "200 OK").with_latency(Duration::from_millis(8));
        ok.at = base_time() + chrono::Duration::seconds(seconds);
        self.collector.apply(0, ok);
        let gpus =
            vec![gpu("gpu-a", "0", 0.42), gpu("gpu-a", "1", 0.97), gpu("gpu-b", "0", 0.12), gpu("gpu-b", "1", 0.93)];
        self.collector.apply(1, outcome(gpus, seconds));
        let down = series(
            "scrapes",
            &["job", "instance"],
            labels(&[("instance", "10.0.0.7:9187"), ("job", "db")]),
            None,
            Level::Critical,
            "down: Get \"http://10.0.0.7:9187/metrics\": dial tcp 10.0.0.7:9187: connect: connection refused",
        );
        self.collector.apply(2, outcome(vec![down], seconds));
        let odd = vec![
            series(
                "odd",
                &["case"],
                labels(&[("case", "nan")]),
                Some(f64::NAN),
                Level::Warning,
                "value was NaN, expected < 2",
            ),
            series(
                "odd",
                &["case"],
                labels(&[("case", "inf")]),
                Some(f64::INFINITY),
                Level::Warning,
                "value was +Inf, expected < 2",
            ),
            series("odd", &["case"], labels(&[("case", "finite")]), Some(1.5), Level::Ok, "value 1.5"),
        ];
        self.collector.apply(3, outcome(odd, seconds));
        let now = base_time() + chrono::Duration::seconds(seconds);
        self.model.wall = now;
        let views = (0..4).map(|i| Arc::new(self.collector.view(i, now))).collect();
        update(&mut self.model, Action::Msg(TabMsg::Health(Msg::Updated(views))), Instant::now())
    }

    fn act(&mut self, action: Action) -> Vec<firstwatch::tui::Effect> {
        update(&mut self.model, action, Instant::now())
    }

    fn draw(&self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| view::render(&self.model, frame)).unwrap();
        format!("{}", terminal.backend())
    }
}

fn line_of(screen: &str, text: &str) -> usize {
    screen.lines().position(|l| l.contains(text)).unwrap_or_else(|| panic!("{text} missing:\n{screen}"))
}

/// The range requests among the effects.
fn fetches(effects: &[firstwatch::tui::Effect]) -> Vec<firstwatch::tui::tabs::health::RangeRequest> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            firstwatch::tui::Effect::Tab(TabEffect::Health(Effect::FetchRange(request))) => Some(request.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_series_is_its_own_row_with_its_own_state_at_both_sizes() {
    let screen = Screen::new();
    for (width, height) in [(80, 24), (120, 40)] {
        let text = screen.draw(width, height);
        insta::assert_snapshot!(format!("health_series_{width}x{height}"), text);
        // Past a quarter of the width the keys go and the values stay (the strip under the
        // table shows the whole name), so the message keeps its room.
        let name = |host: &str, gpu: &str| format!("gpu memory{{{host},{gpu}}}");
        let critical_gpu = line_of(&text, &name("gpu-a", "1"));
        let ok_gpu = line_of(&text, &name("gpu-a", "0"));
        assert!(text.lines().nth(critical_gpu).unwrap().contains("✗"), "{text}");
        assert!(text.lines().nth(ok_gpu).unwrap().contains("✓"), "{text}");
        assert!(line_of(&text, "scrapes{") < line_of(&text, "odd{case=\"inf\"}"), "critical before warning");
        assert!(line_of(&text, "odd{case=\"nan\"}") < ok_gpu, "warning before ok");
        assert!(text.contains("down: Get \"http://10"), "a down target's last error: {text}");
        // Rows as drawn: 5 ok (api, two GPUs, odd finite), 3 critical, 2 warning.
        assert!(text.contains("health · 4 ok, 2 warning, 3 critical"), "{text}");
    }
}

#[test]
fn a_selected_series_shows_its_whole_name_and_message_under_the_table() {
    let mut screen = Screen::new();
    // Worst first: the two critical GPUs, then the down target.
    let text = screen.draw(80, 24);
    let strip = text.lines().rev().nth(3).unwrap();
    assert!(strip.contains("gpu memory{Hostname=\"gpu-a\",gpu=\"1\"}"), "the whole name: {text}");
    screen.act(Action::Down);
    screen.act(Action::Down);
    let text = screen.draw(80, 24);
    assert!(text.contains("✗ down: Get \"http://10.0.0.7:9187/metrics\""), "{text}");
}

#[test]
fn enter_on_a_series_shows_its_labels_and_asks_for_its_range_once_per_run() {
    let mut screen = Screen::new();
    let effects = screen.act(Action::Select);
    let [request] = fetches(&effects).try_into().unwrap_or_else(|f: Vec<_>| panic!("one request: {f:?}"));
    assert_eq!(request.labels.get("UUID").map(String::as_str), Some("GPU-gpu-a-1-4f57-8a3c"));
    assert_eq!(request.promql, "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)");
    assert_eq!(request.window, Duration::from_secs(3600), "120 runs of 30s");
    let loading = screen.draw(80, 24);
    assert!(loading.contains("loading…"), "{loading}");

    // Values climbing to the current 0.97, with a gap where the value was NaN.
    let start = base_time().timestamp() as f64 - 3600.0;
    let points: Vec<(f64, f64)> = (0..120)
        .map(|i| (start + 30.0 * i as f64, if i == 60 { f64::NAN } else { 0.5 + 0.47 * (i as f64 / 119.0) }))
        .collect();
    let answer = RangeAnswer { key: request.key.clone(), generation: request.generation, points: Ok(points) };
    assert!(fetches(&screen.act(Action::Msg(TabMsg::Health(Msg::Range(answer))))).is_empty());
    for (width, height) in [(80, 24), (120, 40)] {
        let text = screen.draw(width, height);
        insta::assert_snapshot!(format!("health_series_detail_{width}x{height}"), text);
        assert!(text.contains("labels Hostname=\"gpu-a\" UUID=\"GPU-gpu-a-1-4f57-8a3c\""), "{text}");
        assert!(text.contains("value 1h") && text.contains("0.5–0.97"), "{text}");
        assert!(text.contains("✗ value < 0.9"), "{text}");
        assert!(text.contains("▁") && text.contains("█"), "a sparkline: {text}");
    }

    // Moving away and back asks again only for rows not held; a re-run asks again.
    assert_eq!(fetches(&screen.act(Action::Down)).len(), 1, "another series");
    let back = screen.act(Action::Up);
    let [back] =
        fetches(&back).try_into().unwrap_or_else(|f: Vec<_>| panic!("only one range is held at a time: {f:?}"));
    let answer = RangeAnswer { key: back.key.clone(), generation: back.generation, points: Ok(vec![(start, 0.9)]) };
    screen.act(Action::Msg(TabMsg::Health(Msg::Range(answer))));
    assert!(
        fetches(&screen.act(Action::Tab(TabCommand::Health(Command::CycleSort)))).is_empty(),
        "held: not asked again"
    );
    let rerun = screen.run(120);
    let [again] = fetches(&rerun).try_into().unwrap_or_else(|f: Vec<_>| panic!("one request per run: {f:?}"));
    assert!(again.generation > request.generation);
    // An answer to an older request is dropped.
    let stale = RangeAnswer { key: request.key.clone(), generation: request.generation, points: Ok(Vec::new()) };
    screen.act(Action::Msg(TabMsg::Health(Msg::Range(stale))));
    assert!(screen.draw(80, 24).contains("refreshing…"), "still showing the held points while the new ones come");

    // A failed range says so in place of the sparkline.
    let failed = RangeAnswer {
        key: again.key.clone(),
        generation: again.generation,
        points: Err("engine `prom`: unreachable: 127.0.0.1:9: Connection refused".into()),
    };
    screen.act(Action::Msg(TabMsg::Health(Msg::Range(failed))));
    let text = screen.draw(120, 40);
    assert!(text.contains("engine `prom`: unreachable") && text.contains("range failed"), "{text}");
}

#[test]
fn a_targets_row_has_no_sparkline_to_ask_for() {
    let mut screen = Screen::new();
    screen.act(Action::Down);
    screen.act(Action::Down);
    let effects = screen.act(Action::Select);
    assert!(fetches(&effects).is_empty(), "{effects:?}");
    let text = screen.draw(80, 24);
    assert!(text.contains("labels instance=\"10.0.0.7:9187\" job=\"db\""), "{text}");
    assert!(text.contains("conditions: target is up"), "{text}");
}

#[test]
fn filter_failing_only_and_incidents_work_on_series_rows() {
    let mut screen = Screen::new();
    screen.model.tabs.incident = firstwatch::tui::tabs::incident::IncidentTab::new(
        &firstwatch::config::Config::default(),
        true,
        false,
        "demo-host",
    );
    screen.act(Action::Tab(TabCommand::Health(Command::ToggleFailingOnly)));
    let text = screen.draw(120, 40);
    assert!(!text.contains("gpu=\"0\"}") && text.contains("gpu=\"1\"}"), "ok GPUs are hidden: {text}");
    screen.act(Action::Tab(TabCommand::Health(Command::ToggleFailingOnly)));
    screen.act(Action::Tab(TabCommand::Health(Command::Filter)));
    for c in "gpu-b".chars() {
        screen.act(Action::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c))));
    }
    let text = screen.draw(120, 40);
    assert!(text.contains("gpu-b") && !text.contains("gpu-a") && !text.contains("scrapes"), "{text}");
    screen.act(Action::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Enter)));
    // `i` on the selected series names the series, and the check it belongs to.
    let effects = screen.act(Action::Tab(TabCommand::Health(Command::Declare)));
    assert!(effects.is_empty(), "the incident dialog opens first: {effects:?}");
    let text = screen.draw(120, 40);
    assert!(text.contains("gpu memory{Hostname=\"gpu-b\",gpu=\"1\"} failing"), "{text}");
}

#[test]
fn r_on_a_series_runs_its_check() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _guard = runtime.enter();
    let mut screen = Screen::new();
    let engine = firstwatch::health::engine::start(Vec::new(), None, Box::new(|_| true));
    let tab = std::mem::take(&mut screen.model.tabs.health);
    screen.model.tabs.health = tab.with_engine(engine.clone());
    let effects = screen.act(Action::Tab(TabCommand::Health(Command::RunSelected)));
    let expected = Effect::RunNow { engine, check: Some(1) };
    assert_eq!(effects, vec![firstwatch::tui::Effect::Tab(TabEffect::Health(expected))]);
}
