//! Actions run as real child processes: exit codes, output bounds, timeout
//! and cancel killing the whole process group, argument injection (also
//! through `--set` values on the real binary), target locks and who holds
//! them under contention, an audit row for every outcome, and the watch after a redeploy
//! against a real HTTP server on 127.0.0.1 (with its `on_failed_verify`).

#[path = "health/server.rs"]
mod server;

use firstwatch::action::execute::{ActionContext, Attempt};
use firstwatch::action::lock::{LockError, TargetLock};
use firstwatch::action::runner::{self, Ending, RunRequest, cancel_pair};
use firstwatch::action::{ActionSpec, CancelSignal, Risk, Verification};
use firstwatch::config::Config;
use firstwatch::ops::confirm;
use firstwatch::store::Store;
use firstwatch::util::identity::Identity;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn request(dir: &Path, argv: &[&str], timeout: Duration) -> RunRequest {
    RunRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        dir: dir.to_path_buf(),
        env: Default::default(),
        timeout,
        grace: Duration::from_millis(300),
        until_group_ends: false,
    }
}

/// True while a process exists and is not a zombie.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

#[tokio::test]
async fn a_successful_command_reports_exit_zero_and_its_output_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    let argv = ["sh", "-c", "echo one; echo two >&2; echo three"];
    let report = runner::run(&request(dir.path(), &argv, Duration::from_secs(20)), CancelSignal::never(), |line| {
        seen.push(line.text.clone())
    })
    .await;
    assert_eq!(report.ending, Ending::Exited(0));
    assert!(report.ending.succeeded());
    assert_eq!(report.output.total_lines, 3);
    seen.sort();
    assert_eq!(seen, ["one", "three", "two"]);
}

#[tokio::test]
async fn a_failing_command_keeps_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let report = runner::run(
        &request(dir.path(), &["sh", "-c", "echo oops; exit 7"], Duration::from_secs(20)),
        CancelSignal::never(),
        |_| {},
    )
    .await;
    assert_eq!(report.ending, Ending::Exited(7));
    assert_eq!(report.ending.exit_code(), 7);
    assert_eq!(report.output.last_lines(1), ["oops"]);
}

#[tokio::test]
async fn a_missing_program_is_a_clear_failure_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let report = runner::run(
        &request(dir.path(), &["no-such-program-xyz"], Duration::from_secs(5)),
        CancelSignal::never(),
        |_| {},
    )
    .await;
    assert!(
        matches!(&report.ending, Ending::FailedToStart(why) if why.contains("no-such-program-xyz")),
        "{:?}",
        report.ending
    );
    assert_eq!(report.ending.exit_code(), 127);
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group_including_background_children() {
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Vec::new();
    let argv = ["sh", "-c", "sleep 1000 & echo $!; sleep 1000"];
    let report = runner::run(&request(dir.path(), &argv, Duration::from_millis(500)), CancelSignal::never(), |line| {
        pids.push(line.text.parse::<i32>().unwrap())
    })
    .await;
    assert_eq!(report.ending, Ending::TimedOut);
    assert_eq!(report.ending.exit_code(), 124);
    assert_eq!(pids.len(), 1, "the grandchild's pid was printed");
    assert!(!alive(pids[0]), "the background sleep must not survive the timeout");
}

#[tokio::test]
async fn cancel_stops_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let (canceller, signal) = cancel_pair();
    let mut pids = Vec::new();
    let argv = ["sh", "-c", "sleep 1000 & echo $!; sleep 1000"];
    let report = runner::run(&request(dir.path(), &argv, Duration::from_secs(600)), signal, |line| {
        pids.push(line.text.parse::<i32>().unwrap());
        // Cancel as soon as the command has shown it is running.
        canceller.cancel();
    })
    .await;
    assert_eq!(report.ending, Ending::Cancelled);
    assert!(!alive(pids[0]), "the background sleep must not survive a cancel");
}

