//! The gpu tab in the real binary, in a pseudo-terminal: the demo's simulated
//! fleet (served by the demo over Prometheus's API), simulated local GPUs with
//! their process table, and a host without a driver (this one).

mod support;

use std::time::Duration;
use support::pty::PtySession;

fn env(home: &std::path::Path) -> Vec<(&str, &str)> {
    let home = home.to_str().unwrap();
    vec![("HOME", home), ("XDG_CONFIG_HOME", home)]
}

#[test]
fn the_demo_starts_with_its_simulated_fleet_on_the_gpu_tab() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let mut session = PtySession::spawn(&["demo", "--dir", demo.to_str().unwrap()], &env(dir.path()), 80, 24);
    assert!(session.wait_for(Duration::from_secs(20), |s| s.contents().contains("? help")));
    session.send("3");
    let shown = session.wait_for(Duration::from_secs(15), |s| {
        let text = s.contents();
        text.contains("engine `demo-fleet (simulated)` · 4 hosts · 22 GPUs") && text.contains("live")
    });
    assert!(shown, "{}", session.contents());
    // Worst first: the host with the GPU that runs hot, its summary line saying so.
    let first = session.contents().lines().nth(3).unwrap_or_default().to_string();
    assert!(first.contains("h100-02 · 8 GPUs") && first.contains("CRIT 1/8"), "{}", session.contents());
    session.send("f");
    assert!(
        session.wait_for(Duration::from_secs(5), |s| s.contents().contains("+ t4-edge-04 · 2 GPUs")),
        "f folds every host to its summary line: {}",
        session.contents()
    );
    session.send("s");
    assert!(session.wait_for(Duration::from_secs(5), |s| s.contents().contains("sort: by name")));
    session.send("q");
    assert_eq!(session.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(session.terminal_restored());
}

#[test]
fn simulated_local_gpus_show_their_processes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("firstwatch.toml");
    let data = dir.path().join("data");
    std::fs::write(&config, format!("[settings]\ndata_dir = \"{}\"\n[gpu]\nsimulate = 4\n", data.display())).unwrap();
    let mut session = PtySession::spawn(&["--config", config.to_str().unwrap()], &env(dir.path()), 120, 40);
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
