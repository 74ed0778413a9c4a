//! The incident tab through `update()` and `TestBackend`: the confirmation
//! dialog's rules (typed target, wrong name, keys typed before it was drawn,
//! paste, cancel by default, read-only), the note editor, and screens at 80x24 and 120x40.

#[path = "health/server.rs"]
mod server;
mod support;

use chrono::TimeZone;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use firstwatch::incident::record::{Event, EventKind, Incident, IncidentRecord, Severity};
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::incident::{Command, Effect, IncidentTab, Msg};
use firstwatch::tui::tabs::{TabCommand, TabEffect, TabMsg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const CONFIG: &str = r#"
[[action]]
name = "redeploy orders"
kind = "redeploy"
target = "orders"
run = ["deploy", "orders", "--env", "production"]
dir = "/srv/orders"
rollback_with = "roll back orders"

[[action]]
name = "roll back orders"
kind = "rollback"
target = "orders"
run = ["deploy", "rollback", "orders"]
dir = "/srv/orders"

[[action]]
name = "list releases"
kind = "custom"
target = "orders"
run = ["ls", "releases"]
dir = "/srv/orders"
risk = "low"
"#;

fn wall() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 9, 42).unwrap()
}

fn model(read_only: bool) -> Model {
    let config = firstwatch::config::load_str(CONFIG, Path::new("/etc/firstwatch/firstwatch.toml")).unwrap();
    let mut model = support::model("default-dark");
    model.tabs.incident = IncidentTab::new(&config, true, read_only, "demo-host");
    model.read_only = read_only;
    apply(&mut model, &[Action::SelectTab(TabId::Incident)]);
    model
}

fn record() -> IncidentRecord {
    let opened = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 2, 0).unwrap();
    let event = |id, seconds, kind, step: Option<&str>, text: &str| Event {
        id,
        at: opened + chrono::TimeDelta::seconds(seconds),
        who: "ana".into(),
        kind,
        step: step.map(str::to_string),
        text: text.into(),
    };
    IncidentRecord {
        incident: Incident {
            id: 3,
            title: "Orders checkout failing".into(),
            severity: Severity::P1,
            runbook: Some("service-down".into()),
            opened_at: opened,
            opened_by: "ana".into(),
            closed_at: None,
            closed_by: None,
            resolution: None,
        },
        events: vec![
            event(1, 0, EventKind::Opened, None, "P1 opened: Orders checkout failing"),
            event(2, 65, EventKind::Tick, Some("1.1"), "done"),
            event(3, 150, EventKind::Note, Some("1.2"), "provider status page is green"),
        ],
    }
}

fn apply(model: &mut Model, actions: &[Action]) -> Vec<Effect> {
    actions
        .iter()
        .flat_map(|a| update(model, a.clone(), Instant::now()))
        .filter_map(|effect| match effect {
            firstwatch::tui::Effect::Tab(TabEffect::Incident(effect)) => Some(effect),
            _ => None,
        })
        .collect()
}

fn command(command: Command) -> Action {
    Action::Tab(TabCommand::Incident(command))
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn typed(text: &str) -> Vec<Action> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

fn loaded(model: &mut Model) {
    apply(model, &[Action::Msg(TabMsg::Incident(Msg::Loaded(Some(Arc::new(record()))))), Action::Tick(wall())]);
}

/// Opens the confirmation dialog for the first action; returns the effects of opening it.
fn open_dialog(model: &mut Model) -> Vec<Effect> {
    apply(model, &[Action::Right, command(Command::RunAction)])
}

fn events(effects: &[Effect]) -> Vec<&'static str> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Audit { event, .. } => *event,
            Effect::Run { .. } => "RUN",
            _ => "other",
        })
        .collect()
}

#[test]
fn the_dialog_needs_the_typed_target_and_refuses_a_wrong_one() {
    let mut model = model(false);
    let opened = open_dialog(&mut model);
    assert_eq!(events(&opened), ["request"]);
    assert!(model.tab_captures_keys());
    apply(&mut model, &[Action::FrameDrawn]);

    let mut wrong = typed("order");
    wrong.push(key(KeyCode::Enter));
    assert_eq!(events(&apply(&mut model, &wrong)), ["refused"]);
    assert!(model.tab_captures_keys(), "a wrong name leaves the dialog open");

    let mut right = typed("orders");
    right.push(key(KeyCode::Enter));
    let effects = apply(&mut model, &right);
    assert_eq!(events(&effects), ["RUN"]);
    let Effect::Run { confirmed, .. } = &effects[0] else { unreachable!() };
    assert_eq!(confirmed.spec().name, "redeploy orders");
    assert_eq!(confirmed.spec().argv, ["deploy", "orders", "--env", "production"]);
    assert!(!confirmed.dry_run());
    assert!(!model.tab_captures_keys());
}

