//! The first fifteen minutes of an incident at 80x24, in a pseudo-terminal with
//! the real binary and the demo: open it from the failing check, set the
//! severity through its runbook step, tick, write a note, run a confirmed
//! action (which ticks its step), mark the fix applied, export the post-mortem,
//! close with steps still open, and find there is nothing left to export.

mod support;

use std::time::Duration;
use support::pty::PtySession;

#[test]
fn the_first_fifteen_minutes_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let demo = dir.path().join("demo");
    std::fs::create_dir_all(&home).unwrap();
    let env = [("HOME", home.to_str().unwrap()), ("XDG_CONFIG_HOME", home.to_str().unwrap()), ("USER", "ana")];
    let mut session = PtySession::spawn(&["demo", "--dir", demo.to_str().unwrap()], &env, 80, 24);
    let wait = |session: &mut PtySession, what: &str, seconds: u64| {
        let found = session.wait_for(Duration::from_secs(seconds), |s| s.contents().contains(what));
        assert!(found, "`{what}` never appeared:\n{}", session.contents());
    };

    // The demo's orders service fails; the worst check is listed first.
    wait(&mut session, "? help", 20);
    wait(&mut session, "✗", 20);
    session.send("g");
    session.send("i");
    wait(&mut session, "new incident", 5);
    let dialog = session.contents();
    assert!(dialog.contains("failing"), "the title comes from the check:\n{dialog}");
    assert!(dialog.contains("P2"), "no incident_severity on the check: P2 is suggested:\n{dialog}");
    assert!(dialog.contains("Orders checkout failing"), "the host's runbook is suggested:\n{dialog}");
    session.send("\r");
    wait(&mut session, "#1 P2", 5);

    // Tick the first step, then set P1 through the step bound to the severity.
    session.send(" ");
    wait(&mut session, "[x] 1.1", 5);
    session.send("j");
    session.send(" ");
    wait(&mut session, "ticks step 1.2", 5);
    session.send("1\r");
    wait(&mut session, "#1 P1", 5);
    wait(&mut session, "[x] 1.2", 5);

    // A note, saved with ctrl-s.
    session.send("e");
    wait(&mut session, "ctrl-s save", 5);
    session.send("checkout answers 500 since 2.4.1");
    session.send("\x13");
    wait(&mut session, "note: checkout answers 500", 5);

    // Run the redeploy from the actions pane, typing the target to confirm it.
    session.send("l");
    session.send("r");
    wait(&mut session, "type the target `orders`", 5);
    session.send("orders\r");
    wait(&mut session, "deploy finished", 15);
    // Its step is ticked once the run (with its 30 s watch) has ended well.
    wait(&mut session, "done: redeploy orders ran", 60);

    // Mark the fix applied: a milestone, which the post-mortem's timeline lists.
    session.send("p");
    wait(&mut session, "mark a milestone", 5);
    session.send("4\r");
    wait(&mut session, "marked: fix applied", 5);

    // The post-mortem draft, written while the incident is open.
    session.send("X");
    wait(&mut session, "post-mortem written to", 10);
    let draft = find_post_mortem(&demo).expect("a post-mortem file under the demo's data folder");
    let text = std::fs::read_to_string(&draft).unwrap();
    for expected in ["P1", "Fix applied", "checkout answers 500 since 2.4.1", "redeploy orders"] {
        assert!(text.contains(expected), "the post-mortem lacks `{expected}`:\n{text}");
    }

    // Closing with steps open says how many and asks.
    session.send("C");
    wait(&mut session, "runbook steps are still open", 5);
    session.send("y");
    wait(&mut session, "ctrl-s close", 5);
    session.send("redeployed 2.4.1");
    session.send("\x13");
    wait(&mut session, "No open incident.", 5);

    session.send("X");
    wait(&mut session, "no incident is open to export", 5);

    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(session.terminal_restored());
}

/// The newest `incident-*.md` anywhere under `dir`.
fn find_post_mortem(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let mut found = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found = find_post_mortem(&path).or(found);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("incident-") && n.ends_with(".md"))
        {
            found = Some(path);
        }
    }
    found
}
