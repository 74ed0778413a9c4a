//! The health tab's alerts section through `update()` and a TestBackend, with
//! fixed answers (no server): rows grouped and worst first, the selection
//! moving between checks and alerts, `i` prefilling the incident dialog, an
//! unreadable engine, hostile text, and the poller asked to read again.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use firstwatch::engine::Labels;
use firstwatch::engine::alertmanager::{Alert, AlertGroup, AlertStatus, Receiver};
use firstwatch::engine::alerts::{EngineAlerts, GroupView};
use firstwatch::incident::record::Severity;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::health::{self, Command, HealthTab, Msg};
use firstwatch::tui::tabs::incident::{self, IncidentTab};
use firstwatch::tui::tabs::{TabCommand, TabEffect, TabMsg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

fn wall() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 5, 18, 0, 0).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn alert(labels_: &[(&str, &str)], annotations: &[(&str, &str)], state: &str, minutes_ago: i64) -> Alert {
    let labels = labels(labels_);
    Alert {
        fingerprint: format!("fp-{}", labels.get("alertname").cloned().unwrap_or_default()),
        labels,
        annotations: self::labels(annotations),
        starts_at: wall() - chrono::Duration::minutes(minutes_ago),
        ends_at: None,
        generator_url: Some("http://prometheus:9090/graph?g0.expr=up".into()),
        status: AlertStatus {
            state: state.into(),
            silenced_by: if state == "suppressed" { vec!["6c3e2f0a".into()] } else { Vec::new() },
            inhibited_by: Vec::new(),
        },
        receivers: vec![Receiver { name: "team-api".into() }],
    }
}

fn group(engine: &str, by: &[(&str, &str)], alerts: Vec<Alert>) -> GroupView {
    GroupView::from_api(
        engine,
        &AlertGroup { labels: labels(by), receiver: Receiver { name: "team-api".into() }, alerts },
    )
}

/// Two groups on `am` (a critical, a silenced warning; an alert without severity
/// and an info one), and `am-eu` that could not be read.
fn answers() -> Vec<EngineAlerts> {
    let api = group(
        "am",
        &[("job", "api")],
        vec![
            alert(
                &[("alertname", "DiskFull"), ("severity", "warning"), ("job", "api"), ("instance", "api-1")],
                &[("summary", "disk 91% full on api-1")],
                "suppressed",
                125,
            ),
            alert(
                &[("alertname", "ApiDown"), ("severity", "critical"), ("job", "api"), ("instance", "api-1")],
                &[
                    ("summary", "api-1 answers no health checks"),
                    ("description", "The api has failed its probe for 5 minutes.\nLoad balancer drained it."),
                    ("runbook", "Service down"),
                ],
                "active",
                12,
            ),
        ],
    );
    let batch = group(
        "am",
        &[("job", "batch")],
        vec![
            alert(&[("alertname", "Watchdog"), ("severity", "none"), ("job", "batch")], &[], "active", 600),
            alert(
                &[("alertname", "QueueSlow"), ("job", "batch")],
                &[("summary", "queue drains slowly"), ("runbook_url", "https://wiki.example/runbooks/orders-down.md")],
                "active",
                3,
            ),
        ],
    );
    vec![
        EngineAlerts { engine: "am".into(), read: Ok(vec![api, batch]), at: wall() },
        EngineAlerts {
            engine: "am-eu".into(),
            read: Err("engine `am-eu`: unreachable: 10.0.0.7:9093: Connection refused".into()),
            at: wall(),
        },
    ]
}

const CHECKS: &str = r#"
[[check]]
name = "api"
http = "http://127.0.0.1:9/health"

[[check]]
name = "db"
tcp = "127.0.0.1:5432"
"#;

/// A model on the health tab with two (pending) checks and the answers above.
fn model(checks: &str, theme: &str) -> Model {
    let config = firstwatch::config::load_str(checks, Path::new("/tmp/firstwatch.toml")).unwrap();
    let (specs, _) = firstwatch::health::CheckSpec::build_all(&config);
    let mut model = support::model(theme);
    model.tabs.health = HealthTab::with_checks(&specs);
    update(&mut model, Action::Tick(wall()), Instant::now());
    for answer in answers() {
        update(&mut model, Action::Msg(TabMsg::Health(Msg::Alerts(Arc::new(answer)))), Instant::now());
    }
    model
}

