//! What wakes the follower thread: a change in a followed file's folder
//! (inotify), a stop, or the poll timer.
//!
//! inotify is read on the follower's own thread, so a write to a log costs
//! the follower one wake-up, not a hand-off between threads. While a file
//! keeps growing, the follower reads it at most every [`COALESCE`]: a busy
//! log is read in fewer, larger pieces, and a quiet one is still read as soon
//! as it changes.

use super::follow::FileSpec;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::io::{PipeReader, PipeWriter};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The shortest time between two reads of a log that keeps growing.
pub const COALESCE: Duration = Duration::from_millis(10);

/// Wakes the follower for good when dropped (its end of the pipe closes).
pub struct StopSignal {
    _end: PipeWriter,
}

pub struct Wakeup {
    /// Readable (at its end) once the [`StopSignal`] is dropped.
    stop: PipeReader,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    inotify: Option<nix::sys::inotify::Inotify>,
}

/// A stop signal and the wake-up it ends.
pub fn stop_pair() -> std::io::Result<(StopSignal, Wakeup)> {
    let (stop, signal) = std::io::pipe()?;
    Ok((
        StopSignal { _end: signal },
        Wakeup {
            stop,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            inotify: None,
        },
    ))
}

impl Wakeup {
    /// Watches the folders that hold `files`, so writes, creations and renames
    /// wake the follower. Without inotify (another system, or no watches
    /// left) it relies on the poll timer alone; a folder that does not exist
    /// yet is covered by the timer too.
    pub fn watch_folders(&mut self, files: &[FileSpec]) {
        let mut folders: Vec<PathBuf> = files.iter().filter_map(|f| f.path.parent().map(Path::to_path_buf)).collect();
        folders.sort();
        folders.dedup();
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use nix::sys::inotify::{AddWatchFlags as F, InitFlags, Inotify};
            let Ok(inotify) = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) else { return };
            let mask = F::IN_MODIFY
                | F::IN_CREATE
                | F::IN_DELETE
                | F::IN_MOVED_FROM
                | F::IN_MOVED_TO
                | F::IN_ATTRIB
                | F::IN_DELETE_SELF
                | F::IN_MOVE_SELF;
            for folder in folders {
                let folder = if folder.as_os_str().is_empty() { PathBuf::from(".") } else { folder };
                // A folder that cannot be watched is still checked on the timer.
                let _ = inotify.add_watch(&folder, mask);
            }
            self.inotify = Some(inotify);
        }
    }

    /// Waits until a watched folder changes, the follower is stopped, or
    /// `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(inotify) = &self.inotify {
            let mut fds =
                [PollFd::new(self.stop.as_fd(), PollFlags::POLLIN), PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
            // An interrupted wait is a wake-up like any other: every file is checked.
            let _ = poll(&mut fds, PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX));
            // The events only say that something changed; every file is checked
            // anyway. Read before checking, so a change during the check wakes the next wait.
            while inotify.read_events().is_ok_and(|events| !events.is_empty()) {}
            return;
        }
        self.pause(timeout);
    }

    /// Waits `duration` unless stopped first; folder changes meanwhile wake the next [`wait`](Self::wait).
    pub fn pause(&self, duration: Duration) {
        let mut fds = [PollFd::new(self.stop.as_fd(), PollFlags::POLLIN)];
        // Interrupted: the caller checks for a stop and goes on.
        let _ = poll(&mut fds, PollTimeout::try_from(duration).unwrap_or(PollTimeout::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    /// Runs `wait` on another thread; reports when it returns.
    fn waiting(wakeup: Wakeup, wait: fn(&Wakeup)) -> std::sync::mpsc::Receiver<()> {
        let (done, finished) = channel();
        std::thread::spawn(move || {
            wait(&wakeup);
            let _ = done.send(());
        });
        finished
    }

    const LONG: Duration = Duration::from_secs(3600);
    const PATIENCE: Duration = Duration::from_secs(30);

    #[test]
    fn a_stop_ends_a_long_wait_and_a_long_pause() {
        for wait in [|w: &Wakeup| w.wait(LONG), |w: &Wakeup| w.pause(LONG)] {
            let (signal, wakeup) = stop_pair().unwrap();
            let finished = waiting(wakeup, wait);
            drop(signal);
            assert!(finished.recv_timeout(PATIENCE).is_ok(), "still waiting after the stop");
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_write_in_a_watched_folder_ends_a_wait() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let spec = FileSpec { source: 0, path: path.clone(), tail_lines: 0, max_line_bytes: 1024 };
        let (_signal, mut wakeup) = stop_pair().unwrap();
        wakeup.watch_folders(&[spec]);
        std::fs::write(&path, b"written\n").unwrap();
        let finished = waiting(wakeup, |w| w.wait(LONG));
        assert!(finished.recv_timeout(PATIENCE).is_ok(), "a write did not wake the wait");
    }
}
