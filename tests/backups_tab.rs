//! The backups tab drawn into a `TestBackend` at 80x24 and 120x40, driven
//! through `update()` with the messages its engine would send, listing real
//! backup files from a temp folder.

#[path = "support/backups.rs"]
mod files;
mod support;

use chrono::TimeZone;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use firstwatch::backup::overview::survey;
use firstwatch::backup::{BackupSet, Verification};
use firstwatch::config::{self, Config};
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::backups::{self, Command, Effect, Msg};
use firstwatch::tui::tabs::{Services, TabCommand, TabEffect, TabMsg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Instant;

/// Noon on 29 November 2026: the newest daily backup is 1d09h old.
fn noon() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap()
}

struct Scene {
    _dir: tempfile::TempDir,
    config: Config,
    model: Model,
}

fn scene(theme: &str, read_only: bool) -> Scene {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("backups/20261126")).unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("backups/20261126/MANIFEST"), "app.conf\n").unwrap();
    for day in 20..=28 {
        files::write_db_gz(&root.join(format!("backups/app_db_202611{day}_030000.db.gz")), 4);
    }
    let text = r#"
[[backup]]
name = "app db"
dir = "backups"
pattern = "app_db_%Y%m%d_%H%M%S.db.gz"
format = "sqlite-gz"
restore_to = "data/app.db"
keep = "7d"
every = "1d"

[[backup]]
name = "weekly config"
dir = "backups"
pattern = "%Y%m%d/"
format = "dir"
every = "7d"
"#;
    let config = config::load_str(text, &root.join("firstwatch.toml")).unwrap();
    let mut model = support::model(theme);
    model.read_only = read_only;
    let (mut services, _) = Services::detached();
    services.config = Arc::new(config.clone());
    model.tabs.backups = backups::start(&services);
    update(&mut model, Action::SelectTab(TabId::Backups), Instant::now());
    update(&mut model, Action::Tick(noon()), Instant::now());
    Scene { _dir: dir, config, model }
}

impl Scene {
    fn list(&mut self) {
        let sets = BackupSet::all(&self.config);
        let states = survey(&sets, None, noon());
        self.send(Msg::Listed(Arc::new(states)));
    }

    fn send(&mut self, msg: Msg) -> Vec<Effect> {
        effects(update(&mut self.model, Action::Msg(TabMsg::Backups(msg)), Instant::now()))
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        effects(update(&mut self.model, Action::Tab(TabCommand::Backups(command)), Instant::now()))
    }

    fn act(&mut self, action: Action) -> Vec<Effect> {
        effects(update(&mut self.model, action, Instant::now()))
    }

    fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) -> Vec<Effect> {
        self.act(Action::Key(KeyEvent::new(code, modifiers)))
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE);
        }
    }

    /// Draws a frame and, as the runtime does, tells the model it was drawn.
    fn screen(&mut self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| view::render(&self.model, frame)).unwrap();
        self.act(Action::FrameDrawn);
        format!("{}", terminal.backend())
    }
}

fn effects(all: Vec<firstwatch::tui::Effect>) -> Vec<Effect> {
    all.into_iter()
        .filter_map(|e| match e {
            firstwatch::tui::Effect::Tab(TabEffect::Backups(e)) => Some(e),
            _ => None,
        })
        .collect()
}

fn result(ok: bool, detail: &str) -> Verification {
    Verification {
        ok,
        detail: detail.into(),
        files: None,
        checksum: None,
        size_bytes: 0,
        modified: chrono::DateTime::UNIX_EPOCH,
        verified_at: noon(),
        duration_ms: 3,
    }
}

#[test]
fn without_backup_sets_the_tab_says_how_to_add_one() {
    let mut model = support::model("default-dark");
    update(&mut model, Action::SelectTab(TabId::Backups), Instant::now());
    for (width, height) in [(80, 24), (120, 40)] {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| view::render(&model, frame)).unwrap();
        let text = format!("{}", terminal.backend());
        assert!(text.contains("No backup sets are configured"), "{text}");
        assert!(text.contains("[[backup]]"), "{text}");
    }
}

