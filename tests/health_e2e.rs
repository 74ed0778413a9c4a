//! The real binary on the demo, in a pseudo-terminal: the health tab shows
//! live results of real checks within seconds, and its keys work.

mod support;

use std::time::Duration;
use support::pty::PtySession;

#[test]
fn the_demo_health_tab_shows_live_failures_suppression_and_the_detail_pane() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let demo_dir = dir.path().join("demo");
    let env = [("HOME", home.to_str().unwrap()), ("XDG_CONFIG_HOME", home.to_str().unwrap())];
    // 200 columns: the demo's fleet rows take some of the name column, and during the
    // demo's maintenance windows (02:00-03:00 daily, Sunday 03:00) each failing row's
    // message is prefixed "expected: ", which must not push the
    // suppression out of sight, whatever time of day the test runs.
    let mut session = PtySession::spawn(&["demo", "--dir", demo_dir.to_str().unwrap()], &env, 200, 40);
    let live = session.wait_for(Duration::from_secs(40), |screen| {
        let text = screen.contents();
        text.contains("✓ api") && text.contains("✗ orders") && text.contains("↳ checkout")
    });
    assert!(live, "the demo's checks never reached their states:\n{}", session.contents());
    let text = session.contents();
    assert!(text.contains("(suppressed: or"), "{text}");
    assert!(text.contains(r#"status was 500"#), "{text}");
    // The worst check is selected first; enter opens its details.
    session.send("\r");
    assert!(
        session.wait_for(Duration::from_secs(5), |s| s.contents().contains("conditions: ✗ status == 200")),
        "{}",
        session.contents()
    );
    session.send("f");
    assert!(
        session.wait_for(Duration::from_secs(5), |s| s.contents().contains("failing only")
            && !s.contents().contains("✓ api")),
        "{}",
        session.contents()
    );
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(session.terminal_restored());
}
