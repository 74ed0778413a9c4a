//! Measures the real console in a pseudo-terminal, as a user meets it:
//! time from process start to the first complete frame of the demo, bytes
//! written to the terminal while idle, and resident memory after idling.
//!
//! `cargo bench --bench console` (release build). The idle period defaults to
//! 60 s; set FIRSTWATCH_BENCH_IDLE_SECS to change it.

#[path = "../tests/support/pty.rs"]
#[allow(dead_code)]
mod pty;

use std::time::{Duration, Instant};

const TABS: [&str; 6] = ["health", "calendar", "gpu", "logs", "backups", "incident"];

fn main() {
    // cargo bench passes --bench; criterion-style filters are not used here.
    let idle_secs: u64 = std::env::var("FIRSTWATCH_BENCH_IDLE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let scratch = std::env::temp_dir().join(format!("firstwatch-bench-{}", std::process::id()));
    let mut startups = Vec::new();
    for round in 0..5 {
        let dir = scratch.join(format!("run{round}"));
        let started = Instant::now();
        let mut session = pty::PtySession::spawn(&["demo", "--dir", dir.to_str().unwrap()], &[], 120, 40);
        let drawn = session.wait_for(Duration::from_secs(30), |screen| {
            let text = screen.contents();
            TABS.iter().all(|t| text.contains(t)) && text.contains("? help")
        });
        assert!(drawn, "no first frame");
        startups.push(started.elapsed());
        if round < 4 {
            session.send("q");
            session.wait_exit(Duration::from_secs(5));
            continue;
        }
        // Idle: count every byte written after the first frame.
        let before = session.raw.len();
        let idle_started = Instant::now();
        session.wait_for(Duration::from_secs(idle_secs), |_| false);
        let idle_bytes = session.raw.len() - before;
        let rss_kib = std::fs::read_to_string(format!("/proc/{}/status", session.pid))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| l.to_string()))
            .unwrap_or_default();
        session.send("q");
        session.wait_exit(Duration::from_secs(5));
        startups.sort();
        println!(
            "start to first complete frame (demo, 5 runs): median {:?}, min {:?}, max {:?}",
            startups[2], startups[0], startups[4]
        );
        println!(
            "bytes written by the demo (health tab, live checks) for {:?}: {idle_bytes} ({:.1} per minute)",
            idle_started.elapsed(),
            idle_bytes as f64 * 60.0 / idle_started.elapsed().as_secs_f64()
        );
        println!("resident memory after idling: {}", rss_kib.trim_start_matches("VmRSS:").trim());
    }
    quiet_idle(&scratch, idle_secs);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The same idle measurement on a console where nothing changes: a config
/// with no sources, so only the once-a-minute clock may write.
fn quiet_idle(scratch: &std::path::Path, idle_secs: u64) {
    let dir = scratch.join("quiet");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("firstwatch.toml");
    std::fs::write(&config, "[settings]\ndata_dir = \"data\"\nhost_schedules = false\n").unwrap();
    let mut session = pty::PtySession::spawn(&["--config", config.to_str().unwrap()], &[], 120, 40);
    let drawn = session.wait_for(Duration::from_secs(30), |screen| screen.contents().contains("? help"));
    assert!(drawn, "no first frame on the quiet config");
    // Let first loads (store, history) settle, then count.
    session.wait_for(Duration::from_secs(2), |_| false);
    let before = session.raw.len();
    let started = Instant::now();
    session.wait_for(Duration::from_secs(idle_secs), |_| false);
    let bytes = session.raw.len() - before;
    session.send("q");
    session.wait_exit(Duration::from_secs(5));
    println!(
        "bytes written while idle on a config with no sources for {:?}: {bytes} ({:.1} per minute, the clock included)",
        started.elapsed(),
        bytes as f64 * 60.0 / started.elapsed().as_secs_f64()
    );
}