#[test]
fn keys_typed_before_the_dialog_is_drawn_and_pasted_text_are_ignored() {
    let mut model = model(false);
    open_dialog(&mut model);
    let mut ahead = typed("orders");
    ahead.push(key(KeyCode::Enter));
    assert!(apply(&mut model, &ahead).is_empty(), "type-ahead must not answer the dialog");
    // A clock tick is no sign that anyone has seen the dialog.
    apply(&mut model, &[Action::Tick(wall())]);
    assert!(apply(&mut model, &ahead).is_empty(), "keys before the first draw are dropped, tick or not");
    assert!(model.tab_captures_keys());

    apply(&mut model, &[Action::FrameDrawn]);
    assert!(apply(&mut model, &[Action::Paste("orders\n".into())]).is_empty(), "a paste must not confirm");
    let effects = apply(&mut model, &[key(KeyCode::Enter)]);
    assert_eq!(events(&effects), ["cancelled"], "neither the type-ahead nor the paste typed anything");
    assert!(!model.tab_captures_keys());
}

#[test]
fn every_key_after_the_first_draw_is_kept() {
    let mut model = model(false);
    open_dialog(&mut model);
    apply(&mut model, &typed("xx"));
    // Drawn once, then typed at once: no key may be lost waiting for a clock tick.
    apply(&mut model, &[Action::FrameDrawn]);
    let mut keys = typed("orders");
    keys.push(key(KeyCode::Enter));
    let effects = apply(&mut model, &keys);
    let [Effect::Run { confirmed, .. }] = effects.as_slice() else { panic!("`orders` must confirm: {effects:?}") };
    assert_eq!(confirmed.spec().name, "redeploy orders");
}

#[test]
fn a_frame_that_did_not_show_the_dialog_does_not_open_it_to_keys() {
    let mut model = model(false);
    open_dialog(&mut model);
    apply(&mut model, &[Action::SelectTab(TabId::Health), Action::FrameDrawn, Action::SelectTab(TabId::Incident)]);
    assert!(apply(&mut model, &typed("orders")).is_empty(), "the frame showed the health tab");
    apply(&mut model, &[Action::ToggleHelp, Action::FrameDrawn, Action::ToggleHelp]);
    assert!(apply(&mut model, &typed("orders")).is_empty(), "the frame showed the help over it");
    apply(&mut model, &[Action::Resize(60, 20), Action::FrameDrawn, Action::Resize(80, 24)]);
    assert!(apply(&mut model, &typed("orders")).is_empty(), "the frame said the terminal was too small");
    apply(&mut model, &[Action::FrameDrawn]);
    let mut keys = typed("orders");
    keys.push(key(KeyCode::Enter));
    assert_eq!(events(&apply(&mut model, &keys)), ["RUN"]);
}

