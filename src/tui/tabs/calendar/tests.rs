//! The calendar tab driven through its own methods and drawn into a TestBackend with a fixed clock.

use super::*;
use crate::config::load_str;
use crate::schedule::{How, NewRun};
use crate::theme::Theme;
use crate::tui::keymap::Keymap;
use crate::tui::model::Status;
use crate::util::zone::Zone;
use crossterm::event::KeyModifiers;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const CONFIG: &str = include_str!("../../../demo/config/schedule.toml");

/// Monday 30 November 2026, 10:00 UTC.
fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap().with_timezone(&Utc)
}

fn plan() -> Plan {
    let config = load_str(CONFIG, std::path::Path::new("schedule.toml")).expect("demo fragment is valid");
    Plan::from_config(&config)
}

fn records(plan: &Plan) -> Vec<RunRecord> {
    crate::demo::schedule_history::demo_runs(plan, now())
        .into_iter()
        .enumerate()
        .map(|(id, run): (usize, NewRun)| RunRecord {
            id: id as i64 + 1,
            task: run.task,
            started: run.started,
            ended: run.ended,
            exit_code: run.exit_code,
            output_tail: run.output_tail,
            how: run.how,
            user: run.user,
            host: run.host,
        })
        .collect()
}

fn status() -> Status {
    Status {
        host: "demo-host".into(),
        zone: Zone::UTC,
        clock: String::new(),
        incident: None,
        window: None,
        health: None,
        gpu: None,
        backups: None,
        last_error: None,
        notice: None,
    }
}

fn ctx<'a>(status: &'a mut Status, wall: DateTime<Utc>) -> TabCtx<'a> {
    // Leaked so the helper can hand out a context; a few bytes per test.
    let evidence = Box::leak(Box::default());
    TabCtx { status, evidence, wall, zone: Zone::UTC, read_only: false }
}

/// A tab with the demo's tasks and runs, ticked at `now()`.
fn demo_tab() -> CalendarTab {
    let plan = plan();
    let runs = records(&plan);
    let mut tab = CalendarTab::with_plan(plan, Zone::UTC);
    let mut status = status();
    tab.on_tick(&mut ctx(&mut status, now()));
    tab.on_msg(Msg::History(Arc::new(runs)), &mut ctx(&mut status, now()));
    tab
}

fn draw(tab: &CalendarTab, theme: &Theme, width: u16, height: u16) -> String {
    let keymap = Keymap::defaults();
    let view = ViewCtx { theme, keymap: &keymap, wall: now(), zone: Zone::UTC, read_only: false };
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| tab.render(&view, frame, frame.area())).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect::<String>().trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn nothing_configured_says_how_to_add_tasks() {
    let tab = CalendarTab::default();
    for (width, height) in [(80, 24), (120, 40)] {
        let screen = draw(&tab, &Theme::no_color(), width, height);
        assert!(screen.contains("No scheduled tasks or maintenance windows."), "{screen}");
        assert!(screen.contains("[[task]]"), "{screen}");
    }
}

#[test]
fn month_agenda_and_details_at_80x24() {
    let tab = demo_tab();
    let screen = draw(&tab, &Theme::no_color(), 80, 24);
    insta::assert_snapshot!("calendar_80x24", screen);
    assert!(screen.contains("November 2026"), "{screen}");
    assert!(screen.contains("agenda Mon 30 Nov (UTC)"), "{screen}");
    assert!(screen.contains("database backup"), "{screen}");
    // Readable without colour: the failed night is named in text.
    assert!(screen.contains("✗ on 28"), "the failed backup two days ago: {screen}");
}

#[test]
fn month_agenda_and_details_at_120x40() {
    let mut tab = demo_tab();
    let mut status = status();
    // Two days back: the night the backup failed.
    tab.on_nav(&Action::Left, &mut ctx(&mut status, now()));
    tab.on_nav(&Action::Left, &mut ctx(&mut status, now()));
    let screen = draw(&tab, &Theme::built_in("default-dark"), 120, 40);
    insta::assert_snapshot!("calendar_120x40", screen);
    assert!(screen.contains("agenda Sat 28 Nov"), "{screen}");
    assert!(screen.contains("✗ exit 1"), "{screen}");
    assert!(screen.contains("took 1m14s"), "durations show at 120 columns: {screen}");
}

