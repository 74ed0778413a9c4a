//! The logs tab in the real binary in a pseudo-terminal: the demo streams
//! lines at once, and a hostile line reaches the screen with no escape
//! sequence, bell or clipboard write among the bytes sent to the terminal.

mod support;

use std::time::Duration;
use support::pty::PtySession;

fn home(dir: &std::path::Path) -> String {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    home.to_str().unwrap().to_string()
}

#[test]
fn the_demo_logs_tab_shows_history_then_new_lines_as_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path());
    let demo = dir.path().join("demo");
    let env = [("HOME", home.as_str()), ("XDG_CONFIG_HOME", home.as_str())];
    let mut session = PtySession::spawn(&["demo", "--dir", demo.to_str().unwrap()], &env, 100, 30);
    assert!(session.wait_for(Duration::from_secs(20), |s| s.contents().contains("? help")));
    session.send("4");
    let shown = session.wait_for(Duration::from_secs(20), |s| {
        let text = s.contents();
        text.contains("app ● live") && text.contains("metrics ● live") && text.matches("[req ").count() >= 15
    });
    assert!(shown, "a screenful of lines from live sources:\n{}", session.contents());
    // Live lines are numbered [req 000001], [req 000002], ...; a newer one must arrive.
    let newest = latest_request(&session.contents());
    let streaming = session.wait_for(Duration::from_secs(20), |s| latest_request(&s.contents()) > newest);
    assert!(streaming, "new lines appear while watching (after {newest}):\n{}", session.contents());
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
}

/// The highest live request number on screen (history lines are numbered hNNNNN and count as 0).
fn latest_request(screen: &str) -> u64 {
    screen.split("[req ").skip(1).filter_map(|rest| rest.get(..6)?.parse().ok()).max().unwrap_or(0)
}

#[test]
fn a_hostile_line_never_reaches_the_terminal_as_escape_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let home = home(dir.path());
    let log = dir.path().join("hostile.log");
    std::fs::write(&log, b"A\x1b]0;PWNED\x07\x1b]52;c;cm0=\x07\x1b[2JFAKE\nINFO after\n").unwrap();
    let config = dir.path().join("firstwatch.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!("[settings]\ndata_dir = {:?}\n\n[[log]]\nname = \"evil\"\npath = {:?}\n", data, log),
    )
    .unwrap();
    let env = [("HOME", home.as_str()), ("XDG_CONFIG_HOME", home.as_str())];
    let mut session = PtySession::spawn(&["--config", config.to_str().unwrap()], &env, 80, 24);
    assert!(session.wait_for(Duration::from_secs(20), |s| s.contents().contains("? help")));
    session.send("4");
    let shown = session.wait_for(Duration::from_secs(20), |s| s.contents().contains("AFAKE"));
    assert!(shown, "{}", session.contents());
    let raw = &session.raw;
    let find = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(!find(b"PWNED") && !find(b"]52;") && !find(b"\x1b]0;"), "no OSC title or clipboard sequence");
    assert!(!raw.contains(&0x07), "no bell");
    assert!(!find(b"\x1b[2JFAKE"), "no screen clear from the log");
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
}
