//! `firstwatch gpu`: the gpu tab, headless. One sample as a table, `--json`,
//! or nvidia-smi style `--query ... --format csv`; `--watch` repeats it.

use super::engine::{SampleError, sample_once};
use super::format::{gib, watts};
use super::query::{self, CsvFormat};
use super::sample::{DeviceReading, GpuSample, SourceError};
use super::thresholds::Thresholds;
use crate::cli::Global;
use crate::config::Config;
use serde_json::{Value, json};
use std::io::Write;
use std::process::ExitCode;

/// Every GPU was read and is below its warning thresholds.
pub const EXIT_OK: u8 = 0;
/// A GPU is past a warning threshold ([gpu] memory_warn, temperature_warn, power_warn).
pub const EXIT_WARNING: u8 = 1;
/// A GPU is past a critical threshold, or fell off the bus.
pub const EXIT_CRITICAL: u8 = 2;
/// Bad arguments (config errors also exit 2, before this runs).
pub const EXIT_USAGE: u8 = 2;
/// A GPU or the whole sample could not be read: no NVIDIA GPU or driver on this host,
/// NVML did not answer in time, or the fleet's engine could not be read.
pub const EXIT_NO_GPU: u8 = 3;

const EXIT_CODES: &str = "\
Exit codes (Nagios: critical outranks could-not-read, which outranks warning):
  0  every GPU was read and is below its [gpu] warning thresholds
  1  a GPU is past a warning threshold: memory_warn (90%), temperature_warn, power_warn
  2  a GPU is past a critical threshold or was lost (fell off the bus); also bad config or arguments
  3  a GPU or the sample could not be read: no NVIDIA GPU or driver found on this host,
     NVML did not answer within [gpu] timeout, or the [gpu] engine could not be read
With --watch the exit code is the worst seen over the run.

Reads NVML (libnvidia-ml.so.1) at run time, the simulated GPUs of `[gpu] simulate = N`,
or with `[gpu] source = \"prometheus\"` every host's GPUs from the DCGM exporter's metrics
in that engine (one query per metric; each GPU then has a host).
--query takes nvidia-smi --query-gpu names: index, name, uuid, memory.total, memory.used,
memory.free, temperature.gpu, utilization.gpu, utilization.memory, power.draw, power.limit,
fan.speed, clocks.sm, clocks.mem, persistence_mode, and host (not nvidia-smi's).";

#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct GpuArgs {
    /// One JSON object per sample (one per line with --watch).
    #[arg(long, conflicts_with = "query")]
    pub json: bool,
    /// Sample again every `[gpu] every` until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// With --watch: stop after this many samples.
    #[arg(long, value_name = "N", requires = "watch")]
    pub count: Option<u64>,
    /// Comma-separated nvidia-smi field names, printed as CSV (e.g. index,name,memory.used).
    #[arg(long, value_name = "FIELDS")]
    pub query: Option<String>,
    /// CSV options for --query, as nvidia-smi takes them: csv[,noheader][,nounits].
    #[arg(long, value_name = "FORMAT", default_value = "csv", requires = "query")]
    pub format: String,
}

enum Output {
    Table,
    Json,
    Csv { fields: Vec<String>, format: CsvFormat },
}

