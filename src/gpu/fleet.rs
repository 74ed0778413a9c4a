//! A fleet's GPUs grouped by host, with one summary per host (how many GPUs,
//! the worst state and how many are in it, mean utilisation, memory, hottest
//! GPU, power), in the order the tab lists them: worst first or by name.

use super::dcgm::natural_cmp;
use super::sample::Memory;
use super::state::{GpuCondition, GpuState};
use super::thresholds::Level;

/// The order of the hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostOrder {
    /// The host with the worst GPU first (then the most GPUs at that level), then by name.
    #[default]
    Worst,
    Name,
}

impl HostOrder {
    pub fn next(self) -> HostOrder {
        match self {
            HostOrder::Worst => HostOrder::Name,
            HostOrder::Name => HostOrder::Worst,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            HostOrder::Worst => "worst first",
            HostOrder::Name => "by name",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostSummary {
    pub host: String,
    /// Positions in `GpuState::gpus`, in GPU index order.
    pub positions: Vec<usize>,
    pub worst: Level,
    /// How many GPUs are at `worst`.
    pub at_worst: usize,
    /// GPUs no longer reported (their last numbers are kept).
    pub stale: usize,
    pub mean_utilization: Option<f64>,
    /// Summed over the GPUs that report memory.
    pub memory: Option<Memory>,
    pub hottest: Option<u32>,
    /// Milliwatts, summed over the GPUs that report them.
    pub power_draw_mw: Option<u64>,
    pub power_limit_mw: Option<u64>,
    /// GPUs whose last Xid is not 0.
    pub with_xid: usize,
}

impl HostSummary {
    pub fn count(&self) -> usize {
        self.positions.len()
    }
}

/// The hosts of a fleet state in `order`. GPUs without a host (a local source) are left out.
pub fn hosts(state: &GpuState, order: HostOrder) -> Vec<HostSummary> {
    let mut out: Vec<HostSummary> = Vec::new();
    let mut position = 0;
    while position < state.gpus.len() {
        let Some(host) = state.gpus[position].host.as_deref() else {
            position += 1;
            continue;
        };
        let end = state.gpus[position..]
            .iter()
            .position(|g| g.host.as_deref() != Some(host))
            .map_or(state.gpus.len(), |n| position + n);
        out.push(summarise(state, host, position..end));
        position = end;
    }
    match order {
        HostOrder::Worst => out.sort_by(|a, b| {
            b.worst.cmp(&a.worst).then(b.at_worst.cmp(&a.at_worst)).then_with(|| natural_cmp(&a.host, &b.host))
        }),
        HostOrder::Name => {} // The state keeps its GPUs in natural host order already.
    }
    out
}

fn summarise(state: &GpuState, host: &str, range: std::ops::Range<usize>) -> HostSummary {
    let mut summary = HostSummary {
        host: host.to_string(),
        positions: range.clone().collect(),
        worst: Level::Ok,
        at_worst: 0,
        stale: 0,
        mean_utilization: None,
        memory: None,
        hottest: None,
        power_draw_mw: None,
        power_limit_mw: None,
        with_xid: 0,
    };
    let (mut util_sum, mut util_count) = (0u64, 0u64);
    for entry in &state.gpus[range] {
        let level = state.level(entry);
        if level > summary.worst {
            summary.worst = level;
            summary.at_worst = 0;
        }
        if level == summary.worst {
            summary.at_worst += 1;
        }
        if !matches!(entry.condition, GpuCondition::Live) {
            summary.stale += 1;
        }
        let Some(sample) = &entry.sample else { continue };
        if let Some(util) = sample.utilization_gpu.get() {
            util_sum += u64::from(util);
            util_count += 1;
        }
        if let Some(memory) = sample.memory.get() {
            let total = summary.memory.get_or_insert(Memory { used: 0, total: 0 });
            total.used += memory.used;
            total.total += memory.total;
        }
        if let Some(temperature) = sample.temperature.get() {
            summary.hottest = Some(summary.hottest.map_or(temperature, |t| t.max(temperature)));
        }
        if let Some(draw) = sample.power_draw_mw.get() {
            *summary.power_draw_mw.get_or_insert(0) += u64::from(draw);
        }
        if let Some(limit) = sample.power_limit_mw.get() {
            *summary.power_limit_mw.get_or_insert(0) += u64::from(limit);
        }
        if sample.xid.get().is_some_and(|x| x != 0) {
            summary.with_xid += 1;
        }
    }
    summary.mean_utilization = (util_count > 0).then(|| util_sum as f64 / util_count as f64);
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::sample::{DeviceReading, GpuSample, Reading};
    use crate::gpu::thresholds::Thresholds;
    use std::time::Duration;

    fn gpu(host: &str, index: u32, util: u32, temperature: u32) -> DeviceReading {
        let mut sample = GpuSample::bare(index, "H100");
        sample.host = Some(host.into());
        sample.utilization_gpu = Reading::Value(util);
        sample.temperature = Reading::Value(temperature);
        sample.memory = Reading::Value(Memory { used: 10 << 30, total: 80 << 30 });
        DeviceReading::Sampled(Box::new(sample))
    }

    fn state(readings: Vec<DeviceReading>) -> GpuState {
        let mut state = GpuState::new(
            "fleet".into(),
            false,
            Duration::from_secs(5),
            Duration::from_secs(600),
            Thresholds::default(),
        )
        .with_fleet(Some("prom".into()));
        state.apply(Ok(readings), chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        state
    }

    #[test]
    fn hosts_summarise_their_gpus_and_the_worst_comes_first() {
        let state = state(vec![
            gpu("gpu-10", 0, 10, 40),
            gpu("gpu-2", 0, 20, 50),
            gpu("gpu-2", 1, 40, 95),
            gpu("gpu-2", 2, 60, 85),
            gpu("gpu-3", 0, 90, 85),
        ]);
        let by_name: Vec<String> = hosts(&state, HostOrder::Name).into_iter().map(|h| h.host).collect();
        assert_eq!(by_name, vec!["gpu-2", "gpu-3", "gpu-10"]);
        let worst = hosts(&state, HostOrder::Worst);
        assert_eq!(worst.iter().map(|h| h.host.as_str()).collect::<Vec<_>>(), vec!["gpu-2", "gpu-3", "gpu-10"]);
        let first = &worst[0];
        assert_eq!((first.count(), first.worst, first.at_worst), (3, Level::Crit, 1));
        assert_eq!(first.mean_utilization, Some(40.0));
        assert_eq!(first.hottest, Some(95));
        assert_eq!(first.memory, Some(Memory { used: 30 << 30, total: 240 << 30 }));
        assert_eq!(worst[1].worst, Level::Warn);
        assert_eq!(worst[2].worst, Level::Ok);
    }
}
