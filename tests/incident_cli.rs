//! `firstwatch incident`, `action` and `audit` through the real binary, with a temporary config.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const CONFIG: &str = r#"
[settings]
data_dir = "data"

[[action]]
name = "say hello"
kind = "custom"
target = "greeter"
run = ["sh", "-c", "echo hello from $NAME"]
env = { NAME = "firstwatch" }
risk = "low"

[[action]]
name = "fail"
kind = "custom"
target = "greeter"
run = ["sh", "-c", "echo broken >&2; exit 5"]

[[action]]
name = "touch marker"
kind = "redeploy"
target = "web"
run = ["touch", "marker"]
"#;

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(&config, CONFIG).unwrap();
    Env { dir, config }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("USER", "ana")
            .env_remove("SUDO_USER")
            .env_remove("SSH_CONNECTION")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn marker(&self) -> bool {
        self.dir.path().join("marker").exists()
    }

    fn audit_events(&self) -> Vec<String> {
        let output = self.run(&["audit", "--json"]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        rows.as_array().unwrap().iter().map(|r| r["event"].as_str().unwrap().to_string()).collect()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[test]
fn without_a_terminal_an_action_needs_yes_and_the_refusal_is_audited() {
    let env = env();
    let output = env.run(&["action", "run", "touch marker"]);
    assert_eq!(code(&output), 3, "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("stdin is not a terminal"), "{}", text(&output.stderr));
    assert!(!env.marker());
    assert_eq!(env.audit_events(), ["request", "refused"]);
}

#[test]
fn read_only_refuses_even_with_yes() {
    let env = env();
    let output = env.run(&["--read-only", "action", "run", "touch marker", "--yes"]);
    assert_eq!(code(&output), 3);
    assert!(text(&output.stderr).contains("read-only"), "{}", text(&output.stderr));
    assert!(!env.marker());
    let rows = env.run(&["audit", "--event", "refused"]);
    assert!(text(&rows.stdout).contains("read-only") && text(&rows.stdout).contains("ana"), "{}", text(&rows.stdout));
}

#[test]
fn confirm_must_name_the_target() {
    let env = env();
    let wrong = env.run(&["action", "run", "touch marker", "--confirm", "wbe"]);
    assert_eq!(code(&wrong), 3);
    assert!(text(&wrong.stderr).contains("expected `web`"), "{}", text(&wrong.stderr));
    assert!(!env.marker());
    let right = env.run(&["action", "run", "touch marker", "--confirm", "web"]);
    assert_eq!(code(&right), 0, "{}", text(&right.stderr));
    assert!(env.marker());
    assert_eq!(env.audit_events(), ["request", "refused", "request", "confirmed", "start", "succeeded"]);
}

#[test]
fn the_commands_exit_code_and_output_come_through() {
    let env = env();
    let failed = env.run(&["action", "fail", "--yes"]);
    assert_eq!(code(&failed), 5);
    assert!(text(&failed.stderr).contains("broken"), "{}", text(&failed.stderr));
    let hello = env.run(&["action", "say hello", "--yes"]);
    assert_eq!(code(&hello), 0);
    assert!(text(&hello.stdout).contains("hello from firstwatch"), "{}", text(&hello.stdout));
    let dry = env.run(&["action", "run", "touch marker", "--dry-run"]);
    assert_eq!(code(&dry), 0);
    assert!(text(&dry.stdout).contains("would run touch marker"), "{}", text(&dry.stdout));
    assert!(!env.marker());
    let unknown = env.run(&["action", "run", "nope", "--yes"]);
    assert_eq!(code(&unknown), 2);
    assert!(text(&unknown.stderr).contains("known: say hello, fail, touch marker"), "{}", text(&unknown.stderr));
}

#[test]
fn action_list_as_json() {
    let env = env();
    let output = env.run(&["action", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[2]["argv"], serde_json::json!(["touch", "marker"]));
    assert_eq!(list[0]["risk"], "low");
}

#[test]
fn an_incident_from_open_to_export_and_close() {
    let env = env();
    let opened = env.run(&["incident", "open", "orders down", "--severity", "P1", "--runbook", "service-down"]);
    assert_eq!(code(&opened), 0, "{}", text(&opened.stderr));
    let id: i64 = text(&opened.stdout).trim().parse().unwrap();
    let again = env.run(&["incident", "open", "another"]);
    assert_eq!(code(&again), 1);
    assert!(text(&again.stderr).contains("already open"), "{}", text(&again.stderr));

    assert_eq!(code(&env.run(&["incident", "tick", "1.1"])), 0);
    let bad_step = env.run(&["incident", "tick", "9.9"]);
    assert_eq!(code(&bad_step), 1);
    assert!(text(&bad_step.stderr).contains("no step 9.9"), "{}", text(&bad_step.stderr));
    assert_eq!(code(&env.run(&["incident", "note", "checked the status page", "--step", "1.2"])), 0);

    let status = env.run(&["incident", "status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["incident"]["id"], id);
    assert_eq!(status["incident"]["severity"], "P1");
    assert_eq!(status["events"].as_array().unwrap().len(), 3);

    let file = env.dir.path().join("pm.md");
    let export = env.run(&["incident", "export", "--output", file.to_str().unwrap()]);
    assert_eq!(code(&export), 0, "{}", text(&export.stderr));
    let draft = std::fs::read_to_string(&file).unwrap();
    assert!(draft.starts_with("# Post-mortem: orders down"), "{draft}");
    assert!(draft.contains("- [x] 1.1 Look at the failing health check (done by ana"), "{draft}");
    assert!(draft.contains("checked the status page"), "{draft}");

    let close = env.run(&["incident", "close", "--resolution", "redeployed"]);
    assert_eq!(code(&close), 0);
    assert_eq!(text(&env.run(&["incident", "status"]).stdout).trim(), "no open incident");
    let list = text(&env.run(&["incident", "list"]).stdout);
    assert!(list.contains("closed after") && list.contains("orders down"), "{list}");
}

#[test]
fn audit_since_filters_and_rejects_nonsense() {
    let env = env();
    env.run(&["action", "say hello", "--yes"]);
    let recent = env.run(&["audit", "--since", "1h", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&recent.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 4);
    let future = env.run(&["audit", "--since", "2999-01-01", "--json"]);
    assert_eq!(text(&future.stdout).trim(), "[]");
    let bad = env.run(&["audit", "--since", "yesterday-ish"]);
    assert_eq!(code(&bad), 2);
    assert!(text(&bad.stderr).contains("is not a time"), "{}", text(&bad.stderr));
}

#[test]
fn runbooks_are_listed_and_a_malformed_one_is_reported_with_its_line() {
    let env = env();
    let list = text(&env.run(&["incident", "runbooks"]).stdout);
    for name in ["first-15-minutes", "service-down", "data-corruption", "general-outage"] {
        assert!(list.contains(name), "{list}");
    }
    let bad = env.dir.path().join("bad.md");
    std::fs::write(&bad, "# Bad\n## Phase\n- [ ] ok\n- [ ] wrong {run: x}\n").unwrap();
    let check = env.run(&["incident", "check-runbook", bad.to_str().unwrap()]);
    assert_eq!(code(&check), 2);
    assert!(text(&check.stderr).contains("bad.md:4:"), "{}", text(&check.stderr));
    // The same through `firstwatch runbook`.
    assert_eq!(text(&env.run(&["runbook", "list"]).stdout), list);
    let check = env.run(&["runbook", "check", bad.to_str().unwrap()]);
    assert_eq!(code(&check), 2);
    assert!(text(&check.stderr).contains("bad.md:4:"), "{}", text(&check.stderr));
    let shown = env.run(&["runbook", "show", "service-down"]);
    assert_eq!(code(&shown), 0);
    assert!(text(&shown.stdout).contains("Service down"), "{}", text(&shown.stdout));
}

#[test]
fn an_unknown_risk_is_a_config_error_with_its_position() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid/bad_action_risk.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["config", "check", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("bad_action_risk.toml:6:8") && stderr.contains("unknown risk `medium`"), "{stderr}");
}

#[test]
fn set_fills_placeholders_inside_single_arguments() {
    let env = env();
    let config = format!(
        "{CONFIG}\n[[action]]\nname = \"echo version\"\nkind = \"custom\"\ntarget = \"greeter\"\nrun = [\"printf\", \"[%s]\\\\n\", \"v={{version}}\"]\n"
    );
    std::fs::write(&env.config, config).unwrap();
    let missing = env.run(&["action", "run", "echo version", "--yes"]);
    assert_eq!(code(&missing), 2);
    assert!(text_of(&missing).contains("--set version=VALUE"), "{}", text_of(&missing));
    let output = env.run(&["action", "run", "echo version", "--yes", "--set", "version=1; touch PWNED"]);
    assert_eq!(code(&output), 0, "{}", text_of(&output));
    assert_eq!(text(&output.stdout).trim(), "[v=1; touch PWNED]");
    assert!(!env.dir.path().join("PWNED").exists());
}

fn text_of(output: &Output) -> String {
    text(&output.stderr)
}

mod support;

/// On a terminal the command asks for the target's name, as the console's dialog does.
#[test]
fn on_a_terminal_the_prompt_wants_the_target_typed() {
    let env = env();
    let config = env.config.to_str().unwrap().to_string();
    let args = ["--config", config.as_str(), "action", "run", "touch marker"];
    let mut wrong = support::pty::PtySession::spawn(&args, &[("USER", "ana")], 100, 30);
    assert!(
        wrong.wait_for(std::time::Duration::from_secs(10), |s| s.contents().contains("type the target name `web`"))
    );
    assert!(wrong.contents().contains("runs     touch marker"), "{}", wrong.contents());
    wrong.send("wbe\r");
    assert_eq!(wrong.wait_exit(std::time::Duration::from_secs(10)), Some(3));
    assert!(!env.marker());

    let mut right = support::pty::PtySession::spawn(&args, &[("USER", "ana")], 100, 30);
    assert!(right.wait_for(std::time::Duration::from_secs(10), |s| s.contents().contains("type the target name")));
    right.send("web\r");
    assert_eq!(right.wait_exit(std::time::Duration::from_secs(10)), Some(0));
    assert!(env.marker());
    assert_eq!(env.audit_events(), ["request", "refused", "request", "confirmed", "start", "succeeded"]);
}

/// Starts `action run "touch marker"` in a terminal and types `typed_ahead` before its
/// prompt can open: the test holds the store's write lock, so the command waits on
/// its audit log until the keys are in (their echo is on screen), then is let go.
fn spawn_with_keys_typed_ahead(env: &Env, typed_ahead: &str) -> support::pty::PtySession {
    let data = env.dir.path().join("data");
    drop(firstwatch::store::Store::open_in(&data).unwrap());
    let blocker = rusqlite::Connection::open(data.join("firstwatch.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let config = env.config.to_str().unwrap().to_string();
    let args = ["--config", config.as_str(), "action", "run", "touch marker"];
    let mut session = support::pty::PtySession::spawn(&args, &[("USER", "ana")], 100, 30);
    session.send(typed_ahead);
    let echoed = typed_ahead.trim_end();
    assert!(session.wait_for(std::time::Duration::from_secs(10), |s| s.contents().contains(echoed)));
    assert!(!session.contents().contains("type the target name"), "the prompt opened too soon");
    blocker.execute_batch("COMMIT").unwrap();
    drop(blocker);
    assert!(
        session.wait_for(std::time::Duration::from_secs(15), |s| s.contents().contains("type the target name `web`")),
        "{}",
        session.contents()
    );
    session
}

/// `web⏎` typed while the details were still printing must not confirm a high-risk action.
#[test]
fn keys_typed_before_the_prompt_opened_do_not_answer_it() {
    let env = env();
    let mut early = spawn_with_keys_typed_ahead(&env, "web\r");
    assert!(!env.marker(), "nothing may run before an answer");
    early.send("\r");
    assert_eq!(early.wait_exit(std::time::Duration::from_secs(10)), Some(3), "{}", early.contents());
    assert!(early.contents().contains("cancelled; nothing was run"), "{}", early.contents());
    assert!(!env.marker(), "the typed-ahead name was thrown away, so enter alone cancelled");

    // Typed after the prompt appeared, the same name confirms.
    let mut late = spawn_with_keys_typed_ahead(&env, "web\r");
    late.send("web\r");
    assert_eq!(late.wait_exit(std::time::Duration::from_secs(10)), Some(0), "{}", late.contents());
    assert!(env.marker());
    assert_eq!(env.audit_events(), ["request", "cancelled", "request", "confirmed", "start", "succeeded"]);
}

#[test]
fn help_documents_the_exit_codes() {
    let env = env();
    for command in ["action", "incident", "audit"] {
        let output = env.run(&[command, "--help"]);
        assert!(text(&output.stdout).contains("Exit codes:"), "{command}: {}", text(&output.stdout));
    }
}
