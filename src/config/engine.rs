//! `[[engine]]`: a Prometheus-compatible server or an Alertmanager that
//! firstwatch reads (and, for Alertmanager, silences through). The auth keys
//! carry the names Prometheus's own `http_config` gives them, so a block can be
//! copied from a scrape config.

use super::Config;
use super::units::{ByteSize, HumanDuration};
use super::validate::Problems;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
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
        if engine.cert_file.is_some() != engine.key_file.is_some() {
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
