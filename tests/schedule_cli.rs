//! `firstwatch schedule` through the real binary, with a temp config and store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(config: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("firstwatch.toml"), format!("[settings]\ndata_dir = \"data\"\n{config}"))
            .unwrap();
        Env { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("firstwatch.toml")
    }

    fn run(&self, args: &[&str]) -> Output {
        let config = self.config();
        let mut full = vec!["--config", config.to_str().unwrap()];
        full.extend_from_slice(args);
        firstwatch(&full, self.dir.path())
    }
}

fn firstwatch(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_DATA_HOME", home)
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const TASKS: &str = r#"
[[task]]
name = "database backup"
cron = "0 3 * * *"
duration = "4m"
run = ["sh", "-c", "echo dumping; echo disk full >&2; exit 4"]

[[task]]
name = "morning check"
cron = "0 9 * * 1-5"
tz = "Europe/Berlin"

[[window]]
name = "weekly maintenance"
cron = "0 3 * * 0"
duration = "2h"
"#;

#[test]
fn next_evaluates_an_expression_without_any_config() {
    let home = tempfile::tempdir().unwrap();
    let output =
        firstwatch(&["schedule", "next", "0 0 */7 * 1", "--from", "2026-01-01T00:00:00Z", "--count", "3"], home.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "2026-06-01T00:00:00+00:00\n2026-06-08T00:00:00+00:00\n2026-06-15T00:00:00+00:00\n"
    );
}

#[test]
fn next_follows_dst_in_the_given_zone_as_json() {
    let home = tempfile::tempdir().unwrap();
    let args = ["schedule", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--from", "2026-03-28T12:00:00Z"];
    let output = firstwatch(&[&args[..], &["--count", "2", "--json"]].concat(), home.path());
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["expression"], "30 2 * * *");
    assert_eq!(json["runs"], serde_json::json!(["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]));
}

#[test]
fn invalid_expressions_exit_2_pointing_at_the_field() {
    let home = tempfile::tempdir().unwrap();
    for (expr, needle) in [
        ("*/0 * * * *", "minute field: step of zero"),
        ("61 * * * *", "minute field: `61` is outside 0-59"),
        ("0 0 32 * *", "day-of-month field: `32` is outside 1-31"),
        ("0 0 31 2 *", "never matches"),
        ("0 0 * *", "expected 5 fields"),
    ] {
        let output = firstwatch(&["schedule", "next", expr], home.path());
        assert_eq!(output.status.code(), Some(2), "{expr}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(needle), "{expr}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let output = firstwatch(&["schedule", "next", "* * * * *", "--tz", "Mars/Base"], home.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown time zone `Mars/Base`"));
    let output = firstwatch(&["schedule", "next", "* * * * *", "--from", "yesterday"], home.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not an RFC 3339 time"));
}

#[test]
fn the_agenda_lists_runs_in_order_with_windows() {
    let env = Env::new(TASKS);
    // Sunday 29 November 2026, 02:00 UTC, for 30 hours.
    let output = env.run(&["schedule", "--from", "2026-11-29T02:00:00Z", "--hours", "30", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs: Vec<(String, String)> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| (run["at"].as_str().unwrap().to_string(), run["task"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        runs,
        [
            ("2026-11-29T03:00:00+00:00".to_string(), "database backup".to_string()),
            ("2026-11-30T03:00:00+00:00".to_string(), "database backup".to_string()),
            ("2026-11-30T08:00:00+00:00".to_string(), "morning check".to_string()),
        ]
    );
    assert_eq!(json["runs"][0]["in_window"], "weekly maintenance");
    assert_eq!(json["windows"][0]["next_start"], "2026-11-29T03:00:00+00:00");
    let table = env.run(&["schedule", "--from", "2026-11-29T02:00:00Z", "--hours", "30"]);
    let stdout = text(&table.stdout);
    assert!(stdout.contains("(09:00 Europe/Berlin)"), "the task's own zone is shown: {stdout}");
    assert!(stdout.contains("[in window weekly maintenance]"), "{stdout}");
}

#[test]
fn run_executes_the_task_and_records_its_outcome() {
    let env = Env::new(TASKS);
    let output = env.run(&["schedule", "run", "database backup"]);
    assert_eq!(output.status.code(), Some(4), "the task's own exit code: {}", text(&output.stderr));
    assert!(text(&output.stdout).contains("dumping"), "output passes through");
    let history = env.run(&["schedule", "history", "database backup", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs[0]["exit_code"], 4);
    assert_eq!(runs[0]["how"], "run");
    assert!(runs[0]["output_tail"].as_str().unwrap().contains("disk full"));
    // Now the agenda flags it and exits 1.
    let agenda = env.run(&["schedule"]);
    assert_eq!(agenda.status.code(), Some(1));
    assert!(text(&agenda.stdout).contains("✗ failed (4) database backup"), "{}", text(&agenda.stdout));
    // Read-only sessions may not run anything.
    let refused = env.run(&["--read-only", "schedule", "run", "database backup"]);
    assert_eq!(refused.status.code(), Some(3));
    let unknown = env.run(&["schedule", "run", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("no task `nope`"));
    let no_run = env.run(&["schedule", "run", "morning check"]);
    assert_eq!(no_run.status.code(), Some(3));
}

#[test]
fn wrap_and_record_store_runs_made_outside_the_console() {
    let env = Env::new(TASKS);
    let wrapped = env.run(&["schedule", "wrap", "morning check", "--", "sh", "-c", "echo fine"]);
    assert_eq!(wrapped.status.code(), Some(0), "{}", text(&wrapped.stderr));
    assert_eq!(text(&wrapped.stdout), "fine\n");
    let missing = env.run(&["schedule", "wrap", "morning check", "--", "/nonexistent/tool"]);
    assert_eq!(missing.status.code(), Some(127));
    let recorded = env.run(&[
        "schedule",
        "record",
        "database backup",
        "--exit",
        "0",
        "--duration",
        "3m30s",
        "--started",
        "2026-11-28T03:00:05Z",
    ]);
    assert_eq!(recorded.status.code(), Some(0), "{}", text(&recorded.stderr));
    let history = env.run(&["schedule", "history", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    let backup = runs.iter().find(|r| r["task"] == "database backup").unwrap();
    assert_eq!(backup["started"], "2026-11-28T03:00:05Z");
    assert_eq!(backup["ended"], "2026-11-28T03:03:35Z");
    assert_eq!(backup["how"], "record");
    let bad = env.run(&["schedule", "record", "x", "--exit", "1", "--duration", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
    let empty = env.run(&["schedule", "record", " ", "--exit", "1"]);
    assert_eq!(empty.status.code(), Some(2));
}

#[test]
fn config_errors_point_at_the_bad_field() {
    let fixture = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedule/invalid").join(name);
    let home = tempfile::tempdir().unwrap();
    for (name, position, message) in [
        ("bad_cron.toml", "3:13", "day-of-month field: `32` is outside 1-31"),
        ("bad_task_zone.toml", "4:6", "unknown time zone `Europe/Atlantis`"),
        ("window_at_reboot.toml", "3:8", "needs a start time; @reboot has none"),
        ("empty_run.toml", "3:9", "minute field: step of zero"),
        ("empty_run.toml", "4:7", "`run` needs a program"),
    ] {
        let path = fixture(name);
        let output = firstwatch(&["config", "check", "--config", path.to_str().unwrap()], home.path());
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(&format!("{}:{position}: ", path.display())), "{name}: {position} in\n{stderr}");
        assert!(stderr.contains(message), "{name}: {message} in\n{stderr}");
    }
}

#[test]
fn host_import_degrades_to_notes() {
    let env = Env::new(TASKS);
    let output = env.run(&["schedule", "--host", "--json", "--from", "2026-11-29T02:00:00Z"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // Every source that is missing here (no crontab, no systemd) says so instead of failing.
    let notes = json["notes"].as_array().unwrap();
    let tasks = json["tasks"].as_array().unwrap();
    assert!(tasks.len() >= 2, "the config's own tasks are still there");
    assert!(
        !notes.is_empty() || tasks.iter().any(|t| t["source"]["kind"] != "config"),
        "either something was imported or a note says why not: {json}"
    );
}

#[test]
fn a_task_never_overlaps_itself_and_both_runs_are_audited() {
    let env = Env::new("[[task]]\nname = \"backup\"\ncron = \"0 3 * * *\"\nrun = [\"true\"]\n");
    let gate = env.dir.path().join("gate");
    let started = env.dir.path().join("started");
    let script = format!("touch {}; while [ ! -e {} ]; do sleep 0.05; done", started.display(), gate.display());
    let config = env.config();
    let mut first = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["--config", config.to_str().unwrap(), "schedule", "wrap", "backup", "--", "sh", "-c", &script])
        .env("HOME", env.dir.path())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !started.exists() {
        assert!(std::time::Instant::now() < deadline, "the first run never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = env.run(&["schedule", "run", "backup"]);
    assert_eq!(second.status.code(), Some(3), "{}", text(&second.stderr));
    let stderr = text(&second.stderr);
    assert!(stderr.contains("backup is busy") && stderr.contains("schedule wrap backup"), "{stderr}");
    std::fs::write(&gate, "").unwrap();
    assert!(first.wait().unwrap().success());
    let after = env.run(&["schedule", "run", "backup"]);
    assert!(after.status.success(), "{}", text(&after.stderr));
    let store = firstwatch::store::Store::open(&env.dir.path().join("data/firstwatch.db")).unwrap();
    let events: Vec<String> = store.audit_since(None).unwrap().into_iter().map(|r| r.event).collect();
    assert_eq!(events, ["start", "lock-refused", "end", "start", "end"]);
}

#[test]
fn a_task_runs_in_its_dir_with_its_env_and_a_missing_dir_is_named() {
    let env = Env::new(
        r#"
[[task]]
name = "report"
cron = "0 9 * * 1#1"
dir = "project"
env = { APP_ENV = "production", GREETING = "first monday" }
run = ["sh", "-c", "pwd; echo \"$APP_ENV/$GREETING\"; cat marker.txt"]

[[task]]
name = "lost"
cron = "0 9 * * *"
dir = "gone"
run = ["true"]
"#,
    );
    let project = env.dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("marker.txt"), "found the project file\n").unwrap();
    let output = env.run(&["schedule", "run", "report"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    // The dir is relative to the config file, not to where firstwatch was started.
    assert_eq!(Path::new(lines[0]).canonicalize().unwrap(), project.canonicalize().unwrap(), "{stdout}");
    assert_eq!(lines[1], "production/first monday");
    assert_eq!(lines[2], "found the project file");
    // The rest of the environment is still there.
    let home = env.run(&["schedule", "wrap", "home", "--", "sh", "-c", "echo $HOME"]);
    assert_eq!(text(&home.stdout).trim(), env.dir.path().to_str().unwrap());

    let lost = env.run(&["schedule", "run", "lost"]);
    let stderr = text(&lost.stderr);
    assert_eq!(lost.status.code(), Some(127), "{stderr}");
    assert!(
        stderr.contains("working folder") && stderr.contains("gone") && stderr.contains("does not exist"),
        "{stderr}"
    );
    // The failed start is recorded like any failed run.
    let history = env.run(&["schedule", "history", "lost", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs[0]["exit_code"], 127);
}

#[test]
fn dir_and_env_without_run_are_config_errors() {
    let env = Env::new(
        r#"
[[task]]
name = "nothing to run"
cron = "0 9 * * *"
dir = "somewhere"
env = { "" = "x" }
"#,
    );
    let output = env.run(&["schedule"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`dir` is where `run` starts, but the task has no `run`"), "{stderr}");
    assert!(stderr.contains("`env` is for `run`"), "{stderr}");
    assert!(stderr.contains("cannot be an environment variable name"), "{stderr}");
}

/// The calendar's run-now hands the task to a supervisor: it shows in `ops list`
/// for every operator, writes its run history and audit rows, and its output
/// lands in the operation's file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendars_run_now_is_an_operation_under_a_supervisor() {
    use firstwatch::tui::Action;
    use firstwatch::tui::tabs::TabMsg;
    use firstwatch::tui::tabs::calendar::{Effect, Msg};
    let env = Env::new(TASKS);
    firstwatch::ops::set_supervisor_program(env!("CARGO_BIN_EXE_firstwatch").into());
    let config = firstwatch::config::load(&env.config()).unwrap();
    let (mut services, mut reports) = firstwatch::tui::tabs::Services::detached();
    services.store = Some(firstwatch::store::Store::open_in(&env.dir.path().join("data")).unwrap());
    services.config = std::sync::Arc::new(config);
    let task = firstwatch::ops::confirm::TaskRun { task: "database backup".into() };
    let confirmed = firstwatch::ops::confirm::check(&task, "y", false).unwrap();
    firstwatch::tui::tabs::calendar::execute(Effect::RunTask(confirmed), &services);
    let (task, exit_code, store_error) = loop {
        let report = tokio::time::timeout(std::time::Duration::from_secs(30), reports.recv()).await.unwrap().unwrap();
        if let Action::Msg(TabMsg::Calendar(Msg::RunFinished { task, exit_code, store_error })) = report {
            break (task, exit_code, store_error);
        }
    };
    assert_eq!((task.as_str(), exit_code, store_error), ("database backup", 4, None));
    let listed = env.run(&["ops", "list", "--json"]);
    let operations: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(operations.len(), 1, "{operations:?}");
    assert_eq!(operations[0]["kind"], "task");
    assert_eq!(operations[0]["state"], "failed");
    let followed = env.run(&["ops", "follow", &operations[0]["id"].to_string()]);
    assert!(text(&followed.stdout).contains("dumping"), "{}", text(&followed.stdout));
    let history = env.run(&["schedule", "history", "database backup", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(runs[0]["exit_code"], 4);
    let audit = env.run(&["audit", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&audit.stdout).unwrap();
    let events: Vec<&str> = rows.iter().filter_map(|r| r["event"].as_str()).collect();
    assert_eq!(events, ["start", "end"], "{rows:?}");
}
