//! `firstwatch gpu` through the real binary: the no-driver state of this
//! (GPU-less) host, and the simulated GPUs as a table, JSON and nvidia-smi CSV.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn firstwatch(config: &Path, args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let output: Output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `firstwatch gpu ARGS` with `config`.
fn gpu(config: &Path, args: &[&str]) -> Run {
    let mut all = vec!["gpu"];
    all.extend_from_slice(args);
    firstwatch(config, &all)
}

fn config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("firstwatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn simulated(dir: &tempfile::TempDir, count: u32) -> PathBuf {
    config(dir, &format!("[gpu]\nsimulate = {count}\nevery = \"100ms\"\n"))
}

#[test]
fn without_a_driver_it_says_so_and_exits_3() {
    if Path::new("/proc/driver/nvidia").exists() {
        eprintln!("this host has an NVIDIA driver; the no-driver path cannot be seen here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for args in [&[][..], &["--json"][..], &["--query", "index,name", "--format", "csv,noheader"][..]] {
        let run = gpu(&config(&dir, ""), args);
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("No NVIDIA GPU found: no NVIDIA driver found"), "{}", run.stderr);
        assert!(run.stderr.contains("libnvidia-ml.so.1"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "nothing half-printed on stdout: {}", run.stdout);
        assert!(!run.stderr.contains("panicked"));
    }
}

#[test]
fn the_table_shows_every_simulated_gpu_and_its_processes() {
    let dir = tempfile::tempdir().unwrap();
    let run = gpu(&simulated(&dir, 4), &[]);
    assert_eq!(run.code, 1, "the L40S past 90% memory is a warning: {}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("source: simulation, seed 1 (SIMULATED: not real GPUs)"), "{}", run.stdout);
    assert!(lines[1].starts_with("GPU NAME"), "{}", run.stdout);
    for (index, name) in [(0, "NVIDIA A100-SXM4-80GB"), (2, "NVIDIA L40S"), (3, "NVIDIA H100 80GB HBM3")] {
        assert!(lines[2 + index].starts_with(&format!("{index:<3} {name}")), "{}", run.stdout);
    }
    assert!(lines[2].contains("n/a"), "the SXM card has no fan: {}", lines[2]);
    assert!(lines[4].contains("WARN memory"), "the L40S is past 90% memory: {}", lines[4]);
    assert!(run.stdout.contains("PID") && run.stdout.contains("python3"), "{}", run.stdout);
}

#[test]
fn json_has_every_field_with_units_in_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let run = gpu(&simulated(&dir, 2), &["--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let value: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(value["simulated"], true);
    let gpus = value["gpus"].as_array().unwrap();
    assert_eq!(gpus.len(), 2);
    let gpu = &gpus[0];
    assert_eq!(gpu["index"], 0);
    assert_eq!(gpu["name"], "NVIDIA A100-SXM4-80GB");
    assert_eq!(gpu["memory_total_mib"], 81920);
    assert!(gpu["memory_used_mib"].as_u64().unwrap() < 81920);
    assert!(gpu["fan_percent"].is_null(), "NotSupported is null: {gpu}");
    assert!(gpu["temperature_c"].is_u64());
    assert_eq!(gpu["power_limit_w"], 400.0);
    assert!(gpu["processes"][0]["pid"].is_u64());
    assert_eq!(gpu["state"], "ok");
    assert!(gpu["errors"].as_object().unwrap().is_empty());
}

#[test]
fn query_speaks_nvidia_smi_csv() {
    let dir = tempfile::tempdir().unwrap();
    let fields = "index,name,memory.total,memory.used,memory.free,temperature.gpu";
    let run = gpu(&simulated(&dir, 2), &["--query", fields, "--format", "csv,noheader"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    let cells: Vec<&str> = lines[0].split(", ").collect();
    assert_eq!(&cells[..3], ["0", "NVIDIA A100-SXM4-80GB", "81920 MiB"]);
    let number = |cell: &str| cell.trim_end_matches(" MiB").parse::<u64>().unwrap();
    assert_eq!(number(cells[3]) + number(cells[4]), 81920, "used + free = total");
    assert!(cells[5].parse::<u32>().is_ok(), "{}", cells[5]);

    let with_header = gpu(&simulated(&dir, 1), &["--query", "index,memory.used,fan.speed"]);
    assert_eq!(with_header.stdout.lines().next(), Some("index, memory.used [MiB], fan.speed [%]"));
    assert!(with_header.stdout.lines().nth(1).unwrap().ends_with("[N/A]"), "{}", with_header.stdout);
}

#[test]
fn watch_repeats_and_count_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = gpu(&simulated(&dir, 2), &["--json", "--watch", "--count", "3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let samples: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(samples.len(), 3);
    assert_ne!(samples[0]["gpus"][0]["pcie_rx_kbps"], samples[2]["gpus"][0]["pcie_rx_kbps"], "numbers move");

    let csv = gpu(&simulated(&dir, 2), &["--query", "index", "--watch", "--count", "2"]);
    assert_eq!(csv.stdout, "index\n0\n1\n0\n1\n", "one header, then rows per sample");
}

#[test]
fn bad_arguments_exit_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let run = gpu(&simulated(&dir, 1), &["--query", "index,memory.usd"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown --query field `memory.usd`"), "{}", run.stderr);
    let run = gpu(&simulated(&dir, 1), &["--query", "index", "--format", "xml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown --format option `xml`"), "{}", run.stderr);
}

#[test]
fn help_documents_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let run = gpu(&config(&dir, ""), &["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("no NVIDIA GPU or driver found on this host"), "{}", run.stdout);
    assert!(run.stdout.contains("1  a GPU is past a warning threshold"), "{}", run.stdout);
    assert!(run.stdout.contains("--query"), "{}", run.stdout);
}

#[test]
fn gpu_config_errors_point_at_line_and_column() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid/gpu_thresholds.toml");
    let run = firstwatch(&path, &["config", "check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let file = path.display().to_string();
    for (position, message) in [
        ("2:9", "gpu sampling interval `10ms` is outside 100ms..1h"),
        ("3:12", "simulate = 40 is outside 1..=16"),
        ("4:15", "memory_warn (96%) must be below memory_critical (95%)"),
        ("7:24", "temperature 200°C is outside 1..=150"),
    ] {
        assert!(run.stderr.contains(&format!("{file}:{position}: ")), "{position} missing in:\n{}", run.stderr);
        assert!(run.stderr.contains(message), "{message} missing in:\n{}", run.stderr);
    }
    // The same file stops `firstwatch gpu` before it samples anything.
    let run = gpu(&path, &[]);
    assert_eq!(run.code, 2);
}
