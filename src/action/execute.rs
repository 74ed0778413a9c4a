//! Running a confirmed action end to end: lock the target, write the audit
//! row, run the command, write the outcome, then watch the service for the
//! whole `watch` window; if the watch fails, the action's declared
//! `on_failed_verify` follows under the same confirmation.
//! Both the console and `firstwatch action` go through here.

use super::lock::{self, LockError, TargetLock};
use super::runner::{self, CancelSignal, Ending, OutputLine, RunReport, RunRequest};
use super::spec::ActionSpec;
use super::watch::{self, WatchEnd, WatchPlan};
use super::{Confirmed, Refusal};
use crate::config::Config;
use crate::config::units::format_duration;
use crate::incident::record::{self, EventKind};
use crate::store::{AuditEntry, Store};
use crate::util::identity::Identity;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Time between verification rounds while watching a redeployed service.
pub const VERIFY_INTERVAL: Duration = Duration::from_secs(10);
/// The shortest time between rounds, however short the window.
pub const MIN_VERIFY_INTERVAL: Duration = Duration::from_millis(250);

/// Rounds every [`VERIFY_INTERVAL`]; a window under 40 s is still probed five
/// times (at its start, each quarter, and its end).
pub fn watch_interval(window: Duration) -> Duration {
    VERIFY_INTERVAL.min(window / 4).max(MIN_VERIFY_INTERVAL)
}

/// Asked before each watch round: `Some(why)` when a newer operation on the target started.
pub type SupersededBy = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// What every run needs besides the action itself.
#[derive(Clone)]
pub struct ActionContext {
    pub config: Arc<Config>,
    pub store: Option<Store>,
    pub who: Identity,
    /// Time between SIGTERM and SIGKILL when stopping.
    pub grace: Duration,
    /// Lets a caller end a watch early because something newer acted on the target.
    /// Without it a watch still ends when another run takes the target's lock.
    pub superseded: Option<SupersededBy>,
}

/// Reported while an action runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Started {
        argv: String,
    },
    /// The command runs as this pid, the leader of its own process group.
    Spawned {
        pid: u32,
    },
    Output(OutputLine),
    /// The command exited, leaving `processes` of its group running: the run (and the
    /// target's lock) lasts until they end, at most `for_up_to`, then they are stopped.
    Lingering {
        processes: usize,
        for_up_to: Duration,
    },
    Finished {
        ending: Ending,
        duration: Duration,
        /// Processes it left in its group, stopped at the timeout or a cancel.
        left_behind: usize,
    },
    Verdict {
        check: String,
        healthy: Option<bool>,
        summary: String,
    },
}

/// One round of verification as people read it: "verify orders: FAILING: status 503".
pub fn verdict_line(check: &str, healthy: Option<bool>, summary: &str) -> String {
    let state = match healthy {
        Some(true) => "healthy",
        Some(false) => "FAILING",
        None => "cannot verify",
    };
    format!("verify {check}: {state}: {summary}")
}

/// Said when a command exits leaving others of its group running.
pub fn lingering_line(processes: usize, for_up_to: Duration) -> String {
    let them = if processes == 1 { "1 process".to_string() } else { format!("{processes} processes") };
    format!(
        "the command exited, leaving {them} of its group running; the target stays locked until they end \
         (stopped in {} s if they have not)",
        for_up_to.as_secs()
    )
}

/// How verification after a redeploy or rollback came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every round of the whole watch window passed.
    Healthy,
    /// A check failed inside the watch window: which, what it said, and when.
    Unhealthy(String),
    /// A check could not be run at all, or the watch was cancelled before its window ended.
    CouldNotVerify(String),
    /// A newer operation on the target started during the watch, which then stopped.
    Superseded(String),
}

impl Verification {
    pub fn describe(&self) -> String {
        match self {
            Verification::Healthy => "verified: healthy for the whole watch".into(),
            Verification::Unhealthy(why) => format!("verification failed: {why}"),
            Verification::CouldNotVerify(why) => format!("could not verify: {why}"),
            Verification::Superseded(why) => format!("watch superseded: {why}"),
        }
    }

