//! One operator at a time per target: a host-wide `flock` on a file in the
//! data dir. The kernel drops the lock when its holder dies, so a crashed
//! firstwatch never leaves a target locked.
//!
//! The folder and files are the owner's alone (0700, 0600), or shared with
//! `settings.shared_group`; see [`crate::util::perms`].

use crate::util::identity::Identity;
use crate::util::perms::{self, SharedGroup};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

/// Held while an action runs on its target.
#[derive(Debug)]
pub struct TargetLock {
    _lock: Flock<File>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LockError {
    #[error("{target} is busy: {holder}")]
    Held { target: String, holder: String },
    #[error("cannot lock {target}: {reason}")]
    Io { target: String, reason: String },
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
        let path = dir.join(format!("{}.lock", file_name(target)));
        let file = perms::private_file(&path, group).map_err(io)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut lock) => {
                let since = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC");
                let tty = who.tty.as_deref().unwrap_or("no terminal");
                let note = format!("{action} by {} on {tty} (pid {}) since {since}", who.user, std::process::id());
                let _ = lock.set_len(0).and_then(|()| lock.rewind()).and_then(|()| lock.write_all(note.as_bytes()));
                Ok(TargetLock { _lock: lock })
            }
            Err((mut file, errno)) if errno == nix::errno::Errno::EWOULDBLOCK => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = if holder.trim().is_empty() { "held by another firstwatch".into() } else { holder };
                Err(LockError::Held {
                    target: target.to_string(),
                    holder: crate::util::sanitize::sanitize_str(&holder),
                })
            }
            Err((_, errno)) => Err(io(std::io::Error::from(errno))),
        }
    }
}

/// A target name as a safe file name.
fn file_name(target: &str) -> String {
    target.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}
