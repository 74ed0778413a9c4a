//! The TOML config file: its types, where it is found, and how it is checked.
//!
//! Every section is `deny_unknown_fields`, so a typo is an error with line:col
//! rather than a silently ignored setting.

mod action;
mod backup;
mod check;
mod engine;
mod error;
mod gpu;
mod load;
mod log;
mod restore_mode;
mod task;
pub mod units;
mod validate;

pub use action::{ActionConfig, ActionKind, NotifyFormat, RunbookRef};
pub use backup::{BackupConfig, BackupFormat, DEFAULT_MAX_RATIO, IntegrityCheck, RATIO_FLOOR};
pub use check::{CheckConfig, CheckTarget, Severity};
pub use engine::{
    BasicAuth, DEFAULT_ENGINE_BODY_LIMIT, DEFAULT_ENGINE_TIMEOUT, DEFAULT_MAX_SERIES, EngineConfig, EngineKind,
    TlsConfig,
};
pub use error::{ConfigError, Diagnostic, line_col};
pub use gpu::{FLEET_EVERY, GpuConfig, GpuSourceKind, LOCAL_EVERY};
pub use load::{STARTER_CONFIG, default_config_path, load, load_str, resolve_config_path};
pub use log::{DEFAULT_BUFFER_LINES, DEFAULT_MAX_LINE_BYTES, DEFAULT_TAIL_LINES, HighlightConfig, LogConfig};
pub use restore_mode::RestoreMode;
pub use task::{TaskConfig, WindowConfig};

use crate::util::zone::Zone;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub settings: Settings,
    #[serde(default, rename = "check")]
    pub checks: Vec<CheckConfig>,
    #[serde(default, rename = "task")]
    pub tasks: Vec<TaskConfig>,
    #[serde(default, rename = "window")]
    pub windows: Vec<WindowConfig>,
    #[serde(default, rename = "log")]
    pub logs: Vec<LogConfig>,
    #[serde(default, rename = "backup")]
    pub backups: Vec<BackupConfig>,
    #[serde(default, rename = "action")]
    pub actions: Vec<ActionConfig>,
    #[serde(default, rename = "runbook")]
    pub runbooks: Vec<RunbookRef>,
    #[serde(default)]
    pub gpu: GpuConfig,
    /// `[[engine]]`: Prometheus-compatible servers and Alertmanagers read for the fleet.
    #[serde(default, rename = "engine")]
    pub engines: Vec<EngineConfig>,
    /// `[keys.<mode>]` tables: key chord -> action, overriding the defaults.
    #[serde(default)]
    pub keys: BTreeMap<String, BTreeMap<String, Spanned<toml::Value>>>,
    /// Where the file was read from; relative paths in it are relative to its folder.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// The file's text, so later stages (themes, keys) can point at line:col too.
    #[serde(skip)]
    pub source: std::sync::Arc<str>,
}

impl Config {
    /// The folder relative paths are resolved against. Loading makes `path`
    /// absolute, so this does not depend on the current directory.
    pub fn base_dir(&self) -> &Path {
        self.path.as_deref().and_then(Path::parent).filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."))
    }

    /// A diagnostic at `span` of this config's file.
    pub fn diagnostic(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> Diagnostic {
        let file = self.path.clone().unwrap_or_else(|| PathBuf::from("<config>"));
        Diagnostic::at(&file, &self.source, Some(span), message)
    }

    /// `settings.shared_group`, looked up; `None` when unset (validation has rejected unknown groups).
    pub fn shared_group(&self) -> Option<crate::util::perms::SharedGroup> {
        let name = self.settings.shared_group.as_ref()?;
        crate::util::perms::SharedGroup::lookup(name.get_ref()).ok()
    }

    /// Resolves a path from the config file against the config's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_path_buf() } else { self.base_dir().join(path) }
    }
}

/// `[settings]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub theme: Spanned<String>,
    /// IANA zone in which times are shown.
    pub timezone: Spanned<String>,
    /// Where the SQLite store lives; defaults to the platform data dir.
    pub data_dir: Option<PathBuf>,
    /// Upper bound on frames drawn per second.
    pub frame_rate: u32,
    /// Hides every action (also `--read-only`).
    pub read_only: bool,
    /// Show the host's crontabs and systemd timers on the calendar beside the config's tasks.
    pub host_schedules: bool,
    /// A Unix group whose members share the store and target locks (files 0660,
    /// folders 2770, that group); without it they are the owner's alone (0600, 0700).
    pub shared_group: Option<Spanned<String>>,
    /// Wrap each frame in synchronized output (DEC mode 2026), so slow links show whole frames.
    pub sync_output: bool,
    /// How many colours to draw with: auto (from COLORTERM and TERM), truecolor, 256, 16 or none.
    pub color: crate::theme::ColorSetting,
    /// `y` copies the selection to the operator's clipboard with OSC 52.
    pub clipboard: bool,
    /// Report the mouse from the start (clicks on tabs, the wheel); `M` toggles it.
    pub mouse: bool,
    /// Most memory buffered log lines take, all sources together; the oldest
    /// lines of the source holding the most go first.
    pub memory_budget: Spanned<units::ByteSize>,
}

/// `settings.memory_budget` unless set.
pub const DEFAULT_MEMORY_BUDGET: u64 = 64 * 1024 * 1024;
/// The smallest budget accepted: a few chunks of text for a few sources.
pub const MIN_MEMORY_BUDGET: u64 = 1024 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: Spanned::new(0..0, "default-dark".to_string()),
            timezone: Spanned::new(0..0, "UTC".to_string()),
            data_dir: None,
            frame_rate: 30,
            read_only: false,
            host_schedules: true,
            shared_group: None,
            sync_output: true,
            color: crate::theme::ColorSetting::Auto,
            clipboard: true,
            mouse: false,
            memory_budget: Spanned::new(0..0, units::ByteSize(DEFAULT_MEMORY_BUDGET)),
        }
    }
}

impl Settings {
    /// The display zone; validation has already rejected unknown names.
    pub fn zone(&self) -> Zone {
        self.timezone.get_ref().parse().unwrap_or(Zone::UTC)
    }
}
