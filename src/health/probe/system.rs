//! System checks through sysinfo (cpu, memory, swap, load) and disk usage
//! through statvfs on the configured path, the same figures `df` shows.
//! Sampling runs on the blocking pool, never on the UI task.

use super::{Observed, ProbeError, threshold};
use crate::health::condition::{Observation, Value, format_number};
use crate::health::spec::CheckSpec;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One sysinfo `System`, refreshed only in the parts a check needs.
pub struct Sampler {
    system: sysinfo::System,
    /// When CPU usage was last refreshed; usage is a difference, so it needs an earlier sample.
    cpu_sampled: Option<Instant>,
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler { system: sysinfo::System::new(), cpu_sampled: None }
    }
}

/// A CPU sample older than this is too stale to difference against.
const CPU_STALE: Duration = Duration::from_secs(60);

pub async fn probe(sampler: &Arc<Mutex<Sampler>>, what: &str, spec: &CheckSpec) -> Result<Observed, ProbeError> {
    let sampler = sampler.clone();
    let what = what.to_string();
    let (value, label) = tokio::task::spawn_blocking(move || {
        let mut sampler = sampler.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        sample(&mut sampler, &what)
    })
    .await
    .map_err(|_| ProbeError::CannotRun("the sampling thread failed".into()))??;
    Ok(observed(value, label, spec))
}

fn sample(sampler: &mut Sampler, what: &str) -> Result<(f64, String), ProbeError> {
    let system = &mut sampler.system;
    match what {
        "cpu" => {
            let fresh = sampler.cpu_sampled.is_some_and(|at| at.elapsed() < CPU_STALE);
            if !fresh {
                system.refresh_cpu_usage();
                std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
            }
            system.refresh_cpu_usage();
            sampler.cpu_sampled = Some(Instant::now());
            let usage = f64::from(system.global_cpu_usage());
            Ok((usage, format!("cpu {}%", format_number(usage.round()))))
        }
        "memory" => {
            system.refresh_memory();
            let total = system.total_memory();
            if total == 0 {
                return Err(ProbeError::CannotRun("memory size is not available on this system".into()));
            }
            let used = system.used_memory();
            let percent = used as f64 * 100.0 / total as f64;
            Ok((percent, format!("memory {}% ({} of {})", format_number(percent.round()), gib(used), gib(total))))
        }
        "swap" => {
            system.refresh_memory();
            let total = system.total_swap();
            if total == 0 {
                return Ok((0.0, "no swap configured".into()));
            }
            let used = system.used_swap();
            let percent = used as f64 * 100.0 / total as f64;
            Ok((percent, format!("swap {}% ({} of {})", format_number(percent.round()), gib(used), gib(total))))
        }
        "load" => {
            let load = sysinfo::System::load_average();
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
            let percent = load.one * 100.0 / cores;
            Ok((percent, format!("load {:.2} on {} cores ({}%)", load.one, cores, format_number(percent.round()))))
        }
        other => Err(ProbeError::CannotRun(format!("unknown system check `{other}`"))),
    }
}

pub async fn disk(path: &Path, spec: &CheckSpec) -> Result<Observed, ProbeError> {
    let path = path.to_path_buf();
    let (percent, label) = tokio::task::spawn_blocking(move || -> Result<(f64, String), ProbeError> {
        let stats = nix::sys::statvfs::statvfs(&path)
            .map_err(|err| ProbeError::Failed(format!("cannot read {}: {err}", path.display())))?;
        let block = stats.fragment_size() as u64;
        let total = stats.blocks() as u64;
        let free = stats.blocks_free() as u64;
        let available = stats.blocks_available() as u64;
        let used = total.saturating_sub(free);
        // Like df: the space root keeps in reserve counts as neither used nor available.
        let usable = used + available;
        if usable == 0 {
            return Ok((0.0, format!("{} has no blocks", path.display())));
        }
        let percent = used as f64 * 100.0 / usable as f64;
        Ok((
            percent,
            format!(
                "{} {}% used ({} free of {})",
                path.display(),
                format_number(percent.round()),
                gib(available * block),
                gib(usable * block)
            ),
        ))
    })
    .await
    .map_err(|_| ProbeError::CannotRun("the disk thread failed".into()))??;
    Ok(observed(percent, label, spec))
}

fn observed(value: f64, label: String, spec: &CheckSpec) -> Observed {
    let threshold = threshold(&label, value, spec);
    Observed {
        observation: Observation { value: Some(Value::Number(value)), ..Observation::default() },
        summary: label,
        threshold,
        response: None,
    }
}

fn gib(bytes: u64) -> String {
    let gib = bytes as f64 / f64::from(1u32 << 30);
    if gib >= 10.0 { format!("{gib:.0} GiB") } else { format!("{gib:.1} GiB") }
}
