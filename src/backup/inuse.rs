//! Whether other processes have a database open, and the database's own lock
//! for the moment it is replaced.
//!
//! A restore renames the new file over the old one. A process that has the old
//! one open keeps writing to it, unseen, and everything it commits from then on
//! is lost. So a restore over a database that another process holds (the file
//! or its `-wal`/`-shm`) is refused unless the user says otherwise, and while
//! the file is swapped the restore holds SQLite's write lock so that no
//! connection commits in between.

use super::restore::RestoreError;
use crate::util::sanitize::sanitize_str;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a restore waits for a writer to finish before it gives up.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(5);

/// A process that has a file open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// Its name as the kernel knows it (`/proc/PID/comm`).
    pub command: String,
}

/// The database at `target` and its WAL side files.
fn database_files(target: &Path) -> Vec<PathBuf> {
    let mut files = vec![target.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        files.push(PathBuf::from(side));
    }
    files
}

/// Processes other than this one that have any of `paths` open, read from
/// `/proc/*/fd`. Processes this user may not look into are not seen.
pub fn holders(paths: &[PathBuf]) -> Vec<Holder> {
    let wanted: Vec<PathBuf> = paths.iter().filter_map(|path| std::fs::canonicalize(path).ok()).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let me = std::process::id();
    let Ok(processes) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut found = Vec::new();
    for process in processes.flatten() {
        let Some(pid) = process.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        // Gone already, or someone else's process: nothing to learn.
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else { continue };
        let holds = fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|open| wanted.contains(&open)));
        if holds {
            let command = std::fs::read_to_string(process.path().join("comm"))
                .map(|comm| comm.trim_end().to_string())
                .unwrap_or_else(|_| "?".into());
            found.push(Holder { pid, command });
        }
    }
    found.sort_by_key(|holder| holder.pid);
    found
}

/// Processes other than this one that have the database at `target`, or its `-wal`/`-shm`, open.
pub fn database_holders(target: &Path) -> Vec<Holder> {
    holders(&database_files(target))
}

/// `pid 4242 (app), pid 4243 (worker)`.
pub fn describe(holders: &[Holder]) -> String {
    holders.iter().map(|h| format!("pid {} ({})", h.pid, sanitize_str(&h.command))).collect::<Vec<_>>().join(", ")
}

fn shown(path: &Path) -> String {
    sanitize_str(&path.display().to_string())
}

/// Looks taken before a process counts as holding the database, and the pause between them.
const LOOKS: usize = 3;
const LOOK_PAUSE: Duration = Duration::from_millis(25);

/// Processes that hold the database at `target` on every one of a few looks.
///
/// A process that forks copies every descriptor its parent has open until it
/// execs its program a moment later: seen once, it would read as a holder of
/// whatever its parent had open. A real holder is still there on the next look.
pub fn lasting_database_holders(target: &Path) -> Vec<Holder> {
    seen_on_every_look(|| database_holders(target), LOOK_PAUSE)
}

fn seen_on_every_look(mut look: impl FnMut() -> Vec<Holder>, pause: Duration) -> Vec<Holder> {
    let mut holders = look();
    for _ in 1..LOOKS {
        if holders.is_empty() {
            break;
        }
        std::thread::sleep(pause);
        let again = look();
        holders.retain(|holder| again.contains(holder));
    }
    holders
}

/// Refuses a restore over a database that other processes have open.
pub(crate) fn refuse_if_open(target: &Path) -> Result<(), RestoreError> {
    let holders = lasting_database_holders(target);
    if holders.is_empty() {
        return Ok(());
    }
    let who = if holders.len() == 1 { "another process" } else { "other processes" };
    Err(RestoreError::Target(format!(
        "{} is open in {who}: {}. Restoring now would swap the file under them, and whatever they write from \
         here on would be lost. Stop them first (stop the service that uses the database), then run the restore \
         again; or pass --force-open to restore under them anyway. The target was not changed",
        shown(target),
        describe(&holders)
    )))
}

/// SQLite's write lock on a database, held until this is dropped.
///
/// `BEGIN IMMEDIATE` rather than `BEGIN EXCLUSIVE`: both stop every other
/// connection from committing, and in WAL mode they are the same lock, but in
/// rollback-journal mode EXCLUSIVE also shuts out readers, among them the
/// connection that snapshots the current database before it is replaced.
pub(crate) struct DbLock {
    connection: Connection,
}

impl DbLock {
    /// Takes the write lock of the database at `target`, waiting up to [`LOCK_WAIT`].
    /// `Ok(None)`: SQLite cannot read the file as a database (nothing writes to it)
    /// or may not write to it (so neither may anyone else without root).
    pub(crate) fn take(target: &Path) -> Result<Option<DbLock>, RestoreError> {
        let failed = |err: rusqlite::Error| {
            RestoreError::Target(format!(
                "cannot lock the database {} before replacing it: {}; the target was not changed",
                shown(target),
                sanitize_str(&err.to_string())
            ))
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(target, flags).map_err(failed)?;
        // Closed after the swap, this connection must not checkpoint or delete `-wal`/`-shm`
        // by name: by then those names may belong to the restored database.
        connection.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).map_err(failed)?;
        connection.busy_timeout(LOCK_WAIT).map_err(failed)?;
        match connection.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => Ok(Some(DbLock { connection })),
            Err(err) => match err.sqlite_error_code() {
                Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt | ErrorCode::ReadOnly) => Ok(None),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                    let holders = database_holders(target);
                    let who = if holders.is_empty() { String::new() } else { format!(" ({})", describe(&holders)) };
                    Err(RestoreError::Target(format!(
                        "cannot take the write lock of {} within {} s: another connection{who} is in the middle \
                         of writing to it. Let it finish or stop it, then run the restore again. The target was \
                         not changed",
                        shown(target),
                        LOCK_WAIT.as_secs()
                    )))
                }
                _ => Err(failed(err)),
            },
        }
    }
}

impl Drop for DbLock {
    fn drop(&mut self) {
        // Nothing was written in this transaction: rolling back only lets go of the lock,
        // and closing the connection would do the same if this failed.
        let _ = self.connection.execute_batch("ROLLBACK");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(pid: u32) -> Holder {
        Holder { pid, command: format!("p{pid}") }
    }

    #[test]
    fn a_process_seen_on_one_look_only_is_no_holder() {
        // Pid 7 is a fork that execs before the second look; pid 9 holds throughout.
        let mut looks = vec![vec![holder(7), holder(9)], vec![holder(9)], vec![holder(9)]].into_iter();
        let lasting = seen_on_every_look(|| looks.next().unwrap_or_default(), Duration::ZERO);
        assert_eq!(lasting, [holder(9)]);
        assert_eq!(looks.len(), 0, "every look was taken while a holder remained");

        let mut calls = 0;
        assert!(
            seen_on_every_look(
                || {
                    calls += 1;
                    Vec::new()
                },
                Duration::ZERO
            )
            .is_empty()
        );
        assert_eq!(calls, 1, "nobody on the first look: no second one");
    }
}
