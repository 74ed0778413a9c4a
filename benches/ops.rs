//! The supervisor road's costs, on the real binary:
//! - how much later a command starts through a supervisor than spawned directly;
//! - the CPU a follower (`firstwatch ops follow`) spends at ~1,000 lines/s.
//!
//! Run with `cargo bench --bench ops`. Figures go to the README.

use firstwatch::action::{ActionSpec, Risk};
use firstwatch::ops::confirm;
use firstwatch::ops::{self, Job};
use firstwatch::util::identity::Identity;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn nanos_now() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos()
}

fn spec(argv: &[&str], dir: &std::path::Path) -> ActionSpec {
    ActionSpec {
        name: "bench".into(),
        kind: "custom",
        target: "bench".into(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        dir: dir.to_path_buf(),
        env: Default::default(),
        timeout: Duration::from_secs(120),
        verify: Vec::new(),
        watch: Duration::ZERO,
        risk: Risk::Low,
        rollback_with: None,
        on_failed_verify: None,
        allow_dash: Vec::new(),
        backup: None,
        notify: None,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    ops::set_supervisor_program(env!("CARGO_BIN_EXE_firstwatch").into());
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(&dir.path().join("data")).unwrap();
    let who = Identity::current();
    let stamp = ["sh", "-c", "date +%s%N"];

    let mut direct = Vec::new();
    let mut supervised = Vec::new();
    for _ in 0..30 {
        let before = nanos_now();
        let output = Command::new(stamp[0]).args(&stamp[1..]).output().unwrap();
        let started: u128 = String::from_utf8_lossy(&output.stdout).trim().parse().unwrap();
        direct.push((started - before) as f64 / 1e6);

        let confirmed = confirm::by_flag(&spec(&stamp, dir.path()), false).unwrap();
        let job = Job::action(
            &confirmed,
            &Default::default(),
            store.path().to_path_buf(),
            who.clone(),
            Duration::from_millis(300),
        );
        let before = nanos_now();
        let mut launched = ops::launch(&job).unwrap();
        launched.supervisor.wait().unwrap();
        let text = std::fs::read_to_string(&launched.output).unwrap();
        let line = text.lines().find_map(|l| l.strip_prefix("O ")).unwrap();
        let started: u128 = line.trim().parse().unwrap();
        supervised.push((started - before) as f64 / 1e6);
    }
    let (direct, supervised) = (median(direct), median(supervised));
    println!("command start, direct spawn:        {direct:.1} ms (median of 30)");
    println!("command start, through a supervisor: {supervised:.1} ms (median of 30)");
    println!("added by the supervisor:             {:.1} ms", supervised - direct);

    // ~1,000 lines/s for 10 s, followed by a separate `ops follow` process.
    let chatty =
        "import time\nfor i in range(10000):\n    print('line', i, 'x' * 60, flush=True)\n    time.sleep(0.001)";
    let confirmed = confirm::by_flag(&spec(&["python3", "-c", chatty], dir.path()), false).unwrap();
    let job = Job::action(
        &confirmed,
        &Default::default(),
        store.path().to_path_buf(),
        who.clone(),
        Duration::from_millis(300),
    );
    let started = std::time::Instant::now();
    let mut launched = ops::launch(&job).unwrap();
    let config = dir.path().join("fw.toml");
    std::fs::write(&config, format!("[settings]\ndata_dir = {:?}\n", dir.path().join("data"))).unwrap();
    let mut follower = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["--config", config.to_str().unwrap(), "ops", "follow", &launched.id.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (follower_cpu, _) = cpu_of(follower.id() as i32);
    // Already reaped by wait4 above; this only satisfies the handle.
    let _ = follower.try_wait();
    let wall = started.elapsed();
    let (supervisor_cpu, _) = cpu_of(launched.supervisor.id() as i32);
    let _ = launched.supervisor.try_wait();
    let lines = std::fs::read_to_string(&launched.output).unwrap().lines().filter(|l| l.starts_with("O ")).count();
    let rate = lines as f64 / wall.as_secs_f64();
    println!("followed {lines} lines in {:.1} s ({rate:.0} lines/s)", wall.as_secs_f64());
    println!("follower CPU:   {:.2} % of a core", 100.0 * follower_cpu.as_secs_f64() / wall.as_secs_f64());
    println!("supervisor CPU: {:.2} % of a core", 100.0 * supervisor_cpu.as_secs_f64() / wall.as_secs_f64());
}

/// Waits for `pid` and returns the user+system CPU it used.
fn cpu_of(pid: i32) -> (Duration, i32) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4 on our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for a child this process spawned.
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    (time(usage.ru_utime) + time(usage.ru_stime), status)
}
