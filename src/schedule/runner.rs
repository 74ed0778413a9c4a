//! Running a task as a child process and recording it: start before, end after.
//!
//! The start row is written before the child starts, so a run whose recorder
//! is killed still shows as started (and never ended) rather than vanishing.

use super::history::{self, How, NewRun, OUTPUT_TAIL_BYTES};
use crate::store::Store;
use crate::util::identity::Identity;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// What a task runs: its argv, where, and with what added to the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskCommand {
    pub argv: Vec<String>,
    /// The working folder; `None` runs it in firstwatch's own.
    pub dir: Option<PathBuf>,
    /// Set on top of the environment firstwatch was started with.
    pub env: BTreeMap<String, String>,
}

impl TaskCommand {
    /// A command run where firstwatch runs, with its environment (`schedule wrap`).
    pub fn here(argv: &[String]) -> TaskCommand {
        TaskCommand { argv: argv.to_vec(), ..TaskCommand::default() }
    }
}

/// What a recorded run came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// The child's exit code; 128 + N when killed by signal N; 127 when it could not start.
    pub exit_code: i32,
    pub output_tail: String,
    /// The store row, when it could be written.
    pub id: Option<i64>,
    /// Why the run could not be recorded, if it could not (the run itself still happened).
    pub store_error: Option<String>,
}

/// Whether the child's output is passed through to ours as well as kept.
pub enum Echo {
    /// Copy to our stdout/stderr (the CLI; cron mails it as usual).
    PassThrough,
    /// Keep only the tail.
    Quiet,
    /// Hand each line to a sink (a supervisor's output file, followed by the console),
    /// and stop the run when the signal fires (`ops cancel`).
    Sink(LineSink, crate::action::runner::CancelSignal),
}

/// Where [`Echo::Sink`] sends each line of output, with the stream it came on.
pub type LineSink = Box<dyn FnMut(crate::action::runner::Stream, &str) + Send>;

/// Runs `argv` to completion, recording it under `task`. Blocking: call it off the UI thread.
pub fn run_and_record(
    store: Option<&Store>,
    task: &str,
    command: &TaskCommand,
    how: How,
    who: &Identity,
    echo: Echo,
) -> Finished {
    let started = Utc::now();
    let mut store_error = None;
    let id = store.and_then(|store| {
        let run = NewRun {
            task: task.to_string(),
            started,
            ended: None,
            exit_code: None,
            output_tail: None,
            how,
            user: who.user.clone(),
            host: who.host.clone(),
        };
        store.call(move |c| history::insert(c, &run)).map_err(|err| store_error = Some(err.to_string())).ok()
    });
    let (exit_code, output_tail) = run_child(command, echo);
    let ended = Utc::now();
    if let (Some(store), Some(id)) = (store, id) {
        let tail = output_tail.clone();
        if let Err(err) = store.call(move |c| history::finish(c, id, ended, exit_code, Some(&tail))) {
            store_error = Some(err.to_string());
        }
    }
    Finished { started, ended, exit_code, output_tail, id, store_error }
}

