//! The demo's log writer: a realistic mix of lines in `logs/app.log`, JSON
//! lines with `duration_seconds` in `logs/metrics.jsonl`, and a rotation of
//! `app.log` every minute that alternates rename-and-create with
//! copytruncate, as logrotate does on the users' hosts.

use super::rng::Rng;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MESSAGES: &[(&str, &str)] = &[
    ("INFO", "GET /api/orders 200 12ms"),
    ("INFO", "GET /api/users/me 200 8ms"),
    ("INFO", "POST /api/checkout 201 94ms"),
    ("DEBUG", "cache hit ratio 0.93 over last 1000 lookups"),
    ("INFO", "worker 3 picked job sync-inventory"),
    ("WARN", "slow query: SELECT * FROM deals WHERE status = 'open' took 2.8s"),
    ("WARN", "retrying upstream payments-api (attempt 2/5)"),
    ("ERROR", "checkout failed: nil pointer dereference in cart.total"),
    ("ERROR", "upstream payments-api timed out after 10s"),
    ("INFO", "health probe ok"),
];

pub async fn run(dir: PathBuf) {
    let logs = dir.join("logs");
    let mut rng = Rng::seeded(std::process::id() as u64 ^ 0x5eed);
    // The logs tab opens on a screenful of history rather than an empty pane.
    let _ = seed_history(&logs, &mut rng);
    let mut last_rotation = Instant::now();
    let mut copytruncate = false;
    let mut sequence: u64 = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(250 + rng.below(500))).await;
        sequence += 1;
        let (level, message) = MESSAGES[rng.below(MESSAGES.len() as u64) as usize];
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let _ = append(&logs.join("app.log"), &format!("{now} {level:<5} [req {sequence:06}] {message}\n"));
        if sequence.is_multiple_of(3) {
            let line = metrics_line(&now.to_string(), &mut rng);
            let _ = append(&logs.join("metrics.jsonl"), &line);
        }
        if last_rotation.elapsed() >= Duration::from_secs(60) {
            last_rotation = Instant::now();
            let _ = rotate(&logs, copytruncate);
            copytruncate = !copytruncate;
        }
    }
}

/// Lines of the last ten minutes, written once when the logs are new.
fn seed_history(logs: &Path, rng: &mut Rng) -> std::io::Result<()> {
    let app = logs.join("app.log");
    if std::fs::metadata(&app).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let mut app_text = String::new();
    let mut metrics_text = String::new();
    for step in 0..300u32 {
        let at = now - chrono::Duration::seconds(i64::from(600 - step * 2));
        let stamp = at.format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let (level, message) = MESSAGES[rng.below(MESSAGES.len() as u64) as usize];
        app_text.push_str(&format!("{stamp} {level:<5} [req h{step:05}] {message}\n"));
        if step % 5 == 0 {
            metrics_text.push_str(&metrics_line(&stamp.to_string(), rng));
        }
    }
    append(&app, &app_text)?;
    append(&logs.join("metrics.jsonl"), &metrics_text)
}

fn metrics_line(now: &str, rng: &mut Rng) -> String {
    let duration = rng.below(12_000) as f64 / 1000.0;
    let status = if duration > 10.0 { "failure" } else { "success" };
    let level = if status == "failure" { "error" } else { "info" };
    format!(
        "{{\"time\":\"{now}\",\"level\":\"{level}\",\"operation\":\"sync-inventory\",\"duration_seconds\":{duration:.3},\"status\":\"{status}\"}}\n"
    )
}

fn append(path: &Path, line: &str) -> std::io::Result<()> {
    OpenOptions::new().create(true).append(true).open(path)?.write_all(line.as_bytes())
}

/// Keeps one old generation, like `rotate 1` in logrotate.
fn rotate(logs: &Path, copytruncate: bool) -> std::io::Result<()> {
    let current = logs.join("app.log");
    let old = logs.join("app.log.1");
    if copytruncate {
        std::fs::copy(&current, &old)?;
        OpenOptions::new().write(true).open(&current)?.set_len(0)
    } else {
        std::fs::rename(&current, &old)?;
        std::fs::File::create(&current).map(drop)
    }
}