    fn of(end: &WatchEnd) -> Verification {
        match end {
            WatchEnd::Held { .. } => Verification::Healthy,
            WatchEnd::Failed { check, summary, after } => {
                Verification::Unhealthy(format!("{check}: {summary} at T+{}", format_duration(*after)))
            }
            WatchEnd::CouldNotVerify(why) => Verification::CouldNotVerify(why.clone()),
            WatchEnd::Superseded(why) => Verification::Superseded(why.clone()),
            WatchEnd::Cancelled => {
                Verification::CouldNotVerify("the watch was cancelled before its window ended".into())
            }
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
    /// The command succeeded and the watch after it saw the service fail.
    pub fn verification_failed(&self) -> bool {
        matches!(self, Attempt::Ran { verification: Some(Verification::Unhealthy(_)), .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Attempt::Refused(why) => format!("refused: {why}"),
            Attempt::DryRun => "dry run: nothing was run".into(),
            Attempt::Ran { report, verification } => {
                let mut text = format!(
                    "{} after {}{}",
                    report.ending.describe(),
                    seconds(report.duration),
                    report.left_behind_note()
                );
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
        lock::dir_for(self.store.as_ref())
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
    pub async fn run(&self, confirmed: Confirmed, cancel: CancelSignal, progress: impl FnMut(Progress)) -> Attempt {
        self.run_registered(confirmed, cancel, |_| Ok(()), progress).await
    }

    /// [`ActionContext::run`], calling `register` once the target is locked and the
    /// start is audited, before anything runs: a supervisor records the operation
    /// there, and if it cannot (`Err(why)`), nothing runs and the start row gets a
    /// `refused` outcome.
    pub async fn run_registered(
        &self,
        confirmed: Confirmed,
        cancel: CancelSignal,
        register: impl FnOnce(&ActionSpec) -> Result<(), String>,
        mut progress: impl FnMut(Progress),
    ) -> Attempt {
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
        if let Err(why) = register(&spec) {
            let why = format!("not started: {why}");
            // The start row needs its one outcome; if the log cannot take it either, the refusal is still said.
            let _ = self.audit("refused", Some(&spec), Some(why.clone())).await;
            return Attempt::Refused(why);
        }
        // What our lock says about us; another run taking the target writes its own.
        let taken = lock::last_taker(&self.lock_dir(), &spec.target);
        // A notify's message carries the latest entries: its own start would be one of them.
        if spec.notify.is_none() {
            self.timeline(EventKind::Action, format!("{} started: {}", spec.name, spec.argv_line())).await;
        }
        progress(Progress::Started { argv: spec.argv_line() });
        let request = RunRequest {
            argv: spec.argv.clone(),
            dir: spec.dir.clone(),
            env: spec.env.clone(),
            timeout: spec.timeout,
            grace: self.grace,
            // The target stays locked while anything the command started in its group runs.
            until_group_ends: true,
        };
        let hang_up = HangUpRecord { store: self.store.clone(), who: self.who.clone(), spec: Some(spec.clone()) };
        // Both callbacks report through the one `progress`; a mutex (never contended) lets them share it.
        let shared = std::sync::Mutex::new(&mut progress);
        let report = match &spec.notify {
            // A notify action sends where another runs a command; everything around it is the same.
            Some(notify) => {
                let on_line = |line: &runner::OutputLine| report_to(&shared, Progress::Output(line.clone()));
                super::notify::send(notify, spec.timeout, self.store.clone(), cancel.clone(), on_line).await
            }
            None => {
                runner::run_observed(
                    &request,
                    cancel.clone(),
                    |event| match event {
                        runner::RunEvent::Spawned(pid) => report_to(&shared, Progress::Spawned { pid }),
                        runner::RunEvent::Lingering { processes, for_up_to } => {
                            report_to(&shared, Progress::Lingering { processes, for_up_to })
                        }
                    },
                    |line| report_to(&shared, Progress::Output(line.clone())),
                )
                .await
            }
        };
        hang_up.disarm();
        drop(lock);
        let summary = outcome_summary(&report);
        let _ = self.audit(report.ending.event(), Some(&spec), Some(summary.clone())).await;
        if spec.notify.is_some() && report.ending.succeeded() {
            self.timeline(EventKind::Notify, format!("notified stakeholders ({}): {summary}", spec.name)).await;
        } else {
            self.timeline(EventKind::ActionOutcome, format!("{}: {summary}", spec.name)).await;
        }
        progress(Progress::Finished {
            ending: report.ending.clone(),
            duration: report.duration,
            left_behind: report.left_behind,
        });
        let verification = if spec.verifies() && report.ending.succeeded() {
            let end = self.verify(&spec, taken, cancel, &mut progress).await;
            let _ = self.audit("verify", Some(&spec), Some(end.describe())).await;
            self.timeline(EventKind::Verify, format!("{}: {}", spec.name, end.describe())).await;
            Some(Verification::of(&end))
        } else {
            None
        };
        Attempt::Ran { report, verification }
    }

    /// Runs `first`'s declared `on_failed_verify` action through [`ActionContext::run`],
    /// under `first`'s confirmation. Call it when `first`'s attempt
    /// [failed verification](Attempt::verification_failed). Only that one action
    /// runs: the follow-up's own `on_failed_verify` does not, so two actions can
    /// never undo each other in a loop.
    pub async fn run_follow_up(
        &self,
        first: &Confirmed,
        cancel: CancelSignal,
        progress: impl FnMut(Progress),
    ) -> Attempt {
        let spec = first.spec().on_failed_verify.as_deref().and_then(|name| ActionSpec::find(&self.config, name));
        self.run_resolved_follow_up(first, spec, cancel, progress).await
    }

    /// Like [`ActionContext::run_follow_up`] with the follow-up's spec as the
    /// operator was shown it when confirming (a supervisor gets it in its job, so
    /// a config edited since cannot change what runs).
    pub async fn run_resolved_follow_up(
        &self,
        first: &Confirmed,
        spec: Option<ActionSpec>,
        cancel: CancelSignal,
        progress: impl FnMut(Progress),
    ) -> Attempt {
        let Some(name) = first.spec().on_failed_verify.clone() else {
            return Attempt::Refused(format!("`{}` declares no on_failed_verify", first.spec().name));
        };
        let spec = spec.filter(|spec| spec.placeholders().is_empty());
        let Some(confirmed) = spec.as_ref().and_then(|spec| crate::ops::confirm::follow_up(first, spec)) else {
            let why = format!("on_failed_verify `{name}` is not an action that can run by itself");
            // Nothing runs either way; if this row cannot be written the caller still shows the refusal.
            let _ = self.audit("refused", Some(first.spec()), Some(why.clone())).await;
            return Attempt::Refused(why);
        };
        let why = format!("on_failed_verify of `{}`, under its confirmation", first.spec().name);
        // Nothing runs on a confirmation minted here unless why it runs is on record.
        if let Err(err) = self.audit("follow-up", Some(confirmed.spec()), Some(why)).await {
            return Attempt::Refused(format!("not started: the audit log cannot be written ({err})"));
        }
        self.timeline(EventKind::Action, format!("{} failed verification: running {name}", first.spec().name)).await;
        let mut follow_up = self.clone();
        // The follow-up is the newest operation on the target: nothing of the first run supersedes it.
        follow_up.superseded = None;
        follow_up.run(confirmed, cancel, progress).await
    }

    /// Watches the action's checks for its whole `watch` window (see [`watch::watch`]).
    ///
    /// The watch is superseded when the caller's hook says so, or when another run
    /// takes the target's lock after ours (`taken` is what our lock said about us).
    async fn verify(
        &self,
        spec: &ActionSpec,
        taken: Option<String>,
        cancel: CancelSignal,
        progress: &mut impl FnMut(Progress),
    ) -> WatchEnd {
        let plan = WatchPlan { checks: spec.verify.clone(), window: spec.watch, interval: watch_interval(spec.watch) };
        let config = &self.config;
        let probe = move |check: String| async move {
            match crate::health::once::run_check_once(config, &check).await {
                Ok(verdict) => Ok((verdict.healthy, crate::util::sanitize::sanitize_str(&verdict.summary))),
                Err(why) => Err(crate::util::sanitize::sanitize_str(&why)),
            }
        };
        let lock_dir = self.lock_dir();
        let superseded = || {
            if let Some(why) = self.superseded.as_ref().and_then(|hook| hook()) {
                return Some(why);
            }
            let taken = taken.as_ref()?;
            match lock::last_taker(&lock_dir, &spec.target) {
                Some(now) if now.is_empty() => Some(format!("another operation on {} started", spec.target)),
                Some(now) if &now != taken => Some(format!("{now} started")),
                _ => None,
            }
        };
        watch::watch(&plan, probe, superseded, cancel, |round| {
            progress(Progress::Verdict { check: round.check, healthy: round.healthy, summary: round.summary })
        })
        .await
    }
}

fn report_to(shared: &std::sync::Mutex<&mut impl FnMut(Progress)>, progress: Progress) {
    if let Ok(mut report) = shared.lock() {
        report(progress);
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
        "{} after {}{}, {} lines of output",
        report.ending.describe(),
        seconds(report.duration),
        report.left_behind_note(),
        report.output.total_lines
    );
    let tail = report.output.last_lines(3);
    if !tail.is_empty() {
        text.push_str("; last: ");
        text.push_str(&crate::util::sanitize::truncate_marked(&tail.join(" / "), 300));
    }
    text
}
