//! The real source: NVML, loaded at run time from libnvidia-ml.so.1 by
//! nvml-wrapper. A host without the driver gets `SourceError::NoGpu` with
//! NVML's reason, and the library is looked for again every so often in case
//! the driver is installed while we run.

use super::procinfo::{process_name, process_user};
use super::sample::{DeviceReading, GpuProcess, GpuSample, Memory, ProcessKind, Reading, SourceError};
use super::source::GpuSource;
use crate::util::sanitize::sanitize_str;
use nvml_wrapper::enum_wrappers::device::{
    Clock, EccCounter, MemoryError, PcieUtilCounter, TemperatureSensor, TemperatureThreshold,
};
use nvml_wrapper::enums::device::UsedGpuMemory;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::{Device, Nvml};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a failed load is remembered before the library is looked for again.
const RETRY_LOAD_AFTER: Duration = Duration::from_secs(30);

pub struct NvmlSource {
    nvml: Option<Nvml>,
    driver: Option<String>,
    last_failure: Option<(Instant, String)>,
    memory: Memo,
}

/// What is carried from one sample to the next.
#[derive(Default)]
struct Memo {
    /// Name and owner of each pid seen on a GPU, so /proc is read once per process.
    processes: HashMap<u32, (String, String)>,
    /// Per GPU, the driver timestamp of the last per-process utilisation sample read.
    utilization_seen: HashMap<u32, u64>,
}

impl Default for NvmlSource {
    fn default() -> Self {
        Self::new()
    }
}

impl NvmlSource {
    /// Does not touch NVML yet: the first `sample` loads it, on the sampling thread.
    pub fn new() -> NvmlSource {
        NvmlSource { nvml: None, driver: None, last_failure: None, memory: Memo::default() }
    }

    fn load(&mut self) -> Result<(), SourceError> {
        if self.nvml.is_none() {
            if let Some((when, reason)) = &self.last_failure
                && when.elapsed() < RETRY_LOAD_AFTER
            {
                return Err(SourceError::NoGpu(reason.clone()));
            }
            match Nvml::init() {
                Ok(nvml) => {
                    self.driver = nvml.sys_driver_version().ok().map(|v| sanitize_str(&v));
                    self.nvml = Some(nvml);
                    self.last_failure = None;
                }
                Err(err) => {
                    let reason = load_failure(&err);
                    self.last_failure = Some((Instant::now(), reason.clone()));
                    return Err(SourceError::NoGpu(reason));
                }
            }
        }
        Ok(())
    }
}

/// NVML's reason for not starting, in words an on-call engineer can act on.
pub fn load_failure(err: &NvmlError) -> String {
    match err {
        NvmlError::LibloadingError(inner) => format!(
            "no NVIDIA driver found: libnvidia-ml.so.1 could not be loaded ({})",
            sanitize_str(&inner.to_string())
        ),
        NvmlError::DriverNotLoaded => "the NVIDIA kernel driver is not loaded (is nvidia.ko loaded?)".into(),
        NvmlError::NoPermission => "no permission to talk to the NVIDIA driver".into(),
        NvmlError::LibraryNotFound | NvmlError::FunctionNotFound | NvmlError::FailedToLoadSymbol(_) => {
            format!("the NVIDIA management library is missing or too old: {}", sanitize_str(&err.to_string()))
        }
        other => format!("NVML could not start: {}", sanitize_str(&other.to_string())),
    }
}

impl GpuSource for NvmlSource {
    fn describe(&self) -> String {
        match &self.driver {
            Some(version) => format!("NVML, driver {version}"),
            None => "NVML".to_string(),
        }
    }

    fn sample(&mut self) -> Result<Vec<DeviceReading>, SourceError> {
        self.load()?;
        let Some(nvml) = self.nvml.as_ref() else { return Err(SourceError::Failed("NVML is not loaded".into())) };
        let memo = &mut self.memory;
        let count = match nvml.device_count() {
            Ok(count) => count,
            Err(NvmlError::DriverNotLoaded) => {
                return Err(SourceError::NoGpu(load_failure(&NvmlError::DriverNotLoaded)));
            }
            Err(err) => return Err(SourceError::Failed(format!("counting GPUs: {err}"))),
        };
        if count == 0 {
            return Err(SourceError::NoGpu("the NVIDIA driver is loaded but reports no GPU".into()));
        }
        let mut listed = Vec::new();
        let readings = (0..count)
            .map(|index| match nvml.device_by_index(index) {
                Ok(device) => read_device(index, &device, memo, &mut listed),
                Err(err @ (NvmlError::GpuLost | NvmlError::ResetRequired)) => {
                    DeviceReading::Lost { index, reason: err.to_string() }
                }
                Err(err) => DeviceReading::Failed { index, reason: err.to_string() },
            })
            .collect();
        // Forget processes that have ended, so a reused pid is looked up again.
        memo.processes.retain(|pid, _| listed.contains(pid));
        Ok(readings)
    }
}

/// A field: NotSupported stays "n/a", other errors keep NVML's words.
fn field<T>(result: Result<T, NvmlError>) -> Reading<T> {
    match result {
        Ok(value) => Reading::Value(value),
        Err(NvmlError::NotSupported) => Reading::NotSupported,
        Err(err) => Reading::Failed(sanitize_str(&err.to_string())),
    }
}

