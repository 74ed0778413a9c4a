//! Backups as signals, through the real binary: `[[check]] backup = "SET"` in
//! `firstwatch check`, and the Nagios exit codes of `backups list` and `backups
//! verify`, over real gzip, tar and SQLite files that are fresh, overdue, empty,
//! truncated or corrupt, and folder backups held to their manifest.

#[path = "support/backups.rs"]
mod files;

use chrono::{Duration, Utc};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

/// The name of a daily database backup made `ago` before now.
fn db_name(ago: Duration) -> String {
    (Utc::now() - ago).format("app_db_%Y%m%d_%H%M%S.db.gz").to_string()
}

impl Env {
    /// A daily `sqlite-gz` set ("app db") with `extra` config appended, and a check on it.
    fn new(set_keys: &str, check_keys: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("backups")).unwrap();
        let config = dir.path().join("firstwatch.toml");
        let text = format!(
            r#"[settings]
data_dir = "state"

[[backup]]
name = "app db"
dir = "backups"
pattern = "app_db_%Y%m%d_%H%M%S.db.gz"
format = "sqlite-gz"
every = "1d"
{set_keys}

[[check]]
name = "nightly backup"
backup = "app db"
{check_keys}
"#
        );
        std::fs::write(&config, text).unwrap();
        Env { dir, config }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// A good gzipped database backup made `ago` before now; its name.
    fn good_backup(&self, ago: Duration) -> String {
        let name = db_name(ago);
        files::write_db_gz(&self.path("backups").join(&name), 5);
        name
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `check --json` of the one check: (exit code, status, message).
fn check(env: &Env) -> (Option<i32>, String, String) {
    let output = env.run(&["check", "--json"]);
    let rows: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", text(&output)));
    let row = &rows[0];
    assert_eq!(row["kind"], "backup", "{row}");
    (output.status.code(), row["status"].as_str().unwrap().into(), row["message"].as_str().unwrap().into())
}

#[test]
fn a_fresh_good_backup_is_ok_everywhere_and_the_message_names_it() {
    let env = Env::new("", "");
    let name = env.good_backup(Duration::hours(2));
    let (code, status, message) = check(&env);
    assert_eq!((code, status.as_str()), (Some(0), "ok"), "{message}");
    assert!(message.contains(&format!("newest {name} 2h")), "the newest file and its age: {message}");
    assert!(message.contains("never verified"), "the last verification: {message}");
    assert_eq!(env.run(&["backups", "list"]).status.code(), Some(0));
    let verified = env.run(&["backups", "verify", "--set", "app db"]);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    let (_, _, message) = check(&env);
    assert!(message.contains("last verified <1m ago (newest: ok)"), "stored results reach the check: {message}");
}

#[test]
fn an_overdue_set_warns_then_turns_critical_through_check_list_and_verify() {
    let late = Env::new("", "");
    late.good_backup(Duration::hours(26));
    let (code, status, message) = check(&late);
    assert_eq!((code, status.as_str()), (Some(1), "warning"), "{message}");
    assert!(message.contains("newest good backup is 1d02h old (warning after 1d01h)"), "{message}");
    let listed = late.run(&["backups", "list"]);
    assert_eq!(listed.status.code(), Some(1), "{}", text(&listed));
    assert!(text(&listed).contains("WARNING app db: newest good backup is 1d02h old"), "{}", text(&listed));

    let overdue = Env::new("", "");
    overdue.good_backup(Duration::days(3));
    let (code, status, message) = check(&overdue);
    assert_eq!((code, status.as_str()), (Some(2), "critical"), "{message}");
    assert!(message.contains("3d old (critical after 2d)"), "{message}");
    let listed = overdue.run(&["backups", "list", "--json"]);
    assert_eq!(listed.status.code(), Some(2), "{}", text(&listed));
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("stdout stays one JSON document");
    assert_eq!(rows.as_array().map(Vec::len), Some(1));
    assert!(String::from_utf8_lossy(&listed.stderr).contains("CRITICAL app db"), "{}", text(&listed));
    let verified = overdue.run(&["backups", "verify", "--set", "app db"]);
    assert_eq!(verified.status.code(), Some(2), "a good but old backup is still overdue: {}", text(&verified));
    assert!(text(&verified).contains("✓ ok"), "{}", text(&verified));
}

#[test]
fn the_check_can_set_its_own_limits() {
    let env = Env::new("", "critical_after = \"1d\"\nwarn_after = \"12h\"");
    env.good_backup(Duration::hours(13));
    let (code, _, message) = check(&env);
    assert_eq!(code, Some(1), "{message}");
    assert!(message.contains("warning after 12h, critical after 1d"), "{message}");
    // The set's own verdict (list) keeps the set's cadence.
    assert_eq!(env.run(&["backups", "list"]).status.code(), Some(0));
}

#[test]
fn an_empty_newest_backup_is_critical_and_does_not_count_as_fresh() {
    let env = Env::new("", "");
    let good = env.good_backup(Duration::hours(30));
    let empty = db_name(Duration::hours(1));
    std::fs::write(env.path("backups").join(&empty), b"").unwrap();
    let (code, status, message) = check(&env);
    assert_eq!((code, status.as_str()), (Some(2), "critical"), "{message}");
    assert!(message.contains(&format!("newest backup {empty} is empty (0 bytes)")), "{message}");
    assert!(message.contains(&format!("last good {good} 1d06h old")), "freshness skips the empty one: {message}");
    let listed = env.run(&["backups", "list"]);
    assert_eq!(listed.status.code(), Some(2));
    let out = text(&listed);
    assert!(out.contains("last backup 1d06h ago, unverified · every 1d · 1 missed · newest empty"), "{out}");
    assert!(out.contains("✗ empty"), "the empty backup is not shown as merely unverified: {out}");
    let json = env.run(&["backups", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[0]["flaw"], "empty (0 bytes)");
    assert_eq!(json.status.code(), Some(2));
}

#[test]
fn a_truncated_newest_backup_is_critical_before_anyone_verifies_it() {
    let env = Env::new("", "");
    env.good_backup(Duration::hours(20));
    let cut = env.good_backup(Duration::hours(1));
    let path = env.path("backups").join(&cut);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, message) = check(&env);
    assert_eq!(code, Some(2), "{message}");
    assert!(message.contains(&format!("newest backup {cut} is truncated: the gzip stream ends early")), "{message}");
    let listed = env.run(&["backups", "list"]);
    assert_eq!(listed.status.code(), Some(2), "{}", text(&listed));
    let verified = env.run(&["backups", "verify", &cut]);
    assert_eq!(verified.status.code(), Some(2), "a named corrupt backup: {}", text(&verified));
    assert!(text(&verified).contains("CRITICAL app db: newest backup"), "{}", text(&verified));
}

/// Sets of other formats, each with a newest backup cut short in its own way.
#[test]
fn truncated_sqlite_and_tar_backups_are_caught_by_their_structure() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("db")).unwrap();
    std::fs::create_dir_all(root.join("tar")).unwrap();
    let stamp = (Utc::now() - Duration::hours(1)).format("%Y%m%d_%H%M%S").to_string();
    let db = root.join(format!("db/app_{stamp}.db"));
    files::make_db(&db, 300);
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() - 4096]).unwrap();
    let archive = files::tar_of(&[("etc/app.toml", b"port = 1\n".as_slice()), ("etc/big", &[7u8; 9000])]);
    std::fs::write(root.join(format!("tar/config_{stamp}.tar")), &archive[..2048]).unwrap();
    let config = root.join("firstwatch.toml");
    std::fs::write(
        &config,
        r#"[settings]
data_dir = "state"

[[backup]]
name = "db"
dir = "db"
pattern = "app_%Y%m%d_%H%M%S.db"
format = "sqlite"
every = "1d"

[[backup]]
name = "tar"
dir = "tar"
pattern = "config_%Y%m%d_%H%M%S.tar"
format = "tar"
every = "1d"

[[check]]
name = "db backup"
backup = "db"

[[check]]
name = "tar backup"
backup = "tar"
"#,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["check", "--config"])
        .arg(&config)
        .env("HOME", root)
        .output()
        .unwrap();
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(out.contains("is truncated: ") && out.contains("its header says"), "SQLite page count: {out}");
    assert!(out.contains("does not end with its closing blocks"), "tar end blocks: {out}");
    assert!(out.contains("0 ok, 0 warning, 2 critical"), "{out}");
}

