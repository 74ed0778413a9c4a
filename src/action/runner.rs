//! Runs one command as a real child process: no shell, its own process
//! group, a timeout, cancellation, and output captured within fixed bounds.
//!
//! Stopping is always SIGTERM to the whole group, a grace period, then
//! SIGKILL to the group, so a grandchild started with `&` dies with it.
//! A run may also last until the whole group has ended, not only its leader
//! (an action holds its target until then): what the leader leaves behind
//! gets the rest of the timeout, then is stopped the same way.

use crate::util::sanitize::sanitize;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, watch};

/// Lines longer than this are cut (the rest is counted, not kept).
pub const MAX_LINE: usize = 2048;
/// How many of the last lines are kept for the record.
pub const TAIL_LINES: usize = 200;
/// Time between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(3);
/// After the command exits, how long to keep reading what its leftovers still write.
const DRAIN: Duration = Duration::from_millis(500);
/// Looking for leftovers of a group starts this often and slows down to [`LEFTOVER_POLL_MAX`]:
/// nothing signals that the last member of a group has ended, so it is looked for.
const LEFTOVER_POLL_MIN: Duration = Duration::from_millis(10);
const LEFTOVER_POLL_MAX: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct RunRequest {
    pub argv: Vec<String>,
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
    pub grace: Duration,
    /// The run ends when the command's whole process group has, not only the
    /// command: what it left running gets the rest of `timeout`, then is stopped.
    pub until_group_ends: bool,
}

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    /// Killed by a signal it did not get from us.
    Signalled(i32),
    TimedOut,
    Cancelled,
    FailedToStart(String),
}

impl Ending {
    pub fn succeeded(&self) -> bool {
        *self == Ending::Exited(0)
    }

    /// A word for the audit log and the timeline.
    pub fn event(&self) -> &'static str {
        match self {
            Ending::Exited(0) => "succeeded",
            Ending::Exited(_) | Ending::Signalled(_) => "failed",
            Ending::TimedOut => "timed-out",
            Ending::Cancelled => "cancelled",
            Ending::FailedToStart(_) => "failed-to-start",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Ending::Exited(0) => "exit 0".into(),
            Ending::Exited(code) => format!("exit {code}"),
            Ending::Signalled(signal) => format!("killed by signal {signal}"),
            Ending::TimedOut => "timed out, stopped".into(),
            Ending::Cancelled => "cancelled, stopped".into(),
            Ending::FailedToStart(why) => format!("could not start: {why}"),
        }
    }

    /// The process exit code a CLI passes on: the command's own, or a conventional one.
    pub fn exit_code(&self) -> u8 {
        match self {
            Ending::Exited(code) => u8::try_from(*code).unwrap_or(1),
            Ending::Signalled(signal) => u8::try_from(128 + signal).unwrap_or(1),
            Ending::TimedOut => 124,
            Ending::Cancelled => 130,
            Ending::FailedToStart(_) => 127,
        }
    }
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One sanitised output line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    pub stream: Stream,
    pub text: String,
}

/// The last lines of output, with counts of what was not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    pub tail: VecDeque<OutputLine>,
    pub total_lines: u64,
    pub total_bytes: u64,
    /// Lines that fell out of the tail.
    pub dropped_lines: u64,
    /// Lines cut at [`MAX_LINE`].
    pub cut_lines: u64,
}

impl Captured {
    pub(crate) fn keep(&mut self, line: OutputLine) {
        self.total_lines += 1;
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
            self.dropped_lines += 1;
        }
        self.tail.push_back(line);
    }

    /// The last `n` lines as text, for the audit row.
    pub fn last_lines(&self, n: usize) -> Vec<String> {
        let skip = self.tail.len().saturating_sub(n);
        self.tail.iter().skip(skip).map(|l| l.text.clone()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub ending: Ending,
    pub duration: Duration,
    pub output: Captured,
    /// Processes the command left in its group that were still running at the
    /// timeout or a cancel, and were stopped then (see [`RunRequest::until_group_ends`]).
    pub left_behind: usize,
}

impl RunReport {
    /// "; left 1 process behind; stopped" when leftovers had to be stopped, else nothing.
    pub fn left_behind_note(&self) -> String {
        left_behind_note(self.left_behind)
    }
}

/// "; left N processes behind; stopped" for `processes` leftovers stopped, nothing for none.
pub fn left_behind_note(processes: usize) -> String {
    match processes {
        0 => String::new(),
        1 => "; left 1 process behind; stopped".into(),
        n => format!("; left {n} processes behind; stopped"),
    }
}

/// What happens to a running command besides its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEvent {
    /// It runs as this pid, the leader of its own process group.
    Spawned(u32),
    /// It exited, leaving this many processes in its group; the run waits at most `for_up_to` for them.
    Lingering { processes: usize, for_up_to: Duration },
}