pub fn run(config: Config, args: GpuArgs, _global: &Global) -> ExitCode {
    let output = match &args.query {
        Some(list) => match (query::parse_fields(list), query::parse_format(&args.format)) {
            (Ok(fields), Ok(format)) => Output::Csv { fields, format },
            (Err(err), _) | (_, Err(err)) => {
                eprintln!("firstwatch gpu: {err}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        None if args.json => Output::Json,
        None => Output::Table,
    };
    let gpu = &config.gpu;
    let thresholds = Thresholds::from_config(gpu);
    let timeout = super::sample_timeout(&config);
    let mut source = Some(super::source_for(&config));
    let local = crate::util::identity::hostname();
    let mut taken = 0u64;
    let mut code = EXIT_OK;
    let mut worse = |seen: u8| code = worst_code(code, seen);
    let stdout = std::io::stdout();
    loop {
        let Some(current) = source.take() else { break };
        let describe = current.describe();
        let simulated = current.simulated();
        let fleet = current.fleet();
        let (returned, result) = sample_once(current, timeout);
        source = returned;
        let readings = match result {
            Ok(readings) if readings.is_empty() => {
                eprintln!("firstwatch gpu: {}", SourceError::NoGpu("the NVIDIA driver reports no GPU".into()));
                return ExitCode::from(EXIT_NO_GPU);
            }
            Err(SampleError::Source(SourceError::NoGpu(reason))) if fleet.is_some() => {
                eprintln!("firstwatch gpu: no GPU found: {reason}");
                return ExitCode::from(EXIT_NO_GPU);
            }
            Ok(readings) => readings,
            Err(SampleError::Source(SourceError::Failed(reason))) if args.watch => {
                eprintln!("firstwatch gpu: sample failed, retrying: {reason}");
                worse(EXIT_NO_GPU);
                Vec::new()
            }
            Err(err @ SampleError::Source(SourceError::Failed(_))) => {
                eprintln!("firstwatch gpu: {err}");
                return ExitCode::from(EXIT_NO_GPU);
            }
            Err(err) => {
                eprintln!("firstwatch gpu: {err}");
                return ExitCode::from(EXIT_NO_GPU);
            }
        };
        let describe = source.as_ref().map_or(describe, |s| s.describe());
        let text = match &output {
            Output::Table => table(&describe, simulated, &readings, &thresholds, args.watch),
            Output::Json => json_line(&describe, simulated, fleet.as_deref(), &readings, &thresholds, &local),
            Output::Csv { fields, format } => csv(&readings, fields, *format, taken == 0),
        };
        readings.iter().for_each(|reading| worse(reading_code(reading, &thresholds)));
        let mut lock = stdout.lock();
        // A closed pipe (`| head`) ends the command quietly.
        if lock.write_all(text.as_bytes()).and_then(|()| lock.flush()).is_err() {
            return ExitCode::from(code);
        }
        drop(lock);
        taken += 1;
        if !args.watch || args.count.is_some_and(|n| taken >= n) {
            break;
        }
        std::thread::sleep(gpu.every());
    }
    ExitCode::from(code)
}

/// The Nagios code one GPU's reading asks for.
pub fn reading_code(reading: &DeviceReading, thresholds: &Thresholds) -> u8 {
    match reading {
        DeviceReading::Sampled(sample) => match thresholds.levels(sample).worst() {
            super::Level::Ok => EXIT_OK,
            super::Level::Warn => EXIT_WARNING,
            super::Level::Crit => EXIT_CRITICAL,
        },
        DeviceReading::Lost { .. } => EXIT_CRITICAL,
        DeviceReading::Failed { .. } => EXIT_NO_GPU,
    }
}

/// The worse of two Nagios codes: 2 outranks 3, which outranks 1, which outranks 0.
pub fn worst_code(a: u8, b: u8) -> u8 {
    let rank = |code: u8| match code {
        EXIT_OK => 0,
        EXIT_WARNING => 1,
        EXIT_NO_GPU => 2,
        _ => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn csv(readings: &[DeviceReading], fields: &[String], format: CsvFormat, first: bool) -> String {
    let mut out = String::new();
    if first && format.header {
        out.push_str(&query::header(fields, format));
        out.push('\n');
    }
    for reading in readings {
        match reading {
            DeviceReading::Sampled(sample) => out.push_str(&query::row(sample, fields, format)),
            // nvidia-smi prints a GPU it cannot read with every field unknown.
            other => out.push_str(&query::row(&GpuSample::bare(other.index(), "[N/A]"), fields, format)),
        }
        out.push('\n');
    }
    out
}

fn or_na<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| v.to_string())
}

fn table(describe: &str, simulated: bool, readings: &[DeviceReading], thresholds: &Thresholds, watch: bool) -> String {
    let mut out = String::new();
    let stamp = if watch { format!(" at {}", chrono::Utc::now().format("%H:%M:%S UTC")) } else { String::new() };
    let label = if simulated { " (SIMULATED: not real GPUs)" } else { "" };
    out.push_str(&format!("source: {describe}{label}{stamp}\n"));
    // A fleet's GPUs are named by host first; the column is as wide as the longest host.
    let host_width = readings.iter().filter_map(DeviceReading::host).map(crate::util::width::width).max();
    let host = |name: Option<&str>| match host_width {
        Some(width) => format!("{:<width$} ", truncate(name.unwrap_or("?"), width.min(40)), width = width.min(40)),
        None => String::new(),
    };
    out.push_str(&host(Some("HOST")));
    out.push_str(&format!(
        "{:<3} {:<24} {:>5} {:>15} {:>5} {:>6} {:>13} {:>5}  {}\n",
        "GPU", "NAME", "UTIL", "MEMORY", "MEM%", "TEMP", "POWER", "FAN", "STATE"
    ));
    let mut processes = Vec::new();
    for reading in readings {
        let sample = match reading {
            DeviceReading::Sampled(sample) => sample,
            DeviceReading::Lost { index, reason } => {
                out.push_str(&format!("{index:<3} LOST: {reason}\n"));
                continue;
            }
            DeviceReading::Failed { index, reason } => {
                out.push_str(&format!("{index:<3} UNREADABLE: {reason}\n"));
                continue;
            }
        };
        let levels = thresholds.levels(sample);
        let memory = sample.memory.get();
        let mut state = Vec::new();
        for (what, level) in [("memory", levels.memory), ("temperature", levels.temperature), ("power", levels.power)] {
            if level != super::Level::Ok {
                state.push(format!("{} {what}", level.word()));
            }
        }
        if let Some(xid) = sample.xid.get().and_then(super::xid::describe) {
            state.push(format!("last {xid}"));
        }
        out.push_str(&host(sample.host.as_deref()));
        out.push_str(&format!(
            "{:<3} {:<24} {:>5} {:>15} {:>5} {:>6} {:>13} {:>5}  {}\n",
            sample.index,
            truncate(&sample.name, 24),
            or_na(sample.utilization_gpu.get().map(|u| format!("{u}%"))),
            or_na(memory.map(|m| format!("{}/{} GiB", gib(m.used), gib(m.total)))),
            or_na(memory.map(|m| format!("{:.0}%", m.percent()))),
            or_na(sample.temperature.get().map(|t| format!("{t}°C"))),
            or_na(sample.power_draw_mw.get().map(|d| match sample.power_limit_mw.get() {
                Some(limit) => format!("{}/{} W", watts(d), watts(limit)),
                None => format!("{} W", watts(d)),
            })),
            or_na(sample.fan.get().map(|f| format!("{f}%"))),
            if state.is_empty() { "ok".to_string() } else { state.join(", ") },
        ));
        if let Some(list) = sample.processes.value() {
            processes.extend(list.iter().map(|p| (sample.index, p)));
        }
    }
    if !processes.is_empty() {
        out.push_str(&format!("\n{:<3} {:>8} {:<12} {:>10}  {}\n", "GPU", "PID", "USER", "MEMORY", "PROCESS"));
        for (index, p) in processes {
            out.push_str(&format!(
                "{index:<3} {:>8} {:<12} {:>10}  {}\n",
                p.pid,
                truncate(&p.user, 12),
                or_na(p.memory.map(|m| format!("{} GiB", gib(m)))),
                p.name
            ));
        }
    }
    if watch {
        out.push('\n');
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    crate::util::width::truncate(text, width)
}

fn json_line(
    describe: &str,
    simulated: bool,
    fleet: Option<&str>,
    readings: &[DeviceReading],
    thresholds: &Thresholds,
    local: &str,
) -> String {
    let gpus: Vec<Value> = readings
        .iter()
        .map(|r| {
            let mut value = gpu_json(r, thresholds);
            // This host's own GPUs are on the host firstwatch runs on.
            if let Some(object) = value.as_object_mut()
                && object.get("host").is_none_or(Value::is_null)
                && fleet.is_none()
            {
                object.insert("host".into(), Value::from(local));
            }
            value
        })
        .collect();
    let value = json!({
        "source": describe,
        "engine": fleet,
        "simulated": simulated,
        "sampled_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "gpus": gpus,
    });
    format!("{value}\n")
}

/// One GPU in `--json`: units in the key names, null for what the card does not report.
pub fn gpu_json(reading: &DeviceReading, thresholds: &Thresholds) -> Value {
    let sample = match reading {
        DeviceReading::Sampled(sample) => sample,
        DeviceReading::Lost { index, reason } => {
            return json!({"host": null, "index": index, "state": "lost", "error": reason});
        }
        DeviceReading::Failed { index, reason } => {
            return json!({"host": null, "index": index, "state": "unreadable", "error": reason});
        }
    };
    let memory = sample.memory.get();
    let levels = thresholds.levels(sample);
    let errors: serde_json::Map<String, Value> =
        sample.failed_fields().into_iter().map(|(k, v)| (k.to_string(), Value::from(v))).collect();
    json!({
        "host": sample.host,
        "index": sample.index,
        "name": sample.name,
        "uuid": sample.uuid,
        "state": "ok",
        "level": levels.worst(),
        "levels": levels,
        "utilization_gpu_percent": sample.utilization_gpu,
        "utilization_memory_percent": sample.utilization_memory,
        "memory_total_mib": memory.map(|m| m.total >> 20),
        "memory_used_mib": memory.map(|m| m.used >> 20),
        "memory_free_mib": memory.map(|m| m.free() >> 20),
        "memory_used_percent": memory.map(|m| (m.percent() * 10.0).round() / 10.0),
        "temperature_c": sample.temperature,
        "temperature_slowdown_c": sample.temperature_slowdown,
        "power_draw_w": sample.power_draw_mw.get().map(|mw| f64::from(mw) / 1000.0),
        "power_limit_w": sample.power_limit_mw.get().map(|mw| f64::from(mw) / 1000.0),
        "fan_percent": sample.fan,
        "clocks_sm_mhz": sample.clock_sm,
        "clocks_memory_mhz": sample.clock_memory,
        "pcie_tx_kbps": sample.pcie_tx,
        "pcie_rx_kbps": sample.pcie_rx,
        "ecc_corrected_volatile": sample.ecc_corrected,
        "ecc_uncorrected_volatile": sample.ecc_uncorrected,
        "throttle_reasons": sample.throttle_reasons,
        "persistence_mode": sample.persistence_mode,
        "mig_mode": sample.mig_mode,
        "processes": sample.processes.value().map(|list| list.iter().map(|p| json!({
            "pid": p.pid,
            "name": p.name,
            "user": p.user,
            "memory_mib": p.memory.map(|m| m >> 20),
            "gpu_percent": p.gpu_percent,
            "kind": p.kind,
        })).collect::<Vec<_>>()),
        "xid": sample.xid,
        "xid_meaning": sample.xid.get().and_then(super::xid::meaning),
        "errors": errors,
    })
}
