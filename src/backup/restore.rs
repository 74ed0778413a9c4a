//! Restoring a backup over its target so that, at every instant, the target
//! is either the complete old one or the complete new one, and the old one is
//! never lost.
//!
//! Files are written to a staging file in the target's folder, synced, checked
//! (SQLite: integrity check) and renamed over the target. Archives and folders
//! are unpacked into a staging folder beside the target and swapped in (an
//! atomic exchange on Linux), or with `restore_mode = "overlay"`, their entries are
//! moved over the target one by one (see `restore_overlay`). Staging entries are named
//! `.<target name>.firstwatch-restore-<pid>-<random>`, so what a killed restore
//! leaves is recognised and cleared ([`sweep_debris`]). Before the swap the
//! current target is kept as `<target>.before-restore-<time>`, or with `-2`,
//! `-3` ... when that name is taken: a name is taken atomically and nothing is
//! ever written over an existing path. SQLite is kept through the online backup
//! API while the restore holds the database's write lock, never as a byte copy
//! of a live file, and a database other processes have open is not replaced
//! unless the user says so.

use super::progress::{Cancel, Capped, Progress, Tracked};
pub use super::restore_overlay::preview_overlay;
use super::restore_overlay::{self, OverlayPreview, kept_words};
use super::unpack::sync_dir;
use super::verify::{self, BUFFER, CheckOptions, Failure, Limited};
use super::{BackupEntry, BackupSet, human_age, human_bytes, inuse, swap, unpack};
use crate::action::lock::TargetLock;
use crate::config::{BackupFormat, RestoreMode};
use crate::store::{AuditEntry, Store};
use crate::util::identity::Identity;
use chrono::{DateTime, Utc};
use flate2::read::MultiGzDecoder;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Everything a restore will do, shown to the user before they confirm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub set: String,
    pub backup: BackupEntry,
    pub format: BackupFormat,
    pub target: PathBuf,
    /// What is at the target now (`None`: nothing, the restore creates it).
    pub current: Option<TargetState>,
    /// Where the current target will be kept: this name, or when it is taken by
    /// the time of the swap, the first free one of `-2`, `-3` ... after it.
    pub aside: PathBuf,
    #[serde(skip)]
    pub check: CheckOptions,
    /// The user chose to restore a backup that failed verification.
    pub forced: bool,
    /// The user chose to replace a database that other processes have open.
    pub force_open: bool,
    /// Unpack setuid/setgid/sticky/world-write bits and owners as the archive records them.
    pub preserve_permissions: bool,
    /// The host-wide lock the restore holds: the set's `target` (shared with actions), else the path.
    pub lock: String,
    /// Trees: swap the whole folder, or write the backup's files over it (`restore_mode`).
    pub mode: RestoreMode,
    /// For an overlay onto an existing folder, what it would replace ([`preview_overlay`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlay: Option<Result<OverlayPreview, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetState {
    pub is_dir: bool,
    pub size_bytes: u64,
    pub modified: Option<DateTime<Utc>>,
}

/// What a finished restore did. A supervisor hands it back to its front end as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Outcome {
    pub target: PathBuf,
    /// Where the previous target was kept (the name actually taken).
    pub aside: Option<PathBuf>,
    /// How the previous target was secured ("online backup", "copy", "moved").
    pub secured_by: Option<String>,
    /// SQLite side files of the old database, moved aside so they cannot be replayed onto the new one.
    pub stale_side_files: Vec<PathBuf>,
    /// Staging files and folders of killed restores of this target, removed first.
    pub removed_debris: Vec<PathBuf>,
    /// An overlay: the paths (relative to the target) it replaced, kept under `aside`.
    #[serde(default)]
    pub replaced: Vec<PathBuf>,
    #[serde(default)]
    pub mode: RestoreMode,
    pub bytes: u64,
    /// How long the restore took (RTO).
    pub duration: Duration,
    /// What the check of the restored target said.
    pub check: String,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum RestoreError {
    #[error("backup set `{set}` has no restore_to; pass --to PATH or set restore_to in the config")]
    NoTarget { set: String },
    #[error("the backup failed its check, so the target was not touched: {0}")]
    Backup(String),
    #[error("{0}")]
    Target(String),
    /// Failed before anything at the target changed.
    #[error("{step}: {reason}; the target was not changed")]
    Io { step: &'static str, reason: String },
    /// Failed part way through a swap; the message says where each copy is.
    #[error("{0}")]
    Swap(String),
    #[error("cancelled; the target was not changed")]
    Cancelled,
    #[error("cannot write the audit log, so nothing was restored: {0}")]
    Audit(String),
    #[error("{0}; nothing was restored")]
    Busy(String),
}

impl From<Failure> for RestoreError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Cancelled => RestoreError::Cancelled,
            Failure::Corrupt(reason) => RestoreError::Backup(reason),
            Failure::NoRoom(reason) => RestoreError::Target(format!("{reason}; the target was not changed")),
        }
    }
}

