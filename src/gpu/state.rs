//! What is known about the GPUs: the last good sample of each, its history for
//! the sparklines, and whether the source is live, missing, stale or hung.
//!
//! The engine folds every sample in here and hands the tab a copy only when
//! something on screen would change (`view_key`), so an idle GPU writes no
//! bytes to the terminal.

use super::sample::{DeviceReading, GpuSample, SourceError};
use super::thresholds::{Level, Levels, Thresholds};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// The most sparkline points any view draws (a single GPU's block on a
/// terminal almost 500 columns wide); older history does not change the screen.
pub const SPARK_POINTS: usize = 480;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// How the source as a whole is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceHealth {
    /// No answer yet.
    Waiting,
    Live,
    /// Nothing to watch: no driver, no library, or no GPU. NVML's reason.
    NoGpu(String),
    /// The last sample failed; the numbers shown are from before `since`. Retried with back-off.
    Stale {
        since: DateTime<Utc>,
        reason: String,
    },
    /// A sample took longer than the timeout; the driver may be hung.
    NotAnswering {
        since: DateTime<Utc>,
        timeout: Duration,
    },
    /// The sampling thread died; sampling has stopped.
    Stopped(String),
}

/// How one GPU is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuCondition {
    Live,
    /// Fell off the bus or needs a reset; the others carry on.
    Lost {
        since: DateTime<Utc>,
        reason: String,
    },
    /// Could not be read this time; the last good numbers are kept.
    Stale {
        since: DateTime<Utc>,
        reason: String,
    },
}

/// The last values of one series, newest last, as 0..=100.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    points: VecDeque<u8>,
}

impl Series {
    /// Adds a point, dropping the oldest past `capacity`; the window is
    /// allocated once at its full length, and not at all when `capacity` is 0.
    fn push(&mut self, value: Option<f64>, capacity: usize) {
        let Some(value) = value else { return };
        if capacity == 0 {
            return;
        }
        if self.points.len() >= capacity {
            self.points.pop_front();
        } else if self.points.capacity() == 0 {
            self.points.reserve_exact(capacity);
        }
        self.points.push_back(value.round().clamp(0.0, 255.0) as u8);
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The newest `n` points, oldest first.
    pub fn last(&self, n: usize) -> Vec<u64> {
        self.newest(n).map(u64::from).collect()
    }

    fn newest(&self, n: usize) -> impl Iterator<Item = u8> + '_ {
        self.points.iter().skip(self.points.len().saturating_sub(n)).copied()
    }

    pub fn max(&self) -> Option<u8> {
        self.points.iter().copied().max()
    }
}

/// What the sparklines draw: utilisation and memory, nothing else is kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    pub utilization: Series,
    pub memory: Series,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GpuEntry {
    /// The host of a fleet GPU; `None` for this host's own.
    pub host: Option<String>,
    pub index: u32,
    /// The last good sample, if any.
    pub sample: Option<GpuSample>,
    pub condition: GpuCondition,
    pub history: History,
}

impl GpuEntry {
    pub fn name(&self) -> &str {
        self.sample.as_ref().map_or("?", |s| s.name.as_str())
    }

