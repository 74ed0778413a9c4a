//! A canned HTTP/1.1 server on 127.0.0.1 for the health tests: each path
//! answers in its own way, including badly.
// Each test file uses a different part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
pub struct Seen {
    /// Request heads received, in order.
    pub requests: Mutex<Vec<String>>,
    /// Bytes the endless endpoint managed to send before the client hung up.
    pub endless_bytes: AtomicU64,
    pub hits: AtomicUsize,
    /// Signalled when the endless endpoint stops writing.
    pub endless_done: tokio::sync::Notify,
    /// Set by a test: `/switch` answers 503 from then on (200 before).
    pub failing: AtomicBool,
    /// Signalled after every answer to `/switch`.
    pub switch_answered: tokio::sync::Notify,
}

pub struct Server {
    pub base: String,
    pub port: u16,
    pub seen: Arc<Seen>,
}

/// `redirect_to` is where `/away` sends the client (another origin).
pub async fn start(redirect_to: Option<String>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let state = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let state = state.clone();
            let redirect_to = redirect_to.clone();
            tokio::spawn(async move {
                let _ = answer(stream, state, redirect_to).await;
            });
        }
    });
    Server { base: format!("http://127.0.0.1:{port}"), port, seen }
}

/// A port with nothing listening on it.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn answer(mut stream: TcpStream, seen: Arc<Seen>, redirect_to: Option<String>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    seen.requests.lock().unwrap().push(head);
    let hit = seen.hits.fetch_add(1, Ordering::SeqCst);
    let json = |status: u16, body: &str| {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let response = match path.as_str() {
        "/healthy" => json(200, r#"{"status":"healthy","totalAgents":1204}"#),
        "/degraded" => json(200, r#"{"status":"degraded","totalAgents":3}"#),
        "/garbage" => json(200, "\u{1b}]52;c;aGFjaw==\u{7}<html>not json</html>"),
        "/error" => json(500, r#"{"status":"down"}"#),
        "/flip" => {
            if hit.is_multiple_of(2) {
                json(200, r#"{"status":"healthy"}"#)
            } else {
                json(503, r#"{"status":"degraded"}"#)
            }
        }
        "/switch" => {
            let response = if seen.failing.load(Ordering::SeqCst) {
                json(503, r#"{"status":"down"}"#)
            } else {
                json(200, r#"{"status":"healthy"}"#)
            };
            stream.write_all(response.as_bytes()).await?;
            seen.switch_answered.notify_one();
            return stream.shutdown().await;
        }
        "/loop" => "HTTP/1.1 302 Found\r\nlocation: /loop\r\ncontent-length: 0\r\n\r\n".to_string(),
        "/away" => format!(
            "HTTP/1.1 302 Found\r\nlocation: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            redirect_to.unwrap_or_default()
        ),
        "/hang" => {
            // Accepts and never answers; the client must give up at its timeout.
            std::future::pending::<()>().await;
            unreachable!()
        }
        "/endless" => {
            stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n").await?;
            let chunk = vec![b'x'; 64 * 1024];
            // Up to 1 GiB, stopping as soon as the client hangs up.
            for _ in 0..(1 << 14) {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
                seen.endless_bytes.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            seen.endless_done.notify_one();
            return Ok(());
        }
        _ => json(404, r#"{"status":"unknown path"}"#),
    };
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