#[test]
fn a_backup_known_corrupt_from_verification_is_critical() {
    let env = Env::new("", "");
    env.good_backup(Duration::hours(20));
    // Good gzip around a damaged database: only verification can tell.
    let mut junk = b"SQLite format 3\0".to_vec();
    junk.extend(std::iter::repeat_n(0x41u8, 8192));
    let bad = db_name(Duration::hours(1));
    std::fs::write(env.path("backups").join(&bad), files::gzip(&junk)).unwrap();
    let (code, _, message) = check(&env);
    assert_eq!(code, Some(0), "unverified and sound on the outside: {message}");
    let verified = env.run(&["backups", "verify", "--set", "app db"]);
    assert_eq!(verified.status.code(), Some(2), "{}", text(&verified));
    let (code, status, message) = check(&env);
    assert_eq!((code, status.as_str()), (Some(2), "critical"), "{message}");
    assert!(message.contains(&format!("newest backup {bad} is corrupt")), "{message}");
    assert!(message.contains("last verified <1m ago"), "{message}");
    let listed = env.run(&["backups", "list"]);
    assert_eq!(listed.status.code(), Some(2));
    assert!(text(&listed).contains("· 1 corrupt"), "{}", text(&listed));
}

#[test]
fn with_require_verified_only_verified_backups_count() {
    let env = Env::new("require_verified = true", "");
    env.good_backup(Duration::hours(2));
    let (code, _, message) = check(&env);
    assert_eq!(code, Some(2), "nothing verified yet: {message}");
    assert!(message.contains("no good backup") && message.contains("only verified backups count"), "{message}");
    assert_eq!(env.run(&["backups", "verify", "latest"]).status.code(), Some(3), "latest means the newest good one");
    assert_eq!(env.run(&["backups", "verify", "--set", "app db"]).status.code(), Some(0));
    let (code, _, message) = check(&env);
    assert_eq!(code, Some(0), "{message}");
}

