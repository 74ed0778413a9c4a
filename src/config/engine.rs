//! `[[engine]]`: a Prometheus-compatible server or an Alertmanager that
//! firstwatch reads (and, for Alertmanager, silences through). The auth keys
//! carry the names Prometheus's own `http_config` gives them; the TLS ones may
//! sit flat or, as in a scrape config, under `tls_config`.

use super::Config;
use super::units::{ByteSize, HumanDuration};
use super::validate::Problems;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// How long one request to an engine may take when the config is silent.
pub const DEFAULT_ENGINE_TIMEOUT: Duration = Duration::from_secs(10);
/// The most series one query may return before it is refused (a typo'd query
/// over a fleet must not take the console's memory with it).
pub const DEFAULT_MAX_SERIES: usize = 20_000;
/// The largest response body read from an engine.
pub const DEFAULT_ENGINE_BODY_LIMIT: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Prometheus or anything that speaks its HTTP API (Thanos, Mimir, VictoriaMetrics).
    Prometheus,
    /// Alertmanager's v2 API.
    Alertmanager,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Prometheus => "prometheus",
            EngineKind::Alertmanager => "alertmanager",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    /// A file holding the password (its first line), never the password itself in the config.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// The TLS keys as Prometheus nests them: `tls_config = { ca_file = "...", server_name = "..." }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    #[serde(default)]
    pub server_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    pub name: Spanned<String>,
    pub kind: EngineKind,
    pub url: Spanned<String>,
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// A file holding a bearer token, read for every request (so a rotated token is picked up).
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    /// CA bundle that signs the engine's certificate (beside the system's roots).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// A client certificate and its key, for engines that want mutual TLS.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The name the engine's certificate is checked against, when it differs from the URL's host.
    #[serde(default)]
    pub server_name: Option<String>,
    /// The four keys above, nested as in a Prometheus scrape config (use one spelling per key).
    #[serde(default)]
    pub tls_config: Option<TlsConfig>,
    /// Extra request headers (`X-Scope-OrgID` for a multi-tenant Mimir); `${VAR}` comes from the environment.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    /// The most series one query may return (default 20,000).
    #[serde(default)]
    pub max_series: Option<usize>,
    /// The largest response read (default 32MiB).
    #[serde(default)]
    pub body_limit: Option<ByteSize>,
}

impl EngineConfig {
    pub fn timeout(&self) -> Duration {
        self.timeout.map_or(DEFAULT_ENGINE_TIMEOUT, |t| t.get())
    }

    pub fn max_series(&self) -> usize {
        self.max_series.unwrap_or(DEFAULT_MAX_SERIES)
    }

    pub fn body_limit(&self) -> u64 {
        self.body_limit.map_or(DEFAULT_ENGINE_BODY_LIMIT, |b| b.0)
    }

    /// `ca_file`, flat or under `tls_config`.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref().or_else(|| self.tls_config.as_ref()?.ca_file.as_deref())
    }

    /// `cert_file`, flat or under `tls_config`.
    pub fn cert_file(&self) -> Option<&Path> {
        self.cert_file.as_deref().or_else(|| self.tls_config.as_ref()?.cert_file.as_deref())
    }

    /// `key_file`, flat or under `tls_config`.
    pub fn key_file(&self) -> Option<&Path> {
        self.key_file.as_deref().or_else(|| self.tls_config.as_ref()?.key_file.as_deref())
    }

    /// `server_name`, flat or under `tls_config`.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref().or_else(|| self.tls_config.as_ref()?.server_name.as_deref())
    }

    /// The TLS keys given both flat and under `tls_config`.
    fn tls_twice(&self) -> Vec<&'static str> {
        let Some(nested) = &self.tls_config else { return Vec::new() };
        [
            ("ca_file", self.ca_file.is_some() && nested.ca_file.is_some()),
            ("cert_file", self.cert_file.is_some() && nested.cert_file.is_some()),
            ("key_file", self.key_file.is_some() && nested.key_file.is_some()),
            ("server_name", self.server_name.is_some() && nested.server_name.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, twice)| twice.then_some(key))
        .collect()
    }
}

impl Config {
    /// The engine named `name`, or with `None` the only engine of `kind` (none when there are several).
    pub fn engine(&self, name: Option<&str>, kind: EngineKind) -> Option<&EngineConfig> {
        match name {
            Some(name) => self.engines.iter().find(|e| e.name.get_ref() == name),
            None => {
                let mut of_kind = self.engines.iter().filter(|e| e.kind == kind);
                let only = of_kind.next()?;
                of_kind.next().is_none().then_some(only)
            }
        }
    }
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    problems.unique_names("engine", config.engines.iter().map(|e| &e.name));
    for engine in &config.engines {
        match reqwest::Url::parse(engine.url.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            Ok(url) => problems.push(
                engine.url.span(),
                format!("engine `{}`: scheme `{}` is not http or https", engine.name.get_ref(), url.scheme()),
                None,
            ),
            Err(err) => problems.push(
                engine.url.span(),
                format!("engine `{}`: `{}` is not a URL: {err}", engine.name.get_ref(), engine.url.get_ref()),
                Some("write the server's base address, e.g. \"http://prometheus:9090\""),
            ),
        }
        for key in engine.tls_twice() {
            problems.push(
                engine.name.span(),
                format!("engine `{}`: {key} is set both flat and in tls_config", engine.name.get_ref()),
                Some("keep one of the two"),
            );
        }
        if engine.cert_file().is_some() != engine.key_file().is_some() {
            problems.push(
                engine.name.span(),
                format!("engine `{}`: cert_file and key_file go together", engine.name.get_ref()),
                None,
            );
        }
        if engine.basic_auth.is_some() && engine.bearer_token_file.is_some() {
            problems.push(
                engine.name.span(),
                format!("engine `{}`: basic_auth and bearer_token_file cannot both be set", engine.name.get_ref()),
                None,
            );
        }
        if engine.max_series == Some(0) {
            problems.push(
                engine.name.span(),
                format!("engine `{}`: max_series must be at least 1", engine.name.get_ref()),
                None,
            );
        }
    }
}
