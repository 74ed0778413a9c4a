//! `firstwatch backups` through the real binary with a temp config: listing,
//! verification exit codes, confirmation rules for restore, and config errors.

#[path = "support/backups.rs"]
mod files;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    /// Two good daily backups and one truncated, a database to restore over, and a store.
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("backups")).unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        files::make_db(&root.join("data/app.db"), 3);
        files::write_db_gz(&root.join("backups/app_db_20261126_030000.db.gz"), 10);
        files::write_db_gz(&root.join("backups/app_db_20261128_030000.db.gz"), 20);
        let bad = root.join("backups/app_db_20261127_030000.db.gz");
        files::write_db_gz(&bad, 15);
        let bytes = std::fs::read(&bad).unwrap();
        std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
        let config = root.join("firstwatch.toml");
        std::fs::write(
            &config,
            r#"[settings]
data_dir = "state"

[[backup]]
name = "app db"
dir = "backups"
pattern = "app_db_%Y%m%d_%H%M%S.db.gz"
format = "sqlite-gz"
restore_to = "data/app.db"
source = "data/app.db"
keep_last = 2
count = ["users", "deals"]
"#,
        )
        .unwrap();
        Env { dir, config }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn run(&self, args: &[&str]) -> Output {
        run_with(&self.config, args, self.dir.path())
    }

    /// `(kind, name, state)` of every operation `ops list` shows.
    fn operations(&self) -> Vec<(String, String, String)> {
        let listed = self.run(&["ops", "list", "--json"]);
        assert!(listed.status.success(), "{}", text(&listed));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
        let field = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or_default().to_string();
        rows.iter().map(|row| (field(row, "kind"), field(row, "name"), field(row, "state"))).collect()
    }

    fn audit_events(&self) -> Vec<String> {
        let store = firstwatch::store::Store::open_in(&self.path("state")).unwrap();
        store.audit_since(None).unwrap().into_iter().map(|r| r.event).collect()
    }
}