    /// `GPU 3`, or `gpu-a GPU 3` for a fleet GPU.
    pub fn label(&self) -> String {
        match &self.host {
            Some(host) => format!("{host} GPU {}", self.index),
            None => format!("GPU {}", self.index),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GpuState {
    /// "NVML, driver 550.54.15" or "simulated, 4 GPUs".
    pub source: String,
    pub simulated: bool,
    /// The engine's name when the GPUs are a fleet's (grouped by host on screen).
    pub fleet: Option<String>,
    pub health: SourceHealth,
    pub gpus: Vec<GpuEntry>,
    pub sampled_at: Option<DateTime<Utc>>,
    pub every: Duration,
    pub thresholds: Thresholds,
    /// `[gpu] history`: how long a fleet GPU that stopped reporting is still listed.
    history: Duration,
    /// Points kept per series: the history, but never more than a sparkline
    /// can draw, and none for a fleet (drawn a line per GPU, without sparklines).
    capacity: usize,
}

impl GpuState {
    pub fn new(source: String, simulated: bool, every: Duration, history: Duration, thresholds: Thresholds) -> Self {
        let capacity = (history.as_millis() / every.as_millis().max(1)).clamp(1, SPARK_POINTS as u128) as usize;
        GpuState {
            source,
            simulated,
            fleet: None,
            health: SourceHealth::Waiting,
            gpus: Vec::new(),
            sampled_at: None,
            every,
            thresholds,
            history,
            capacity,
        }
    }

    /// Marks the GPUs as a fleet's, read from engine `name`.
    pub fn with_fleet(mut self, name: Option<String>) -> Self {
        if name.is_some() {
            self.capacity = 0;
        }
        self.fleet = name;
        self
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn levels(&self, entry: &GpuEntry) -> Levels {
        entry.sample.as_ref().map(|s| self.thresholds.levels(s)).unwrap_or_default()
    }

    /// How worried to be about one GPU: lost is critical, stale a warning, else its worst threshold.
    pub fn level(&self, entry: &GpuEntry) -> Level {
        match entry.condition {
            GpuCondition::Lost { .. } => Level::Crit,
            GpuCondition::Stale { .. } => Level::Warn.max(self.levels(entry).worst()),
            GpuCondition::Live => self.levels(entry).worst(),
        }
    }

    /// The worst threshold crossing of any GPU, e.g. `(Warn, "GPU 2 WARN mem")`,
    /// so the status line can carry it whatever tab is open.
    pub fn alert(&self) -> Option<(Level, String)> {
        self.gpus
            .iter()
            .filter_map(|gpu| {
                let levels = self.levels(gpu);
                let worst = levels.worst();
                let gauge = if levels.memory == worst {
                    "mem"
                } else if levels.temperature == worst {
                    "temp"
                } else {
                    "power"
                };
                (worst > Level::Ok).then(|| (worst, format!("{} {} {gauge}", gpu.label(), worst.word())))
            })
            .max_by_key(|(level, _)| *level)
    }

    /// Folds in what one sample returned.
    pub fn apply(&mut self, result: Result<Vec<DeviceReading>, SourceError>, at: DateTime<Utc>) {
        match result {
            Ok(readings) if readings.is_empty() => {
                self.health = SourceHealth::NoGpu("the NVIDIA driver reports no GPU".into());
            }
            Ok(readings) => {
                self.health = SourceHealth::Live;
                self.sampled_at = Some(at);
                self.fold_readings(readings, at);
            }
            Err(SourceError::NoGpu(reason)) => self.health = SourceHealth::NoGpu(reason),
            Err(SourceError::Failed(reason)) => {
                let since = match &self.health {
                    SourceHealth::Stale { since, .. } => *since,
                    _ => at,
                };
                self.health = SourceHealth::Stale { since, reason };
            }
        }
    }

    fn fold_readings(&mut self, readings: Vec<DeviceReading>, at: DateTime<Utc>) {
        // The usual case: the same GPUs in the same order as last time (a fleet's
        // answer is sorted the way the list is), so no lookup or re-sort is needed.
        let aligned = readings.len() == self.gpus.len()
            && self.gpus.iter().zip(&readings).all(|(g, r)| g.index == r.index() && g.host.as_deref() == r.host());
        if aligned {
            let capacity = self.capacity;
            for (entry, reading) in self.gpus.iter_mut().zip(readings) {
                fold_one(entry, reading, at, capacity);
            }
            return;
        }
        let listed: HashSet<(Option<&str>, u32)> = readings.iter().map(|r| (r.host(), r.index())).collect();
        let fleet = self.fleet.clone();
        for entry in &mut self.gpus {
            if listed.contains(&(entry.host.as_deref(), entry.index)) {
                continue;
            }
            match &fleet {
                // A fleet GPU missing from the answer: its exporter or host stopped reporting.
                Some(engine) if !matches!(entry.condition, GpuCondition::Stale { .. }) => {
                    entry.condition = GpuCondition::Stale {
                        since: at,
                        reason: format!("no longer in engine `{engine}`'s metrics (exporter or host down?)"),
                    };
                }
                Some(_) => {}
                None if !matches!(entry.condition, GpuCondition::Lost { .. }) => {
                    entry.condition = GpuCondition::Lost { since: at, reason: "no longer listed by the driver".into() };
                }
                None => {}
            }
        }
        drop(listed);
        if self.fleet.is_some() {
            // A fleet GPU gone for longer than the history is forgotten (a host taken out of service).
            let keep = chrono::Duration::from_std(self.history).unwrap_or(chrono::Duration::MAX);
            self.gpus.retain(|g| !matches!(&g.condition, GpuCondition::Stale { since, .. } if at - *since > keep));
        }
        let mut positions: HashMap<(Option<String>, u32), usize> =
            self.gpus.iter().enumerate().map(|(i, g)| ((g.host.clone(), g.index), i)).collect();
        for reading in readings {
            let key = (reading.host().map(str::to_string), reading.index());
            let position = match positions.get(&key) {
                Some(position) => *position,
                None => {
                    self.gpus.push(GpuEntry {
                        host: key.0.clone(),
                        index: key.1,
                        sample: None,
                        condition: GpuCondition::Live,
                        history: History::default(),
                    });
                    positions.insert(key, self.gpus.len() - 1);
                    self.gpus.len() - 1
                }
            };
            fold_one(&mut self.gpus[position], reading, at, self.capacity);
        }
        self.gpus.sort_by(|a, b| match (&a.host, &b.host) {
            (Some(x), Some(y)) => super::dcgm::natural_cmp(x, y).then(a.index.cmp(&b.index)),
            _ => a.host.cmp(&b.host).then(a.index.cmp(&b.index)),
        });
    }

    /// A sample did not come back within `timeout`.
    pub fn not_answering(&mut self, at: DateTime<Utc>, timeout: Duration) {
        if !matches!(self.health, SourceHealth::NotAnswering { .. }) {
            self.health = SourceHealth::NotAnswering { since: at, timeout };
        }
    }

    pub fn stopped(&mut self, reason: String) {
        self.health = SourceHealth::Stopped(reason);
    }

    /// A digest of everything a view can show (numbers at the precision shown,
    /// sparkline points, conditions): equal keys mean an identical screen.
    pub fn view_key(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.source.hash(&mut hasher);
        self.fleet.hash(&mut hasher);
        match &self.health {
            SourceHealth::Waiting => 0u8.hash(&mut hasher),
            SourceHealth::Live => 1u8.hash(&mut hasher),
            SourceHealth::NoGpu(reason) => (2u8, reason).hash(&mut hasher),
            SourceHealth::Stale { since, reason } => (3u8, since, reason).hash(&mut hasher),
            SourceHealth::NotAnswering { since, .. } => (4u8, since).hash(&mut hasher),
            SourceHealth::Stopped(reason) => (5u8, reason).hash(&mut hasher),
        }
        for entry in &self.gpus {
            entry.host.hash(&mut hasher);
            entry.index.hash(&mut hasher);
            match &entry.condition {
                GpuCondition::Live => 0u8.hash(&mut hasher),
                GpuCondition::Lost { since, reason } => (1u8, since, reason).hash(&mut hasher),
                GpuCondition::Stale { since, reason } => (2u8, since, reason).hash(&mut hasher),
            }
            if let Some(sample) = &entry.sample {
                hash_shown(sample, &mut hasher);
            }
            // A fleet is drawn one line per GPU, without sparklines.
            if self.fleet.is_none() {
                let history = &entry.history;
                for series in [&history.utilization, &history.memory] {
                    series.len().min(SPARK_POINTS).hash(&mut hasher);
                    series.newest(SPARK_POINTS).for_each(|p| p.hash(&mut hasher));
                }
            }
        }
        hasher.finish()
    }
}

/// Folds one GPU's reading into its entry: a sample and its history, or its loss.
fn fold_one(entry: &mut GpuEntry, reading: DeviceReading, at: DateTime<Utc>, capacity: usize) {
    match reading {
        DeviceReading::Sampled(sample) => {
            let history = &mut entry.history;
            history.utilization.push(sample.utilization_gpu.get().map(f64::from), capacity);
            history.memory.push(sample.memory.get().map(|m| m.percent()), capacity);
            entry.sample = Some(*sample);
            entry.condition = GpuCondition::Live;
        }
        DeviceReading::Lost { reason, .. } => {
            if !matches!(entry.condition, GpuCondition::Lost { .. }) {
                entry.condition = GpuCondition::Lost { since: at, reason };
            }
        }
        DeviceReading::Failed { reason, .. } => {
            let since = match &entry.condition {
                GpuCondition::Stale { since, .. } => *since,
                _ => at,
            };
            entry.condition = GpuCondition::Stale { since, reason };
        }
    }
}

/// Hashes a sample at the precision views show it (memory in tenths of GiB, power in W, processes in MiB).
fn hash_shown(sample: &GpuSample, hasher: &mut impl Hasher) {
    sample.host.hash(hasher);
    sample.xid.hash(hasher);
    sample.name.hash(hasher);
    sample.uuid.hash(hasher);
    sample.utilization_gpu.hash(hasher);
    sample.utilization_memory.hash(hasher);
    sample.memory.clone().map(|m| (m.used * 10 / GIB, m.total * 10 / GIB, m.percent().round() as u64)).hash(hasher);
    sample.temperature.hash(hasher);
    sample.temperature_slowdown.hash(hasher);
    sample.power_draw_mw.clone().map(|mw| (mw + 500) / 1000).hash(hasher);
    sample.power_limit_mw.clone().map(|mw| (mw + 500) / 1000).hash(hasher);
    sample.fan.hash(hasher);
    sample.clock_sm.hash(hasher);
    sample.clock_memory.hash(hasher);
    sample.pcie_tx.clone().map(|kb| kb / 1024).hash(hasher);
    sample.pcie_rx.clone().map(|kb| kb / 1024).hash(hasher);
    sample.ecc_corrected.hash(hasher);
    sample.ecc_uncorrected.hash(hasher);
    sample.throttle_reasons.hash(hasher);
    sample.persistence_mode.hash(hasher);
    sample.mig_mode.hash(hasher);
    match &sample.processes {
        super::Reading::Value(list) => {
            for p in list {
                (p.pid, &p.name, &p.user, p.memory.map(|m| m / MIB), p.gpu_percent, p.kind).hash(hasher);
            }
        }
        other => other.clone().map(|_| ()).hash(hasher),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::sample::{Memory, Reading};

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap()
    }

    fn state() -> GpuState {
        GpuState::new("fake".into(), false, Duration::from_secs(1), Duration::from_secs(10), Thresholds::default())
    }

    fn gpu(index: u32, util: u32) -> DeviceReading {
        let mut sample = GpuSample::bare(index, format!("Fake {index}"));
        sample.utilization_gpu = Reading::Value(util);
        sample.memory = Reading::Value(Memory { used: 40 * GIB, total: 80 * GIB });
        DeviceReading::Sampled(Box::new(sample))
    }

    #[test]
    fn history_is_bounded_by_the_configured_window() {
        let mut state = state();
        for second in 0..25 {
            state.apply(Ok(vec![gpu(0, second as u32)]), at(second));
        }
        let series = &state.gpus[0].history.utilization;
        assert_eq!(series.len(), 10);
        assert_eq!(series.max(), Some(24));
        assert_eq!(series.points.capacity(), 10, "allocated once, at the window's length");
    }

    #[test]
    fn history_keeps_no_more_than_a_sparkline_draws_and_none_for_a_fleet() {
        let day = Duration::from_secs(24 * 3600);
        let mut local = GpuState::new("fake".into(), false, Duration::from_secs(1), day, Thresholds::default());
        let mut fleet = GpuState::new("fleet".into(), false, Duration::from_secs(1), day, Thresholds::default())
            .with_fleet(Some("prom".into()));
        for second in 0..2000 {
            local.apply(Ok(vec![gpu(0, (second % 100) as u32)]), at(second));
            fleet.apply(Ok(vec![gpu(0, 7)]), at(second));
        }
        let history = &local.gpus[0].history;
        assert_eq!((history.utilization.len(), history.memory.len()), (SPARK_POINTS, SPARK_POINTS));
        assert!(history.utilization.points.capacity() < SPARK_POINTS * 2);
        assert_eq!(history.utilization.last(3), vec![97, 98, 99]);
        assert_eq!(fleet.gpus[0].history, History::default(), "a fleet's lines draw no sparkline");
        assert_eq!(fleet.gpus[0].history.utilization.points.capacity(), 0);
    }

    #[test]
    fn a_lost_gpu_keeps_its_last_numbers_and_the_others_carry_on() {
        let mut state = state();
        state.apply(Ok(vec![gpu(0, 10), gpu(1, 20)]), at(0));
        state.apply(Ok(vec![gpu(0, 11), DeviceReading::Lost { index: 1, reason: "fell off the bus".into() }]), at(1));
        state.apply(Ok(vec![gpu(0, 12), DeviceReading::Lost { index: 1, reason: "fell off the bus".into() }]), at(2));
        assert_eq!(state.health, SourceHealth::Live);
        assert_eq!(state.gpus[0].sample.as_ref().unwrap().utilization_gpu, Reading::Value(12));
        assert_eq!(state.gpus[1].condition, GpuCondition::Lost { since: at(1), reason: "fell off the bus".into() });
        assert_eq!(state.gpus[1].sample.as_ref().unwrap().utilization_gpu, Reading::Value(20));
    }

    #[test]
    fn a_transient_failure_is_stale_since_its_first_time() {
        let mut state = state();
        state.apply(Ok(vec![gpu(0, 10)]), at(0));
        state.apply(Err(SourceError::Failed("busy".into())), at(5));
        state.apply(Err(SourceError::Failed("busy".into())), at(9));
        assert_eq!(state.health, SourceHealth::Stale { since: at(5), reason: "busy".into() });
        assert!(state.gpus[0].sample.is_some(), "last numbers are kept");
        state.apply(Ok(vec![gpu(0, 10)]), at(10));
        assert_eq!(state.health, SourceHealth::Live);
    }

    #[test]
    fn view_key_ignores_what_the_screen_does_not_show() {
        let mut state = state();
        for second in 0..12 {
            state.apply(Ok(vec![gpu(0, 50)]), at(second));
        }
        let before = state.view_key();
        // Same numbers again, a few bytes more memory: once the history is full and flat nothing shown changes.
        let DeviceReading::Sampled(mut same) = gpu(0, 50) else { unreachable!() };
        same.memory = Reading::Value(Memory { used: 40 * GIB + 4096, total: 80 * GIB });
        state.apply(Ok(vec![DeviceReading::Sampled(same)]), at(12));
        assert_eq!(state.view_key(), before);
        state.apply(Ok(vec![gpu(0, 51)]), at(13));
        assert_ne!(state.view_key(), before, "a shown value changed");
    }

    #[test]
    fn no_driver_and_empty_lists_are_the_no_gpu_state() {
        let mut state = state();
        state.apply(Err(SourceError::NoGpu("no NVIDIA driver found".into())), at(0));
        assert_eq!(state.health, SourceHealth::NoGpu("no NVIDIA driver found".into()));
        state.apply(Ok(Vec::new()), at(1));
        assert!(matches!(state.health, SourceHealth::NoGpu(_)));
    }
}