fn io_step(step: &'static str) -> impl Fn(io::Error) -> RestoreError {
    move |err| {
        if super::progress::is_cancelled(&err) {
            RestoreError::Cancelled
        } else {
            RestoreError::Io { step, reason: err.to_string() }
        }
    }
}

/// Works out where `backup` of `set` would go (`to` overrides the set's `restore_to`).
pub fn plan(
    set: &BackupSet,
    backup: &BackupEntry,
    to: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<Plan, RestoreError> {
    let typed = to
        .map(Path::to_path_buf)
        .or_else(|| set.restore_to.clone())
        .ok_or_else(|| RestoreError::NoTarget { set: set.name.clone() })?;
    let parent = parent_of(&typed);
    if !parent.is_dir() {
        return Err(RestoreError::Target(format!("the target's folder {} does not exist", parent.display())));
    }
    let target = canonical_target(&typed);
    let current = std::fs::symlink_metadata(&target).ok().map(|metadata| TargetState {
        is_dir: metadata.is_dir(),
        size_bytes: if metadata.is_dir() { 0 } else { metadata.len() },
        modified: metadata.modified().ok().map(DateTime::from),
    });
    if let Some(current) = &current
        && current.is_dir != set.format.restores_a_tree()
    {
        let (is, wants) = if current.is_dir { ("a folder", "a file") } else { ("a file", "a folder") };
        return Err(RestoreError::Target(format!(
            "the target {} is {is}, but a {} backup restores {wants}",
            target.display(),
            set.format
        )));
    }
    let aside = PathBuf::from(format!("{}.before-restore-{}", target.display(), now.format("%Y%m%dT%H%M%SZ")));
    Ok(Plan {
        set: set.name.clone(),
        backup: backup.clone(),
        format: set.format,
        current,
        aside,
        check: set.check.clone(),
        forced: false,
        force_open: false,
        preserve_permissions: set.preserve_permissions,
        lock: set.target.clone().unwrap_or_else(|| target.display().to_string()),
        mode: if set.format.restores_a_tree() { set.restore_mode } else { RestoreMode::Replace },
        overlay: None,
        target,
    })
}

/// One name for one place, however it was typed (`./app.db`, `/srv/../srv/app.db`
/// or through a linked folder): the target's folder resolved, then its own name.
/// The target itself may not exist yet, and if it is a link it is the link that
/// is replaced, so its last part is kept as it is. The lock, the audit rows and
/// the record of where staging goes all use this name.
fn canonical_target(target: &Path) -> PathBuf {
    match (std::fs::canonicalize(parent_of(target)), target.file_name()) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => target.to_path_buf(),
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Carries out `plan`. Nothing at the target changes until the new content is complete and checked.
pub fn restore(plan: &Plan, progress: &mut dyn Progress, cancel: &Cancel) -> Result<Outcome, RestoreError> {
    let started = Instant::now();
    let removed_debris = sweep_debris(&plan.target);
    let mut outcome = if plan.format.restores_a_tree() {
        restore_tree(plan, progress, cancel)?
    } else {
        restore_file(plan, progress, cancel)?
    };
    outcome.removed_debris = removed_debris;
    outcome.duration = started.elapsed();
    Ok(outcome)
}

fn restore_file(plan: &Plan, progress: &mut dyn Progress, cancel: &Cancel) -> Result<Outcome, RestoreError> {
    let parent = parent_of(&plan.target);
    if plan.format.is_sqlite() && !plan.force_open {
        inuse::refuse_if_open(&plan.target)?;
    }
    let mut temp = tempfile::Builder::new()
        .prefix(&staging_prefix(&plan.target))
        .rand_bytes(8)
        .tempfile_in(&parent)
        .map_err(io_step("cannot create a staging file beside the target"))?;
    let (source, size) = verify::open(&plan.backup.path)?;
    if size == 0 {
        return Err(RestoreError::Backup("the backup file is empty (0 bytes)".into()));
    }
    let reader = Tracked::new(BufReader::with_capacity(BUFFER, source), size, progress, cancel);
    let bytes = if plan.format.is_gzip() {
        // The current file is copied aside before the swap, so the disk must hold that copy too.
        let copy = plan.current.as_ref().map_or(0, |current| current.size_bytes);
        verify::gunzip_into(reader, temp.as_file_mut(), &plan.check.cap(size, Some(&parent), copy))?
    } else {
        let mut reader = reader;
        let mut sink = Capped { inner: temp.as_file_mut(), written: 0, limit: u64::MAX };
        verify::pump(&mut reader, &mut sink).map_err(io_step("cannot copy the backup"))?
    };
    temp.as_file().sync_all().map_err(io_step("cannot sync the staging file"))?;
    let check = if plan.format.is_sqlite() {
        verify::check_sqlite_cancellable(temp.path(), &plan.check, cancel)?.summary
    } else {
        format!("{} written", human_bytes(bytes))
    };
    if let Ok(current) = std::fs::metadata(&plan.target) {
        // The restored file keeps the current one's permissions; if that fails it keeps the staging file's (0600).
        let _ = std::fs::set_permissions(temp.path(), current.permissions());
    }
    if cancel.is_cancelled() {
        return Err(RestoreError::Cancelled);
    }
    // Past this point the old target is kept first, then replaced in one rename.
    // Looked at again, not taken from the plan: the target may have come or gone since.
    let exists_now = std::fs::symlink_metadata(&plan.target).is_ok();
    let mut lock = None;
    let kept = if !exists_now {
        None
    } else if plan.format.is_sqlite() {
        // Checked again: unpacking may have taken minutes.
        if !plan.force_open {
            inuse::refuse_if_open(&plan.target)?;
        }
        checkpoint(&plan.target);
        lock = inuse::DbLock::take(&plan.target)?;
        Some(keep_database(plan, lock.is_some())?)
    } else {
        Some(keep_copy(plan, "copy")?)
    };
    let renamed = if kept.is_some() {
        temp.persist(&plan.target).map(drop)
    } else {
        // Nothing was there to keep, so nothing that appears meanwhile may be replaced.
        temp.persist_noclobber(&plan.target).map(drop)
    };
    renamed.map_err(|err| RestoreError::Io {
        step: "cannot rename the restored file over the target",
        reason: if err.error.kind() == io::ErrorKind::AlreadyExists {
            "something appeared at the target while the backup was unpacked; it was left alone".into()
        } else {
            err.error.to_string()
        },
    })?;
    sync_dir(&parent);
    let stale_side_files = match &kept {
        Some(kept) if plan.format.is_sqlite() => move_side_files(&plan.target, &kept.path),
        _ => Vec::new(),
    };
    // Only now may writers go on, and what they open is the restored file.
    drop(lock);
    let check = if plan.format.is_sqlite() {
        match verify::check_sqlite(&plan.target, &CheckOptions { count: Vec::new(), ..plan.check.clone() }) {
            Ok(_) => format!("{check}; restored file checked"),
            Err(failure) => format!("{check}; WARNING: the restored file fails its check: {failure}"),
        }
    } else {
        check
    };
    Ok(Outcome {
        target: plan.target.clone(),
        aside: kept.as_ref().map(|kept| kept.path.clone()),
        secured_by: kept.map(|kept| kept.how),
        stale_side_files,
        removed_debris: Vec::new(),
        replaced: Vec::new(),
        mode: RestoreMode::Replace,
        bytes,
        duration: Duration::ZERO,
        check,
    })
}

/// Where the previous target was kept, and how.
struct Kept {
    path: PathBuf,
    how: String,
}

/// Keeps the current database under a name of its own: through SQLite's online
/// backup API while `locked` (the write lock is held, so the copy is the last
/// committed state), else as bytes (SQLite cannot read it, so nothing writes it).
fn keep_database(plan: &Plan, locked: bool) -> Result<Kept, RestoreError> {
    if !locked {
        return keep_copy(plan, "copy (the current file is not a database SQLite can open)");
    }
    let (path, file) = swap::reserve_file(&plan.aside, mode_of(&plan.target))
        .map_err(io_step("cannot take a name to keep the current database under"))?;
    drop(file);
    let how = match snapshot_sqlite(&plan.target, &path) {
        Ok(()) => Ok("online backup".to_string()),
        // Too damaged for SQLite to copy; with the write lock held nothing changes it, so its bytes are the copy.
        Err(reason) if reason.contains("not a database") || reason.contains("malformed") => {
            let copy = || -> io::Result<()> {
                let mut file = std::fs::OpenOptions::new().write(true).truncate(true).open(&path)?;
                copy_into(&plan.target, &mut file)
            };
            copy().map(|()| "copy (the current database is damaged)".to_string()).map_err(|err| err.to_string())
        }
        Err(reason) => Err(reason),
    };
    match how {
        Ok(how) => Ok(Kept { path, how }),
        Err(reason) => {
            // The file is ours, made just now, and holds at most part of a copy.
            let _ = std::fs::remove_file(&path);
            Err(RestoreError::Io { step: "cannot keep a copy of the current database", reason })
        }
    }
}

/// Keeps a byte copy of the current target file under a name of its own.
fn keep_copy(plan: &Plan, how: &str) -> Result<Kept, RestoreError> {
    let (path, mut file) = swap::reserve_file(&plan.aside, mode_of(&plan.target))
        .map_err(io_step("cannot take a name to keep the current target under"))?;
    if let Err(err) = copy_into(&plan.target, &mut file) {
        // The file is ours, made just now, and holds at most part of a copy.
        let _ = std::fs::remove_file(&path);
        return Err(io_step("cannot keep a copy of the current target")(err));
    }
    Ok(Kept { path, how: how.into() })
}

fn copy_into(from: &Path, file: &mut File) -> io::Result<()> {
    io::copy(&mut File::open(from)?, file)?;
    file.sync_all()
}

/// The permission bits of `path`, for a copy of it (owner-only when unknown).
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map_or(0o600, |metadata| metadata.permissions().mode() & 0o777)
}

fn snapshot_sqlite(source: &Path, destination: &Path) -> Result<(), String> {
    let connection = rusqlite::Connection::open_with_flags(
        source,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|err| err.to_string())?;
    connection.busy_timeout(Duration::from_secs(10)).map_err(|err| err.to_string())?;
    connection.backup(rusqlite::MAIN_DB, destination, None).map_err(|err| err.to_string())?;
    File::open(destination).and_then(|f| f.sync_all()).map_err(|err| err.to_string())
}

/// Folds the old database's WAL into it, so little is left to set aside afterwards.
fn checkpoint(target: &Path) {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if let Ok(connection) = rusqlite::Connection::open_with_flags(target, flags) {
        // Best effort: whatever stays in the WAL is in the snapshot and moved aside with the WAL.
        let _ = connection.busy_timeout(Duration::from_secs(2));
        let _ = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
}

/// Moves `-wal`/`-shm` files of the replaced database aside, next to where it
/// was kept: replayed onto the new file they would corrupt it.
fn move_side_files(target: &Path, kept: &Path) -> Vec<PathBuf> {
    let mut moved = Vec::new();
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        if side.exists() {
            let mut stale = kept.as_os_str().to_owned();
            stale.push(format!("{suffix}.stale"));
            let stale = PathBuf::from(stale);
            if swap::rename_noreplace(&side, &stale).is_ok() {
                moved.push(stale);
            }
        }
    }
    moved
}

fn restore_tree(plan: &Plan, progress: &mut dyn Progress, cancel: &Cancel) -> Result<Outcome, RestoreError> {
    let parent = parent_of(&plan.target);
    let staging = tempfile::Builder::new()
        .prefix(&staging_prefix(&plan.target))
        .rand_bytes(8)
        .tempdir_in(&parent)
        .map_err(io_step("cannot create a staging folder beside the target"))?;
    let preserve = plan.preserve_permissions;
    let bytes = if plan.format.is_dir() {
        unpack::copy_tree(&plan.backup.path, staging.path(), preserve, progress, cancel)?
    } else {
        let (source, size) = verify::open(&plan.backup.path)?;
        let cap = plan.check.cap(size, Some(&parent), 0);
        let reader = Tracked::new(BufReader::with_capacity(BUFFER, source), size, progress, cancel);
        if plan.format == BackupFormat::TarGz {
            let reader = Limited { inner: MultiGzDecoder::new(reader), left: cap.bytes };
            unpack::unpack_tar(reader, staging.path(), &cap, preserve)?
        } else {
            unpack::unpack_tar(reader, staging.path(), &cap, preserve)?
        }
    };
    unpack::sync_tree(staging.path()).map_err(io_step("cannot sync the staged files"))?;
    if cancel.is_cancelled() {
        return Err(RestoreError::Cancelled);
    }
    let files = verify::walk_files(staging.path()).map(|f| f.len()).unwrap_or(0);
    // From here the staging folder must survive being dropped: it becomes the target.
    let staged = staging.keep();
    let unpacked = format!("{files} files, {} unpacked", human_bytes(bytes));
    // Looked at again, not taken from the plan: the target may have come or gone since.
    let exists_now = std::fs::symlink_metadata(&plan.target).is_ok();
    if plan.mode == RestoreMode::Overlay && exists_now {
        let outcome = restore_overlay::apply(&staged, &plan.target, &plan.aside)?.into_outcome(plan, bytes, &unpacked);
        sync_dir(&parent);
        return Ok(outcome);
    }
    let aside = if exists_now {
        Some(swap::swap_in(&staged, &plan.target, &plan.aside)?)
    } else {
        swap::move_in(&staged, &plan.target)?;
        None
    };
    sync_dir(&parent);
    Ok(Outcome {
        target: plan.target.clone(),
        secured_by: aside.as_ref().map(|_| "moved".to_string()),
        aside,
        stale_side_files: Vec::new(),
        removed_debris: Vec::new(),
        replaced: Vec::new(),
        mode: RestoreMode::Replace,
        bytes,
        duration: Duration::ZERO,
        check: unpacked,
    })
}

/// What marks a staging file or folder: `.<target name>.firstwatch-restore-<pid>-<host>@<random>`.
/// The host matters where the folder is a shared mount: a pid says nothing about
/// a restore running on another machine, so only this host's debris is swept.
const STAGING_MARK: &str = ".firstwatch-restore-";

fn staging_lead(target: &Path) -> String {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}{STAGING_MARK}")
}

