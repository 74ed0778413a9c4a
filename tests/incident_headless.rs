//! The incident's headless grammar through the real binary: runbooks by id or
//! title, steps that must exist, milestones and the export they shape, and a
//! notify action against a real webhook on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn env_with(extra: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(&config, format!("[settings]\ndata_dir = \"data\"\n{extra}")).unwrap();
    Env { dir, config }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("USER", "ana")
            .env_remove("SUDO_USER")
            .env_remove("SSH_CONNECTION")
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(code(&output), 0, "{args:?}: {}", text(&output.stderr));
        text(&output.stdout)
    }

    fn status(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["incident", "status", "--json"])).unwrap()
    }

    fn event_count(&self) -> usize {
        self.status()["events"].as_array().map_or(0, Vec::len)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[test]
fn a_runbook_is_found_by_id_or_title_in_any_case() {
    let env = env_with("");
    for (wanted, id) in [
        ("Service down", "service-down"),
        ("SERVICE-DOWN", "service-down"),
        ("the first 15 MINUTES", "first-15-minutes"),
    ] {
        env.ok(&["incident", "open", "orders down", "--runbook", wanted]);
        let status = env.status();
        assert_eq!(status["incident"]["runbook"], id, "{wanted}");
        // The checklist is there: its first step can be ticked.
        env.ok(&["incident", "tick", "1.1"]);
        let shown = env.ok(&["incident", "status"]);
        assert!(shown.contains("[x] 1.1"), "{shown}");
        env.ok(&["incident", "close"]);
    }
}

#[test]
fn an_unknown_runbook_exits_2_lists_the_runbooks_and_opens_nothing() {
    let env = env_with("");
    let output = env.run(&["incident", "open", "orders down", "--runbook", "service-dwon"]);
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no runbook named `service-dwon`; nothing was opened"), "{stderr}");
    for listed in ["first-15-minutes", "service-down", "Service down", "general-outage"] {
        assert!(stderr.contains(listed), "{listed}: {stderr}");
    }
    assert!(output.stdout.is_empty());
    assert_eq!(env.ok(&["incident", "status"]).trim(), "no open incident");
    assert_eq!(env.ok(&["incident", "list"]).trim(), "no incidents recorded");
}

#[test]
fn ticking_skipping_or_noting_a_step_that_does_not_exist_exits_1_and_writes_nothing() {
    let env = env_with("");
    env.ok(&["incident", "open", "orders down", "--runbook", "service-down"]);
    let before = env.event_count();
    for args in [
        &["incident", "tick", "9.9"][..],
        &["incident", "skip", "7.7", "not needed"],
        &["incident", "note", "hello", "--step", "0.1"],
        &["incident", "tick", "one"],
    ] {
        let output = env.run(args);
        assert_eq!(code(&output), 1, "{args:?}");
        assert!(text(&output.stderr).contains("has no step"), "{args:?}: {}", text(&output.stderr));
    }
    assert_eq!(env.event_count(), before, "nothing was written");
    env.ok(&["incident", "close"]);

    // Without a runbook there are no steps at all.
    env.ok(&["incident", "open", "disk filling"]);
    let before = env.event_count();
    let output = env.run(&["incident", "tick", "1.1"]);
    assert_eq!(code(&output), 1);
    assert!(text(&output.stderr).contains("no runbook"), "{}", text(&output.stderr));
    assert_eq!(env.event_count(), before);
}

#[test]
fn export_without_an_incident_says_so_and_exits_1() {
    let env = env_with("");
    let output = env.run(&["incident", "export"]);
    assert_eq!(code(&output), 1);
    assert!(text(&output.stderr).contains("no incident has been recorded"), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    env.ok(&["incident", "open", "orders down"]);
    env.ok(&["incident", "close"]);
    let output = env.run(&["incident", "export"]);
    assert_eq!(code(&output), 1);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no incident is open") && stderr.contains("firstwatch incident export 1"), "{stderr}");
    assert!(env.ok(&["incident", "export", "1"]).starts_with("# Post-mortem: orders down"));
}

/// The `| Label | T+mm:ss |` row of the summary, as seconds.
fn summary_seconds(draft: &str, label: &str) -> Option<i64> {
    let line = draft.lines().find(|l| l.starts_with(&format!("| {label} | ")))?;
    let value = line.split('|').nth(2)?.trim().trim_start_matches("T+");
    let value = value.split(' ').next()?;
    let (minutes, seconds) = value.split_once(':')?;
    Some(minutes.parse::<i64>().ok()? * 60 + seconds.parse::<i64>().ok()?)
}

#[test]
fn milestones_are_marked_headless_and_shape_the_export() {
    let env = env_with("");
    env.ok(&["incident", "open", "orders down", "--severity", "P1", "--runbook", "service-down"]);
    let said = env.ok(&["incident", "mark", "acknowledged"]);
    assert!(said.starts_with("acknowledged at T+"), "{said}");
    env.ok(&["incident", "mark", "mitigated", "rolled back to 2.4.0"]);
    env.ok(&["incident", "mark", "root-cause", "a bad index"]);
    let bad = env.run(&["incident", "mark", "done"]);
    assert_eq!(code(&bad), 2);
    assert!(
        text(&bad.stderr).contains("acknowledged, mitigated, root-cause, fixed, resolved"),
        "{}",
        text(&bad.stderr)
    );

    let status = env.ok(&["incident", "status"]);
    assert!(status.contains("milestones: acknowledged T+00:0"), "{status}");
    assert!(status.contains(", mitigated T+") && status.contains(", root cause found T+"), "{status}");
    assert!(status.contains("milestone ana: mitigated: rolled back to 2.4.0"), "{status}");
    // Before `resolved` the duration runs to now; after it, to the milestone.
    let draft = env.ok(&["incident", "export"]);
    assert!(draft.contains("(opened so far)"), "{draft}");
    env.ok(&["incident", "mark", "fixed"]);
    env.ok(&["incident", "mark", "resolved", "checkout works again"]);
    env.ok(&["incident", "close"]);

    let draft = env.ok(&["incident", "export", "1"]);
    assert!(draft.contains("(opened to resolved) |"), "{draft}");
    let duration = summary_seconds(&draft, "Duration").unwrap();
    assert_eq!(summary_seconds(&draft, "Resolved"), Some(duration), "{draft}");
    for label in ["Acknowledged", "Mitigated", "Root cause found", "Fix applied"] {
        let at = summary_seconds(&draft, label).unwrap_or_else(|| panic!("{label} in the summary:\n{draft}"));
        assert!(at <= duration, "{label}");
    }
    // In the timeline, with T+ times, in the order they were marked.
    let rows: Vec<&str> = draft.lines().filter(|l| l.contains("| **")).collect();
    assert_eq!(rows.len(), 5, "{draft}");
    assert!(rows[1].contains("**Mitigated**: rolled back to 2.4.0"), "{}", rows[1]);
    assert!(rows[4].contains("**Resolved**: checkout works again"), "{}", rows[4]);
    assert!(rows.iter().all(|row| row.split('|').nth(2).is_some_and(|t| t.trim().contains(':'))));
}

/// One request as the webhook received it.
#[derive(Debug)]
struct Received {
    head: String,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }
}

/// A webhook on 127.0.0.1 that answers each request with `status` and reports
/// what it received on the channel.
fn webhook(status: &'static str) -> (u16, mpsc::Receiver<Received>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, received) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = reader.into_inner();
            let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            let _ = stream.write_all(answer.as_bytes());
            let _ = sender.send(Received { head, body: String::from_utf8_lossy(&body).into_owned() });
        }
    });
    (port, received)
}

