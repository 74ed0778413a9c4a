//! Probes against real endpoints on 127.0.0.1: healthy, wrong, broken, slow,
//! hostile and missing ones, plus real child processes and SQLite files.

#[path = "health/server.rs"]
mod server;

use firstwatch::config::load_str;
use firstwatch::health::{CheckSpec, Level, Outcome, Prober};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn spec_in(dir: &Path, toml: &str) -> CheckSpec {
    let config = load_str(toml, &dir.join("firstwatch.toml")).unwrap_or_else(|e| panic!("{e}"));
    let (mut specs, problems) = CheckSpec::build_all(&config);
    assert!(problems.is_empty(), "{problems:?}");
    specs.remove(0)
}

fn spec(toml: &str) -> CheckSpec {
    spec_in(Path::new("/tmp"), toml)
}

async fn run(toml: &str) -> Outcome {
    Prober::new().run(&spec(toml)).await
}

fn http(url: &str, extra: &str) -> String {
    format!("[[check]]\nname = \"t\"\nhttp = \"{url}\"\n{extra}\n")
}

#[tokio::test]
async fn a_healthy_json_answer_passes_every_condition() {
    let server = server::start(None).await;
    let outcome = run(&http(
        &format!("{}/healthy", server.base),
        r#"expect = ['status == 200', 'json.status == "healthy"', 'json.totalAgents >= 1000', 'latency < 5s']"#,
    ))
    .await;
    assert_eq!(outcome.level, Level::Ok, "{}", outcome.message);
    assert!(outcome.message.starts_with("200"), "{}", outcome.message);
    let response = outcome.response.expect("the response is kept for the detail pane");
    assert_eq!(response.status, 200);
    assert!(response.body_lines[0].contains("healthy"));
}

#[tokio::test]
async fn a_wrong_json_field_names_what_it_saw() {
    let server = server::start(None).await;
    let outcome = run(&http(
        &format!("{}/degraded", server.base),
        "expect = ['status == 200', 'json.status == \"healthy\"']\nseverity = \"warning\"",
    ))
    .await;
    assert_eq!(outcome.level, Level::Warning);
    assert_eq!(outcome.message, r#"json.status was "degraded", expected "healthy""#);
    assert_eq!(outcome.failed, vec![1]);
}

#[tokio::test]
async fn invalid_json_fails_and_the_body_is_sanitised() {
    let server = server::start(None).await;
    let outcome = run(&http(&format!("{}/garbage", server.base), "expect = ['json.status == \"healthy\"']")).await;
    assert_eq!(outcome.level, Level::Critical);
    assert_eq!(outcome.message, "body is not JSON");
    let body = &outcome.response.unwrap().body_lines[0];
    assert!(
        !body.contains('\u{1b}') && !body.contains('\u{7}'),
        "escape sequences must not reach the screen: {body:?}"
    );
}

#[tokio::test]
async fn a_500_is_critical_by_default_and_no_expect_means_2xx() {
    let server = server::start(None).await;
    let outcome = run(&http(&format!("{}/error", server.base), "")).await;
    assert_eq!(outcome.level, Level::Critical);
    assert_eq!(outcome.message, "status was 500, expected < 300");
}

#[tokio::test]
async fn a_socket_that_never_answers_is_down_at_the_timeout_not_later() {
    let server = server::start(None).await;
    let started = Instant::now();
    let outcome = run(&http(&format!("{}/hang", server.base), "timeout = \"300ms\"")).await;
    let elapsed = started.elapsed();
    assert_eq!(outcome.level, Level::Critical);
    assert_eq!(outcome.message, "no answer within 300ms");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1500), "gave up late: {elapsed:?}");
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_limit_and_the_rest_never_read() {
    let server = server::start(None).await;
    let outcome = run(&http(&format!("{}/endless", server.base), "body_limit = \"64KiB\"\ntimeout = \"5s\"")).await;
    assert_eq!(outcome.level, Level::Ok, "{}", outcome.message);
    let response = outcome.response.unwrap();
    assert_eq!(response.body_bytes, 64 * 1024);
    assert!(response.truncated);
    assert!(outcome.message.contains("body cut at 65536 B"), "{}", outcome.message);
    // The server could only push what socket buffers hold before the client hung up, far from 1 GiB.
    tokio::time::timeout(Duration::from_secs(5), server.seen.endless_done.notified())
        .await
        .expect("the server stops writing once the client hangs up");
    let sent = server.seen.endless_bytes.load(Ordering::SeqCst);
    assert!(sent < 64 << 20, "the client kept reading: {sent} bytes");
}

