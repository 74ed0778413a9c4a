//! The supervisor: a small firstwatch process that carries one operation to
//! its end, whatever happens to the terminal that asked for it.
//!
//! The front end starts `firstwatch __supervise` in a session of its own
//! (no controlling terminal, so a hang-up never reaches it), writes the
//! [`Job`] to its stdin, and reads one handshake line from its stdout:
//! `started ID OUTPUT` once the target is locked and the start is audited,
//! or `refused REASON`. After that the supervisor writes only to the output
//! file and the store. It holds the target lock until the command's process
//! group has ended, records exactly one outcome, then watches the service if
//! the action asks for it. SIGTERM means "cancel"; hang-ups and interrupts
//! are ignored. If it is killed outright, the command dies with it (a
//! parent-death signal) and the next firstwatch marks the run abandoned.

use super::confirm;
use super::job::{Body, Job};
use super::output::{OutputWriter, ops_dir};
use super::record::{self, NewOperation, State};
use crate::action::execute::{ActionContext, Attempt, Progress};
use crate::action::runner::{self, Ending, left_behind_note};
use crate::action::{ActionSpec, Verification};
use crate::incident::record::{EventKind, add_to_open};
use crate::store::Store;
use crate::util::identity::Identity;
use crate::util::sanitize::sanitize_str;
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

mod silence;

/// The hidden subcommand that runs a supervisor.
pub const SUPERVISE_ARG: &str = "__supervise";

/// Exit codes the front end passes on when the command succeeded but the service
/// did not come back, or its watch could not tell (`firstwatch action`'s codes).
const EXIT_UNVERIFIED: i32 = crate::action::cli::EXIT_UNVERIFIED as i32;
const EXIT_NOT_VERIFIED: i32 = crate::action::cli::EXIT_NOT_VERIFIED as i32;

/// Entry point of `firstwatch __supervise`.
pub fn main() -> ExitCode {
    let mut handshake = Handshake { sent: false };
    let mut text = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut text) {
        handshake.refuse(&format!("the supervisor could not read its job: {err}"));
        return ExitCode::from(3);
    }
    let job: Job = match serde_json::from_str(&text) {
        Ok(job) => job,
        Err(err) => {
            handshake.refuse(&format!("the supervisor could not read its job: {err}"));
            return ExitCode::from(3);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            handshake.refuse(&format!("the supervisor could not start: {err}"));
            return ExitCode::from(3);
        }
    };
    let code = runtime.block_on(supervise(job, &mut handshake));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The one line the front end waits for; after it, stdout points nowhere.
struct Handshake {
    sent: bool,
}

impl Handshake {
    fn started(&mut self, id: i64, output: &std::path::Path) {
        self.send(&format!("started {id} {}", output.display()));
    }

    fn refuse(&mut self, why: &str) {
        self.send(&format!("refused {}", why.replace('\n', " ")));
    }

    fn send(&mut self, line: &str) {
        if self.sent {
            return;
        }
        self.sent = true;
        let mut stdout = std::io::stdout();
        // The front end may already be gone: the operation goes on regardless.
        let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
        detach_stdout();
    }
}

/// Points stdout at /dev/null, so nothing can block on (or die of) a closed pipe.
fn detach_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto our own stdout descriptor; `null` stays open for the call.
        unsafe {
            libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO);
        }
    }
}