#[test]
fn escape_cancels_and_dry_run_is_carried_by_the_confirmation() {
    let mut model = model(false);
    open_dialog(&mut model);
    apply(&mut model, &[Action::FrameDrawn]);
    assert_eq!(events(&apply(&mut model, &[key(KeyCode::Esc)])), ["cancelled"]);

    apply(&mut model, &[command(Command::RunAction)]);
    apply(&mut model, &[Action::FrameDrawn]);
    let mut keys = vec![Action::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL))];
    keys.extend(typed("orders"));
    keys.push(key(KeyCode::Enter));
    let effects = apply(&mut model, &keys);
    let [Effect::Run { confirmed, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(confirmed.dry_run());
}

#[test]
fn a_low_risk_action_takes_y() {
    let mut model = model(false);
    apply(&mut model, &[Action::Right, Action::Down, Action::Down]);
    assert_eq!(events(&apply(&mut model, &[command(Command::RunAction)])), ["request"]);
    apply(&mut model, &[Action::FrameDrawn]);
    let effects = apply(&mut model, &[key(KeyCode::Char('y'))]);
    let [Effect::Run { confirmed, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(confirmed.spec().name, "list releases");
}

#[test]
fn read_only_refuses_with_an_audit_row_and_no_dialog() {
    // A runbook step that names an action is the way to ask for one when the action pane is hidden.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rb.md"), "# RB\n## Fix\n- [ ] Redeploy {action: redeploy orders}\n").unwrap();
    let text = format!("[[runbook]]\npath = \"rb.md\"\n{CONFIG}");
    let config = firstwatch::config::load_str(&text, &dir.path().join("firstwatch.toml")).unwrap();
    let mut model = support::model("default-dark");
    model.tabs.incident = IncidentTab::new(&config, true, true, "demo-host");
    model.read_only = true;
    let mut incident = record();
    incident.incident.runbook = Some("rb".into());
    apply(
        &mut model,
        &[
            Action::SelectTab(TabId::Incident),
            Action::Msg(TabMsg::Incident(Msg::Loaded(Some(Arc::new(incident))))),
            Action::Tick(wall()),
        ],
    );
    let effects = apply(&mut model, &[command(Command::RunAction)]);
    assert!(!model.tab_captures_keys(), "no dialog in a read-only session");
    match effects.as_slice() {
        [Effect::Audit { event: "refused", action, detail }] => {
            assert_eq!(action.name, "redeploy orders");
            assert!(detail.as_deref().unwrap().contains("read-only"));
        }
        other => panic!("{other:?}"),
    }
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("read-only session"), "{screen}");
}

#[test]
fn ticking_notes_and_closing_produce_store_writes() {
    let mut model = model(false);
    loaded(&mut model);
    assert_eq!(model.status.incident.as_deref(), Some("P1 Orders checkout failing T+7m"));
    let effects = apply(&mut model, &[command(Command::ToggleStep)]);
    assert!(
        matches!(effects.as_slice(), [Effect::AddEvent { kind: EventKind::Untick, step: Some(s), .. }] if s == "1.1")
    );
    let effects = apply(&mut model, &[Action::Down, command(Command::ToggleStep)]);
    assert!(
        matches!(effects.as_slice(), [Effect::AddEvent { kind: EventKind::Tick, step: Some(s), .. }] if s == "1.2")
    );

    apply(&mut model, &[command(Command::Note)]);
    assert!(model.tab_captures_keys());
    let mut keys = typed("first line");
    keys.push(key(KeyCode::Enter));
    keys.extend(typed("second"));
    keys.push(Action::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    let effects = apply(&mut model, &keys);
    match effects.as_slice() {
        [Effect::AddEvent { kind: EventKind::Note, step, text, .. }] => {
            assert_eq!(step.as_deref(), Some("1.2"));
            assert_eq!(text, "first line\nsecond");
        }
        other => panic!("{other:?}"),
    }

    apply(&mut model, &[command(Command::CloseIncident)]);
    assert!(apply(&mut model, &[key(KeyCode::Esc)]).is_empty(), "esc cancels closing");
    assert!(!model.tab_captures_keys());
    // Steps are still open, so closing asks first.
    apply(&mut model, &[command(Command::CloseIncident), key(KeyCode::Char('y'))]);
    let mut keys = typed("rolled back");
    keys.push(Action::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)));
    let effects = apply(&mut model, &keys);
    assert!(matches!(effects.as_slice(), [Effect::Close { incident: 3, resolution }] if resolution == "rolled back"));
}

#[test]
fn output_of_a_running_action_is_shown_live_and_the_rollback_offered_on_failure() {
    let mut model = model(false);
    loaded(&mut model);
    open_dialog(&mut model);
    apply(&mut model, &[Action::FrameDrawn]);
    let mut keys = typed("orders");
    keys.push(key(KeyCode::Enter));
    let effects = apply(&mut model, &keys);
    let [Effect::Run { nonce, .. }] = effects.as_slice() else { panic!() };
    let nonce = *nonce;
    let report = |msg| Action::Msg(TabMsg::Incident(msg));
    apply(
        &mut model,
        &[
            report(Msg::Output { nonce, line: "deploying orders".into() }),
            report(Msg::Output { nonce: nonce + 99, line: "stale run".into() }),
        ],
    );
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("deploying orders") && screen.contains("running"), "{screen}");
    assert!(!screen.contains("stale run"));
    apply(&mut model, &[report(Msg::Finished { nonce, outcome: "exit 1 after 2.0 s".into(), failed: true })]);
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("FAILED") && screen.contains("offer: roll back orders"), "{screen}");
    let effects = apply(&mut model, &[command(Command::RunAction)]);
    let [Effect::Audit { action, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(action.name, "roll back orders", "the rollback is under the cursor, still to be confirmed");
}

#[test]
fn the_dialog_names_the_watch_and_its_follow_up_which_runs_in_the_same_pane_and_is_not_offered_again() {
    let watched = CONFIG.replacen(
        "rollback_with = \"roll back orders\"",
        "rollback_with = \"roll back orders\"\nverify = [\"orders\"]\nwatch = \"5m\"\non_failed_verify = \"roll back orders\"",
        1,
    );
    let watched = format!("[[check]]\nname = \"orders\"\ntcp = \"127.0.0.1:9\"\n{watched}");
    let config = firstwatch::config::load_str(&watched, Path::new("/etc/firstwatch/firstwatch.toml")).unwrap();
    let mut model = support::model("default-dark");
    model.tabs.incident = IncidentTab::new(&config, true, false, "demo-host");
    apply(&mut model, &[Action::SelectTab(TabId::Incident)]);
    loaded(&mut model);
    open_dialog(&mut model);
    apply(&mut model, &[Action::FrameDrawn]);
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("orders for 5 min afterwards"), "{screen}");
    assert!(screen.contains("if fails runs `roll back orders` (deploy rollback orders)"), "{screen}");

    let mut keys = typed("orders");
    keys.push(key(KeyCode::Enter));
    let effects = apply(&mut model, &keys);
    let [Effect::Run { nonce, confirmed, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(confirmed.spec().on_failed_verify.as_deref(), Some("roll back orders"));
    let nonce = *nonce;
    let report = |msg| Action::Msg(TabMsg::Incident(msg));
    apply(
        &mut model,
        &[
            report(Msg::Progress { nonce, text: "verify orders: FAILING: connection refused".into() }),
            report(Msg::FollowUp { nonce, name: "roll back orders".into() }),
            report(Msg::Output { nonce, line: "$ deploy rollback orders".into() }),
            report(Msg::Finished {
                nonce,
                outcome: "exit 0 after 1.0 s; verification failed: orders: connection refused at T+2m10s; \
                          then roll back orders: exit 0 after 0.5 s"
                    .into(),
                failed: true,
            }),
        ],
    );
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("» verification failed: running roll back orders"), "{screen}");
    assert!(screen.contains("$ deploy rollback orders") && screen.contains("FAILED"), "{screen}");
    assert!(!screen.contains("offer: roll back orders"), "it already ran: {screen}");
}

fn draw(model: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    format!("{}", terminal.backend())
}

#[test]
fn screens_at_both_sizes() {
    for (width, height) in [(80, 24), (120, 40)] {
        let mut empty = support::model("default-dark");
        apply(&mut empty, &[Action::SelectTab(TabId::Incident), Action::Tick(wall())]);
        insta::assert_snapshot!(format!("incident_not_configured_{width}x{height}"), draw(&empty, width, height));

        let mut idle = model(false);
        apply(&mut idle, &[Action::Tick(wall())]);
        insta::assert_snapshot!(format!("incident_none_open_{width}x{height}"), draw(&idle, width, height));

        let mut open = model(false);
        loaded(&mut open);
        insta::assert_snapshot!(format!("incident_open_{width}x{height}"), draw(&open, width, height));

        open_dialog(&mut open);
        apply(&mut open, &[Action::FrameDrawn]);
        apply(&mut open, &typed("ord"));
        insta::assert_snapshot!(format!("incident_confirm_{width}x{height}"), draw(&open, width, height));
    }
}

#[test]
fn no_color_still_shows_state_in_text() {
    let config = firstwatch::config::load_str(CONFIG, Path::new("/x/firstwatch.toml")).unwrap();
    let mut model = support::model("no-color");
    model.tabs.incident = IncidentTab::new(&config, true, false, "demo-host");
    apply(&mut model, &[Action::SelectTab(TabId::Incident)]);
    loaded(&mut model);
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("[x] 1.1") && screen.contains("[ ] 1.2"), "{screen}");
    assert!(screen.contains("T+07:42"), "{screen}");
}

