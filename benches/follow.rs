//! The headless follower beside GNU `tail -F`, on the same file in the same run.
//!
//! `cargo bench --bench follow` (release build). Two figures:
//!
//! - CPU: a writer appends lines of 100 bytes to a log at 20,000 and then
//!   100,000 lines/s (a write every millisecond); `tail -F`, `firstwatch logs
//!   --follow` and `firstwatch logs --follow --raw` follow it at once, each
//!   into its own output file. Each one's CPU time (user + system, all
//!   threads, from `/proc/PID/stat`) from the first line written to the last
//!   one in its output, as a share of one core over the writing time.
//! - Memory: the same writer at 150,000 lines/s, and firstwatch's output read
//!   through a pipe at about 2.5 MB/s, far slower than the log grows; its
//!   resident memory sampled every 100 ms, and its peak (`VmHWM`).
//!
//! `FIRSTWATCH_BENCH_SECS` sets how long each rate is written (default 10),
//! `FIRSTWATCH_BENCH_RATES` the rates (default `20000,100000`);
//! `FIRSTWATCH_BIN` measures another build of firstwatch. The scratch folder
//! needs room for the log and the three outputs: about 400 MB at 100,000
//! lines/s for 10 s.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LINE: usize = 100;

/// Scratch folders and processes to remove if the bench panics: release
/// builds abort on a panic, so nothing would be dropped, and the logs are
/// hundreds of megabytes.
static LEFT: std::sync::Mutex<(Vec<PathBuf>, Vec<u32>)> = std::sync::Mutex::new((Vec::new(), Vec::new()));

fn clean_up_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Ok(left) = LEFT.lock() {
            for pid in &left.1 {
                // Gone already is fine.
                let _ =
                    nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid as i32), nix::sys::signal::Signal::SIGTERM);
            }
            for dir in &left.0 {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        report(info);
    }));
}

fn remember_process(child: &Child) {
    if let Ok(mut left) = LEFT.lock() {
        left.1.push(child.id());
    }
}

fn line(n: u64) -> String {
    let head = format!("2026-11-29T10:00:00.000Z INFO  GET /api/orders 200 12ms req={n:010} ");
    format!("{head}{}\n", "x".repeat(LINE - head.len() - 1))
}

fn firstwatch() -> PathBuf {
    std::env::var_os("FIRSTWATCH_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_firstwatch")), PathBuf::from)
}

/// CPU seconds (user + system, every thread) a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum());
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / per_second
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

struct Follower {
    name: &'static str,
    child: Child,
    output: PathBuf,
}

impl Follower {
    fn spawn(name: &'static str, mut command: Command, output: PathBuf) -> Follower {
        let file = File::create(&output).unwrap();
        let child = command.stdout(file).stderr(Stdio::null()).spawn().unwrap();
        remember_process(&child);
        Follower { name, child, output }
    }

    fn written(&self) -> u64 {
        std::fs::metadata(&self.output).map_or(0, |m| m.len())
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        // Measured already; a process that ended early is fine here.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn firstwatch_command(config: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(firstwatch());
    command.arg("--config").arg(config).args(["logs", "app", "--follow", "-n", "1"]).args(extra);
    command
}

fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    if let Ok(mut left) = LEFT.lock() {
        left.0.push(dir.path().to_path_buf());
    }
    let log = dir.path().join("app.log");
    File::create(&log).unwrap();
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(&config, "[[log]]\nname = \"app\"\npath = \"app.log\"\n").unwrap();
    (dir, log, config)
}

