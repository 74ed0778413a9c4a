//! `firstwatch logs --follow` with a reader slower than the log's writer: it
//! waits for the reader, as `tail -F` does, instead of reading the file into
//! memory. The test is the slow reader: it lets 32 MiB pile up in the log
//! before reading a byte, then reads it all back, and at every step checks
//! how far ahead of it firstwatch has read the file (its offset, from
//! `/proc/PID/fdinfo`) and how much memory it holds (`/proc/PID/status`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);
/// Every log line is this long, newline included, so lines convert to bytes.
const LINE: usize = 100;
const PILED_UP: usize = 32 * 1024 * 1024;
/// Most of the file firstwatch may have read that the reader has not taken:
/// the pipe, its output buffer and its bounded queue of batches, with room to spare.
const MOST_AHEAD: u64 = 4 * 1024 * 1024;
/// The resident memory goal, whatever the rate or the reader.
const MOST_RESIDENT_KIB: u64 = 25 * 1024;

fn line(n: usize) -> String {
    let head = format!("2026-11-29T10:00:00Z INFO request {n:09} ");
    format!("{head}{}\n", "x".repeat(LINE - head.len() - 1))
}

/// A status field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("no {field} in {status}"));
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap()
}

/// How far firstwatch has read the log: the offset of its descriptor for it.
fn read_offset(pid: u32, log: &Path) -> Option<u64> {
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        if std::fs::read_link(entry.path()).ok().as_deref() == Some(log) {
            let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{}", entry.file_name().to_str()?)).ok()?;
            return info.lines().find_map(|l| l.strip_prefix("pos:")).and_then(|pos| pos.trim().parse().ok());
        }
    }
    None
}

/// Polls firstwatch (another process) until `done`, at most [`PATIENCE`].
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Kills firstwatch if the test is still reading from it after a few
/// minutes, so a stuck follower fails the test (output ends) rather than hanging it.
struct Watchdog {
    /// Dropped with the watchdog, which lets it go without killing.
    _done: std::sync::mpsc::Sender<()>,
}

impl Watchdog {
    fn new(pid: u32) -> Watchdog {
        let (done, finished) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if finished.recv_timeout(5 * PATIENCE) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                let pid = nix::unistd::Pid::from_raw(pid as i32);
                // Gone already is fine: nothing is left to stop.
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
        });
        Watchdog { _done: done }
    }
}

struct Follow {
    _dir: tempfile::TempDir,
    log: PathBuf,
    child: Child,
}

impl Follow {
    fn start(extra: &[&str]) -> Follow {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("firstwatch.toml"), "[[log]]\nname = \"app\"\npath = \"logs/app.log\"\n")
            .unwrap();
        // A first line, so the tail firstwatch starts with says it is following.
        std::fs::write(dir.path().join("logs/app.log"), line(0)).unwrap();
        // As /proc shows the descriptor's target.
        let log = dir.path().join("logs/app.log").canonicalize().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .arg("--config")
            .arg(dir.path().join("firstwatch.toml"))
            .args(["logs", "app", "--follow", "-n", "1"])
            .args(extra)
            .env("HOME", dir.path())
            .env_remove("FIRSTWATCH_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Follow { _dir: dir, log, child }
    }

    fn append(&self, text: &[u8]) {
        std::fs::OpenOptions::new().append(true).open(&self.log).unwrap().write_all(text).unwrap();
    }
}

impl Drop for Follow {
    fn drop(&mut self) {
        // The test is over either way; a child already gone is fine.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lets `PILED_UP` bytes of lines pile up unread, then reads them back
/// slowly. `prefix` is what the output adds before each line.
fn a_slow_reader_holds_firstwatch_back(extra: &[&str], prefix: &str) {
    let mut follow = Follow::start(extra);
    let pid = follow.child.id();
    let mut stdout = follow.child.stdout.take().unwrap();
    let _watchdog = Watchdog::new(pid);
    // Following: the first line comes through.
    let first = format!("{prefix}{}", line(0));
    let mut got = vec![0u8; first.len()];
    stdout.read_exact(&mut got).unwrap();
    assert_eq!(String::from_utf8_lossy(&got), first);

    let lines = PILED_UP / LINE;
    let text: String = (1..=lines).map(line).collect();
    for block in text.as_bytes().chunks(1024 * 1024) {
        follow.append(block);
    }
    let end = (LINE * (lines + 1)) as u64;
    let output_line = prefix.len() + LINE;
    let mut buffer = vec![0u8; 64 * 1024];
    let (mut taken, mut next_check) = (0usize, 0usize);
    let mut most_ahead = 0;
    let mut expected = 1;
    let mut partial = Vec::new();
    while expected <= lines {
        if taken >= next_check {
            // The reader has consumed this much of the log; firstwatch must
            // have read more (it keeps the pipe full) but not much more.
            let consumed = (LINE + taken / output_line * LINE) as u64;
            let wanted = (consumed + 32 * 1024).min(end);
            let mut offset = 0;
            wait_for("firstwatch to read on", || {
                offset = read_offset(pid, &follow.log).unwrap_or(0);
                offset >= wanted
            });
            let ahead = offset - consumed;
            most_ahead = most_ahead.max(ahead);
            assert!(ahead <= MOST_AHEAD, "{ahead} bytes read ahead of the reader at {consumed}");
            let resident = status_kib(pid, "VmRSS:");
            assert!(resident <= MOST_RESIDENT_KIB, "{resident} KiB resident at {consumed}");
            next_check += 1024 * 1024;
        }
        let read = stdout.read(&mut buffer).unwrap();
        assert!(read > 0, "output ended early, at line {expected}");
        taken += read;
        partial.extend_from_slice(&buffer[..read]);
        let whole = partial.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        for got in partial[..whole].split_inclusive(|b| *b == b'\n') {
            assert_eq!(String::from_utf8_lossy(got), format!("{prefix}{}", line(expected)), "in order, none lost");
            expected += 1;
        }
        partial.drain(..whole);
    }
    let peak = status_kib(pid, "VmHWM:");
    eprintln!("{extra:?}: at most {most_ahead} bytes read ahead of the reader; peak resident {peak} KiB");
    assert!(peak <= MOST_RESIDENT_KIB, "peak resident {peak} KiB");
}

#[test]
fn a_slow_reader_holds_the_follower_back_line_by_line() {
    a_slow_reader_holds_firstwatch_back(&[], "app ");
}

#[test]
fn a_slow_reader_holds_the_follower_back_raw() {
    a_slow_reader_holds_firstwatch_back(&["--raw"], "");
}
