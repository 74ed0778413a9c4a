//! Running a confirmed action end to end: lock the target, write the audit
//! row, run the command, write the outcome, then verify the service.
//! Both the console and `firstwatch action` go through here.

use super::confirm::{Confirmed, Refusal};
use super::lock::{LockError, TargetLock};
use super::runner::{self, CancelSignal, Ending, OutputLine, RunReport, RunRequest};
use super::spec::ActionSpec;
use crate::config::Config;
use crate::incident::record::{self, EventKind};
use crate::store::{AuditEntry, Store};
use crate::util::identity::Identity;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Time between verification rounds while watching a redeployed service.
pub const VERIFY_INTERVAL: Duration = Duration::from_secs(10);

/// What every run needs besides the action itself.
#[derive(Clone)]
pub struct ActionContext {
    pub config: Arc<Config>,
    pub store: Option<Store>,
    pub who: Identity,
    /// Time between SIGTERM and SIGKILL when stopping.
    pub grace: Duration,
}

/// Reported while an action runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Started { argv: String },
    Output(OutputLine),
    Finished { ending: Ending, duration: Duration },
    Verdict { check: String, healthy: Option<bool>, summary: String },
}

/// How verification after a redeploy or rollback came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Healthy,
    /// Still failing when the watch period ended.
    Unhealthy(String),
    /// A check could not be run at all.
    CouldNotVerify(String),
}

impl Verification {
    pub fn describe(&self) -> String {
        match self {
            Verification::Healthy => "verified: healthy".into(),
            Verification::Unhealthy(why) => format!("verification failed: {why}"),
            Verification::CouldNotVerify(why) => format!("could not verify: {why}"),
        }
    }
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Refused(String),
    DryRun,
    Ran { report: RunReport, verification: Option<Verification> },
}

impl Attempt {
    pub fn describe(&self) -> String {
        match self {
            Attempt::Refused(why) => format!("refused: {why}"),
            Attempt::DryRun => "dry run: nothing was run".into(),
            Attempt::Ran { report, verification } => {
                let mut text = format!("{} after {}", report.ending.describe(), seconds(report.duration));
                if let Some(verification) = verification {
                    text.push_str("; ");
                    text.push_str(&verification.describe());
                }
                text
            }
        }
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

impl ActionContext {
    /// Where target locks live: beside the store, else the temp dir.
    fn lock_dir(&self) -> PathBuf {
        self.store.as_ref().and_then(|s| s.path().parent().map(|p| p.to_path_buf())).unwrap_or_else(std::env::temp_dir)
    }

    /// Writes an audit row about `spec`; the error says why it could not be written.
    pub async fn audit(&self, event: &str, spec: Option<&ActionSpec>, detail: Option<String>) -> Result<(), String> {
        let Some(store) = self.store.clone() else { return Err("no store to write the audit log to".into()) };
        let who = self.who.clone();
        let incident_id = open_incident(&store).await;
        let entry = AuditEntry {
            event: event.to_string(),
            action: spec.map(|s| s.name.clone()),
            target: spec.map(|s| s.target.clone()),
            argv: spec.map(|s| s.argv.clone()),
            incident_id,
            detail,
        };
        tokio::task::spawn_blocking(move || store.audit(entry, &who))
            .await
            .map_err(|err| err.to_string())?
            .map(|_| ())
            .map_err(|err| err.to_string())
    }

    /// Records a refusal (wrong word, read-only, no terminal) in the audit log and on the timeline.
    pub async fn refuse(&self, spec: &ActionSpec, refusal: &Refusal) -> Attempt {
        let _ = self.audit("refused", Some(spec), Some(refusal.to_string())).await;
        self.timeline(EventKind::Action, format!("{} refused: {refusal}", spec.name)).await;
        Attempt::Refused(refusal.to_string())
    }

    async fn timeline(&self, kind: EventKind, text: String) {
        let Some(store) = self.store.clone() else { return };
        let who = self.who.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(Some(id)) = record::open_incident_id(&store) {
                let _ = record::add_event(&store, id, kind, None, &text, &who);
            }
        })
        .await;
    }

