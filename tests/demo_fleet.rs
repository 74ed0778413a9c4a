//! The demo's simulated fleet, answered through firstwatch's own engine
//! clients as a real Prometheus and Alertmanager would be: DCGM series for
//! every GPU, `up`, range queries, a down target, alerts (one suppressed by
//! the existing silence), a silence created, read back, suppressing its alert
//! and expired again; and the GPU source reading the whole fleet from it.

use chrono::{Duration, Utc};
use firstwatch::config::EngineKind;
use firstwatch::engine::alertmanager::{self, NewSilence};
use firstwatch::engine::matcher::Matcher;
use firstwatch::engine::{Engines, prometheus};
use firstwatch::gpu::{DeviceReading, Level, Thresholds};
use std::sync::Arc;

async fn demo_fleet() -> (Engines, tempfile::TempDir, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fleet = Arc::new(firstwatch::demo::fleet::Fleet::new(Utc::now() - Duration::minutes(5)));
    tokio::spawn(firstwatch::demo::fleet::serve(listener, fleet));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("firstwatch.toml");
    // The demo's own engine entries, as `firstwatch demo` writes them.
    let text = include_str!("../src/demo/config/fleet.toml").replace("{url}", &url)
        + "[gpu]\nsource = \"prometheus\"\nengine = \"demo-fleet (simulated)\"\n";
    std::fs::write(&path, text).unwrap();
    let config = firstwatch::config::load(&path).unwrap();
    let (engines, problems) = Engines::from_config(&config);
    assert!(problems.is_empty(), "{problems:?}");
    (engines, dir, path.display().to_string())
}

#[tokio::test]
async fn its_prometheus_answers_dcgm_series_up_ranges_and_targets() {
    let (engines, _dir, _) = demo_fleet().await;
    let prom = engines.pick(None, EngineKind::Prometheus).unwrap();
    assert_eq!(prom.name(), "demo-fleet (simulated)");

    let util = prometheus::query(&prom, "DCGM_FI_DEV_GPU_UTIL", None).await.unwrap();
    assert_eq!(util.len(), 8 + 8 + 4 + 2, "every GPU of the four hosts");
    assert!(util.iter().all(|s| (0.0..=100.0).contains(&s.value)));
    let hosts: std::collections::BTreeSet<&str> = util.iter().map(|s| s.labels["Hostname"].as_str()).collect();
    assert_eq!(hosts.len(), 4, "{hosts:?}");
    let hot = prometheus::query(&prom, r#"DCGM_FI_DEV_GPU_TEMP{Hostname="h100-02",gpu="5"}"#, None).await.unwrap();
    assert_eq!(hot.len(), 1);
    assert!(hot[0].value >= 90.0, "{hot:?}");
    // One host does not report its power limit.
    assert_eq!(prometheus::query(&prom, "DCGM_FI_DEV_POWER_MGMT_LIMIT", None).await.unwrap().len(), 20);
    assert!(prometheus::query(&prom, "rate(node_cpu_seconds_total[5m])", None).await.unwrap().is_empty());

    let up = prometheus::query(&prom, "up", None).await.unwrap();
    let down: Vec<_> = up.iter().filter(|s| s.value == 0.0).collect();
    assert_eq!(down.len(), 1, "{up:?}");
    assert_eq!(down[0].labels["instance"], "db-02:9100");

    // The numbers move over time, and a range query gives one point per step.
    let now = Utc::now().timestamp() as f64;
    let range = prometheus::query_range(&prom, "DCGM_FI_DEV_GPU_UTIL", now - 600.0, now, 15.0).await.unwrap();
    assert_eq!(range.len(), 22);
    assert!(range.iter().all(|s| s.points.len() == 41), "{:?}", range[0].points.len());
    assert!(range.iter().any(|s| s.points.iter().any(|p| p.1 != s.points[0].1)), "nothing moved in ten minutes");
    let too_fine = prometheus::query_range(&prom, "up", now - 86_400.0, now, 1.0).await.unwrap_err();
    assert!(too_fine.to_string().contains("11,000 points"), "{too_fine}");

    let targets = prometheus::targets(&prom).await.unwrap();
    let down: Vec<_> = targets.iter().filter(|t| t.is_down()).collect();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0].name(), "node/db-02:9100");
    assert!(down[0].last_error.contains("connection refused"), "{:?}", down[0]);
}

