//! The incident flow through `update()`: the severity picker, `i` on a check
//! opening the prefilled dialog, closing with open steps, esc in every dialog,
//! runbook steps bound to a control (both ways), the palette reaching another
//! tab, a step's full text and the machine entries of the timeline.

mod support;

use chrono::TimeZone;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use firstwatch::incident::record::{Event, EventKind, Incident, IncidentRecord, Severity};
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::incident::{Command, Effect, IncidentTab, Msg};
use firstwatch::tui::tabs::{TabCommand, TabEffect, TabMsg, health};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Instant;

const ACTIONS: &str = r#"
[[action]]
name = "redeploy orders"
kind = "redeploy"
target = "orders"
run = ["deploy", "orders"]
dir = "/srv/orders"
"#;

/// Every control a step can be bound to, plus a plain step with a long text.
const RUNBOOK: &str = "# Orders down\n## Triage (0-15 min)\n\
- [ ] Pick the severity {severity}\n\
- [ ] Redeploy orders {action: redeploy orders}\n\
- [ ] Say what you saw {note}\n\
- [ ] Read the last hour of the orders log and the payment provider's status page, then write down which requests fail and since when, before touching anything else\n  Start with the newest errors.\n";

fn wall() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 9, 42).unwrap()
}

struct Setup {
    model: Model,
    _dir: tempfile::TempDir,
}

/// A model on the incident tab whose config has two checks (one with incident hints), an action and the runbook.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("orders-down.md"), RUNBOOK).unwrap();
    let text = format!(
        r#"
[[check]]
name = "payments"
http = "http://127.0.0.1:9/health"
incident_severity = "P1"
runbook = "Service down"

[[check]]
name = "cpu"
system = "cpu"

[[runbook]]
path = "orders-down.md"
{ACTIONS}"#
    );
    let config = firstwatch::config::load_str(&text, &dir.path().join("firstwatch.toml")).unwrap();
    let mut model = support::model("default-dark");
    model.tabs.incident = IncidentTab::new(&config, true, false, "demo-host");
    let (specs, _) = firstwatch::health::CheckSpec::build_all(&config);
    model.tabs.health = health::HealthTab::with_checks(&specs);
    apply(&mut model, &[Action::SelectTab(TabId::Incident), Action::Tick(wall())]);
    Setup { model, _dir: dir }
}

fn record(events: Vec<Event>) -> IncidentRecord {
    let opened = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 2, 0).unwrap();
    IncidentRecord {
        incident: Incident {
            id: 7,
            title: "Orders down".into(),
            severity: Severity::P2,
            runbook: Some("orders-down".into()),
            opened_at: opened,
            opened_by: "ana".into(),
            closed_at: None,
            closed_by: None,
            resolution: None,
        },
        events,
    }
}

fn event(id: i64, kind: EventKind, step: Option<&str>, text: &str) -> Event {
    let opened = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 2, 0).unwrap();
    Event {
        id,
        at: opened + chrono::TimeDelta::seconds(id * 10),
        who: "ana".into(),
        kind,
        step: step.map(str::to_string),
        text: text.into(),
    }
}

fn load(model: &mut Model, record: IncidentRecord) {
    apply(model, &[Action::Msg(TabMsg::Incident(Msg::Loaded(Some(Arc::new(record))))), Action::Tick(wall())]);
}

fn opened(model: &mut Model) {
    load(model, record(vec![event(1, EventKind::Opened, None, "P2 opened: Orders down")]));
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

fn ctrl_s() -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
}

fn typed(text: &str) -> Vec<Action> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

fn draw(model: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    format!("{}", terminal.backend())
}

#[test]
fn the_severity_picker_shows_every_level_and_one_choice_writes_one_entry() {
    let Setup { mut model, _dir } = setup();
    opened(&mut model);
    assert!(apply(&mut model, &[command(Command::PickSeverity)]).is_empty());
    assert!(model.tab_captures_keys(), "the picker takes the keys");
    let screen = draw(&model, 80, 24);
    for level in ["P0", "P1", "P2", "P3"] {
        assert!(screen.contains(level), "{level} missing: {screen}");
    }
    assert!(screen.contains("respond within 15 min") && screen.contains("respond within 24 h"), "{screen}");
    assert!(screen.contains("(now)"), "the current level is marked: {screen}");

    // From P2, one step up is P1, and it is written once.
    let effects = apply(&mut model, &[key(KeyCode::Up), key(KeyCode::Enter)]);
    assert_eq!(effects, vec![Effect::SetSeverity { incident: 7, severity: Severity::P1 }]);
    assert!(!model.tab_captures_keys());

    // Choosing the level it already has writes nothing; a digit jumps to its level; ctrl-s saves too.
    assert!(apply(&mut model, &[command(Command::PickSeverity), key(KeyCode::Enter)]).is_empty());
    let effects = apply(&mut model, &[command(Command::PickSeverity), key(KeyCode::Char('0')), ctrl_s()]);
    assert_eq!(effects, vec![Effect::SetSeverity { incident: 7, severity: Severity::P0 }]);

    // With no incident open, S says so.
    let Setup { mut model, _dir } = setup();
    assert!(apply(&mut model, &[command(Command::PickSeverity)]).is_empty());
    assert!(!model.tab_captures_keys());
    assert!(draw(&model, 80, 24).contains("no incident is open"));
}