#[tokio::test]
async fn a_refused_connection_says_so() {
    let port = server::closed_port().await;
    let outcome = run(&http(&format!("http://127.0.0.1:{port}/health"), "")).await;
    assert_eq!(outcome.level, Level::Critical);
    assert!(outcome.message.contains(&format!("cannot connect to 127.0.0.1:{port}")), "{}", outcome.message);
    assert!(outcome.message.to_lowercase().contains("refused"), "{}", outcome.message);
}

#[tokio::test]
async fn a_redirect_loop_stops_at_the_limit() {
    let server = server::start(None).await;
    let outcome = run(&http(&format!("{}/loop", server.base), "max_redirects = 3")).await;
    assert_eq!(outcome.level, Level::Critical);
    assert!(outcome.message.contains("more than 3 redirects"), "{}", outcome.message);
    assert_eq!(server.seen.hits.load(Ordering::SeqCst), 4, "the first request and three redirects");
}

#[tokio::test]
async fn headers_with_secrets_never_reach_another_host() {
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("FW_TEST_TOKEN", "s3cret-value") };
    let other = server::start(None).await;
    // Same port space, other host name: another origin.
    let first = server::start(Some(format!("http://localhost:{}/healthy", other.port))).await;
    let outcome = run(&http(
        &format!("{}/away", first.base),
        "headers = { Authorization = \"Bearer ${FW_TEST_TOKEN}\", X-Api-Key = \"${FW_TEST_TOKEN}\" }",
    ))
    .await;
    assert_eq!(outcome.level, Level::Ok, "{}", outcome.message);
    assert!(outcome.message.contains("after 1 redirect"), "{}", outcome.message);
    let to_first = first.seen.requests.lock().unwrap().join("\n").to_lowercase();
    assert!(to_first.contains("authorization: bearer s3cret-value"), "the configured origin gets the header");
    let to_other = other.seen.requests.lock().unwrap().join("\n");
    assert!(!to_other.is_empty(), "the redirect was followed");
    assert!(!to_other.contains("s3cret-value"), "a secret reached another host:\n{to_other}");
}

#[tokio::test]
async fn an_unset_variable_is_unknown_and_names_only_the_variable() {
    let server = server::start(None).await;
    let outcome = run(&http(
        &format!("{}/healthy", server.base),
        "headers = { Authorization = \"Bearer ${FW_TEST_SURELY_UNSET}\" }",
    ))
    .await;
    assert_eq!(outcome.level, Level::Unknown);
    assert_eq!(outcome.message, "header Authorization: environment variable FW_TEST_SURELY_UNSET is not set");
    assert_eq!(server.seen.hits.load(Ordering::SeqCst), 0, "no request without its header");
}

#[tokio::test]
async fn tcp_checks_connect_or_fail() {
    let server = server::start(None).await;
    let ok = run(&format!("[[check]]\nname = \"p\"\ntcp = \"127.0.0.1:{}\"\n", server.port)).await;
    assert_eq!(ok.level, Level::Ok, "{}", ok.message);
    let port = server::closed_port().await;
    let down = run(&format!("[[check]]\nname = \"p\"\ntcp = \"127.0.0.1:{port}\"\n")).await;
    assert_eq!(down.level, Level::Critical);
}

#[tokio::test]
async fn commands_judge_exit_codes_and_output() {
    let ok = run("[[check]]\nname = \"c\"\ncommand = [\"sh\", \"-c\", \"echo 42\"]\nexpect = ['value > 10']\n").await;
    assert_eq!(ok.level, Level::Ok, "{}", ok.message);
    let low = run("[[check]]\nname = \"c\"\ncommand = [\"sh\", \"-c\", \"echo 3\"]\nexpect = ['value > 10']\n").await;
    assert_eq!(low.message, "value was 3, expected > 10");
    let failing = run("[[check]]\nname = \"c\"\ncommand = [\"sh\", \"-c\", \"echo broken >&2; exit 4\"]\n").await;
    assert_eq!(failing.level, Level::Critical);
    assert_eq!(failing.message, "exit 4: broken");
    let missing = run("[[check]]\nname = \"c\"\ncommand = [\"/nonexistent/program\"]\n").await;
    assert_eq!(missing.level, Level::Unknown);
    // A flood of output is read and dropped beyond the cap, so the child never blocks.
    let flood = run("[[check]]\nname = \"c\"\ncommand = [\"sh\", \"-c\", \"head -c 5000000 /dev/zero; echo done\"]\ntimeout = \"10s\"\n").await;
    assert_eq!(flood.level, Level::Ok, "{}", flood.message);
}

