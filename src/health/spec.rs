//! A check as the engine runs it: the config entry with defaults filled in,
//! paths resolved and conditions parsed.

use super::condition::{self, Condition};
use crate::config::{CheckConfig, CheckTarget, Config, Severity};
use crate::engine::Engine;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Defaults when the config is silent.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30);
pub const DEFAULT_EVERY_SYSTEM: Duration = Duration::from_secs(10);
pub const DEFAULT_BODY_LIMIT: u64 = 64 * 1024;
pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
pub const DEFAULT_FAIL_AFTER: u32 = 2;
pub const DEFAULT_RECOVER_AFTER: u32 = 1;

#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub name: String,
    pub target: CheckTarget,
    pub every: Duration,
    pub timeout: Duration,
    pub conditions: Vec<Condition>,
    /// Conditions added because the config gave none (shown as "default" in the detail pane).
    pub default_conditions: bool,
    pub severity: Severity,
    pub fail_after: u32,
    pub recover_after: u32,
    /// Failing only once failures have lasted this long, as well as `fail_after` runs.
    pub fail_for: Option<Duration>,
    /// Warning when latency stays above `factor` times its baseline for `sustained`.
    pub slow: Option<SlowRule>,
    pub depends_on: Option<usize>,
    pub depends_on_name: Option<String>,
    pub warn: Option<f64>,
    pub critical: Option<f64>,
    /// Certificate expiry thresholds in days.
    pub warn_days: u32,
    pub critical_days: u32,
    pub http: HttpOptions,
    pub query: Option<String>,
    /// The GPU settings and which GPU, for a gpu check.
    pub gpu: Option<GpuCheck>,
    /// Relative paths (sqlite files, disks, commands' working folder) resolve against this.
    pub base_dir: PathBuf,
    /// The set and limits of a `backup` check.
    pub backup: Option<super::probe::backup::BackupCheck>,
    /// The engine a `promql` or `targets` check asks.
    pub engine: Option<EngineCheck>,
}

/// The engine behind a `promql` or `targets` check, shared by every check that names it
/// (one HTTP client, so connections are reused).
#[derive(Clone)]
pub struct EngineCheck {
    pub engine: Arc<Engine>,
    /// A query that returns no series fails (`expect_series = true`).
    pub expect_series: bool,
}

impl std::fmt::Debug for EngineCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineCheck")
            .field("engine", &self.engine.name())
            .field("expect_series", &self.expect_series)
            .finish()
    }
}

/// Engines built while checks are built, once per engine name, so checks share them.
#[derive(Default)]
pub struct EngineCache(HashMap<String, Result<Arc<Engine>, String>>);

impl EngineCache {
    fn get(&mut self, config: &Config, named: Option<&str>) -> Result<Arc<Engine>, String> {
        let engine = config.prometheus_engine(named)?;
        let name = engine.name.get_ref().clone();
        self.0
            .entry(name.clone())
            .or_insert_with(|| {
                Engine::new(engine, config.base_dir())
                    .map(Arc::new)
                    .map_err(|why| format!("engine `{name}` cannot be used: {why}"))
            })
            .clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowRule {
    pub factor: f64,
    pub sustained: Duration,
    pub baseline: Baseline,
}

/// What "normal" latency is for the slow rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Baseline {
    /// Written in the config: `baseline = "200ms"`.
    Fixed(Duration),
    /// The median over this window of the stored history, leaving out minutes
    /// with a failed run or a run flagged slow, so a slow spell never becomes "normal".
    Median(Duration),
}

/// The measured baseline's window: 24 h by default, kept in memory at most that long.
pub const DEFAULT_BASELINE_WINDOW: Duration = Duration::from_secs(24 * 3600);
pub const MIN_BASELINE_WINDOW: Duration = Duration::from_secs(600);
pub const MAX_BASELINE_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// A gpu check's GPU: one by index, or the worst of them; `[gpu]` gives the source and thresholds.
#[derive(Debug, Clone)]
pub struct GpuCheck {
    pub index: Option<u32>,
    pub settings: crate::config::GpuConfig,
}

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub method: String,
    /// Header values as written; `${VAR}` is expanded at request time and never shown.
    pub headers: Vec<(String, String)>,
    pub ca_file: Option<PathBuf>,
    pub max_redirects: u32,
    pub body_limit: u64,
}

