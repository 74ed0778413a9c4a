//! What one look at the GPUs returns: per-GPU readings where every field may
//! be missing on its own, because NVML answers NotSupported for many fields on
//! many cards and one unsupported field must not cost the whole sample.

use serde::{Serialize, Serializer};

/// One field of a sample.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Reading<T> {
    Value(T),
    /// The card or driver does not offer this field; shown as "n/a".
    #[default]
    NotSupported,
    /// NVML answered with an error other than NotSupported.
    Failed(String),
}

impl<T> Reading<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Reading::Value(value) => Some(value),
            _ => None,
        }
    }

    /// The error text when NVML refused this field.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Reading::Failed(reason) => Some(reason),
            _ => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reading<U> {
        match self {
            Reading::Value(value) => Reading::Value(f(value)),
            Reading::NotSupported => Reading::NotSupported,
            Reading::Failed(reason) => Reading::Failed(reason),
        }
    }
}

impl<T: Copy> Reading<T> {
    pub fn get(&self) -> Option<T> {
        self.value().copied()
    }
}

/// In JSON a field is its value, or null when it could not be read.
impl<T: Serialize> Serialize for Reading<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Reading::Value(value) => value.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }
}

/// Frame-buffer memory in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Memory {
    pub used: u64,
    pub total: u64,
}

impl Memory {
    pub fn free(&self) -> u64 {
        self.total.saturating_sub(self.used)
    }

    /// Share in use, 0..=100.
    pub fn percent(&self) -> f64 {
        if self.total == 0 { 0.0 } else { self.used as f64 * 100.0 / self.total as f64 }
    }
}

/// Whether a process computes or draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessKind {
    Compute,
    Graphics,
}

/// A process that holds memory on a GPU. `name` and `user` are already sanitised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GpuProcess {
    pub pid: u32,
    pub name: String,
    pub user: String,
    /// Bytes of GPU memory; `None` where the driver does not say.
    pub memory: Option<u64>,
    /// Share of the GPU's SMs, where the driver reports it.
    pub gpu_percent: Option<u32>,
    pub kind: ProcessKind,
}

/// Everything read from one GPU in one sample. Text fields are sanitised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuSample {
    /// The host the GPU is in, for GPUs read from a fleet's metrics; `None` for this host's own.
    pub host: Option<String>,
    pub index: u32,
    pub name: String,
    pub uuid: Reading<String>,
    /// Percent of time a kernel ran.
    pub utilization_gpu: Reading<u32>,
    /// Percent of time memory was read or written.
    pub utilization_memory: Reading<u32>,
    pub memory: Reading<Memory>,
    /// °C.
    pub temperature: Reading<u32>,
    /// °C at which the card starts slowing itself down.
    pub temperature_slowdown: Reading<u32>,
    /// Milliwatts.
    pub power_draw_mw: Reading<u32>,
    pub power_limit_mw: Reading<u32>,
    /// Percent of the fan's maximum speed.
    pub fan: Reading<u32>,
    /// MHz.
    pub clock_sm: Reading<u32>,
    pub clock_memory: Reading<u32>,
    /// KB/s over PCIe.
    pub pcie_tx: Reading<u32>,
    pub pcie_rx: Reading<u32>,
    /// Volatile ECC error counts since the driver loaded.
    pub ecc_corrected: Reading<u64>,
    pub ecc_uncorrected: Reading<u64>,
    /// Why clocks are held down right now (empty: not throttled).
    pub throttle_reasons: Reading<Vec<String>>,
    pub persistence_mode: Reading<bool>,
    pub mig_mode: Reading<bool>,
    pub processes: Reading<Vec<GpuProcess>>,
    /// The last Xid the driver reported for this GPU (0: none), where the source keeps it (DCGM).
    pub xid: Reading<u32>,
}

impl GpuSample {
    /// A sample with only an index and a name; every other field unsupported.
    pub fn bare(index: u32, name: impl Into<String>) -> GpuSample {
        GpuSample {
            host: None,
            index,
            name: name.into(),
            uuid: Reading::NotSupported,
            utilization_gpu: Reading::NotSupported,
            utilization_memory: Reading::NotSupported,
            memory: Reading::NotSupported,
            temperature: Reading::NotSupported,
            temperature_slowdown: Reading::NotSupported,
            power_draw_mw: Reading::NotSupported,
            power_limit_mw: Reading::NotSupported,
            fan: Reading::NotSupported,
            clock_sm: Reading::NotSupported,
            clock_memory: Reading::NotSupported,
            pcie_tx: Reading::NotSupported,
            pcie_rx: Reading::NotSupported,
            ecc_corrected: Reading::NotSupported,
            ecc_uncorrected: Reading::NotSupported,
            throttle_reasons: Reading::NotSupported,
            persistence_mode: Reading::NotSupported,
            mig_mode: Reading::NotSupported,
            processes: Reading::NotSupported,
            xid: Reading::NotSupported,
        }
    }

    /// Power draw as a share of the limit, 0..=100+.
    pub fn power_percent(&self) -> Option<f64> {
        let draw = self.power_draw_mw.get()?;
        let limit = self.power_limit_mw.get().filter(|l| *l > 0)?;
        Some(draw as f64 * 100.0 / limit as f64)
    }

    /// Fields that NVML refused with an error (not NotSupported), for `--json` and the detail line.
    pub fn failed_fields(&self) -> Vec<(&'static str, &str)> {
        let fields = [
            ("uuid", self.uuid.failure()),
            ("utilization", self.utilization_gpu.failure()),
            ("memory", self.memory.failure()),
            ("temperature", self.temperature.failure()),
            ("power_draw", self.power_draw_mw.failure()),
            ("power_limit", self.power_limit_mw.failure()),
            ("fan", self.fan.failure()),
            ("clocks", self.clock_sm.failure()),
            ("pcie", self.pcie_tx.failure()),
            ("ecc", self.ecc_corrected.failure()),
            ("throttle_reasons", self.throttle_reasons.failure()),
            ("processes", self.processes.failure()),
        ];
        fields.into_iter().filter_map(|(name, reason)| reason.map(|r| (name, r))).collect()
    }
}

/// What one GPU gave in one sample.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceReading {
    Sampled(Box<GpuSample>),
    /// The GPU fell off the bus or needs a reset; the others carry on.
    Lost {
        index: u32,
        reason: String,
    },
    /// The GPU could not be opened this time; retried on the next sample.
    Failed {
        index: u32,
        reason: String,
    },
}

impl DeviceReading {
    /// The host of a fleet GPU; `None` for this host's own.
    pub fn host(&self) -> Option<&str> {
        match self {
            DeviceReading::Sampled(sample) => sample.host.as_deref(),
            DeviceReading::Lost { .. } | DeviceReading::Failed { .. } => None,
        }
    }

    pub fn index(&self) -> u32 {
        match self {
            DeviceReading::Sampled(sample) => sample.index,
            DeviceReading::Lost { index, .. } | DeviceReading::Failed { index, .. } => *index,
        }
    }
}

/// Why a whole sample failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// No driver, no library, or a driver that sees no GPU: nothing to watch on this host.
    #[error("No NVIDIA GPU found: {0}")]
    NoGpu(String),
    /// Something that may pass: retried with back-off.
    #[error("GPU sample failed: {0}")]
    Failed(String),
}
