//! Just enough HTTP/1.1 for the demo's loopback services: one request per
//! connection (answered with `Connection: close`), a bounded head and body,
//! and a `Content-Length` on every answer. Clients such as reqwest handle a
//! closed connection by opening a new one, so no keep-alive is needed.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The request line and headers may take this much.
pub const MAX_HEAD: usize = 16 * 1024;
/// A body (a silence being created) may take this much.
pub const MAX_BODY: usize = 64 * 1024;
/// A client that sends nothing for this long is dropped.
pub const IDLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    /// The path without its query, percent-decoding left to the caller.
    pub path: String,
    /// Query parameters (and a form body's), decoded, in order.
    pub params: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// Every value of parameter `name` (`filter` may repeat).
    pub fn params_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response { status, content_type: "application/json", body: value.to_string().into_bytes() }
    }

    pub fn text(status: u16, text: &str) -> Response {
        Response { status, content_type: "text/plain; charset=utf-8", body: text.as_bytes().to_vec() }
    }

    /// An answer with no body (Alertmanager's to a DELETE).
    pub fn empty(status: u16) -> Response {
        Response { status, content_type: "application/json", body: Vec::new() }
    }
}

/// Why a request could not be read; each has the answer to send.
#[derive(Debug, Clone, PartialEq)]
pub enum BadRequest {
    HeadTooLarge,
    BodyTooLarge,
    Malformed(&'static str),
}

impl BadRequest {
    pub fn response(&self) -> Response {
        match self {
            BadRequest::HeadTooLarge => Response::text(431, "request head too large"),
            BadRequest::BodyTooLarge => Response::text(413, "request body too large"),
            BadRequest::Malformed(why) => Response::text(400, why),
        }
    }
}

/// Reads one request; `Ok(None)` when the client closed without sending one.
pub async fn read_request(stream: &mut TcpStream) -> std::io::Result<Result<Option<Request>, BadRequest>> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_HEAD {
            return Ok(Err(BadRequest::HeadTooLarge));
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(if buffer.is_empty() { Ok(None) } else { Err(BadRequest::Malformed("incomplete request")) });
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    if head_end > MAX_HEAD {
        return Ok(Err(BadRequest::HeadTooLarge));
    }
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (request_line.next(), request_line.next(), request_line.next())
    else {
        return Ok(Err(BadRequest::Malformed("bad request line")));
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(Err(BadRequest::Malformed("only HTTP/1.x is spoken here")));
    }
    let mut length = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        if name.trim().eq_ignore_ascii_case("content-length") {
            match value.trim().parse::<usize>() {
                Ok(n) if n > MAX_BODY => return Ok(Err(BadRequest::BodyTooLarge)),
                Ok(n) => length = n,
                Err(_) => return Ok(Err(BadRequest::Malformed("bad content-length"))),
            }
        } else if name.trim().eq_ignore_ascii_case("transfer-encoding") {
            return Ok(Err(BadRequest::Malformed("chunked bodies are not taken; send a content-length")));
        }
    }
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(Err(BadRequest::Malformed("the body ended early")));
        }
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(length);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut params: Vec<(String, String)> = reqwest::Url::parse(&format!("http://demo/?{query}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let form = head.lines().any(|l| {
        l.split_once(':').is_some_and(|(n, v)| {
            n.trim().eq_ignore_ascii_case("content-type") && v.contains("application/x-www-form-urlencoded")
        })
    });
    if form && method == "POST" {
        let text = String::from_utf8_lossy(&body);
        if let Ok(url) = reqwest::Url::parse(&format!("http://demo/?{text}")) {
            params.extend(url.query_pairs().into_owned());
        }
    }
    Ok(Ok(Some(Request { method: method.to_string(), path: path.to_string(), params, body })))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

pub async fn write_response(stream: &mut TcpStream, response: &Response) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&response.body).await?;
    stream.shutdown().await
}

/// Reads one request, answers it with `handle`, and closes, all within `IDLE`.
pub async fn serve_one<F, Fut>(mut stream: TcpStream, handle: F)
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let exchange = async {
        let response = match read_request(&mut stream).await? {
            Ok(Some(request)) => handle(request).await,
            Ok(None) => return Ok(()),
            Err(bad) => bad.response(),
        };
        write_response(&mut stream, &response).await
    };
    // A client that hangs up or stalls costs this connection only.
    let _ = tokio::time::timeout(IDLE, exchange).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn exchange(raw: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            serve_one(stream, |request| async move {
                let text = format!("{} {} {:?} {}", request.method, request.path, request.params, request.body.len());
                Response::text(200, &text)
            })
            .await;
        });
        let mut client = TcpStream::connect(address).await.unwrap();
        // The writer may be cut off by an early answer; what matters is what comes back.
        let _ = client.write_all(&raw).await;
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
        server.await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn a_request_with_a_query_and_a_body_is_read_whole_and_answered_with_its_length() {
        let answer = exchange(
            b"POST /api/v1/query?query=up%7Bjob%3D%22x%22%7D HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                .to_vec(),
        )
        .await;
        let body = r#"POST /api/v1/query [("query", "up{job=\"x\"}")] 5"#;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains(&format!("content-length: {}\r\n", body.len())), "{answer}");
        assert!(answer.ends_with(body), "{answer}");
    }

    #[tokio::test]
    async fn oversized_and_malformed_requests_are_refused() {
        let huge_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD + 10));
        assert!(exchange(huge_head.into_bytes()).await.starts_with("HTTP/1.1 431 "));
        let huge_body = format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1);
        assert!(exchange(huge_body.into_bytes()).await.starts_with("HTTP/1.1 413 "));
        assert!(exchange(b"HELLO\r\n\r\n".to_vec()).await.starts_with("HTTP/1.1 400 "));
        assert!(exchange(b"GET / SPDY/3\r\n\r\n".to_vec()).await.starts_with("HTTP/1.1 400 "));
    }
}
