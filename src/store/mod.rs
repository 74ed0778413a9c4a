//! The SQLite store: history, audit log and incidents, shared by every
//! firstwatch process on the host.
//!
//! One thread owns the connection; callers send it closures. WAL mode and a
//! busy timeout let two processes write at once without losing a row, and
//! `synchronous = FULL` means a row acknowledged is a row on disk.

mod audit;
pub mod migrations;

pub use audit::{AuditEntry, AuditRow};

use crate::util::perms::{self, SharedGroup};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// File name of the store inside the data dir.
pub const STORE_FILE: &str = "firstwatch.db";

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A handle to the store's owner thread. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    jobs: mpsc::SyncSender<Job>,
    path: PathBuf,
    /// `settings.shared_group`: what else sits beside the store (locks, operation output) is shared alike.
    group: Option<SharedGroup>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use data dir {path}: {reason}\n  hint: set [settings] data_dir to a writable folder")]
    DataDir { path: PathBuf, reason: String },
    #[error(
        "the store {path} is damaged: {reason}\n  firstwatch has not changed it. Move it aside with `firstwatch store move-aside` \
         (it is renamed, never deleted) and start again; the old file stays for inspection."
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error("store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the store thread has stopped")]
    Gone,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, readable by its owner alone.
    pub fn open_in(data_dir: &Path) -> Result<Store, StoreError> {
        Store::open_in_with(data_dir, None)
    }

    /// Opens the store in `data_dir`, shared with `group` when one is given
    /// (files 0660, the folder 2770 so files SQLite adds inherit the group).
    /// A folder that exists is left as it is unless it is to be shared.
    pub fn open_in_with(data_dir: &Path, group: Option<&SharedGroup>) -> Result<Store, StoreError> {
        if group.is_some() || !data_dir.is_dir() {
            perms::private_dir(data_dir, group)
                .map_err(|err| StoreError::DataDir { path: data_dir.to_path_buf(), reason: err.to_string() })?;
        }
        Store::open_with(&data_dir.join(STORE_FILE), group)
    }

    /// Opens the store for a config: `[settings] data_dir` (relative to the config file) or the platform default.
    pub fn for_config(config: &crate::config::Config) -> Result<Store, StoreError> {
        let dir = match &config.settings.data_dir {
            Some(dir) => config.resolve(dir),
            None => default_data_dir().ok_or_else(|| StoreError::DataDir {
                path: PathBuf::from("~"),
                reason: "no home directory to put the store in".into(),
            })?,
        };
        Store::open_in_with(&dir, config.shared_group().as_ref())
    }

    /// Opens the store file at `path`, migrating it to the current schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, None)
    }

    /// Opens the store file at `path`. It holds argv, users, SSH addresses and
    /// incident notes, so the file is created 0600 (0660 for `group`) before
    /// SQLite touches it, and SQLite gives its `-wal` and `-shm` the same mode.
    pub fn open_with(path: &Path, group: Option<&SharedGroup>) -> Result<Store, StoreError> {
        let private = |err: std::io::Error| StoreError::DataDir { path: path.to_path_buf(), reason: err.to_string() };
        // SQLite's locks are POSIX locks, which a process drops when it closes any descriptor of
        // the file; another process that then finds the -shm unlocked resets it under our mapping
        // (SIGBUS, or worse). So an existing store and its sidecars are fixed by path, never opened.
        if path.exists() {
            perms::restrict_path(path, group).map_err(private)?;
        } else {
            perms::private_file(path, group).map_err(private)?;
        }
        // Sidecars left by an older version (created with the umask's mode) are narrowed too.
        for suffix in ["-wal", "-shm"] {
            perms::restrict_path(&side_file(path, suffix), group).map_err(private)?;
        }
        let mut connection = open_migrated(path)?;
        let (jobs, queue) = mpsc::sync_channel::<Job>(256);
        std::thread::Builder::new()
            .name("firstwatch-store".into())
            .spawn(move || {
                for job in queue {
                    job(&mut connection);
                }
            })
            .map_err(|err| StoreError::DataDir { path: path.to_path_buf(), reason: err.to_string() })?;
        Ok(Store { jobs, path: path.to_path_buf(), group: group.cloned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The group the store's files are shared with, if any.
    pub fn shared_group(&self) -> Option<&SharedGroup> {
        self.group.as_ref()
    }

    /// Runs `work` on the store thread and waits for its answer.
    pub fn call<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |connection| {
                let _ = reply.send(work(connection));
            }))
            .map_err(|_| StoreError::Gone)?;
        answer.recv().map_err(|_| StoreError::Gone)?.map_err(StoreError::from)
    }

    /// Like [`Store::call`] but awaits on a tokio task instead of blocking it.
    pub async fn call_async<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.call(work)).await.map_err(|_| StoreError::Gone)?
    }
}