impl CheckSpec {
    pub fn kind(&self) -> &'static str {
        self.target.kind()
    }

    /// The target as shown to people (never a header or a secret).
    pub fn target_text(&self) -> String {
        match &self.target {
            CheckTarget::Http(url) | CheckTarget::Tcp(url) | CheckTarget::Tls(url) => url.clone(),
            CheckTarget::Command(argv) => argv.join(" "),
            CheckTarget::Sqlite(path) | CheckTarget::Disk(path) => path.display().to_string(),
            CheckTarget::System(what) | CheckTarget::Backup(what) => what.clone(),
            CheckTarget::Gpu(gauge) => match check_gpu_index(&self.gpu) {
                Some(index) => format!("{gauge} of GPU {index}"),
                None => format!("{gauge} of the worst GPU"),
            },
            CheckTarget::Promql(query) => query.clone(),
            CheckTarget::Targets(engine) => format!("scrape targets of {engine}"),
        }
    }

    /// The engine a `promql` or `targets` check asks, by name.
    pub fn engine_name(&self) -> Option<&str> {
        self.engine.as_ref().map(|e| e.engine.name())
    }

    pub fn from_config(check: &CheckConfig, config: &Config, names: &[String]) -> Result<CheckSpec, String> {
        CheckSpec::build(check, config, names, &mut EngineCache::default())
    }

    /// Builds one check, taking its engine (if it asks one) from `engines`.
    pub fn build(
        check: &CheckConfig,
        config: &Config,
        names: &[String],
        engines: &mut EngineCache,
    ) -> Result<CheckSpec, String> {
        let target = check.target().ok_or_else(|| format!("check `{}` has no target", check.name.get_ref()))?;
        let system_like = matches!(target, CheckTarget::System(_) | CheckTarget::Disk(_) | CheckTarget::Gpu(_));
        // Certificates change rarely; once an hour is plenty.
        let default_every = match target {
            CheckTarget::Tls(_) => Duration::from_secs(3600),
            // Backups come hourly at most; a folder listing every minute is plenty.
            CheckTarget::Backup(_) => Duration::from_secs(60),
            _ if system_like => DEFAULT_EVERY_SYSTEM,
            _ => DEFAULT_EVERY,
        };
        let mut conditions = Vec::new();
        for text in &check.expect {
            conditions.push(condition::parse(text.get_ref()).map_err(|e| e.message)?);
        }
        let default_conditions = conditions.is_empty() && matches!(target, CheckTarget::Http(_));
        if default_conditions {
            // A plain healthy answer: any 2xx after redirects.
            conditions.push(condition::parse("status >= 200").map_err(|e| e.message)?);
            conditions.push(condition::parse("status < 300").map_err(|e| e.message)?);
        }
        let (warn, critical) = default_thresholds(&target);
        let baseline = match (check.baseline, check.baseline_window) {
            (Some(fixed), _) => Baseline::Fixed(fixed.get()),
            (None, window) => Baseline::Median(window.map_or(DEFAULT_BASELINE_WINDOW, |w| w.get())),
        };
        let slow = check.slow_factor.map(|factor| SlowRule {
            factor,
            sustained: check.slow_for.map_or(Duration::from_secs(300), |d| d.get()),
            baseline,
        });
        let engine = match &target {
            CheckTarget::Promql(_) => Some(engines.get(config, check.engine.as_ref().map(|e| e.get_ref().as_str()))?),
            CheckTarget::Targets(name) => Some(engines.get(config, Some(name))?),
            _ => None,
        };
        // An engine check waits as long as its engine does unless it says otherwise, so a slow
        // engine is reported as the engine's own timeout, naming it.
        let default_timeout = engine.as_ref().map_or(DEFAULT_TIMEOUT, |e| e.timeout());
        Ok(CheckSpec {
            name: check.name.get_ref().clone(),
            every: check.every.map_or(default_every, |d| d.get()),
            timeout: check.timeout.map_or(default_timeout, |d| d.get()),
            conditions,
            default_conditions,
            severity: check.severity,
            fail_after: check.fail_after.unwrap_or(DEFAULT_FAIL_AFTER).max(1),
            recover_after: check.recover_after.unwrap_or(DEFAULT_RECOVER_AFTER).max(1),
            fail_for: check.fail_for.map(|d| d.get()),
            slow,
            depends_on: check.depends_on.as_ref().and_then(|parent| names.iter().position(|n| n == parent.get_ref())),
            depends_on_name: check.depends_on.as_ref().map(|parent| parent.get_ref().clone()),
            warn: check.warn.map(|p| p.0).or(warn),
            critical: check.critical.map(|p| p.0).or(critical),
            warn_days: check.warn_days.unwrap_or(30),
            critical_days: check.critical_days.unwrap_or(7),
            http: HttpOptions {
                method: check.method.clone().unwrap_or_else(|| "GET".into()).to_ascii_uppercase(),
                headers: check.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                ca_file: check.ca_file.as_deref().map(|p| config.resolve(p)),
                max_redirects: check.max_redirects.unwrap_or(DEFAULT_MAX_REDIRECTS),
                body_limit: check.body_limit.map_or(DEFAULT_BODY_LIMIT, |b| b.0),
            },
            query: check.query.clone(),
            gpu: matches!(target, CheckTarget::Gpu(_))
                .then(|| GpuCheck { index: check.gpu_index, settings: config.gpu.clone() }),
            base_dir: config.base_dir().to_path_buf(),
            backup: super::probe::backup::BackupCheck::from_config(check, config)?,
            engine: engine.map(|engine| EngineCheck { engine, expect_series: check.expect_series.unwrap_or(false) }),
            target,
        })
    }

    /// Every check of a config; those that cannot be built are reported, not dropped silently.
    pub fn all(config: &Config) -> Vec<Result<CheckSpec, (String, String)>> {
        let names: Vec<String> = config.checks.iter().map(|c| c.name.get_ref().clone()).collect();
        let mut engines = EngineCache::default();
        config
            .checks
            .iter()
            .map(|check| {
                CheckSpec::build(check, config, &names, &mut engines).map_err(|e| (check.name.get_ref().clone(), e))
            })
            .collect()
    }

    /// The checks the engine can run, linked by name, and one line for each that it cannot.
    pub fn build_all(config: &Config) -> (Vec<CheckSpec>, Vec<String>) {
        let mut specs = Vec::new();
        let mut problems = Vec::new();
        for built in CheckSpec::all(config) {
            match built {
                Ok(spec) => specs.push(spec),
                Err((name, problem)) => problems.push(format!("check `{name}` cannot run: {problem}")),
            }
        }
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        for spec in &mut specs {
            spec.depends_on = spec.depends_on_name.as_ref().and_then(|parent| names.iter().position(|n| n == parent));
        }
        (specs, problems)
    }

    pub fn resolve(&self, path: &std::path::Path) -> PathBuf {
        if path.is_absolute() { path.to_path_buf() } else { self.base_dir.join(path) }
    }
}

fn check_gpu_index(gpu: &Option<GpuCheck>) -> Option<u32> {
    gpu.as_ref().and_then(|g| g.index)
}

/// The users' own thresholds: cpu 80/95 %, memory 85/95 %, swap 50/80 %, load per core 80/100 %, disk 80/90 %.
fn default_thresholds(target: &CheckTarget) -> (Option<f64>, Option<f64>) {
    match target {
        CheckTarget::System(what) => match what.as_str() {
            "cpu" => (Some(80.0), Some(95.0)),
            "memory" => (Some(85.0), Some(95.0)),
            "swap" => (Some(50.0), Some(80.0)),
            "load" => (Some(80.0), Some(100.0)),
            _ => (None, None),
        },
        CheckTarget::Disk(_) => (Some(80.0), Some(90.0)),
        _ => (None, None),
    }
}