#[tokio::test]
async fn output_is_bounded_in_lines_and_line_length() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        "i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done; head -c 100000 /dev/zero | tr '\\0' x; echo";
    let report = runner::run(
        &request(dir.path(), &["sh", "-c", script], Duration::from_secs(60)),
        CancelSignal::never(),
        |_| {},
    )
    .await;
    assert_eq!(report.ending, Ending::Exited(0));
    assert_eq!(report.output.total_lines, 5001);
    assert_eq!(report.output.tail.len(), runner::TAIL_LINES);
    assert_eq!(report.output.dropped_lines, 5001 - runner::TAIL_LINES as u64);
    assert_eq!(report.output.cut_lines, 1);
    let long = &report.output.tail.back().unwrap().text;
    assert!(long.len() < runner::MAX_LINE + 100, "a 100 kB line is cut, got {} bytes", long.len());
    assert!(long.contains("more bytes]"), "the cut is marked");
    assert_eq!(report.output.tail[0].text, format!("line {}", 5000 - runner::TAIL_LINES + 1));
}

#[tokio::test]
async fn output_escape_sequences_are_sanitised() {
    let dir = tempfile::tempdir().unwrap();
    let argv = ["printf", "\\033]52;c;SGVsbG8=\\007red \\033[31mtext\\n"];
    let report = runner::run(&request(dir.path(), &argv, Duration::from_secs(20)), CancelSignal::never(), |_| {}).await;
    let line = &report.output.tail[0].text;
    assert!(!line.contains('\u{1b}'), "{line:?}");
    assert!(line.contains("red") && line.contains("text"), "{line:?}");
}

#[tokio::test]
async fn arguments_are_never_split_or_interpreted_by_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let argv = ["printf", "[%s]\\n", "x; touch PWNED", "a b --force", "$(touch PWNED2)"];
    let report = runner::run(&request(dir.path(), &argv, Duration::from_secs(20)), CancelSignal::never(), |_| {}).await;
    let lines = report.output.last_lines(10);
    assert_eq!(lines, ["[x; touch PWNED]", "[a b --force]", "[$(touch PWNED2)]"]);
    assert!(!dir.path().join("PWNED").exists() && !dir.path().join("PWNED2").exists());
}