/// The tab's engine on a real store: another instance's change (here a second
/// `Store` on the same file) reaches the tab through the revision poll.
#[tokio::test]
async fn another_instances_incident_reaches_the_tab() {
    let dir = tempfile::tempdir().unwrap();
    let mine = firstwatch::store::Store::open_in(dir.path()).unwrap();
    let theirs = firstwatch::store::Store::open_in(dir.path()).unwrap();
    let (mut services, mut reports) = firstwatch::tui::tabs::Services::detached();
    services.store = Some(mine);
    let _tab = firstwatch::tui::tabs::incident::start(&services);
    assert_eq!(next(&mut reports).await, Action::Msg(TabMsg::Incident(Msg::Loaded(None))));
    let who = firstwatch::util::identity::Identity { user: "bo".into(), ..Default::default() };
    let opened = tokio::task::spawn_blocking(move || {
        firstwatch::incident::record::open(&theirs, "seen elsewhere", Severity::P2, None, &who).unwrap()
    })
    .await
    .unwrap();
    match next(&mut reports).await {
        Action::Msg(TabMsg::Incident(Msg::Loaded(Some(record)))) => {
            assert_eq!(record.incident.id, opened.id);
            assert_eq!(record.incident.title, "seen elsewhere");
        }
        other => panic!("{other:?}"),
    }
}