/// This process's staging names beside `target` start with this; the rest is random.
fn staging_prefix(target: &Path) -> String {
    format!(
        "{}{}-{}@",
        staging_lead(target),
        std::process::id(),
        crate::util::identity::hostname().replace(['/', '@'], "_")
    )
}

/// Where this process's staging entries for `target` go, as one path: their
/// folder and the start of their names. A supervised restore records it before
/// it stages anything, so if the supervisor is killed the next firstwatch to
/// start removes them ([`remove_staging`]), whatever the target.
pub fn staging_path(target: &Path) -> PathBuf {
    parent_of(target).join(staging_prefix(target))
}

/// Removes the staging entries a [`staging_path`] names: those in its folder whose
/// name starts with its own. Returns what it removed. Call it only once the process
/// that staged them is gone. A path that is not a staging path removes nothing.
pub fn remove_staging(staging: &Path) -> Vec<PathBuf> {
    let Some(lead) = staging.file_name().and_then(|name| name.to_str()) else { return Vec::new() };
    if !lead.starts_with('.') || !lead.contains(STAGING_MARK) || !lead.ends_with('@') {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(parent_of(staging)) else { return Vec::new() };
    let mut removed: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.starts_with(lead)))
        .filter_map(remove_entry)
        .collect();
    removed.sort();
    removed
}

