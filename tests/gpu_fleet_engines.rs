//! Fleet GPUs against a real Prometheus scraping a real node_exporter whose
//! textfile collector serves DCGM-named metrics: `firstwatch gpu --json`
//! lists every GPU with its host and the `[gpu]` thresholds applied, asks one
//! query per metric whatever the number of hosts, and names the engine (exit
//! 3) when it cannot be read; the GPU tab's sampling loop reads the same
//! fleet through the same source.

mod support;

use firstwatch::gpu::engine::{self, Delivery, EngineOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::engines::{self, NodeExporter, Prometheus, PrometheusOptions};

const HOSTS: usize = 5;
const GPUS: usize = 4;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn firstwatch(config: &Path, args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn config(dir: &Path, url: &str) -> PathBuf {
    config_with(dir, url, "")
}

fn config_with(dir: &Path, url: &str, gpu: &str) -> PathBuf {
    let path = dir.join("firstwatch.toml");
    let text = format!(
        "[[engine]]\nname = \"prom\"\nkind = \"prometheus\"\nurl = \"{url}\"\ntimeout = \"3s\"\n\n[gpu]\nsource = \"prometheus\"\n{gpu}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A Prometheus that has scraped every DCGM metric of `fleet` at least once.
fn started(fleet: &[engines::DcgmGpu]) -> (NodeExporter, Prometheus) {
    let exporter = NodeExporter::start(&engines::dcgm_text(fleet));
    let prometheus = Prometheus::start(PrometheusOptions { node_exporter: Some(&exporter), ..Default::default() });
    prometheus.wait_for_up(engines::NODE_JOB);
    prometheus.wait_for_series("DCGM_FI_DEV_XID_ERRORS");
    (exporter, prometheus)
}

/// How many `/api/v1/query` requests the server has answered, from its own
/// `/metrics` page (which is no query, so reading it counts nothing).
fn queries_served(prometheus: &Prometheus) -> f64 {
    let (status, page) = prometheus.get("/metrics");
    assert_eq!(status, 200);
    page.lines()
        .filter(|l| l.starts_with("prometheus_http_requests_total{") && l.contains("handler=\"/api/v1/query\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn gpus(run: &Run) -> Vec<Value> {
    let value: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    value["gpus"].as_array().cloned().unwrap_or_default()
}

#[test]
fn gpu_json_lists_every_gpu_of_every_host_with_one_query_per_metric() {
    if !engines::installed() {
        return;
    }
    let mut fleet = engines::dcgm_fleet(HOSTS, GPUS);
    fleet[6].xid = 79.0;
    let (exporter, prometheus) = started(&fleet);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &prometheus.url());

    let before = queries_served(&prometheus);
    let run = firstwatch(&config, &["gpu", "--json"]);
    let after = queries_served(&prometheus);
    assert_eq!(run.code, 0, "every GPU below its thresholds: {}\n{}", run.stderr, run.stdout);
    // Seven metrics, seven queries, for five hosts.
    assert_eq!(after - before, 7.0, "one query per metric, never one per host");

    let value: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["engine"], "prom");
    assert!(value["source"].as_str().unwrap().contains("20 GPUs on 5 hosts"), "{value}");
    let listed = gpus(&run);
    assert_eq!(listed.len(), HOSTS * GPUS, "{}", run.stdout);
    for gpu in &fleet {
        let found = listed
            .iter()
            .find(|g| g["host"] == gpu.hostname.as_str() && g["index"] == gpu.gpu)
            .unwrap_or_else(|| panic!("{} GPU {} missing: {}", gpu.hostname, gpu.gpu, run.stdout));
        assert_eq!(found["uuid"], gpu.uuid.as_str());
        assert_eq!(found["name"], engines::DCGM_MODEL);
        assert_eq!(found["utilization_gpu_percent"], gpu.util as u64);
        assert_eq!(found["memory_used_mib"], gpu.fb_used as u64);
        assert_eq!(found["memory_total_mib"], (gpu.fb_used + gpu.fb_free) as u64);
        assert_eq!(found["temperature_c"], gpu.temp as u64);
        assert_eq!(found["power_draw_w"].as_f64(), Some(gpu.power));
        assert_eq!(found["power_limit_w"], Value::Null, "no limit metric: unknown, not 0");
        assert_eq!(found["level"], "ok");
    }
    let with_xid = listed.iter().find(|g| g["xid"] == 79).expect("the GPU with an Xid");
    assert_eq!(with_xid["host"], fleet[6].hostname.as_str());
    assert_eq!(with_xid["xid_meaning"], "GPU has fallen off the bus");

    // The table names hosts first and says the Xid in words.
    let table = firstwatch(&config, &["gpu"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.lines().nth(1).is_some_and(|l| l.starts_with("HOST")), "{}", table.stdout);
    assert!(table.stdout.contains("last Xid 79: GPU has fallen off the bus"), "{}", table.stdout);
    drop(exporter);
}

#[test]
fn a_hot_gpu_is_critical_and_a_full_one_a_warning_by_the_same_thresholds() {
    if !engines::installed() {
        return;
    }
    let mut fleet = engines::dcgm_fleet(2, 2);
    let (exporter, prometheus) = started(&fleet);
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &prometheus.url());

    // 92% of the frame buffer on host 1's GPU 0: past memory_warn (90%).
    fleet[2].fb_used = (engines::DCGM_FB_TOTAL * 0.92).round();
    fleet[2].fb_free = engines::DCGM_FB_TOTAL - fleet[2].fb_used;
    exporter.set_metrics(&engines::dcgm_text(&fleet));
    prometheus.wait_for_series(&format!("DCGM_FI_DEV_FB_USED{{UUID=\"{}\"}} == {}", fleet[2].uuid, fleet[2].fb_used));
    let warm = firstwatch(&config, &["gpu", "--json"]);
    assert_eq!(warm.code, 1, "a memory warning: {}", warm.stdout);
    let gpu = gpus(&warm).into_iter().find(|g| g["uuid"] == fleet[2].uuid.as_str()).unwrap();
    assert_eq!((gpu["level"].as_str(), gpu["levels"]["memory"].as_str()), (Some("warn"), Some("warn")), "{gpu}");

    // 95°C on host 0's GPU 1: past temperature_critical (90).
    fleet[1].temp = 95.0;
    exporter.set_metrics(&engines::dcgm_text(&fleet));
    prometheus.wait_for_series(&format!("DCGM_FI_DEV_GPU_TEMP{{UUID=\"{}\"}} == 95", fleet[1].uuid));
    let hot = firstwatch(&config, &["gpu", "--json"]);
    assert_eq!(hot.code, 2, "a critical GPU outranks the warning: {}", hot.stdout);
    let gpu = gpus(&hot).into_iter().find(|g| g["uuid"] == fleet[1].uuid.as_str()).unwrap();
    assert_eq!(gpu["host"], engines::dcgm_hostname(0));
    assert_eq!(gpu["levels"]["temperature"], "crit", "{gpu}");
}

#[test]
fn an_engine_that_cannot_be_read_exits_3_naming_it() {
    // Nothing listens on this port: no real server is needed to see it refused.
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &format!("http://127.0.0.1:{}", engines::free_port()));
    for args in [&["gpu", "--json"][..], &["gpu"][..]] {
        let run = firstwatch(&config, args);
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("engine `prom`: unreachable"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
}

#[test]
fn a_prometheus_without_dcgm_metrics_has_no_gpu_and_exits_3() {
    if !engines::installed() {
        return;
    }
    let prometheus = Prometheus::start(PrometheusOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let run = firstwatch(&config(dir.path(), &prometheus.url()), &["gpu", "--json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("engine `prom` has no DCGM GPU series"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tabs_sampling_loop_reads_the_fleet_and_names_the_engine_when_it_goes() {
    if !engines::installed() {
        return;
    }
    let fleet = engines::dcgm_fleet(3, 2);
    let (exporter, prometheus) = tokio::task::block_in_place(|| started(&fleet));
    let dir = tempfile::tempdir().unwrap();
    // A quick refresh, so the test sees the engine go within seconds.
    let path = config_with(dir.path(), &prometheus.url(), "every = \"1s\"\n");
    let config = firstwatch::config::load(&path).unwrap();
    let (states, mut received) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(engine::run(
        firstwatch::gpu::source_for(&config),
        EngineOptions::from_config(&config),
        move |state| match states.send(state) {
            Ok(()) => Delivery::Sent,
            Err(_) => Delivery::Closed,
        },
    ));
    let live = loop {
        let state = received.recv().await.expect("the loop keeps sending");
        if state.health == firstwatch::gpu::SourceHealth::Live {
            break state;
        }
    };
    assert_eq!(live.fleet.as_deref(), Some("prom"));
    assert_eq!(live.gpus.len(), 6);
    let hosts: Vec<&str> = live.gpus.iter().filter_map(|g| g.host.as_deref()).collect();
    assert_eq!(hosts, vec!["gpu-node-00", "gpu-node-00", "gpu-node-01", "gpu-node-01", "gpu-node-02", "gpu-node-02"]);

    drop(prometheus);
    let down = loop {
        let state = received.recv().await.expect("the loop keeps sending");
        if let firstwatch::gpu::SourceHealth::Stale { reason, .. } = &state.health {
            break reason.clone();
        }
    };
    assert!(down.starts_with("engine `prom`: unreachable"), "{down}");
    task.abort();
    drop(exporter);
}
