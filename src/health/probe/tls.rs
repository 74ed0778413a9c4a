//! Certificate expiry: a TLS handshake (verified against the system roots,
//! plus the check's CA file), then days until the leaf certificate's
//! notAfter. A certificate that is already expired or untrusted fails the
//! handshake, which is reported as it is.

use super::{Observed, ProbeError};
use crate::health::condition::{Observation, Value, format_number};
use crate::health::outcome::Level;
use crate::health::spec::CheckSpec;
use crate::util::sanitize::sanitize_str;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// TLS client settings per CA file: loading the system roots is slow, so it happens once.
#[derive(Clone, Default)]
pub struct Configs(Arc<Mutex<HashMap<Option<PathBuf>, Arc<ClientConfig>>>>);

impl Configs {
    fn get(&self, ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, ProbeError> {
        let mut configs = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = ca_file.map(Path::to_path_buf);
        if let Some(config) = configs.get(&key) {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if let Some(path) = ca_file {
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect())
                .map_err(|err| ProbeError::CannotRun(format!("cannot read CA file {}: {err}", path.display())))?;
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|err| ProbeError::CannotRun(format!("CA file {}: {err}", path.display())))?;
            }
        }
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| ProbeError::CannotRun(format!("cannot set up TLS: {err}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let config = Arc::new(config);
        configs.insert(key, config.clone());
        Ok(config)
    }
}

pub async fn probe(configs: &Configs, spec: &CheckSpec, address: &str) -> Result<Observed, ProbeError> {
    let (host, port) = match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !host.ends_with(':') => (
            host.trim_start_matches('[').trim_end_matches(']'),
            port.parse::<u16>().map_err(|_| ProbeError::CannotRun(format!("`{address}`: bad port")))?,
        ),
        _ => (address, 443),
    };
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| ProbeError::CannotRun(format!("`{host}` is not a host name")))?;
    let config = configs.get(spec.http.ca_file.as_deref())?;
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|err| ProbeError::Failed(format!("cannot connect to {host}:{port}: {err}")))?;
    let stream = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|err| {
        ProbeError::Failed(format!("TLS with {host}:{port} failed: {}", sanitize_str(&err.to_string())))
    })?;
    let (_, connection) = stream.get_ref();
    let leaf = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| ProbeError::Failed(format!("{host}:{port} sent no certificate")))?;
    let (_, certificate) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|err| ProbeError::Failed(format!("cannot read the certificate of {host}:{port}: {err}")))?;
    let not_after = certificate.validity().not_after.timestamp();
    let seconds_left = not_after - chrono::Utc::now().timestamp();
    let days = seconds_left as f64 / 86_400.0;
    let date =
        chrono::DateTime::from_timestamp(not_after, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let whole_days = days.floor();
    let summary = format!("certificate expires in {} days ({date})", format_number(whole_days));
    let threshold = if days < f64::from(spec.critical_days) {
        Some((Level::Critical, format!("{summary}, under {} days", spec.critical_days)))
    } else if days < f64::from(spec.warn_days) {
        Some((Level::Warning, format!("{summary}, under {} days", spec.warn_days)))
    } else {
        None
    };
    Ok(Observed {
        observation: Observation { value: Some(Value::Number(whole_days)), ..Observation::default() },
        summary,
        threshold,
        response: None,
    })
}
