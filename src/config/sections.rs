//! Config sections whose tabs are still being built. Each tab's work extends
//! its own struct; unknown keys are already rejected so configs stay honest.

use super::units::HumanDuration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use toml::Spanned;

/// `[[task]]`: a scheduled maintenance task.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub name: Spanned<String>,
    pub cron: Spanned<String>,
    #[serde(default)]
    pub tz: Option<Spanned<String>>,
    #[serde(default)]
    pub run: Vec<String>,
    #[serde(default)]
    pub duration: Option<HumanDuration>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `[[window]]`: a maintenance window, a cron start plus a length.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    pub name: Spanned<String>,
    pub cron: Spanned<String>,
    pub duration: HumanDuration,
}

/// `[[log]]`: a followed log source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub name: Spanned<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub journald: Option<Vec<String>>,
}

/// `[[backup]]`: a set of backups in one folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    pub name: Spanned<String>,
    pub dir: PathBuf,
    pub pattern: String,
    pub format: String,
    #[serde(default)]
    pub restore_to: Option<PathBuf>,
    #[serde(default)]
    pub keep: Option<HumanDuration>,
    #[serde(default)]
    pub keep_last: Option<u32>,
    #[serde(default)]
    pub every: Option<HumanDuration>,
    #[serde(default)]
    pub count: Vec<String>,
}

/// What an action does, which decides how it is confirmed and recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Redeploy,
    Rollback,
    Restore,
    Custom,
}

/// `[[action]]`: a command on-call can fire after confirming it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    pub name: Spanned<String>,
    pub kind: ActionKind,
    pub target: String,
    pub run: Vec<String>,
    #[serde(default)]
    pub dir: Option<PathBuf>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub verify: Vec<Spanned<String>>,
    #[serde(default)]
    pub risk: Option<String>,
    #[serde(default)]
    pub backup: Option<String>,
    #[serde(default)]
    pub rollback_with: Option<Spanned<String>>,
}

/// `[[runbook]]`: a Markdown or TOML runbook file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookRef {
    pub path: Spanned<PathBuf>,
}

/// `[gpu]`: GPU sampling and thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpuConfig {
    pub every: HumanDuration,
    /// Use the simulated source with this many GPUs instead of NVML.
    pub simulate: Option<u8>,
}

impl Default for GpuConfig {
    fn default() -> Self {
        GpuConfig { every: HumanDuration(std::time::Duration::from_secs(1)), simulate: None }
    }
}