/// Asks a running command to stop. Dropping it does nothing.
#[derive(Debug, Clone)]
pub struct Canceller(watch::Sender<bool>);

/// The running side of a [`Canceller`].
#[derive(Debug, Clone)]
pub struct CancelSignal(watch::Receiver<bool>);

pub fn cancel_pair() -> (Canceller, CancelSignal) {
    let (sender, receiver) = watch::channel(false);
    (Canceller(sender), CancelSignal(receiver))
}

/// Two handles are equal when they control the same run.
impl PartialEq for Canceller {
    fn eq(&self, other: &Self) -> bool {
        self.0.same_channel(&other.0)
    }
}

impl PartialEq for CancelSignal {
    fn eq(&self, other: &Self) -> bool {
        self.0.same_channel(&other.0)
    }
}

impl Canceller {
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}

impl CancelSignal {
    /// A signal that never fires.
    pub fn never() -> CancelSignal {
        let (canceller, signal) = cancel_pair();
        std::mem::forget(canceller);
        signal
    }

    pub async fn fired(&mut self) {
        if self.0.wait_for(|cancelled| *cancelled).await.is_err() {
            // The canceller is gone: nobody can cancel any more.
            std::future::pending::<()>().await;
        }
    }
}

/// Runs `request`, calling `on_line` for every output line as it arrives.
pub async fn run(request: &RunRequest, cancel: CancelSignal, on_line: impl FnMut(&OutputLine)) -> RunReport {
    run_observed(request, cancel, |_| {}, on_line).await
}

/// Like [`run`], and tells `on_event` the child's pid (its process group) once it
/// runs, and when it exited leaving others of its group running.
///
/// The child gets SIGKILL if the thread that started it dies (Linux's parent-death
/// signal), so a supervisor killed outright does not leave its command running.
pub async fn run_observed(
    request: &RunRequest,
    mut cancel: CancelSignal,
    mut on_event: impl FnMut(RunEvent),
    mut on_line: impl FnMut(&OutputLine),
) -> RunReport {
    let started = Instant::now();
    let Some(mut command) = crate::util::child::async_command(&request.argv) else {
        return report(Ending::FailedToStart("empty command".into()), started, Captured::default());
    };
    let program = &request.argv[0];
    command.current_dir(&request.dir).envs(&request.env).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            let why = format!("{program}: {err} (in {})", request.dir.display());
            return report(Ending::FailedToStart(sanitize(why.as_bytes())), started, Captured::default());
        }
    };
    let group = crate::util::child::group_of(child.id());
    if let Some(pid) = child.id() {
        on_event(RunEvent::Spawned(pid));
    }
    // If this future is dropped mid-run (the console quits or its runtime shuts down), the group goes too.
    let mut guard = crate::util::child::GroupGuard::new(group, Duration::from_millis(200));
    let (lines_tx, mut lines) = mpsc::channel::<(OutputLine, usize)>(256);
    let mut readers = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        readers.push(tokio::spawn(read_lines(stdout, Stream::Stdout, lines_tx.clone())));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.push(tokio::spawn(read_lines(stderr, Stream::Stderr, lines_tx.clone())));
    }
    drop(lines_tx);

    let mut captured = Captured::default();
    let mut take = |captured: &mut Captured, (line, bytes): (OutputLine, usize)| {
        captured.total_bytes += bytes as u64;
        if bytes > MAX_LINE + 1 {
            captured.cut_lines += 1;
        }
        on_line(&line);
        captured.keep(line);
    };
    let deadline = tokio::time::sleep(request.timeout);
    tokio::pin!(deadline);
    let mut stopped_by: Option<Ending> = None;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            Some(item) = lines.recv() => take(&mut captured, item),
            () = &mut deadline, if stopped_by.is_none() => {
                stopped_by = Some(Ending::TimedOut);
                break stop(&mut child, group, request.grace).await;
            }
            () = cancel.fired(), if stopped_by.is_none() => {
                stopped_by = Some(Ending::Cancelled);
                break stop(&mut child, group, request.grace).await;
            }
        }
    };
    // The leader exited by itself; what it started in its group is still part of the command.
    let mut left_behind = 0;
    if let (true, None, Some(group)) = (request.until_group_ends, &stopped_by, group) {
        let mut pause = LEFTOVER_POLL_MIN;
        let mut told = false;
        // The next look at the group; output lines do not bring it forward, so a chatty
        // leftover costs one /proc scan per pause, not one per line.
        let mut look = tokio::time::Instant::now();
        loop {
            let processes = crate::util::child::group_members(group);
            if processes == 0 {
                break;
            }
            if !told {
                told = true;
                let for_up_to = deadline.deadline().saturating_duration_since(tokio::time::Instant::now());
                on_event(RunEvent::Lingering { processes, for_up_to });
            }
            look += pause;
            pause = (pause * 2).min(LEFTOVER_POLL_MAX);
            let wait = tokio::time::sleep_until(look);
            tokio::pin!(wait);
            let stop_now = loop {
                tokio::select! {
                    Some(item) = lines.recv() => take(&mut captured, item),
                    () = &mut wait => break None,
                    () = &mut deadline => break Some(Ending::TimedOut),
                    () = cancel.fired() => break Some(Ending::Cancelled),
                }
            };
            if let Some(ending) = stop_now {
                left_behind = processes;
                // A cancel ends the run as cancelled, though the command itself had exited; at
                // the timeout the command's own ending stands, and the note says what was stopped.
                if ending == Ending::Cancelled {
                    stopped_by = Some(ending);
                }
                stop_leftovers(group, request.grace).await;
                break;
            }
        }
    }
    // What is left in the pipes; a leftover that keeps them open is not waited for long.
    let drain = tokio::time::sleep(DRAIN);
    tokio::pin!(drain);
    loop {
        tokio::select! {
            item = lines.recv() => match item {
                Some(item) => take(&mut captured, item),
                None => break,
            },
            () = &mut drain => break,
        }
    }
    for reader in readers {
        reader.abort();
    }
    guard.disarm();
    let ending = match (stopped_by, status) {
        (Some(ending), _) => ending,
        (None, Ok(status)) => exit_ending(status),
        (None, Err(err)) => Ending::FailedToStart(format!("lost track of the process: {err}")),
    };
    RunReport { left_behind, ..report(ending, started, captured) }
}

