//! Screens rendered into a `TestBackend` with a fixed clock and host.
//! Theme snapshots keep the styles (Buffer's Debug form), so a theme change
//! or a view taking a literal colour shows up in review.

mod support;

use firstwatch::tui::tab::TabId;
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

fn draw(model: &Model, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    terminal
}

#[test]
fn every_theme_at_both_sizes() {
    for theme in ["default-dark", "light", "high-contrast", "solarized-dark", "no-color"] {
        for (width, height) in [(80, 24), (120, 40)] {
            let model = support::model(theme);
            let terminal = draw(&model, width, height);
            insta::assert_debug_snapshot!(format!("frame_{theme}_{width}x{height}"), terminal.backend().buffer());
        }
    }
}

#[test]
fn help_overlay_lists_the_keymap() {
    let mut model = support::model("default-dark");
    update(&mut model, Action::SelectTab(TabId::Logs), Instant::now());
    update(&mut model, Action::ToggleHelp, Instant::now());
    let terminal = draw(&model, 80, 24);
    insta::assert_snapshot!("help_80x24", terminal.backend());
}

#[test]
fn palette_overlay_with_a_query() {
    let mut model = support::model("default-dark");
    for action in [Action::OpenPalette, Action::Input('t'), Action::Input('a'), Action::Input('b')] {
        update(&mut model, action, Instant::now());
    }
    let terminal = draw(&model, 120, 40);
    insta::assert_snapshot!("palette_120x40", terminal.backend());
}

#[test]
fn too_small_terminal_says_so_instead_of_drawing_a_broken_layout() {
    let model = support::model("default-dark");
    let terminal = draw(&model, 60, 20);
    let text = format!("{}", terminal.backend());
    assert!(text.contains("terminal too small"), "{text}");
    assert!(text.contains("need 80x24, have 60x20"), "{text}");
    assert!(!text.contains("health"), "no tab bar below the minimum size");
}

#[test]
fn no_color_theme_uses_no_colours_at_all() {
    let model = support::model("no-color");
    let terminal = draw(&model, 80, 24);
    for cell in terminal.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "cell {:?} has a colour", cell.symbol());
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "cell {:?} has a colour", cell.symbol());
    }
}

#[test]
fn a_crowded_status_line_keeps_what_is_most_urgent_at_80_columns() {
    use firstwatch::tui::model::HealthSummary;
    let mut model = support::model("no-color");
    let alert = |text: &str| Some(HealthSummary { text: text.into(), critical: false });
    model.status.incident = Some("P1 orders failing T+12m".into());
    model.status.health = alert("✗2 payments");
    model.status.gpu = alert("GPU 2 WARN mem");
    model.status.backups = alert("backup app db: 1 missed");
    update(&mut model, Action::Error("no open incident to note it on".into()), Instant::now());
    let status_line = |model: &Model, width: u16, height: u16| {
        format!("{}", draw(model, width, height).backend()).lines().last().unwrap().to_string()
    };

    // With room to spare, everything is there, in its usual order.
    let wide = status_line(&model, 200, 40);
    let at = |text: &str| wide.find(text).unwrap_or_else(|| panic!("{text} missing: {wide}"));
    assert!(at("INCIDENT") < at("✗2 payments") && at("GPU 2") < at("backup app db") && at("backup") < at("error:"));
    assert!(wide.contains(": commands"), "{wide}");

    let narrow = status_line(&model, 80, 24);
    assert!(narrow.contains("error: no open incident"), "{narrow}");
    assert!(narrow.contains("? help"), "{narrow}");
    assert!(!narrow.contains("backup app db"), "the least urgent gives way: {narrow}");

    // Once the error is dismissed the incident comes back, and with a little more room the failing checks.
    update(&mut model, Action::Close, Instant::now());
    let narrow = status_line(&model, 80, 24);
    assert!(narrow.contains("INCIDENT P1 orders failing T+12m"), "{narrow}");
    let medium = status_line(&model, 100, 30);
    assert!(medium.contains("INCIDENT P1 orders failing T+12m │ ✗2 payments"), "{medium}");
}

