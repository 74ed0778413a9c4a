//! The demo's HTTP service on 127.0.0.1.
//!
//! - `/health`   always healthy, fast
//! - `/slow`     healthy but takes 0.6-0.9 s
//! - `/flaky`    answers 503 "degraded" about one time in three
//! - `/payments` down for the first 90 s, then recovers by itself
//! - `/orders`   down until the demo's "redeploy" action writes `state/orders`
//! - `/api/v1/...`, `/api/v2/...`  the simulated fleet (see `fleet`): a
//!   Prometheus with DCGM metrics and an Alertmanager with alerts and silences

use super::fleet::Fleet;
use super::http::{Response, serve_one};
use super::rng::Rng;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

pub async fn serve(listener: TcpListener, dir: PathBuf) {
    let started = Instant::now();
    let fleet = Arc::new(Fleet::new(chrono::Utc::now()));
    let mut count: u64 = 0;
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        count += 1;
        let (dir, fleet) = (dir.clone(), fleet.clone());
        tokio::spawn(serve_one(stream, move |request| async move {
            if request.path.starts_with("/api/") {
                return fleet.handle(&request, chrono::Utc::now());
            }
            answer(&request.path, dir, started, count).await
        }));
    }
}

async fn answer(path: &str, dir: PathBuf, started: Instant, count: u64) -> Response {
    let mut rng = Rng::seeded(count.wrapping_mul(7919) ^ started.elapsed().as_nanos() as u64);
    let healthy = (200, r#"{"status":"healthy","version":"2.4.1","totalAgents":1204}"#.to_string());
    let (status, body) = match path {
        "/health" => healthy,
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(600 + rng.below(300))).await;
            healthy
        }
        "/flaky" if rng.chance(33) => (503, r#"{"status":"degraded","reason":"upstream timeout"}"#.into()),
        "/flaky" => healthy,
        "/payments" if started.elapsed() < Duration::from_secs(90) => {
            (503, r#"{"status":"down","reason":"warming cache"}"#.into())
        }
        "/payments" => healthy,
        "/orders" if dir.join("state/orders").exists() => healthy,
        "/orders" => (500, r#"{"status":"down","reason":"bad release 2.4.1: nil pointer in checkout"}"#.into()),
        _ => (404, r#"{"status":"unknown path"}"#.into()),
    };
    Response { status, content_type: "application/json", body: body.into_bytes() }
}
