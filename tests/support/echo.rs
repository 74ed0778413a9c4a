//! A stand-in engine on 127.0.0.1 that tells the test what each request
//! carried (its head, and under TLS the name the client sent as SNI), and
//! answers every request as Prometheus answers `vector(1)`, or with a login
//! proxy's HTML page.
#![allow(dead_code)]

use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_rustls::rustls;

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request line and headers, as sent.
    pub head: String,
    /// The SNI name the client sent, under TLS.
    pub sni: Option<String>,
}

impl Seen {
    /// A header's value (the first with this name, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

pub struct Echo {
    pub port: u16,
    pub url: String,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Echo {
    /// The next request the server saw (waits for it).
    pub async fn next(&mut self) -> Seen {
        self.seen.recv().await.expect("the echo server is gone")
    }
}

pub const VECTOR_ONE: &str =
    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}"#;

pub const SIGN_IN: &str = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>";

/// What every request is answered with (status 200).
#[derive(Clone, Copy)]
struct Answer {
    content_type: &'static str,
    body: &'static str,
}

const PROMETHEUS: Answer = Answer { content_type: "application/json", body: VECTOR_ONE };

/// Plain HTTP.
pub async fn serve() -> Echo {
    start(None, PROMETHEUS).await
}

/// Plain HTTP, answering 200 with [`SIGN_IN`] as a login proxy in front of an engine would.
pub async fn serve_html() -> Echo {
    start(None, Answer { content_type: "text/html", body: SIGN_IN }).await
}

/// HTTPS with this certificate; see [`certificate`].
pub async fn serve_tls(certificate: &Certificate) -> Echo {
    start(Some(certificate.server_config()), PROMETHEUS).await
}

async fn start(tls: Option<rustls::ServerConfig>, reply: Answer) -> Echo {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (report, seen) = mpsc::unbounded_channel();
    let acceptor = tls.map(|config| tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (report, acceptor) = (report.clone(), acceptor.clone());
            tokio::spawn(async move {
                match acceptor {
                    Some(acceptor) => {
                        // A failed handshake (the client refused the certificate) is no request.
                        let Ok(stream) = acceptor.accept(tcp).await else { return };
                        let sni = stream.get_ref().1.server_name().map(str::to_string);
                        answer(stream, sni, report, reply).await;
                    }
                    None => answer(tcp, None, report, reply).await,
                }
            });
        }
    });
    Echo { port, url: format!("{scheme}://127.0.0.1:{port}"), seen }
}

async fn answer(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    sni: Option<String>,
    report: mpsc::UnboundedSender<Seen>,
    reply: Answer,
) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let _ = report.send(Seen { head: String::from_utf8_lossy(&head).into_owned(), sni });
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        reply.content_type,
        reply.body.len(),
        reply.body
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A CA, and a server certificate it signs for `names` only.
pub struct Certificate {
    pub ca_pem: String,
    cert_der: rustls::pki_types::CertificateDer<'static>,
    key_der: Vec<u8>,
}

pub fn certificate(names: &[&str]) -> Certificate {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "firstwatch echo CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    Certificate { ca_pem: ca_cert.pem(), cert_der: cert.der().clone(), key_der: key.serialize_der() }
}

impl Certificate {
    fn server_config(&self) -> rustls::ServerConfig {
        let key = rustls::pki_types::PrivateKeyDer::try_from(self.key_der.clone()).unwrap();
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], key)
            .unwrap()
    }
}