async fn supervise(job: Job, handshake: &mut Handshake) -> i32 {
    ignore_terminal_signals();
    // Verification reads the config's checks; settings.shared_group opens our files to the on-call group.
    let config = job.config_path.as_deref().and_then(|path| crate::config::load(path).ok()).unwrap_or_default();
    let group = config.shared_group();
    let store = match Store::open_with(&job.store_path, group.as_ref()) {
        Ok(store) => store,
        Err(err) => {
            handshake.refuse(&format!("the audit log cannot be opened, so nothing was run: {err}"));
            return 3;
        }
    };
    let mut output = match OutputWriter::create(&ops_dir(&job.store_path), group.as_ref()) {
        Ok(output) => output,
        Err(err) => {
            handshake.refuse(&format!("cannot create the operation's output file: {err}"));
            return 3;
        }
    };
    match job.body.clone() {
        Body::Restore { set, backup, to, forced, force_open } => {
            let restore = RestoreJob { set, backup, to, forced, force_open };
            run_restore(&job, &config, restore, store, &mut output, handshake).await
        }
        Body::Silence { batch } => match batch.into_batch() {
            Ok(batch) => silence::run(&job, &config, silence::Work::Create(batch), store, &mut output, handshake).await,
            Err(why) => {
                handshake.refuse(&why);
                3
            }
        },
        Body::ExpireSilence { expiry } => {
            silence::run(&job, &config, silence::Work::Expire(*expiry), store, &mut output, handshake).await
        }
        Body::Prune { set, backups } => run_prune(&job, &config, set, backups, store, &mut output, handshake).await,
        Body::CreateBackup { set } => run_create(&job, &config, set, store, &mut output, handshake).await,
        Body::RunTask { task } => run_task(&job, &config, task, store, &mut output, handshake).await,
        Body::Action { action, follow_up } => {
            let specs = action.into_spec().and_then(|spec| Ok((spec, follow_up.map(|f| f.into_spec()).transpose()?)));
            match specs {
                Ok((spec, follow_up)) => run_action(&job, config, spec, follow_up, store, &mut output, handshake).await,
                Err(why) => {
                    handshake.refuse(&why);
                    3
                }
            }
        }
    }
}

/// Hang-ups and interrupts are for the terminal the operator sits at, not for us.
fn ignore_terminal_signals() {
    // SAFETY: setting a signal disposition to SIG_IGN before any other thread could rely on it.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Turns SIGTERM into a cancel of the running command.
fn cancel_on_sigterm() -> runner::CancelSignal {
    let (canceller, cancel) = runner::cancel_pair();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terms) => {
            tokio::spawn(async move {
                if terms.recv().await.is_some() {
                    canceller.cancel();
                }
            });
        }
        Err(_) => std::mem::forget(canceller),
    }
    cancel
}

fn state_of(ending: &Ending) -> State {
    match ending {
        Ending::Exited(0) => State::Ok,
        Ending::TimedOut => State::TimedOut,
        Ending::Cancelled => State::Cancelled,
        Ending::Exited(_) | Ending::Signalled(_) | Ending::FailedToStart(_) => State::Failed,
    }
}

async fn run_action(
    job: &Job,
    config: crate::config::Config,
    spec: ActionSpec,
    follow_up_spec: Option<ActionSpec>,
    store: Store,
    output: &mut OutputWriter,
    handshake: &mut Handshake,
) -> i32 {
    // Set once the operation has its row; a newer row on the same target ends our watch.
    let op_id = Arc::new(AtomicI64::new(0));
    let context = ActionContext {
        config: Arc::new(config),
        store: Some(store.clone()),
        who: job.who.clone(),
        grace: Duration::from_millis(job.grace_ms),
        superseded: Some(superseded_by_newer(store.clone(), op_id.clone(), spec.target.clone())),
    };
    let cancel = cancel_on_sigterm();
    let mut id: Option<i64> = None;
    let output_path = output.path().to_path_buf();
    let verifies = spec.verifies();
    let first = confirm::relayed(&spec);
    // An operation nobody can list, follow or cancel does not run.
    let register = |spec: &ActionSpec| {
        let new = new_operation(spec, &output_path, &store);
        let registered = record::insert(&store, new, &job.who).map_err(not_recorded)?;
        op_id.store(registered, Ordering::SeqCst);
        Ok(())
    };
    let attempt = context
        .run_registered(first.clone(), cancel.clone(), register, |progress| {
            match &progress {
                Progress::Started { .. } => {
                    id = Some(op_id.load(Ordering::SeqCst));
                    handshake.started(op_id.load(Ordering::SeqCst), &output_path);
                }
                Progress::Spawned { pid } => {
                    if let Some(id) = id {
                        let _ = record::set_pgid(&store, id, *pid);
                    }
                }
                Progress::Finished { ending, duration, left_behind } => {
                    if let Some(id) = id {
                        let detail = format!(
                            "{} after {:.1} s{}",
                            ending.describe(),
                            duration.as_secs_f64(),
                            left_behind_note(*left_behind)
                        );
                        let exit = i32::from(ending.exit_code());
                        let _ = record::finish(&store, id, state_of(ending), exit, &detail);
                        if verifies && ending.succeeded() {
                            let _ = record::set_verification(&store, id, "watching", None);
                        }
                    }
                }
                Progress::Output(_) | Progress::Verdict { .. } | Progress::Lingering { .. } => {}
            }
            output.progress(&progress);
        })
        .await;
    let follow_up = match &spec.on_failed_verify {
        Some(name) if attempt.verification_failed() => {
            output.follow_up(name);
            let attempt = context
                .run_resolved_follow_up(&first, follow_up_spec, cancel, |progress| output.progress(&progress))
                .await;
            output.note(&format!("{name}: {}", attempt.describe()));
            Some(format!("on_failed_verify `{name}`: {}", attempt.describe()))
        }
        _ => None,
    };
    let code = match &attempt {
        Attempt::Refused(why) => {
            handshake.refuse(why);
            3
        }
        Attempt::DryRun => 0,
        Attempt::Ran { report, verification } => {
            // Zero means verified: a watch that failed, or could not tell, says so in the code.
            let unverified = match verification {
                Some(Verification::Unhealthy(_)) => Some(EXIT_UNVERIFIED),
                Some(Verification::CouldNotVerify(_)) => Some(EXIT_NOT_VERIFIED),
                _ => None,
            };
            let exit = unverified.unwrap_or_else(|| i32::from(report.ending.exit_code()));
            if let (Some(id), Some(verification)) = (id, verification) {
                let mut text = verification.describe();
                if let Some(follow_up) = &follow_up {
                    text.push_str("; ");
                    text.push_str(follow_up);
                }
                output.note(&text);
                let _ = record::set_verification(&store, id, &text, unverified);
            }
            exit
        }
    };
    if let Some(id) = id {
        let _ = record::mark_done(&store, id);
    }
    code
}

