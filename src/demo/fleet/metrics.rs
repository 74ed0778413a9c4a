//! The fleet's metrics: four hosts of GPUs as NVIDIA's DCGM exporter labels
//! them, their scrape targets, and the three query endpoints over them.
//!
//! Values are functions of the time since the demo started, so an instant
//! query and a range query agree, and the same time gives the same numbers.
//! One GPU runs hot (critical), one is nearly full (a warning), one carries
//! an old Xid, and one host does not report its power limits.

use super::super::http::{Request, Response};
use super::{prometheus_error, seconds};
use crate::engine::Labels;
use crate::engine::matcher::{Matcher, all_match};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The most points a range query returns per series, as Prometheus limits it.
const MAX_POINTS: f64 = 11_000.0;

pub struct Host {
    pub name: &'static str,
    pub gpus: u32,
    model: &'static str,
    memory_mib: f64,
    power_limit_w: f64,
    idle_w: f64,
    /// Typical utilisation and how far it swings.
    load: f64,
    swing: f64,
    /// Whether its exporter reports DCGM_FI_DEV_POWER_MGMT_LIMIT.
    reports_limit: bool,
}

pub const HOSTS: [Host; 4] = [
    Host {
        name: "dgx-a100-01",
        gpus: 8,
        model: "NVIDIA A100-SXM4-80GB",
        memory_mib: 81920.0,
        power_limit_w: 400.0,
        idle_w: 60.0,
        load: 78.0,
        swing: 15.0,
        reports_limit: true,
    },
    Host {
        name: "h100-02",
        gpus: 8,
        model: "NVIDIA H100 80GB HBM3",
        memory_mib: 81559.0,
        power_limit_w: 700.0,
        idle_w: 70.0,
        load: 55.0,
        swing: 30.0,
        reports_limit: true,
    },
    Host {
        name: "l40s-03",
        gpus: 4,
        model: "NVIDIA L40S",
        memory_mib: 46068.0,
        power_limit_w: 350.0,
        idle_w: 35.0,
        load: 40.0,
        swing: 25.0,
        reports_limit: true,
    },
    Host {
        name: "t4-edge-04",
        gpus: 2,
        model: "Tesla T4",
        memory_mib: 15360.0,
        power_limit_w: 70.0,
        idle_w: 10.0,
        load: 20.0,
        swing: 15.0,
        reports_limit: false,
    },
];

/// The GPU whose cooling failed: critical by temperature.
pub const HOT: (&str, u32) = ("h100-02", 5);
/// The GPU a job filled: past the 90% memory rule.
pub const FULL: (&str, u32) = ("l40s-03", 2);
/// The GPU that once reported Xid 31 (a memory page fault in an application).
pub const OLD_XID: (&str, u32, u32) = ("t4-edge-04", 1, 31);

/// A scrape target that is down, with the error its last scrape gave.
const DOWN_TARGET: (&str, &str, &str) =
    ("node", "db-02:9100", "Get \"http://db-02:9100/metrics\": dial tcp 10.0.3.12:9100: connect: connection refused");

const METRICS: [&str; 7] = [
    "DCGM_FI_DEV_GPU_UTIL",
    "DCGM_FI_DEV_FB_USED",
    "DCGM_FI_DEV_FB_FREE",
    "DCGM_FI_DEV_GPU_TEMP",
    "DCGM_FI_DEV_POWER_USAGE",
    "DCGM_FI_DEV_POWER_MGMT_LIMIT",
    "DCGM_FI_DEV_XID_ERRORS",
];