#[test]
fn i_on_a_check_opens_the_new_incident_dialog_filled_in_from_that_check() {
    let Setup { mut model, _dir } = setup();
    let declare = Action::Tab(TabCommand::Health(health::Command::Declare));
    apply(&mut model, &[Action::SelectTab(TabId::Health), Action::Top]);
    let effects = apply(&mut model, std::slice::from_ref(&declare));
    assert!(effects.is_empty(), "nothing is opened before the operator confirms: {effects:?}");
    assert_eq!(model.tab, TabId::Incident);
    assert!(model.tab_captures_keys());
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("new incident"), "{screen}");
    let check = if screen.contains("payments") { "payments" } else { "cpu" };

    let effects = apply(&mut model, &[key(KeyCode::Enter)]);
    let [Effect::Open { title, severity, runbook, evidence }] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(title.starts_with(check), "{title}");
    assert!(evidence.as_deref().is_some_and(|e| e.contains(check)), "{evidence:?}");
    if check == "payments" {
        // Its own keys: P1 and the runbook named by its title.
        assert_eq!((*severity, runbook.as_deref()), (Severity::P1, Some("service-down")));
    } else {
        // No keys: P2 and the host's own first runbook.
        assert_eq!((*severity, runbook.as_deref()), (Severity::P2, Some("orders-down")));
    }

    // The other check, for the other half of the rule.
    apply(&mut model, &[Action::SelectTab(TabId::Health), Action::Top, Action::Down]);
    apply(&mut model, std::slice::from_ref(&declare));
    let effects = apply(&mut model, &[ctrl_s()]);
    let [Effect::Open { title, severity, runbook, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(!title.starts_with(check), "{title}");
    let expected = if check == "payments" { (Severity::P2, "orders-down") } else { (Severity::P1, "service-down") };
    assert_eq!((*severity, runbook.as_deref().unwrap()), expected);

    // With an incident open, i adds the check's state to it instead.
    opened(&mut model);
    apply(&mut model, &[Action::SelectTab(TabId::Health), Action::Top]);
    let effects = apply(&mut model, std::slice::from_ref(&declare));
    assert!(
        matches!(effects.as_slice(), [Effect::AddEvent { incident: 7, kind: EventKind::Note, step: None, .. }]),
        "{effects:?}"
    );
    assert!(!model.tab_captures_keys());
}

#[test]
fn closing_with_open_steps_says_how_many_and_asks_first() {
    let Setup { mut model, _dir } = setup();
    load(
        &mut model,
        record(vec![event(1, EventKind::Opened, None, "opened"), event(2, EventKind::Tick, Some("1.1"), "done")]),
    );
    assert!(apply(&mut model, &[command(Command::CloseIncident)]).is_empty());
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("3 of 4 runbook steps are still open"), "{screen}");

    // n keeps it open.
    assert!(apply(&mut model, &[key(KeyCode::Char('n'))]).is_empty());
    assert!(!model.tab_captures_keys());
    assert!(draw(&model, 80, 24).contains("the incident stays open"));

    // y goes on to the resolution, which ctrl-s saves.
    let mut keys = vec![command(Command::CloseIncident), key(KeyCode::Char('y'))];
    keys.extend(typed("rolled back"));
    keys.push(ctrl_s());
    let effects = apply(&mut model, &keys);
    assert_eq!(effects, vec![Effect::Close { incident: 7, resolution: "rolled back".into() }]);
}