/// Removes a directory entry (a folder with what is in it), never what a link there points to.
fn remove_entry(entry: std::fs::DirEntry) -> Option<PathBuf> {
    let path = entry.path();
    let gone = match entry.file_type() {
        Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
        Ok(_) => std::fs::remove_file(&path),
        Err(err) => Err(err),
    };
    gone.ok().map(|()| path)
}

/// Removes what restores of `target` left behind when they were killed: staging
/// files and folders beside it whose process is gone. Returns what it removed.
///
/// A staging entry only ever holds (part of) a copy of a backup, never the
/// previous target, so removing one loses nothing. One whose process still
/// runs is a restore in progress and is left alone.
pub fn sweep_debris(target: &Path) -> Vec<PathBuf> {
    let lead = staging_lead(target);
    let this_host = crate::util::identity::hostname().replace(['/', '@'], "_");
    let Ok(entries) = std::fs::read_dir(parent_of(target)) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((pid, host)) = name.to_str().and_then(|name| name.strip_prefix(&lead)).and_then(staging_owner) else {
            continue;
        };
        if host.is_some_and(|host| host != this_host) || crate::util::process::alive(pid) {
            continue;
        }
        removed.extend(remove_entry(entry));
    }
    removed.sort();
    removed
}

/// The pid and host in `<pid>-<host>@<random>` (no host in names written before hosts were).
fn staging_owner(rest: &str) -> Option<(u32, Option<&str>)> {
    let (pid, after) = rest.split_once('-')?;
    if after.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pid = pid.parse::<u32>().ok().filter(|pid| *pid > 0)?;
    let host = after.rsplit_once('@').map(|(host, _)| host);
    Some((pid, host))
}

