//! The engines harness against the real binaries: what the fleet tests will
//! lean on (series through the query API, alerts reaching Alertmanager, HTTPS
//! with basic auth, a target that is down) works as they will expect, and the
//! clients no check reads yet (Prometheus's rules and alerts, Alertmanager's
//! status) decode what the real servers send.

mod support;

use serde_json::Value;
use support::engines::{self, Alertmanager, NodeExporter, Prometheus, PrometheusOptions};

fn by_label<'a>(series: &'a [Value], label: &str, value: &str) -> &'a Value {
    series.iter().find(|s| s["metric"][label] == value).unwrap_or_else(|| panic!("no {label}={value} in {series:?}"))
}

#[test]
fn textfile_series_reach_the_query_api_with_nan_and_infinities_as_strings() {
    if !engines::installed() {
        return;
    }
    let mut fleet = engines::dcgm_fleet(2, 4);
    let exporter = NodeExporter::start(&engines::dcgm_text(&fleet));
    let prometheus = Prometheus::start(PrometheusOptions { node_exporter: Some(&exporter), ..Default::default() });
    prometheus.wait_for_up(engines::NODE_JOB);

    let util = prometheus.wait_for_series("DCGM_FI_DEV_GPU_UTIL");
    assert_eq!(util.len(), 8, "{util:?}");
    let gpu = &fleet[5];
    let series = by_label(&util, "UUID", &gpu.uuid);
    assert_eq!(series["metric"]["Hostname"], engines::dcgm_hostname(1));
    assert_eq!(series["metric"]["gpu"], "1");
    assert_eq!(series["metric"]["modelName"], engines::DCGM_MODEL);
    assert_eq!(series["metric"]["job"], engines::NODE_JOB);
    // Sample values travel as strings: [unix time, "value"].
    assert_eq!(series["value"][1], gpu.util.to_string());

    let odd = prometheus.query("fw_test_value");
    for (case, value) in [("nan", "NaN"), ("inf", "+Inf"), ("neg_inf", "-Inf"), ("finite", "1.5")] {
        assert_eq!(by_label(&odd, "case", case)["value"][1], value, "{odd:?}");
    }

    // A rewritten file is what the next scrapes serve.
    fleet[5].temp = 97.0;
    exporter.set_metrics(&engines::dcgm_text(&fleet));
    let query = format!("DCGM_FI_DEV_GPU_TEMP{{UUID=\"{}\"}} == 97", fleet[5].uuid);
    prometheus.wait_for_series(&query);
}

#[test]
fn the_always_firing_alert_reaches_alertmanager_with_its_labels_and_annotations() {
    if !engines::installed() {
        return;
    }
    let alertmanager = Alertmanager::start(Default::default());
    let prometheus = Prometheus::start(PrometheusOptions {
        alertmanager: Some(&alertmanager),
        warning_alert: true,
        ..Default::default()
    });
    let critical = alertmanager.wait_for_alert(engines::ALWAYS_FIRING);
    assert_eq!(critical["labels"]["severity"], "critical", "{critical}");
    assert_eq!(critical["labels"]["job"], "api", "{critical}");
    assert_eq!(critical["status"]["state"], "active", "{critical}");
    assert!(critical["annotations"]["summary"].as_str().is_some_and(|s| !s.is_empty()), "{critical}");
    assert!(critical["annotations"]["runbook"].as_str().is_some_and(|s| s.starts_with("https://")), "{critical}");
    let warning = alertmanager.wait_for_alert(engines::ALWAYS_WARNING);
    assert_eq!(warning["labels"]["severity"], "warning", "{warning}");
    // Prometheus shows the same alerts firing.
    let (status, body) = prometheus.get("/api/v1/alerts");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(engines::ALWAYS_FIRING), "{body}");
}

/// An engine of firstwatch's own for `url`.
fn engine(kind: &str, url: &str) -> firstwatch::engine::Engine {
    let toml = format!("[[engine]]\nname = \"{kind}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n");
    let config = firstwatch::config::load_str(&toml, std::path::Path::new("/tmp/firstwatch.toml")).unwrap();
    firstwatch::engine::Engine::new(&config.engines[0], std::path::Path::new("/tmp")).unwrap()
}