/// Why nothing ran when the operation's row could not be written.
fn not_recorded(err: crate::store::StoreError) -> String {
    format!("the operation cannot be recorded, so nothing was run: {err}")
}

/// Lists an operation that runs in this process (a restore, prune, new backup or
/// task) in the operations table. SIGTERM is a cancel from that moment on, since
/// the operation can then be cancelled, and its default would end the supervisor
/// without an outcome; the caller reads the returned stream.
fn register_blocking(
    store: &Store,
    kind: &str,
    name: &str,
    target: String,
    output: &OutputWriter,
    who: &Identity,
) -> Result<(i64, Option<tokio::signal::unix::Signal>), String> {
    let new = NewOperation {
        kind: kind.into(),
        name: name.to_string(),
        target,
        argv: None,
        supervisor_pid: std::process::id(),
        output: output.path().to_path_buf(),
        incident_id: crate::incident::record::open_incident_id(store).ok().flatten(),
    };
    let terms = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let id = record::insert(store, new, who).map_err(not_recorded)?;
    Ok((id, terms))
}

/// Closes the row of an operation that was refused after it was recorded, and tells the front end.
fn refuse_recorded(store: &Store, id: i64, why: &str, handshake: &mut Handshake) -> i32 {
    // The refusal is what the front end hears; a row the store cannot close is closed by the next recovery.
    let _ = record::finish(store, id, State::Refused, 3, why);
    let _ = record::mark_done(store, id);
    handshake.refuse(why);
    3
}

/// Asked before each watch round: has an operation on the same target started since ours?
/// Operation ids only grow, so one that started and ended between two rounds is still seen.
fn superseded_by_newer(store: Store, id: Arc<AtomicI64>, target: String) -> crate::action::execute::SupersededBy {
    Arc::new(move || {
        let id = id.load(Ordering::SeqCst);
        if id == 0 {
            return None;
        }
        let newer = record::newer_on_target(&store, id, &target).ok().flatten()?;
        Some(format!("operation #{} ({}) by {} started", newer.id, newer.name, newer.user))
    })
}

/// The operations row for the action about to start, linked to the open incident if any.
fn new_operation(spec: &ActionSpec, output: &std::path::Path, store: &Store) -> NewOperation {
    NewOperation {
        kind: spec.kind.to_string(),
        name: spec.name.clone(),
        target: spec.target.clone(),
        argv: Some(spec.argv.clone()),
        supervisor_pid: std::process::id(),
        output: output.to_path_buf(),
        incident_id: crate::incident::record::open_incident_id(store).ok().flatten(),
    }
}

/// What a restore job asks for, unpacked from its [`Body`].
struct RestoreJob {
    set: String,
    backup: std::path::PathBuf,
    to: std::path::PathBuf,
    forced: bool,
    force_open: bool,
}

