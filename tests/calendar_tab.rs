//! The calendar tab's run-now through `update()`: the question is answered only
//! by keys that arrive after a frame showing it was drawn.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use firstwatch::config;
use firstwatch::schedule::Plan;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::calendar::{CalendarTab, Command, Effect};
use firstwatch::tui::tabs::{TabCommand, TabEffect};
use firstwatch::tui::{Action, Model, update, view};
use firstwatch::util::zone::Zone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

fn model() -> Model {
    let text = "[[task]]\nname = \"sweep\"\ncron = \"*/15 * * * *\"\nrun = [\"true\"]\n";
    let config = config::load_str(text, std::path::Path::new("/srv/fw/firstwatch.toml")).unwrap();
    let mut model = support::model("no-color");
    model.tabs.calendar = CalendarTab::with_plan(Plan::from_config(&config), Zone::UTC);
    let wall = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap().to_utc();
    update(&mut model, Action::SelectTab(TabId::Calendar), Instant::now());
    update(&mut model, Action::Tick(wall), Instant::now());
    model
}

fn runs(effects: Vec<firstwatch::tui::Effect>) -> Vec<String> {
    effects
        .into_iter()
        .filter_map(|effect| match effect {
            firstwatch::tui::Effect::Tab(TabEffect::Calendar(Effect::RunTask(confirmed))) => {
                Some(confirmed.what().task.clone())
            }
            _ => None,
        })
        .collect()
}

fn key(model: &mut Model, c: char) -> Vec<String> {
    runs(update(model, Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)), Instant::now()))
}

/// Draws a frame and, as the runtime does, tells the model it was drawn.
fn screen(model: &mut Model) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    update(model, Action::FrameDrawn, Instant::now());
    format!("{}", terminal.backend())
}

#[test]
fn a_y_typed_before_the_run_now_question_was_drawn_runs_nothing() {
    let mut model = model();
    let asked = update(&mut model, Action::Tab(TabCommand::Calendar(Command::RunTask)), Instant::now());
    assert!(runs(asked).is_empty(), "asking runs nothing");
    // Typed ahead over a slow link, before any frame showed the question.
    assert!(key(&mut model, 'y').is_empty(), "type-ahead must not confirm");
    assert!(model.tabs.calendar.captures_keys(), "the question is still open, unanswered");
    assert!(screen(&mut model).contains("y = run it now"));
    // Once it has been seen, `y` is the answer.
    assert_eq!(key(&mut model, 'y'), ["sweep"]);
    assert!(!model.tabs.calendar.captures_keys());
}

#[test]
fn after_the_question_was_drawn_any_other_key_declines() {
    let mut model = model();
    update(&mut model, Action::Tab(TabCommand::Calendar(Command::RunTask)), Instant::now());
    screen(&mut model);
    assert!(key(&mut model, 'n').is_empty());
    assert!(!model.tabs.calendar.captures_keys(), "answered: not run");
    assert!(screen(&mut model).contains("not run: `sweep`"));
}