#[test]
fn a_second_operator_is_refused_the_target_and_told_who_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let ana = Identity { user: "ana".into(), host: "h".into(), ssh_client: None, tty: Some("/dev/pts/3".into()) };
    let bo = Identity { user: "bo".into(), host: "h".into(), ssh_client: None, tty: None };
    let held = TargetLock::acquire(dir.path(), "orders", &ana, "redeploy orders").unwrap();
    match TargetLock::acquire(dir.path(), "orders", &bo, "roll back orders") {
        Err(LockError::Held { holder, .. }) => {
            assert!(
                holder.contains("ana") && holder.contains("/dev/pts/3") && holder.contains("redeploy orders"),
                "{holder}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    TargetLock::acquire(dir.path(), "payments", &bo, "x").expect("another target is free");
    drop(held);
    TargetLock::acquire(dir.path(), "orders", &bo, "roll back orders").expect("free again once released");
}

// ---- the whole path through ActionContext, with the audit log ----

struct Setup {
    dir: tempfile::TempDir,
    store: Store,
    context: ActionContext,
}

fn setup(read_only_config: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(&dir.path().join("data")).unwrap();
    let mut config = Config::default();
    config.settings.read_only = read_only_config;
    let who = Identity { user: "ana".into(), host: "bastion".into(), ssh_client: Some("10.1.2.3".into()), tty: None };
    let context = ActionContext {
        config: Arc::new(config),
        store: Some(store.clone()),
        who,
        grace: Duration::from_millis(300),
        superseded: None,
    };
    Setup { dir, store, context }
}

fn spec(dir: &Path, kind: &'static str, argv: &[&str], timeout: Duration) -> ActionSpec {
    ActionSpec {
        name: format!("{kind} orders"),
        kind,
        target: "orders".into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        dir: dir.to_path_buf(),
        env: Default::default(),
        timeout,
        verify: Vec::new(),
        watch: Duration::ZERO,
        risk: Risk::High,
        rollback_with: None,
        on_failed_verify: None,
        allow_dash: Vec::new(),
        backup: None,
        notify: None,
    }
}

fn events(store: &Store) -> Vec<String> {
    store.audit_since(None).unwrap().into_iter().map(|row| row.event).collect()
}

#[tokio::test]
async fn success_failure_and_timeout_each_leave_start_and_end_rows() {
    let s = setup(false);
    let cases: [(&[&str], Duration, &str); 3] = [
        (&["true"], Duration::from_secs(20), "succeeded"),
        (&["sh", "-c", "exit 3"], Duration::from_secs(20), "failed"),
        (&["sleep", "1000"], Duration::from_millis(300), "timed-out"),
    ];
    for (argv, timeout, outcome) in cases {
        let action = spec(s.dir.path(), "custom", argv, timeout);
        let confirmed = confirm::check(&action, "orders", false).unwrap();
        let attempt = s.context.run(confirmed, CancelSignal::never(), |_| {}).await;
        assert!(matches!(attempt, Attempt::Ran { .. }), "{attempt:?}");
        let rows = s.store.audit_since(None).unwrap();
        let last = rows.last().unwrap();
        assert_eq!(last.event, outcome);
        assert_eq!(last.user, "ana");
        assert_eq!(last.ssh_client.as_deref(), Some("10.1.2.3"));
        assert_eq!(last.argv.as_deref().unwrap(), argv.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }
    assert_eq!(
        events(&s.store),
        ["confirmed", "start", "succeeded", "confirmed", "start", "failed", "confirmed", "start", "timed-out"]
    );
}

#[tokio::test]
async fn refusals_dry_runs_and_busy_targets_are_audited_and_run_nothing() {
    let s = setup(false);
    let marker = s.dir.path().join("ran");
    let action = spec(s.dir.path(), "custom", &["touch", marker.to_str().unwrap()], Duration::from_secs(20));

    let refusal = confirm::check(&action, "order", false).unwrap_err();
    assert!(matches!(s.context.refuse(&action, &refusal).await, Attempt::Refused(_)));
    let read_only = confirm::check(&action, "orders", true).unwrap_err();
    s.context.refuse(&action, &read_only).await;

    let dry = confirm::check(&action, "orders", false).map(|c| c.dry()).unwrap();
    assert_eq!(s.context.run(dry, CancelSignal::never(), |_| {}).await, Attempt::DryRun);

    let other = Identity { user: "bo".into(), host: "bastion".into(), ssh_client: None, tty: None };
    let held = TargetLock::acquire(&s.dir.path().join("data"), "orders", &other, "roll back orders").unwrap();
    let confirmed = confirm::check(&action, "orders", false).unwrap();
    let attempt = s.context.run(confirmed, CancelSignal::never(), |_| {}).await;
    assert!(matches!(&attempt, Attempt::Refused(why) if why.contains("bo")), "{attempt:?}");
    drop(held);

    assert!(!marker.exists(), "nothing may have run");
    let rows = s.store.audit_since(None).unwrap();
    let got: Vec<(&str, Option<&str>)> = rows.iter().map(|r| (r.event.as_str(), r.detail.as_deref())).collect();
    assert_eq!(got[0].0, "refused");
    assert!(got[0].1.unwrap().contains("typed `order`, expected `orders`"), "{got:?}");
    assert_eq!(got[1].0, "refused");
    assert!(got[1].1.unwrap().contains("read-only"), "{got:?}");
    assert_eq!(got[2].0, "dry-run");
    assert!(got[2].1.unwrap().contains("would run touch"), "{got:?}");
    assert_eq!(got[3].0, "confirmed");
    assert_eq!(got[4].0, "lock-refused");
    assert_eq!(rows.len(), 5);
}

#[tokio::test]
async fn a_redeploy_that_cannot_be_verified_says_so() {
    let s = setup(false);
    let mut action = spec(s.dir.path(), "redeploy", &["true"], Duration::from_secs(20));
    action.verify = vec!["orders".into()];
    let confirmed = confirm::check(&action, "orders", false).unwrap();
    let mut verdicts = Vec::new();
    let attempt = s
        .context
        .run(confirmed, CancelSignal::never(), |p| {
            if let firstwatch::action::Progress::Verdict { healthy, .. } = p {
                verdicts.push(healthy)
            }
        })
        .await;
    match attempt {
        Attempt::Ran { report, verification: Some(Verification::CouldNotVerify(why)) } => {
            assert!(report.ending.succeeded());
            assert!(why.contains("orders"), "{why}");
        }
        other => panic!("expected could-not-verify, got {other:?}"),
    }
    assert_eq!(verdicts, [None]);
    let rows = s.store.audit_since(None).unwrap();
    let verify = rows.last().unwrap();
    assert_eq!(verify.event, "verify");
    assert!(verify.detail.as_deref().unwrap().starts_with("could not verify"), "{verify:?}");
}

#[tokio::test]
async fn a_run_during_an_incident_is_on_its_timeline_and_its_audit_rows_name_it() {
    let s = setup(false);
    let incident = firstwatch::incident::record::open(
        &s.store,
        "orders down",
        firstwatch::incident::record::Severity::P1,
        None,
        &s.context.who,
    )
    .unwrap();
    let action = spec(s.dir.path(), "custom", &["sh", "-c", "echo hello; exit 2"], Duration::from_secs(20));
    let confirmed = confirm::check(&action, "orders", false).unwrap();
    s.context.run(confirmed, CancelSignal::never(), |_| {}).await;
    let rows = s.store.audit_since(None).unwrap();
    assert!(rows.iter().all(|r| r.incident_id == Some(incident.id)), "{rows:?}");
    let record = firstwatch::incident::record::get(&s.store, incident.id).unwrap();
    let texts: Vec<&str> = record.events.iter().map(|e| e.text.as_str()).collect();
    assert!(texts.iter().any(|t| t.contains("custom orders started: sh -c")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("exit 2") && t.contains("hello")), "{texts:?}");
}

#[test]
fn an_abandoned_run_stops_its_group_and_leaves_a_hang_up_row() {
    let s = setup(false);
    let action =
        spec(s.dir.path(), "custom", &["sh", "-c", "sleep 1000 & echo $!; sleep 1000"], Duration::from_secs(600));
    let confirmed = confirm::check(&action, "orders", false).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (pid_tx, pid_rx) = std::sync::mpsc::channel();
    let context = s.context.clone();
    runtime.spawn(async move {
        context
            .run(confirmed, CancelSignal::never(), move |p| {
                if let firstwatch::action::Progress::Output(line) = p {
                    let _ = pid_tx.send(line.text.parse::<i32>().unwrap());
                }
            })
            .await
    });
    let pid = pid_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(alive(pid));
    // The console quitting: the runtime goes away with the run still in flight.
    runtime.shutdown_timeout(Duration::from_secs(5));
    assert!(!alive(pid), "the background child must not outlive the console");
    assert_eq!(events(&s.store), ["confirmed", "start", "hang-up"]);
}

// ---- the watch after a redeploy, against a real HTTP server ----

/// A redeploy of `orders` watched through `/switch` for `window`, whose
/// `on_failed_verify` rollback touches `rolled-back` in the config's folder.
fn watched_config(dir: &Path, base: &str, window: &str) -> Config {
    let text = format!(
        r#"
[settings]
data_dir = "data"

[[check]]
name = "orders"
http = "{base}/switch"
timeout = "5s"

[[action]]
name = "redeploy orders"
kind = "redeploy"
target = "orders"
run = ["true"]
verify = ["orders"]
watch = "{window}"
rollback_with = "roll back orders"
on_failed_verify = "roll back orders"

[[action]]
name = "roll back orders"
kind = "rollback"
target = "orders"
run = ["touch", "rolled-back"]
"#
    );
    let path = dir.join("firstwatch.toml");
    std::fs::write(&path, &text).unwrap();
    firstwatch::config::load_str(&text, &path).unwrap_or_else(|e| panic!("{e}"))
}

fn watched(dir: &Path, base: &str, window: &str) -> (ActionContext, Store) {
    let config = watched_config(dir, base, window);
    let store = Store::for_config(&config).unwrap();
    let who = Identity { user: "ana".into(), host: "bastion".into(), ssh_client: None, tty: None };
    let context = ActionContext {
        config: Arc::new(config),
        store: Some(store.clone()),
        who,
        grace: Duration::from_millis(300),
        superseded: None,
    };
    (context, store)
}

fn rows(store: &Store) -> Vec<(String, Option<String>, Option<String>)> {
    store.audit_since(None).unwrap().into_iter().map(|r| (r.event, r.action, r.detail)).collect()
}

#[tokio::test]
async fn a_service_that_passes_then_fails_inside_the_window_fails_verification_and_the_follow_up_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(None).await;
    let (context, store) = watched(dir.path(), &server.base, "2s");
    let action = ActionSpec::find(&context.config, "redeploy orders").unwrap();
    let first = confirm::check(&action, "orders", false).unwrap();
    let mut verdicts = Vec::new();
    let attempt = context
        .run(first.clone(), CancelSignal::never(), |p| {
            if let firstwatch::action::Progress::Verdict { healthy, .. } = p {
                verdicts.push(healthy);
                // Two healthy rounds, then the service falls over: the signal, not a sleep.
                if verdicts.len() == 2 {
                    server.seen.failing.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
        })
        .await;
    assert_eq!(verdicts, [Some(true), Some(true), Some(false)], "it kept watching after the first pass");
    assert!(attempt.verification_failed(), "{attempt:?}");
    match &attempt {
        Attempt::Ran { report, verification: Some(Verification::Unhealthy(why)) } => {
            assert!(report.ending.succeeded());
            assert!(why.starts_with("orders: ") && why.contains("503") && why.contains(" at T+"), "{why}");
        }
        other => panic!("expected a failed verification, got {other:?}"),
    }
    assert!(!dir.path().join("rolled-back").exists(), "nothing runs the follow-up but the caller");

    let follow_up = context.run_follow_up(&first, CancelSignal::never(), |_| {}).await;
    assert!(
        matches!(&follow_up, Attempt::Ran { report, verification: None } if report.ending.succeeded()),
        "{follow_up:?}"
    );
    assert!(dir.path().join("rolled-back").exists(), "the on_failed_verify action ran");

    let rows = rows(&store);
    let events: Vec<(&str, &str)> = rows.iter().map(|(e, a, _)| (e.as_str(), a.as_deref().unwrap_or(""))).collect();
    assert_eq!(
        events,
        [
            ("confirmed", "redeploy orders"),
            ("start", "redeploy orders"),
            ("succeeded", "redeploy orders"),
            ("verify", "redeploy orders"),
            ("follow-up", "roll back orders"),
            ("confirmed", "roll back orders"),
            ("start", "roll back orders"),
            ("succeeded", "roll back orders"),
        ]
    );
    let verify = rows[3].2.as_deref().unwrap();
    assert!(verify.starts_with("verification failed at T+") && verify.contains("orders: "), "{verify}");
    assert!(rows[4].2.as_deref().unwrap().contains("on_failed_verify of `redeploy orders`"), "{rows:?}");
}

#[tokio::test]
async fn a_service_healthy_for_the_whole_window_is_verified_and_nothing_follows() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(None).await;
    let (context, store) = watched(dir.path(), &server.base, "1s");
    let action = ActionSpec::find(&context.config, "redeploy orders").unwrap();
    let confirmed = confirm::check(&action, "orders", false).unwrap();
    let started = std::time::Instant::now();
    let attempt = context.run(confirmed, CancelSignal::never(), |_| {}).await;
    assert!(started.elapsed() >= Duration::from_secs(1), "it watched the whole window");
    assert!(matches!(&attempt, Attempt::Ran { verification: Some(Verification::Healthy), .. }), "{attempt:?}");
    assert!(!attempt.verification_failed());
    // At 0, each quarter and the end, less any slot a slow probe overran.
    let hits = server.seen.hits.load(std::sync::atomic::Ordering::SeqCst);
    assert!((2..=5).contains(&hits), "{hits}");
    let last = rows(&store).pop().unwrap();
    assert_eq!(last.0, "verify");
    let expected = format!("verified: healthy for the whole 1s window ({hits} rounds)");
    assert_eq!(last.2.as_deref(), Some(expected.as_str()));
}

#[tokio::test]
async fn another_run_taking_the_target_during_the_watch_supersedes_it_and_nothing_follows() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(None).await;
    let (context, store) = watched(dir.path(), &server.base, "8s");
    let action = ActionSpec::find(&context.config, "redeploy orders").unwrap();
    let first = confirm::check(&action, "orders", false).unwrap();
    let data = dir.path().join("data");
    let bo = Identity { user: "bo".into(), host: "bastion".into(), ssh_client: None, tty: None };
    let mut held = None;
    let started = std::time::Instant::now();
    let attempt = context
        .run(first, CancelSignal::never(), |p| {
            if matches!(p, firstwatch::action::Progress::Verdict { .. }) && held.is_none() {
                held = Some(TargetLock::acquire(&data, "orders", &bo, "roll back orders").unwrap());
            }
        })
        .await;
    assert!(started.elapsed() < Duration::from_secs(7), "it stopped at the next round, not the window's end");
    match &attempt {
        Attempt::Ran { verification: Some(Verification::Superseded(why)), .. } => {
            assert!(why.contains("roll back orders by bo"), "{why}")
        }
        other => panic!("expected a superseded watch, got {other:?}"),
    }
    assert!(!attempt.verification_failed(), "a superseded watch is not a failed one: no follow-up");
    let last = rows(&store).pop().unwrap();
    assert!(last.2.as_deref().unwrap().starts_with("watch superseded: roll back orders by bo"), "{last:?}");
}

#[tokio::test]
async fn the_cli_runs_the_follow_up_after_a_failed_watch_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(None).await;
    watched_config(dir.path(), &server.base, "4s");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(dir.path().join("firstwatch.toml"))
        .args(["action", "run", "redeploy orders", "--yes"])
        .env("USER", "ana")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Two healthy answers, then the service falls over.
    while server.seen.hits.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        server.seen.switch_answered.notified().await;
    }
    server.seen.failing.store(true, std::sync::atomic::Ordering::SeqCst);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output()).await.unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(dir.path().join("rolled-back").exists(), "{stderr}");
    assert!(stderr.contains("redeploy orders: exit 0") && stderr.contains("verification failed: orders: "), "{stderr}");
    assert!(stderr.contains("running `roll back orders` (on_failed_verify)"), "{stderr}");
    assert!(stderr.contains("roll back orders: exit 0"), "{stderr}");
    assert!(!stderr.contains("consider `firstwatch action"), "the rollback already ran: {stderr}");
    let store = Store::open_in(&dir.path().join("data")).unwrap();
    let events: Vec<String> = rows(&store).into_iter().map(|(e, _, _)| e).collect();
    assert_eq!(
        events,
        ["request", "confirmed", "start", "succeeded", "verify", "follow-up", "confirmed", "start", "succeeded"]
    );
}

