//! The real binary in a pseudo-terminal on the demo: the backups tab lists the
//! demo's backups within seconds, verifies them in the background, and a
//! restore typed out in the dialog replaces the demo database and keeps the old one.

mod support;

use std::time::Duration;
use support::pty::PtySession;

#[test]
fn demo_backups_verify_and_restore_through_the_tab() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let demo_dir = dir.path().join("demo");
    std::fs::create_dir_all(&home).unwrap();
    let env = [("HOME", home.to_str().unwrap()), ("XDG_CONFIG_HOME", home.to_str().unwrap()), ("NO_COLOR", "1")];
    let mut session = PtySession::spawn(&["demo", "--dir", demo_dir.to_str().unwrap()], &env, 100, 30);
    assert!(
        session.wait_for(Duration::from_secs(20), |s| s.contents().contains("6 incident")),
        "{}",
        session.contents()
    );

    session.send("5");
    let listed = session.wait_for(Duration::from_secs(10), |s| {
        let text = s.contents();
        text.contains("app db (sqlite-gz)") && text.contains("weekly archive (tar-gz)")
    });
    assert!(listed, "the demo's sets are listed within seconds:\n{}", session.contents());

    session.send("V");
    let verified = session.wait_for(Duration::from_secs(20), |s| s.contents().contains("2 CORRUPT"));
    assert!(verified, "the truncated gz and the damaged tar.gz are found:\n{}", session.contents());

    // The newest daily backup is the row under the first header.
    session.send("j");
    session.send("r");
    assert!(
        session.wait_for(Duration::from_secs(10), |s| s.contents().contains("keeps it")),
        "the dialog shows what is replaced and where it is kept:\n{}",
        session.contents()
    );
    session.send("app db");
    session.send("\r");
    assert!(
        session.wait_for(Duration::from_secs(20), |s| s.contents().contains("✓ restored")),
        "{}",
        session.contents()
    );
    let kept = std::fs::read_dir(demo_dir.join("data"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("app.db.before-restore-"));
    assert!(kept, "the previous database is kept beside it");
    session.send("\r");
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(session.terminal_restored());
}
