//! The wide-character redraw as a user sees it: the real console inside tmux (a
//! terminal that counts widths code point by code point, as xterm does), a
//! command check whose output starts with an emoji sequence, then shrinks.
//! Every line of the screen must keep its right border in the last column.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use unicode_width::UnicodeWidthChar;

const COLS: usize = 100;

fn tmux_available() -> bool {
    let found = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "tmux is missing; .ci/run installs it");
        eprintln!("skipped: tmux is not installed");
    }
    found
}

/// Cells a code-point terminal gives a captured line.
fn cells(line: &str) -> usize {
    line.chars().map(|c| c.width().unwrap_or(0)).sum()
}

struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.arg("-S").arg(&self.socket);
        command
    }

    fn screen(&self) -> String {
        let output = self.command().args(["capture-pane", "-p", "-t", "wide"]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Captures until `done` holds; tmux has no event to wait on, so this polls with a deadline.
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

fn assert_borders_in_place(screen: &str) {
    for (number, line) in screen.lines().enumerate() {
        let framed = line.starts_with('│') || line.starts_with('┌') || line.starts_with('└');
        if framed {
            assert_eq!(cells(line), COLS, "line {number} is {} cells, not {COLS}:\n{screen}", cells(line));
            assert!(matches!(line.chars().last(), Some('│' | '┐' | '┘')), "line {number} lost its border:\n{screen}");
        }
    }
}

#[test]
fn a_wide_row_redrawn_short_leaves_no_stale_cells() {
    if !tmux_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("deployed");
    let config = format!(
        r#"
[settings]
data_dir = "data"

[[check]]
name = "deploy tool"
command = ["sh", "-c", "if [ -e '{flag}' ]; then echo ok; else echo '⛅️ wrangler 3.78.2 ☁️ 👍🏽 🇩🇪 deploy failed with a long message'; exit 1; fi"]
every = "1s"
fail_after = 1
"#,
        flag = flag.display()
    );
    std::fs::write(dir.path().join("firstwatch.toml"), config).unwrap();
    let tmux = Tmux { socket: dir.path().join("tmux.sock") };
    let binary = env!("CARGO_BIN_EXE_firstwatch");
    let run = format!(
        "env HOME={home} XDG_CONFIG_HOME={home} LANG=C.UTF-8 TERM=tmux-256color {binary} --config {config}",
        home = dir.path().display(),
        config = Path::new(&dir.path().join("firstwatch.toml")).display()
    );
    let started = tmux
        .command()
        .args(["new-session", "-d", "-s", "wide", "-x", &COLS.to_string(), "-y", "30", &run])
        .status()
        .unwrap();
    assert!(started.success());
    let wide = tmux.wait_for("the wide message", |screen| screen.contains("deploy failed"));
    assert_borders_in_place(&wide);
    let row = check_row(&wide);
    assert!(row.contains("wrangler 3.78.2"), "the text after the emoji landed off its cells:\n{wide}");
    std::fs::write(&flag, "").unwrap();
    let short =
        tmux.wait_for("the short message", |screen| !screen.contains("deploy failed") && screen.contains(" ok"));
    assert_borders_in_place(&short);
    let row = check_row(&short);
    let after = row.split_once(" ok").map(|(_, rest)| rest).unwrap_or_default();
    assert!(after.trim_end_matches('│').trim().is_empty(), "stale cells after the short message: {row:?}\n{short}");
}

/// The health table's row of the check.
fn check_row(screen: &str) -> String {
    screen.lines().find(|line| line.contains("deploy tool")).unwrap_or_default().to_string()
}