// ---- who holds a target, under contention ----

/// Takes and drops the lock `rounds` times as `u{id}` running `op{id}`; returns the refusals.
fn contend(data: &Path, id: usize, rounds: usize) -> Vec<String> {
    let who =
        Identity { user: format!("u{id}"), host: "h".into(), ssh_client: None, tty: Some(format!("/dev/pts/{id}")) };
    let mut refusals = Vec::new();
    // On a busy machine the contenders may barely overlap in a fixed number of
    // rounds, so each keeps going until it has met the others a few times.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut round = 0;
    while round < rounds || (refusals.len() < 3 && std::time::Instant::now() < deadline) {
        round += 1;
        match TargetLock::acquire(data, "orders", &who, &format!("op{id}")) {
            Ok(lock) => {
                // Holding it a moment gives the others a chance to find it taken.
                for _ in 0..20 {
                    std::thread::yield_now();
                }
                drop(lock)
            }
            Err(LockError::Held { holder, .. }) => refusals.push(holder),
            Err(other) => panic!("{other}"),
        }
    }
    refusals
}

/// Not a test of its own: the body of each contending process in the test below.
#[test]
fn lock_contender_process() {
    let (Ok(dir), Ok(id)) = (std::env::var("FW_LOCK_CONTENDER_DIR"), std::env::var("FW_LOCK_CONTENDER_ID")) else {
        return;
    };
    for refusal in contend(Path::new(&dir), id.parse().unwrap(), 300) {
        println!("REFUSED {refusal}");
    }
}

