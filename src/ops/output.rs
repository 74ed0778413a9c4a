//! An operation's output file: written by its supervisor, read by anyone who follows it.
//!
//! One line per record, tagged by its first byte: `O` stdout, `E` stderr,
//! `R` a command starting, `F` a follow-up action starting, `P` percent done,
//! `#` any other
//! note from the supervisor. The supervisor holds an exclusive `flock`
//! on the file for as long as it lives, so a reader can tell a running
//! operation from one whose supervisor has gone, whatever happened to it.

use crate::action::execute::{Progress, lingering_line, verdict_line};
use crate::action::runner::{Stream, left_behind_note};
use crate::util::perms::{self, SharedGroup};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The folder beside the store where output files live.
pub fn ops_dir(store_path: &Path) -> PathBuf {
    store_path.parent().map_or_else(|| PathBuf::from("ops"), |dir| dir.join("ops"))
}

/// The supervisor's side: an owner-only file, locked for the supervisor's lifetime.
pub struct OutputWriter {
    file: File,
    path: PathBuf,
}

impl OutputWriter {
    /// Creates a new output file in `dir`, named after the time and the supervisor's pid;
    /// owner-only, or shared with `group` as the store is.
    pub fn create(dir: &Path, group: Option<&SharedGroup>) -> io::Result<OutputWriter> {
        perms::private_dir(dir, group)?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let path = dir.join(format!("{stamp}-{}.log", std::process::id()));
        let file = perms::private_file(&path, group)?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OutputWriter { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A second writer on the same open file (its lock included), for a worker thread.
    pub fn try_clone(&self) -> io::Result<OutputWriter> {
        Ok(OutputWriter { file: self.file.try_clone()?, path: self.path.clone() })
    }

    pub fn stdout(&mut self, text: &str) {
        self.write('O', text);
    }

    pub fn stderr(&mut self, text: &str) {
        self.write('E', text);
    }

    pub fn note(&mut self, text: &str) {
        self.write('#', text);
    }

    /// What a front end shows of the executor's progress: the command, its output, verdicts.
    pub fn progress(&mut self, progress: &Progress) {
        match progress {
            Progress::Started { argv } => self.write('R', argv),
            Progress::Output(line) => match line.stream {
                Stream::Stdout => self.stdout(&line.text),
                Stream::Stderr => self.stderr(&line.text),
            },
            Progress::Verdict { check, healthy, summary } => self.note(&verdict_line(check, *healthy, summary)),
            Progress::Lingering { processes, for_up_to } => self.note(&lingering_line(*processes, *for_up_to)),
            Progress::Finished { left_behind, .. } if *left_behind > 0 => {
                self.note(left_behind_note(*left_behind).trim_start_matches("; "))
            }
            Progress::Spawned { .. } | Progress::Finished { .. } => {}
        }
    }

    /// How far a long in-process operation (a restore) has got.
    pub fn progress_percent(&mut self, percent: u64) {
        self.write('P', &percent.to_string());
    }

    /// A failed watch's `on_failed_verify` action is about to run.
    pub fn follow_up(&mut self, name: &str) {
        self.write('F', name);
    }

    /// One write per line, so a reader never sees half of one from us.
    fn write(&mut self, tag: char, text: &str) {
        let mut line = String::with_capacity(text.len() + 3);
        line.push(tag);
        line.push(' ');
        line.push_str(&text.replace('\n', " "));
        line.push('\n');
        // A full disk must not stop the operation; its audit rows still record the outcome.
        let _ = self.file.write_all(line.as_bytes());
    }
}

/// One line read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Stdout(String),
    Stderr(String),
    /// A command starts: its argv as one line.
    Running(String),
    /// The named `on_failed_verify` action starts after a failed watch.
    FollowUp(String),
    /// Percent done of a long in-process operation.
    Percent(u8),
    Note(String),
}

impl Line {
    fn parse(raw: &str) -> Line {
        let (tag, text) = raw.split_at(raw.len().min(2));
        let text = crate::util::sanitize::sanitize_str(text);
        match tag.trim_end() {
            "O" => Line::Stdout(text),
            "E" => Line::Stderr(text),
            "R" => Line::Running(text),
            "F" => Line::FollowUp(text),
            "P" => text.parse::<u8>().map_or(Line::Note(text), |percent| Line::Percent(percent.min(100))),
            "#" => Line::Note(text),
            _ => Line::Note(crate::util::sanitize::sanitize_str(raw)),
        }
    }

    /// The line as people read it.
    pub fn display(&self) -> String {
        match self {
            Line::Stdout(text) | Line::Stderr(text) | Line::Note(text) => text.clone(),
            Line::Running(argv) => format!("running: {argv}"),
            Line::FollowUp(name) => format!("verification failed: running `{name}` (on_failed_verify)"),
            Line::Percent(percent) => format!("{percent}%"),
        }
    }
}

/// True while the supervisor that writes `path` is alive (it holds the file's lock).
pub fn supervisor_alive(path: &Path) -> bool {
    match File::open(path) {
        Ok(file) => held(&file),
        Err(_) => false,
    }
}

fn held(file: &File) -> bool {
    // SAFETY: flock on a descriptor borrowed for the call; a shared lock taken is released at once.
    unsafe {
        if libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) == 0 {
            libc::flock(file.as_raw_fd(), libc::LOCK_UN);
            false
        } else {
            true
        }
    }
}

/// How often a follower looks for new output: cheap (one read), and soon enough for people.
pub const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Reads `path` from its start and keeps reading until its supervisor is gone.
pub async fn follow(path: &Path, mut on_line: impl FnMut(Line)) -> io::Result<()> {
    let mut file = File::open(path)?;
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut clock = tokio::time::interval(FOLLOW_POLL);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Asked before reading, so nothing written before the supervisor ended is missed.
        let alive = held(&file);
        loop {
            let read = file.read(&mut chunk)?;
            if read == 0 {
                break;
            }
            pending.extend_from_slice(&chunk[..read]);
            let mut start = 0;
            while let Some(end) = memchr::memchr(b'\n', &pending[start..]) {
                on_line(Line::parse(&String::from_utf8_lossy(&pending[start..start + end])));
                start += end + 1;
            }
            pending.drain(..start);
        }
        if !alive {
            if !pending.is_empty() {
                on_line(Line::parse(&String::from_utf8_lossy(&pending)));
            }
            return Ok(());
        }
        clock.tick().await;
    }
}
