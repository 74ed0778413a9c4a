//! Every command treats a closed stdout as a normal end: no panic message, and
//! the status a shell expects from `cmd | head` (0, or death by SIGPIPE).

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

const CONFIG: &str = r#"
[settings]
data_dir = "data"

[[check]]
name = "closed port"
tcp = "127.0.0.1:1"
timeout = "2s"

[[task]]
name = "nightly vacuum"
cron = "30 3 * * *"

[[log]]
name = "app"
path = "app.log"

[[backup]]
name = "db"
dir = "backups"
pattern = "db_%Y%m%d.db"
format = "sqlite"
every = "1d"

[gpu]
simulate = 2
"#;

/// Runs the binary with a stdout pipe whose reader is already gone, so the very
/// first write fails, whatever the pipe's buffer size.
fn run_into_closed_pipe(dir: &std::path::Path, args: &[&str]) -> (std::process::ExitStatus, String) {
    let (reader, writer) = nix::unistd::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(dir.join("firstwatch.toml"))
        .args(args)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env_remove("FIRSTWATCH_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (output.status, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn every_command_ends_quietly_when_its_reader_left() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("firstwatch.toml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("app.log"), "one\ntwo\nthree\n".repeat(50)).unwrap();
    std::fs::create_dir(dir.path().join("backups")).unwrap();
    let commands: &[&[&str]] = &[
        &["--help"],
        &["config", "check"],
        &["config", "path"],
        &["check"],
        &["check", "--json"],
        &["schedule"],
        &["schedule", "next", "0 9 * * 1", "--count", "50"],
        &["logs", "app"],
        &["backups", "list"],
        &["gpu"],
        &["gpu", "--json"],
        &["runbook", "list"],
        &["incident", "list"],
        &["audit"],
        &["ops", "list"],
        &["store", "path"],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["man"],
    ];
    let mut wrong = Vec::new();
    for args in commands {
        let (status, stderr) = run_into_closed_pipe(dir.path(), args);
        let by_sigpipe = status.signal() == Some(libc::SIGPIPE);
        // A command may also have had nothing to say on stdout, and then ends with its own code.
        let panicked = stderr.contains("panicked") || stderr.contains("Broken pipe");
        if panicked || !(by_sigpipe || status.code().is_some_and(|c| c != 101)) {
            wrong.push(format!("{args:?}: {status:?}, stderr: {stderr}"));
        }
    }
    assert!(wrong.is_empty(), "commands that did not end quietly:\n{}", wrong.join("\n"));
}

#[test]
fn a_command_with_output_dies_of_sigpipe_like_coreutils() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("firstwatch.toml"), CONFIG).unwrap();
    let (status, stderr) = run_into_closed_pipe(dir.path(), &["schedule", "next", "0 9 * * 1", "--count", "50"]);
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}: {stderr}");
    assert!(stderr.is_empty(), "nothing on stderr, got: {stderr}");
}

fn generated(args: &[&str]) -> String {
    let output =
        Command::new(env!("CARGO_BIN_EXE_firstwatch")).args(args).env_remove("FIRSTWATCH_CONFIG").output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn completion_scripts_parse_in_their_shell() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("firstwatch.bash");
    std::fs::write(&script, generated(&["completions", "bash"])).unwrap();
    let check = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));
    let bash = std::fs::read_to_string(&script).unwrap();
    assert!(bash.contains("complete -F") && bash.contains("backups"), "subcommands are completed");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(generated(&["completions", shell]).contains("firstwatch"), "{shell}");
    }
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let page = generated(&["man"]);
    assert!(page.contains(".TH firstwatch 1"), "{}", &page[..page.len().min(300)]);
    for subcommand in ["check", "logs", "schedule", "backups", "gpu", "incident", "action", "ops", "audit"] {
        assert!(page.contains(&format!("firstwatch\\-{subcommand}")), "man page names {subcommand}");
    }
    assert!(!page.contains("__supervise"), "the internal subcommand stays hidden");
}
