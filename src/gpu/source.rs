//! The seam between the GPU engine and the world: NVML on real hosts, a
//! simulation for the demo, fakes in tests.

use super::sample::{DeviceReading, SourceError};

/// Something that can be asked for a sample of every GPU.
///
/// `sample` may block (NVML does), so the engine calls it on a blocking thread
/// with a timeout and never on the async runtime.
pub trait GpuSource: Send {
    /// Shown in the tab's header: "NVML, driver 550.54.15" or "simulated".
    fn describe(&self) -> String;

    /// Whether the numbers are made up (the tab says so on screen).
    fn simulated(&self) -> bool {
        false
    }

    /// The engine's name when the GPUs are a fleet's, read from its metrics.
    fn fleet(&self) -> Option<String> {
        None
    }

    /// One reading per GPU, in index order. `Err(NoGpu)` when there is nothing
    /// to watch on this host; an empty list means the same.
    fn sample(&mut self) -> Result<Vec<DeviceReading>, SourceError>;
}
