//! TLS against a real handshake on 127.0.0.1 with a certificate made by the
//! test: expiry in days, an untrusted CA, and HTTPS with a configured CA file.

use chrono::Datelike;
use firstwatch::config::load_str;
use firstwatch::health::{CheckSpec, Level, Outcome, Prober};
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

struct Tls {
    port: u16,
    ca_file: tempfile::NamedTempFile,
}

/// A CA and a "localhost" certificate valid for `days` more days, served on 127.0.0.1 (answering HTTP too).
async fn serve(days: i64) -> Tls {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "firstwatch test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf_params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let expiry = chrono::Utc::now() + chrono::Duration::days(days);
    leaf_params.not_after = rcgen::date_time_ymd(expiry.year(), expiry.month() as u8, expiry.day() as u8);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca_cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp).await else { return };
                let mut buffer = [0u8; 2048];
                if let Ok(n) = stream.read(&mut buffer).await
                    && n > 0
                {
                    let body = r#"{"status":"healthy"}"#;
                    let response =
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                }
            });
        }
    });
    Tls { port, ca_file }
}

async fn run(toml: &str) -> Outcome {
    let config = load_str(toml, Path::new("/tmp/firstwatch.toml")).unwrap_or_else(|e| panic!("{e}"));
    let (specs, problems) = CheckSpec::build_all(&config);
    assert!(problems.is_empty(), "{problems:?}");
    Prober::new().run(&specs[0]).await
}

#[tokio::test]
async fn days_until_expiry_against_the_thresholds() {
    let soon = serve(10).await;
    let toml = |port: u16, ca: &Path| {
        format!("[[check]]\nname = \"cert\"\ntls = \"localhost:{port}\"\nca_file = \"{}\"\n", ca.display())
    };
    let warning = run(&toml(soon.port, soon.ca_file.path())).await;
    assert_eq!(warning.level, Level::Warning, "{}", warning.message);
    assert!(
        warning.message.starts_with("certificate expires in 9 days")
            || warning.message.starts_with("certificate expires in 10 days"),
        "{}",
        warning.message
    );
    assert!(warning.message.ends_with("under 30 days"), "{}", warning.message);

    let urgent = serve(3).await;
    let critical = run(&toml(urgent.port, urgent.ca_file.path())).await;
    assert_eq!(critical.level, Level::Critical, "{}", critical.message);
    assert!(critical.message.ends_with("under 7 days"), "{}", critical.message);

    let later = serve(90).await;
    let fine = run(&toml(later.port, later.ca_file.path())).await;
    assert_eq!(fine.level, Level::Ok, "{}", fine.message);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_unless_its_ca_is_configured() {
    let server = serve(90).await;
    let untrusted = run(&format!("[[check]]\nname = \"cert\"\ntls = \"localhost:{}\"\n", server.port)).await;
    assert_eq!(untrusted.level, Level::Critical);
    assert!(
        untrusted.message.contains("TLS with localhost") && untrusted.message.contains("UnknownIssuer"),
        "{}",
        untrusted.message
    );

    let https = |ca: &str| {
        format!(
            "[[check]]\nname = \"api\"\nhttp = \"https://localhost:{}/health\"\n{ca}\nexpect = ['json.status == \"healthy\"']\n",
            server.port
        )
    };
    let refused = run(&https("")).await;
    assert_eq!(refused.level, Level::Critical, "{}", refused.message);
    let trusted = run(&https(&format!("ca_file = \"{}\"", server.ca_file.path().display()))).await;
    assert_eq!(trusted.level, Level::Ok, "{}", trusted.message);
}
