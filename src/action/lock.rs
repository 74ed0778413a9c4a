//! One operator at a time per target: a host-wide `flock` on
//! `locks/<target>.lock` in the data dir. The kernel drops the lock when its
//! holder dies, so a crashed firstwatch never leaves a target locked.
//!
//! Who holds it is a note beside the lock, `locks/<target>.holder`, that the
//! holder writes once it has the flock: into a temporary file renamed into
//! place, so a reader sees a whole note or none, never a half-written one;
//! the holder removes it before letting go. A refused operator trusts the note
//! only when its pid is the lock's holder (from `/proc/locks`, else any live
//! process), and otherwise looks again for a moment: the holder may not have
//! written its note yet, or a crashed one left a stale note behind.
//!
//! The folder and files are the owner's alone (0700, 0600), or shared with
//! `settings.shared_group`; see [`crate::util::perms`].

use crate::util::identity::Identity;
use crate::util::perms::{self, SharedGroup};
use crate::util::sanitize::sanitize_str;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a refused operator waits for the holder's note before describing the holder from the process table.
const NOTE_PATIENCE: Duration = Duration::from_millis(750);
/// Pause between looks at the note.
const NOTE_POLL: Duration = Duration::from_millis(2);

/// Held while an action runs on its target.
#[derive(Debug)]
pub struct TargetLock {
    note: PathBuf,
    // Declared last: fields drop after `Drop::drop`, so the note is gone before the flock is released.
    _lock: Flock<File>,
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        // Losing this result is harmless: a note left behind names a pid that no longer
        // holds the lock, so readers ignore it, and the next holder renames its own over it.
        let _ = std::fs::remove_file(&self.note);
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LockError {
    #[error("{target} is busy: {holder}")]
    Held { target: String, holder: String },
    #[error("cannot lock {target}: {reason}")]
    Io { target: String, reason: String },
}

/// Who holds a target, as the holder wrote it down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub tty: Option<String>,
    pub ssh_client: Option<String>,
    /// The action's name.
    pub operation: String,
    pub pid: u32,
    pub since: chrono::DateTime<chrono::Utc>,
}

impl Holder {
    fn now(who: &Identity, operation: &str) -> Holder {
        Holder {
            user: who.user.clone(),
            host: who.host.clone(),
            tty: who.tty.clone(),
            ssh_client: who.ssh_client.clone(),
            operation: operation.to_string(),
            pid: std::process::id(),
            since: chrono::Utc::now(),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let from = match (&self.tty, &self.ssh_client) {
            (Some(tty), Some(ssh)) => format!("{tty}, over SSH from {ssh}"),
            (Some(tty), None) => tty.clone(),
            (None, Some(ssh)) => format!("over SSH from {ssh}"),
            (None, None) => "no terminal".to_string(),
        };
        let since = self.since.format("%Y-%m-%d %H:%M:%S UTC");
        write!(f, "{} by {} on {} ({from}), pid {}, since {since}", self.operation, self.user, self.host, self.pid)
    }
}

impl TargetLock {
    /// Takes the lock for `target` without waiting; says who holds it otherwise.
    /// The lock files are the owner's alone.
    pub fn acquire(data_dir: &Path, target: &str, who: &Identity, action: &str) -> Result<TargetLock, LockError> {
        TargetLock::acquire_with(data_dir, target, who, action, None)
    }

    /// Like [`TargetLock::acquire`], with the lock files shared with `group` when one is given.
    pub fn acquire_with(
        data_dir: &Path,
        target: &str,
        who: &Identity,
        action: &str,
        group: Option<&SharedGroup>,
    ) -> Result<TargetLock, LockError> {
        let io = |err: std::io::Error| LockError::Io { target: target.to_string(), reason: err.to_string() };
        let dir = data_dir.join("locks");
        perms::private_dir(&dir, group).map_err(io)?;
        let name = file_name(target);
        let path = dir.join(format!("{name}.lock"));
        let note = dir.join(format!("{name}.holder"));
        let mut file = perms::private_file(&path, group).map_err(io)?;
        let deadline = Instant::now() + NOTE_PATIENCE;
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => {
                    // Older versions wrote their note into the lock file itself; a stale one must not outlive them.
                    if lock.metadata().is_ok_and(|m| m.len() > 0) {
                        lock.set_len(0).map_err(io)?;
                    }
                    // Nobody may hold a target without saying who they are.
                    write_note(&note, &Holder::now(who, action), group).map_err(io)?;
                    return Ok(TargetLock { note, _lock: lock });
                }
                Err((back, errno)) if errno == nix::errno::Errno::EWOULDBLOCK => {
                    let seen = read_note(&note);
                    // /proc/locks lists every lock on the host: read it only when there is a note to
                    // check against it, or at the end to describe a holder that wrote none.
                    let holder_pid = if seen.is_some() || Instant::now() >= deadline {
                        flock_holder(&back)
                    } else {
                        HolderPid::Unlisted
                    };
                    match seen {
                        Some(holder) if is_the_holder(&holder, holder_pid) => {
                            return Err(LockError::Held {
                                target: target.to_string(),
                                holder: sanitize_str(&holder.to_string()),
                            });
                        }
                        seen if Instant::now() >= deadline => {
                            let holder = match (seen, holder_pid) {
                                // The lock's owner could not be told: a note by a live process is the best guess.
                                (Some(note), HolderPid::Unlisted | HolderPid::Unreadable)
                                    if crate::util::process::alive(note.pid) =>
                                {
                                    note.to_string()
                                }
                                (_, holder_pid) => describe_without_note(&back, holder_pid),
                            };
                            return Err(LockError::Held { target: target.to_string(), holder: sanitize_str(&holder) });
                        }
                        // Not written yet, or left by a holder that is gone: look again, and try the lock
                        // again too, as the holder may have let go meanwhile.
                        _ => std::thread::sleep(NOTE_POLL),
                    }
                    file = back;
                }
                Err((_, errno)) => return Err(io(std::io::Error::from(errno))),
            }
        }
    }
}