#[test]
fn a_missed_run_is_flagged() {
    let mut tab = demo_tab();
    let mut status = status();
    tab.on_nav(&Action::Left, &mut ctx(&mut status, now()));
    let row = tab.rows.iter().find(|row| row.name == "morning check").expect("morning check yesterday");
    assert_eq!(row.state, derive::RowState::Missed);
    assert!(draw(&tab, &Theme::no_color(), 80, 24).contains("! missed"));
}

#[test]
fn week_view_shows_a_grid() {
    let mut tab = demo_tab();
    let mut status = status();
    tab.on_command(Command::ToggleWeek, &mut ctx(&mut status, now()));
    let screen = draw(&tab, &Theme::no_color(), 80, 24);
    assert!(screen.contains("week of 29 Nov 2026"), "{screen}");
    assert!(screen.contains("Mon 30"), "{screen}");
    assert!(screen.contains('~'), "window hours are marked: {screen}");
}

#[test]
fn keys_move_by_day_week_and_month() {
    let mut tab = demo_tab();
    let mut status = status();
    let day = |tab: &CalendarTab| tab.selected_day().to_string();
    assert_eq!(day(&tab), "2026-11-30");
    tab.on_nav(&Action::Right, &mut ctx(&mut status, now()));
    assert_eq!(day(&tab), "2026-12-01");
    tab.on_nav(&Action::Up, &mut ctx(&mut status, now()));
    assert_eq!(day(&tab), "2026-11-24");
    tab.on_command(Command::NextMonth, &mut ctx(&mut status, now()));
    assert_eq!(day(&tab), "2026-12-24");
    tab.on_command(Command::PreviousMonth, &mut ctx(&mut status, now()));
    tab.on_command(Command::PreviousMonth, &mut ctx(&mut status, now()));
    assert_eq!(day(&tab), "2026-10-24");
    tab.on_command(Command::Today, &mut ctx(&mut status, now()));
    assert_eq!(day(&tab), "2026-11-30");
    // Enter moves focus into the agenda, where up/down pick rows.
    tab.on_nav(&Action::Select, &mut ctx(&mut status, now()));
    tab.on_nav(&Action::Down, &mut ctx(&mut status, now()));
    assert_eq!((tab.focus, tab.selected_row), (Focus::Agenda, 1));
    assert!(tab.on_nav(&Action::Close, &mut ctx(&mut status, now())).is_some());
    assert!(tab.on_nav(&Action::Close, &mut ctx(&mut status, now())).is_none(), "esc falls through on the calendar");
}

#[test]
fn running_a_task_asks_first() {
    let mut tab = demo_tab();
    let mut status = status();
    tab.on_nav(&Action::Select, &mut ctx(&mut status, now()));
    let index = tab.rows.iter().position(|row| row.name == "health sweep").expect("health sweep row");
    tab.selected_row = index;
    assert!(tab.on_command(Command::RunTask, &mut ctx(&mut status, now())).is_empty(), "no run without a yes");
    assert!(tab.captures_keys());
    assert!(draw(&tab, &Theme::no_color(), 80, 24).contains("y = run it now"));
    tab.on_frame_drawn();
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    assert!(tab.on_key(key('n'), &mut ctx(&mut status, now())).is_empty());
    assert!(!tab.captures_keys());
    tab.on_command(Command::RunTask, &mut ctx(&mut status, now()));
    tab.on_frame_drawn();
    let effects = tab.on_key(key('y'), &mut ctx(&mut status, now()));
    assert!(
        matches!(&effects[..], [Effect::RunTask(confirmed)] if confirmed.what().task == "health sweep"),
        "{effects:?}"
    );
    // Read-only sessions are refused before any prompt.
    let mut read_only = ctx(&mut status, now());
    read_only.read_only = true;
    tab.on_command(Command::RunTask, &mut read_only);
    assert!(!tab.captures_keys());
}

#[test]
fn the_status_line_follows_the_maintenance_window() {
    let mut tab = CalendarTab::with_plan(plan(), Zone::UTC);
    let mut status = status();
    let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
    tab.on_tick(&mut ctx(&mut status, at("2026-11-30T01:59:30Z")));
    assert_eq!(status.window, None);
    assert!(tab.on_tick(&mut ctx(&mut status, at("2026-11-30T02:00:00Z"))));
    assert_eq!(status.window.as_deref(), Some("nightly low traffic until 03:00"));
    assert!(!tab.on_tick(&mut ctx(&mut status, at("2026-11-30T02:00:01Z"))), "nothing changed within the minute");
    assert!(
        !tab.on_tick(&mut ctx(&mut status, at("2026-11-30T02:07:00Z"))),
        "a new minute with nothing due redraws nothing"
    );
    assert!(tab.on_tick(&mut ctx(&mut status, at("2026-11-30T02:15:00Z"))), "the health sweep's next run moved on");
    tab.on_tick(&mut ctx(&mut status, at("2026-11-30T03:00:00Z")));
    assert_eq!(status.window, None);
    // Sunday 03:00-05:00: the weekly window.
    tab.on_tick(&mut ctx(&mut status, at("2026-11-29T04:10:00Z")));
    assert_eq!(status.window.as_deref(), Some("weekly maintenance until 05:00"));
}

