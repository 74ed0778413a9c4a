//! `y` copies the selected item to the operator's clipboard with OSC 52.

mod support;

use base64::Engine;
use firstwatch::config::load_str;
use firstwatch::health::engine::Collector;
use firstwatch::health::{CheckSpec, Level, Outcome};
use firstwatch::tui::effect::Effect;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::TabMsg;
use firstwatch::tui::tabs::health::{HealthTab, Msg};
use firstwatch::tui::{Action, Model, update};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

fn model_with_a_failing_check() -> Model {
    let config = load_str(
        "[[check]]\nname = \"orders\"\nhttp = \"http://127.0.0.1:8080/orders\"\n",
        Path::new("/tmp/firstwatch.toml"),
    )
    .unwrap();
    let (specs, _) = CheckSpec::build_all(&config);
    let mut collector = Collector::new(specs.iter().cloned().map(Arc::new).collect(), None, Box::new(|_| true));
    collector.apply(0, Outcome::new(Level::Critical, "status was 500, expected 200"));
    let now = chrono::Utc::now();
    let views = vec![Arc::new(collector.view(0, now))];
    let mut model = support::model("default-dark");
    model.wall = now;
    model.tabs.health = HealthTab::with_checks(&specs);
    update(&mut model, Action::Msg(TabMsg::Health(Msg::Updated(views))), Instant::now());
    model
}

fn copied_text(effects: &[Effect]) -> String {
    let [Effect::Raw(sequence)] = effects else { panic!("one raw write expected, got {effects:?}") };
    let payload = sequence.strip_prefix("\x1b]52;c;").and_then(|s| s.strip_suffix('\x07')).expect("an OSC 52 sequence");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(payload).unwrap()).unwrap()
}

#[test]
fn y_copies_the_selected_check_and_says_so() {
    let mut model = model_with_a_failing_check();
    let effects = update(&mut model, Action::Copy, Instant::now());
    let text = copied_text(&effects);
    assert!(text.starts_with("orders (http http://127.0.0.1:8080/orders)"), "{text}");
    assert!(text.ends_with("status was 500, expected 200"), "{text}");
    let (notice, _) = model.status.notice.clone().expect("the status line says what was copied");
    assert!(notice.starts_with("copied the check"), "{notice}");
}

#[test]
fn the_notice_goes_after_a_few_seconds() {
    let mut model = model_with_a_failing_check();
    update(&mut model, Action::Copy, Instant::now());
    let later = model.wall + chrono::TimeDelta::seconds(6);
    update(&mut model, Action::Tick(later), Instant::now());
    assert!(model.status.notice.is_none());
}

#[test]
fn nothing_is_written_when_copying_is_off_or_nothing_is_selected() {
    let mut model = model_with_a_failing_check();
    model.clipboard = false;
    assert!(update(&mut model, Action::Copy, Instant::now()).is_empty());
    assert!(model.status.notice.as_ref().is_some_and(|(n, _)| n.contains("off")));

    let mut model = support::model("default-dark");
    update(&mut model, Action::SelectTab(TabId::Calendar), Instant::now());
    assert!(update(&mut model, Action::Copy, Instant::now()).is_empty());
    assert!(model.status.notice.as_ref().is_some_and(|(n, _)| n.contains("nothing selected")));
}

#[test]
fn y_is_bound_to_copy_by_default() {
    let keymap = firstwatch::tui::keymap::Keymap::defaults();
    let mode = support::model("default-dark").mode();
    assert_eq!(keymap.key_for(mode, &Action::Copy).as_deref(), Some("y"));
}

#[test]
fn m_turns_the_mouse_on_and_off_and_the_wheel_and_tab_bar_then_work() {
    use crossterm::event::{Event, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let mut model = support::model("default-dark");
    let click = |column| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row: 0,
            modifiers: KeyModifiers::NONE,
        })
    };
    let wheel =
        Event::Mouse(MouseEvent { kind: MouseEventKind::ScrollDown, column: 5, row: 5, modifiers: KeyModifiers::NONE });
    // Off by default: the terminal keeps its own selection, and mouse events mean nothing.
    assert_eq!(firstwatch::tui::input::event_to_action(&model, wheel.clone()), None);
    assert_eq!(update(&mut model, Action::ToggleMouse, Instant::now()), vec![Effect::Mouse(true)]);
    assert_eq!(firstwatch::tui::input::event_to_action(&model, wheel), Some(Action::Down));
    // " firstwatch │ 1 health  2 calendar ...": column 30 is on "2 calendar".
    assert_eq!(firstwatch::tui::input::event_to_action(&model, click(30)), Some(Action::SelectTab(TabId::Calendar)));
    assert_eq!(firstwatch::tui::input::event_to_action(&model, click(3)), None, "the name is not a tab");
    assert_eq!(update(&mut model, Action::ToggleMouse, Instant::now()), vec![Effect::Mouse(false)]);
}

#[test]
fn the_palette_switches_the_theme_for_the_session() {
    let mut model = support::model("default-dark");
    model.themes = ["default-dark", "light"].map(firstwatch::theme::Theme::built_in).to_vec();
    update(&mut model, Action::OpenPalette, Instant::now());
    for c in "theme light".chars() {
        update(&mut model, Action::Input(c), Instant::now());
    }
    update(&mut model, Action::Select, Instant::now());
    assert_eq!(model.theme.name, "light");
    assert!(model.status.notice.as_ref().is_some_and(|(n, _)| n.contains("theme light")));
    // A theme that is not loaded is named, and nothing changes.
    update(&mut model, Action::SetTheme("neon".into()), Instant::now());
    assert_eq!(model.theme.name, "light");
    assert!(model.status.notice.as_ref().is_some_and(|(n, _)| n.contains("no theme named neon")));
}

#[test]
fn with_the_mouse_on_a_click_selects_the_health_row_under_it() {
    let config = load_str(
        "[[check]]\nname = \"orders\"\nhttp = \"http://127.0.0.1:8080/orders\"\n\n[[check]]\nname = \"payments\"\nhttp = \"http://127.0.0.1:8080/payments\"\n",
        Path::new("/tmp/firstwatch.toml"),
    )
    .unwrap();
    let (specs, _) = CheckSpec::build_all(&config);
    let mut model = support::model("default-dark");
    model.tabs.health = HealthTab::with_checks(&specs);
    model.mouse = true;
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    terminal.draw(|frame| firstwatch::tui::view::render(&model, frame)).unwrap();
    let screen = format!("{}", terminal.backend());
    let y = screen.lines().position(|line| line.contains("payments")).expect("payments is listed") as u16;
    let click = crossterm::event::Event::Mouse(crossterm::event::MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column: 8,
        row: y,
        modifiers: crossterm::event::KeyModifiers::NONE,
    });
    let action = firstwatch::tui::input::event_to_action(&model, click).expect("a click on the body is an action");
    update(&mut model, action, Instant::now());
    let copied = copied_text(&update(&mut model, Action::Copy, Instant::now()));
    assert!(copied.starts_with("payments"), "the clicked row is selected: {copied}");
}
