//! Following files by name, like `tail -F`.
//!
//! One thread follows every file of a set. inotify wakes it when a watched
//! folder changes (see [`super::wake`]); a poll timer wakes it anyway, because
//! network filesystems send no events and inotify can overflow or run out of
//! watches. On each wake every file is checked by name:
//!
//! - another file under the name (rename-and-create, delete-and-recreate):
//!   the old handle is read to its end first, then a `Rotated` marker, then
//!   the new file from its start, so nothing written before the switch is lost;
//! - the same file, now shorter than what was read (copytruncate, truncate):
//!   a `Truncated` marker and reading starts again at 0;
//! - no file: `Missing` until one appears; a folder or an unreadable file: `Failed`;
//! - a FIFO, socket or device: `Failed` ("not a regular file") and never
//!   opened, since opening a FIFO waits for a writer and a device may never
//!   end; a regular file created there later is followed from its start.
//!
//! Files are opened with `O_NONBLOCK` too, so one swapped in between the
//! check and the open cannot block either; reads stop between chunks when the
//! follower is stopped.

use super::split::{LineSplitter, RawLine};
use super::tail::start_of_last_lines;
use super::wake::{self, StopSignal, Wakeup};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Lines are sent in batches of at most this many lines or about this many
/// bytes, so one event stays small: what waits in a bounded channel is bounded
/// in bytes too, and a reader that falls behind holds the follower back
/// instead of making it buffer.
const BATCH_LINES: usize = 2048;
const BATCH_BYTES: usize = 64 * 1024;
const READ_CHUNK: usize = 64 * 1024;

/// A file to follow under a source id shared with other kinds of sources.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub source: usize,
    pub path: PathBuf,
    /// How many lines before the end to start from when the file is first opened.
    pub tail_lines: usize,
    pub max_line_bytes: usize,
}

/// What a source is doing now, for the tab header and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    Live,
    /// The file does not exist (yet, or any more); it is picked up when it appears.
    Missing,
    /// It cannot be read: a folder, no permission, a command that cannot start.
    Failed(String),
    /// A command source that exited; it is restarted after a pause.
    Exited(String),
}

impl SourceState {
    pub fn describe(&self) -> String {
        match self {
            SourceState::Live => "live".into(),
            SourceState::Missing => "missing".into(),
            SourceState::Failed(why) => format!("failed: {why}"),
            SourceState::Exited(why) => format!("exited: {why}"),
        }
    }
}

/// A break in a source's stream, shown as a line of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Another file is now under the name (renamed away, or deleted and recreated).
    Rotated,
    /// The file got shorter than what was read (copytruncate); lines written
    /// between the copy and the truncate may be missing.
    Truncated,
    /// A command source was started again.
    Restarted,
}

impl Marker {
    pub fn describe(self) -> &'static str {
        match self {
            Marker::Rotated => "rotated: following the new file from its start",
            Marker::Truncated => {
                "truncated: reading again from the start (lines between copy and truncate may be lost)"
            }
            Marker::Restarted => "restarted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEvent {
    Lines {
        source: usize,
        lines: Vec<RawLine>,
    },
    /// Whole lines as read, each ending in a newline, cut at `max_line_bytes`
    /// like `Lines` (files followed with [`FollowOptions::raw`]).
    Raw {
        source: usize,
        bytes: Vec<u8>,
    },
    Marker {
        source: usize,
        marker: Marker,
    },
    State {
        source: usize,
        state: SourceState,
    },
    /// Every file has been read to its current end once (the tail is shown).
    CaughtUp,
}

#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// The fallback check interval when no event arrives.
    pub poll: Duration,
    /// Whether to watch folders with inotify at all (off: polling only, as on a network filesystem).
    pub notify: bool,
    /// Send files' lines as blocks of bytes (`FollowEvent::Raw`), for output
    /// that copies them as they are.
    pub raw: bool,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions { poll: Duration::from_millis(500), notify: true, raw: false }
    }
}

/// A running follower; dropping it stops the thread at its next wake-up.
pub struct Follower {
    stop: Arc<AtomicBool>,
    /// Dropped to wake the thread when it should stop.
    signal: Option<StopSignal>,
    thread: Option<JoinHandle<()>>,
}

