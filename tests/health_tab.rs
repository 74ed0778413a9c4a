//! The health tab drawn into a TestBackend at 80x24 and 120x40, and driven by keys through `update()`.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use firstwatch::config::load_str;
use firstwatch::health::engine::Collector;
use firstwatch::health::outcome::Response;
use firstwatch::health::{CheckSpec, Level, Outcome};
use firstwatch::tui::tabs::TabMsg;
use firstwatch::tui::tabs::health::{HealthTab, Msg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[[check]]
name = "api"
http = "http://127.0.0.1:8080/health"
expect = ['status == 200', 'json.status == "healthy"', 'latency < 200ms']

[[check]]
name = "orders"
http = "http://127.0.0.1:8080/orders"
expect = ['status == 200', 'json.status == "healthy"']

[[check]]
name = "search (slow)"
http = "http://127.0.0.1:8080/slow"
expect = ['latency < 500ms']
severity = "warning"

[[check]]
name = "db"
tcp = "127.0.0.1:5432"

[[check]]
name = "checkout"
http = "http://127.0.0.1:8080/checkout"
depends_on = "db"
fail_after = 1

[[check]]
name = "cpu"
system = "cpu"
"#;

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 3, 0, 0).unwrap()
}

fn outcome(level: Level, message: &str, latency_ms: u64, seconds: i64) -> Outcome {
    let mut outcome = Outcome::new(level, message).with_latency(Duration::from_millis(latency_ms));
    outcome.at = base_time() + chrono::Duration::seconds(seconds);
    outcome
}