#[test]
fn esc_cancels_every_dialog_and_asks_first_when_typed_text_would_be_lost() {
    let Setup { mut model, _dir } = setup();
    let esc = key(KeyCode::Esc);
    // The new incident form: nothing typed, esc closes it.
    apply(&mut model, &[command(Command::NewIncident)]);
    assert!(model.tab_captures_keys());
    assert!(apply(&mut model, std::slice::from_ref(&esc)).is_empty());
    assert!(!model.tab_captures_keys());
    // A typed title: esc asks, n goes back to it, esc twice drops it.
    let mut keys = vec![command(Command::NewIncident)];
    keys.extend(typed("orders down"));
    keys.push(esc.clone());
    apply(&mut model, &keys);
    assert!(model.tab_captures_keys());
    assert!(draw(&model, 80, 24).contains("discard the typed title?"));
    apply(&mut model, &[key(KeyCode::Char('n'))]);
    assert!(model.tab_captures_keys());
    assert!(apply(&mut model, &[esc.clone(), esc.clone()]).is_empty());
    assert!(!model.tab_captures_keys());

    opened(&mut model);
    // The picker, the step view, the close question: one esc each, nothing written.
    for open in [command(Command::PickSeverity), command(Command::ShowStep), command(Command::CloseIncident)] {
        apply(&mut model, std::slice::from_ref(&open));
        assert!(model.tab_captures_keys(), "{open:?} opened nothing");
        assert!(apply(&mut model, std::slice::from_ref(&esc)).is_empty(), "{open:?}");
        assert!(!model.tab_captures_keys(), "{open:?} still open");
    }
    // Note and skip editors: empty, esc closes; with text, esc asks and a second esc discards.
    for open in [command(Command::Note), command(Command::SkipStep)] {
        apply(&mut model, &[open.clone(), esc.clone()]);
        assert!(!model.tab_captures_keys(), "{open:?}");
        let mut keys = vec![open.clone()];
        keys.extend(typed("half a thought"));
        keys.push(esc.clone());
        assert!(apply(&mut model, &keys).is_empty());
        assert!(model.tab_captures_keys(), "{open:?} dropped typed text without asking");
        assert!(draw(&model, 80, 24).contains("discard what you wrote?"));
        assert!(apply(&mut model, std::slice::from_ref(&esc)).is_empty(), "{open:?} saved on esc");
        assert!(!model.tab_captures_keys());
    }
    // The confirmation dialog: esc cancels (and the cancel is audited), nothing runs.
    apply(&mut model, &[Action::Right, command(Command::RunAction), Action::FrameDrawn]);
    assert!(draw(&model, 80, 24).contains("esc or an empty enter cancels"));
    let effects = apply(&mut model, std::slice::from_ref(&esc));
    assert!(matches!(effects.as_slice(), [Effect::Audit { event: "cancelled", .. }]), "{effects:?}");
    assert!(!model.tab_captures_keys());
}

