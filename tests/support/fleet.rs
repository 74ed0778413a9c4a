//! A fixed fleet of GPUs as a Prometheus engine's DCGM metrics would give it:
//! `hosts` hosts of `gpus` H100s with numbers that differ from GPU to GPU and
//! are the same on every call; a few GPUs past thresholds, one with an Xid.

use chrono::{DateTime, Utc};
use firstwatch::gpu::{DeviceReading, GpuSample, GpuState, Memory, Reading, Thresholds};
use std::time::Duration;

pub fn at(second: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap()
}

/// One host's GPUs, with host 7's GPU 1 hot (critical), host 12's GPU 5 near
/// full (warning) and host 40's GPU 0 carrying Xid 79.
pub fn readings(hosts: usize, gpus: usize) -> Vec<DeviceReading> {
    let mut out = Vec::with_capacity(hosts * gpus);
    for host in 0..hosts {
        for gpu in 0..gpus {
            let mut sample = GpuSample::bare(gpu as u32, "NVIDIA H100 80GB HBM3");
            sample.host = Some(format!("gpu-node-{host:02}"));
            sample.uuid = Reading::Value(format!("GPU-{host:08x}-{gpu:04x}-4f57-8a3c"));
            let util = ((host * 37 + gpu * 11) % 100) as u32;
            let used_gib = match (host, gpu) {
                (12, 5) => 74,
                _ => ((host * 5 + gpu * 3) % 60 + 1) as u64,
            };
            sample.utilization_gpu = Reading::Value(util);
            sample.memory = Reading::Value(Memory { used: used_gib << 30, total: 80 << 30 });
            sample.temperature = Reading::Value(match (host, gpu) {
                (7, 1) => 93,
                _ => (30 + (host * 7 + gpu * 5) % 45) as u32,
            });
            sample.power_draw_mw = Reading::Value(70_000 + util * 6_000);
            sample.xid = Reading::Value(if (host, gpu) == (40, 0) { 79 } else { 0 });
            out.push(DeviceReading::Sampled(Box::new(sample)));
        }
    }
    out
}

/// The fleet after two refreshes; with `lose_last_host`, the last host stopped reporting in the second.
pub fn state(hosts: usize, gpus: usize, lose_last_host: bool) -> GpuState {
    let mut state = GpuState::new(
        "prometheus engine `prom`".into(),
        false,
        Duration::from_secs(5),
        Duration::from_secs(600),
        Thresholds::default(),
    )
    .with_fleet(Some("prom".into()));
    state.apply(Ok(readings(hosts, gpus)), at(0));
    let mut second = readings(hosts, gpus);
    if lose_last_host {
        second.truncate((hosts - 1) * gpus);
    }
    state.apply(Ok(second), at(5));
    state
}