/// Runs a confirmed restore with an audit row before it starts and one when it ends.
/// Without a row on disk first, nothing is restored.
pub fn run_audited(
    store: &Store,
    who: &Identity,
    plan: &Plan,
    progress: &mut dyn Progress,
    cancel: &Cancel,
) -> Result<Outcome, RestoreError> {
    let lock = lock_target(store, who, plan)?;
    run_locked(store, who, plan, &lock, progress, cancel)
}

/// The host-wide lock a restore of `plan` holds: another restore, or an action on
/// the set's `target`, is refused meanwhile. A refusal is audited.
pub fn lock_target(store: &Store, who: &Identity, plan: &Plan) -> Result<TargetLock, RestoreError> {
    let operation = format!("restore {}", plan.set);
    let lock_dir = crate::action::lock::dir_for(Some(store));
    TargetLock::acquire_with(&lock_dir, &plan.lock, who, &operation, store.shared_group()).map_err(|err| {
        // The refusal is what is reported; an audit failure on top of it changes nothing that happens.
        let _ = store.audit(audit_entry(store, plan, "restore-refused", err.to_string()), who);
        RestoreError::Busy(err.to_string())
    })
}

fn audit_entry(store: &Store, plan: &Plan, event: &str, detail: String) -> AuditEntry {
    AuditEntry {
        event: event.into(),
        action: Some(format!("restore {}", plan.set)),
        target: Some(plan.target.display().to_string()),
        argv: None,
        incident_id: crate::incident::record::open_incident_id(store).ok().flatten(),
        detail: Some(detail),
    }
}

