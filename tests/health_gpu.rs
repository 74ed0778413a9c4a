//! GPU thresholds as signals: `[[check]] gpu = ...` judged from a fake source,
//! and `firstwatch gpu` / `firstwatch check` exit codes through the real binary
//! with the simulated GPUs (this host has no GPU).

use firstwatch::config::load_str;
use firstwatch::gpu::{DeviceReading, GpuSample, GpuSource, Memory, Reading, SourceError};
use firstwatch::health::{CheckSpec, Level, Outcome, Prober};
use std::path::Path;
use std::process::Command;

const GIB: u64 = 1 << 30;

/// Two GPUs: 0 is calm, 1 is at 92 % memory and 85 °C; power is not reported by 1.
struct Fake(Result<Vec<DeviceReading>, SourceError>);

impl GpuSource for Fake {
    fn describe(&self) -> String {
        "fake".into()
    }

    fn sample(&mut self) -> Result<Vec<DeviceReading>, SourceError> {
        self.0.clone()
    }
}

fn gpu(index: u32, memory_percent: u64, celsius: u32, power: Option<(u32, u32)>) -> DeviceReading {
    let mut sample = GpuSample::bare(index, format!("Fake GPU {index}"));
    sample.memory = Reading::Value(Memory { used: memory_percent * GIB, total: 100 * GIB });
    sample.temperature = Reading::Value(celsius);
    sample.utilization_gpu = Reading::Value(40 + index * 50);
    if let Some((draw, limit)) = power {
        sample.power_draw_mw = Reading::Value(draw);
        sample.power_limit_mw = Reading::Value(limit);
    }
    DeviceReading::Sampled(Box::new(sample))
}

fn two_gpus() -> Vec<DeviceReading> {
    vec![gpu(0, 40, 60, Some((200_000, 400_000))), gpu(1, 92, 85, None)]
}

async fn run(check: &str, readings: Result<Vec<DeviceReading>, SourceError>) -> Outcome {
    let toml = format!("[[check]]\nname = \"g\"\n{check}\n");
    let config = load_str(&toml, Path::new("/tmp/firstwatch.toml")).unwrap_or_else(|e| panic!("{e}"));
    let spec = CheckSpec::build_all(&config).0.remove(0);
    Prober::with_gpu_source(Box::new(Fake(readings))).run(&spec).await
}

#[tokio::test]
async fn memory_watches_the_worst_gpu_unless_one_is_named() {
    let worst = run("gpu = \"memory\"", Ok(two_gpus())).await;
    assert_eq!(worst.level, Level::Warning, "{}", worst.message);
    assert_eq!(worst.message, "GPU 1 (Fake GPU 1) memory 92% (92.0/100.0 GiB) at or above warn 90%");
    let first = run("gpu = \"memory\"\ngpu_index = 0", Ok(two_gpus())).await;
    assert_eq!(first.level, Level::Ok, "{}", first.message);
    assert_eq!(first.message, "GPU 0 (Fake GPU 0) memory 40% (40.0/100.0 GiB)");
    let own = run("gpu = \"memory\"\ncritical = \"91%\"", Ok(two_gpus())).await;
    assert_eq!(own.level, Level::Critical, "the check's own threshold wins: {}", own.message);
}

#[tokio::test]
async fn temperature_power_and_utilization_have_their_thresholds() {
    let hot = run("gpu = \"temperature\"", Ok(two_gpus())).await;
    assert_eq!(
        (hot.level, hot.message.as_str()),
        (Level::Warning, "GPU 1 (Fake GPU 1) temperature 85°C at or above warn 80°C")
    );
    let power = run("gpu = \"power\"", Ok(two_gpus())).await;
    assert_eq!(power.level, Level::Ok, "GPU 1 does not report power; GPU 0 is at half: {}", power.message);
    assert!(power.message.contains("GPU 0 (Fake GPU 0) power 50% of its limit (200/400 W)"), "{}", power.message);
    let unreported = run("gpu = \"power\"\ngpu_index = 1", Ok(two_gpus())).await;
    assert_eq!(unreported.level, Level::Unknown);
    assert!(unreported.message.contains("GPU 1 does not report power"), "{}", unreported.message);
    let busy = run("gpu = \"utilization\"\nwarn = \"85%\"", Ok(two_gpus())).await;
    assert_eq!(busy.level, Level::Warning, "{}", busy.message);
    assert!(busy.message.starts_with("GPU 1 (Fake GPU 1) utilization 90%"), "{}", busy.message);
}

