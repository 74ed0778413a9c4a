//! Running one check once: reach the target, observe, judge the conditions.
//!
//! Each kind has its own module; all of them return an [`Observed`] (or an
//! [`Outcome`] when the target could not be reached), and [`judge`] turns
//! that into the run's level and one-line message.

pub mod backup;
mod command;
mod engine;
pub mod gpu;
mod http;
pub use http::expand_env;
mod sqlite;
mod system;
mod tcp;
mod tls;
mod xid;

use super::condition::{Observation, Subject};
use super::outcome::{Level, Outcome, Response};
use super::spec::CheckSpec;
use crate::config::{CheckTarget, Severity};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a probe saw before the conditions are applied.
#[derive(Debug, Default)]
pub struct Observed {
    pub observation: Observation,
    pub response: Option<Response>,
    /// What a healthy run says: "200 OK, 812 B", "42", "cpu 12%".
    pub summary: String,
    /// Thresholds already crossed (system and disk checks).
    pub threshold: Option<(Level, String)>,
}

/// Why a probe produced no observation.
#[derive(Debug)]
pub enum ProbeError {
    /// The target did not answer properly: the check fails with its severity.
    Failed(String),
    /// The check itself could not run (unset variable, missing program): unknown.
    CannotRun(String),
}

/// Shared state for probes: HTTP clients (one per CA file, so connections and
/// TLS set-up are reused) and the system sampler (CPU needs two samples).
#[derive(Clone, Default)]
pub struct Prober {
    clients: Arc<std::sync::Mutex<std::collections::HashMap<Option<std::path::PathBuf>, reqwest::Client>>>,
    system: Arc<std::sync::Mutex<system::Sampler>>,
    tls: tls::Configs,
    gpu: gpu::Gpus,
}

/// Extra time a probe gets beyond its timeout to clean up (kill a process group) before it is abandoned.
const GRACE: Duration = Duration::from_secs(2);

impl Prober {
    pub fn new() -> Prober {
        Prober::default()
    }

    /// A prober whose gpu checks read `source` (a fake in tests).
    pub fn with_gpu_source(source: Box<dyn crate::gpu::GpuSource>) -> Prober {
        Prober { gpu: gpu::Gpus::with_source(source), ..Prober::default() }
    }

    /// Runs `spec` once, within its timeout, and judges the result.
    pub async fn run(&self, spec: &CheckSpec) -> Outcome {
        if let Some(check) = &spec.engine {
            // Bounded by its own timeout, and judged series by series.
            return engine::run(spec, check).await;
        }
        let started = Instant::now();
        let observed = tokio::time::timeout(spec.timeout + GRACE, self.observe(spec)).await;
        let latency = started.elapsed();
        let observed = match observed {
            Ok(observed) => observed,
            Err(_) => Err(ProbeError::Failed(timeout_message(spec.timeout))),
        };
        let mut outcome = match observed {
            Ok(mut observed) => {
                observed.observation.latency.get_or_insert(latency);
                judge(spec, observed)
            }
            Err(ProbeError::Failed(message)) => Outcome::new(failure_level(spec.severity), message),
            Err(ProbeError::CannotRun(message)) => Outcome::new(Level::Unknown, message),
        };
        outcome.latency.get_or_insert(latency);
        outcome
    }

    async fn observe(&self, spec: &CheckSpec) -> Result<Observed, ProbeError> {
        let deadline = spec.timeout;
        match &spec.target {
            CheckTarget::Http(url) => {
                let client = self.client(spec)?;
                within(deadline, http::probe(&client, spec, url)).await
            }
            CheckTarget::Tcp(address) => within(deadline, tcp::probe(address)).await,
            CheckTarget::Command(argv) => command::probe(spec, argv).await,
            CheckTarget::Sqlite(path) => sqlite::probe(spec, &spec.resolve(path)).await,
            CheckTarget::System(what) => within(deadline, system::probe(&self.system, what, spec)).await,
            CheckTarget::Disk(path) => within(deadline, system::disk(&spec.resolve(path), spec)).await,
            CheckTarget::Tls(address) => within(deadline, tls::probe(&self.tls, spec, address)).await,
            CheckTarget::Backup(set) => match &spec.backup {
                Some(check) => within(deadline, backup::probe(check)).await,
                None => Err(ProbeError::CannotRun(format!("no backup set named `{set}`"))),
            },
            CheckTarget::Gpu(gauge) => gpu::probe(&self.gpu, spec, gauge).await,
            CheckTarget::Promql(_) | CheckTarget::Targets(_) => {
                Err(ProbeError::CannotRun("the check's engine could not be set up".into()))
            }
        }
    }

    fn client(&self, spec: &CheckSpec) -> Result<reqwest::Client, ProbeError> {
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(client) = clients.get(&spec.http.ca_file) {
            return Ok(client.clone());
        }
        let client = http::build_client(spec.http.ca_file.as_deref())?;
        clients.insert(spec.http.ca_file.clone(), client.clone());
        Ok(client)
    }
}

async fn within<T>(limit: Duration, work: impl Future<Output = Result<T, ProbeError>>) -> Result<T, ProbeError> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| Err(ProbeError::Failed(timeout_message(limit))))
}

fn timeout_message(limit: Duration) -> String {
    format!("no answer within {}", super::condition::format_latency(limit))
}

pub fn failure_level(severity: Severity) -> Level {
    match severity {
        Severity::Critical => Level::Critical,
        Severity::Warning => Level::Warning,
    }
}

/// Applies the conditions (and for commands, exit 0 unless a condition says otherwise).
pub fn judge(spec: &CheckSpec, observed: Observed) -> Outcome {
    let mut failed = Vec::new();
    let mut messages = Vec::new();
    for (index, condition) in spec.conditions.iter().enumerate() {
        if let Err(failure) = condition.evaluate(&observed.observation) {
            failed.push(index);
            messages.push(failure.message);
        }
    }
    let judges_exit = spec.conditions.iter().any(|c| c.subject == Subject::Exit);
    if let Some(code) = observed.observation.exit
        && code != 0
        && !judges_exit
    {
        messages.insert(0, format!("exit {code}: {}", observed.summary));
    }
    let level = if !messages.is_empty() {
        failure_level(spec.severity)
    } else if let Some((level, _)) = &observed.threshold {
        *level
    } else {
        Level::Ok
    };
    let message = if !messages.is_empty() {
        messages.join("; ")
    } else if let Some((_, message)) = &observed.threshold {
        message.clone()
    } else {
        observed.summary.clone()
    };
    let mut outcome = Outcome::new(level, message);
    outcome.failed = failed;
    outcome.response = observed.response;
    outcome.latency = observed.observation.latency;
    outcome
}

/// The level a value reaches against warn/critical thresholds, with a message.
pub fn threshold(label: &str, value: f64, spec: &CheckSpec) -> Option<(Level, String)> {
    let shown = |t: f64| format!("{}%", super::condition::format_number(t));
    match (spec.warn, spec.critical) {
        (_, Some(critical)) if value >= critical => {
            Some((Level::Critical, format!("{label} above critical {}", shown(critical))))
        }
        (Some(warn), _) if value >= warn => Some((Level::Warning, format!("{label} above warn {}", shown(warn)))),
        _ => None,
    }
}