/// How long a task may run before its process group is stopped.
pub const TASK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Runs the child through the one child-process runner (own process group, timeout,
/// parent-death signal); returns its exit code and the tail of stdout+stderr.
fn run_child(command: &TaskCommand, echo: Echo) -> (i32, String) {
    use crate::action::runner::{self, Ending, RunRequest, Stream};
    let argv = &command.argv;
    let dir = match &command.dir {
        Some(dir) if !dir.is_dir() => {
            let why = if dir.exists() { "is not a folder" } else { "does not exist" };
            let shown = crate::util::sanitize::sanitize_str(&dir.display().to_string());
            return (127, format!("cannot start: the task's working folder {shown} {why} (its `dir`)"));
        }
        Some(dir) => dir.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| "/".into()),
    };
    let request = RunRequest {
        argv: argv.clone(),
        dir,
        env: command.env.clone(),
        timeout: TASK_TIMEOUT,
        grace: runner::GRACE,
        until_group_ends: false,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return (127, format!("cannot start `{}`: {err}", argv.first().map_or("", String::as_str))),
    };
    let mut tail: Vec<u8> = Vec::new();
    let pass_through = matches!(echo, Echo::PassThrough);
    let (mut sink, cancel) = match echo {
        Echo::Sink(sink, cancel) => (Some(sink), cancel),
        _ => (None, runner::CancelSignal::never()),
    };
    let report = runtime.block_on(runner::run(&request, cancel, |line| {
        if pass_through {
            let _ = match line.stream {
                Stream::Stdout => writeln!(std::io::stdout(), "{}", line.text),
                Stream::Stderr => writeln!(std::io::stderr(), "{}", line.text),
            };
        }
        if let Some(sink) = sink.as_mut() {
            sink(line.stream, &line.text);
        }
        tail.extend_from_slice(line.text.as_bytes());
        tail.push(b'\n');
        let excess = tail.len().saturating_sub(OUTPUT_TAIL_BYTES * 2);
        if excess > 0 {
            tail.drain(..excess);
        }
    }));
    let code = match &report.ending {
        Ending::Exited(code) => *code,
        Ending::Signalled(signal) => 128 + signal,
        Ending::TimedOut => 124,
        Ending::Cancelled => 130,
        Ending::FailedToStart(why) => return (127, format!("cannot start {why}")),
    };
    (code, history::tail_text(&tail))
}

/// Why a task run did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRun {
    #[error("{0}")]
    Busy(String),
    #[error("the audit log cannot be written, so the task was not run: {0}")]
    Audit(String),
}

/// A task run on the one road: the task's lock (so two runs never overlap, from cron
/// or an operator), an audit row before and exactly one after, then the recorded run.
/// Without a store (`schedule wrap` when the store is broken) the job still runs, unaudited:
/// for a cron job, the job matters more than its record.
pub fn run_operation(
    store: Option<&Store>,
    lock_dir: &std::path::Path,
    task: &str,
    command: &TaskCommand,
    how: How,
    who: &Identity,
    echo: Echo,
) -> Result<Finished, NotRun> {
    run_operation_with(store, lock_dir, task, command, (how, who), echo, &mut || {})
}

/// [`run_operation`], calling `on_start` once the start row is written and
/// before the task runs (a supervisor says the run started only then).
pub fn run_operation_with(
    store: Option<&Store>,
    lock_dir: &std::path::Path,
    task: &str,
    command: &TaskCommand,
    (how, who): (How, &Identity),
    echo: Echo,
    on_start: &mut dyn FnMut(),
) -> Result<Finished, NotRun> {
    use crate::action::lock::TargetLock;
    use crate::store::AuditEntry;
    let operation = format!("schedule {} {task}", if how == How::Wrap { "wrap" } else { "run" });
    let audit = |event: &str, detail: Option<String>| -> Result<(), String> {
        let Some(store) = store else { return Ok(()) };
        let entry = AuditEntry {
            event: event.into(),
            action: Some(operation.clone()),
            target: Some(task.to_string()),
            argv: Some(command.argv.clone()),
            incident_id: crate::incident::record::open_incident_id(store).ok().flatten(),
            detail,
        };
        store.audit(entry, who).map(|_| ()).map_err(|err| err.to_string())
    };
    let lock = match TargetLock::acquire_with(lock_dir, task, who, &operation, store.and_then(Store::shared_group)) {
        Ok(lock) => lock,
        Err(err) => {
            let _ = audit("lock-refused", Some(err.to_string()));
            return Err(NotRun::Busy(err.to_string()));
        }
    };
    audit("start", None).map_err(NotRun::Audit)?;
    on_start();
    let mut finished = run_and_record(store, task, command, how, who, echo);
    drop(lock);
    let took = (finished.ended - finished.started).to_std().unwrap_or_default();
    let detail = format!("exit {} after {:.1} s", finished.exit_code, took.as_secs_f64());
    if let Err(err) = audit("end", Some(detail)) {
        finished.store_error.get_or_insert(format!("the outcome is not in the audit log: {err}"));
    }
    Ok(finished)
}