    /// Runs a confirmed action, reporting progress as it goes.
    pub async fn run(&self, confirmed: Confirmed, cancel: CancelSignal, mut progress: impl FnMut(Progress)) -> Attempt {
        let spec = confirmed.spec().clone();
        if confirmed.dry_run() {
            let detail = format!("would run {} in {}", spec.argv_line(), spec.dir.display());
            let _ = self.audit("dry-run", Some(&spec), Some(detail.clone())).await;
            self.timeline(EventKind::Action, format!("dry run of {}: {detail}", spec.name)).await;
            return Attempt::DryRun;
        }
        let _ = self.audit("confirmed", Some(&spec), None).await;
        let (dir, target, who, name, group) =
            (self.lock_dir(), spec.target.clone(), self.who.clone(), spec.name.clone(), self.config.shared_group());
        // Blocking: a refusal may look at the holder's note for a moment.
        let acquired =
            tokio::task::spawn_blocking(move || TargetLock::acquire_with(&dir, &target, &who, &name, group.as_ref()))
                .await
                .unwrap_or_else(|err| Err(LockError::Io { target: spec.target.clone(), reason: err.to_string() }));
        let lock = match acquired {
            Ok(lock) => lock,
            Err(err) => {
                let _ = self.audit("lock-refused", Some(&spec), Some(err.to_string())).await;
                self.timeline(EventKind::Action, format!("{} refused: {err}", spec.name)).await;
                return Attempt::Refused(err.to_string());
            }
        };
        // Nothing runs unless its start is on record.
        if let Err(err) = self.audit("start", Some(&spec), Some(format!("in {}", spec.dir.display()))).await {
            return Attempt::Refused(format!("not started: the audit log cannot be written ({err})"));
        }
        self.timeline(EventKind::Action, format!("{} started: {}", spec.name, spec.argv_line())).await;
        progress(Progress::Started { argv: spec.argv_line() });
        let request = RunRequest {
            argv: spec.argv.clone(),
            dir: spec.dir.clone(),
            env: spec.env.clone(),
            timeout: spec.timeout,
            grace: self.grace,
        };
        let hang_up = HangUpRecord { store: self.store.clone(), who: self.who.clone(), spec: Some(spec.clone()) };
        let report = runner::run(&request, cancel.clone(), |line| progress(Progress::Output(line.clone()))).await;
        hang_up.disarm();
        drop(lock);
        let summary = outcome_summary(&report);
        let _ = self.audit(report.ending.event(), Some(&spec), Some(summary.clone())).await;
        self.timeline(EventKind::ActionOutcome, format!("{}: {summary}", spec.name)).await;
        progress(Progress::Finished { ending: report.ending.clone(), duration: report.duration });
        let verification = if spec.verifies() && report.ending.succeeded() {
            let verification = self.verify(&spec, cancel, &mut progress).await;
            let _ = self.audit("verify", Some(&spec), Some(verification.describe())).await;
            self.timeline(EventKind::Verify, format!("{}: {}", spec.name, verification.describe())).await;
            Some(verification)
        } else {
            None
        };
        Attempt::Ran { report, verification }
    }

    /// Re-runs the action's checks until all are healthy or the watch period ends.
    async fn verify(
        &self,
        spec: &ActionSpec,
        mut cancel: CancelSignal,
        progress: &mut impl FnMut(Progress),
    ) -> Verification {
        let deadline = tokio::time::Instant::now() + spec.watch;
        loop {
            let mut failing = Vec::new();
            for check in &spec.verify {
                match crate::health::once::run_check_once(&self.config, check).await {
                    Ok(verdict) => {
                        let summary = crate::util::sanitize::sanitize_str(&verdict.summary);
                        progress(Progress::Verdict {
                            check: check.clone(),
                            healthy: Some(verdict.healthy),
                            summary: summary.clone(),
                        });
                        if !verdict.healthy {
                            failing.push(format!("{check}: {summary}"));
                        }
                    }
                    Err(why) => {
                        let why = crate::util::sanitize::sanitize_str(&why);
                        progress(Progress::Verdict { check: check.clone(), healthy: None, summary: why.clone() });
                        return Verification::CouldNotVerify(why);
                    }
                }
            }
            if failing.is_empty() {
                return Verification::Healthy;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Verification::Unhealthy(failing.join("; "));
            }
            tokio::select! {
                () = tokio::time::sleep(VERIFY_INTERVAL.min(deadline - now)) => {}
                () = cancel.fired() => return Verification::Unhealthy(format!("watch stopped early: {}", failing.join("; "))),
            }
        }
    }
}

/// Writes a `hang-up` audit row if a run is abandoned (the console quit or lost its
/// terminal) before its end could be recorded; the runner stops the process group.
struct HangUpRecord {
    store: Option<Store>,
    who: Identity,
    spec: Option<ActionSpec>,
}

impl HangUpRecord {
    fn disarm(mut self) {
        self.spec = None;
    }
}

impl Drop for HangUpRecord {
    fn drop(&mut self) {
        let (Some(store), Some(spec)) = (&self.store, self.spec.take()) else { return };
        let entry = AuditEntry {
            event: "hang-up".into(),
            action: Some(spec.name.clone()),
            target: Some(spec.target.clone()),
            argv: Some(spec.argv.clone()),
            incident_id: record::open_incident_id(store).ok().flatten(),
            detail: Some("firstwatch stopped while the command ran; its process group was stopped".into()),
        };
        let _ = store.audit(entry, &self.who);
    }
}

async fn open_incident(store: &Store) -> Option<i64> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || record::open_incident_id(&store).ok().flatten()).await.ok().flatten()
}

/// One line for the audit row and timeline: how it ended, how long, how much output, the last line.
pub fn outcome_summary(report: &RunReport) -> String {
    let mut text = format!(
        "{} after {}, {} lines of output",
        report.ending.describe(),
        seconds(report.duration),
        report.output.total_lines
    );
    let tail = report.output.last_lines(3);
    if !tail.is_empty() {
        text.push_str("; last: ");
        text.push_str(&crate::util::sanitize::truncate_marked(&tail.join(" / "), 300));
    }
    text
}
