//! A program's output as a log source (`kubectl logs -f ...`, `journalctl -f`),
//! started as every firstwatch child is (util::child: its own process group,
//! killed with the thread that started it), and stopped as a whole group.
//!
//! stdout and stderr are both read, line by line with the same cap as files.
//! When the program exits it is started again after a back-off that doubles
//! up to a minute, unless the source is a one-shot (the CLI without --follow).

use super::follow::{FollowEvent, Marker, SourceState};
use super::split::LineSplitter;
use std::io::Read;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub source: usize,
    pub argv: Vec<String>,
    pub max_line_bytes: usize,
    /// Start it again when it exits.
    pub restart: bool,
}

/// A running command source; dropping it kills the program and stops restarts.
pub struct CommandSource {
    child: Arc<Mutex<Option<Child>>>,
    stop: SyncSender<()>,
}

impl CommandSource {
    pub fn spawn(spec: CommandSpec, out: SyncSender<FollowEvent>) -> std::io::Result<CommandSource> {
        let child = Arc::new(Mutex::new(None));
        let (stop, stopped) = sync_channel(1);
        let thread_child = child.clone();
        std::thread::Builder::new()
            .name("log-command".into())
            .spawn(move || supervise(spec, out, thread_child, stopped))?;
        Ok(CommandSource { child, stop })
    }
}

impl Drop for CommandSource {
    fn drop(&mut self) {
        let _ = self.stop.try_send(());
        if let Ok(mut child) = self.child.lock()
            && let Some(child) = child.as_mut()
        {
            // The whole group: `sh -c "tail -f a | grep x"` leaves no tail behind.
            if let Some(group) = crate::util::child::group_of(Some(child.id())) {
                crate::util::child::signal_group(group, nix::sys::signal::Signal::SIGTERM);
            }
            let _ = child.kill();
        }
    }
}

fn supervise(spec: CommandSpec, out: SyncSender<FollowEvent>, slot: Arc<Mutex<Option<Child>>>, stopped: Receiver<()>) {
    let source = spec.source;
    let mut backoff = FIRST_BACKOFF;
    let mut runs = 0u64;
    loop {
        if runs > 0 && out.send(FollowEvent::Marker { source, marker: Marker::Restarted }).is_err() {
            return;
        }
        runs += 1;
        let outcome = run_once(&spec, &out, &slot);
        let state = match outcome {
            Ok(status) => SourceState::Exited(status),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let program = spec.argv.first().map_or("", String::as_str);
                SourceState::Failed(format!("`{program}` is not installed on this host"))
            }
            Err(err) => SourceState::Failed(format!("cannot start `{}`: {err}", spec.argv.join(" "))),
        };
        if out.send(FollowEvent::State { source, state }).is_err() || !spec.restart {
            return;
        }
        match stopped.recv_timeout(backoff) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Runs the program to its end; returns how it exited.
fn run_once(
    spec: &CommandSpec,
    out: &SyncSender<FollowEvent>,
    slot: &Arc<Mutex<Option<Child>>>,
) -> std::io::Result<String> {
    let mut command = crate::util::child::command(&spec.argv).ok_or_else(|| std::io::Error::other("empty command"))?;
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    if let Ok(mut guard) = slot.lock() {
        *guard = Some(child);
    }
    let _ = out.send(FollowEvent::State { source: spec.source, state: SourceState::Live });
    let err_thread = stderr.map(|stderr| {
        let out = out.clone();
        let (source, cap) = (spec.source, spec.max_line_bytes);
        std::thread::spawn(move || pump(stderr, source, cap, &out))
    });
    if let Some(stdout) = stdout {
        pump(stdout, spec.source, spec.max_line_bytes, out);
    }
    if let Some(thread) = err_thread {
        let _ = thread.join();
    }
    let status = slot.lock().ok().and_then(|mut guard| guard.take()).map(|mut child| child.wait());
    Ok(match status {
        Some(Ok(status)) => match status.code() {
            Some(code) => format!("exit status {code}"),
            None => "killed by a signal".to_string(),
        },
        Some(Err(err)) => err.to_string(),
        None => "gone".to_string(),
    })
}

/// Reads a pipe to its end, sending lines as they complete.
fn pump(mut pipe: impl Read, source: usize, cap: usize, out: &SyncSender<FollowEvent>) {
    let mut splitter = LineSplitter::new(cap);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match pipe.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        let mut lines = Vec::new();
        splitter.feed(&buffer[..read], |line| lines.push(line));
        if !lines.is_empty() && out.send(FollowEvent::Lines { source, lines }).is_err() {
            return;
        }
    }
    if let Some(line) = splitter.flush() {
        let _ = out.send(FollowEvent::Lines { source, lines: vec![line] });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `pid` runs (a zombie left for an absent reaper does not count).
    fn running(pid: i32) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.split(") ").nth(1).is_some_and(|rest| !rest.starts_with('Z'))
    }

    #[test]
    fn dropping_the_source_stops_the_programs_whole_group() {
        let (out, events) = sync_channel(64);
        let spec = CommandSpec {
            source: 0,
            argv: vec!["sh".into(), "-c".into(), "sleep 1000 & echo $!; wait".into()],
            max_line_bytes: 4096,
            restart: false,
        };
        let source = CommandSource::spawn(spec, out).unwrap();
        let grandchild = loop {
            match events.recv_timeout(Duration::from_secs(10)).expect("the program's first line") {
                FollowEvent::Lines { lines, .. } => {
                    break String::from_utf8_lossy(&lines[0].bytes).trim().parse::<i32>().unwrap();
                }
                _ => continue,
            }
        };
        assert!(running(grandchild));
        drop(source);
        // The source ends once its program is gone: its final state is the last event.
        while events.recv_timeout(Duration::from_secs(10)).is_ok() {}
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while running(grandchild) {
            assert!(
                std::time::Instant::now() < deadline,
                "the program's background child {grandchild} outlived the source"
            );
            std::thread::yield_now();
        }
    }
}
