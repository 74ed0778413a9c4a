//! The demo's HTTP service on 127.0.0.1.
//!
//! - `/health`   always healthy, fast
//! - `/slow`     healthy but takes 0.6-0.9 s
//! - `/flaky`    answers 503 "degraded" about one time in three
//! - `/payments` down for the first 90 s, then recovers by itself
//! - `/orders`   down until the demo's "redeploy" action writes `state/orders`

use super::rng::Rng;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub async fn serve(listener: TcpListener, dir: PathBuf) {
    let started = Instant::now();
    let mut count: u64 = 0;
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        count += 1;
        let dir = dir.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), answer(stream, dir, started, count)).await;
        });
    }
}

async fn answer(mut stream: TcpStream, dir: PathBuf, started: Instant, count: u64) -> std::io::Result<()> {
    let mut head = vec![0u8; 4096];
    let mut filled = 0;
    while !head[..filled].windows(4).any(|w| w == b"\r\n\r\n") && filled < head.len() {
        let read = stream.read(&mut head[filled..]).await?;
        if read == 0 {
            return Ok(());
        }
        filled += read;
    }
    let request = String::from_utf8_lossy(&head[..filled]);
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut rng = Rng::seeded(count.wrapping_mul(7919) ^ started.elapsed().as_nanos() as u64);
    let healthy = (200, r#"{"status":"healthy","version":"2.4.1","totalAgents":1204}"#.to_string());
    let (status, body) = match path.as_str() {
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
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