/// The tab's engine runs a redeploy whose watch fails against a real HTTP
/// server, then its `on_failed_verify` in the same pane.
#[tokio::test]
async fn the_engine_runs_the_follow_up_after_a_failed_watch_in_the_same_pane() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(None).await;
    let text = format!(
        "[[check]]\nname = \"orders\"\nhttp = \"{}/switch\"\n\n\
         [[action]]\nname = \"redeploy orders\"\nkind = \"redeploy\"\ntarget = \"orders\"\nrun = [\"true\"]\n\
         verify = [\"orders\"]\nwatch = \"4s\"\non_failed_verify = \"roll back orders\"\n\n\
         [[action]]\nname = \"roll back orders\"\nkind = \"rollback\"\ntarget = \"orders\"\n\
         run = [\"touch\", \"rolled-back\"]\n",
        server.base
    );
    // The supervisor reads the config from its file, as it does in the console.
    std::fs::write(dir.path().join("firstwatch.toml"), &text).unwrap();
    firstwatch::ops::set_supervisor_program(env!("CARGO_BIN_EXE_firstwatch").into());
    let config = firstwatch::config::load(&dir.path().join("firstwatch.toml")).unwrap();
    let spec = firstwatch::action::ActionSpec::find(&config, "redeploy orders").unwrap();
    let confirmed = firstwatch::ops::confirm::check(&spec, "orders", false).unwrap();
    let (mut services, mut reports) = firstwatch::tui::tabs::Services::detached();
    services.config = Arc::new(config);
    services.store = Some(firstwatch::store::Store::open_in(&dir.path().join("data")).unwrap());
    let nonce = 7;
    let cancel = firstwatch::action::CancelSignal::never();
    firstwatch::tui::tabs::incident::execute(Effect::Run { nonce, confirmed: Box::new(confirmed), cancel }, &services);
    let mut pane = Vec::new();
    let (outcome, failed) = loop {
        match next(&mut reports).await {
            Action::Msg(TabMsg::Incident(Msg::Progress { text, .. })) => {
                // Two healthy rounds, then the service falls over.
                if pane.iter().filter(|l: &&String| l.contains("healthy")).count() == 1 && text.contains("healthy") {
                    server.seen.failing.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                pane.push(text);
            }
            Action::Msg(TabMsg::Incident(Msg::FollowUp { name, .. })) => pane.push(format!("follow-up {name}")),
            Action::Msg(TabMsg::Incident(Msg::Output { line, .. })) => pane.push(line),
            Action::Msg(TabMsg::Incident(Msg::Finished { outcome, failed, .. })) => break (outcome, failed),
            _ => {}
        }
    };
    assert!(failed, "{outcome}");
    assert!(outcome.contains("verification failed: orders: "), "{outcome}");
    assert!(outcome.contains("on_failed_verify `roll back orders`: exit 0"), "{outcome}");
    assert!(dir.path().join("rolled-back").exists(), "{pane:?}");
    let at =
        |needle: &str| pane.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}: {pane:?}"));
    assert!(at("FAILING") < at("follow-up roll back orders"), "{pane:?}");
    assert!(at("follow-up roll back orders") < at("$ touch rolled-back"), "{pane:?}");
}

async fn next(reports: &mut tokio::sync::mpsc::Receiver<Action>) -> Action {
    tokio::time::timeout(std::time::Duration::from_secs(20), reports.recv()).await.unwrap().unwrap()
}