/// Plans the confirmed restore again from the config, takes the target's lock,
/// then restores on a worker thread (SIGTERM cancels it before the swap).
async fn run_restore(
    job: &Job,
    config: &crate::config::Config,
    request: RestoreJob,
    store: Store,
    output: &mut OutputWriter,
    handshake: &mut Handshake,
) -> i32 {
    use crate::backup::{BackupSet, Cancel, listing, restore};
    let now = chrono::Utc::now();
    let Some(set) = BackupSet::all(config).into_iter().find(|s| s.name == request.set) else {
        handshake.refuse(&format!("the backup set `{}` is no longer configured", request.set));
        return 3;
    };
    let Some(entry) = listing::list(&set, now).backups.into_iter().find(|b| b.path == request.backup) else {
        handshake.refuse(&format!("the backup {} is gone", request.backup.display()));
        return 3;
    };
    let mut plan = match restore::plan(&set, &entry, Some(&request.to), now) {
        Ok(plan) => plan,
        Err(err) => {
            handshake.refuse(&err.to_string());
            return 3;
        }
    };
    plan.forced = request.forced;
    plan.force_open = request.force_open;
    let lock = match restore::lock_target(&store, &job.who, &plan) {
        Ok(lock) => lock,
        Err(err) => {
            handshake.refuse(&err.to_string());
            return 3;
        }
    };
    let name = format!("restore {}", plan.set);
    let (id, terms) = match register_blocking(&store, "restore", &name, plan.lock.clone(), output, &job.who) {
        Ok(registered) => registered,
        Err(why) => {
            handshake.refuse(&why);
            return 3;
        }
    };
    // Where it stages, on record before anything is staged: if this supervisor is
    // killed, the next firstwatch to start removes what it left.
    let staging = restore::staging_path(&plan.target);
    let started = record::set_staging(&store, id, Some(staging))
        .map_err(|err| format!("cannot record where the restore stages its files, so nothing was restored: {err}"))
        .and_then(|()| restore::audit_start(&store, &job.who, &plan, &lock).map_err(|err| err.to_string()));
    let started = match started {
        Ok(started) => started,
        Err(why) => return refuse_recorded(&store, id, &why, handshake),
    };
    handshake.started(id, output.path());
    let what = format!("{} from {}", plan.target.display(), plan.backup.path.display());
    add_to_open(&store, EventKind::Action, &format!("{name} started: {what}"), &job.who);
    output.note(&format!("restoring {what}"));

    let cancel = Cancel::new();
    let on_term = cancel.clone();
    if let Some(mut terms) = terms {
        tokio::spawn(async move {
            if terms.recv().await.is_some() {
                on_term.cancel();
            }
        });
    }
    let (worker_store, worker_who) = (store.clone(), job.who.clone());
    let mut worker_output = output.try_clone().ok();
    let work = tokio::task::spawn_blocking(move || {
        let mut last = u64::MAX;
        let mut progress = |done: u64, total: u64| {
            let percent = done.saturating_mul(100) / total.max(1);
            if percent != last {
                last = percent;
                if let Some(output) = worker_output.as_mut() {
                    output.progress_percent(percent);
                }
            }
        };
        let result = restore::run_started(&worker_store, &worker_who, &plan, started, &mut progress, &cancel);
        drop(lock);
        result
    });
    let result = work.await.unwrap_or_else(|err| Err(restore::RestoreError::Target(err.to_string())));
    let (state, exit, detail) = match &result {
        Ok(outcome) => {
            for removed in &outcome.removed_debris {
                output.stderr(&format!("removed {}, left by an interrupted restore", removed.display()));
            }
            output.stdout(&format!("restored {} ({})", outcome.target.display(), outcome.check));
            if let Some(aside) = &outcome.aside {
                output.stdout(&format!("{} {}", outcome.kept_label(), aside.display()));
            }
            for side in &outcome.stale_side_files {
                output.stdout(&format!("old SQLite side file moved to {}", side.display()));
            }
            (State::Ok, 0, format!("restored in {:.1} s", outcome.duration.as_secs_f64()))
        }
        Err(restore::RestoreError::Cancelled) => {
            (State::Cancelled, 130, "cancelled; the target was not changed".into())
        }
        Err(err) => (State::Failed, 1, err.to_string()),
    };
    let _ = record::finish(&store, id, state, exit, &detail);
    let shared = result.as_ref().map_err(ToString::to_string);
    if let Ok(json) = serde_json::to_string(&shared) {
        let _ = record::set_result(&store, id, &json);
    }
    add_to_open(&store, EventKind::ActionOutcome, &format!("{name}: {detail}"), &job.who);
    let _ = record::mark_done(&store, id);
    exit
}

