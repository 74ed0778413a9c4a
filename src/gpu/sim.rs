//! A made-up host with N GPUs whose numbers move plausibly: load rises and
//! falls, memory follows load, temperature and fan follow power. The same seed
//! gives the same numbers, so tests and screenshots are stable.

use super::sample::{DeviceReading, GpuProcess, GpuSample, Memory, ProcessKind, Reading, SourceError};
use super::source::GpuSource;

const GIB: u64 = 1 << 30;

/// Per-card character: some GPUs idle, one is nearly full (to show the 90% rule), one runs hot.
struct Card {
    name: &'static str,
    memory_total: u64,
    power_limit_mw: u32,
    /// Typical utilisation and how far it swings.
    base_load: f64,
    swing: f64,
    /// Share of memory jobs keep allocated on top of what load needs.
    memory_floor: f64,
    heat: f64,
    phase: f64,
}

const CARDS: [Card; 4] = [
    Card {
        name: "NVIDIA A100-SXM4-80GB",
        memory_total: 80 * GIB,
        power_limit_mw: 400_000,
        base_load: 70.0,
        swing: 25.0,
        memory_floor: 0.55,
        heat: 0.0,
        phase: 0.0,
    },
    Card {
        name: "NVIDIA A100-SXM4-80GB",
        memory_total: 80 * GIB,
        power_limit_mw: 400_000,
        base_load: 12.0,
        swing: 10.0,
        memory_floor: 0.10,
        heat: 0.0,
        phase: 1.7,
    },
    Card {
        name: "NVIDIA L40S",
        memory_total: 48 * GIB,
        power_limit_mw: 350_000,
        base_load: 85.0,
        swing: 10.0,
        memory_floor: 0.845,
        heat: 6.0,
        phase: 0.9,
    },
    Card {
        name: "NVIDIA H100 80GB HBM3",
        memory_total: 80 * GIB,
        power_limit_mw: 700_000,
        base_load: 55.0,
        swing: 40.0,
        memory_floor: 0.35,
        heat: 14.0,
        phase: 2.9,
    },
];

const JOBS: [(&str, &str); 6] = [
    ("python3", "ml-train"),
    ("tritonserver", "svc-infer"),
    ("python3", "alice"),
    ("ffmpeg", "media"),
    ("jupyter-lab", "bob"),
    ("vllm", "svc-infer"),
];

/// The simulated source behind `[gpu] simulate = N`.
pub struct SimulatedSource {
    count: u32,
    seed: u64,
    step: u64,
}

impl SimulatedSource {
    pub fn new(count: u32, seed: u64) -> SimulatedSource {
        SimulatedSource { count, seed, step: 0 }
    }

    fn gpu(&self, index: u32) -> GpuSample {
        let card = &CARDS[index as usize % CARDS.len()];
        let t = self.step as f64;
        let noise =
            |salt: u64| (mix(self.seed ^ (u64::from(index) << 32) ^ (self.step << 8) ^ salt) % 1000) as f64 / 1000.0;
        let wave = (t / 23.0 + card.phase).sin() * 0.7 + (t / 7.0 + card.phase * 2.0).sin() * 0.3;
        let util = (card.base_load + card.swing * wave + (noise(1) - 0.5) * 8.0).clamp(0.0, 100.0);
        let memory_share = (card.memory_floor + util / 100.0 * 0.08 + noise(2) * 0.01).min(0.99);
        // Allocations come in whole MiB, as on real cards.
        let used = (card.memory_total as f64 * memory_share) as u64 >> 20 << 20;
        let power_mw = (card.power_limit_mw as f64 * (0.18 + 0.74 * util / 100.0 + noise(3) * 0.03)) as u32;
        let temperature = (32.0 + util * 0.42 + card.heat + noise(4) * 2.0) as u32;
        let fan = (25.0 + (temperature as f64 - 30.0) * 1.1).clamp(25.0, 100.0) as u32;
        let mut sample = GpuSample::bare(index, card.name);
        sample.uuid = Reading::Value(format!("GPU-51a{index:05x}-{:08x}-sim", self.seed as u32));
        sample.utilization_gpu = Reading::Value(util.round() as u32);
        sample.utilization_memory = Reading::Value((util * 0.6).round() as u32);
        sample.memory = Reading::Value(Memory { used, total: card.memory_total });
        sample.temperature = Reading::Value(temperature);
        sample.temperature_slowdown = Reading::Value(87);
        sample.power_draw_mw = Reading::Value(power_mw);
        sample.power_limit_mw = Reading::Value(card.power_limit_mw);
        // SXM boards have no fan of their own, as on the real cards.
        sample.fan = if card.name.contains("SXM") { Reading::NotSupported } else { Reading::Value(fan) };
        sample.clock_sm = Reading::Value(if util < 5.0 { 210 } else { 1410 - (noise(5) * 60.0) as u32 });
        sample.clock_memory = Reading::Value(1593);
        sample.pcie_tx = Reading::Value((util * 900.0 * noise(6)) as u32);
        sample.pcie_rx = Reading::Value((util * 2400.0 * noise(7)) as u32);
        sample.ecc_corrected = Reading::Value(u64::from(index == 1) * 3);
        sample.ecc_uncorrected = Reading::Value(0);
        sample.throttle_reasons = Reading::Value(if temperature >= 85 {
            vec!["sw_thermal_slowdown".to_string()]
        } else if util < 5.0 {
            vec!["gpu_idle".to_string()]
        } else {
            Vec::new()
        });
        sample.persistence_mode = Reading::Value(true);
        sample.mig_mode = if card.name.contains("A100") { Reading::Value(false) } else { Reading::NotSupported };
        sample.processes = Reading::Value(self.processes(index, used, util));
        sample
    }

