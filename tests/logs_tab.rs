//! The logs tab drawn into a `TestBackend` at 80x24 and 120x40, driven the
//! way the console drives it: `Msg::Batch`es from the bridge, commands, raw
//! prompt keys and movement actions through `update()`.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use firstwatch::config;
use firstwatch::logs::follow::{Marker, SourceState};
use firstwatch::logs::level::Level;
use firstwatch::logs::parse::LineParser;
use firstwatch::logs::source::SourceSpec;
use firstwatch::logs::split::RawLine;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::logs::{Batch, Command, Item, LogsTab, Msg};
use firstwatch::tui::tabs::{TabCommand, TabMsg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const CONFIG: &str = r#"
[[log]]
name = "app"
path = "logs/app.log"
highlight = [{ pattern = "payments-api", style = "accent" }]

[[log]]
name = "metrics"
path = "logs/metrics.jsonl"
format = "jsonl"
"#;

fn model_with_logs(theme: &str) -> Model {
    let config = config::load_str(CONFIG, Path::new("/srv/firstwatch.toml")).unwrap();
    let mut model = support::model(theme);
    model.tabs.logs = LogsTab::for_sources(&SourceSpec::all(&config));
    update(&mut model, Action::SelectTab(TabId::Logs), Instant::now());
    model
}

fn send(model: &mut Model, items: Vec<Item>, dropped: u64) {
    let batch = Batch { items, dropped };
    update(model, Action::Msg(TabMsg::Logs(Msg::Batch(Arc::new(batch)))), Instant::now());
}

fn line(source: usize, text: &str) -> Item {
    Item::Line { source, level: firstwatch::logs::level::detect(text), text: text.to_string(), written: None }
}

fn command(model: &mut Model, command: Command) {
    update(model, Action::Tab(TabCommand::Logs(command)), Instant::now());
}

fn typed(model: &mut Model, text: &str) {
    for c in text.chars() {
        update(model, Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)), Instant::now());
    }
}

fn key(model: &mut Model, code: KeyCode) {
    update(model, Action::Key(KeyEvent::new(code, KeyModifiers::NONE)), Instant::now());
}

fn draw(model: &Model, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    terminal
}