fn read_device(index: u32, device: &Device, memo: &mut Memo, listed: &mut Vec<u32>) -> DeviceReading {
    let name = match device.name() {
        Ok(name) => sanitize_str(&name),
        Err(err @ (NvmlError::GpuLost | NvmlError::ResetRequired)) => {
            return DeviceReading::Lost { index, reason: err.to_string() };
        }
        Err(_) => format!("GPU {index}"),
    };
    let mut sample = GpuSample::bare(index, name);
    sample.uuid = field(device.uuid()).map(|u| sanitize_str(&u));
    let utilization = field(device.utilization_rates());
    sample.utilization_gpu = utilization.clone().map(|u| u.gpu);
    sample.utilization_memory = utilization.map(|u| u.memory);
    let memory = device.memory_info();
    if let Err(err @ (NvmlError::GpuLost | NvmlError::ResetRequired)) = &memory {
        return DeviceReading::Lost { index, reason: err.to_string() };
    }
    sample.memory = field(memory).map(|m| Memory { used: m.used, total: m.total });
    sample.temperature = field(device.temperature(TemperatureSensor::Gpu));
    sample.temperature_slowdown = field(device.temperature_threshold(TemperatureThreshold::Slowdown));
    sample.power_draw_mw = field(device.power_usage());
    sample.power_limit_mw = field(device.enforced_power_limit());
    sample.fan = field(device.fan_speed(0));
    sample.clock_sm = field(device.clock_info(Clock::SM));
    sample.clock_memory = field(device.clock_info(Clock::Memory));
    sample.pcie_tx = field(device.pcie_throughput(PcieUtilCounter::Send));
    sample.pcie_rx = field(device.pcie_throughput(PcieUtilCounter::Receive));
    sample.ecc_corrected = field(device.total_ecc_errors(MemoryError::Corrected, EccCounter::Volatile));
    sample.ecc_uncorrected = field(device.total_ecc_errors(MemoryError::Uncorrected, EccCounter::Volatile));
    sample.throttle_reasons = field(device.current_throttle_reasons()).map(|reasons| {
        reasons.iter_names().map(|(name, _)| name.to_ascii_lowercase()).filter(|n| n != "none").collect()
    });
    sample.persistence_mode = field(device.is_in_persistent_mode());
    sample.mig_mode = field(device.mig_mode()).map(|mode| mode.current != 0);
    sample.processes = processes(index, device, memo, listed);
    DeviceReading::Sampled(Box::new(sample))
}

/// Compute and graphics processes together; a pid in both lists is shown once, as compute.
fn processes(index: u32, device: &Device, memo: &mut Memo, listed: &mut Vec<u32>) -> Reading<Vec<GpuProcess>> {
    let compute = field(device.running_compute_processes());
    let graphics = field(device.running_graphics_processes());
    if compute.value().is_none() && graphics.value().is_none() {
        return compute.map(|_| Vec::new());
    }
    let shares = sm_shares(index, device, memo);
    let mut list: Vec<GpuProcess> = Vec::new();
    let lists = [(compute, ProcessKind::Compute), (graphics, ProcessKind::Graphics)];
    for (reading, kind) in lists {
        for info in reading.value().into_iter().flatten() {
            if list.iter().any(|p| p.pid == info.pid) {
                continue;
            }
            listed.push(info.pid);
            let (name, user) = memo
                .processes
                .entry(info.pid)
                .or_insert_with(|| (process_name(info.pid), process_user(info.pid)))
                .clone();
            let memory = match info.used_gpu_memory {
                UsedGpuMemory::Used(bytes) => Some(bytes),
                UsedGpuMemory::Unavailable => None,
            };
            // The driver lists only processes that used the SMs since the last look: absent means idle.
            let gpu_percent = shares.as_ref().map(|s| s.get(&info.pid).copied().unwrap_or(0));
            list.push(GpuProcess { pid: info.pid, name, user, memory, gpu_percent, kind });
        }
    }
    Reading::Value(list)
}

/// Each process's share of the SMs since the previous sample, where the card reports it.
fn sm_shares(index: u32, device: &Device, memo: &mut Memo) -> Option<HashMap<u32, u32>> {
    let since = memo.utilization_seen.get(&index).copied();
    let samples = device.process_utilization_stats(since).ok()?;
    // Several samples per pid may come back; the newest one counts.
    let mut latest: HashMap<u32, (u64, u32)> = HashMap::new();
    let mut newest = since.unwrap_or(0);
    for sample in samples {
        newest = newest.max(sample.timestamp);
        let entry = latest.entry(sample.pid).or_insert((sample.timestamp, sample.sm_util));
        if sample.timestamp >= entry.0 {
            *entry = (sample.timestamp, sample.sm_util);
        }
    }
    memo.utilization_seen.insert(index, newest);
    Some(latest.into_iter().map(|(pid, (_, share))| (pid, share)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test machines have no NVIDIA driver: loading must fail with a reason, quickly and without panicking.
    #[test]
    fn a_host_without_the_driver_says_so() {
        if std::path::Path::new("/proc/driver/nvidia").exists() {
            return;
        }
        let mut source = NvmlSource::new();
        match source.sample() {
            Err(SourceError::NoGpu(reason)) => assert!(reason.contains("no NVIDIA driver found"), "{reason}"),
            other => panic!("expected NoGpu, got {other:?}"),
        }
        // The second look within the retry window answers from memory.
        assert!(matches!(source.sample(), Err(SourceError::NoGpu(_))));
        assert_eq!(source.describe(), "NVML");
    }
}