fn draw(model: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    format!("{}", terminal.backend())
}

fn line_of(screen: &str, text: &str) -> usize {
    screen.lines().position(|l| l.contains(text)).unwrap_or_else(|| panic!("{text} missing:\n{screen}"))
}

fn declare() -> Action {
    Action::Tab(TabCommand::Health(Command::Declare))
}

#[test]
fn alert_rows_are_grouped_worst_first_with_symbols_at_both_sizes() {
    for (width, height) in [(80, 24), (120, 40)] {
        let screen = draw(&model(CHECKS, "no-color"), width, height);
        insta::assert_snapshot!(format!("alerts_rows_{width}x{height}"), screen);
        // The critical's group first, then the engine that could not be read, then the rest.
        assert!(line_of(&screen, "am › job=\"api\"") < line_of(&screen, "ApiDown"));
        assert!(line_of(&screen, "ApiDown") < line_of(&screen, "DiskFull"), "active before suppressed");
        assert!(line_of(&screen, "DiskFull") < line_of(&screen, "am-eu"));
        assert!(line_of(&screen, "am-eu") < line_of(&screen, "am › job=\"batch\""));
        assert!(line_of(&screen, "QueueSlow") < line_of(&screen, "Watchdog"), "no severity before info");
        // Shapes, not only colours: ✗ critical, ▲ warning or none, i info, ? unknown.
        assert!(screen.lines().any(|l| l.contains("✗ critical") && l.contains("ApiDown") && l.contains("active")));
        assert!(screen.lines().any(|l| l.contains("▲ warning") && l.contains("suppressed") && l.contains("2h05m")));
        assert!(screen.lines().any(|l| l.contains("▲ -") && l.contains("QueueSlow")), "{screen}");
        assert!(screen.lines().any(|l| l.contains("i none") && l.contains("Watchdog")), "{screen}");
        assert!(screen.lines().any(|l| l.contains("? am-eu") && l.contains("unknown")), "{screen}");
        assert!(screen.contains("1 critical, 1 warning, 1 info, 1 suppressed, 1 unreadable"), "{screen}");
        assert!(screen.contains("api-1 answers no health"), "the summary: {screen}");
    }
}

#[test]
fn alerts_alone_fill_the_tab_and_the_detail_pane_shows_the_whole_alert() {
    let mut model = model("", "no-color");
    let screen = draw(&model, 80, 24);
    assert!(!screen.contains("No health checks are configured"), "alerts are something to show:\n{screen}");
    assert!(screen.contains("▶✗ critical"), "the first alert is selected: {screen}");

    update(&mut model, Action::Select, Instant::now());
    let screen = draw(&model, 120, 40);
    insta::assert_snapshot!("alerts_detail_120x40", screen);
    for expected in [
        "✗ critical active since 12-05 17:48:00 (for 12m) · am · fingerprint fp-ApiDown",
        "labels: ",
        "instance=api-1 job=api severity=critical",
        "description: The api has failed its probe for 5 minutes.",
        "    Load balancer drained it.",
        "runbook: Service down",
        "source: http://prometheus:9090/graph?g0.expr=up",
    ] {
        assert!(screen.contains(expected), "{expected:?} missing:\n{screen}");
    }

    // The silenced one says by what.
    update(&mut model, Action::Down, Instant::now());
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("silenced by 6c3e2f0a"), "{screen}");
}