fn screen(model: &Model, width: u16, height: u16) -> String {
    let terminal = draw(model, width, height);
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..height {
        for x in 0..width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

fn a_busy_morning(model: &mut Model) {
    send(
        model,
        vec![
            Item::State { source: 0, state: SourceState::Live },
            Item::State { source: 1, state: SourceState::Missing },
            line(0, "2026-11-29T10:00:00Z INFO  GET /api/orders 200 12ms"),
            line(0, "2026-11-29T10:00:01Z ERROR upstream payments-api timed out after 10s"),
            Item::Marker { source: 0, marker: Marker::Rotated },
            line(1, "10:00:02 WARN  operation=sync duration_seconds=9.1"),
            line(0, "2026-11-29T10:00:03Z DEBUG cache hit ratio 0.93"),
            Item::CaughtUp,
        ],
        0,
    );
}

#[test]
fn not_configured_says_how_to_configure_at_both_sizes() {
    let mut model = support::model("default-dark");
    update(&mut model, Action::SelectTab(TabId::Logs), Instant::now());
    for (width, height) in [(80, 24), (120, 40)] {
        let text = screen(&model, width, height);
        assert!(text.contains("No logs are configured."), "{text}");
        assert!(text.contains("[[log]]"), "{text}");
    }
}

#[test]
fn merged_lines_carry_source_tags_states_and_markers_at_both_sizes() {
    let mut model = model_with_logs("default-dark");
    a_busy_morning(&mut model);
    for (width, height) in [(80, 24), (120, 40)] {
        let text = screen(&model, width, height);
        assert!(text.contains("logs · merged"), "{text}");
        assert!(text.contains("app ● live ↻ rotated"), "{text}");
        assert!(text.contains("metrics ○ missing"), "{text}");
        assert!(text.contains("app     2026-11-29T10:00:01Z ERROR upstream"), "{text}");
        assert!(text.contains("metrics 10:00:02 WARN"), "{text}");
        assert!(text.contains("── app: rotated"), "{text}");
        assert!(text.contains("● FOLLOW"), "{text}");
        assert!(text.contains("5/5 lines"), "{text}");
    }
    assert!(screen(&model, 120, 40).contains("0/s"), "rates show when there is room");
    insta::assert_snapshot!("logs_merged_80x24", draw(&model, 80, 24).backend());
    insta::assert_snapshot!("logs_merged_120x40", draw(&model, 120, 40).backend());
}

#[test]
fn before_the_first_line_the_tab_says_what_it_waits_for() {
    let mut model = model_with_logs("default-dark");
    assert!(screen(&model, 80, 24).contains("Reading the logs…"));
    send(&mut model, vec![Item::CaughtUp], 0);
    let text = screen(&model, 80, 24);
    assert!(text.contains("waiting for the sources to write"), "{text}");
    assert!(text.contains("app: /srv/logs/app.log"), "{text}");
}

#[test]
fn scrolling_up_pauses_with_a_count_and_end_resumes() {
    let mut model = model_with_logs("default-dark");
    a_busy_morning(&mut model);
    update(&mut model, Action::Up, Instant::now());
    send(&mut model, vec![line(0, "INFO new one"), line(0, "INFO new two")], 0);
    let text = screen(&model, 80, 24);
    assert!(text.contains("PAUSED, 3 new lines"), "{text}");
    assert!(!text.contains("new two"), "a held screen does not move: {text}");
    update(&mut model, Action::Bottom, Instant::now());
    let text = screen(&model, 80, 24);
    assert!(text.contains("● FOLLOW") && text.contains("new two"), "{text}");
    command(&mut model, Command::TogglePause);
    send(&mut model, vec![line(0, "INFO while paused")], 0);
    assert!(screen(&model, 80, 24).contains("PAUSED, 1 new lines"));
}

#[test]
fn the_filter_prompt_takes_raw_keys_previews_as_typed_and_esc_puts_the_old_filter_back() {
    let mut model = model_with_logs("default-dark");
    a_busy_morning(&mut model);
    command(&mut model, Command::Filter);
    assert!(model.tabs.logs.captures_keys());
    typed(&mut model, "timed? out");
    let text = screen(&model, 80, 24);
    assert!(text.contains("filter: timed? out█"), "{text}");
    assert!(!text.contains("GET /api/orders"), "the filter is previewed while it is typed: {text}");
    assert!(text.contains("esc undo"), "the hint says esc undoes the preview: {text}");
    key(&mut model, KeyCode::Enter);
    assert!(!model.tabs.logs.captures_keys());
    let text = screen(&model, 80, 24);
    assert!(text.contains("payments-api timed out"), "{text}");
    assert!(!text.contains("GET /api/orders"), "{text}");
    assert!(text.contains("only regex \"timed? out\""), "{text}");

    command(&mut model, Command::InvertFilter);
    let text = screen(&model, 80, 24);
    assert!(text.contains("GET /api/orders") && !text.contains("payments-api timed out"), "{text}");

    command(&mut model, Command::Filter);
    typed(&mut model, "zzz");
    key(&mut model, KeyCode::Esc);
    let text = screen(&model, 80, 24);
    assert!(text.contains("hiding regex \"timed? out\""), "esc puts the old filter back: {text}");
    assert!(text.contains("GET /api/orders"), "and what it showed: {text}");
    command(&mut model, Command::ClearFilter);
    assert!(screen(&model, 80, 24).contains("5/5 lines"));
}

#[test]
fn the_level_floor_cycles_and_hides_lower_levels() {
    let mut model = model_with_logs("default-dark");
    a_busy_morning(&mut model);
    for _ in 0..3 {
        command(&mut model, Command::CycleLevel);
    }
    let text = screen(&model, 80, 24);
    assert!(text.contains("level >= WARN"), "{text}");
    assert!(text.contains("ERROR upstream") && text.contains("WARN  operation"), "{text}");
    assert!(!text.contains("GET /api/orders") && !text.contains("cache hit"), "{text}");
    assert!(text.contains("rotated"), "markers stay visible");
}

#[test]
fn search_highlights_matches_in_reverse_video_without_colour_and_n_moves() {
    let mut model = model_with_logs("no-color");
    a_busy_morning(&mut model);
    send(&mut model, (0..100).map(|n| line(0, &format!("INFO filler {n}"))).collect(), 0);
    command(&mut model, Command::Search);
    typed(&mut model, "payments");
    key(&mut model, KeyCode::Enter);
    let terminal = draw(&model, 80, 24);
    let buffer = terminal.backend().buffer();
    let text = screen(&model, 80, 24);
    assert!(text.contains("search \"payments\": match 1/1"), "{text}");
    assert!(text.contains("PAUSED"), "a search jump holds the screen: {text}");
    let (y, row) = text.lines().enumerate().find(|(_, row)| row.contains("payments-api")).expect("match on screen");
    let x = row.chars().position(|_| true).map(|_| row.find("payments").unwrap()).unwrap();
    let column = row[..x].chars().count() as u16;
    assert!(buffer[(column, y as u16)].modifier.contains(Modifier::REVERSED), "match in reverse video");
    assert!(row.contains("▶"), "the current match is marked: {row}");
    update(&mut model, Action::Close, Instant::now());
    assert!(!screen(&model, 80, 24).contains("search \""), "esc clears the search");
}

#[test]
fn only_one_source_and_hidden_sources() {
    let mut model = model_with_logs("default-dark");
    a_busy_morning(&mut model);
    update(&mut model, Action::Right, Instant::now());
    command(&mut model, Command::OnlySource);
    let text = screen(&model, 80, 24);
    assert!(text.contains("logs · only metrics"), "{text}");
    assert!(text.contains("│10:00:02 WARN"), "no tag when one source is shown: {text}");
    assert!(!text.contains("GET /api/orders"), "{text}");
    command(&mut model, Command::OnlySource);
    command(&mut model, Command::HideSource);
    let text = screen(&model, 80, 24);
    assert!(text.contains("(hidden)") && !text.contains("duration_seconds"), "{text}");
}

#[test]
fn a_hostile_line_reaches_the_screen_without_escape_or_bell() {
    let mut model = model_with_logs("default-dark");
    let parsed = LineParser::default()
        .parse(&RawLine { bytes: b"A\x1b]0;PWNED\x07\x1b]52;c;cm0=\x07\x1b[2JFAKE \xff end".to_vec(), cut: 0 });
    let item = Item::Line { source: 0, level: parsed.level, text: parsed.text, written: parsed.written };
    send(&mut model, vec![item, Item::CaughtUp], 0);
    let text = screen(&model, 80, 24);
    assert!(text.contains("AFAKE \u{fffd} end"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains("PWNED"), "{text}");
}

#[test]
fn wrap_shows_a_long_line_on_several_rows_and_floods_show_as_dropped() {
    let mut model = model_with_logs("default-dark");
    let long = format!("INFO start {} end-of-line", "x".repeat(200));
    send(&mut model, vec![line(0, &long), Item::CaughtUp], 12_345);
    let text = screen(&model, 80, 24);
    assert!(!text.contains("end-of-line"), "cut at the edge without wrap");
    assert!(text.contains("12345 lines dropped"), "{text}");
    command(&mut model, Command::ToggleWrap);
    let text = screen(&model, 80, 24);
    assert!(text.contains("end-of-line") && text.contains("wrap"), "{text}");
}

#[test]
fn a_source_that_lost_lines_to_the_memory_budget_says_so_and_the_others_do_not() {
    let config = format!("[settings]\nmemory_budget = \"1MiB\"\n{CONFIG}");
    let config = config::load_str(&config, Path::new("/srv/firstwatch.toml")).unwrap();
    let mut model = support::model("default-dark");
    let budget = config.settings.memory_budget.get_ref().0;
    model.tabs.logs = LogsTab::for_sources(&SourceSpec::all(&config)).with_budget(budget);
    update(&mut model, Action::SelectTab(TabId::Logs), Instant::now());
    send(&mut model, vec![line(1, "10:00:02 WARN  operation=sync"), Item::CaughtUp], 0);
    let flood: Vec<Item> = (0..20_000).map(|n| line(0, &format!("INFO request {n:06} {}", "x".repeat(80)))).collect();
    send(&mut model, flood, 0);
    let text = screen(&model, 120, 40);
    assert!(text.contains("app … opening older lines dropped: budget"), "{text}");
    assert_eq!(text.matches("older lines dropped").count(), 1, "metrics kept its line: {text}");
    assert!(text.contains("INFO request 019999"), "the newest lines stay: {text}");
    let view = model.tabs.logs.view().unwrap();
    assert!(view.memory() <= 1 << 20);
    assert!(view.buffered() < 10_000, "about 140 bytes a line fit 1 MiB {} times", view.buffered());
}

#[test]
fn an_idle_tab_asks_for_no_redraw_on_tick_and_a_busy_one_does() {
    let mut model = model_with_logs("default-dark");
    let mut status = model.status.clone();
    let mut evidence = firstwatch::tui::model::Evidence::default();
    let mut ctx = firstwatch::tui::tabs::TabCtx {
        status: &mut status,
        evidence: &mut evidence,
        wall: chrono::Utc::now(),
        zone: firstwatch::util::zone::Zone::UTC,
        read_only: false,
    };
    assert!(!model.tabs.logs.on_tick(&mut ctx), "nothing happened: nothing to draw");
    send(&mut model, vec![line(0, "ERROR one")], 0);
    assert!(model.tabs.logs.on_tick(&mut ctx));
    let view = model.tabs.logs.view().unwrap();
    assert_eq!(view.sources[0].errors_last_minute, 1);
    assert_eq!(view.get(0).unwrap().level, Some(Level::Error));
}

#[test]
fn error_lines_are_kept_as_evidence_for_the_incident_timeline() {
    let mut model = model_with_logs("no-color");
    send(&mut model, vec![line(0, "INFO all fine"), line(1, "ERROR disk full on /data"), line(0, "WARN slow")], 0);
    let kept: Vec<&str> = model.evidence.recent_errors().collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0], "metrics: ERROR disk full on /data", "the source's name comes first");
}

/// A metrics line as the bridge hands it over: parsed, with how it was written.
fn metrics(json: &str) -> Item {
    let parser =
        SourceSpec::all(&config::load_str(CONFIG, Path::new("/srv/firstwatch.toml")).unwrap())[1].parser.clone();
    let parsed = parser.parse(&RawLine { bytes: json.as_bytes().to_vec(), cut: 0 });
    Item::Line { source: 1, level: parsed.level, text: parsed.text, written: parsed.written }
}

/// Lines the filters keep.
fn shown(model: &Model) -> usize {
    model.tabs.logs.view().unwrap().len()
}

fn json_morning(model: &mut Model) {
    send(
        model,
        vec![
            line(0, "2026-11-29T10:00:00Z INFO  GET /api/orders 200 12ms"),
            metrics(
                r#"{"time": "10:00:01", "level": "info", "operation": "sync", "duration_seconds": 2.5, "status": "success"}"#,
            ),
            metrics(
                r#"{"time": "10:00:02", "level": "error", "operation": "sync", "duration_seconds": 12.5, "status": "failure"}"#,
            ),
            metrics(
                r#"{"time": "10:00:03", "level": "warn", "operation": "export", "duration_seconds": 30, "status": "failure"}"#,
            ),
            Item::CaughtUp,
        ],
        0,
    );
}

#[test]
fn search_and_filter_find_json_lines_as_written_and_as_shown() {
    let mut model = model_with_logs("default-dark");
    json_morning(&mut model);
    command(&mut model, Command::Search);
    typed(&mut model, r#""status": "failure""#);
    key(&mut model, KeyCode::Enter);
    let text = screen(&model, 120, 40);
    assert!(text.contains("\"status\": \"failure\"\": match 2/2"), "the text in the file is found: {text}");
    let current = text.lines().find(|row| row.contains('▶')).expect("a current match");
    assert!(current.contains("ERROR operation=sync") || current.contains("WARN  operation=export"), "{current}");

    command(&mut model, Command::Filter);
    typed(&mut model, "status=failure");
    key(&mut model, KeyCode::Enter);
    let text = screen(&model, 120, 40);
    assert_eq!(shown(&model), 2, "what the tab shows is found too: {text}");
    assert!(text.contains("only text \"status=failure\"") && !text.contains("GET /api"), "{text}");
}

#[test]
fn f_sets_a_field_filter_and_a_bad_one_keeps_the_prompt_open_with_the_reason() {
    let mut model = model_with_logs("default-dark");
    json_morning(&mut model);
    command(&mut model, Command::FieldFilter);
    assert!(model.tabs.logs.captures_keys());
    typed(&mut model, "status = failure");
    assert!(screen(&model, 80, 24).contains("where: status = failure█"));
    key(&mut model, KeyCode::Enter);
    assert!(model.tabs.logs.captures_keys(), "an invalid filter is not applied");
    let text = screen(&model, 120, 40);
    assert!(text.contains("column 8: use == to compare"), "{text}");
    assert_eq!(shown(&model), 4, "nothing filtered yet");

    for _ in " = failure".chars() {
        key(&mut model, KeyCode::Backspace);
    }
    assert!(!screen(&model, 120, 40).contains("column 8"), "editing clears the reason");
    typed(&mut model, " == failure and duration_seconds > 20");
    key(&mut model, KeyCode::Enter);
    assert!(!model.tabs.logs.captures_keys());
    let text = screen(&model, 120, 40);
    assert!(text.contains("where status == failure and duration_seconds > 20"), "{text}");
    assert!(shown(&model) == 1 && text.contains("operation=export"), "{text}");
    assert!(!text.contains("GET /api"), "lines without fields are not kept: {text}");

    command(&mut model, Command::FieldFilter);
    assert!(
        screen(&model, 120, 40).contains("where: status == failure and duration_seconds > 20█"),
        "edits the current one"
    );
    update(&mut model, Action::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)), Instant::now());
    key(&mut model, KeyCode::Enter);
    assert_eq!(shown(&model), 4, "an empty filter clears it");
    assert!(!model.tabs.logs.captures_keys());
}

#[test]
fn the_tab_shows_its_keys_and_the_place_of_the_current_match() {
    let mut model = model_with_logs("default-dark");
    a_busy_morning(&mut model);
    send(&mut model, (0..30).map(|n| line(0, &format!("INFO payments retry {n}"))).collect(), 0);
    let text = screen(&model, 100, 30);
    for hint in ["/ search", "& filter", "f fields", "L level"] {
        assert!(text.contains(hint), "`{hint}` missing from the footer: {text}");
    }
    command(&mut model, Command::Search);
    typed(&mut model, "payments");
    key(&mut model, KeyCode::Enter);
    let first = screen(&model, 100, 30);
    let place = |text: &str| text.split("match ").nth(1).and_then(|rest| rest.split('/').next()).map(str::to_string);
    let before = place(&first).expect("the search says which match is current");
    command(&mut model, Command::PreviousMatch);
    let after = place(&screen(&model, 100, 30)).unwrap();
    assert_eq!(after.parse::<usize>().unwrap() + 1, before.parse::<usize>().unwrap(), "N moves one match back");
    assert!(first.contains("/31"), "31 lines match: {first}");
}
