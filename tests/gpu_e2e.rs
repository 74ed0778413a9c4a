//! The gpu tab in the real binary, in a pseudo-terminal: the demo's simulated
//! GPUs with their process table, and a host without a driver (this one).

mod support;

use std::time::Duration;
use support::pty::PtySession;

fn env(home: &std::path::Path) -> Vec<(&str, &str)> {
    let home = home.to_str().unwrap();
    vec![("HOME", home), ("XDG_CONFIG_HOME", home)]
}

#[test]
fn the_demo_shows_simulated_gpus_and_their_processes() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut session = PtySession::spawn(&["demo", "--dir", demo.to_str().unwrap()], &env(dir.path()), 120, 40);
    assert!(session.wait_for(Duration::from_secs(20), |s| s.contents().contains("? help")));
    session.send("3");
    let shown = session.wait_for(Duration::from_secs(10), |s| {
        let text = s.contents();
        text.contains("SIMULATED") && text.contains("GPU 3 ") && text.contains("util")
    });
    assert!(shown, "{}", session.contents());
    session.send("\r");
    assert!(
        session.wait_for(Duration::from_secs(5), |s| s.contents().contains("processes by memory")),
        "{}",
        session.contents()
    );
    session.send("s");
    assert!(session.wait_for(Duration::from_secs(5), |s| s.contents().contains("processes by pid")));
    session.send("\x1b");
    assert!(session.wait_for(Duration::from_secs(5), |s| !s.contents().contains("processes by")));
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(session.terminal_restored());
}

#[test]
fn without_a_driver_the_tab_says_why_and_the_console_carries_on() {
    if std::path::Path::new("/proc/driver/nvidia").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(&config, format!("[settings]\ndata_dir = \"{}\"\n", dir.path().join("data").display())).unwrap();
    let mut session = PtySession::spawn(&["--config", config.to_str().unwrap()], &env(dir.path()), 80, 24);
    assert!(session.wait_for(Duration::from_secs(20), |s| s.contents().contains("gpu")), "{}", session.contents());
    session.send("3");
    let shown = session.wait_for(Duration::from_secs(10), |s| {
        let text = s.contents();
        text.contains("No NVIDIA GPU found") && text.contains("libnvidia-ml.so.1")
    });
    assert!(shown, "{}", session.contents());
    session.send("1");
    assert!(session.wait_for(Duration::from_secs(5), |s| !s.contents().contains("No NVIDIA GPU found")));
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
}