/// One GPU's numbers at `t` seconds after the start.
fn value(metric: &str, host_index: usize, host: &Host, gpu: u32, t: f64) -> Option<f64> {
    let phase = f64::from(gpu) * 1.3 + host_index as f64 * 0.7;
    let wave = (t / 40.0 + phase).sin() * 0.6 + (t / 9.0 + phase * 2.0).sin() * 0.4;
    let hot = (host.name, gpu) == HOT;
    let full = (host.name, gpu) == FULL;
    let util = if hot { 95.0 + (t / 7.0).sin() * 3.0 } else { host.load + host.swing * wave }.clamp(0.0, 100.0).round();
    let share = if full { 0.91 + util / 100.0 * 0.03 } else { 0.25 + util / 100.0 * 0.45 + (phase.sin() + 1.0) * 0.05 };
    let used = (host.memory_mib * share).round();
    let heat = if hot { 30.0 } else { 0.0 };
    Some(match metric {
        "DCGM_FI_DEV_GPU_UTIL" => util,
        "DCGM_FI_DEV_FB_USED" => used,
        "DCGM_FI_DEV_FB_FREE" => host.memory_mib - used,
        "DCGM_FI_DEV_GPU_TEMP" => (31.0 + util * 0.33 + heat + (t / 13.0 + phase).sin()).round(),
        "DCGM_FI_DEV_POWER_USAGE" => {
            ((host.idle_w + (host.power_limit_w - host.idle_w) * util / 100.0 * 0.9) * 100.0).round() / 100.0
        }
        "DCGM_FI_DEV_POWER_MGMT_LIMIT" if host.reports_limit => host.power_limit_w,
        "DCGM_FI_DEV_POWER_MGMT_LIMIT" => return None,
        "DCGM_FI_DEV_XID_ERRORS" if (host.name, gpu) == (OLD_XID.0, OLD_XID.1) => f64::from(OLD_XID.2),
        "DCGM_FI_DEV_XID_ERRORS" => 0.0,
        _ => return None,
    })
}