#[tokio::test]
async fn a_command_past_its_timeout_is_killed_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let toml = format!(
        "[[check]]\nname = \"c\"\ncommand = [\"sh\", \"-c\", \"sleep 30 & echo $! > {}; wait\"]\ntimeout = \"300ms\"\n",
        pid_file.display()
    );
    let started = Instant::now();
    let outcome = run(&toml).await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(outcome.level, Level::Critical);
    assert!(outcome.message.contains("ran past its timeout of 300ms and was killed"), "{}", outcome.message);
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    // The grandchild gets SIGKILL with its group; wait for the kernel to reap it.
    let gone = (0..200).any(|_| {
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z");
        if alive {
            std::thread::sleep(Duration::from_millis(10));
        }
        !alive
    });
    assert!(gone, "the grandchild {pid} outlived the check");
}

#[tokio::test]
async fn sqlite_checks_read_a_value_from_a_real_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection.execute_batch("CREATE TABLE users (id INTEGER); INSERT INTO users VALUES (1),(2),(3);").unwrap();
    drop(connection);
    let toml = |expect: &str| {
        format!(
            "[[check]]\nname = \"db\"\nsqlite = \"app.db\"\nquery = \"SELECT COUNT(*) FROM users\"\nexpect = ['{expect}']\n"
        )
    };
    let ok = Prober::new().run(&spec_in(dir.path(), &toml("value == 3"))).await;
    assert_eq!(ok.level, Level::Ok, "{}", ok.message);
    assert_eq!(ok.message, "value 3");
    let low = Prober::new().run(&spec_in(dir.path(), &toml("value > 10"))).await;
    assert_eq!(low.message, "value was 3, expected > 10");
    let missing = Prober::new()
        .run(&spec_in(dir.path(), "[[check]]\nname = \"db\"\nsqlite = \"nope.db\"\nquery = \"SELECT 1\"\n"))
        .await;
    assert_eq!(missing.level, Level::Critical);
    assert!(missing.message.contains("does not exist"), "{}", missing.message);
    assert!(!dir.path().join("nope.db").exists(), "a read-only check must not create the file");
    let corrupt = dir.path().join("corrupt.db");
    std::fs::write(&corrupt, b"not a database at all, just text".repeat(100)).unwrap();
    let broken = Prober::new()
        .run(&spec_in(dir.path(), "[[check]]\nname = \"db\"\nsqlite = \"corrupt.db\"\nquery = \"SELECT 1\"\n"))
        .await;
    assert_eq!(broken.level, Level::Critical, "{}", broken.message);
}

#[tokio::test]
async fn system_and_disk_checks_report_percentages_against_thresholds() {
    let memory = run("[[check]]\nname = \"m\"\nsystem = \"memory\"\nwarn = \"0%\"\ncritical = \"100%\"\n").await;
    assert_eq!(memory.level, Level::Warning, "{}", memory.message);
    assert!(memory.message.starts_with("memory "), "{}", memory.message);
    let cpu = run("[[check]]\nname = \"c\"\nsystem = \"cpu\"\nwarn = \"100%\"\ncritical = \"100%\"\n").await;
    assert!(cpu.message.starts_with("cpu "), "{}", cpu.message);
    let disk = run("[[check]]\nname = \"d\"\ndisk = \"/\"\nwarn = \"100%\"\ncritical = \"100%\"\n").await;
    assert_eq!(disk.level, Level::Ok, "{}", disk.message);
    assert!(disk.message.contains("% used"), "{}", disk.message);
    let nowhere = run("[[check]]\nname = \"d\"\ndisk = \"/no/such/mount\"\n").await;
    assert_eq!(nowhere.level, Level::Critical);
}
