//! The fleet's Alertmanager: three alerts (a critical, a warning, and one
//! that an existing silence suppresses), grouped by alert name, and silences
//! that can be listed, created and expired as through Alertmanager's v2 API.

use super::super::http::{Request, Response};
use super::metrics::{FULL, HOT};
use crate::engine::Labels;
use crate::engine::matcher::{ApiMatcher, Matcher, all_match};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

/// More silences than this and a new one is refused (the list stays small).
const MAX_SILENCES: usize = 1000;
const RECEIVER: &str = "oncall-pager";
/// The silence present from the start, on the down target's alert.
pub const EXISTING_SILENCE: &str = "6f1c2a90-3d4b-4e8f-9a21-0c5d7e8b1f34";

#[derive(Debug, Clone)]
struct Silence {
    id: String,
    matchers: Vec<ApiMatcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_by: String,
    comment: String,
    updated_at: DateTime<Utc>,
}

impl Silence {
    fn state(&self, now: DateTime<Utc>) -> &'static str {
        if self.ends_at <= now {
            "expired"
        } else if self.starts_at > now {
            "pending"
        } else {
            "active"
        }
    }

    fn silences(&self, labels: &Labels, now: DateTime<Utc>) -> bool {
        let matchers: Result<Vec<Matcher>, String> = self.matchers.iter().map(Matcher::from_api).collect();
        self.state(now) == "active" && matchers.is_ok_and(|m| all_match(&m, labels))
    }

    fn json(&self, now: DateTime<Utc>) -> Value {
        json!({
            "id": self.id,
            "matchers": self.matchers,
            "startsAt": stamp(self.starts_at),
            "endsAt": stamp(self.ends_at),
            "updatedAt": stamp(self.updated_at),
            "createdBy": self.created_by,
            "comment": self.comment,
            "status": {"state": self.state(now)},
        })
    }
}

pub struct Silences {
    list: Vec<Silence>,
    /// Makes new ids; the demo needs them unique, not unguessable.
    next: u64,
}

impl Silences {
    pub fn new(started: DateTime<Utc>) -> Silences {
        let matcher = |name: &str, value: &str| ApiMatcher {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        };
        let existing = Silence {
            id: EXISTING_SILENCE.into(),
            matchers: vec![matcher("alertname", "TargetDown"), matcher("instance", "db-02:9100")],
            starts_at: started - Duration::minutes(50),
            ends_at: started + Duration::hours(4),
            created_by: "alice".into(),
            comment: "db-02 is being rebuilt (OPS-311)".into(),
            updated_at: started - Duration::minutes(50),
        };
        Silences { list: vec![existing], next: u64::from(started.timestamp_subsec_nanos()) | 1 }
    }