fn labels(pairs: &[(&str, String)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn gpu_labels(metric: &str, host_index: usize, host: &Host, gpu: u32) -> Labels {
    labels(&[
        ("__name__", metric.to_string()),
        ("DCGM_FI_DRIVER_VERSION", "550.54.15".to_string()),
        ("Hostname", host.name.to_string()),
        ("UUID", format!("GPU-5d3e{host_index:04x}-{gpu:04x}-4c1a-9e0b-demo{host_index:02}{gpu:02}")),
        ("device", format!("nvidia{gpu}")),
        ("gpu", gpu.to_string()),
        ("instance", format!("{}:9400", host.name)),
        ("job", "dcgm".to_string()),
        ("modelName", host.model.to_string()),
        ("pci_bus_id", format!("00000000:{:02X}:00.0", 0x18 + gpu * 0x10)),
    ])
}

/// Every scrape target: (job, instance, up, last error).
fn scrape_targets() -> Vec<(&'static str, String, bool, &'static str)> {
    let mut targets = Vec::new();
    for host in &HOSTS {
        targets.push(("dcgm", format!("{}:9400", host.name), true, ""));
        targets.push(("node", format!("{}:9100", host.name), true, ""));
    }
    targets.push((DOWN_TARGET.0, DOWN_TARGET.1.to_string(), false, DOWN_TARGET.2));
    targets
}

/// The series a selector names, each with its value at `t`: a DCGM metric or `up`.
fn series(name: &str, matchers: &[Matcher], t: f64) -> Vec<(Labels, f64)> {
    let mut out = Vec::new();
    if name == "up" {
        for (job, instance, up, _) in scrape_targets() {
            let labels = labels(&[("__name__", "up".into()), ("instance", instance), ("job", job.into())]);
            out.push((labels, if up { 1.0 } else { 0.0 }));
        }
    } else if METRICS.contains(&name) {
        for (host_index, host) in HOSTS.iter().enumerate() {
            for gpu in 0..host.gpus {
                if let Some(value) = value(name, host_index, host, gpu, t) {
                    out.push((gpu_labels(name, host_index, host, gpu), value));
                }
            }
        }
    }
    out.retain(|(labels, _)| all_match(matchers, labels));
    out
}

/// What the fleet answers: a selector, optionally under `max by (labels) (...)`
/// (the form firstwatch's GPU source asks in).
struct Query {
    name: String,
    matchers: Vec<Matcher>,
    /// `max by` these labels, when aggregated.
    by: Option<Vec<String>>,
}

impl Query {
    fn parse(text: &str) -> Option<Query> {
        let text = text.trim();
        let Some(rest) = text.strip_prefix("max") else {
            let (name, matchers) = selector(text)?;
            return Some(Query { name, matchers, by: None });
        };
        let rest = rest.trim_start().strip_prefix("by")?.trim_start().strip_prefix('(')?;
        let (labels, inner) = rest.split_once(')')?;
        let inner = inner.trim().strip_prefix('(')?.strip_suffix(')')?;
        let by = labels.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
        let (name, matchers) = selector(inner)?;
        Some(Query { name, matchers, by: Some(by) })
    }

    /// The series at `t`, aggregated when asked: one per distinct set of the `by` labels, at the greatest value.
    fn series(&self, t: f64) -> Vec<(Labels, f64)> {
        let all = series(&self.name, &self.matchers, t);
        let Some(by) = &self.by else { return all };
        let mut out: Vec<(Labels, f64)> = Vec::new();
        for (labels, value) in all {
            let kept: Labels = labels.into_iter().filter(|(k, _)| by.contains(k)).collect();
            match out.iter_mut().find(|(l, _)| *l == kept) {
                Some((_, max)) => *max = max.max(value),
                None => out.push((kept, value)),
            }
        }
        out
    }
}

/// `name` or `name{a="b",c=~"d.*"}`; anything else (functions, operators) is `None`.
fn selector(query: &str) -> Option<(String, Vec<Matcher>)> {
    let query = query.trim();
    let (name, rest) = match query.find('{') {
        Some(at) => (&query[..at], Some(query[at + 1..].strip_suffix('}')?)),
        None => (query, None),
    };
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        return None;
    }
    let matchers = match rest {
        Some(inside) => inside
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(Matcher::parse)
            .collect::<Result<Vec<_>, _>>()
            .ok()?,
        None => Vec::new(),
    };
    Some((name.to_string(), matchers))
}

fn elapsed(started: DateTime<Utc>, at: f64) -> f64 {
    (at - seconds(started)).max(0.0)
}

/// A sample value as Prometheus writes it: a string.
fn format(value: f64) -> String {
    crate::engine::format_value(value)
}

/// `/api/v1/query`: an instant vector at `time` (default now).
pub fn query(request: &Request, started: DateTime<Utc>, now: DateTime<Utc>) -> Response {
    let Some(text) = request.param("query") else {
        return Response::json(400, &prometheus_error("bad_data", "missing parameter \"query\""));
    };
    let at = match request.param("time") {
        Some(time) => match time.parse::<f64>() {
            Ok(at) if at.is_finite() => at,
            _ => return Response::json(400, &prometheus_error("bad_data", "cannot parse \"time\"")),
        },
        None => seconds(now),
    };
    let result: Vec<Value> = match Query::parse(text) {
        Some(query) => query
            .series(elapsed(started, at))
            .into_iter()
            .map(|(labels, value)| json!({"metric": labels, "value": [at, format(value)]}))
            .collect(),
        None => Vec::new(),
    };
    Response::json(200, &json!({"status": "success", "data": {"resultType": "vector", "result": result}}))
}

/// `/api/v1/query_range`: the same series as a matrix from `start` to `end` every `step` seconds.
pub fn query_range(request: &Request, started: DateTime<Utc>) -> Response {
    let number = |name: &str| request.param(name).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite());
    let (Some(text), Some(start), Some(end), Some(step)) =
        (request.param("query"), number("start"), number("end"), number("step"))
    else {
        return Response::json(400, &prometheus_error("bad_data", "query, start, end and step are all needed"));
    };
    if step <= 0.0 || end < start {
        return Response::json(400, &prometheus_error("bad_data", "step must be positive and end not before start"));
    }
    if (end - start) / step + 1.0 > MAX_POINTS {
        return Response::json(
            400,
            &prometheus_error(
                "bad_data",
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ),
        );
    }
    let mut result: Vec<Value> = Vec::new();
    if let Some(query) = Query::parse(text) {
        let times: Vec<f64> = (0..).map(|i| start + f64::from(i) * step).take_while(|t| *t <= end).collect();
        let mut by_series: Vec<(Labels, Vec<Value>)> = Vec::new();
        for at in times {
            for (position, (labels, value)) in query.series(elapsed(started, at)).into_iter().enumerate() {
                if by_series.len() <= position {
                    by_series.push((labels, Vec::new()));
                }
                by_series[position].1.push(json!([at, format(value)]));
            }
        }
        result = by_series.into_iter().map(|(labels, values)| json!({"metric": labels, "values": values})).collect();
    }
    Response::json(200, &json!({"status": "success", "data": {"resultType": "matrix", "result": result}}))
}