fn report(ending: Ending, started: Instant, output: Captured) -> RunReport {
    RunReport { ending, duration: started.elapsed(), output, left_behind: 0 }
}

fn exit_ending(status: std::process::ExitStatus) -> Ending {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signalled(signal),
        (None, None) => Ending::Exited(-1),
    }
}

/// SIGTERM to the group, SIGKILL after `grace`; always SIGKILL the group at the end for stragglers.
async fn stop(
    child: &mut tokio::process::Child,
    group: Option<i32>,
    grace: Duration,
) -> std::io::Result<std::process::ExitStatus> {
    use crate::util::child::signal_group as signal;
    use nix::sys::signal::Signal;
    let signal_group = |which: Signal| {
        if let Some(group) = group {
            signal(group, which);
        }
    };
    signal_group(Signal::SIGTERM);
    let status = match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            signal_group(Signal::SIGKILL);
            let _ = child.start_kill();
            child.wait().await
        }
    };
    signal_group(Signal::SIGKILL);
    if let Some(group) = group {
        until_gone(group).await;
    }
    status
}

/// SIGTERM to what is left of a group whose leader has exited, up to `grace`
/// for it to go, then SIGKILL.
async fn stop_leftovers(group: i32, grace: Duration) {
    use crate::util::child::{group_members, signal_group};
    use nix::sys::signal::Signal;
    signal_group(group, Signal::SIGTERM);
    let deadline = tokio::time::Instant::now() + grace;
    let mut pause = LEFTOVER_POLL_MIN;
    while group_members(group) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(tokio::time::Instant::now()))).await;
        pause = (pause * 2).min(LEFTOVER_POLL_MAX);
    }
    // Only while members remain: once the group is empty its id may be reused.
    if group_members(group) > 0 {
        signal_group(group, Signal::SIGKILL);
        until_gone(group).await;
    }
}

/// SIGKILL is delivered asynchronously: wait (briefly) until the group is gone,
/// so "stopped" means no member of it still runs when the caller hears so.
async fn until_gone(group: i32) {
    for _ in 0..50 {
        if crate::util::child::group_members(group) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Splits a stream into lines, cutting each at [`MAX_LINE`] so one endless line cannot grow memory.
async fn read_lines(mut stream: impl AsyncRead + Unpin, which: Stream, lines: mpsc::Sender<(OutputLine, usize)>) {
    let mut buffer = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    let mut line_bytes = 0usize;
    loop {
        let read = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                let text = finish(&line, line_bytes);
                if lines.send((OutputLine { stream: which, text }, line_bytes + 1)).await.is_err() {
                    return;
                }
                line.clear();
                line_bytes = 0;
            } else {
                line_bytes += 1;
                if line.len() <= MAX_LINE {
                    line.push(byte);
                }
            }
        }
    }
    if line_bytes > 0 {
        let text = finish(&line, line_bytes);
        let _ = lines.send((OutputLine { stream: which, text }, line_bytes)).await;
    }
}

/// Sanitises a line; a cut line is marked so nobody mistakes it for the whole.
fn finish(kept: &[u8], total: usize) -> String {
    let kept = kept.strip_suffix(b"\r").unwrap_or(kept);
    if total > MAX_LINE {
        let mut text = sanitize(&kept[..MAX_LINE.min(kept.len())]);
        text.push_str(&format!(" … [{} more bytes]", total - MAX_LINE));
        text
    } else {
        sanitize(kept)
    }
}