#[tokio::test]
async fn a_lost_gpu_is_critical_and_no_driver_is_could_not_read() {
    let mut readings = two_gpus();
    readings.push(DeviceReading::Lost { index: 2, reason: "GPU has fallen off the bus".into() });
    let lost = run("gpu = \"memory\"", Ok(readings)).await;
    assert_eq!(lost.level, Level::Critical);
    assert_eq!(lost.message, "GPU 2 lost: GPU has fallen off the bus");

    let none = run("gpu = \"memory\"", Err(SourceError::NoGpu("no NVIDIA driver found".into()))).await;
    assert_eq!(none.level, Level::Unknown);
    assert_eq!(none.message, "could not read GPUs: No NVIDIA GPU found: no NVIDIA driver found");
    let missing = run("gpu = \"memory\"\ngpu_index = 7", Ok(two_gpus())).await;
    assert_eq!((missing.level, missing.message.as_str()), (Level::Unknown, "no GPU 7 on this host (2 found)"));
}

#[test]
fn bad_gpu_checks_are_config_errors() {
    for (body, expected) in [
        ("gpu = \"fan\"\n", "unknown gpu gauge `fan`"),
        ("gpu = \"utilization\"\n", "a gpu utilization check needs warn or critical"),
        ("tcp = \"a:1\"\ngpu_index = 1\n", "gpu_index belongs to a gpu check"),
        ("gpu = \"memory\"\nexpect = ['status == 200']\n", "cannot apply to a gpu check"),
        ("gpu = \"xid\"\ngpu_index = 0\n", "an xid check watches every GPU; leave out gpu_index"),
    ] {
        let text = format!("[[check]]\nname = \"g\"\n{body}");
        let err = load_str(&text, Path::new("f.toml")).expect_err(body);
        assert!(err.to_string().contains(expected), "{body}: {err}");
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn firstwatch(dir: &tempfile::TempDir, config: &str, args: &[&str]) -> Run {
    let path = dir.path().join("firstwatch.toml");
    std::fs::write(&path, config).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(&path)
        .args(args)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The simulated A100s stay under 80 % memory; thresholds move to make each level.
fn simulated(thresholds: &str) -> String {
    format!("[gpu]\nsimulate = 2\ntemperature_warn = 140\ntemperature_critical = 150\npower_warn = 99\n{thresholds}\n")
}

#[test]
fn gpu_exits_1_past_a_warning_and_2_past_a_critical_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let calm = firstwatch(&dir, &simulated(""), &["gpu"]);
    assert_eq!(calm.code, 0, "{}{}", calm.stdout, calm.stderr);
    let warn = firstwatch(&dir, &simulated("memory_warn = 5\nmemory_critical = 99.5"), &["gpu"]);
    assert_eq!(warn.code, 1, "{}{}", warn.stdout, warn.stderr);
    assert!(warn.stdout.contains("WARN memory"), "{}", warn.stdout);
    let critical = firstwatch(&dir, &simulated("memory_warn = 5\nmemory_critical = 6"), &["gpu", "--json"]);
    assert_eq!(critical.code, 2, "{}{}", critical.stdout, critical.stderr);
    assert!(critical.stdout.contains("\"level\":\"crit\""), "{}", critical.stdout);
    // The CSV of nvidia-smi says nothing of thresholds; the exit code still does.
    let csv = firstwatch(&dir, &simulated("memory_warn = 5\nmemory_critical = 99.5"), &["gpu", "--query", "index"]);
    assert_eq!(csv.code, 1, "{}", csv.stderr);
}

#[test]
fn gpu_checks_run_headless_with_nagios_codes() {
    let dir = tempfile::tempdir().unwrap();
    let checks = "[[check]]\nname = \"gpu memory\"\ngpu = \"memory\"\n\n\
                  [[check]]\nname = \"gpu0 temperature\"\ngpu = \"temperature\"\ngpu_index = 0\n";
    let ok = firstwatch(&dir, &format!("{checks}\n{}", simulated("")), &["check", "--json"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(rows[0]["kind"], "gpu");
    assert_eq!(rows[0]["target"], "memory of the worst GPU");
    assert!(rows[0]["message"].as_str().unwrap().contains("memory"), "{}", ok.stdout);
    assert_eq!(rows[1]["target"], "temperature of GPU 0");
    let warn = firstwatch(&dir, &format!("{checks}\n{}", simulated("memory_warn = 5")), &["check"]);
    assert_eq!(warn.code, 1, "{}{}", warn.stdout, warn.stderr);
    assert!(warn.stdout.contains("at or above warn 5%"), "{}", warn.stdout);
}

#[test]
fn without_a_driver_a_gpu_check_could_not_read() {
    if Path::new("/proc/driver/nvidia").exists() {
        eprintln!("this host has an NVIDIA driver; the no-driver path cannot be seen here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = firstwatch(&dir, "[[check]]\nname = \"gpu\"\ngpu = \"memory\"\n", &["check"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("UNKNOWN") && run.stdout.contains("could not read GPUs: No NVIDIA GPU found"),
        "{}",
        run.stdout
    );
    let gpu = firstwatch(&dir, "", &["gpu"]);
    assert_eq!(gpu.code, 3);
}

/// Seconds since boot, the clock of the kernel log.
fn uptime() -> f64 {
    std::fs::read_to_string("/proc/uptime").unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn xid_reports_in_the_kernel_log_are_critical_within_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("kmsg");
    // A stand-in for /dev/kmsg: one Xid a few minutes ago among other records.
    let ago = (uptime() / 2.0).min(600.0);
    let micros = ((uptime() - ago) * 1e6) as u64;
    std::fs::write(
        &log,
        format!(
            "6,100,{micros},-;usb 1-1: new high-speed USB device\n SUBSYSTEM=usb\n\
             4,101,{micros},-;NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.\n"
        ),
    )
    .unwrap();
    let config =
        |window: &str| format!("gpu = \"xid\"\n\n[gpu]\nkernel_log = \"{}\"\nxid_window = \"{window}\"", log.display());
    let recent = run(&config("24h"), Ok(Vec::new())).await;
    assert_eq!(recent.level, Level::Critical, "{}", recent.message);
    assert!(recent.message.starts_with("Xid (PCI:0000:3b:00): 79, pid=1234"), "{}", recent.message);
    assert!(recent.message.contains("ago; 1 Xid report within 1d00h)"), "{}", recent.message);
    if ago > 30.0 {
        let outside = run(&config("10s"), Ok(Vec::new())).await;
        assert_eq!(outside.level, Level::Ok, "{}", outside.message);
        assert_eq!(outside.message, "no Xid report in the kernel log within 10s");
    }

    let kern_log = dir.path().join("kern.log");
    std::fs::write(
        &kern_log,
        "Dec  5 03:00:00 gpu1 kernel: NVRM: Xid (PCI:0000:3b:00): 79, GPU has fallen off the bus.\n",
    )
    .unwrap();
    let syslog =
        run(&config("24h").replace(&log.display().to_string(), &kern_log.display().to_string()), Ok(Vec::new())).await;
    assert_eq!(syslog.level, Level::Unknown, "no false all-clear: {}", syslog.message);
    assert!(syslog.message.contains("without kernel timestamps"), "{}", syslog.message);

    let missing = run(&config("24h").replace("kmsg", "absent"), Ok(Vec::new())).await;
    assert_eq!(missing.level, Level::Unknown);
    assert!(missing.message.starts_with("could not read the kernel log"), "{}", missing.message);

    // A FIFO with no writer never holds the check up.
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let quiet = run(&config("24h").replace("kmsg", "fifo"), Ok(Vec::new())).await;
    assert_eq!(quiet.level, Level::Ok, "{}", quiet.message);
}