/// A model whose health tab has lived through a few minutes of results.
fn model_with_history(theme: &str) -> Model {
    let config = load_str(CONFIG, Path::new("/tmp/firstwatch.toml")).unwrap();
    let (specs, _) = CheckSpec::build_all(&config);
    let mut collector = Collector::new(specs.iter().cloned().map(Arc::new).collect(), None, Box::new(|_| true));
    for run in 0..12i64 {
        let t = run * 15;
        collector.apply(0, outcome(Level::Ok, "200 OK", 30 + (run as u64 % 4) * 10, t));
        let mut failed = outcome(Level::Critical, r#"json.status was "down", expected "healthy""#, 4, t);
        failed.failed = vec![1];
        failed.response = Some(Response {
            status: 500,
            headers: vec![("content-type".into(), "application/json".into())],
            body_lines: vec![r#"{"status":"down","reason":"bad release"}"#.into()],
            body_bytes: 41,
            truncated: false,
            redirects: 0,
        });
        collector.apply(1, if run < 4 { outcome(Level::Ok, "200 OK", 5, t) } else { failed });
        collector.apply(2, outcome(Level::Warning, "latency was 812ms, expected < 500ms", 812, t));
        collector.apply(3, outcome(Level::Critical, "cannot connect to 127.0.0.1:5432: Connection refused", 1, t));
        collector.apply(4, outcome(Level::Critical, "cannot connect to 127.0.0.1:8080: Connection refused", 1, t));
    }
    let now = base_time() + chrono::Duration::seconds(180);
    let views = (0..specs.len()).filter(|&i| i != 5).map(|i| Arc::new(collector.view(i, now))).collect();
    let mut model = support::model(theme);
    model.wall = now;
    model.tabs.health = HealthTab::with_checks(&specs);
    update(&mut model, Action::Msg(TabMsg::Health(Msg::Updated(views))), Instant::now());
    model
}

fn draw(model: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    format!("{}", terminal.backend())
}

#[test]
fn checks_are_listed_worst_first_with_symbols_at_both_sizes() {
    for (width, height) in [(80, 24), (120, 40)] {
        let model = model_with_history("no-color");
        let screen = draw(&model, width, height);
        insta::assert_snapshot!(format!("health_list_{width}x{height}"), screen);
        let line = |name: &str| {
            screen.lines().position(|l| l.contains(name)).unwrap_or_else(|| panic!("{name} missing:\n{screen}"))
        };
        assert!(line("orders") < line("search (slow)"), "critical before warning");
        assert!(line("search (slow)") < line("checkout"), "warning before suppressed");
        assert!(line("checkout") < line("api"), "suppressed before ok");
        assert!(screen.contains("✗") && screen.contains("▲") && screen.contains("✓") && screen.contains("↳"));
        assert!(screen.contains("measuring"), "cpu has no sample yet:\n{screen}");
        assert!(screen.contains("2 critical"), "{screen}");
    }
}

#[test]
fn the_status_line_of_every_tab_names_what_is_critical() {
    let mut model = model_with_history("no-color");
    update(&mut model, Action::SelectTab(firstwatch::tui::tab::TabId::Logs), Instant::now());
    let screen = draw(&model, 80, 24);
    let status_line = screen.lines().last().unwrap();
    assert!(status_line.contains("│ ✗2 orders"), "{status_line}");
    assert_eq!(model.status.health.as_ref().map(|h| h.critical), Some(true));
}

#[test]
fn the_wide_layout_shows_percentiles_uptime_and_since() {
    let model = model_with_history("default-dark");
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("p50/p95") && screen.contains("Up 24h") && screen.contains("Since"), "{screen}");
    // orders: 4 good runs of 12 in the window.
    assert!(screen.contains("33.3%"), "{screen}");
}

#[test]
fn enter_opens_the_detail_pane_with_conditions_and_transitions() {
    let mut model = model_with_history("no-color");
    update(&mut model, Action::Down, Instant::now());
    update(&mut model, Action::Select, Instant::now());
    let screen = draw(&model, 120, 40);
    insta::assert_snapshot!("health_detail_120x40", screen);
    assert!(screen.contains("✓ status == 200"), "{screen}");
    assert!(screen.contains(r#"✗ json.status == "healthy""#), "{screen}");
    assert!(screen.contains("last response: 500"), "{screen}");
    assert!(screen.contains("content-type: application/json"), "{screen}");
    assert!(screen.contains("ok → critical"), "{screen}");
    let small = draw(&model, 80, 24);
    assert!(small.contains(r#"✗ json.status == "healthy""#), "{small}");
    update(&mut model, Action::Close, Instant::now());
    assert!(!draw(&model, 120, 40).contains("transitions:"));
}

#[test]
fn failing_only_sort_and_filter_change_the_list() {
    let mut model = model_with_history("no-color");
    let tab_command = |c| Action::Tab(firstwatch::tui::tabs::TabCommand::Health(c));
    use firstwatch::tui::tabs::health::Command;
    update(&mut model, tab_command(Command::ToggleFailingOnly), Instant::now());
    let screen = draw(&model, 80, 24);
    assert!(!screen.contains("│ ✓ api") && !screen.contains(" api "), "{screen}");
    assert!(screen.contains("failing only"));
    assert!(screen.contains("orders") && screen.contains("checkout"), "{screen}");
    update(&mut model, tab_command(Command::ToggleFailingOnly), Instant::now());
    update(&mut model, tab_command(Command::CycleSort), Instant::now());
    let by_name = draw(&model, 80, 24);
    let line = |s: &str, name: &str| s.lines().position(|l| l.contains(name)).unwrap();
    assert!(line(&by_name, " api ") < line(&by_name, "checkout"), "{by_name}");
    update(&mut model, tab_command(Command::Filter), Instant::now());
    assert!(model.tab_captures_keys(), "the filter prompt takes the keyboard");
    for c in "ord".chars() {
        let key = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(c));
        update(&mut model, Action::Key(key), Instant::now());
    }
    let filtered = draw(&model, 80, 24);
    assert!(filtered.contains("orders") && !filtered.contains("checkout"), "{filtered}");
    assert!(filtered.contains("filter: ord"), "{filtered}");
}

#[test]
fn a_maintenance_window_marks_failures_as_expected() {
    let mut model = model_with_history("default-dark");
    model.status.window = Some("sunday 03:00-05:00".into());
    let wall = model.wall;
    update(&mut model, Action::Tick(wall), Instant::now());
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("MAINTENANCE sunday 03:00-05:00: failures are expected"), "{screen}");
    assert!(screen.contains("expected: "), "{screen}");
    // At 80 columns the marker leaves most of the message column to the message.
    let narrow = draw(&model, 80, 24);
    assert!(narrow.contains(r#"expected: json.status was "down""#), "{narrow}");
    let health = model.status.health.clone().unwrap();
    assert!(!health.critical, "no alarm inside a maintenance window");
    assert!(health.text.contains("✗2 orders (maintenance)"), "{}", health.text);
}

#[test]
fn keys_move_the_selection_and_r_asks_the_engine() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let _guard = runtime.enter();
    let mut model = model_with_history("no-color");
    let engine = firstwatch::health::engine::start(Vec::new(), None, Box::new(|_| true));
    let tab = std::mem::take(&mut model.tabs.health);
    model.tabs.health = tab.with_engine(engine.clone());
    update(&mut model, Action::Down, Instant::now());
    let effects = update(
        &mut model,
        Action::Tab(firstwatch::tui::tabs::TabCommand::Health(firstwatch::tui::tabs::health::Command::RunSelected)),
        Instant::now(),
    );
    assert_eq!(effects.len(), 1);
    let expected = firstwatch::tui::tabs::health::Effect::RunNow { engine, check: Some(1) };
    assert_eq!(
        effects[0],
        firstwatch::tui::Effect::Tab(firstwatch::tui::tabs::TabEffect::Health(expected)),
        "the second row (worst first) is orders, check 1"
    );
    assert!(draw(&model, 80, 24).contains("↻ run"), "the row shows it was asked to run");
}

#[test]
fn no_checks_configured_says_how_to_add_one() {
    let model = support::model("no-color");
    for (width, height) in [(80, 24), (120, 40)] {
        let screen = draw(&model, width, height);
        assert!(screen.contains("No health checks are configured."), "{screen}");
        assert!(screen.contains("firstwatch demo"), "{screen}");
    }
}

#[test]
fn a_long_list_scrolls_to_keep_the_selection_visible() {
    let mut toml = String::new();
    for i in 0..60 {
        toml.push_str(&format!("[[check]]\nname = \"check-{i:02}\"\ntcp = \"127.0.0.1:{}\"\n", 1000 + i));
    }
    let config = load_str(&toml, Path::new("/tmp/firstwatch.toml")).unwrap();
    let (specs, _) = CheckSpec::build_all(&config);
    let mut model = support::model("no-color");
    model.tabs.health = HealthTab::with_checks(&specs);
    update(&mut model, Action::Bottom, Instant::now());
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("▶… check-59"), "{screen}");
    assert!(!screen.contains("check-00"), "{screen}");
    update(&mut model, Action::Top, Instant::now());
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("▶… check-00") && !screen.contains("check-59"), "{screen}");
}

#[test]
fn i_opens_an_incident_about_the_failing_check_and_goes_there() {
    use firstwatch::incident::record;
    use firstwatch::tui::tabs::health::{Command, Effect};
    use firstwatch::tui::tabs::{Services, TabCommand, TabEffect};
    let mut model = model_with_history("no-color");
    model.tabs.incident = firstwatch::tui::tabs::incident::IncidentTab::new(
        &firstwatch::config::Config::default(),
        true,
        false,
        "demo-host",
    );
    // The second row, worst first, is orders: failing with a bad body.
    update(&mut model, Action::Down, Instant::now());
    let effects = update(&mut model, Action::Tab(TabCommand::Health(Command::Declare)), Instant::now());
    // In the console, the incident tab's dialog opens filled in; nothing is written before it is confirmed.
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(model.tab, firstwatch::tui::tab::TabId::Incident);
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("new incident") && screen.contains("orders failing"), "{screen}");
    assert!(screen.contains("evidence  health: orders critical"), "the check's state is the evidence: {screen}");

    let effect = Effect::Declare {
        check: "orders".into(),
        title: "orders failing".into(),
        evidence: "health: orders critical: json.status was \"down\"".into(),
        severity: record::Severity::P2,
    };
    // Carried out against a real store: a new incident with the evidence, then the incident tab.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    let (mut services, mut replies) = Services::detached();
    services.store = Some(store.clone());
    let reply = runtime.block_on(async {
        firstwatch::tui::tabs::execute(TabEffect::Health(effect.clone()), &services);
        replies.recv().await
    });
    assert_eq!(reply, Some(Action::SelectTab(firstwatch::tui::tab::TabId::Incident)));
    let incident = record::current(&store).unwrap().expect("an incident is open");
    assert_eq!(incident.incident.title, "orders failing");
    assert_eq!(incident.incident.runbook.as_deref(), Some("first-15-minutes"), "no runbook configured: the built-in");
    assert!(incident.events.iter().any(|e| e.text.contains("health: orders critical")), "{:?}", incident.events);

    // A second press adds evidence to the same incident instead of opening another.
    let reply = runtime.block_on(async {
        firstwatch::tui::tabs::execute(TabEffect::Health(effect.clone()), &services);
        replies.recv().await
    });
    assert_eq!(reply, Some(Action::SelectTab(firstwatch::tui::tab::TabId::Incident)));
    assert_eq!(record::list(&store).unwrap().len(), 1);
}

#[test]
fn while_an_incident_is_open_state_changes_go_onto_its_timeline_once() {
    use firstwatch::incident::record::{self, Severity};
    use firstwatch::tui::tabs::health::Effect;
    use firstwatch::tui::tabs::{Services, TabEffect};
    let config = load_str("[[check]]\nname = \"api\"\ntcp = \"127.0.0.1:9\"\n", Path::new("/tmp/fw.toml")).unwrap();
    let (specs, _) = CheckSpec::build_all(&config);
    let mut collector = Collector::new(specs.iter().cloned().map(Arc::new).collect(), None, Box::new(|_| true));
    let mut model = support::model("no-color");
    model.tabs.health = HealthTab::with_checks(&specs);
    let mut report = |model: &mut Model, level: Level, seconds: i64| {
        collector.apply(0, outcome(level, if level == Level::Ok { "connected" } else { "refused" }, 1, seconds));
        let views = vec![Arc::new(collector.view(0, base_time() + chrono::Duration::seconds(seconds)))];
        update(model, Action::Msg(TabMsg::Health(Msg::Updated(views))), Instant::now())
    };
    assert!(report(&mut model, Level::Ok, 0).is_empty(), "the first verdict is not a change");
    model.status.incident = Some("P2 api failing T+1m".into());
    report(&mut model, Level::Critical, 15);
    let effects = report(&mut model, Level::Critical, 30);
    let [firstwatch::tui::Effect::Tab(TabEffect::Health(effect @ Effect::Timeline(changes)))] = effects.as_slice()
    else {
        panic!("one timeline effect expected, got {effects:?}")
    };
    assert_eq!(changes.as_slice(), ["health: api ok → critical: refused"]);

    // Two instances on the host see the same change; the timeline gets it once.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    let (mut services, _replies) = Services::detached();
    services.store = Some(store.clone());
    let incident = record::open(&store, "api failing", Severity::P2, None, &services.identity).unwrap();
    let second = firstwatch::store::Store::open_in(dir.path()).unwrap();
    {
        let _guard = runtime.enter();
        firstwatch::tui::tabs::execute(TabEffect::Health(effect.clone()), &services);
        services.store = Some(second);
        firstwatch::tui::tabs::execute(TabEffect::Health(effect.clone()), &services);
    }
    drop(runtime); // waits for the blocking writes to finish
    let events = record::get(&store, incident.id).unwrap().events;
    assert_eq!(events.iter().filter(|e| e.text == "health: api ok → critical: refused").count(), 1, "{events:?}");
}

#[test]
fn the_health_tab_holds_its_histories_back_from_the_log_lines_budget() {
    use firstwatch::health::history::History;
    use firstwatch::tui::tabs::Services;
    let config = load_str(
        "[[check]]\nname = \"a\"\nsystem = \"cpu\"\n\n[[check]]\nname = \"b\"\nsystem = \"memory\"\n\n\
         [[check]]\nname = \"c\"\ntcp = \"127.0.0.1:9\"\n",
        Path::new("/tmp/fw.toml"),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (mut services, _replies) = Services::detached();
    services.config = Arc::new(config);
    let budget = services.budget.clone();
    let tab = {
        let _guard = runtime.enter();
        firstwatch::tui::tabs::health::start(&services)
    };
    assert_eq!(budget.reserved(), 3 * History::MAX_BYTES);
    assert_eq!(budget.for_logs(), budget.total() - 3 * History::MAX_BYTES);
    drop(tab);
    assert_eq!(budget.reserved(), 0, "given back when the tab goes");
}
