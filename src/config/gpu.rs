//! `[gpu]`: how often GPUs are sampled, and the simulated source for hosts without one.

use super::Config;
use super::units::HumanDuration;
use super::validate::Problems;
use serde::Deserialize;

/// `[gpu]`: GPU sampling and thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuConfig {
    pub every: HumanDuration,
    /// Use the simulated source with this many GPUs instead of NVML.
    pub simulate: Option<u8>,
}

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig { every: HumanDuration(std::time::Duration::from_secs(1)), simulate: None }
    }
}

pub(super) fn validate(_config: &Config, _problems: &mut Problems) {}