    /// One to three jobs per GPU sharing the used memory, with stable pids.
    fn processes(&self, index: u32, used: u64, util: f64) -> Vec<GpuProcess> {
        let jobs = 1 + (mix(self.seed ^ u64::from(index)) % 3) as usize;
        let mut left = used.saturating_sub(used / 20);
        (0..jobs)
            .map(|job| {
                let (name, user) = JOBS[(index as usize * 2 + job) % JOBS.len()];
                let memory = if job + 1 == jobs { left } else { left * 2 / 3 };
                left -= memory;
                // The SMs are shared roughly as the memory is.
                let share = if used == 0 { 0.0 } else { memory as f64 / used as f64 };
                GpuProcess {
                    pid: 4000 + index * 97 + job as u32 * 13,
                    name: name.to_string(),
                    user: user.to_string(),
                    memory: Some(memory),
                    gpu_percent: Some((util * share).round() as u32),
                    kind: if name == "ffmpeg" { ProcessKind::Graphics } else { ProcessKind::Compute },
                }
            })
            .collect()
    }
}

/// splitmix64: a good spread from consecutive inputs.
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl GpuSource for SimulatedSource {
    fn describe(&self) -> String {
        format!("simulation, seed {}", self.seed)
    }

    fn simulated(&self) -> bool {
        true
    }

    fn sample(&mut self) -> Result<Vec<DeviceReading>, SourceError> {
        let readings = (0..self.count).map(|index| DeviceReading::Sampled(Box::new(self.gpu(index)))).collect();
        self.step += 1;
        Ok(readings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(source: &mut SimulatedSource) -> Vec<GpuSample> {
        source
            .sample()
            .unwrap()
            .into_iter()
            .map(|r| match r {
                DeviceReading::Sampled(s) => *s,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn same_seed_same_numbers_and_the_numbers_move() {
        let mut a = SimulatedSource::new(4, 7);
        let mut b = SimulatedSource::new(4, 7);
        let first = samples(&mut a);
        assert_eq!(first, samples(&mut b));
        let later: Vec<_> = (0..30).map(|_| samples(&mut a)).collect();
        assert!(later.iter().any(|s| s[0].utilization_gpu != first[0].utilization_gpu), "utilisation never moved");
        assert_ne!(samples(&mut SimulatedSource::new(4, 8)), samples(&mut SimulatedSource::new(4, 7)));
    }

    #[test]
    fn values_stay_in_range_for_a_long_run() {
        let mut source = SimulatedSource::new(8, 3);
        for _ in 0..2000 {
            for gpu in samples(&mut source) {
                let memory = gpu.memory.get().unwrap();
                assert!(memory.used <= memory.total);
                assert!(gpu.utilization_gpu.get().unwrap() <= 100);
                assert!((20..110).contains(&gpu.temperature.get().unwrap()));
                let processes = gpu.processes.value().unwrap();
                assert!(processes.iter().filter_map(|p| p.memory).sum::<u64>() <= memory.used);
            }
        }
    }
}
