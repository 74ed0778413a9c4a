//! `/api/v1/query` answers as a Prometheus scraping NVIDIA's DCGM exporter on
//! `hosts` hosts of `gpus` GPUs gives them to the fleet source's queries
//! (`max by (Hostname, instance, gpu, UUID, modelName) (METRIC)`: those labels,
//! in Prometheus's order), for replaying a large fleet without one.

use std::fmt::Write as _;

/// One metric's answer; `turn` moves the numbers a little from one refresh to the next.
pub fn body(metric: &str, hosts: usize, gpus: usize, turn: usize) -> String {
    let mut out = String::with_capacity(hosts * gpus * 420);
    out.push_str(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    for host in 0..hosts {
        for gpu in 0..gpus {
            let util = (host * 37 + gpu * 11 + turn * 3) % 100;
            let used = ((host * 5 + gpu * 3 + turn) % 78 + 1) * 1000;
            let value = match metric {
                "DCGM_FI_DEV_GPU_UTIL" => util.to_string(),
                "DCGM_FI_DEV_FB_USED" => used.to_string(),
                "DCGM_FI_DEV_FB_FREE" => (81559 - used).to_string(),
                "DCGM_FI_DEV_GPU_TEMP" => (30 + (host * 7 + gpu * 5 + turn) % 55).to_string(),
                "DCGM_FI_DEV_POWER_USAGE" => format!("{:.3}", 70.0 + util as f64 * 6.21),
                "DCGM_FI_DEV_POWER_MGMT_LIMIT" => "700".to_string(),
                _ => (if host % 97 == 3 && gpu == 1 { 79 } else { 0 }).to_string(),
            };
            if host + gpu > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"metric":{{"Hostname":"gpu-node-{host:03}","UUID":"GPU-{host:08x}-{gpu:04x}-4f57-8a3c-{:012x}","gpu":"{gpu}","instance":"10.1.{}.{}:9400","modelName":"NVIDIA H100 80GB HBM3"}},"value":[1800000000.123,"{value}"]}}"#,
                host * 1000 + gpu,
                host / 250,
                host % 250,
            );
        }
    }
    out.push_str("]}}");
    out
}