#[test]
fn a_step_that_names_a_check_runs_that_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rb.md"), "# RB\n## Look\n- [ ] Is orders up? {check: orders}\n").unwrap();
    let text = format!(
        "[[check]]\nname = \"orders\"\nhttp = \"http://127.0.0.1:9/orders\"\n[[runbook]]\npath = \"rb.md\"\n{CONFIG}"
    );
    let config = firstwatch::config::load_str(&text, &dir.path().join("firstwatch.toml")).unwrap();
    let mut model = support::model("default-dark");
    model.tabs.incident = IncidentTab::new(&config, true, false, "demo-host");
    let mut incident = record();
    incident.incident.runbook = Some("rb".into());
    apply(
        &mut model,
        &[Action::SelectTab(TabId::Incident), Action::Msg(TabMsg::Incident(Msg::Loaded(Some(Arc::new(incident)))))],
    );
    let effects = apply(&mut model, &[command(Command::RunAction)]);
    assert!(
        matches!(effects.as_slice(), [Effect::RunCheck { incident: Some(3), step, check }] if step == "1.1" && check == "orders"),
        "{effects:?}"
    );
}

#[test]
fn a_tick_carries_the_health_summary_and_the_newest_log_errors() {
    let mut model = model(false);
    loaded(&mut model);
    model.status.health = Some(firstwatch::tui::model::HealthSummary { text: "✗1 orders".into(), critical: true });
    for n in 1..=4 {
        model.evidence.note_error(format!("app: ERROR upstream timed out #{n}"));
    }
    let effects = apply(&mut model, &[Action::Down, command(Command::ToggleStep)]);
    let [Effect::AddEvent { kind: EventKind::Tick, text, .. }] = effects.as_slice() else {
        panic!("one tick expected, got {effects:?}")
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "done");
    assert_eq!(lines[1], "health: ✗1 orders");
    assert_eq!(
        &lines[2..],
        [
            "log: app: ERROR upstream timed out #2",
            "log: app: ERROR upstream timed out #3",
            "log: app: ERROR upstream timed out #4"
        ],
        "the newest three errors, oldest first"
    );
}

fn operation(id: i64) -> firstwatch::tui::tabs::incident::HostOperation {
    firstwatch::tui::tabs::incident::HostOperation {
        id,
        name: "redeploy orders".into(),
        target: "orders".into(),
        who: "ana@bastion (pts/3)".into(),
        started: Some(wall() - chrono::Duration::seconds(95)),
        output: format!("/var/lib/firstwatch/ops/{id}.out").into(),
        watching: false,
    }
}

#[test]
fn another_terminals_operation_is_listed_followed_and_cancelled_only_on_the_second_press() {
    let mut model = model(false);
    loaded(&mut model);
    let report = |msg| Action::Msg(TabMsg::Incident(msg));
    apply(&mut model, &[report(Msg::Operations(vec![operation(7)]))]);
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("#7 redeploy orders") && screen.contains("ana@bastion"), "{screen}");
    assert!(screen.contains("running 01:35"), "{screen}");
    // The three configured actions come first; the operation is the fourth row.
    let mut moves = vec![Action::Right];
    moves.extend([Action::Down, Action::Down, Action::Down]);
    moves.push(command(Command::RunAction));
    let effects = apply(&mut model, &moves);
    let [Effect::Follow { nonce, id: 7, output }] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(output.ends_with("7.out"));
    let nonce = *nonce;
    apply(&mut model, &[report(Msg::Output { nonce, line: "pulling image".into() })]);
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("pulling image") && screen.contains("(by ana@bastion"), "{screen}");
    assert!(!screen.contains("▶ #7"), "the followed operation is in the pane, not listed twice:\n{screen}");
    let first = apply(&mut model, &[command(Command::CancelAction)]);
    assert!(first.is_empty(), "the first press only asks: {first:?}");
    let second = apply(&mut model, &[command(Command::CancelAction)]);
    assert!(
        matches!(&second[..], [Effect::CancelOperation { confirmed }] if confirmed.what().id == 7),
        "the second press confirms the cancel of #7: {second:?}"
    );
    apply(&mut model, &[report(Msg::Finished { nonce, outcome: "operation #7 cancelled".into(), failed: true })]);
    apply(&mut model, &[report(Msg::Operations(Vec::new()))]);
    let screen = draw(&model, 120, 40);
    assert!(screen.contains("operation #7 cancelled") && !screen.contains("▶ #7"), "{screen}");
}

#[test]
fn a_read_only_console_lists_no_operations_to_cancel() {
    let mut model = model(true);
    loaded(&mut model);
    apply(&mut model, &[Action::Msg(TabMsg::Incident(Msg::Operations(vec![operation(3)])))]);
    let screen = draw(&model, 120, 40);
    assert!(!screen.contains("#3 redeploy"), "{screen}");
}
