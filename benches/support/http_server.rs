//! A keep-alive HTTP server on loopback for the benches that drive HTTP
//! checks: every request gets a small JSON body, except `GET /hang...`, which
//! is never answered. It runs on its own thread and runtime so its CPU can be
//! told apart from the checker's.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Server {
    pub port: u16,
    /// The server thread's id, for reading its CPU from /proc.
    pub thread_id: u64,
    /// Requests answered so far.
    pub answered: Arc<AtomicU64>,
}

pub fn start() -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let tid = Arc::new(AtomicU64::new(0));
    let tid_out = tid.clone();
    let answered = Arc::new(AtomicU64::new(0));
    let counter = answered.clone();
    std::thread::spawn(move || {
        tid_out.store(unsafe { libc::gettid() } as u64, Ordering::SeqCst);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { continue };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 4096];
                    let mut filled = 0;
                    loop {
                        let Ok(n) = stream.read(&mut buffer[filled..]).await else { return };
                        if n == 0 {
                            return;
                        }
                        filled += n;
                        let Some(end) = buffer[..filled].windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                        let hang = buffer[..end].starts_with(b"GET /hang");
                        buffer.copy_within(end + 4..filled, 0);
                        filled -= end + 4;
                        if hang {
                            std::future::pending::<()>().await;
                        }
                        let body = r#"{"status":"healthy","totalAgents":1204}"#;
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if stream.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
    });
    while tid.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    Server { port, thread_id: tid.load(Ordering::SeqCst), answered }
}

/// CPU seconds (user + system) of a process or thread, from its /proc stat file.
pub fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime 11, stime 12 (in clock ticks of 1/100 s).
    (ticks(11) + ticks(12)) / 100.0
}