/// [`run_audited`] for a caller that already holds the target's lock (`_held` is the proof).
pub fn run_locked(
    store: &Store,
    who: &Identity,
    plan: &Plan,
    held: &TargetLock,
    progress: &mut dyn Progress,
    cancel: &Cancel,
) -> Result<Outcome, RestoreError> {
    let started = audit_start(store, who, plan, held)?;
    run_started(store, who, plan, started, progress, cancel)
}

/// Proof that a restore's start row is in the audit log: only [`audit_start`] makes one.
#[derive(Debug)]
pub struct Started {
    /// How old the backup was when the restore started (the recovery point).
    rpo: String,
}

/// Writes a locked restore's start row (`_held` is the proof of the lock). A
/// supervisor writes it before it tells its front end the restore started, so an
/// audit log that cannot take it refuses the restore.
pub fn audit_start(store: &Store, who: &Identity, plan: &Plan, _held: &TargetLock) -> Result<Started, RestoreError> {
    let rpo = human_age(super::listing::age(Utc::now(), plan.backup.created));
    let forced = if plan.forced { "; FORCED despite a failed verification" } else { "" };
    let force_open = if plan.force_open { "; FORCED over processes holding the database open" } else { "" };
    let detail = format!("backup {} (age {rpo}){forced}{force_open}", plan.backup.path.display());
    store
        .audit(audit_entry(store, plan, "restore-start", detail), who)
        .map_err(|err| RestoreError::Audit(err.to_string()))?;
    Ok(Started { rpo })
}