fn run_with(config: &Path, args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn list_as_json_carries_the_documented_fields() {
    let env = Env::new();
    let output = env.run(&["backups", "list", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for key in ["id", "set", "path", "created", "size_bytes", "status", "detail", "prune"] {
        assert!(rows[0].get(key).is_some(), "missing {key} in {}", rows[0]);
    }
    assert_eq!(rows[0]["id"], "app_db_20261128_030000.db.gz", "newest first");
    assert_eq!(rows[0]["status"], "unverified");
    assert_eq!(rows[2]["prune"], true, "keep_last = 2 prunes the third");
}

#[test]
fn verify_exits_with_the_verdict_of_the_sets_it_touched() {
    let env = Env::new();
    let all = env.run(&["backups", "verify", "--all"]);
    assert_eq!(all.status.code(), Some(1), "an older corrupt backup is a warning: {}", text(&all));
    assert!(text(&all).contains("WARNING app db: 1 older backup is corrupt"), "{}", text(&all));
    assert!(text(&all).contains("CORRUPT") && text(&all).contains("ends early"), "{}", text(&all));
    assert!(text(&all).contains("users 20"), "row counts are reported: {}", text(&all));

    let good = env.run(&["backups", "verify", "app_db_20261128_030000.db.gz", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&good.stdout).unwrap();
    assert_eq!(rows[0]["status"], "ok");
    assert_eq!(good.status.code(), Some(1), "the set still holds the corrupt one it found: {}", text(&good));
    assert!(String::from_utf8_lossy(&good.stderr).contains("WARNING app db"), "with --json the reason goes to stderr");

    let listed = env.run(&["backups", "list"]);
    assert!(text(&listed).contains("✗ corrupt"), "results are remembered: {}", text(&listed));

    let unknown = env.run(&["backups", "verify", "no_such_backup.gz"]);
    assert_eq!(unknown.status.code(), Some(3), "nothing could be judged: {}", text(&unknown));
    let no_args = env.run(&["backups", "verify"]);
    assert_eq!(no_args.status.code(), Some(3), "{}", text(&no_args));
}

#[test]
fn show_lists_the_tables_of_a_backup() {
    let env = Env::new();
    let output = env.run(&["backups", "show", "latest"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("users") && text(&output).contains("20 rows"), "{}", text(&output));
    let broken = env.run(&["backups", "browse", "app_db_20261127_030000.db.gz"]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    assert!(text(&broken).contains("ends early"));
}

#[test]
fn restore_needs_a_confirmation_and_is_audited() {
    let env = Env::new();
    let target = env.path("data/app.db");
    let before = std::fs::read(&target).unwrap();

    let unconfirmed = env.run(&["backups", "restore", "latest"]);
    assert_eq!(unconfirmed.status.code(), Some(1), "{}", text(&unconfirmed));
    assert!(text(&unconfirmed).contains("--confirm"), "{}", text(&unconfirmed));
    let wrong = env.run(&["backups", "restore", "latest", "--confirm", "app"]);
    assert_eq!(wrong.status.code(), Some(1));
    let read_only = env.run(&["--read-only", "backups", "restore", "latest", "--yes"]);
    assert_eq!(read_only.status.code(), Some(1));
    assert!(text(&read_only).contains("read-only"));
    let corrupt = env.run(&["backups", "restore", "app_db_20261127_030000.db.gz", "--confirm", "app db"]);
    assert_eq!(corrupt.status.code(), Some(1), "{}", text(&corrupt));
    assert!(text(&corrupt).contains("--force"));
    assert_eq!(std::fs::read(&target).unwrap(), before, "nothing was restored so far");

    let dry = env.run(&["backups", "restore", "latest", "--dry-run"]);
    assert!(dry.status.success() && text(&dry).contains("replaces"), "{}", text(&dry));

    let done = env.run(&["backups", "restore", "latest", "--confirm", "app db"]);
    assert!(done.status.success(), "{}", text(&done));
    assert_eq!(files::rows(&target, "users"), 20);
    assert!(text(&done).contains("previous target kept at"), "{}", text(&done));

    let events = env.audit_events();
    assert_eq!(
        events,
        ["restore-refused", "restore-refused", "restore-refused", "restore-refused", "restore-start", "restore-done"]
    );
}

#[test]
fn backup_config_errors_point_at_line_and_column() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid");
    let cases = [
        ("backup_unknown_format.toml", "5:10", "unknown variant `zip`"),
        ("backup_bad_pattern.toml", "4:11", "`%q` is not a supported date field"),
        ("backup_count_not_sqlite.toml", "6:10", "`count` lists SQLite tables"),
        ("backup_dir_pattern.toml", "4:11", "does not end in `/`"),
        ("backup_source_on_archive.toml", "6:10", "`source` is for sqlite"),
        ("backup_max_ratio_zero.toml", "6:13", "max_ratio = 0 would refuse every compressed backup"),
        ("backup_preserve_on_file.toml", "2:8", "preserve_permissions is for tar, tar-gz and dir sets"),
        ("backup_unknown_safety_key.toml", "6:1", "unknown field `preserve_permission`"),
    ];
    let home = tempfile::tempdir().unwrap();
    for (name, position, message) in cases {
        let path = fixtures.join(name);
        let output = run_with(&path, &["backups", "list"], home.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{}:{position}: ", path.display())), "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
    }
}

#[test]
fn prune_removes_what_retention_marks_after_confirmation() {
    let env = Env::new();
    let oldest = env.path("backups/app_db_20261126_030000.db.gz");
    let dry = env.run(&["backups", "prune", "app db", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(text(&dry).contains("app_db_20261126_030000.db.gz") && oldest.exists(), "{}", text(&dry));
    let unconfirmed = env.run(&["backups", "prune", "app db"]);
    assert_eq!(unconfirmed.status.code(), Some(1), "{}", text(&unconfirmed));
    assert!(oldest.exists());
    let done = env.run(&["backups", "prune", "app db", "--confirm", "app db"]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(!oldest.exists(), "keep_last = 2 removes the third newest");
    assert!(env.path("backups/app_db_20261128_030000.db.gz").exists());
    assert_eq!(env.audit_events(), ["prune-refused", "prune-start", "prune-done"]);
    // It ran as an operation under a supervisor, as restores and actions do.
    assert_eq!(env.operations(), [("prune".into(), "prune app db".into(), "ok".into())]);
    assert!(text(&done).contains("removed app_db_20261126_030000.db.gz"), "{}", text(&done));
}

#[test]
fn create_makes_a_named_backup_that_verifies() {
    let env = Env::new();
    let made = env.run(&["backups", "create", "app db"]);
    assert!(made.status.success(), "{}", text(&made));
    let listed = env.run(&["backups", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let newest = rows[0]["id"].as_str().unwrap().to_string();
    assert!(newest.starts_with("app_db_") && newest != "app_db_20261128_030000.db.gz", "{newest}");
    let verified = env.run(&["backups", "verify", &newest]);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(text(&verified).contains("users 3"), "the live database's rows: {}", text(&verified));
    let read_only = env.run(&["--read-only", "backups", "create", "app db"]);
    assert_eq!(read_only.status.code(), Some(1));
    assert_eq!(env.audit_events(), ["backup-create-start", "backup-create"]);
    assert_eq!(env.operations(), [("backup-create".into(), "create app db".into(), "ok".into())]);
}

#[test]
fn compare_shows_row_count_differences_with_the_target() {
    let env = Env::new();
    let output = env.run(&["backups", "compare", "latest", "--json"]);
    assert!(output.status.success(), "{}", text(&output));
    let comparison: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let users = comparison["tables"].as_array().unwrap().iter().find(|t| t["name"] == "users").unwrap().clone();
    assert_eq!(users["backup_rows"], 20);
    assert_eq!(users["target_rows"], 3);
    let plain = env.run(&["backups", "compare", "latest"]);
    assert!(text(&plain).contains("tables differ in rows"), "{}", text(&plain));
}

#[test]
fn the_archive_safety_keys_reach_the_set() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"[[backup]]
name = "weekly"
dir = "backups"
pattern = "backup_%Y%m%d.tar.gz"
format = "tar-gz"
max_unpacked = "2GiB"
max_ratio = 400
preserve_permissions = true

[[backup]]
name = "defaults"
dir = "backups"
pattern = "other_%Y%m%d.tar.gz"
format = "tar-gz"
"#;
    let config = firstwatch::config::load_str(text, &dir.path().join("firstwatch.toml")).unwrap();
    let sets = firstwatch::backup::BackupSet::all(&config);
    assert_eq!((sets[0].check.max_unpacked, sets[0].check.max_ratio), (Some(2 << 30), Some(400)));
    assert!(sets[0].preserve_permissions);
    assert_eq!((sets[1].check.max_unpacked, sets[1].check.max_ratio), (None, None));
    assert!(!sets[1].preserve_permissions, "dropping dangerous bits is the default");
}

mod support;

/// `backups ARGS` in a pseudo-terminal, as an operator at a shell runs it.
fn in_terminal(env: &Env, args: &[&str]) -> support::pty::PtySession {
    let config = env.config.to_str().unwrap().to_string();
    let home = env.dir.path().to_str().unwrap().to_string();
    let mut all = vec!["--config", config.as_str(), "backups"];
    all.extend_from_slice(args);
    support::pty::PtySession::spawn(&all, &[("HOME", home.as_str()), ("NO_COLOR", "1")], 100, 30)
}

fn wait_for_text(session: &mut support::pty::PtySession, wanted: &str) {
    let seen = session.wait_for(std::time::Duration::from_secs(15), |s| s.contents().contains(wanted));
    assert!(seen, "waited for {wanted:?}:\n{}", session.contents());
}

/// `app db⏎` typed while the restore was starting must not confirm it: the test holds the
/// store's write lock, so the command waits to open its store until the keys are in (their
/// echo is on screen), then is let go.
#[test]
fn keys_typed_before_the_restore_prompt_opened_do_not_answer_it() {
    let env = Env::new();
    let target = env.path("data/app.db");
    let before = std::fs::read(&target).unwrap();
    let data = env.path("state");
    drop(firstwatch::store::Store::open_in(&data).unwrap());
    let blocker = rusqlite::Connection::open(data.join("firstwatch.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut early = in_terminal(&env, &["restore", "latest"]);
    early.send("app db\r");
    let echoed = early
        .wait_for(std::time::Duration::from_secs(10), |s| s.contents().lines().any(|line| line.trim() == "app db"));
    assert!(echoed, "{}", early.contents());
    assert!(!early.contents().contains("restore set"), "the command went on too soon");
    blocker.execute_batch("COMMIT").unwrap();
    drop(blocker);
    wait_for_text(&mut early, "type the set name `app db` to confirm");
    early.send("\r");
    assert_eq!(early.wait_exit(std::time::Duration::from_secs(10)), Some(1), "{}", early.contents());
    assert!(early.contents().contains("the typed name did not match; nothing was changed"), "{}", early.contents());
    assert_eq!(std::fs::read(&target).unwrap(), before, "the typed-ahead name was thrown away");

    // Typed after the prompt appeared, the same name confirms.
    let mut late = in_terminal(&env, &["restore", "latest"]);
    wait_for_text(&mut late, "type the set name `app db` to confirm");
    late.send("app db\r");
    assert_eq!(late.wait_exit(std::time::Duration::from_secs(20)), Some(0), "{}", late.contents());
    assert_eq!(files::rows(&target, "users"), 20);
    assert_eq!(env.audit_events(), ["restore-cancelled", "restore-start", "restore-done"]);
}

/// A new backup asks `y` on a terminal; scripts pass --yes, or run it without one.
#[test]
fn create_asks_y_on_a_terminal_and_a_script_needs_no_flag() {
    let env = Env::new();
    let count = || {
        let listed = env.run(&["backups", "list", "--json"]);
        serde_json::from_slice::<Vec<serde_json::Value>>(&listed.stdout).unwrap().len()
    };
    assert_eq!(count(), 3);
    let mut declined = in_terminal(&env, &["create", "app db"]);
    wait_for_text(&mut declined, "back up `app db` now? [y/N]");
    declined.send("n\r");
    assert_eq!(declined.wait_exit(std::time::Duration::from_secs(10)), Some(1), "{}", declined.contents());
    assert!(declined.contents().contains("nothing was made"), "{}", declined.contents());
    assert_eq!(count(), 3, "declined: nothing was made");

    let mut accepted = in_terminal(&env, &["create", "app db"]);
    wait_for_text(&mut accepted, "back up `app db` now? [y/N]");
    accepted.send("y\r");
    assert_eq!(accepted.wait_exit(std::time::Duration::from_secs(20)), Some(0), "{}", accepted.contents());
    assert_eq!(count(), 4);

    // Without a terminal, --yes (or the command alone, as cron runs it) confirms it; no
    // question is asked. The backup just made goes first: names have one-second resolution.
    let listed = env.run(&["backups", "list", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    std::fs::remove_file(rows[0]["path"].as_str().unwrap()).unwrap();
    let scripted = env.run(&["backups", "create", "app db", "--yes"]);
    assert!(scripted.status.success(), "{}", text(&scripted));
    assert!(!text(&scripted).contains("[y/N]"), "{}", text(&scripted));
}