impl Follower {
    pub fn spawn(
        files: Vec<FileSpec>,
        options: FollowOptions,
        out: SyncSender<FollowEvent>,
    ) -> std::io::Result<Follower> {
        let stop = Arc::new(AtomicBool::new(false));
        let (signal, wakeup) = wake::stop_pair()?;
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("log-follower".into())
            .spawn(move || run(files, options, out, wakeup, thread_stop))?;
        Ok(Follower { stop, signal: Some(signal), thread: Some(thread) })
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.signal_stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn signal_stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.signal = None;
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// The receiver went away: stop following.
struct Closed;

fn run(
    files: Vec<FileSpec>,
    options: FollowOptions,
    out: SyncSender<FollowEvent>,
    mut wakeup: Wakeup,
    stop: Arc<AtomicBool>,
) {
    if options.notify {
        wakeup.watch_folders(&files);
    }
    let mut entries: Vec<Entry> = files.into_iter().map(|spec| Entry::new(spec, &stop, options.raw)).collect();
    let mut first = true;
    loop {
        let started = Instant::now();
        let mut busy = false;
        for entry in &mut entries {
            let checked = match entry {
                Entry::File(file) => file.check(&out),
                Entry::Glob(group) => group.check(&out, first),
            };
            if checked.is_err() || stop.load(Ordering::SeqCst) {
                return;
            }
            busy |= entry.take_busy();
        }
        if first {
            first = false;
            if out.send(FollowEvent::CaughtUp).is_err() {
                return;
            }
        }
        if busy {
            // A log that is being written gathers more lines before the next read.
            wakeup.pause(wake::COALESCE.saturating_sub(started.elapsed()));
        }
        if !stop.load(Ordering::SeqCst) {
            wakeup.wait(options.poll);
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
    }
}

enum Entry {
    File(Tracked),
    Glob(GlobGroup),
}

impl Entry {
    /// Whether it read anything since the last call.
    fn take_busy(&mut self) -> bool {
        match self {
            Entry::File(file) => std::mem::take(&mut file.busy),
            Entry::Glob(group) => {
                // Every member's flag is taken, not only up to the first set one.
                let mut busy = false;
                for member in group.members.values_mut() {
                    busy |= std::mem::take(&mut member.busy);
                }
                busy
            }
        }
    }

    fn new(spec: FileSpec, stop: &Arc<AtomicBool>, raw: bool) -> Entry {
        let pattern = spec.path.file_name().and_then(|n| n.to_str()).filter(|n| is_glob(n)).map(str::to_string);
        match (pattern, spec.path.parent()) {
            (Some(pattern), Some(folder)) => Entry::Glob(GlobGroup {
                folder: if folder.as_os_str().is_empty() { PathBuf::from(".") } else { folder.to_path_buf() },
                pattern,
                spec,
                members: BTreeMap::new(),
                state: None,
                stop: stop.clone(),
                raw,
            }),
            _ => Entry::File(Tracked::new(spec, stop.clone(), raw)),
        }
    }
}

/// Whether a file name holds wildcards (`*`, `?`).
pub fn is_glob(name: &str) -> bool {
    name.contains(['*', '?'])
}

/// Matches a file name against `*` (any run) and `?` (one character).
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The files matching a glob, followed as one source; new matches join as they appear.
struct GlobGroup {
    spec: FileSpec,
    folder: PathBuf,
    pattern: String,
    members: BTreeMap<PathBuf, Tracked>,
    state: Option<SourceState>,
    stop: Arc<AtomicBool>,
    raw: bool,
}

impl GlobGroup {
    fn check(&mut self, out: &SyncSender<FollowEvent>, first: bool) -> Result<(), Closed> {
        let mut names = Vec::new();
        if let Ok(listing) = std::fs::read_dir(&self.folder) {
            for entry in listing.flatten() {
                let name = entry.file_name();
                if let Some(name) = name.to_str()
                    && glob_matches(&self.pattern, name)
                    && !entry.file_type().is_ok_and(|t| t.is_dir())
                {
                    names.push(entry.path());
                }
            }
        }
        for path in names {
            self.members.entry(path.clone()).or_insert_with(|| {
                let mut tracked = Tracked::new(FileSpec { path, ..self.spec.clone() }, self.stop.clone(), self.raw);
                tracked.report_state = false;
                tracked.from_start = !first;
                tracked
            });
        }
        for member in self.members.values_mut() {
            member.check(out)?;
        }
        // A matching file that went away has been read to its end; forget it.
        self.members.retain(|_, member| member.state != Some(SourceState::Missing));
        let state = if self.members.values().any(|m| m.state == Some(SourceState::Live)) {
            SourceState::Live
        } else if let Some(Some(failed)) = self.members.values().map(|m| m.state.clone()).next() {
            failed
        } else {
            SourceState::Missing
        };
        if self.state.as_ref() != Some(&state) {
            self.state = Some(state.clone());
            send(out, FollowEvent::State { source: self.spec.source, state })?;
        }
        Ok(())
    }
}

struct Tracked {
    spec: FileSpec,
    /// Members of a glob report through their group, not one by one.
    report_state: bool,
    /// A file that appeared after the start is read from its beginning, without a marker.
    from_start: bool,
    open: Option<OpenFile>,
    state: Option<SourceState>,
    /// Whether a file was ever seen under the name: a later one is a rotation, read from its start.
    seen: bool,
    /// Whether bytes were read since the loop last asked.
    busy: bool,
    splitter: LineSplitter,
    buffer: Vec<u8>,
    outbox: Outbox,
    /// Set when the follower stops: a long read ends between chunks.
    stop: Arc<AtomicBool>,
}

/// Lines read and not sent yet: `RawLine`s, or (raw) one block of bytes.
struct Outbox {
    source: usize,
    raw: bool,
    lines: Vec<RawLine>,
    /// The bytes in `lines`.
    held: usize,
    bytes: Vec<u8>,
}

impl Outbox {
    fn feed(&mut self, splitter: &mut LineSplitter, chunk: &[u8]) {
        if self.raw {
            splitter.feed_raw(chunk, &mut self.bytes);
        } else {
            splitter.feed(chunk, |line| {
                self.held += line.bytes.len();
                self.lines.push(line);
            });
        }
    }

    fn add(&mut self, line: RawLine) {
        if self.raw {
            self.bytes.extend_from_slice(&line.bytes);
            self.bytes.push(b'\n');
        } else {
            self.held += line.bytes.len();
            self.lines.push(line);
        }
    }

    fn full(&self) -> bool {
        self.lines.len() >= BATCH_LINES || self.held >= BATCH_BYTES || self.bytes.len() >= BATCH_BYTES
    }

    fn send(&mut self, out: &SyncSender<FollowEvent>) -> Result<(), Closed> {
        let source = self.source;
        if !self.lines.is_empty() {
            self.held = 0;
            send(out, FollowEvent::Lines { source, lines: std::mem::take(&mut self.lines) })?;
        }
        if !self.bytes.is_empty() {
            send(out, FollowEvent::Raw { source, bytes: std::mem::take(&mut self.bytes) })?;
        }
        Ok(())
    }
}

struct OpenFile {
    file: File,
    identity: (u64, u64),
    offset: u64,
}

impl Tracked {
    fn new(spec: FileSpec, stop: Arc<AtomicBool>, raw: bool) -> Tracked {
        let splitter = LineSplitter::new(spec.max_line_bytes);
        let outbox = Outbox { source: spec.source, raw, lines: Vec::new(), held: 0, bytes: Vec::new() };
        Tracked {
            spec,
            report_state: true,
            from_start: false,
            open: None,
            state: None,
            seen: false,
            busy: false,
            splitter,
            buffer: vec![0; READ_CHUNK],
            outbox,
            stop,
        }
    }

    fn check(&mut self, out: &SyncSender<FollowEvent>) -> Result<(), Closed> {
        let source = self.spec.source;
        match std::fs::metadata(&self.spec.path) {
            Ok(meta) if meta.is_dir() => {
                self.finish_old(out)?;
                self.set_state(out, SourceState::Failed("is a directory, not a file".into()))
            }
            Ok(meta) if !meta.is_file() => {
                self.finish_old(out)?;
                // Whatever regular file replaces it is new: read it whole.
                self.from_start = true;
                self.set_state(out, SourceState::Failed(not_a_regular_file(&meta.file_type())))
            }
            Ok(meta) => {
                let identity = (meta.dev(), meta.ino());
                let same_file = self.open.as_ref().map(|open| open.identity == identity);
                match same_file {
                    Some(true) => {
                        let shrunk = self.open.as_ref().is_some_and(|open| meta.len() < open.offset);
                        if shrunk {
                            if let Err(err) = self.restart_at_zero() {
                                return self.fail(out, &err);
                            }
                            self.send_unfinished(out)?;
                            send(out, FollowEvent::Marker { source, marker: Marker::Truncated })?;
                        }
                    }
                    Some(false) => {
                        self.finish_old(out)?;
                        send(out, FollowEvent::Marker { source, marker: Marker::Rotated })?;
                        if let Err(err) = self.open_file(false) {
                            return self.fail(out, &err);
                        }
                    }
                    None => {
                        let rotated = self.seen;
                        if let Err(err) = self.open_file(!rotated && !self.from_start) {
                            return self.fail(out, &err);
                        }
                        if rotated {
                            send(out, FollowEvent::Marker { source, marker: Marker::Rotated })?;
                        }
                    }
                }
                self.seen = true;
                self.set_state(out, SourceState::Live)?;
                self.read_available(out)
            }
            Err(err) if err.kind() == ErrorKind::NotFound => {
                self.finish_old(out)?;
                // A file that appears later was written after the start: read it whole.
                self.from_start = true;
                self.set_state(out, SourceState::Missing)
            }
            Err(err) => {
                self.finish_old(out)?;
                self.fail(out, &err)
            }
        }
    }

    fn open_file(&mut self, from_tail: bool) -> std::io::Result<()> {
        // O_NONBLOCK: if a FIFO or device was swapped in since the check, the
        // open returns at once instead of waiting; regular files ignore it.
        let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&self.spec.path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(std::io::Error::other(not_a_regular_file(&meta.file_type())));
        }
        let end = meta.len();
        let offset = if from_tail { start_of_last_lines(&mut file, end, self.spec.tail_lines)? } else { 0 };
        file.seek(SeekFrom::Start(offset))?;
        self.splitter.reset();
        // The identity of what was opened, which may be newer than what the check saw.
        let identity = (meta.dev(), meta.ino());
        self.open = Some(OpenFile { file, identity, offset });
        Ok(())
    }

    fn restart_at_zero(&mut self) -> std::io::Result<()> {
        if let Some(open) = &mut self.open {
            open.file.seek(SeekFrom::Start(0))?;
            open.offset = 0;
        }
        Ok(())
    }

    /// Reads what is left in the file that was under the name, then lets it go.
    fn finish_old(&mut self, out: &SyncSender<FollowEvent>) -> Result<(), Closed> {
        if self.open.is_some() {
            self.read_available(out)?;
            self.send_unfinished(out)?;
            self.open = None;
        }
        Ok(())
    }

    /// Sends the line the file ended in without a newline.
    fn send_unfinished(&mut self, out: &SyncSender<FollowEvent>) -> Result<(), Closed> {
        if let Some(line) = self.splitter.flush() {
            self.outbox.add(line);
        }
        self.outbox.send(out)
    }

    fn read_available(&mut self, out: &SyncSender<FollowEvent>) -> Result<(), Closed> {
        let Some(open) = &mut self.open else { return Ok(()) };
        while !self.stop.load(Ordering::Relaxed) {
            let read = match open.file.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => {
                    let why = err.to_string();
                    self.open = None;
                    self.outbox.send(out)?;
                    return self.set_state(out, SourceState::Failed(why));
                }
            };
            open.offset += read as u64;
            self.busy = true;
            self.outbox.feed(&mut self.splitter, &self.buffer[..read]);
            if self.outbox.full() {
                // Waits here while the reader is behind: nothing more is read until it catches up.
                self.outbox.send(out)?;
            }
        }
        self.outbox.send(out)
    }

    fn fail(&mut self, out: &SyncSender<FollowEvent>, err: &std::io::Error) -> Result<(), Closed> {
        self.open = None;
        let why = match err.kind() {
            ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => err.to_string(),
        };
        self.set_state(out, SourceState::Failed(why))
    }

    fn set_state(&mut self, out: &SyncSender<FollowEvent>, state: SourceState) -> Result<(), Closed> {
        if self.state.as_ref() != Some(&state) {
            self.state = Some(state.clone());
            if self.report_state {
                send(out, FollowEvent::State { source: self.spec.source, state })?;
            }
        }
        Ok(())
    }
}

/// Why a FIFO, socket or device is skipped.
fn not_a_regular_file(kind: &std::fs::FileType) -> String {
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a file"
    };
    format!("not a regular file ({what}); skipped until a regular file is there")
}

fn send(out: &SyncSender<FollowEvent>, event: FollowEvent) -> Result<(), Closed> {
    out.send(event).map_err(|_| Closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_the_shell() {
        assert!(glob_matches("*.log", "app.log"));
        assert!(!glob_matches("*.log", "app.log.1"));
        assert!(glob_matches("app-??.log", "app-01.log"));
        assert!(glob_matches("a*b*c", "axxbyyc"));
        assert!(!glob_matches("a*b*c", "axxbyy"));
        assert!(is_glob("*.log") && !is_glob("app.log"));
    }
}
