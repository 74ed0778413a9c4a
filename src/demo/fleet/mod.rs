//! The demo's simulated fleet, served over the same HTTP APIs firstwatch reads
//! in production, so the fleet views work with no Prometheus installed:
//!
//! - a Prometheus-compatible `/api/v1/query`, `/api/v1/query_range` and
//!   `/api/v1/targets`: four hosts with 2-8 GPUs each as the DCGM exporter
//!   reports them (numbers that move a little over time), `up` for their
//!   scrape targets, one of which is down; any other query is an empty vector;
//! - an Alertmanager v2 API: `/api/v2/alerts`, `/alerts/groups`, `/silences`
//!   (list, create), `/silence/{id}` (get, expire) and `/status`, with a
//!   critical alert and a warning firing and a third alert silenced.
//!
//! Everything is made up and labelled so where firstwatch shows it: the demo
//! names these engines "... (simulated)".

mod alerts;
mod metrics;

use super::http::{Request, Response, serve_one};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

pub use metrics::HOSTS;

/// The fleet's state: when it started (the numbers move from there) and its silences.
pub struct Fleet {
    started: DateTime<Utc>,
    silences: Mutex<alerts::Silences>,
}

impl Fleet {
    pub fn new(started: DateTime<Utc>) -> Fleet {
        Fleet { started, silences: Mutex::new(alerts::Silences::new(started)) }
    }

    /// Answers one request to `/api/...` as of `now`.
    pub fn handle(&self, request: &Request, now: DateTime<Utc>) -> Response {
        let method = request.method.as_str();
        let path = request.path.as_str();
        match (method, path) {
            ("GET" | "POST", "/api/v1/query") => metrics::query(request, self.started, now),
            ("GET" | "POST", "/api/v1/query_range") => metrics::query_range(request, self.started),
            ("GET", "/api/v1/targets") => metrics::targets(self.started, now),
            (_, path) if path.starts_with("/api/v2/") => {
                // A poisoned lock only means another request panicked; the list itself is whole.
                let mut silences = self.silences.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                alerts::handle(request, &mut silences, self.started, now)
            }
            (_, "/api/v1/query" | "/api/v1/query_range" | "/api/v1/targets") => {
                Response::json(405, &prometheus_error("bad_data", "method not allowed"))
            }
            _ => Response::json(404, &prometheus_error("not_found", &format!("no such endpoint: {path}"))),
        }
    }
}

/// Serves the fleet alone on `listener` (the demo serves it beside its other endpoints).
pub async fn serve(listener: TcpListener, fleet: Arc<Fleet>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let fleet = fleet.clone();
        tokio::spawn(serve_one(stream, move |request| async move { fleet.handle(&request, Utc::now()) }));
    }
}

/// The error envelope of Prometheus's API.
fn prometheus_error(kind: &str, message: &str) -> serde_json::Value {
    json!({"status": "error", "errorType": kind, "error": message})
}

/// Seconds since the epoch with milliseconds, as Prometheus writes sample times.
fn seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, params: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn unknown_paths_and_methods_are_refused_in_the_apis_own_shape() {
        let fleet = Fleet::new(DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        let now = DateTime::from_timestamp(1_800_000_060, 0).unwrap();
        let missing = fleet.handle(&get("/api/v1/series", &[]), now);
        assert_eq!(missing.status, 404);
        let body: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
        assert_eq!(body["status"], "error");
        let mut delete = get("/api/v1/query", &[]);
        delete.method = "DELETE".into();
        assert_eq!(fleet.handle(&delete, now).status, 405);
    }
}