#[tokio::test]
async fn the_rules_alerts_and_status_clients_read_the_real_servers() {
    use firstwatch::engine::{alertmanager, prometheus};
    if !engines::installed() {
        return;
    }
    let am = Alertmanager::start(Default::default());
    let prom = Prometheus::start(PrometheusOptions { alertmanager: Some(&am), ..Default::default() });
    // Once Alertmanager holds the alert, Prometheus has fired it.
    am.wait_for_alert(engines::ALWAYS_FIRING);
    let prom_engine = engine("prometheus", &prom.url());

    let groups = prometheus::rules(&prom_engine).await.unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].name, "firstwatch-test");
    assert!(groups[0].file.ends_with("rules.yml"), "{:?}", groups[0].file);
    let rule = &groups[0].rules[0];
    assert_eq!((rule.name.as_str(), rule.kind.as_str()), (engines::ALWAYS_FIRING, "alerting"));
    assert_eq!(rule.query, "vector(1)");
    assert_eq!(rule.state.as_deref(), Some("firing"));
    assert_eq!(rule.health, "ok");
    assert!(rule.last_error.as_deref().unwrap_or_default().is_empty(), "{rule:?}");

    let alerts = prometheus::alerts(&prom_engine).await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].state, "firing");
    assert_eq!(alerts[0].labels["alertname"], engines::ALWAYS_FIRING);
    assert_eq!(alerts[0].labels["severity"], "critical");
    assert!(alerts[0].annotations["runbook"].starts_with("https://"), "{alerts:?}");
    let active_at = alerts[0].active_at.as_deref().unwrap_or_default();
    assert!(chrono::DateTime::parse_from_rfc3339(active_at).is_ok(), "{active_at}");

    let status = alertmanager::status(&engine("alertmanager", &am.url())).await.unwrap();
    assert!(status["versionInfo"]["version"].as_str().is_some_and(|v| !v.is_empty()), "{status}");
    assert_eq!(status["cluster"]["status"], "disabled", "gossip is off: {status}");
    assert!(status["config"]["original"].as_str().unwrap_or_default().contains("receiver"), "{status}");
    assert!(status["uptime"].as_str().is_some(), "{status}");

    // Asked of the wrong kind of server, each says so instead of decoding nonsense.
    let error = alertmanager::status(&prom_engine).await.unwrap_err().to_string();
    assert!(error.starts_with("engine `prometheus`: "), "{error}");
    let error = prometheus::rules(&engine("alertmanager", &am.url())).await.unwrap_err().to_string();
    assert!(error.starts_with("engine `alertmanager`: "), "{error}");
}

#[test]
fn https_with_basic_auth_refuses_a_request_without_credentials_and_answers_one_with_them() {
    if !engines::installed() {
        return;
    }
    let prometheus = Prometheus::start(PrometheusOptions { tls_basic_auth: true, ..Default::default() });
    assert!(prometheus.url().starts_with("https://127.0.0.1:"), "{}", prometheus.url());
    let url = engines::url_with(&prometheus.url(), "/api/v1/query", &[("query", "vector(1)")]);
    let trusted = engines::Access { ca_pem: prometheus.ca_path().map(Into::into), ..Default::default() };

    let (status, body) = engines::get(&url, &trusted).unwrap();
    assert_eq!(status, 401, "{body}");
    let wrong = engines::Access { basic_auth: Some((engines::USERNAME.into(), "wrong".into())), ..trusted.clone() };
    assert_eq!(engines::get(&url, &wrong).unwrap().0, 401);
    let (status, body) = engines::get(&url, prometheus.access()).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"success""#), "{body}");

    // Without the CA the handshake fails: the certificate is the harness's own.
    let untrusted = engines::Access { ca_pem: None, ..prometheus.access().clone() };
    let error = engines::get(&url, &untrusted).unwrap_err();
    assert!(error.to_lowercase().contains("certificate"), "{error}");
}

#[test]
fn a_target_on_a_closed_port_is_down_with_its_last_error() {
    if !engines::installed() {
        return;
    }
    let prometheus = Prometheus::start(PrometheusOptions { down_target: true, ..Default::default() });
    let target = prometheus.wait_for_target_health(engines::DOWN_JOB, "down");
    let error = target["lastError"].as_str().unwrap_or_default();
    assert!(error.contains("connection refused"), "{target}");
    assert_eq!(prometheus.query("up{job=\"down\"}")[0]["value"][1], "0");
}

#[test]
fn a_missing_engine_skips_the_test_outside_ci_and_fails_it_under_ci() {
    let outcome = std::panic::catch_unwind(|| engines::require("firstwatch-no-such-engine"));
    if std::env::var_os("CI").is_some() {
        assert!(outcome.is_err(), "CI must fail, not skip, when an engine is missing");
    } else {
        assert_eq!(outcome.unwrap(), None);
    }
}
