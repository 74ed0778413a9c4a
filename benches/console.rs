//! Measures the real console in a pseudo-terminal, as a user meets it:
//! time from process start to the first complete frame of the demo, bytes
//! written to the terminal while idle, and resident memory after idling.
//!
//! Then the console under load: 1,000 HTTP checks every second against a
//! loopback server, the health tab on screen, and the console process's own
//! CPU (from /proc; the server runs in this bench's process).
//!
//! `cargo bench --bench console` (release build); `-- checks` runs only the
//! load part. The idle period defaults to 60 s; set FIRSTWATCH_BENCH_IDLE_SECS
//! to change it.

#[path = "support/http_server.rs"]
mod http_server;
#[path = "../tests/support/pty.rs"]
#[allow(dead_code)]
mod pty;

use std::time::{Duration, Instant};

const TABS: [&str; 6] = ["health", "calendar", "gpu", "logs", "backups", "incident"];

fn main() {
    // cargo bench passes --bench; criterion-style filters are not used here.
    let idle_secs: u64 = std::env::var("FIRSTWATCH_BENCH_IDLE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let scratch = std::env::temp_dir().join(format!("firstwatch-bench-{}", std::process::id()));
    if std::env::args().any(|a| a == "checks") {
        checks_under_load(&scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        return;
    }
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
    checks_under_load(&scratch);
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

/// 1,000 HTTP checks a second in the full console: results folded into the
/// health tab, its status line and history, drawn and stored as a user has it.
fn checks_under_load(scratch: &std::path::Path) {
    let server = http_server::start();
    let dir = scratch.join("checks");
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = String::from("[settings]\ndata_dir = \"data\"\nhost_schedules = false\n\n");
    for i in 0..1000 {
        config.push_str(&format!(
            "[[check]]\nname = \"svc-{i:04}\"\nhttp = \"http://127.0.0.1:{}/health\"\nevery = \"1s\"\ntimeout = \"30s\"\n\
             expect = ['status == 200', 'json.status == \"healthy\"', 'latency < 1s']\n\n",
            server.port
        ));
    }
    let path = dir.join("firstwatch.toml");
    std::fs::write(&path, config).unwrap();
    let mut session = pty::PtySession::spawn(&["--config", path.to_str().unwrap()], &[], 120, 40);
    let drawn = session.wait_for(Duration::from_secs(30), |screen| screen.contents().contains("svc-0000"));
    assert!(drawn, "no health tab with the checks");
    // Warm-up: connections opened, the first round spread out, history written once.
    session.wait_for(Duration::from_secs(20), |_| false);
    let stat = format!("/proc/{}/stat", session.pid);
    let (cpu_before, answered_before, bytes_before, started) = (
        http_server::cpu_seconds(&stat),
        server.answered.load(std::sync::atomic::Ordering::Relaxed),
        session.raw.len(),
        Instant::now(),
    );
    session.wait_for(Duration::from_secs(30), |_| false);
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = http_server::cpu_seconds(&stat) - cpu_before;
    let checks = (server.answered.load(std::sync::atomic::Ordering::Relaxed) - answered_before) as f64;
    let bytes = session.raw.len() - bytes_before;
    session.send("q");
    session.wait_exit(Duration::from_secs(10));
    println!(
        "console/checks: {:.0} HTTP checks/s over {elapsed:.1}s (1,000 checks every 1s, health tab at 120x40)",
        checks / elapsed
    );
    println!(
        "console/checks: console CPU {:.1}% of one core ({:.0} µs per check); {:.1} KB/s to the terminal",
        cpu / elapsed * 100.0,
        cpu / checks * 1e6,
        bytes as f64 / elapsed / 1000.0
    );
}