#[test]
fn a_step_bound_to_a_control_opens_it_and_completing_the_control_ticks_the_step() {
    let Setup { mut model, _dir } = setup();
    opened(&mut model);

    // 1.1 {severity}: space opens the picker; choosing P1 sets it and ticks the step.
    apply(&mut model, &[command(Command::ToggleStep)]);
    assert!(draw(&model, 80, 24).contains("ticks step 1.1"));
    let effects = apply(&mut model, &[key(KeyCode::Char('1')), key(KeyCode::Enter)]);
    assert_eq!(effects.len(), 2, "{effects:?}");
    assert_eq!(effects[0], Effect::SetSeverity { incident: 7, severity: Severity::P1 });
    assert!(matches!(&effects[1], Effect::AddEvent { kind: EventKind::Tick, step: Some(s), .. } if s == "1.1"));
    // Cancelling the picker ticks nothing.
    assert!(apply(&mut model, &[command(Command::ToggleStep), key(KeyCode::Esc)]).is_empty());

    // 1.2 {action}: space opens the confirmation; the step is ticked once the run succeeds.
    let effects = apply(&mut model, &[Action::Down, command(Command::ToggleStep), Action::FrameDrawn]);
    assert!(matches!(effects.as_slice(), [Effect::Audit { event: "request", .. }]), "{effects:?}");
    let effects = apply(&mut model, &[typed("orders"), vec![key(KeyCode::Enter)]].concat());
    let [Effect::Run { nonce, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    let finished =
        |nonce, failed| Action::Msg(TabMsg::Incident(Msg::Finished { nonce, outcome: "exit 0".into(), failed }));
    let effects = apply(&mut model, &[finished(*nonce, false)]);
    assert!(
        matches!(effects.as_slice(), [Effect::AddEvent { kind: EventKind::Tick, step: Some(s), .. }] if s == "1.2"),
        "{effects:?}"
    );

    // 1.3 {note}: space opens the editor; saving writes the note and ticks the step.
    apply(&mut model, &[Action::Down, command(Command::ToggleStep)]);
    let effects = apply(&mut model, &[typed("500s from payments"), vec![ctrl_s()]].concat());
    assert!(
        matches!(effects.as_slice(), [
            Effect::AddEvent { kind: EventKind::Note, step: Some(a), text, .. },
            Effect::AddEvent { kind: EventKind::Tick, step: Some(b), .. },
        ] if a == "1.3" && b == "1.3" && text == "500s from payments"),
        "{effects:?}"
    );
}

#[test]
fn running_the_linked_action_from_the_actions_pane_ticks_its_step_but_a_failed_run_does_not() {
    let Setup { mut model, _dir } = setup();
    opened(&mut model);
    let run = |model: &mut Model| -> u64 {
        apply(model, &[Action::Right, command(Command::RunAction), Action::FrameDrawn]);
        let effects = apply(model, &[typed("orders"), vec![key(KeyCode::Enter)]].concat());
        let [Effect::Run { nonce, .. }] = effects.as_slice() else { panic!("{effects:?}") };
        *nonce
    };
    let finished =
        |nonce, failed| Action::Msg(TabMsg::Incident(Msg::Finished { nonce, outcome: "ended".into(), failed }));
    let nonce = run(&mut model);
    assert!(apply(&mut model, &[finished(nonce, true)]).is_empty(), "a failed run ticks nothing");
    apply(&mut model, &[Action::Left]);
    let nonce = run(&mut model);
    let effects = apply(&mut model, &[finished(nonce, false)]);
    assert!(
        matches!(effects.as_slice(), [Effect::AddEvent { incident: 7, kind: EventKind::Tick, step: Some(s), .. }] if s == "1.2"),
        "{effects:?}"
    );
    // A step already done is not ticked again.
    load(
        &mut model,
        record(vec![event(1, EventKind::Opened, None, "opened"), event(2, EventKind::Tick, Some("1.2"), "done")]),
    );
    apply(&mut model, &[Action::Left]);
    let nonce = run(&mut model);
    assert!(apply(&mut model, &[finished(nonce, false)]).is_empty());
}

#[test]
fn the_palette_reaches_a_command_of_another_tab_and_runs_it_there() {
    let Setup { mut model, _dir } = setup();
    opened(&mut model);
    apply(&mut model, &[Action::SelectTab(TabId::Health), Action::OpenPalette]);
    apply(&mut model, &"severity".chars().map(Action::Input).collect::<Vec<_>>());
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("pick the incident's severity") && screen.contains("incident"), "{screen}");
    let firstwatch::tui::model::Overlay::Palette(palette) = &model.overlay else { panic!("no palette") };
    assert_eq!(palette.matches[0].tab, Some(TabId::Incident), "{:?}", palette.matches[0]);
    apply(&mut model, &[Action::Select]);
    assert_eq!(model.tab, TabId::Incident, "choosing it went to its tab");
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("respond within 15 min"), "and ran it: the picker is open {screen}");

    // From the health tab, `verify` finds the backups tab's verification.
    apply(&mut model, &[key(KeyCode::Esc), Action::SelectTab(TabId::Health), Action::OpenPalette]);
    apply(&mut model, &"verify".chars().map(Action::Input).collect::<Vec<_>>());
    let firstwatch::tui::model::Overlay::Palette(palette) = &model.overlay else { panic!("no palette") };
    assert_eq!(palette.matches.first().and_then(|e| e.tab), Some(TabId::Backups), "{:?}", palette.matches);
}

#[test]
fn enter_on_a_step_shows_its_whole_text_and_evidence_at_80x24() {
    let Setup { mut model, _dir } = setup();
    let evidence = "done\nhealth: 1 failing: payments\nlog: orders: upstream timed out";
    load(
        &mut model,
        record(vec![event(1, EventKind::Opened, None, "opened"), event(2, EventKind::Tick, Some("1.4"), evidence)]),
    );
    apply(&mut model, &[Action::Down, Action::Down, Action::Down]);
    // In the list, the long step wraps under its key instead of being cut.
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("before touching"), "{screen}");
    apply(&mut model, &[Action::Select]);
    assert!(model.tab_captures_keys());
    let screen = draw(&model, 80, 24);
    // The whole text, wrapped in the dialog: its last words are there too.
    assert!(screen.contains("before touching") && screen.contains("anything else"), "{screen}");
    assert!(screen.contains("Start with the newest errors."), "{screen}");
    assert!(screen.contains("done by ana"), "{screen}");
    assert!(screen.contains("upstream timed out"), "the tick's evidence: {screen}");
    apply(&mut model, &[key(KeyCode::Enter)]);
    assert!(!model.tab_captures_keys());
}