/// A long runbook, an action's output and a busy timeline on the incident tab.
mod busy_incident {
    use super::*;
    use chrono::TimeZone;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use firstwatch::incident::record::{Event, EventKind, Incident, IncidentRecord, Severity};
    use firstwatch::tui::tabs::incident::{Command, Effect, IncidentTab, Msg};
    use firstwatch::tui::tabs::{TabCommand, TabEffect, TabMsg};
    use std::sync::Arc;

    const RUNBOOK: &str = "# Orders checkout failing\n\
## Confirm (0-5 min)\n\
- [ ] Acknowledge the alert in the paging tool so the rest of the rota knows someone has it\n\
- [ ] Decide how bad it is {severity}\n\
- [ ] Look at the failing check and the last hour of the orders error log, and write down since when requests fail {note}\n\
## Mitigate (5-15 min)\n\
- [ ] Redeploy the current release of orders on every node behind the load balancer {action: redeploy orders}\n\
- [ ] Watch the health endpoint for five minutes before calling it fixed {check: orders}\n\
- [ ] If the redeploy did not help, roll back to the previous release {action: roll back orders}\n\
## Stabilise (15-45 min)\n\
- [ ] Review what changed in the last 24 hours: deployments, configuration, feature flags and dependencies\n\
- [ ] Check quotas and limits (disk, memory, connection pools, API rate limits)\n\
- [ ] Tell the people who depend on orders what happened and what is being done\n\
- [ ] Find the root cause and write it down\n\
- [ ] Plan the permanent fix through the usual change procedure\n\
- [ ] Schedule the post-mortem within five working days\n";

    const CONFIG: &str = r#"
[[check]]
name = "orders"
http = "http://127.0.0.1:9/health"

[[runbook]]
path = "orders.md"

[[action]]
name = "redeploy orders"
kind = "redeploy"
target = "orders"
run = ["deploy", "orders", "--env", "production"]
dir = "/srv/orders"

[[action]]
name = "roll back orders"
kind = "rollback"
target = "orders"
run = ["deploy", "rollback", "orders"]
dir = "/srv/orders"
"#;

