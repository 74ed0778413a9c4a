//! GPU checks: one gauge (memory, temperature, power, utilization) of one GPU,
//! or of the worst GPU, against thresholds, through the same source the gpu
//! tab reads (NVML, or the simulation of `[gpu] simulate`). Sampling runs on
//! its own thread with `[gpu] timeout`, never on the async runtime. Xid
//! reports come from the kernel log instead (see `xid`).

use super::{Observed, ProbeError};
use crate::gpu::engine::{SampleError, sample_once};
use crate::gpu::format::{gib, watts};
use crate::gpu::{DeviceReading, GpuSample, GpuSource, Thresholds};
use crate::health::condition::{Observation, Value, format_number};
use crate::health::outcome::Level;
use crate::health::spec::{CheckSpec, GpuCheck};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Checks run close together share one sample.
const FRESH: Duration = Duration::from_secs(1);

/// The GPU source shared by every gpu check of one prober, made on first use.
#[derive(Clone, Default)]
pub struct Gpus(Arc<tokio::sync::Mutex<State>>);

#[derive(Default)]
struct State {
    source: Option<Box<dyn GpuSource>>,
    last: Option<(Instant, Result<Vec<DeviceReading>, String>)>,
}

impl Gpus {
    /// Reads from `source` instead of the one the config names (tests, the demo).
    pub fn with_source(source: Box<dyn GpuSource>) -> Gpus {
        Gpus(Arc::new(tokio::sync::Mutex::new(State { source: Some(source), last: None })))
    }

    async fn sample(&self, check: &GpuCheck) -> Result<Vec<DeviceReading>, String> {
        let mut state = self.0.lock().await;
        if let Some((at, result)) = &state.last
            && at.elapsed() < FRESH
        {
            return result.clone();
        }
        let source = state.source.take().unwrap_or_else(|| crate::gpu::local_source(&check.settings));
        let timeout = check.settings.timeout();
        let (source, result) = tokio::task::spawn_blocking(move || sample_once(source, timeout))
            .await
            .unwrap_or_else(|_| (None, Err(SampleError::Thread("the sampling thread failed".into()))));
        // A source stuck in a hung call stays with its thread; the next sample makes a new one.
        state.source = source;
        let result = match result {
            Ok(readings) if readings.is_empty() => Err("the NVIDIA driver reports no GPU".to_string()),
            Ok(readings) => Ok(readings),
            Err(err) => Err(err.to_string()),
        };
        state.last = Some((Instant::now(), result.clone()));
        result
    }
}

pub async fn probe(gpus: &Gpus, spec: &CheckSpec, gauge: &str) -> Result<Observed, ProbeError> {
    let check = spec.gpu.as_ref().ok_or_else(|| ProbeError::CannotRun("not a gpu check".into()))?;
    if gauge == "xid" {
        let (path, window) = (spec.resolve(&check.settings.kernel_log), check.settings.xid_window());
        return tokio::task::spawn_blocking(move || super::xid::probe(&path, window))
            .await
            .map_err(|_| ProbeError::CannotRun("the reading thread failed".into()))?;
    }
    let readings =
        gpus.sample(check).await.map_err(|reason| ProbeError::CannotRun(format!("could not read GPUs: {reason}")))?;
    let watched: Vec<&DeviceReading> = match check.index {
        Some(index) => match readings.iter().find(|r| r.index() == index) {
            Some(reading) => vec![reading],
            None => {
                return Err(ProbeError::CannotRun(format!("no GPU {index} on this host ({} found)", readings.len())));
            }
        },
        None => readings.iter().collect(),
    };
    let thresholds = Thresholds::from_config(&check.settings);
    let mut judged = Vec::new();
    let mut unread = Vec::new();
    for reading in watched {
        match reading {
            DeviceReading::Lost { index, reason } => {
                return Err(ProbeError::Failed(format!("GPU {index} lost: {reason}")));
            }
            DeviceReading::Failed { index, reason } => unread.push(format!("GPU {index}: {reason}")),
            DeviceReading::Sampled(sample) => match gauge_of(sample, gauge, spec, &thresholds) {
                Some(found) => judged.push(found),
                None => unread.push(format!("GPU {} does not report {gauge}", sample.index)),
            },
        }
    }
    // The worst GPU: highest level, then highest value.
    let Some(worst) = judged
        .into_iter()
        .max_by(|a, b| (a.level, a.value).partial_cmp(&(b.level, b.value)).unwrap_or(std::cmp::Ordering::Equal))
    else {
        return Err(ProbeError::CannotRun(format!("could not read {gauge}: {}", unread.join("; "))));
    };
    let threshold = match (worst.level, worst.crossed) {
        (Level::Ok, _) | (_, None) => None,
        (level, Some(crossed)) => Some((level, format!("{} {crossed}", worst.summary))),
    };
    Ok(Observed {
        observation: Observation { value: Some(Value::Number(worst.value)), ..Observation::default() },
        response: None,
        summary: worst.summary,
        threshold,
    })
}

/// One GPU's gauge, judged.
struct Judged {
    level: Level,
    value: f64,
    /// "GPU 2 (NVIDIA L40S) memory 91% (43.6/48.0 GiB)".
    summary: String,
    /// "above warn 90%", when a threshold was crossed.
    crossed: Option<String>,
}

fn gauge_of(sample: &GpuSample, gauge: &str, spec: &CheckSpec, thresholds: &Thresholds) -> Option<Judged> {
    let gpu = format!("GPU {} ({})", sample.index, sample.name);
    let percent = |v: f64| format!("{}%", format_number(v.round()));
    let (value, shown, unit, (warn, critical)) = match gauge {
        "memory" => {
            let memory = sample.memory.get()?;
            let value = memory.percent();
            let shown = format!("memory {} ({}/{} GiB)", percent(value), gib(memory.used), gib(memory.total));
            (value, shown, "%", (thresholds.memory_warn, thresholds.memory_critical))
        }
        "temperature" => {
            let celsius = sample.temperature.get()?;
            // The card's own slowdown temperature caps the critical threshold, as in the gpu tab.
            let critical = sample
                .temperature_slowdown
                .get()
                .map_or(thresholds.temperature_critical, |s| s.min(thresholds.temperature_critical));
            let warn = thresholds.temperature_warn.min(critical);
            (f64::from(celsius), format!("temperature {celsius}°C"), "°C", (f64::from(warn), f64::from(critical)))
        }
        "power" => {
            let value = sample.power_percent()?;
            let shown = format!(
                "power {} of its limit ({}/{} W)",
                percent(value),
                watts(sample.power_draw_mw.get()?),
                watts(sample.power_limit_mw.get()?)
            );
            (value, shown, "%", (thresholds.power_warn, thresholds.power_critical))
        }
        "utilization" => {
            let value = f64::from(sample.utilization_gpu.get()?);
            (value, format!("utilization {}", percent(value)), "%", (f64::INFINITY, f64::INFINITY))
        }
        _ => return None,
    };
    // The check's own warn/critical win over [gpu]'s.
    let warn = spec.warn.unwrap_or(warn);
    let critical = spec.critical.unwrap_or(critical);
    let limit = |t: f64| format!("{}{unit}", format_number(t));
    let (level, crossed) = if value >= critical {
        (Level::Critical, Some(format!("at or above critical {}", limit(critical))))
    } else if value >= warn {
        (Level::Warning, Some(format!("at or above warn {}", limit(warn))))
    } else {
        (Level::Ok, None)
    };
    Some(Judged { level, value, summary: format!("{gpu} {shown}"), crossed })
}
