//! NVIDIA GPUs through NVML, every host's GPUs from DCGM exporter metrics in
//! a Prometheus engine, and a simulated source for hosts without either.
//!
//! `source` is the seam (`GpuSource`), `nvml`, `prometheus` and `sim` its
//! implementations (`dcgm` joins the exporter's series per GPU), `state` folds
//! samples into what the tab and the CLI show, `fleet` groups a fleet's GPUs by
//! host, `engine` samples on a blocking thread with a timeout, `query` speaks
//! nvidia-smi's `--query-gpu` field names.

pub mod cli;
pub mod dcgm;
pub mod engine;
pub mod fleet;
pub mod format;
pub mod nvml;
pub mod procinfo;
pub mod prometheus;
pub mod query;
pub mod sample;
pub mod sim;
pub mod source;
pub mod state;
pub mod thresholds;
pub mod xid;

pub use sample::{DeviceReading, GpuProcess, GpuSample, Memory, ProcessKind, Reading, SourceError};
pub use source::GpuSource;
pub use state::{GpuState, SourceHealth};
pub use thresholds::{Level, Thresholds};

use crate::config::{Config, EngineKind, GpuConfig, GpuSourceKind};
use std::time::Duration;

/// The source `[gpu]` asks for: a prometheus engine's DCGM metrics, the simulation, or NVML.
pub fn source_for(config: &Config) -> Box<dyn GpuSource> {
    if config.gpu.source() != GpuSourceKind::Prometheus {
        return local_source(&config.gpu);
    }
    let Some(engine) = config.engine(config.gpu.engine_name(), EngineKind::Prometheus) else {
        // Validation refuses this config; say so rather than read another source.
        let engine = config.gpu.engine_name().unwrap_or("?").to_string();
        return Box::new(prometheus::Unusable { engine, reason: "no such prometheus engine".into() });
    };
    let built = crate::engine::Engine::new(engine, config.base_dir())
        .and_then(|built| prometheus::PrometheusSource::new(std::sync::Arc::new(built)));
    match built {
        Ok(source) => Box::new(source),
        Err(reason) => Box::new(prometheus::Unusable { engine: engine.name.get_ref().clone(), reason }),
    }
}

/// This host's GPUs: the simulation when `[gpu]` asks for it, NVML otherwise
/// (what `gpu = "..."` checks read, whatever the tab shows).
pub fn local_source(config: &GpuConfig) -> Box<dyn GpuSource> {
    match config.simulated_gpus() {
        Some(count) => Box::new(sim::SimulatedSource::new(count, config.seed)),
        None => Box::new(nvml::NvmlSource::new()),
    }
}

/// How long one sample may take: `[gpu] timeout`, or for a fleet its engine's
/// own timeout and a second more (each query is already bounded by it).
pub fn sample_timeout(config: &Config) -> Duration {
    if config.gpu.source() == GpuSourceKind::Prometheus
        && let Some(engine) = config.engine(config.gpu.engine_name(), EngineKind::Prometheus)
    {
        return engine.timeout() + Duration::from_secs(1);
    }
    config.gpu.timeout()
}
