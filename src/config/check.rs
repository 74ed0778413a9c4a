//! `[[check]]`: one live health check. The key that names the target also
//! names the kind (`http = "..."`, `tcp = "..."`, `disk = "/data"` ...).

use super::units::{ByteSize, HumanDuration, Percent};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// How bad it is when a check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    #[default]
    Critical,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    pub name: Spanned<String>,

    // The target; exactly one of these is set (validation says so otherwise).
    #[serde(default)]
    pub http: Option<String>,
    #[serde(default)]
    pub tcp: Option<String>,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub sqlite: Option<PathBuf>,
    #[serde(default)]
    pub system: Option<Spanned<String>>,
    #[serde(default)]
    pub disk: Option<PathBuf>,
    #[serde(default)]
    pub tls: Option<String>,

    // HTTP details.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub max_redirects: Option<u32>,
    #[serde(default)]
    pub body_limit: Option<ByteSize>,

    /// SQL for a `sqlite` check; the first column of the first row is its value.
    #[serde(default)]
    pub query: Option<String>,

    #[serde(default)]
    pub every: Option<HumanDuration>,
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub expect: Vec<Spanned<String>>,

    /// Thresholds for system, disk and tls checks.
    #[serde(default)]
    pub warn: Option<Percent>,
    #[serde(default)]
    pub critical: Option<Percent>,

    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub fail_after: Option<u32>,
    #[serde(default)]
    pub recover_after: Option<u32>,
    #[serde(default)]
    pub depends_on: Option<Spanned<String>>,
}

/// The kind of a check, taken from whichever target key is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckTarget {
    Http(String),
    Tcp(String),
    Command(Vec<String>),
    Sqlite(PathBuf),
    System(String),
    Disk(PathBuf),
    Tls(String),
}

impl CheckConfig {
    /// Every target key that is set, so validation can demand exactly one.
    pub fn targets(&self) -> Vec<CheckTarget> {
        let mut targets = Vec::new();
        if let Some(url) = &self.http {
            targets.push(CheckTarget::Http(url.clone()));
        }
        if let Some(addr) = &self.tcp {
            targets.push(CheckTarget::Tcp(addr.clone()));
        }
        if let Some(argv) = &self.command {
            targets.push(CheckTarget::Command(argv.clone()));
        }
        if let Some(path) = &self.sqlite {
            targets.push(CheckTarget::Sqlite(path.clone()));
        }
        if let Some(what) = &self.system {
            targets.push(CheckTarget::System(what.get_ref().clone()));
        }
        if let Some(mount) = &self.disk {
            targets.push(CheckTarget::Disk(mount.clone()));
        }
        if let Some(addr) = &self.tls {
            targets.push(CheckTarget::Tls(addr.clone()));
        }
        targets
    }

    pub fn target(&self) -> Option<CheckTarget> {
        self.targets().into_iter().next()
    }
}

impl CheckTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            CheckTarget::Http(_) => "http",
            CheckTarget::Tcp(_) => "tcp",
            CheckTarget::Command(_) => "command",
            CheckTarget::Sqlite(_) => "sqlite",
            CheckTarget::System(_) => "system",
            CheckTarget::Disk(_) => "disk",
            CheckTarget::Tls(_) => "tls",
        }
    }
}