/// Prunes what the operator confirmed and the retention rule still marks, one
/// audited removal at a time (`prune::prune` takes the set's lock).
async fn run_prune(
    job: &Job,
    config: &crate::config::Config,
    set: String,
    shown: Vec<std::path::PathBuf>,
    store: Store,
    output: &mut OutputWriter,
    handshake: &mut Handshake,
) -> i32 {
    use crate::backup::{BackupSet, listing, prune};
    let Some(backup_set) = BackupSet::all(config).into_iter().find(|s| s.name == set) else {
        handshake.refuse(&format!("the backup set `{set}` is no longer configured"));
        return 3;
    };
    // Never more than was shown, and nothing the rule no longer marks (a newer backup may have failed meanwhile).
    let marked: Vec<_> = listing::list(&backup_set, chrono::Utc::now())
        .backups
        .into_iter()
        .filter(|b| b.prune && shown.contains(&b.path))
        .collect();
    let target = format!("backups of {set}");
    let work = move |store: &Store, who: &Identity, output: &mut Option<OutputWriter>, began: &mut dyn FnMut()| {
        let say = |output: &mut Option<OutputWriter>, line: &str, error: bool| {
            if let Some(output) = output.as_mut() {
                if error { output.stderr(line) } else { output.stdout(line) }
            }
        };
        if marked.is_empty() {
            began();
            say(output, "nothing left to prune: the rule no longer marks what was shown", false);
            return (State::Ok, 0, "nothing to prune".to_string());
        }
        match prune::prune_with(&set, &marked, store, who, began) {
            Err(why) => (State::Refused, 3, format!("{why}; nothing was removed")),
            Ok(removals) => {
                let mut failed = 0;
                for removal in &removals {
                    match &removal.result {
                        Ok(()) => say(output, &format!("removed {}", sanitize_str(&removal.name)), false),
                        Err(why) => {
                            failed += 1;
                            say(output, &format!("cannot remove {}: {why}", sanitize_str(&removal.name)), true);
                        }
                    }
                }
                let removed = removals.len() - failed;
                match failed {
                    0 => (State::Ok, 0, format!("removed {removed} backups")),
                    _ => (State::Failed, 1, format!("removed {removed} backups; {failed} could not be removed")),
                }
            }
        }
    };
    let what = ("prune", format!("prune {}", backup_set.name), target);
    run_blocking(job, store, output, handshake, what, None, work).await
}

/// Makes a backup of a set's source (`create::create_audited` takes the set's lock).
async fn run_create(
    job: &Job,
    config: &crate::config::Config,
    set: String,
    store: Store,
    output: &mut OutputWriter,
    handshake: &mut Handshake,
) -> i32 {
    use crate::backup::{BackupSet, create};
    let Some(backup_set) = BackupSet::all(config).into_iter().find(|s| s.name == set) else {
        handshake.refuse(&format!("the backup set `{set}` is no longer configured"));
        return 3;
    };
    let target = backup_set.source.as_ref().map_or_else(|| set.clone(), |p| p.display().to_string());
    let name = format!("create {set}");
    let work = move |store: &Store, who: &Identity, output: &mut Option<OutputWriter>, began: &mut dyn FnMut()| {
        match create::create_audited_with(&backup_set, Some(store), who, began) {
            Ok(created) => {
                if let Some(output) = output.as_mut() {
                    output.stdout(&format!("created {}", created.path.display()));
                    output.stdout(&format!("  {}", sanitize_str(&created.summary)));
                }
                (State::Ok, 0, format!("created {}", created.path.display()))
            }
            Err(why) => (State::Failed, 1, sanitize_str(&why)),
        }
    };
    run_blocking(job, store, output, handshake, ("backup-create", name, target), None, work).await
}

