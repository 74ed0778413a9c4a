//! The real binary in a pseudo-terminal: it draws, reacts to keys, and always
//! gives the terminal back, whatever ends it.

mod support;

use std::time::{Duration, Instant};
use support::pty::PtySession;

const TABS: [&str; 6] = ["health", "calendar", "gpu", "logs", "backups", "incident"];

fn start_demo(extra_env: &[(&str, &str)]) -> (PtySession, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let demo_dir = dir.path().join("demo");
    std::fs::create_dir_all(&home).unwrap();
    let env: Vec<(&str, &str)> = [("HOME", home.to_str().unwrap()), ("XDG_CONFIG_HOME", home.to_str().unwrap())]
        .into_iter()
        .chain(extra_env.iter().copied())
        .collect();
    let mut session = PtySession::spawn(&["demo", "--dir", demo_dir.to_str().unwrap()], &env, 100, 30);
    let drawn = session.wait_for(Duration::from_secs(20), |screen| {
        let text = screen.contents();
        TABS.iter().all(|tab| text.contains(tab)) && text.contains("? help")
    });
    assert!(drawn, "the first frame never showed all six tabs:\n{}", session.contents());
    assert!(session.parser.screen().alternate_screen(), "the console must draw on the alternate screen");
    (session, dir)
}

#[test]
fn demo_draws_switches_tabs_shows_help_and_quits_cleanly() {
    let (mut session, _dir) = start_demo(&[]);
    session.send("3");
    assert!(
        session.wait_for(Duration::from_secs(5), |s| s.contents().contains("(simulated)")),
        "{}",
        session.contents()
    );
    session.send("?");
    assert!(session.wait_for(Duration::from_secs(5), |s| s.contents().contains("keys: gpu")), "{}", session.contents());
    session.send("q"); // closes help
    assert!(session.wait_for(Duration::from_secs(5), |s| !s.contents().contains("keys: gpu")));
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(session.terminal_restored(), "alternate screen left and cursor shown");
}

#[test]
fn sighup_restores_the_terminal() {
    let (mut session, _dir) = start_demo(&[]);
    session.signal(libc::SIGHUP);
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(129));
    assert!(session.terminal_restored());
}

#[test]
fn sigterm_restores_the_terminal() {
    let (mut session, _dir) = start_demo(&[]);
    session.signal(libc::SIGTERM);
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(143));
    assert!(session.terminal_restored());
}

#[test]
fn closing_the_pty_under_it_ends_the_process_within_two_seconds() {
    let (mut session, _dir) = start_demo(&[]);
    let closed_at = Instant::now();
    session.close_master();
    let code = session.wait_exit_without_output(Duration::from_secs(2));
    assert!(code.is_some(), "still running {:?} after the terminal went away", closed_at.elapsed());
}

#[cfg(debug_assertions)]
#[test]
fn a_panic_in_another_thread_restores_the_terminal_and_exits_non_zero() {
    // The panic follows the first frame at once, so the frame is looked for in
    // everything written rather than on a screen that may already be gone.
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let mut session =
        PtySession::spawn(&["demo", "--dir", demo_dir.to_str().unwrap()], &[("FIRSTWATCH_DEBUG_PANIC", "1")], 100, 30);
    let code = session.wait_exit(Duration::from_secs(20));
    assert_eq!(code, Some(101));
    assert!(session.terminal_restored());
    let text = String::from_utf8_lossy(&session.raw);
    assert!(TABS.iter().all(|tab| text.contains(tab)), "the first frame was drawn before the panic: {text}");
    assert!(text.contains("firstwatch crashed in thread 'debug-panic'"), "{text}");
}

#[test]
fn a_terminal_too_small_gets_a_notice_and_resizing_redraws() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let mut session = PtySession::spawn(&["demo", "--dir", demo_dir.to_str().unwrap()], &[], 60, 20);
    assert!(
        session.wait_for(Duration::from_secs(20), |s| s.contents().contains("need 80x24, have 60x20")),
        "{}",
        session.contents()
    );
    session.resize(100, 30);
    assert!(
        session.wait_for(Duration::from_secs(5), |s| s.contents().contains("6 incident")),
        "after growing the window the console is drawn:\n{}",
        session.contents()
    );
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(session.terminal_restored());
}

#[test]
fn every_tab_of_the_demo_has_its_own_body_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let mut session = PtySession::spawn(&["demo", "--dir", demo_dir.to_str().unwrap()], &[], 80, 24);
    assert!(session.wait_for(Duration::from_secs(20), |s| s.contents().contains("? help")));
    // What each tab shows once its engine has reported, in tab order.
    let bodies =
        [("1", "✓ api"), ("2", "agenda"), ("3", "(simulated)"), ("4", "● live"), ("5", "app db"), ("6", "Runbooks")];
    for (key, body) in bodies {
        session.send(key);
        assert!(
            session.wait_for(Duration::from_secs(10), |s| s.contents().contains(body)),
            "tab {key} never showed {body:?}:\n{}",
            session.contents()
        );
        assert!(!session.contents().contains("not built yet"), "{}", session.contents());
    }
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(session.terminal_restored());
}

#[test]
fn a_c_locale_gets_an_ascii_console_with_every_tab_and_not_one_byte_above_0x7f() {
    let (mut session, _dir) = start_demo(&[("LANG", "C"), ("LC_ALL", "C")]);
    for key in ["1", "2", "3", "4", "5", "6", "?"] {
        session.send(key);
    }
    assert!(
        session.wait_for(Duration::from_secs(5), |s| s.contents().contains("keys: incident")),
        "{}",
        session.contents()
    );
    let text = session.contents();
    assert!(TABS.iter().all(|tab| text.contains(tab)), "{text}");
    session.send("q");
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    let high: Vec<u8> = session.raw.iter().copied().filter(|b| *b > 0x7f).collect();
    assert!(
        high.is_empty(),
        "{} bytes above 0x7f reached the terminal, e.g. {:?}",
        high.len(),
        &high[..high.len().min(16)]
    );
}

#[test]
fn y_sends_the_selection_to_the_clipboard_with_osc_52() {
    let (mut session, _dir) = start_demo(&[]);
    session.send("y");
    assert!(session.wait_for(Duration::from_secs(5), |s| s.contents().contains("copied")), "{}", session.contents());
    let osc52 = b"\x1b]52;c;";
    assert!(session.raw.windows(osc52.len()).any(|w| w == osc52), "no OSC 52 sequence was written");
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
}
