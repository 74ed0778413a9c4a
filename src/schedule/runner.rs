//! Running a task as a child process and recording it: start before, end after.
//!
//! The start row is written before the child starts, so a run whose recorder
//! is killed still shows as started (and never ended) rather than vanishing.

use super::history::{self, How, NewRun, OUTPUT_TAIL_BYTES};
use crate::store::Store;
use crate::util::identity::Identity;
use chrono::{DateTime, Utc};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Copy to our stdout/stderr (the CLI; cron mails it as usual).
    PassThrough,
    /// Keep only the tail (the console, where output would garble the screen).
    Quiet,
}

/// Runs `argv` to completion, recording it under `task`. Blocking: call it off the UI thread.
pub fn run_and_record(
    store: Option<&Store>,
    task: &str,
    argv: &[String],
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
    let (exit_code, output_tail) = run_child(argv, echo);
    let ended = Utc::now();
    if let (Some(store), Some(id)) = (store, id) {
        let tail = output_tail.clone();
        if let Err(err) = store.call(move |c| history::finish(c, id, ended, exit_code, Some(&tail))) {
            store_error = Some(err.to_string());
        }
    }
    Finished { started, ended, exit_code, output_tail, id, store_error }
}

/// Runs the child with its output piped; returns its exit code and the tail of stdout+stderr.
fn run_child(argv: &[String], echo: Echo) -> (i32, String) {
    let Some((program, args)) = argv.split_first() else {
        return (127, "no command to run".into());
    };
    let stdin = if echo == Echo::PassThrough { Stdio::inherit() } else { Stdio::null() };
    let child = Command::new(program).args(args).stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => return (127, format!("cannot start `{program}`: {err}")),
    };
    let tail = Arc::new(Mutex::new(Vec::<u8>::new()));
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(copy_tail(stdout, Arc::clone(&tail), (echo == Echo::PassThrough).then_some(false)));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(copy_tail(stderr, Arc::clone(&tail), (echo == Echo::PassThrough).then_some(true)));
    }
    let status = child.wait();
    for reader in readers {
        let _ = reader.join();
    }
    let bytes = tail.lock().map(|bytes| bytes.clone()).unwrap_or_default();
    let code = match status {
        Ok(status) => exit_code(status),
        Err(err) => return (127, format!("lost track of `{program}`: {err}")),
    };
    (code, history::tail_text(&bytes))
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|signal| 128 + signal)).unwrap_or(1)
}

/// Copies a pipe into the shared tail (trimmed to size) and, if asked, to our stdout (false) or stderr (true).
fn copy_tail(
    mut pipe: impl Read + Send + 'static,
    tail: Arc<Mutex<Vec<u8>>>,
    echo_to_stderr: Option<bool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            let read = match pipe.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            let chunk = &buffer[..read];
            match echo_to_stderr {
                Some(true) => {
                    let _ = std::io::stderr().write_all(chunk);
                }
                Some(false) => {
                    let _ = std::io::stdout().write_all(chunk);
                }
                None => {}
            }
            if let Ok(mut kept) = tail.lock() {
                kept.extend_from_slice(chunk);
                let excess = kept.len().saturating_sub(OUTPUT_TAIL_BYTES * 2);
                if excess > 0 {
                    kept.drain(..excess);
                }
            }
        }
    })
}
