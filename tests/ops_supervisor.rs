//! Operations outlive the terminal that started them: the real binary, real
//! supervisors, real child processes, and signals sent the way SSH, tmux and
//! an impatient operator send them.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::pty::PtySession;

const PATIENCE: Duration = Duration::from_secs(20);

/// A config with one action whose command waits at a gate the test opens.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// The action writes its pid (and a background grandchild's) and waits until `gate`
    /// exists; then it stops its grandchild and ends.
    fn new() -> Fixture {
        Fixture::with_script(
            "sleep 1000 & echo $! > grandchild; echo $$ > child; echo started; \
             while [ ! -e gate ]; do sleep 0.05; done; echo released >&2; echo done > finished; kill $(cat grandchild)",
        )
    }

    fn with_script(script: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[settings]\ndata_dir = \"data\"\n\n[[action]]\nname = \"deploy web\"\nkind = \"redeploy\"\n\
             target = \"web\"\nrun = [\"sh\", \"-c\", {script:?}]\ntimeout = \"60s\"\n"
        );
        std::fs::write(dir.path().join("fw.toml"), config).unwrap();
        Fixture { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self) -> String {
        self.path("fw.toml").display().to_string()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_firstwatch"));
        command.arg("--config").arg(self.config()).args(args).current_dir(self.dir.path());
        command.env("USER", "ana").env_remove("SUDO_USER");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    fn start_action(&self) -> Child {
        self.command(&["action", "run", "deploy web", "--yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn wait_started(&self) {
        wait_until("the action's command to start", || self.path("child").exists());
    }

    fn open_gate(&self) {
        std::fs::write(self.path("gate"), "").unwrap();
    }

    fn pid(&self, name: &str) -> i32 {
        wait_until("a pid file", || std::fs::read_to_string(self.path(name)).is_ok_and(|t| t.ends_with('\n')));
        std::fs::read_to_string(self.path(name)).unwrap().trim().parse().unwrap()
    }

    fn operations(&self) -> Vec<serde_json::Value> {
        let output = self.run(&["ops", "list", "--json"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).unwrap()
    }

    fn wait_done(&self) -> serde_json::Value {
        let mut last = None;
        wait_until("the operation to finish", || {
            let rows = self.operations();
            last = rows.last().cloned();
            last.as_ref().is_some_and(|row| row["done"] == true)
        });
        last.unwrap()
    }

    fn audit_events(&self) -> Vec<String> {
        let store = firstwatch::store::Store::open(&self.path("data").join("firstwatch.db")).unwrap();
        store.audit_since(None).unwrap().into_iter().map(|row| row.event).collect()
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True while a process exists and is not a zombie.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

fn signal(pid: i32, signal: i32) {
    // SAFETY: signalling a process this test started.
    unsafe {
        libc::kill(pid, signal);
    }
}

fn wait_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(Instant::now() < deadline, "the front end did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// While the first front end is gone and its operation runs: a second one is refused, naming the holder.
fn second_run_is_refused(fixture: &Fixture) {
    let second = fixture.run(&["action", "run", "deploy web", "--yes"]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("web is busy") && stderr.contains("deploy web by ana"), "{stderr}");
}

/// The operation finished on its own, with one start and exactly one outcome.
fn completed_once(fixture: &Fixture) {
    fixture.open_gate();
    let row = fixture.wait_done();
    assert_eq!(row["state"], "ok", "{row}");
    assert_eq!(std::fs::read_to_string(fixture.path("finished")).unwrap(), "done\n");
    let events = fixture.audit_events();
    assert_eq!(events.iter().filter(|e| *e == "start").count(), 1, "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "succeeded").count(), 1, "{events:?}");
    assert!(events.contains(&"lock-refused".to_string()), "{events:?}");
    assert!(!events.iter().any(|e| e == "hang-up" || e == "cancelled"), "{events:?}");
}

#[test]
fn an_operation_outlives_a_front_end_killed_outright() {
    let fixture = Fixture::new();
    let mut front = fixture.start_action();
    fixture.wait_started();
    signal(front.id() as i32, libc::SIGKILL);
    assert_eq!(wait_exit(&mut front), None, "SIGKILL leaves no exit code");
    assert!(alive(fixture.pid("child")), "the command must keep running");
    second_run_is_refused(&fixture);
    completed_once(&fixture);
}

#[test]
fn an_operation_outlives_a_hang_up_and_the_front_end_says_how_to_follow_it() {
    let fixture = Fixture::new();
    let mut front = fixture.start_action();
    fixture.wait_started();
    signal(front.id() as i32, libc::SIGHUP);
    assert_eq!(wait_exit(&mut front), Some(5), "detached");
    let mut stderr = String::new();
    std::io::Read::read_to_string(front.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("firstwatch ops follow 1") && stderr.contains("ops cancel 1"), "{stderr}");
    second_run_is_refused(&fixture);
    completed_once(&fixture);
}

#[test]
fn an_operation_outlives_its_terminal_closing() {
    let fixture = Fixture::new();
    let args = ["--config", &fixture.config(), "action", "run", "deploy web", "--yes"];
    let mut session = PtySession::spawn(&args, &[("USER", "ana")], 100, 30);
    assert!(session.wait_for(PATIENCE, |screen| screen.contents().contains("started")), "{}", session.contents());
    session.close_master();
    assert!(session.wait_exit_without_output(PATIENCE).is_some(), "the front end must end with its terminal");
    assert!(alive(fixture.pid("child")), "the command must keep running");
    second_run_is_refused(&fixture);
    completed_once(&fixture);
}

#[test]
fn a_killed_supervisor_takes_its_command_with_it_and_the_next_firstwatch_says_abandoned() {
    let fixture = Fixture::new();
    let mut front = fixture.start_action();
    fixture.wait_started();
    let (child, grandchild) = (fixture.pid("child"), fixture.pid("grandchild"));
    let supervisor = fixture.operations()[0]["pid"].as_i64().unwrap() as i32;
    signal(supervisor, libc::SIGKILL);
    // The front end sees its supervisor gone and reports what the record says.
    assert_eq!(wait_exit(&mut front), Some(1));
    wait_until("the command to die with its supervisor", || !alive(child));

    let rows = fixture.operations();
    assert_eq!(rows[0]["state"], "abandoned", "{rows:?}");
    assert_eq!(rows[0]["done"], true);
    wait_until("the group's leftovers to be stopped", || !alive(grandchild));
    let events = fixture.audit_events();
    assert_eq!(events, ["request", "confirmed", "start", "abandoned"], "one outcome: abandoned");
    // Recovery happens once.
    fixture.operations();
    assert_eq!(fixture.audit_events().iter().filter(|e| *e == "abandoned").count(), 1);
    // And the target is free again.
    let again = fixture.start_action();
    fixture.open_gate();
    let output = again.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn another_terminal_follows_and_cancels_a_running_operation() {
    let fixture = Fixture::new();
    let mut front = fixture.start_action();
    fixture.wait_started();
    signal(front.id() as i32, libc::SIGTERM);
    assert_eq!(wait_exit(&mut front), Some(5));

    // Cancelling needs a confirmation; without one nothing is stopped.
    let refused = fixture.run(&["ops", "cancel", "1"]);
    assert_eq!(refused.status.code(), Some(3), "{}", String::from_utf8_lossy(&refused.stderr));
    let refused = fixture.run(&["ops", "cancel", "1", "--confirm", "2"]);
    assert_eq!(refused.status.code(), Some(3));
    assert_eq!(fixture.operations()[0]["state"], "running");

    let follower =
        fixture.command(&["ops", "follow", "1"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let cancel = fixture.run(&["ops", "cancel", "1", "--confirm", "1"]);
    assert!(cancel.status.success(), "{:?} {}", cancel.status, String::from_utf8_lossy(&cancel.stderr));
    let followed = follower.wait_with_output().unwrap();
    assert!(followed.status.success());
    assert_eq!(String::from_utf8_lossy(&followed.stdout), "started\n", "the output so far, from the start");
    let stderr = String::from_utf8_lossy(&followed.stderr);
    assert!(stderr.contains("operation #1 cancelled"), "{stderr}");

    let row = fixture.wait_done();
    assert_eq!(row["state"], "cancelled");
    assert_eq!(row["exit"], 130);
    wait_until("the whole group to stop", || !alive(fixture.pid("grandchild")));
    let events = fixture.audit_events();
    let tail: Vec<&str> = events.iter().map(String::as_str).skip(3).collect();
    assert_eq!(
        tail,
        [
            "cancel-request",
            "cancel-refused",
            "cancel-request",
            "cancel-refused",
            "cancel-request",
            "cancel-sent",
            "cancelled"
        ]
    );
}

#[test]
fn a_front_end_that_stays_reports_the_operations_own_exit_code() {
    let fixture = Fixture::new();
    let front = fixture.start_action();
    fixture.wait_started();
    fixture.open_gate();
    let output = front.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "started\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("released") && stderr.contains("deploy web: exit 0"), "{stderr}");
    let files: Vec<PathBuf> = std::fs::read_dir(fixture.path("data/ops")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert_private(&files[0], 0o600);
    assert_private(&fixture.path("data/ops"), 0o700);
}

fn assert_private(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, mode, "{}", path.display());
}

#[test]
fn a_supervisor_handed_a_broken_job_refuses_and_runs_nothing() {
    let fixture = Fixture::new();
    let valid_shape_unknown_kind = r#"{"body":{"type":"action","kind":"wipe","spec":{}}}"#;
    for job in ["{not json", "", valid_shape_unknown_kind, &"x".repeat(1 << 20)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .arg("__supervise")
            .current_dir(fixture.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // A supervisor that stops reading early closes the pipe; that is its answer, not ours to fail on.
        let _ = std::io::Write::write_all(&mut stdin, job.as_bytes());
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(3), "{said}");
        assert!(said.starts_with("refused the supervisor could not read its job"), "{said}");
    }
    assert!(!fixture.path("child").exists() && !fixture.path("data").exists(), "nothing ran, nothing was written");
}

#[test]
fn following_or_cancelling_an_operation_that_is_not_there_says_so() {
    let fixture = Fixture::new();
    let follow = fixture.run(&["ops", "follow", "42"]);
    assert_eq!(follow.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&follow.stderr).contains("no operation #42"));
    let cancel = fixture.run(&["ops", "cancel", "42", "--yes"]);
    assert_eq!(cancel.status.code(), Some(1));
    let garbage = fixture.run(&["ops", "cancel", "4;2", "--yes"]);
    assert_eq!(garbage.status.code(), Some(2), "clap refuses a non-numeric id");

    // A finished operation cannot be cancelled, and the attempt is audited.
    let front = fixture.start_action();
    fixture.wait_started();
    fixture.open_gate();
    assert!(front.wait_with_output().unwrap().status.success());
    let late = fixture.run(&["ops", "cancel", "1", "--yes"]);
    assert_eq!(late.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&late.stderr).contains("is not running (ok)"));
    let events = fixture.audit_events();
    assert_eq!(events[events.len() - 2..], ["cancel-request", "cancel-refused"]);
}

#[test]
fn a_rollback_that_starts_and_ends_between_two_watch_rounds_still_supersedes_the_watch() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fw.toml");
    std::fs::write(
        &config,
        "[settings]\ndata_dir = \"data\"\n\n[[check]]\nname = \"web\"\ncommand = [\"true\"]\n\n\
         [[action]]\nname = \"deploy web\"\nkind = \"redeploy\"\ntarget = \"web\"\nrun = [\"true\"]\n\
         verify = [\"web\"]\nwatch = \"10m\"\non_failed_verify = \"roll back web\"\n\n\
         [[action]]\nname = \"roll back web\"\nkind = \"rollback\"\ntarget = \"web\"\nrun = [\"true\"]\n",
    )
    .unwrap();
    let firstwatch = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_firstwatch"));
        command.arg("--config").arg(&config).args(args).stdin(Stdio::null());
        command
    };
    let deploy = firstwatch(&["action", "run", "deploy web", "--yes"]).stderr(Stdio::piped()).spawn().unwrap();
    let store = firstwatch::store::Store::open_in(&dir.path().join("data")).unwrap();
    wait_until("the watch to begin", || {
        firstwatch::ops::record::get(&store, 1)
            .ok()
            .flatten()
            .is_some_and(|row| row.verification.as_deref() == Some("watching"))
    });
    // The rollback is over long before the watch's next round (10 s apart).
    let rollback = firstwatch(&["action", "run", "roll back web", "--yes"]).output().unwrap();
    assert!(rollback.status.success(), "{}", String::from_utf8_lossy(&rollback.stderr));
    let output = deploy.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("watch superseded: operation #2 (roll back web)"), "{stderr}");
    assert!(!stderr.contains("on_failed_verify"), "a superseded watch is not a failed one: {stderr}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn the_target_stays_locked_until_what_the_command_left_in_its_group_has_ended() {
    // The command backgrounds a process and exits at once; that process ends only when told.
    let fixture = Fixture::with_script("sleep 1000 & echo $! > grandchild; echo $$ > child; echo started");
    let front = fixture.start_action();
    let (child, grandchild) = (fixture.pid("child"), fixture.pid("grandchild"));
    wait_until("the command itself to exit", || !alive(child));
    assert!(alive(grandchild));
    assert_eq!(fixture.operations()[0]["state"], "running", "the operation lasts while its group does");
    second_run_is_refused(&fixture);

    signal(grandchild, libc::SIGTERM);
    let output = front.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("leaving 1 process of its group running"), "{stderr}");
    assert!(!stderr.contains("left 1 process behind"), "it ended by itself: {stderr}");
    let row = fixture.wait_done();
    assert_eq!(row["state"], "ok", "{row}");
    // The lock went with the group: the target can be acted on again.
    let free = firstwatch::action::lock::TargetLock::acquire(
        &fixture.path("data"),
        "web",
        &firstwatch::util::identity::Identity::current(),
        "check",
    );
    assert!(free.is_ok(), "{:?}", free.err());
}

#[test]
fn a_cancel_while_the_command_s_leftovers_run_ends_the_operation_cancelled() {
    let fixture = Fixture::with_script("sleep 1000 & echo $! > grandchild; echo $$ > child; echo started");
    let front = fixture.start_action();
    let (child, grandchild) = (fixture.pid("child"), fixture.pid("grandchild"));
    wait_until("the command itself to exit", || !alive(child));
    let id = fixture.operations()[0]["id"].as_i64().unwrap().to_string();
    let cancelled = fixture.run(&["ops", "cancel", &id, "--yes"]);
    assert!(cancelled.status.success(), "{}", String::from_utf8_lossy(&cancelled.stderr));
    let output = front.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "a cancelled deploy is not a success: {stderr}");
    let row = fixture.wait_done();
    assert_eq!(row["state"], "cancelled", "{row}");
    assert!(!alive(grandchild), "the leftover was stopped");
    let events = fixture.audit_events();
    assert!(!events.iter().any(|e| e == "succeeded"), "{events:?}");
}

#[test]
fn what_a_command_leaves_behind_is_stopped_at_its_timeout_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let script = "sleep 1000 & echo $! > grandchild; echo started";
    let config = format!(
        "[settings]\ndata_dir = \"data\"\n\n[[action]]\nname = \"deploy web\"\nkind = \"redeploy\"\n\
         target = \"web\"\nrun = [\"sh\", \"-c\", {script:?}]\ntimeout = \"1s\"\n"
    );
    std::fs::write(dir.path().join("fw.toml"), config).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(dir.path().join("fw.toml"))
        .args(["action", "run", "deploy web", "--yes"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "the command itself succeeded: {stderr}");
    assert!(stderr.contains("exit 0") && stderr.contains("left 1 process behind; stopped"), "{stderr}");
    let grandchild: i32 = std::fs::read_to_string(dir.path().join("grandchild")).unwrap().trim().parse().unwrap();
    assert!(!alive(grandchild), "the leftover was stopped");
    let store = firstwatch::store::Store::open_in(&dir.path().join("data")).unwrap();
    let outcome = store.audit_since(None).unwrap().into_iter().find(|row| row.event == "succeeded").unwrap();
    assert!(outcome.detail.unwrap_or_default().contains("left 1 process behind; stopped"));
}

#[test]
fn an_action_whose_operation_cannot_be_recorded_is_refused_and_never_runs() {
    let fixture = Fixture::new();
    assert!(fixture.run(&["ops", "list"]).status.success(), "the store exists");
    // The operations table stops taking rows; the audit log still does.
    let store = rusqlite::Connection::open(fixture.path("data/firstwatch.db")).unwrap();
    store
        .execute_batch(
            "CREATE TRIGGER ops_full BEFORE INSERT ON operations BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let refused = fixture.run(&["action", "run", "deploy web", "--yes"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the operation cannot be recorded, so nothing was run") && stderr.contains("disk full"));
    assert!(!fixture.path("child").exists(), "the command never ran");
    let events = fixture.audit_events();
    assert_eq!(events[events.len() - 2..], ["start", "refused"], "the start row has its one outcome");
    assert!(fixture.operations().is_empty());
}

/// A console that did not start an operation sees it among the actions (through
/// its incident tab's engine), follows its output and cancels it, audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_console_sees_follows_and_cancels_a_running_operation() {
    use firstwatch::tui::Action;
    use firstwatch::tui::tabs::TabMsg;
    use firstwatch::tui::tabs::incident::{Effect, Msg};
    let fixture = Fixture::new();
    let mut cli = fixture.start_action();
    fixture.wait_started();
    firstwatch::ops::set_supervisor_program(env!("CARGO_BIN_EXE_firstwatch").into());
    let config = firstwatch::config::load(&fixture.path("fw.toml")).unwrap();
    let (mut services, mut reports) = firstwatch::tui::tabs::Services::detached();
    services.store = Some(firstwatch::store::Store::open_in(&fixture.path("data")).unwrap());
    services.config = std::sync::Arc::new(config);
    let _tab = firstwatch::tui::tabs::incident::start(&services);
    let operation = loop {
        if let Action::Msg(TabMsg::Incident(Msg::Operations(list))) = next_report(&mut reports).await
            && let Some(first) = list.into_iter().next()
        {
            break first;
        }
    };
    assert_eq!(operation.name, "deploy web");
    assert!(operation.who.starts_with("ana@"), "{}", operation.who);
    firstwatch::tui::tabs::incident::execute(
        Effect::Follow { nonce: 1, id: operation.id, output: operation.output.clone() },
        &services,
    );
    loop {
        if let Action::Msg(TabMsg::Incident(Msg::Output { line, .. })) = next_report(&mut reports).await
            && line.contains("started")
        {
            break;
        }
    }
    let what = firstwatch::ops::confirm::Cancel { id: operation.id };
    let confirmed = firstwatch::ops::confirm::by_second_press(&what, true, false).unwrap();
    firstwatch::tui::tabs::incident::execute(Effect::CancelOperation { confirmed }, &services);
    let outcome = loop {
        if let Action::Msg(TabMsg::Incident(Msg::Finished { outcome, failed, .. })) = next_report(&mut reports).await {
            assert!(failed);
            break outcome;
        }
    };
    assert!(outcome.contains("cancelled"), "{outcome}");
    let _ = cli.wait();
    let audit = fixture.run(&["audit", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&audit.stdout).unwrap();
    let events: Vec<&str> = rows.iter().filter_map(|r| r["event"].as_str()).collect();
    assert!(events.contains(&"cancel-request") && events.contains(&"cancel-sent"), "{events:?}");
    assert!(!fixture.path("finished").exists(), "the command was stopped before its end");
}

async fn next_report(reports: &mut tokio::sync::mpsc::Receiver<firstwatch::tui::Action>) -> firstwatch::tui::Action {
    tokio::time::timeout(Duration::from_secs(20), reports.recv()).await.expect("a report in time").unwrap()
}

#[test]
fn a_restore_of_a_set_whose_target_an_action_is_deploying_is_refused_by_another_process() {
    let fixture = Fixture::new();
    // A plain-file set that declares the action's target: the two share one lock.
    std::fs::create_dir_all(fixture.path("backups")).unwrap();
    std::fs::write(fixture.path("backups/web_20261128_030000.conf"), "listen 8080\n").unwrap();
    std::fs::write(fixture.path("web.conf"), "listen 80\n").unwrap();
    let mut config = std::fs::read_to_string(fixture.path("fw.toml")).unwrap();
    config.push_str(
        "\n[[backup]]\nname = \"web conf\"\ndir = \"backups\"\npattern = \"web_%Y%m%d_%H%M%S.conf\"\n\
         format = \"file\"\nrestore_to = \"web.conf\"\ntarget = \"web\"\n",
    );
    std::fs::write(fixture.path("fw.toml"), config).unwrap();

    let mut action = fixture.start_action();
    fixture.wait_started();
    let refused = fixture.run(&["backups", "restore", "latest", "--set", "web conf", "--yes"]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a restore ran beside the deploy: {said}");
    assert!(said.contains("deploy web") && said.contains("ana"), "the refusal names the holder: {said}");
    assert_eq!(std::fs::read_to_string(fixture.path("web.conf")).unwrap(), "listen 80\n", "the target was not touched");

    fixture.open_gate();
    assert!(action.wait().unwrap().success());
    let restored = fixture.run(&["backups", "restore", "latest", "--set", "web conf", "--yes"]);
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert_eq!(std::fs::read_to_string(fixture.path("web.conf")).unwrap(), "listen 8080\n");
    let events = fixture.audit_events();
    assert!(events.iter().any(|e| e == "restore-refused"), "{events:?}");
}