#[test]
fn under_contention_every_refusal_names_the_holder_and_what_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let processes: Vec<_> = (100..103)
        .map(|id| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "lock_contender_process", "--nocapture", "--test-threads", "1"])
                .env("FW_LOCK_CONTENDER_DIR", dir.path())
                .env("FW_LOCK_CONTENDER_ID", id.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let threads: Vec<_> = (0..6)
        .map(|id| {
            let data = dir.path().to_path_buf();
            std::thread::spawn(move || contend(&data, id, 300))
        })
        .collect();
    let mut refusals: Vec<String> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    for process in processes {
        let output = process.wait_with_output().unwrap();
        assert!(output.status.success());
        let stdout = String::from_utf8_lossy(&output.stdout);
        refusals.extend(stdout.lines().filter_map(|l| l.strip_prefix("REFUSED ")).map(str::to_string));
    }
    assert!(refusals.len() > 10, "the contenders hardly met: {} refusals", refusals.len());
    let named = regex::Regex::new(r"op(\d+) by u(\d+) ").unwrap();
    for holder in &refusals {
        assert!(!holder.contains("another firstwatch"), "a refusal without a name: {holder}");
        let caps = named.captures(holder).unwrap_or_else(|| panic!("no user and operation in: {holder}"));
        assert_eq!(caps[1], caps[2], "the operation and user of one holder: {holder}");
        assert!(holder.contains(&format!("/dev/pts/{}", &caps[2])), "its terminal: {holder}");
        assert!(holder.contains(" on h ") && holder.contains("pid ") && holder.contains(" since "), "{holder}");
    }
}