#[test]
fn the_selection_moves_from_the_checks_into_the_alerts_and_back_over_group_headings() {
    let mut model = model(CHECKS, "no-color");
    assert!(model.tabs.health.selected_alert().is_none(), "a check is selected first");
    update(&mut model, Action::Down, Instant::now());
    assert!(model.tabs.health.selected_alert().is_none(), "the second check");
    update(&mut model, Action::Down, Instant::now());
    let alert = model.tabs.health.selected_alert().expect("past the last check: the first alert, not its heading");
    assert_eq!((alert.engine.as_str(), alert.name.as_str()), ("am", "ApiDown"));
    let names = |model: &mut Model, action: Action| {
        update(model, action, Instant::now());
        model.tabs.health.selected_alert().map(|a| a.name.clone())
    };
    assert_eq!(names(&mut model, Action::Down).as_deref(), Some("DiskFull"));
    assert_eq!(names(&mut model, Action::Down), None, "am-eu's unknown row");
    assert!(draw(&model, 80, 24).contains("am-eu could not be read"), "its strip names it");
    assert_eq!(names(&mut model, Action::Down).as_deref(), Some("QueueSlow"), "over the batch heading");
    assert_eq!(names(&mut model, Action::Bottom).as_deref(), Some("Watchdog"));
    assert_eq!(names(&mut model, Action::Down).as_deref(), Some("Watchdog"), "the end stays put");
    assert_eq!(names(&mut model, Action::Up).as_deref(), Some("QueueSlow"));
    assert_eq!(names(&mut model, Action::Up), None);
    assert_eq!(names(&mut model, Action::Up).as_deref(), Some("DiskFull"));
    assert_eq!(names(&mut model, Action::Up).as_deref(), Some("ApiDown"));
    assert_eq!(names(&mut model, Action::Up), None, "above the first alert's heading: the last check");
    assert!(draw(&model, 80, 24).contains("▶…"), "a check row is selected again");

    // A new answer keeps the selection on the same alert.
    update(&mut model, Action::Bottom, Instant::now());
    for answer in answers() {
        update(&mut model, Action::Msg(TabMsg::Health(Msg::Alerts(Arc::new(answer)))), Instant::now());
    }
    assert_eq!(model.tabs.health.selected_alert().map(|a| a.name.as_str()), Some("Watchdog"));

    // The filter narrows the alerts too; f keeps the active ones only.
    update(&mut model, Action::Tab(TabCommand::Health(Command::ToggleFailingOnly)), Instant::now());
    let screen = draw(&model, 120, 40);
    assert!(!screen.contains("DiskFull") && screen.contains("ApiDown"), "{screen}");
}

#[test]
fn the_selected_alert_gives_its_engine_and_labels_for_a_silence() {
    let mut model = model("", "no-color");
    let alert = model.tabs.health.selected_alert().expect("an alert");
    assert_eq!(alert.engine, "am");
    assert_eq!(alert.raw_labels()["alertname"], "ApiDown");
    assert_eq!(alert.raw_labels()["instance"], "api-1");
    let copied = model.tabs.health.copy().expect("y copies the alert");
    assert_eq!(
        copied.text,
        "ApiDown {alertname=\"ApiDown\", instance=\"api-1\", job=\"api\", severity=\"critical\"} active: api-1 answers no health checks"
    );
    update(&mut model, Action::Down, Instant::now());
    assert_eq!(model.tabs.health.selected_alert().map(|a| a.silenced_by.clone()), Some(vec!["6c3e2f0a".into()]));
}

#[test]
fn z_on_an_alert_opens_the_silence_dialog_with_matchers_from_its_labels() {
    let mut model = model("", "no-color");
    let silence = Action::Tab(TabCommand::Health(Command::SilenceAlert));
    let effects = update(&mut model, silence, Instant::now());
    let firstwatch::tui::model::Overlay::Silence(dialog) = &model.overlay else {
        panic!("no silence dialog: {:?}", effects);
    };
    assert_eq!(dialog.engine, "am");
    assert!(dialog.matchers.iter().any(|m| m == "alertname=\"ApiDown\""), "{:?}", dialog.matchers);
    assert!(dialog.matchers.iter().any(|m| m == "instance=\"api-1\""), "{:?}", dialog.matchers);
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("ApiDown"), "{screen}");
}

#[test]
fn z_on_a_check_opens_nothing() {
    let mut model = model(CHECKS, "no-color");
    update(&mut model, Action::Tab(TabCommand::Health(Command::SilenceAlert)), Instant::now());
    assert!(matches!(model.overlay, firstwatch::tui::model::Overlay::None));
}