#[test]
fn sets_and_backups_show_at_both_sizes() {
    let mut scene = scene("default-dark", false);
    scene.list();
    let small = scene.screen(80, 24);
    // Nothing was verified, so the header does not call the newest backup good.
    assert!(small.contains("! app db (sqlite-gz) last backup 1d09h ago, unverified · every 1d · 1 missed"), "{small}");
    assert!(small.contains("? unverified 11-28 03:00  1d09h"), "{small}");
    assert!(small.contains("[prune]"), "backups past 7d are marked:\n{small}");
    assert!(small.contains("v verify · V all · enter contents · c compare · r restore"), "{small}");
    let large = scene.screen(120, 40);
    assert!(large.contains("app_db_20261128_030000.db.gz "), "names fit beside the pane:\n{large}");
    assert!(large.contains("9 backups · 0 corrupt · 3 past retention"), "{large}");
    assert!(large.contains("✓ weekly config (dir)"), "{large}");
}

#[test]
fn verification_shows_progress_then_results_without_colour() {
    let mut scene = scene("no-color", false);
    scene.list();
    let effects = scene.command(Command::VerifyAll);
    let [Effect::Verify { generation, jobs, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(jobs.len(), 10, "nine daily backups and one folder");
    let generation = *generation;
    let newest = "app_db_20261128_030000.db.gz".to_string();
    scene.send(Msg::VerifyProgress { generation, set: "app db".into(), name: newest.clone(), percent: 43 });
    let screen = scene.screen(80, 24);
    assert!(screen.contains("… verify 43%"), "{screen}");
    assert!(screen.contains("verifying 1/10 · app_db_20261128_030000.db.gz 43% · x cancels"), "{screen}");

    let entry = scene.config.backups.len();
    assert_eq!(entry, 2);
    let mut bad = result(false, "the gzip data ends early (truncated?)");
    let listed = survey(&BackupSet::all(&scene.config), None, noon());
    let backup = listed[0].find(&newest).unwrap();
    bad.size_bytes = backup.entry.size_bytes;
    bad.modified = backup.entry.modified;
    scene.send(Msg::Verified { generation, set: "app db".into(), name: newest, result: Some(bad) });
    let after_done = scene.send(Msg::VerifyDone { generation });
    assert_eq!(after_done, [Effect::Rescan], "headers are refreshed from the store");
    let screen = scene.screen(80, 24);
    assert!(screen.contains("✗ corrupt"), "{screen}");
    assert!(screen.contains("verified 1 of 10: 1 CORRUPT (cancelled)"), "{screen}");

    // A stale job's reports are ignored.
    scene.send(Msg::VerifyProgress { generation: generation + 7, set: "app db".into(), name: "x".into(), percent: 9 });
    assert!(!scene.screen(80, 24).contains("verify 9%"));
}

#[test]
fn restore_runs_only_after_the_set_name_is_typed() {
    let mut scene = scene("default-dark", false);
    scene.list();
    scene.act(Action::Down);
    let effects = scene.command(Command::Restore);
    let [Effect::PlanRestore { set, entry }] = effects.as_slice() else { panic!("{effects:?}") };
    assert_eq!(set, "app db");
    let sets = BackupSet::all(&scene.config);
    let plan = firstwatch::backup::restore::plan(&sets[0], entry, None, noon()).unwrap();
    let name = entry.name.clone();
    scene.send(Msg::Planned { set: "app db".into(), name, result: Ok(Arc::new(plan)) });
    assert!(scene.model.tab_captures_keys(), "the dialog takes every key");
    let screen = scene.screen(80, 24);
    assert!(screen.contains("restore \"app db\""), "{screen}");
    assert!(screen.contains("creates") && screen.contains("data/app.db"), "{screen}");
    assert!(screen.contains("type the set name to confirm"), "{screen}");

    scene.type_text("app");
    assert!(scene.key(KeyCode::Enter, KeyModifiers::NONE).is_empty(), "a partial name does nothing");
    assert!(scene.screen(80, 24).contains("type the set name exactly"));
    scene.type_text(" db");
    let run = scene.key(KeyCode::Enter, KeyModifiers::NONE);
    assert!(matches!(run.as_slice(), [Effect::Restore { .. }]), "{run:?}");
    let screen = scene.screen(120, 40);
    assert!(screen.contains("restoring…"), "{screen}");
    assert!(scene.key(KeyCode::Esc, KeyModifiers::NONE).is_empty(), "a running restore cannot be dismissed");
}

#[test]
fn cancelling_the_dialog_is_audited_and_a_corrupt_backup_needs_force() {
    let mut scene = scene("default-dark", false);
    scene.list();
    scene.act(Action::Down);
    scene.act(Action::Down);
    let sets = BackupSet::all(&scene.config);
    let listed = survey(&sets, None, noon());
    let backup = &listed[0].backups[1];
    let mut bad = result(false, "the gzip data ends early (truncated?)");
    bad.size_bytes = backup.entry.size_bytes;
    bad.modified = backup.entry.modified;
    let effects = scene.command(Command::Verify);
    let [Effect::Verify { generation, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    let generation = *generation;
    scene.send(Msg::Verified { generation, set: "app db".into(), name: backup.entry.name.clone(), result: Some(bad) });
    scene.send(Msg::VerifyDone { generation });

    scene.command(Command::Restore);
    let plan = firstwatch::backup::restore::plan(&sets[0], &backup.entry, None, noon()).unwrap();
    scene.send(Msg::Planned { set: "app db".into(), name: backup.entry.name.clone(), result: Ok(Arc::new(plan)) });
    assert!(scene.screen(80, 24).contains("FAILED verification"));
    scene.type_text("app db");
    assert!(scene.key(KeyCode::Enter, KeyModifiers::NONE).is_empty(), "corrupt needs ctrl-f");
    scene.key(KeyCode::Char('f'), KeyModifiers::CONTROL);
    assert!(scene.screen(80, 24).contains("forced"));
    let cancelled = scene.key(KeyCode::Esc, KeyModifiers::NONE);
    assert!(matches!(cancelled.as_slice(), [Effect::AuditNotRun { event: "restore-cancelled", .. }]), "{cancelled:?}");
    assert!(!scene.model.tab_captures_keys());
}

#[test]
fn read_only_refuses_restore_and_hides_it() {
    let mut scene = scene("default-dark", true);
    scene.list();
    scene.act(Action::Down);
    let effects = scene.command(Command::Restore);
    assert!(matches!(effects.as_slice(), [Effect::AuditNotRun { event: "restore-refused", .. }]), "{effects:?}");
    assert!(!scene.model.tab_captures_keys(), "no dialog opens");
    let screen = scene.screen(80, 24);
    assert!(!screen.contains("r restore"), "{screen}");
    assert!(screen.contains("read-only: restores are disabled"), "the footer says why: {screen}");
}

#[test]
fn enter_loads_contents_into_the_pane() {
    let mut scene = scene("default-dark", false);
    scene.list();
    scene.act(Action::Down);
    let effects = scene.act(Action::Select);
    let [Effect::LoadContents { set, name, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    let (set, name) = (set.clone(), name.clone());
    assert!(scene.screen(80, 24).contains("reading…"));
    let sets = BackupSet::all(&scene.config);
    let path = &survey(&sets, None, noon())[0].backups[0].entry.path;
    let contents = firstwatch::backup::contents::read(sets[0].format, path, &sets[0].check).unwrap();
    scene.send(Msg::Contents { set, name, result: Ok(Arc::new(contents)) });
    let screen = scene.screen(120, 40);
    assert!(screen.contains("tables"), "{screen}");
    assert!(screen.contains("users") && screen.contains("4 rows"), "{screen}");
    // The list keeps the keys: down moves the selection, not the pane.
    scene.act(Action::Down);
    assert!(scene.screen(120, 40).contains("enter: look inside"));
}

#[test]
fn compare_shows_the_differences_in_the_pane() {
    let mut scene = scene("no-color", false);
    scene.list();
    scene.act(Action::Down);
    let effects = scene.command(Command::Compare);
    let [Effect::Compare { set, name, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    let comparison = firstwatch::backup::compare::Comparison {
        tables: vec![firstwatch::backup::compare::TableDiff {
            name: "users".into(),
            backup_rows: Some(4),
            target_rows: Some(9),
        }],
        ..Default::default()
    };
    let (set, name) = (set.clone(), name.clone());
    scene.send(Msg::Compared { set, name, result: Ok(Arc::new(comparison)) });
    let screen = scene.screen(80, 24);
    assert!(screen.contains("against the target now: 1 of 1 tables differ in rows"), "{screen}");
    assert!(screen.contains("≠ users"), "a difference is marked without colour: {screen}");
}

#[test]
fn an_overdue_set_is_named_in_the_status_line_of_every_tab() {
    let mut scene = scene("no-color", false);
    scene.act(Action::SelectTab(TabId::Health));
    scene.list();
    let alert = scene.model.status.backups.clone().expect("app db missed last night's backup");
    assert_eq!(alert.text, "backup app db: 1 missed");
    assert!(!alert.critical, "one missed backup is a warning");
    let screen = scene.screen(120, 40);
    assert!(screen.lines().last().unwrap_or_default().contains("backup app db: 1 missed"), "{screen}");
}

#[test]
fn an_overlay_restore_dialog_names_the_mode_and_lists_what_is_set_aside() {
    let mut scene = scene("default-dark", false);
    scene.list();
    scene.act(Action::Down);
    let effects = scene.command(Command::Restore);
    let [Effect::PlanRestore { entry, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    let name = entry.name.clone();
    // A tar.gz set restoring over a folder that also holds its logs.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("app");
    std::fs::create_dir_all(target.join("logs")).unwrap();
    std::fs::write(target.join("app.conf"), "old").unwrap();
    std::fs::write(target.join("logs/app.log"), "log").unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let archive = files::tar_of(&[("app.conf", b"new"), ("extra.conf", b"x")]);
    std::fs::write(dir.path().join("backups/backup_20261128.tar.gz"), files::gzip(&archive)).unwrap();
    let mut set =
        BackupSet::simple("app", dir.path().join("backups"), "backup_%Y%m%d.tar.gz", config::BackupFormat::TarGz)
            .unwrap();
    set.restore_to = Some(target.clone());
    set.restore_mode = config::RestoreMode::Overlay;
    let backup = firstwatch::backup::listing::list(&set, noon()).backups.remove(0);
    let mut plan = firstwatch::backup::restore::plan(&set, &backup, None, noon()).unwrap();
    firstwatch::backup::restore::preview_overlay(&mut plan);
    scene.send(Msg::Planned { set: "app db".into(), name, result: Ok(Arc::new(plan)) });
    let screen = scene.screen(120, 40);
    assert!(screen.contains("overlays") && screen.contains("mode     overlay"), "{screen}");
    assert!(screen.contains("sets aside 1 replaced under"), "{screen}");
    assert!(screen.contains("  app.conf"), "{screen}");
    assert!(!screen.contains("app.log"), "what the backup lacks is not listed: {screen}");
}

#[test]
fn corrupt_backups_found_by_verification_are_counted_in_the_status_line() {
    let mut scene = scene("no-color", false);
    let store_dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(store_dir.path()).unwrap();
    let sets = BackupSet::all(&scene.config);
    let listed = survey(&sets, None, noon());
    // What `V` leaves in the store: the two newest backups failed.
    for name in ["app_db_20261128_030000.db.gz", "app_db_20261127_030000.db.gz"] {
        let entry = &listed[0].find(name).unwrap().entry;
        let failed: Result<firstwatch::backup::verify::Report, _> =
            Err(firstwatch::backup::verify::Failure::Corrupt("the gzip data ends early (truncated?)".into()));
        let verification = Verification::of(entry, &failed, noon(), 3);
        firstwatch::backup::records::save(&store, "app db", name, verification).unwrap();
    }
    scene.send(Msg::Listed(Arc::new(survey(&sets, Some(&store), noon()))));
    let alert = scene.model.status.backups.clone().expect("a corrupt newest backup is a signal");
    assert_eq!(
        alert.text, "backup app db: 2 corrupt · 3 missed",
        "both corrupt ones count, and the age of the last good one"
    );
    assert!(alert.critical, "a corrupt newest backup is critical");
    let screen = scene.screen(120, 40);
    assert!(screen.contains("✗ app db (sqlite-gz) last backup 3d09h ago, unverified"), "{screen}");
    assert!(screen.contains("· 2 corrupt"), "the header counts them too:\n{screen}");
}

#[test]
fn keys_typed_before_the_restore_dialog_was_drawn_are_not_an_answer() {
    let mut scene = scene("default-dark", false);
    scene.list();
    scene.act(Action::Down);
    let effects = scene.command(Command::Restore);
    let [Effect::PlanRestore { entry, .. }] = effects.as_slice() else { panic!("{effects:?}") };
    let sets = BackupSet::all(&scene.config);
    let plan = firstwatch::backup::restore::plan(&sets[0], entry, None, noon()).unwrap();
    let name = entry.name.clone();
    scene.send(Msg::Planned { set: "app db".into(), name, result: Ok(Arc::new(plan)) });
    // Typed ahead over a slow link, before any frame showed the dialog.
    scene.type_text("app db");
    assert!(scene.key(KeyCode::Enter, KeyModifiers::NONE).is_empty(), "type-ahead must not confirm");
    let screen = scene.screen(80, 24);
    assert!(!screen.contains("app db█") && screen.contains("type the set name to confirm"), "{screen}");
    // Once it has been seen, fast typing is all kept.
    scene.type_text("app db");
    let run = scene.key(KeyCode::Enter, KeyModifiers::NONE);
    assert!(matches!(run.as_slice(), [Effect::Restore { .. }]), "{run:?}");
}

#[test]
fn a_new_backup_waits_for_a_y_typed_after_the_question_was_drawn() {
    let mut scene = scene("no-color", false);
    scene.list();
    assert!(scene.command(Command::Create).is_empty(), "b alone makes nothing");
    assert!(scene.model.tab_captures_keys());
    // A `y` typed ahead, before the question was on screen, is not the answer.
    assert!(scene.key(KeyCode::Char('y'), KeyModifiers::NONE).is_empty(), "type-ahead must not confirm");
    let screen = scene.screen(80, 24);
    assert!(screen.contains("back up app db now? y = yes"), "{screen}");
    // Seen, any other key declines.
    assert!(scene.key(KeyCode::Char('n'), KeyModifiers::NONE).is_empty());
    assert!(!scene.model.tab_captures_keys());
    assert!(scene.screen(80, 24).contains("not backed up: app db"));
    // Seen, `y` confirms it.
    scene.command(Command::Create);
    scene.screen(80, 24);
    let made = scene.key(KeyCode::Char('y'), KeyModifiers::NONE);
    let [Effect::Create { confirmed }] = made.as_slice() else { panic!("{made:?}") };
    assert_eq!(confirmed.what().set, "app db");
    assert!(!confirmed.dry_run());
}

#[test]
fn read_only_asks_nothing_and_makes_no_backup() {
    let mut scene = scene("no-color", true);
    scene.list();
    assert!(scene.command(Command::Create).is_empty());
    assert!(!scene.model.tab_captures_keys(), "no question in a read-only session");
    assert!(scene.screen(80, 24).contains("read-only: creating backups is disabled"));
}