    fn new_id(&mut self) -> String {
        self.next = self.next.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let (a, b) = (self.next, self.next.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The alerts firing now: labels, annotations and when each started.
fn firing(started: DateTime<Utc>) -> Vec<(Labels, Labels, DateTime<Utc>)> {
    let (hot_host, hot_gpu) = (HOT.0, HOT.1.to_string());
    let (full_host, full_gpu) = (FULL.0, FULL.1.to_string());
    vec![
        (
            labels(&[
                ("alertname", "GpuTooHot"),
                ("severity", "critical"),
                ("Hostname", hot_host),
                ("gpu", &hot_gpu),
                ("instance", &format!("{hot_host}:9400")),
                ("job", "dcgm"),
            ]),
            labels(&[
                ("summary", &format!("GPU {hot_gpu} on {hot_host} is above 90°C")),
                (
                    "description",
                    "DCGM_FI_DEV_GPU_TEMP has been at or above 90 for 10 minutes; the card will slow itself down.",
                ),
                ("runbook", "https://runbooks.example.test/gpu-too-hot"),
            ]),
            started - Duration::minutes(12),
        ),
        (
            labels(&[
                ("alertname", "GpuMemoryHigh"),
                ("severity", "warning"),
                ("Hostname", full_host),
                ("gpu", &full_gpu),
                ("instance", &format!("{full_host}:9400")),
                ("job", "dcgm"),
            ]),
            labels(&[
                ("summary", &format!("GPU {full_gpu} on {full_host} has over 90% of its memory in use")),
                ("description", "New jobs on this GPU may fail to allocate memory."),
            ]),
            started - Duration::minutes(35),
        ),
        (
            labels(&[
                ("alertname", "TargetDown"),
                ("severity", "warning"),
                ("instance", "db-02:9100"),
                ("job", "node"),
            ]),
            labels(&[("summary", "Prometheus cannot scrape db-02:9100")]),
            started - Duration::hours(1),
        ),
    ]
}

/// A stable fingerprint of a label set, as Alertmanager gives each alert one.
fn fingerprint(labels: &Labels) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (key, value) in labels {
        for byte in key.bytes().chain([0xff]).chain(value.bytes()).chain([0xfe]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn alert_json(
    labels: &Labels,
    annotations: &Labels,
    starts: DateTime<Utc>,
    silences: &Silences,
    now: DateTime<Utc>,
) -> Value {
    let silenced_by: Vec<&str> =
        silences.list.iter().filter(|s| s.silences(labels, now)).map(|s| s.id.as_str()).collect();
    let expression = labels.get("alertname").map_or("", String::as_str);
    json!({
        "labels": labels,
        "annotations": annotations,
        "startsAt": stamp(starts),
        "endsAt": stamp(now + Duration::minutes(4)),
        "updatedAt": stamp(now),
        "fingerprint": fingerprint(labels),
        "generatorURL": format!("/graph?g0.expr={expression}"),
        "receivers": [{"name": RECEIVER}],
        "status": {
            "state": if silenced_by.is_empty() { "active" } else { "suppressed" },
            "silencedBy": silenced_by,
            "inhibitedBy": [],
        },
    })
}

fn flag(request: &Request, name: &str) -> bool {
    request.param(name).is_none_or(|v| v != "false")
}

/// The alerts the request's filters ask for (`active`, `silenced`, `filter` matchers).
fn alerts(
    request: &Request,
    silences: &Silences,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, String> {
    let filters: Vec<Matcher> = request.params_named("filter").map(Matcher::parse).collect::<Result<_, _>>()?;
    let (active, silenced) = (flag(request, "active"), flag(request, "silenced"));
    Ok(firing(started)
        .into_iter()
        .filter(|(labels, _, _)| all_match(&filters, labels))
        .map(|(labels, annotations, starts)| alert_json(&labels, &annotations, starts, silences, now))
        .filter(|alert| if alert["status"]["state"] == "active" { active } else { silenced })
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostedSilence {
    #[serde(default)]
    id: Option<String>,
    matchers: Vec<ApiMatcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_by: String,
    comment: String,
}

/// Creates (or, with a known `id`, replaces) a silence; the error is Alertmanager-like text.
fn create(body: &[u8], silences: &mut Silences, now: DateTime<Utc>) -> Result<String, String> {
    let posted: PostedSilence = serde_json::from_slice(body).map_err(|err| format!("invalid silence: {err}"))?;
    if posted.matchers.is_empty() {
        return Err("silence invalid: at least one matcher required".into());
    }
    for matcher in &posted.matchers {
        Matcher::from_api(matcher).map_err(|err| format!("silence invalid: {err}"))?;
    }
    if posted.ends_at <= posted.starts_at {
        return Err("silence invalid: end time must not be before start time".into());
    }
    if posted.ends_at <= now {
        return Err("silence invalid: end time can't be in the past".into());
    }
    if posted.created_by.trim().is_empty() || posted.comment.trim().is_empty() {
        return Err("silence invalid: createdBy and comment are required".into());
    }
    let existing =
        posted.id.as_deref().filter(|id| !id.is_empty()).and_then(|id| silences.list.iter().position(|s| s.id == id));
    if posted.id.as_deref().is_some_and(|id| !id.is_empty()) && existing.is_none() {
        return Err(format!("silence {} not found", posted.id.unwrap_or_default()));
    }
    if existing.is_none() && silences.list.len() >= MAX_SILENCES {
        return Err(format!("the demo keeps at most {MAX_SILENCES} silences"));
    }
    let id = match existing {
        Some(position) => silences.list.remove(position).id,
        None => silences.new_id(),
    };
    silences.list.push(Silence {
        id: id.clone(),
        matchers: posted.matchers,
        starts_at: posted.starts_at.max(now),
        ends_at: posted.ends_at,
        created_by: posted.created_by,
        comment: posted.comment,
        updated_at: now,
    });
    Ok(id)
}

/// Answers `/api/v2/...`.
pub fn handle(request: &Request, silences: &mut Silences, started: DateTime<Utc>, now: DateTime<Utc>) -> Response {
    let path = request.path.trim_start_matches("/api/v2");
    match (request.method.as_str(), path) {
        ("GET", "/alerts") => match alerts(request, silences, started, now) {
            Ok(list) => Response::json(200, &Value::Array(list)),
            Err(err) => Response::json(400, &Value::from(err)),
        },
        ("GET", "/alerts/groups") => match alerts(request, silences, started, now) {
            Ok(list) => {
                let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
                for alert in list {
                    let name = alert["labels"]["alertname"].as_str().unwrap_or_default().to_string();
                    match groups.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, alerts)) => alerts.push(alert),
                        None => groups.push((name, vec![alert])),
                    }
                }
                let groups: Vec<Value> = groups
                    .into_iter()
                    .map(|(name, alerts)| {
                        json!({"labels": {"alertname": name}, "receiver": {"name": RECEIVER}, "alerts": alerts})
                    })
                    .collect();
                Response::json(200, &Value::Array(groups))
            }
            Err(err) => Response::json(400, &Value::from(err)),
        },
        ("GET", "/silences") => {
            let list: Vec<Value> = silences.list.iter().map(|s| s.json(now)).collect();
            Response::json(200, &Value::Array(list))
        }
        ("POST", "/silences") => match create(&request.body, silences, now) {
            Ok(id) => Response::json(200, &json!({"silenceID": id})),
            Err(err) => Response::json(400, &Value::from(err)),
        },
        ("GET", path) if path.starts_with("/silence/") => {
            let id = &path["/silence/".len()..];
            match silences.list.iter().find(|s| s.id == id) {
                Some(silence) => Response::json(200, &silence.json(now)),
                None => Response::json(404, &Value::from(format!("silence {id} not found"))),
            }
        }
        ("DELETE", path) if path.starts_with("/silence/") => {
            let id = &path["/silence/".len()..];
            match silences.list.iter_mut().find(|s| s.id == id) {
                None => Response::json(404, &Value::from(format!("silence {id} not found"))),
                Some(silence) if silence.state(now) == "expired" => {
                    Response::json(500, &Value::from(format!("silence {id} already expired")))
                }
                Some(silence) => {
                    silence.starts_at = silence.starts_at.min(now);
                    silence.ends_at = now;
                    silence.updated_at = now;
                    Response::empty(200)
                }
            }
        }
        ("GET", "/status") => Response::json(
            200,
            &json!({
                "cluster": {"name": "demo", "status": "disabled", "peers": []},
                "versionInfo": {"version": "0.25.0 (simulated by firstwatch demo)", "branch": "demo", "revision": "demo"},
                "config": {"original": "route:\n  receiver: oncall-pager\n  group_by: [alertname]\nreceivers:\n  - name: oncall-pager\n"},
                "uptime": stamp(started),
            }),
        ),
        _ => Response::json(404, &Value::from(format!("no such endpoint: {}", request.path))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str, body: &str) -> Request {
        Request { method: method.into(), path: path.into(), params: Vec::new(), body: body.as_bytes().to_vec() }
    }

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap()
    }

    fn body(response: &Response) -> Value {
        serde_json::from_slice(&response.body).unwrap()
    }

    #[test]
    fn a_bad_silence_is_refused_with_the_reason() {
        let mut silences = Silences::new(at(0));
        let post = |body: &str, silences: &mut Silences| {
            handle(&request("POST", "/api/v2/silences", body), silences, at(0), at(1))
        };
        let no_matchers = r#"{"matchers":[],"startsAt":"2027-01-15T08:00:00Z","endsAt":"2027-01-15T10:00:00Z","createdBy":"a","comment":"c"}"#;
        let answer = post(no_matchers, &mut silences);
        assert_eq!(answer.status, 400);
        assert!(body(&answer).as_str().unwrap().contains("at least one matcher"));
        assert_eq!(post("{not json", &mut silences).status, 400);
        let past = r#"{"matchers":[{"name":"a","value":"b","isRegex":false,"isEqual":true}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2020-01-01T01:00:00Z","createdBy":"a","comment":"c"}"#;
        assert!(body(&post(past, &mut silences)).as_str().unwrap().contains("in the past"));
        assert_eq!(silences.list.len(), 1, "nothing was added");
    }

    #[test]
    fn ids_are_unique_and_shaped_like_uuids() {
        let mut silences = Silences::new(at(0));
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| silences.new_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 36 && id.split('-').count() == 5), "{ids:?}");
    }
}