/// Polls until `done` (these are other processes), at most a minute.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Appends `rate` lines a second for `seconds`, a write every millisecond.
fn write_at(log: &Path, rate: u64, seconds: u64, first: u64) -> Duration {
    let mut file = OpenOptions::new().append(true).open(log).unwrap();
    let total = rate * seconds;
    let started = Instant::now();
    let mut n = 0;
    let mut block = String::new();
    while n < total {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64 + 1;
        let until = due.min(total);
        if until > n {
            block.clear();
            for i in n..until {
                block.push_str(&line(first + i));
            }
            file.write_all(block.as_bytes()).unwrap();
            n = until;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    started.elapsed()
}

fn cpu_beside_tail(rate: u64, seconds: u64) {
    let (dir, log, config) = scratch();
    // A first line, which every follower prints from the tail once it is following.
    std::fs::write(&log, line(0)).unwrap();
    let mut tail = Command::new("tail");
    tail.args(["-F", "-n", "1"]).arg(&log);
    let followers = [
        Follower::spawn("tail -F", tail, dir.path().join("tail.out")),
        Follower::spawn("firstwatch logs", firstwatch_command(&config, &[]), dir.path().join("fw.out")),
        Follower::spawn("firstwatch logs --raw", firstwatch_command(&config, &["--raw"]), dir.path().join("raw.out")),
    ];
    wait_until("the followers to start", || followers.iter().all(|f| f.written() > 0));
    let before: Vec<f64> = followers.iter().map(|f| cpu_seconds(f.child.id())).collect();
    let wrote = write_at(&log, rate, seconds, 1);
    let size = std::fs::metadata(&log).unwrap().len();
    let mut used = vec![0.0; followers.len()];
    let mut caught_up = vec![Duration::ZERO; followers.len()];
    let started = Instant::now();
    for (i, follower) in followers.iter().enumerate() {
        // Output sizes differ (the tag); each output ends with the last line.
        let last = line(rate * seconds);
        wait_until(follower.name, || {
            let mut tail = vec![0u8; LINE];
            File::open(&follower.output)
                .and_then(|mut f| {
                    use std::io::{Seek, SeekFrom};
                    f.seek(SeekFrom::End(-(LINE as i64)))?;
                    f.read_exact(&mut tail)
                })
                .is_ok_and(|()| tail == last.as_bytes())
        });
        caught_up[i] = started.elapsed();
        used[i] = cpu_seconds(follower.child.id()) - before[i];
    }
    println!(
        "{rate} lines/s for {:.1} s ({} lines, {:.1} MB), a write every ms:",
        wrote.as_secs_f64(),
        rate * seconds,
        size as f64 / 1e6
    );
    for (i, follower) in followers.iter().enumerate() {
        println!(
            "  {:<22} {:5.1} % of a core ({:.2} s CPU), {:.2}x tail -F; last line out {:?} after the writer",
            follower.name,
            100.0 * used[i] / wrote.as_secs_f64(),
            used[i],
            used[i] / used[0].max(0.01),
            caught_up[i]
        );
    }
}

/// firstwatch's memory when its reader takes `reader_rate` bytes a second
/// and the log grows at `rate` lines a second.
fn memory_with_a_slow_reader(extra: &[&str], rate: u64, seconds: u64, reader_rate: usize) {
    let (_dir, log, config) = scratch();
    let mut child = firstwatch_command(&config, extra).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    remember_process(&child);
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        // About reader_rate bytes a second, in 100 reads.
        let mut buffer = vec![0u8; reader_rate / 100];
        let mut total = 0usize;
        let started = Instant::now();
        while let Ok(read) = stdout.read(&mut buffer) {
            if read == 0 {
                break;
            }
            total += read;
            let due = Duration::from_secs_f64(total as f64 / reader_rate as f64);
            std::thread::sleep(due.saturating_sub(started.elapsed()));
        }
        total
    });
    let sampler = {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while stopped.recv_timeout(Duration::from_millis(100)) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                peak = peak.max(status_kib(pid, "VmRSS:"));
            }
            peak
        });
        (stop, thread)
    };
    let wrote = write_at(&log, rate, seconds, 0);
    let hwm = status_kib(pid, "VmHWM:");
    let rss = status_kib(pid, "VmRSS:");
    drop(sampler.0);
    let sampled = sampler.1.join().unwrap_or(0);
    let size = std::fs::metadata(&log).unwrap().len();
    // Measured; ending it ends the reader's pipe.
    let _ = child.kill();
    let _ = child.wait();
    let read = reader.join().unwrap_or(0);
    println!(
        "firstwatch logs {}: log grew {:.0} MB at {rate} lines/s for {:.1} s, reader took {:.1} MB: \
         resident {} KiB at the end, {} KiB at most sampled, peak (VmHWM) {} KiB",
        extra.join(" "),
        size as f64 / 1e6,
        wrote.as_secs_f64(),
        read as f64 / 1e6,
        rss,
        sampled,
        hwm
    );
}

fn main() {
    // cargo bench passes --bench; criterion-style filters are not used here.
    clean_up_on_panic();
    let seconds: u64 = std::env::var("FIRSTWATCH_BENCH_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    println!("firstwatch: {}", firstwatch().display());
    let rates: Vec<u64> = std::env::var("FIRSTWATCH_BENCH_RATES")
        .ok()
        .map(|v| v.split(',').filter_map(|r| r.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![20_000, 100_000]);
    for rate in rates {
        cpu_beside_tail(rate, seconds);
    }
    for extra in [&[][..], &["--raw"][..]] {
        memory_with_a_slow_reader(extra, 150_000, seconds, 2_500_000);
    }
}