#[test]
fn an_unreadable_set_folder_is_unknown() {
    let env = Env::new("", "");
    std::fs::remove_dir(env.path("backups")).unwrap();
    let (code, status, message) = check(&env);
    assert_eq!((code, status.as_str()), (Some(3), "unknown"), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    let listed = env.run(&["backups", "list"]);
    assert_eq!(listed.status.code(), Some(3), "{}", text(&listed));
    assert_eq!(env.run(&["backups", "list", "no such set"]).status.code(), Some(3));
}

#[test]
fn a_check_on_a_set_that_does_not_exist_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(
        &config,
        "[[check]]\nname = \"b\"\nbackup = \"nope\"\nwarn_after = \"2d\"\ncritical_after = \"1d\"\n",
    )
    .unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_firstwatch")).args(["check", "--config"]).arg(&config).output().unwrap();
    let out = text(&output);
    assert_eq!(output.status.code(), Some(2), "{out}");
    assert!(out.contains("3:10") && out.contains("check `b`: no backup set named `nope`"), "{out}");
    assert!(out.contains("warn_after (2d) must be shorter than critical_after (1d)"), "{out}");
}

/// A weekly folder set whose folders carry a manifest.
struct Folders {
    env: Env,
    folder: PathBuf,
}

fn folders() -> Folders {
    let dir = tempfile::tempdir().unwrap();
    let day = (Utc::now() - Duration::hours(3)).format("%Y%m%d").to_string();
    let folder = dir.path().join("backups").join(&day);
    std::fs::create_dir_all(folder.join("config")).unwrap();
    std::fs::write(folder.join("config/app.toml"), b"port = 8080\n").unwrap();
    std::fs::write(folder.join("orders.csv"), b"id,amount\n1,10\n").unwrap();
    // A checksum that is not the file's: verification must notice.
    let manifest = "# size sha256 path\n\
        12 3c2f4a2c1d7e79d6b0e3a8d8a0b7ca1b4a41ea7c1bf3b3a9f0c5b8f4f5d0fb0e config/app.toml\n\
        15 - orders.csv\n";
    std::fs::write(folder.join("MANIFEST"), manifest).unwrap();
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(
        &config,
        r#"[settings]
data_dir = "state"

[[backup]]
name = "weekly"
dir = "backups"
pattern = "%Y%m%d/"
format = "dir"
every = "7d"
manifest = "MANIFEST"

[[check]]
name = "weekly backup"
backup = "weekly"
"#,
    )
    .unwrap();
    Folders { env: Env { dir, config }, folder }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Folders {
    /// Rewrites the manifest with the true checksum of config/app.toml.
    fn true_manifest(&self) {
        let sum = sha256_hex(b"port = 8080\n");
        std::fs::write(self.folder.join("MANIFEST"), format!("12 {sum} config/app.toml\n15 - orders.csv\n")).unwrap();
    }

    fn verify(&self) -> Output {
        self.env.run(&["backups", "verify", "--set", "weekly"])
    }
}

#[test]
fn a_folder_backup_verifies_against_every_file_its_manifest_lists() {
    let set = folders();
    let wrong_sum = set.verify();
    assert_eq!(wrong_sum.status.code(), Some(2), "{}", text(&wrong_sum));
    assert!(
        text(&wrong_sum).contains("`config/app.toml` does not match its SHA-256 in the manifest"),
        "{}",
        text(&wrong_sum)
    );

    set.true_manifest();
    let good = set.verify();
    assert_eq!(good.status.code(), Some(0), "{}", text(&good));
    assert!(text(&good).contains("manifest ok (2 listed)"), "{}", text(&good));
}

#[test]
fn a_folder_backup_with_a_missing_or_empty_listed_file_fails() {
    let set = folders();
    set.true_manifest();
    std::fs::write(set.folder.join("orders.csv"), b"").unwrap();
    let (code, _, message) = check(&set.env);
    assert_eq!(code, Some(2), "the quick look sees it before verification: {message}");
    assert!(message.contains("is incomplete: `orders.csv` is empty (the manifest says 15 bytes)"), "{message}");
    let empty = set.verify();
    assert_eq!(empty.status.code(), Some(2), "{}", text(&empty));
    assert!(text(&empty).contains("`orders.csv` is empty"), "{}", text(&empty));

    std::fs::remove_file(set.folder.join("orders.csv")).unwrap();
    let missing = set.verify();
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("`orders.csv` is missing"), "{}", text(&missing));

    std::fs::remove_file(set.folder.join("MANIFEST")).unwrap();
    let no_manifest = set.verify();
    assert_eq!(no_manifest.status.code(), Some(2));
    assert!(text(&no_manifest).contains("the manifest `MANIFEST` is missing"), "{}", text(&no_manifest));
}

#[test]
fn a_manifest_on_a_set_that_is_not_a_folder_is_a_config_error() {
    let env = Env::new("manifest = \"MANIFEST\"", "");
    let output = env.run(&["backups", "list"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("`manifest` is for folder sets"), "{}", text(&output));
}

/// The health tab's engine runs the same check: through the prober, as the tab does.
#[tokio::test]
async fn the_prober_runs_a_backup_check_like_the_command_line() {
    let env = Env::new("", "");
    env.good_backup(Duration::days(3));
    let config = firstwatch::config::load(&env.config).unwrap();
    let (specs, problems) = firstwatch::health::CheckSpec::build_all(&config);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(specs[0].target_text(), "app db");
    let outcome = firstwatch::health::Prober::new().run(&specs[0]).await;
    assert_eq!(outcome.level, firstwatch::health::Level::Critical, "{}", outcome.message);
    assert!(outcome.message.contains("critical after 2d"), "{}", outcome.message);
}