/// Writes the note whole under a temporary name, then renames it into place.
fn write_note(note: &Path, holder: &Holder, group: Option<&SharedGroup>) -> std::io::Result<()> {
    let text = serde_json::to_string(holder).map_err(std::io::Error::other)?;
    // Only the flock's holder writes, so one temporary name is enough; a crashed holder's leftover goes first.
    let temporary = note.with_extension("holder.tmp");
    match std::fs::remove_file(&temporary) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut file = perms::private_file(&temporary, group)?;
    file.write_all(text.as_bytes())?;
    std::fs::rename(&temporary, note)
}

fn read_note(note: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(note).ok()?;
    serde_json::from_str(&text).ok()
}

/// Who owns a flock, as `/proc/locks` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HolderPid {
    Known(u32),
    /// Readable, but the lock was not in this reading (the list changed while it was read): look again.
    Unlisted,
    /// Not Linux, or no /proc: only a live pid can be asked for.
    Unreadable,
}

/// Whether a note's writer holds the lock now: its pid is the flock's owner in
/// `/proc/locks`, or (where that cannot be read) at least a live process.
fn is_the_holder(holder: &Holder, holder_pid: HolderPid) -> bool {
    match holder_pid {
        HolderPid::Known(pid) => holder.pid == pid,
        HolderPid::Unlisted => false,
        HolderPid::Unreadable => crate::util::process::alive(holder.pid),
    }
}

/// The pid that holds the flock on `file`, from `/proc/locks` (Linux).
fn flock_holder(file: &File) -> HolderPid {
    let (Ok(metadata), Some(locks)) = (file.metadata(), read_proc_locks()) else { return HolderPid::Unreadable };
    find_flock_holder(&locks, metadata.dev(), metadata.ino()).map_or(HolderPid::Unlisted, HolderPid::Known)
}

/// `/proc/locks` in as few reads as possible: the kernel lists it a buffer at a time,
/// and a lock released between two reads shifts the list so that another is skipped.
fn read_proc_locks() -> Option<String> {
    let mut file = File::open("/proc/locks").ok()?;
    let mut bytes = vec![0; 256 * 1024];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            bytes.resize(len * 2, 0);
        }
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    bytes.truncate(len);
    String::from_utf8(bytes).ok()
}

/// Reads lines such as `3: FLOCK  ADVISORY  WRITE 4242 00:2d:1234 0 EOF`
/// (device in hex major:minor, then the inode); waiting locks (`3: -> FLOCK`) are skipped.
fn find_flock_holder(locks: &str, dev: u64, ino: u64) -> Option<u32> {
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) != Some(&"FLOCK") {
            return None;
        }
        let mut id = fields.get(5)?.split(':');
        let line_major = u64::from_str_radix(id.next()?, 16).ok()?;
        let line_minor = u64::from_str_radix(id.next()?, 16).ok()?;
        let line_ino: u64 = id.next()?.parse().ok()?;
        (line_major == major && line_minor == minor && line_ino == ino).then(|| fields[4].parse().ok()).flatten()
    })
}