/// A model whose incident tab can open incidents and knows a runbook called `orders-down`.
fn with_incidents(model: &mut Model, dir: &Path) {
    std::fs::write(dir.join("orders-down.md"), "# Orders down\n## Triage\n- [ ] Look\n").unwrap();
    let config =
        firstwatch::config::load_str("[[runbook]]\npath = \"orders-down.md\"\n", &dir.join("firstwatch.toml")).unwrap();
    model.tabs.incident = IncidentTab::new(&config, true, false, "demo-host");
}

fn open_effect(model: &mut Model) -> incident::Effect {
    let key = Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let effects = update(model, key, Instant::now());
    let mut opened = effects.into_iter().filter_map(|e| match e {
        firstwatch::tui::Effect::Tab(TabEffect::Incident(effect @ incident::Effect::Open { .. })) => Some(effect),
        _ => None,
    });
    opened.next().expect("the dialog opens an incident")
}

#[test]
fn i_on_an_alert_prefills_the_incident_from_it_with_the_runbook_its_annotation_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = model("", "no-color");
    with_incidents(&mut model, dir.path());

    // ApiDown: critical, `runbook: Service down` (a built-in runbook's title).
    let effects = update(&mut model, declare(), Instant::now());
    assert!(effects.is_empty(), "nothing is written before the operator confirms: {effects:?}");
    assert_eq!(model.tab, TabId::Incident);
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("new incident") && screen.contains("ApiDown: api-1 answers no health checks"), "{screen}");
    let incident::Effect::Open { title, severity, runbook, evidence } = open_effect(&mut model) else { unreachable!() };
    assert_eq!(title, "ApiDown: api-1 answers no health checks");
    assert_eq!(severity, Severity::P1, "critical suggests P1");
    assert_eq!(runbook.as_deref(), Some("service-down"), "matched by title");
    let evidence = evidence.expect("the alert is the first note");
    for expected in [
        "alert: ApiDown critical active on am since 2026-12-05 17:48:00 UTC",
        "labels: alertname=\"ApiDown\", instance=\"api-1\", job=\"api\", severity=\"critical\"",
        "description: The api has failed its probe for 5 minutes.\nLoad balancer drained it.",
        "runbook: Service down",
        "source: http://prometheus:9090/graph?g0.expr=up",
    ] {
        assert!(evidence.contains(expected), "{expected:?} missing from {evidence}");
    }

    // QueueSlow: no severity (P2), runbook_url's last segment names the configured runbook.
    update(&mut model, Action::SelectTab(TabId::Health), Instant::now());
    for _ in 0..3 {
        update(&mut model, Action::Down, Instant::now());
    }
    assert_eq!(model.tabs.health.selected_alert().map(|a| a.name.as_str()), Some("QueueSlow"));
    update(&mut model, declare(), Instant::now());
    let incident::Effect::Open { title, severity, runbook, .. } = open_effect(&mut model) else { unreachable!() };
    assert_eq!(
        (title.as_str(), severity, runbook.as_deref()),
        ("QueueSlow: queue drains slowly", Severity::P2, Some("orders-down"))
    );

    // Watchdog: info (P3), no summary, no runbook: the host's own first runbook.
    update(&mut model, Action::SelectTab(TabId::Health), Instant::now());
    update(&mut model, Action::Bottom, Instant::now());
    update(&mut model, declare(), Instant::now());
    let incident::Effect::Open { title, severity, runbook, .. } = open_effect(&mut model) else { unreachable!() };
    assert_eq!((title.as_str(), severity, runbook.as_deref()), ("Watchdog", Severity::P3, Some("orders-down")));
}