// ---- placeholders through the real binary ----

#[test]
fn a_dash_value_that_would_become_an_option_is_refused_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::create_dir_all(victim.join("keep")).unwrap();
    let config = dir.path().join("fw.toml");
    std::fs::write(
        &config,
        r#"
[settings]
data_dir = "data"

[[action]]
name = "remove"
kind = "custom"
target = "files"
risk = "low"
run = ["rm", "{a}", "{b}"]

[[action]]
name = "list"
kind = "custom"
target = "files"
risk = "low"
run = ["ls", "{flags}", "{path}"]
allow_dash = ["flags"]
"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .args(["action", "run"])
            .args(args)
            .args(["--yes", "--config", config.to_str().unwrap()])
            .current_dir(dir.path())
            .env("USER", "ana")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    // `rm {a} {b}` meant for files; `-rf` would make it remove the whole folder.
    let output = run(&["remove", "--set", "a=-rf", "--set", "b=victim"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`a`") && stderr.contains("allow_dash"), "{stderr}");
    assert!(!stderr.contains("running:"), "{stderr}");
    assert!(victim.join("keep").is_dir(), "nothing may have run");
    assert!(!dir.path().join("data/firstwatch.db").exists(), "refused before anything was opened or audited");

    // The action's own allow_dash lets an option through for that placeholder only.
    let output = run(&["list", "--set", "flags=-a", "--set", "path=victim"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("keep") && stdout.contains(".."), "ls -a lists . and ..: {stdout}");
    let output = run(&["list", "--set", "flags=-a", "--set", "path=-R"]);
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_watch_that_cannot_probe_exits_6_and_runs_no_follow_up() {
    let dir = tempfile::tempdir().unwrap();
    // The check's engine cannot even be built: its CA file is missing, so no round can say anything.
    std::fs::write(
        dir.path().join("firstwatch.toml"),
        "[settings]\ndata_dir = \"data\"\n\n[[engine]]\nname = \"prom\"\nkind = \"prometheus\"\n\
         url = \"https://127.0.0.1:9\"\nca_file = \"missing.pem\"\n\n\
         [[check]]\nname = \"web\"\npromql = \"up\"\nengine = \"prom\"\n\n\
         [[action]]\nname = \"deploy web\"\nkind = \"redeploy\"\ntarget = \"web\"\nrun = [\"true\"]\n\
         verify = [\"web\"]\nwatch = \"1m\"\non_failed_verify = \"roll back web\"\n\n\
         [[action]]\nname = \"roll back web\"\nkind = \"rollback\"\ntarget = \"web\"\n\
         run = [\"touch\", \"rolled-back\"]\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(dir.path().join("firstwatch.toml"))
        .args(["action", "run", "deploy web", "--yes"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "0 would say verified: {stderr}");
    assert!(stderr.contains("could not verify: check `web`") && stderr.contains("cannot read ca_file"), "{stderr}");
    assert!(!dir.path().join("rolled-back").exists(), "nothing was seen failing, so nothing is rolled back");
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(dir.path().join("firstwatch.toml"))
        .args(["ops", "list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows[0]["exit"], 6, "{rows:?}");
}