/// When no trustworthy note appeared: what the lock file itself says (older
/// firstwatch versions wrote their note there), else the holding process.
fn describe_without_note(file: &File, holder_pid: HolderPid) -> String {
    let mut old_note = String::new();
    let mut reader = file;
    if reader.read_to_string(&mut old_note).is_ok() && !old_note.trim().is_empty() {
        return old_note.trim().to_string();
    }
    let HolderPid::Known(pid) = holder_pid else {
        return "held by another firstwatch that has not said who it is (no note, and /proc/locks does not say)".into();
    };
    let process = std::path::PathBuf::from(format!("/proc/{pid}"));
    let user = std::fs::metadata(&process)
        .ok()
        .and_then(|m| nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(m.uid())).ok().flatten())
        .map_or_else(|| "an unknown user".to_string(), |u| u.name);
    let command = std::fs::read(process.join("cmdline"))
        .map(|raw| String::from_utf8_lossy(&raw).split('\0').filter(|a| !a.is_empty()).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let host = crate::util::identity::hostname();
    format!("`{command}` by {user} on {host}, pid {pid} (it left no note saying which action or since when)")
}

/// What the current holder of `target`'s lock says about itself ("roll back orders
/// by bo on bastion (/dev/pts/3), pid 4242, since ..."), read without locking; `None`
/// when nobody holds it (a holder removes its note before letting go).
pub fn last_taker(data_dir: &Path, target: &str) -> Option<String> {
    let note = data_dir.join("locks").join(format!("{}.holder", file_name(target)));
    read_note(&note).map(|holder| crate::util::sanitize::sanitize_str(&holder.to_string()))
}

/// The folder whose `locks/` every firstwatch sharing `store` uses: beside the store, else the temp dir.
pub fn dir_for(store: Option<&crate::store::Store>) -> std::path::PathBuf {
    store.and_then(|s| s.path().parent().map(Path::to_path_buf)).unwrap_or_else(std::env::temp_dir)
}

/// A target name as a safe file name.
fn file_name(target: &str) -> String {
    target.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(user: &str) -> Identity {
        Identity { user: user.into(), host: "bastion".into(), ssh_client: Some("10.1.2.3".into()), tty: None }
    }

    /// A pid that is certainly no process: a child that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn proc_locks_lines_are_matched_by_device_and_inode() {
        let dev = nix::sys::stat::makedev(0x103, 0x2d);
        let locks = "1: POSIX  ADVISORY  WRITE 99 103:2d:77 0 EOF\n\
                     2: FLOCK  ADVISORY  WRITE 4242 103:2d:77 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 555 103:2d:77 0 EOF\n\
                     3: FLOCK  ADVISORY  WRITE 7 103:2d:78 0 EOF\n";
        assert_eq!(find_flock_holder(locks, dev, 77), Some(4242));
        assert_eq!(find_flock_holder(locks, dev, 78), Some(7));
        assert_eq!(find_flock_holder(locks, dev, 79), None);
    }

    #[test]
    fn a_stale_note_is_never_taken_for_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("locks");
        std::fs::create_dir_all(&locks).unwrap();
        // A crashed holder's note, and a live process that is not the holder (pid 1) in another.
        let ghost = Holder { pid: dead_pid(), ..Holder::now(&who("ghost"), "old run") };
        write_note(&locks.join("orders.holder"), &ghost, None).unwrap();
        // The new holder has the flock but has not written its note yet.
        let file = perms::private_file(&locks.join("orders.lock"), None).unwrap();
        let held = Flock::lock(file, FlockArg::LockExclusiveNonblock).unwrap();
        let acquirer = std::thread::spawn({
            let data = dir.path().to_path_buf();
            move || TargetLock::acquire(&data, "orders", &who("bo"), "roll back orders")
        });
        let mine = Holder::now(&who("ana"), "redeploy orders");
        write_note(&locks.join("orders.holder"), &mine, None).unwrap();
        match acquirer.join().unwrap() {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.contains("redeploy orders by ana"), "{holder}");
                assert!(!holder.contains("ghost"), "{holder}");
            }
            other => panic!("{other:?}"),
        }

        if flock_holder(&held) != HolderPid::Unreadable {
            let impostor = Holder { pid: 1, ..Holder::now(&who("impostor"), "not mine") };
            write_note(&locks.join("orders.holder"), &impostor, None).unwrap();
            let Err(LockError::Held { holder, .. }) = TargetLock::acquire(dir.path(), "orders", &who("bo"), "x") else {
                panic!("must be refused")
            };
            assert!(
                !holder.contains("impostor") && holder.contains(&format!("pid {}", std::process::id())),
                "{holder}"
            );
        }
        drop(held);
        let lock = TargetLock::acquire(dir.path(), "orders", &who("bo"), "roll back orders").unwrap();
        assert!(read_note(&locks.join("orders.holder")).is_some_and(|h| h.user == "bo"));
        drop(lock);
        assert!(!locks.join("orders.holder").exists(), "the note goes with the lock");
    }
}