#[test]
fn i_on_an_alert_carried_out_opens_the_incident_with_the_named_runbook() {
    use firstwatch::incident::record;
    let model = model("", "no-color");
    let alert = model.tabs.health.selected_alert().expect("ApiDown");
    assert_eq!(alert.name, "ApiDown");
    let effect = health::Effect::DeclareAlert {
        alert: "ApiDown".into(),
        title: "ApiDown: api-1 answers no health checks".into(),
        evidence: "alert: ApiDown critical active on am\nlabels: job=\"api\"".into(),
        severity: Severity::P1,
        runbooks: vec!["https://wiki.example/runbooks/nothing-like-it".into(), "service-down".into()],
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    let (mut services, mut replies) = firstwatch::tui::tabs::Services::detached();
    services.store = Some(store.clone());
    let reply = runtime.block_on(async {
        firstwatch::tui::tabs::execute(TabEffect::Health(effect), &services);
        replies.recv().await
    });
    assert_eq!(reply, Some(Action::SelectTab(TabId::Incident)));
    let incident = record::current(&store).unwrap().expect("an incident is open");
    assert_eq!(incident.incident.title, "ApiDown: api-1 answers no health checks");
    assert_eq!(incident.incident.severity, Severity::P1);
    assert_eq!(incident.incident.runbook.as_deref(), Some("service-down"), "the first hint that names a runbook");
    assert!(incident.events.iter().any(|e| e.text.contains("labels: job=\"api\"")), "{:?}", incident.events);
}

#[test]
fn an_active_critical_alert_is_named_on_every_tabs_status_line() {
    let mut model = model(CHECKS, "no-color");
    update(&mut model, Action::SelectTab(TabId::Logs), Instant::now());
    let screen = draw(&model, 80, 24);
    assert!(screen.lines().last().is_some_and(|l| l.contains("✗1 ApiDown")), "{screen}");
}

#[test]
fn text_from_an_engine_is_sanitised_before_it_is_drawn() {
    let hostile = group(
        "am",
        &[("job", "x\u{1b}[31m")],
        vec![alert(
            &[("alertname", "Evil\u{1b}]52;c;cm0gLXJmIH4=\u{7}"), ("severity", "critical")],
            &[("summary", "\u{202e}gnp.exe\u{1b}[2J clear")],
            "active",
            1,
        )],
    );
    let mut model = model("", "no-color");
    let answer = EngineAlerts { engine: "am".into(), read: Ok(vec![hostile]), at: wall() };
    update(&mut model, Action::Msg(TabMsg::Health(Msg::Alerts(Arc::new(answer)))), Instant::now());
    update(&mut model, Action::Select, Instant::now());
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| view::render(&model, frame)).unwrap();
    let cells: String = terminal.backend().buffer().content.iter().map(|c| c.symbol()).collect();
    assert!(cells.contains("Evil") && cells.contains("gnp.exe clear"), "{cells}");
    assert!(!cells.chars().any(|c| c.is_control() || c == '\u{202e}'), "a control character reached the screen");
    assert!(!cells.contains("cm0gLXJmIH4"), "the OSC 52 payload is dropped with its sequence");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_polls_alertmanager_and_r_on_an_alert_reads_again_at_once() {
    // Nothing listens on the port: each read fails fast, and names the engine.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let text = format!(
        "[[engine]]\nname = \"am\"\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{port}\"\ntimeout = \"2s\"\n"
    );
    let config = firstwatch::config::load_str(&text, Path::new("/tmp/firstwatch.toml")).unwrap();
    let (mut services, mut messages) = firstwatch::tui::tabs::Services::detached();
    services.config = Arc::new(config);
    let mut model = support::model("no-color");
    model.tabs.health = health::start(&services);
    assert!(draw(&model, 80, 24).contains("reading am…"), "before the first answer");

    let deadline = std::time::Duration::from_secs(10);
    let first = tokio::time::timeout(deadline, messages.recv()).await.expect("an answer within the timeout");
    let Some(Action::Msg(TabMsg::Health(Msg::Alerts(answer)))) = first.clone() else { panic!("{first:?}") };
    assert!(answer.read.as_ref().is_err_and(|e| e.contains("engine `am`")), "{answer:?}");
    update(&mut model, first.unwrap(), Instant::now());
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("? am") && screen.contains("unknown"), "{screen}");

    // The next read is 15 s away; r on the alert row asks for it now.
    let effects = update(&mut model, Action::Tab(TabCommand::Health(Command::RunSelected)), Instant::now());
    assert!(
        matches!(
            effects.as_slice(),
            [firstwatch::tui::Effect::Tab(TabEffect::Health(health::Effect::RefreshAlerts(_)))]
        ),
        "{effects:?}"
    );
    let asked = Instant::now();
    for effect in effects {
        let firstwatch::tui::Effect::Tab(effect) = effect else { continue };
        firstwatch::tui::tabs::execute(effect, &services);
    }
    let second = tokio::time::timeout(deadline, messages.recv()).await.expect("a second answer, long before 15 s");
    assert!(matches!(second, Some(Action::Msg(TabMsg::Health(Msg::Alerts(_))))), "{second:?}");
    assert!(asked.elapsed() < std::time::Duration::from_secs(5), "read again at once: {:?}", asked.elapsed());
}

