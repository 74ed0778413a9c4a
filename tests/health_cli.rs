//! `firstwatch check` through the real binary: table, JSON and Nagios exit codes.

#[path = "health/server.rs"]
mod server;

use std::path::Path;
use std::process::Output;

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("firstwatch.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs the binary off the async runtime, so the test's server keeps answering.
async fn firstwatch(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .args(&args)
            .env("HOME", home.path())
            .env_remove("FIRSTWATCH_CONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn check(config: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check".to_string(), "--config".to_string(), config.to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = firstwatch(args).await;
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn config_text(base: &str) -> String {
    format!(
        "[[check]]\nname = \"api\"\nhttp = \"{base}/healthy\"\nexpect = ['status == 200', 'json.status == \"healthy\"']\n\n\
         [[check]]\nname = \"search\"\nhttp = \"{base}/degraded\"\nexpect = ['json.status == \"healthy\"']\nseverity = \"warning\"\n\n\
         [[check]]\nname = \"orders\"\nhttp = \"{base}/error\"\n\n\
         [[check]]\nname = \"probe\"\ncommand = [\"/nonexistent/firstwatch-probe\"]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_follow_the_worst_result() {
    let server = server::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server.base));
    assert_eq!(check(&config, &["api"]).await.0, 0);
    assert_eq!(check(&config, &["api", "search"]).await.0, 1);
    assert_eq!(check(&config, &["api", "search", "orders"]).await.0, 2);
    assert_eq!(check(&config, &["api", "probe"]).await.0, 3);
    assert_eq!(check(&config, &[]).await.0, 2, "critical outranks unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_shows_every_check_and_a_summary() {
    let server = server::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server.base));
    let (_, stdout, _) = check(&config, &[]).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("STATUS"), "{stdout}");
    assert!(lines[1].starts_with("OK") && lines[1].contains("api"), "{stdout}");
    assert!(
        lines[2].starts_with("WARNING") && lines[2].contains(r#"json.status was "degraded", expected "healthy""#),
        "{stdout}"
    );
    assert!(lines[3].starts_with("CRITICAL") && lines[3].contains("status was 500"), "{stdout}");
    assert!(lines[4].starts_with("UNKNOWN") && lines[4].contains("cannot run"), "{stdout}");
    assert_eq!(lines[5], "1 ok, 1 warning, 1 critical, 1 unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_has_the_documented_fields() {
    let server = server::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &config_text(&server.base));
    let (code, stdout, _) = check(&config, &["--json", "search", "api"]).await;
    assert_eq!(code, 1);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["name"], "api", "config order, not argument order");
    assert_eq!(rows[0]["status"], "ok");
    assert_eq!(rows[0]["kind"], "http");
    assert!(rows[0]["latency_ms"].is_u64());
    assert_eq!(rows[1]["status"], "warning");
    assert_eq!(rows[1]["message"], r#"json.status was "degraded", expected "healthy""#);
    assert_eq!(rows[1]["failed_conditions"][0], r#"json.status == "healthy""#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_name_and_a_bad_condition_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[[check]]\nname = \"api\"\ntcp = \"127.0.0.1:1\"\n");
    let (code, stdout, stderr) = check(&config, &["nope"]).await;
    assert_eq!(code, 3);
    assert!(stdout.is_empty());
    assert!(stderr.contains("no check named `nope` (known: api)"), "{stderr}");

    let bad =
        write_config(dir.path(), "[[check]]\nname = \"api\"\ntcp = \"127.0.0.1:1\"\nexpect = ['latency < 200']\n");
    let (code, _, stderr) = check(&bad, &[]).await;
    assert_eq!(code, 2);
    assert!(stderr.contains("firstwatch.toml:4:22: bad condition `latency < 200`: latency needs a unit"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_documents_the_exit_codes() {
    let output = firstwatch(vec!["check".into(), "--help".into()]).await;
    let help = String::from_utf8_lossy(&output.stdout);
    for line in [
        "0  every check ok",
        "1  the worst result is a warning",
        "2  the worst result is critical",
        "3  a check could not be run",
    ] {
        assert!(help.contains(line), "missing `{line}` in:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_state_changes_as_they_happen() {
    use std::io::{BufRead, BufReader};
    let port = server::closed_port().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("[[check]]\nname = \"db\"\ntcp = \"127.0.0.1:{port}\"\nevery = \"100ms\"\nfail_after = 2\n"),
    );
    let line = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .args(["check", "--watch", "--config", &config])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        line
    })
    .await
    .unwrap();
    assert!(line.contains("CRITICAL") && line.contains("db — cannot connect"), "{line}");
}