    fn wall() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 21, 5).unwrap()
    }

    fn record() -> IncidentRecord {
        let opened = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 3, 2, 0).unwrap();
        let mut events = Vec::new();
        let mut push = |seconds: i64, kind, step: Option<&str>, text: &str| {
            events.push(Event {
                id: events.len() as i64 + 1,
                at: opened + chrono::TimeDelta::seconds(seconds),
                who: "ana".into(),
                kind,
                step: step.map(str::to_string),
                text: text.into(),
            })
        };
        push(0, EventKind::Opened, None, "P1 opened: Orders checkout failing");
        push(20, EventKind::Tick, Some("1.1"), "done");
        push(45, EventKind::Severity, None, "severity P2 → P1");
        push(50, EventKind::Tick, Some("1.2"), "done: severity P1");
        for i in 0..24 {
            let (from, to) = if i % 2 == 0 { ("warning", "critical") } else { ("critical", "warning") };
            push(60 + i * 20, EventKind::Note, None, &format!("health: cpu {from} → {to}: load {}", 80 + i));
        }
        push(300, EventKind::Note, Some("1.3"), "503s from checkout since 03:01, payments fine");
        push(310, EventKind::Tick, Some("1.3"), "done: note written");
        push(400, EventKind::Action, None, "redeploy orders started");
        push(520, EventKind::ActionOutcome, None, "redeploy orders: exit 0 in 1m58s");
        push(530, EventKind::Tick, Some("2.1"), "done: redeploy orders ran");
        push(900, EventKind::Note, None, "errors back after 6 minutes; suspect the connection pool");
        // The store keeps them in time order.
        events.sort_by_key(|e| e.at);
        for (index, event) in events.iter_mut().enumerate() {
            event.id = index as i64 + 1;
        }
        IncidentRecord {
            incident: Incident {
                id: 12,
                title: "Orders checkout failing".into(),
                severity: Severity::P1,
                runbook: Some("orders".into()),
                opened_at: opened,
                opened_by: "ana".into(),
                closed_at: None,
                closed_by: None,
                resolution: None,
            },
            events,
        }
    }

    fn apply(model: &mut Model, actions: Vec<Action>) -> Vec<Effect> {
        actions
            .into_iter()
            .flat_map(|a| update(model, a, Instant::now()))
            .filter_map(|effect| match effect {
                firstwatch::tui::Effect::Tab(TabEffect::Incident(effect)) => Some(effect),
                _ => None,
            })
            .collect()
    }

    /// The incident with the rollback running and its output in the pane; the cursor on step 2.3.
    pub fn model(dir: &std::path::Path) -> Model {
        std::fs::write(dir.join("orders.md"), RUNBOOK).unwrap();
        let config = firstwatch::config::load_str(CONFIG, &dir.join("firstwatch.toml")).unwrap();
        let mut model = support::model("default-dark");
        model.tabs.incident = IncidentTab::new(&config, true, false, "demo-host");
        let msg = |msg| Action::Msg(TabMsg::Incident(msg));
        apply(
            &mut model,
            vec![
                Action::SelectTab(TabId::Incident),
                msg(Msg::Loaded(Some(Arc::new(record())))),
                Action::Tick(wall()),
                Action::Right,
                Action::Down,
                Action::Tab(TabCommand::Incident(Command::RunAction)),
                Action::FrameDrawn,
            ],
        );
        let mut keys: Vec<Action> =
            "orders".chars().map(|c| Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))).collect();
        keys.push(Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        let effects = apply(&mut model, keys);
        let [Effect::Run { nonce, .. }] = effects.as_slice() else { panic!("{effects:?}") };
        let output = [
            "rolling back orders to release 2026.03.01-2",
            "node orders-1: stopped 2026.03.02-1, started 2026.03.01-2",
            "node orders-2: stopped 2026.03.02-1, started 2026.03.01-2",
            "node orders-3: waiting for the load balancer to drain connections (12 left)",
        ];
        let lines = output.iter().map(|line| msg(Msg::Output { nonce: *nonce, line: line.to_string() })).collect();
        apply(&mut model, lines);
        apply(&mut model, vec![Action::Left, Action::Down, Action::Down, Action::Down, Action::Down, Action::Down]);
        model
    }
}

#[test]
fn busy_incident_at_three_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let model = busy_incident::model(dir.path());
    for (width, height) in [(80, 24), (100, 30), (120, 40)] {
        let terminal = draw(&model, width, height);
        insta::assert_snapshot!(format!("busy_incident_{width}x{height}"), terminal.backend());
    }
}

/// From 80x24 to 200x60, side by side panes keep a blank gap between them on every row,
/// so the checklist's text never runs into the actions pane.
#[test]
fn incident_panes_never_touch_from_80x24_to_200x60() {
    let dir = tempfile::tempdir().unwrap();
    let model = busy_incident::model(dir.path());
    for (width, height) in [(80, 24), (90, 30), (99, 30), (100, 30), (120, 40), (160, 50), (200, 60)] {
        let screen: Vec<Vec<char>> =
            format!("{}", draw(&model, width, height).backend()).lines().map(|l| l.chars().collect()).collect();
        let text = |row: &Vec<char>| row.iter().collect::<String>();
        let title = screen.iter().position(|row| text(row).contains(" actions ")).expect("an actions pane");
        let timeline = screen.iter().position(|row| text(row).contains(" timeline ")).expect("a timeline pane");
        let checklist = screen.iter().position(|row| text(row).contains(" checklist ")).expect("a checklist");
        if width < 100 {
            // Stacked: checklist, then actions, then timeline, each on its own rows.
            assert!(checklist < title && title < timeline, "{width}x{height}");
            continue;
        }
        assert_eq!(title, checklist, "{width}x{height}: side by side");
        // The pane's title sits at its left edge; the two columns before it are the gap.
        let row = text(&screen[title]);
        let x = row.chars().collect::<Vec<_>>().windows(9).position(|w| w.iter().collect::<String>() == " actions ");
        let x = x.unwrap();
        for row in &screen[title + 1..timeline] {
            assert_eq!((row[x - 1], row[x - 2]), (' ', ' '), "{width}x{height}: {}", text(row));
        }
    }
}