/// Runs a scheduled task now: the task's lock, audit rows and run history as
/// `schedule run` writes them, its output into the operation's file, and
/// SIGTERM (`ops cancel`) stopping its process group.
async fn run_task(
    job: &Job,
    config: &crate::config::Config,
    task: String,
    store: Store,
    output: &mut OutputWriter,
    handshake: &mut Handshake,
) -> i32 {
    use crate::schedule::runner::{Echo, NotRun, run_operation_with};
    let plan = crate::schedule::plan::Plan::from_config(config);
    let Some(command) = plan.task(&task).map(|t| t.command()).filter(|c| !c.argv.is_empty()) else {
        handshake.refuse(&format!("the task `{task}` is no longer configured with a `run` command"));
        return 3;
    };
    let (canceller, cancel) = crate::action::cancel_pair();
    let what = ("task", format!("run {task}"), task.clone());
    let work = move |store: &Store, who: &Identity, output: &mut Option<OutputWriter>, began: &mut dyn FnMut()| {
        let mut lines = output.take();
        let sink = Box::new(move |stream: runner::Stream, text: &str| {
            if let Some(lines) = lines.as_mut() {
                match stream {
                    runner::Stream::Stdout => lines.stdout(text),
                    runner::Stream::Stderr => lines.stderr(text),
                }
            }
        });
        let lock_dir = crate::action::lock::dir_for(Some(store));
        let how = crate::schedule::history::How::Run;
        match run_operation_with(Some(store), &lock_dir, &task, &command, (how, who), Echo::Sink(sink, cancel), began) {
            Err(NotRun::Busy(why)) => (State::Refused, 3, why),
            Err(why) => (State::Refused, 3, why.to_string()),
            Ok(finished) => {
                let state = match finished.exit_code {
                    0 => State::Ok,
                    124 => State::TimedOut,
                    130 => State::Cancelled,
                    _ => State::Failed,
                };
                (state, finished.exit_code, format!("exit {}", finished.exit_code))
            }
        }
    };
    run_blocking(job, store, output, handshake, what, Some(canceller), work).await
}

/// Records an operation, runs `work` on a worker thread and records how it ended.
/// The front end hears that it started only once `work` says it began (its start
/// row is in the audit log); `work` that ends without beginning did nothing and
/// is refused. A SIGTERM (`ops cancel`) fires `cancel` when there is one; otherwise
/// it is noted, not obeyed: a prune or a backup in the making is short and is not
/// left half-done. While an incident is open, its start and outcome go on the timeline.
async fn run_blocking<W>(
    job: &Job,
    store: Store,
    output: &mut OutputWriter,
    handshake: &mut Handshake,
    (kind, name, target): (&str, String, String),
    cancel: Option<crate::action::Canceller>,
    work: W,
) -> i32
where
    W: FnOnce(&Store, &Identity, &mut Option<OutputWriter>, &mut dyn FnMut()) -> (State, i32, String) + Send + 'static,
{
    let (id, terms) = match register_blocking(&store, kind, &name, target, output, &job.who) {
        Ok(registered) => registered,
        Err(why) => {
            handshake.refuse(&why);
            return 3;
        }
    };
    let (worker_store, who) = (store.clone(), job.who.clone());
    let mut worker_output = output.try_clone().ok();
    let (began_tx, began_rx) = tokio::sync::oneshot::channel::<()>();
    let ended = tokio::task::spawn_blocking(move || {
        let mut began_tx = Some(began_tx);
        let mut began = move || {
            if let Some(began) = began_tx.take() {
                let _ = began.send(());
            }
        };
        work(&worker_store, &who, &mut worker_output, &mut began)
    });
    // Dropped unsent when `work` ends without beginning.
    if began_rx.await.is_err() {
        let (_, _, why) = ended.await.unwrap_or_else(|err| (State::Failed, 1, err.to_string()));
        return refuse_recorded(&store, id, &why, handshake);
    }
    handshake.started(id, output.path());
    add_to_open(&store, EventKind::Action, &format!("{name} started"), &job.who);
    if let Some(mut terms) = terms
        && let Ok(mut noted) = output.try_clone()
    {
        tokio::spawn(async move {
            if terms.recv().await.is_some() {
                match cancel {
                    Some(cancel) => {
                        noted.note("cancel asked: stopping its process group");
                        cancel.cancel();
                    }
                    None => noted.note("cancel asked: this operation is not stopped half-way; it ends shortly"),
                }
            }
        });
    }
    let (state, exit, detail) = ended.await.unwrap_or_else(|err| (State::Failed, 1, err.to_string()));
    let _ = record::finish(&store, id, state, exit, &detail);
    add_to_open(&store, EventKind::ActionOutcome, &format!("{name}: {detail}"), &job.who);
    let _ = record::mark_done(&store, id);
    exit
}