const SECRET: &str = "s3cr3t-notify-token-8f2c";

fn notify_config(port: u16, format: &str) -> String {
    format!(
        "[[action]]\nname = \"tell stakeholders\"\nkind = \"notify\"\nwebhook = \"http://127.0.0.1:{port}/hooks/incident\"\n\
         format = \"{format}\"\nheaders = {{ Authorization = \"Bearer ${{FW_TEST_NOTIFY_TOKEN}}\" }}\nrisk = \"low\"\n"
    )
}

/// Every file under `dir`, the store included, as bytes.
fn everything_written(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            all.extend(everything_written(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_notify_action_posts_the_incident_to_the_webhook_audited_with_its_secret_sent_only_there() {
    let (port, received) = webhook("200 OK");
    let env = env_with(&notify_config(port, "slack"));
    env.ok(&["incident", "open", "orders checkout failing", "--severity", "P1", "--runbook", "first-15-minutes"]);
    env.ok(&["incident", "note", "rolled back to 2.4.0"]);
    env.ok(&["incident", "mark", "mitigated"]);

    let output = env.run_with(&["action", "run", "tell stakeholders", "--yes"], &[("FW_TEST_NOTIFY_TOKEN", SECRET)]);
    assert_eq!(code(&output), 0, "{}{}", text(&output.stdout), text(&output.stderr));
    let request = received.recv_timeout(Duration::from_secs(20)).expect("the webhook was called");
    assert!(request.head.starts_with("POST /hooks/incident HTTP/1.1"), "{}", request.head);
    assert_eq!(request.header("content-type").as_deref(), Some("application/json; charset=utf-8"));
    assert_eq!(request.header("authorization"), Some(format!("Bearer {SECRET}")));
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    let message = body["text"].as_str().unwrap();
    assert!(message.starts_with("[P1] orders checkout failing on "), "{message}");
    assert!(message.contains(", mitigated (significant degradation)"), "{message}");
    assert!(message.contains("T+") && message.contains("ana: rolled back to 2.4.0"), "{message}");
    assert_eq!(body.as_object().unwrap().len(), 1, "Slack's shape: text only");

    // Through the same road as every action: audited, on the timeline.
    let audit: serde_json::Value = serde_json::from_str(&env.ok(&["audit", "--json"])).unwrap();
    let events: Vec<&str> = audit.as_array().unwrap().iter().map(|r| r["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["request", "confirmed", "start", "succeeded"]);
    assert!(audit[3]["detail"].as_str().unwrap().contains("answered 200 OK"), "{audit}");
    let status = env.status();
    let notified: Vec<&serde_json::Value> =
        status["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "notify").collect();
    assert_eq!(notified.len(), 1, "{status}");
    assert!(notified[0]["text"].as_str().unwrap().starts_with("notified stakeholders (tell stakeholders)"));

    // The secret went to the webhook and nowhere else: not the output, the store, the operation's files.
    for shown in [&output.stdout, &output.stderr] {
        assert!(!contains(shown, SECRET), "{}", text(shown));
    }
    assert!(!contains(&everything_written(env.dir.path()), SECRET), "the secret was written under the data dir");
    let listed = env.ok(&["action", "list", "--json"]);
    assert!(listed.contains("${FW_TEST_NOTIFY_TOKEN}") && !listed.contains(SECRET), "{listed}");
}

#[test]
fn a_refused_json_notify_fails_audited_and_a_missing_secret_sends_nothing() {
    let (port, received) = webhook("500 Internal Server Error");
    let env = env_with(&notify_config(port, "json"));
    env.ok(&["incident", "open", "orders down", "--severity", "P0"]);

    let output = env.run_with(&["action", "run", "tell stakeholders", "--yes"], &[("FW_TEST_NOTIFY_TOKEN", SECRET)]);
    assert_eq!(code(&output), 1, "{}", text(&output.stderr));
    let request = received.recv_timeout(Duration::from_secs(20)).expect("the webhook was called");
    let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["incident"]["severity"], "P0");
    assert_eq!(body["incident"]["title"], "orders down");
    assert_eq!(body["incident"]["state"], "open");
    assert!(text(&output.stderr).contains("refused: 500"), "{}", text(&output.stderr));

    // Without its variable nothing is sent, and the reason names only the variable.
    let output = env.run_with(&["action", "run", "tell stakeholders", "--yes"], &[]);
    assert_eq!(code(&output), 127, "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("FW_TEST_NOTIFY_TOKEN is not set"), "{}", text(&output.stderr));
    assert!(received.recv_timeout(Duration::from_millis(300)).is_err(), "nothing reached the webhook");

    let audit: serde_json::Value = serde_json::from_str(&env.ok(&["audit", "--json"])).unwrap();
    let events: Vec<&str> = audit.as_array().unwrap().iter().map(|r| r["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["request", "confirmed", "start", "failed", "request", "confirmed", "start", "failed-to-start"]);
    let status = env.status();
    assert!(status["events"].as_array().unwrap().iter().all(|e| e["kind"] != "notify"), "{status}");
}

#[test]
fn the_built_in_first_fifteen_minutes_links_its_notify_step_when_a_notify_action_exists() {
    let (port, _received) = webhook("200 OK");
    let with = env_with(&notify_config(port, "slack"));
    let shown = with.ok(&["incident", "runbook", "first-15-minutes"]);
    let step = shown.lines().find(|l| l.contains("tell the stakeholders")).unwrap();
    assert!(step.contains("3.2") && step.ends_with("-> action `tell stakeholders`"), "{shown}");
    let without = env_with("");
    let shown = without.ok(&["incident", "runbook", "first-15-minutes"]);
    let step = shown.lines().find(|l| l.contains("tell the stakeholders")).unwrap();
    assert!(!step.contains("->"), "{step}");
}

#[test]
fn a_notify_action_without_a_webhook_or_with_a_command_is_a_config_error() {
    let env = env_with("[[action]]\nname = \"tell\"\nkind = \"notify\"\nrun = [\"true\"]\n");
    let output = env.run(&["config", "check"]);
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("needs a `webhook`") && stderr.contains("has a `run`"), "{stderr}");
    let env = env_with("[[action]]\nname = \"tell\"\nkind = \"notify\"\nwebhook = \"ftp://x/${T}\"\n");
    let output = env.run(&["config", "check"]);
    assert_eq!(code(&output), 2);
    assert!(text(&output.stderr).contains("not an http:// or https:// address"), "{}", text(&output.stderr));
}