#[test]
fn check_transitions_are_dimmed_and_m_hides_them() {
    let Setup { mut model, _dir } = setup();
    let mut events = vec![event(1, EventKind::Opened, None, "opened")];
    for i in 0..12 {
        events.push(event(2 + i, EventKind::Note, None, "health: cpu warning → critical: 97 %"));
    }
    events.push(event(20, EventKind::Note, None, "provider says degraded"));
    load(&mut model, record(events));
    apply(&mut model, &[Action::Right, Action::Right]);
    // Twelve flaps of one check are one dimmed row: where it is now, how many changes since when.
    let screen = draw(&model, 80, 24);
    assert!(screen.contains("cpu → critical · 12 changes since 03:02:20"), "{screen}");
    assert_eq!(screen.matches("cpu").count(), 1, "{screen}");
    assert!(screen.contains("12 check changes folded (m hides)"), "{screen}");
    // Dimmed: the row is drawn in the theme's muted style, a person's note is not.
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| view::render(&model, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let style_of = |needle: &str| {
        let y = screen.lines().position(|l| l.contains(needle)).unwrap() as u16;
        let x = screen.lines().nth(y as usize).unwrap().trim_start_matches('"').find(needle).unwrap();
        let x = screen.lines().nth(y as usize).unwrap().trim_start_matches('"')[..x].chars().count() as u16;
        buffer[(x, y)].fg
    };
    assert_eq!(style_of("cpu →"), model.theme.muted().fg.unwrap_or_default());
    assert_ne!(style_of("provider says"), model.theme.muted().fg.unwrap_or_default());
    apply(&mut model, &[command(Command::ToggleMachineEntries)]);
    let screen = draw(&model, 80, 24);
    assert!(!screen.contains("cpu"), "{screen}");
    assert!(screen.contains("12 check changes hidden"), "{screen}");
    assert!(screen.contains("provider says degraded") && screen.contains("opened"), "{screen}");
}

#[test]
fn a_keymap_written_for_the_old_cycle_severity_still_binds_the_picker() {
    let parsed = TabCommand::parse(TabId::Incident, toml::Value::String("cycle-severity".into()));
    assert_eq!(parsed, Some(TabCommand::Incident(Command::PickSeverity)));
    let parsed = TabCommand::parse(TabId::Incident, toml::Value::String("toggle-machine-entries".into()));
    assert_eq!(parsed, Some(TabCommand::Incident(Command::ToggleMachineEntries)));
}

#[test]
fn an_unknown_incident_severity_on_a_check_is_a_config_error_at_its_place() {
    let text = "[[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:9/\"\nincident_severity = \"P7\"\n";
    let Err(err) = firstwatch::config::load_str(text, std::path::Path::new("/etc/firstwatch/firstwatch.toml")) else {
        panic!("P7 accepted")
    };
    let message = format!("{err:?}");
    assert!(message.contains("unknown incident severity `P7`"), "{message}");
    assert!(message.contains("P0"), "the hint lists the levels: {message}");
}

#[test]
fn p_marks_a_milestone_once_and_shows_which_are_marked() {
    let Setup { mut model, _dir } = setup();
    load(
        &mut model,
        record(vec![
            event(1, EventKind::Opened, None, "P2 opened: Orders down"),
            event(2, EventKind::Milestone, None, "acknowledged"),
        ]),
    );
    assert!(apply(&mut model, &[command(Command::MarkMilestone)]).is_empty());
    assert!(model.tab_captures_keys(), "the picker takes the keys");
    let screen = draw(&model, 80, 24);
    for label in ["acknowledged", "mitigated", "root cause found", "fix applied", "resolved"] {
        assert!(screen.contains(label), "{label} missing: {screen}");
    }
    assert!(screen.contains("✓ marked"), "acknowledged is shown as marked: {screen}");
    // The cursor starts on the first one not marked; 4 jumps to "fix applied".
    let effects = apply(&mut model, &[key(KeyCode::Char('4')), key(KeyCode::Enter)]);
    assert_eq!(
        effects,
        vec![Effect::AddEvent { incident: 7, kind: EventKind::Milestone, step: None, text: "fix applied".into() }]
    );
    assert!(!model.tab_captures_keys());
    // esc marks nothing.
    assert!(apply(&mut model, &[command(Command::MarkMilestone), key(KeyCode::Esc)]).is_empty());
    assert!(!model.tab_captures_keys());
}