#[tokio::test(start_paused = true)]
async fn the_engine_reports_runs_recorded_by_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open_in(dir.path()).unwrap();
    let (mut services, mut receiver) = Services::detached();
    let config = load_str(CONFIG, std::path::Path::new("schedule.toml")).unwrap();
    services.config = Arc::new(config);
    services.store = Some(store.clone());
    let _tab = start(&services);
    // Another process (a cron wrapper) records a run.
    let run = NewRun {
        task: "log rotation".into(),
        started: Utc::now() - Duration::minutes(1),
        ended: Some(Utc::now()),
        exit_code: Some(0),
        output_tail: None,
        how: How::Wrap,
        user: "cron".into(),
        host: "db1".into(),
    };
    store.call(move |c| history::insert(c, &run)).unwrap();
    let mut seen_import = false;
    loop {
        let Some(Action::Msg(TabMsg::Calendar(msg))) = receiver.recv().await else { panic!("channel closed") };
        match msg {
            Msg::History(runs) if runs.iter().any(|r| r.task == "log rotation") => break,
            Msg::Imported(_) => seen_import = true,
            _ => {}
        }
    }
    // The host import reports too, whatever this machine has (it degrades to notes, never an error).
    while !seen_import {
        if let Some(Action::Msg(TabMsg::Calendar(Msg::Imported(_)))) = receiver.recv().await {
            seen_import = true;
        }
    }
}

#[test]
fn rows_in_a_window_with_silence_say_whether_alertmanager_has_it() {
    let config = load_str(
        "[[task]]\nname = \"db backup\"\ncron = \"30 3 * * *\"\n\
         [[window]]\nname = \"nightly\"\ncron = \"0 3 * * *\"\nduration = \"1h\"\nsilence = ['job=\"db\"']\n",
        std::path::Path::new("fw.toml"),
    )
    .unwrap();
    let early = DateTime::parse_from_rfc3339("2026-11-30T01:00:00Z").unwrap().to_utc();
    let mut tab = CalendarTab::with_plan(Plan::from_config(&config), Zone::UTC);
    let mut status = status();
    tab.on_tick(&mut ctx(&mut status, early));
    let today = |tab: &CalendarTab| {
        let keymap = Keymap::defaults();
        let theme = Theme::no_color();
        let view = ViewCtx { theme: &theme, keymap: &keymap, wall: early, zone: Zone::UTC, read_only: false };
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|frame| tab.render(&view, frame, frame.area())).unwrap();
        format!("{}", terminal.backend())
    };
    assert!(today(&tab).contains("?~nightly"), "{}", today(&tab));
    assert!(today(&tab).contains("in    nightly ? silence unknown"), "{}", today(&tab));

    let start = DateTime::parse_from_rfc3339("2026-11-30T03:00:00Z").unwrap().to_utc();
    let silence = crate::engine::alertmanager::Silence {
        id: "0f9e11aa-2b3c-4d5e-8f90-123456789abc".into(),
        matchers: vec![crate::engine::matcher::Matcher::parse("job=\"db\"").unwrap().to_api()],
        starts_at: start,
        ends_at: start + Duration::hours(1),
        created_by: "cron@db1".into(),
        comment: "maintenance window `nightly`".into(),
        status: crate::engine::alertmanager::SilenceStatus { state: "pending".into() },
    };
    tab.on_msg(Msg::Silences(Ok(Arc::new(vec![silence]))), &mut ctx(&mut status, early));
    assert!(today(&tab).contains("✓~nightly"), "{}", today(&tab));
    assert!(today(&tab).contains("in    nightly ✓ silenced (0f9e11aa)"), "{}", today(&tab));

    // Tomorrow's occurrence has none yet.
    tab.on_nav(&Action::Right, &mut ctx(&mut status, early));
    assert!(today(&tab).contains("✗~nightly"), "{}", today(&tab));
    assert!(today(&tab).contains("in    nightly ✗ no silence (schedule silences --apply)"), "{}", today(&tab));
}