/// Carries out a restore whose start is on record, and writes its one outcome row.
pub fn run_started(
    store: &Store,
    who: &Identity,
    plan: &Plan,
    started: Started,
    progress: &mut dyn Progress,
    cancel: &Cancel,
) -> Result<Outcome, RestoreError> {
    let Started { rpo } = started;
    let entry = |event: &str, detail: String| audit_entry(store, plan, event, detail);
    let mut result = restore(plan, progress, cancel);
    let (event, detail) = match &result {
        Ok(outcome) => (
            "restore-done",
            format!(
                "restored {} from {}; {}; RTO {:.1}s; RPO {rpo}; {}",
                plan.target.display(),
                plan.backup.path.display(),
                kept_words(outcome),
                outcome.duration.as_secs_f64(),
                outcome.check
            ),
        ),
        Err(RestoreError::Cancelled) => ("restore-cancelled", "cancelled before the target was changed".into()),
        Err(err) => ("restore-failed", err.to_string()),
    };
    // The restore has happened either way; an outcome the log could not take is said, not swallowed.
    if let Err(err) = store.audit(entry(event, detail), who)
        && let Ok(outcome) = &mut result
    {
        outcome.check.push_str(&format!("; WARNING: the audit log could not record this restore: {err}"));
    }
    result
}

/// Records a restore that was asked for but not run (refused or cancelled at the prompt).
pub fn audit_not_run(store: &Store, who: &Identity, set: &str, target: Option<&Path>, event: &str, reason: &str) {
    let entry = AuditEntry {
        event: event.into(),
        action: Some(format!("restore {set}")),
        target: target.map(|t| t.display().to_string()),
        argv: None,
        incident_id: crate::incident::record::open_incident_id(store).ok().flatten(),
        detail: Some(reason.into()),
    };
    let _ = store.audit(entry, who);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_hosts_debris_of_dead_restores_is_swept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("db.sqlite");
        // A pid that is certainly gone: a child this test started and reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let host = crate::util::identity::hostname().replace(['/', '@'], "_");
        let lead = staging_lead(&target);
        let ours = dir.path().join(format!("{lead}{dead}-{host}@abc123"));
        let other_host = dir.path().join(format!("{lead}{dead}-elsewhere.example@abc123"));
        let live = dir.path().join(format!("{lead}{}-{host}@abc123", std::process::id()));
        let older_format = dir.path().join(format!("{lead}{dead}-xyz789"));
        for path in [&ours, &other_host, &live, &older_format] {
            std::fs::write(path, b"part of a backup").unwrap();
        }
        assert!(staging_prefix(&target).ends_with(&format!("-{host}@")));
        let removed = sweep_debris(&target);
        let mut expected = vec![ours, older_format];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(other_host.exists(), "another host's restore may still be running");
        assert!(live.exists(), "a running restore's staging is left alone");
    }
}