/// Opens and migrates, retrying while another process holds the file.
///
/// The busy timeout covers ordinary reads and writes, but SQLite answers
/// `SQLITE_BUSY` at once (without calling the busy handler) while another
/// connection switches a new file to WAL or recovers its log, so two
/// instances started together must retry the whole opening themselves.
fn open_migrated(path: &Path) -> Result<Connection, StoreError> {
    let deadline = std::time::Instant::now() + OPEN_PATIENCE;
    let mut pause = Duration::from_millis(5);
    loop {
        let attempt = open_connection(path).and_then(|mut connection| {
            migrations::migrate(&mut connection).map(|()| connection).map_err(|err| classify(path, err))
        });
        match attempt {
            Err(StoreError::Sqlite(err)) if is_busy(&err) && std::time::Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// How long opening waits for another process before giving up.
const OPEN_PATIENCE: Duration = Duration::from_secs(10);

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(err.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags).map_err(|err| classify(path, err))?;
    connection.busy_timeout(Duration::from_secs(10)).map_err(|err| classify(path, err))?;
    // journal_mode answers with a row, so it is queried rather than executed.
    let mode: String =
        connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).map_err(|err| classify(path, err))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::DataDir {
            path: path.to_path_buf(),
            reason: format!("the filesystem refused WAL mode (got `{mode}`)"),
        });
    }
    // SQLite's page cache grows to 2 MiB per connection by default as the store is
    // read and written, in a console meant to stay open for weeks; its writes are
    // appends and its reads mostly recent pages, which the OS caches anyway.
    connection
        .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -512;")
        .map_err(|err| classify(path, err))?;
    Ok(connection)
}

/// Tells a damaged file apart from other failures, so the user gets the right advice.
fn classify(path: &Path, err: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match err.sqlite_error_code() {
        Some(DatabaseCorrupt | NotADatabase) => {
            StoreError::Corrupt { path: path.to_path_buf(), reason: err.to_string() }
        }
        Some(
            rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied,
        ) => StoreError::DataDir { path: path.to_path_buf(), reason: err.to_string() },
        _ => StoreError::Sqlite(err),
    }
}

/// Renames a damaged store (and its WAL files) aside; returns the new name.
pub fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let aside = path.with_extension(format!("db.corrupt-{stamp}"));
    std::fs::rename(path, &aside)?;
    for suffix in ["-wal", "-shm"] {
        let side = side_file(path, suffix);
        if side.exists() {
            std::fs::rename(&side, format!("{}{suffix}", aside.display()))?;
        }
    }
    Ok(aside)
}

/// `firstwatch.db-wal` beside `firstwatch.db`.
fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The store's folder: `[settings] data_dir`, else the platform data dir.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "firstwatch").map(|dirs| dirs.data_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_sqlite_is_reported_corrupt_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
        std::fs::write(&path, &garbage).unwrap();
        let err = Store::open(&path).err().expect("must refuse a garbage store");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("move-aside"));
        assert_eq!(std::fs::read(&path).unwrap(), garbage, "the damaged file must not be changed");
        let aside = move_aside(&path).unwrap();
        assert!(aside.exists() && !path.exists());
        Store::open(&path).expect("a fresh store opens after moving the old one aside");
    }

    #[test]
    fn an_unwritable_data_dir_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let err = Store::open_in(&blocker.join("sub")).err().expect("cannot create a dir under a file");
        assert!(matches!(err, StoreError::DataDir { .. }), "{err}");
    }
}