#[tokio::test]
async fn its_alertmanager_lists_alerts_and_silences_and_takes_new_ones() {
    let (engines, _dir, _) = demo_fleet().await;
    let am = engines.pick(None, EngineKind::Alertmanager).unwrap();
    let alerts = alertmanager::alerts(&am).await.unwrap();
    let by_name = |name: &str| alerts.iter().find(|a| a.name() == name).unwrap_or_else(|| panic!("{alerts:?}"));
    assert_eq!(by_name("GpuTooHot").severity(), Some("critical"));
    assert_eq!(by_name("GpuTooHot").status.state, "active");
    assert_eq!(by_name("GpuMemoryHigh").severity(), Some("warning"));
    let silenced = by_name("TargetDown");
    assert_eq!(silenced.status.state, "suppressed");
    let silences = alertmanager::silences(&am).await.unwrap();
    assert_eq!(silences.len(), 1);
    assert_eq!(silenced.status.silenced_by, vec![silences[0].id.clone()]);
    assert_eq!(silences[0].status.state, "active");
    assert_eq!(silences[0].matchers_text(), r#"alertname="TargetDown", instance="db-02:9100""#);
    let groups = alertmanager::groups(&am).await.unwrap();
    assert_eq!(groups.len(), 3);
    assert!(groups.iter().all(|g| g.receiver.name == "oncall-pager" && g.alerts.len() == 1));
    assert!(alertmanager::status(&am).await.unwrap()["versionInfo"]["version"].as_str().unwrap().contains("simulated"));

    // A silence on the memory warning: created, read back, suppressing it, then expired.
    let new = NewSilence {
        matchers: vec![Matcher::parse(r#"alertname="GpuMemoryHigh""#).unwrap()],
        starts_at: Utc::now(),
        ends_at: Utc::now() + Duration::hours(2),
        created_by: "bob".into(),
        comment: "the training job is being resized".into(),
    };
    let id = alertmanager::create_silence(&am, &new).await.unwrap();
    let read = alertmanager::silence(&am, &id).await.unwrap();
    assert_eq!((read.created_by.as_str(), read.status.state.as_str()), ("bob", "active"));
    let alerts = alertmanager::alerts(&am).await.unwrap();
    let memory = alerts.iter().find(|a| a.name() == "GpuMemoryHigh").unwrap();
    assert_eq!(memory.status.state, "suppressed");
    assert_eq!(memory.status.silenced_by, vec![id.clone()]);
    alertmanager::expire_silence(&am, &id).await.unwrap();
    assert_eq!(alertmanager::silence(&am, &id).await.unwrap().status.state, "expired");
    let alerts = alertmanager::alerts(&am).await.unwrap();
    assert_eq!(alerts.iter().find(|a| a.name() == "GpuMemoryHigh").unwrap().status.state, "active");
    // Expiring it again, or an id it never had, is refused with a reason that names the engine.
    let again = alertmanager::expire_silence(&am, &id).await.unwrap_err();
    assert!(again.to_string().contains("already expired"), "{again}");
    let unknown = alertmanager::expire_silence(&am, "00000000-0000-4000-a000-000000000000").await.unwrap_err();
    assert!(unknown.to_string().starts_with("engine `demo-alerts (simulated)`"), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gpu_source_reads_the_whole_fleet_with_the_same_thresholds() {
    let (_engines, _dir, path) = demo_fleet().await;
    let config = firstwatch::config::load(std::path::Path::new(&path)).unwrap();
    let mut source = firstwatch::gpu::source_for(&config);
    assert_eq!(source.fleet().as_deref(), Some("demo-fleet (simulated)"));
    let readings = tokio::task::spawn_blocking(move || source.sample()).await.unwrap().unwrap();
    assert_eq!(readings.len(), 22);
    let thresholds = Thresholds::default();
    let level = |host: &str, index: u32| {
        let reading = readings.iter().find(|r| r.host() == Some(host) && r.index() == index).unwrap();
        let DeviceReading::Sampled(sample) = reading else { panic!("{reading:?}") };
        thresholds.levels(sample)
    };
    assert_eq!(level("h100-02", 5).temperature, Level::Crit);
    assert_eq!(level("l40s-03", 2).memory, Level::Warn);
    assert_eq!(level("dgx-a100-01", 0).worst(), Level::Ok);
    let DeviceReading::Sampled(edge) =
        readings.iter().find(|r| r.host() == Some("t4-edge-04") && r.index() == 1).unwrap()
    else {
        panic!()
    };
    assert_eq!(edge.xid.get(), Some(31));
    assert_eq!(edge.power_limit_mw.get(), None, "this host reports no power limit");
}