/// The timeline lines an action asked to record.
fn timeline_of(effects: Vec<firstwatch::tui::Effect>) -> Vec<String> {
    effects
        .into_iter()
        .filter_map(|effect| match effect {
            firstwatch::tui::Effect::Tab(TabEffect::Health(health::Effect::Timeline(lines))) => Some(lines),
            _ => None,
        })
        .flatten()
        .collect()
}

fn answer_of(engine: &str, alerts: Vec<Alert>) -> Action {
    let answer =
        EngineAlerts { engine: engine.into(), read: Ok(vec![group(engine, &[("job", "api")], alerts)]), at: wall() };
    Action::Msg(TabMsg::Health(Msg::Alerts(Arc::new(answer))))
}

#[test]
fn alerts_that_start_stop_or_are_silenced_go_on_the_open_incidents_timeline() {
    let mut model = model(CHECKS, "no-color");
    model.status.incident = Some("#1 orders down".into());
    let api_down = || {
        alert(
            &[("alertname", "ApiDown"), ("severity", "critical"), ("job", "api")],
            &[("summary", "api-1 answers no health checks")],
            "active",
            12,
        )
    };
    let disk = |state: &str| alert(&[("alertname", "DiskFull"), ("severity", "warning")], &[], state, 125);
    let backlog = alert(&[("alertname", "QueueBacklog")], &[], "active", 1);
    // `am` answered before (in `model`): ApiDown firing, DiskFull silenced, two more in another group.
    let now = Instant::now();
    let lines = timeline_of(update(&mut model, answer_of("am", vec![api_down(), disk("suppressed")]), now));
    let resolved: Vec<&String> = lines.iter().filter(|l| l.ends_with("→ ok: resolved")).collect();
    assert_eq!(resolved.len(), 2, "the two alerts no longer sent are resolved: {lines:?}");
    assert!(!lines.iter().any(|l| l.contains("ApiDown")), "an alert that did not change is not repeated: {lines:?}");

    let lines = timeline_of(update(&mut model, answer_of("am", vec![disk("active"), backlog.clone()]), now));
    assert_eq!(
        lines,
        [
            "alert: DiskFull (am) silenced → firing: warning",
            "alert: QueueBacklog (am) ok → firing: no severity",
            "alert: ApiDown (am) firing → ok: resolved",
        ],
    );

    // An alert sent again as unprocessed (on its way through silences) has not resolved.
    let unprocessed = alert(&[("alertname", "QueueBacklog")], &[], "unprocessed", 1);
    let lines = timeline_of(update(&mut model, answer_of("am", vec![disk("active"), unprocessed]), now));
    assert!(lines.is_empty(), "{lines:?}");
    let lines = timeline_of(update(&mut model, answer_of("am", vec![disk("active"), backlog.clone()]), now));
    assert!(lines.is_empty(), "firing before and after: {lines:?}");

    // An engine that cannot be read has resolved nothing; its next answer is compared with its last good one.
    let failed = EngineAlerts { engine: "am".into(), read: Err("engine `am`: timed out".into()), at: wall() };
    let lines = timeline_of(update(&mut model, Action::Msg(TabMsg::Health(Msg::Alerts(Arc::new(failed)))), now));
    assert!(lines.is_empty(), "{lines:?}");
    let lines = timeline_of(update(&mut model, answer_of("am", vec![backlog]), now));
    assert_eq!(lines, ["alert: DiskFull (am) firing → ok: resolved"]);

    // Without an open incident nothing is recorded.
    model.status.incident = None;
    let lines = timeline_of(update(&mut model, answer_of("am", vec![api_down()]), now));
    assert!(lines.is_empty(), "{lines:?}");
}
