//! NVIDIA GPUs through NVML, and a simulated source for hosts without one.
//!
//! `source` is the seam (`GpuSource`), `nvml` and `sim` the two real
//! implementations, `state` folds samples into what the tab and the CLI show,
//! `engine` samples on a blocking thread with a timeout, `query` speaks
//! nvidia-smi's `--query-gpu` field names.

pub mod cli;
pub mod engine;
pub mod format;
pub mod nvml;
pub mod procinfo;
pub mod query;
pub mod sample;
pub mod sim;
pub mod source;
pub mod state;
pub mod thresholds;

pub use sample::{DeviceReading, GpuProcess, GpuSample, Memory, ProcessKind, Reading, SourceError};
pub use source::GpuSource;
pub use state::{GpuState, SourceHealth};
pub use thresholds::{Level, Thresholds};

use crate::config::GpuConfig;

/// The source the config asks for: the simulation when `simulate` is set, NVML otherwise.
pub fn source_for(config: &GpuConfig) -> Box<dyn GpuSource> {
    match config.simulated_gpus() {
        Some(count) => Box::new(sim::SimulatedSource::new(count, config.seed)),
        None => Box::new(nvml::NvmlSource::new()),
    }
}