/// `/api/v1/targets`: every scrape target, one of them down with its last error.
pub fn targets(started: DateTime<Utc>, now: DateTime<Utc>) -> Response {
    let last_scrape = now.max(started).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let active: Vec<Value> = scrape_targets()
        .into_iter()
        .map(|(job, instance, up, error)| {
            json!({
                "discoveredLabels": {"__address__": instance, "job": job},
                "labels": {"instance": instance, "job": job},
                "scrapePool": job,
                "scrapeUrl": format!("http://{instance}/metrics"),
                "globalUrl": format!("http://{instance}/metrics"),
                "lastError": error,
                "lastScrape": last_scrape,
                "lastScrapeDuration": if up { 0.012 } else { 0.0004 },
                "health": if up { "up" } else { "down" },
                "scrapeInterval": "15s",
                "scrapeTimeout": "10s",
            })
        })
        .collect();
    Response::json(200, &json!({"status": "success", "data": {"activeTargets": active, "droppedTargets": []}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_and_other_queries_do_not() {
        let (name, matchers) = selector(r#" DCGM_FI_DEV_GPU_TEMP{Hostname="h100-02", gpu=~"[45]"} "#).unwrap();
        assert_eq!(name, "DCGM_FI_DEV_GPU_TEMP");
        assert_eq!(matchers.len(), 2);
        assert!(selector("sum(DCGM_FI_DEV_GPU_UTIL)").is_none());
        let max = Query::parse("max by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)").unwrap();
        let aggregated = max.series(0.0);
        assert_eq!(aggregated.len(), 22);
        assert_eq!(aggregated[0].0.keys().collect::<Vec<_>>(), vec!["Hostname", "gpu"], "only the by labels are kept");
        let per_host = Query::parse("max by (Hostname) (DCGM_FI_DEV_GPU_TEMP)").unwrap().series(0.0);
        assert_eq!(per_host.len(), 4);
        assert!(per_host.iter().any(|(l, v)| l["Hostname"] == "h100-02" && *v >= 90.0));
        assert!(selector("DCGM_FI_DEV_FB_USED / DCGM_FI_DEV_FB_FREE").is_none());
        assert_eq!(series("node_load1", &[], 0.0), Vec::new(), "an unknown metric has no series");
    }

    #[test]
    fn the_hot_gpu_stays_critical_the_full_one_a_warning_and_the_rest_below() {
        for t in (0..3600).step_by(7).map(f64::from) {
            for (host_index, host) in HOSTS.iter().enumerate() {
                for gpu in 0..host.gpus {
                    let get = |metric| value(metric, host_index, host, gpu, t).unwrap();
                    let (temp, used, free) =
                        (get("DCGM_FI_DEV_GPU_TEMP"), get("DCGM_FI_DEV_FB_USED"), get("DCGM_FI_DEV_FB_FREE"));
                    let memory = used / (used + free) * 100.0;
                    let util = get("DCGM_FI_DEV_GPU_UTIL");
                    assert!((0.0..=100.0).contains(&util));
                    assert!(get("DCGM_FI_DEV_POWER_USAGE") <= host.power_limit_w);
                    match (host.name, gpu) {
                        HOT => assert!(temp >= 90.0, "hot GPU at {temp} at t={t}"),
                        FULL => assert!((90.0..95.0).contains(&memory), "full GPU at {memory}% at t={t}"),
                        _ => assert!(
                            temp < 80.0 && memory < 90.0,
                            "{} GPU {gpu}: {temp}°C {memory}% at t={t}",
                            host.name
                        ),
                    }
                }
            }
        }
    }
}
