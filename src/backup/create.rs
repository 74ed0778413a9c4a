//! Making a new backup of a set's `source`: SQLite through the online backup
//! API (never a byte copy of a live file), gzip-compressed where the format
//! says so, written under a hidden name and renamed into place when complete.

use super::pattern::NamePattern;
use super::verify::{self, BUFFER};
use super::{BackupSet, human_bytes};
use crate::config::BackupFormat;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;

/// A backup that was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub path: PathBuf,
    pub size_bytes: u64,
    /// One line for people: "app_db_20261129_031500.db.gz, 12.5 KiB".
    pub summary: String,
}

/// [`create`] on the one road: the set's lock, an audit row before (nothing is
/// made when it cannot be written) and exactly one after, whatever the outcome.
pub fn create_audited(
    set: &BackupSet,
    store: Option<&crate::store::Store>,
    identity: &crate::util::identity::Identity,
) -> Result<Created, String> {
    create_audited_with(set, store, identity, &mut || {})
}

/// [`create_audited`], calling `on_start` once the start row is written (a
/// supervisor says the backup started only then).
pub fn create_audited_with(
    set: &BackupSet,
    store: Option<&crate::store::Store>,
    identity: &crate::util::identity::Identity,
    on_start: &mut dyn FnMut(),
) -> Result<Created, String> {
    let operation = format!("create {}", set.name);
    let _lock = super::lock_set(&set.name, store, identity, &operation)?;
    let entry = |event: &str, detail: Option<String>| crate::store::AuditEntry {
        event: event.into(),
        action: Some(operation.clone()),
        target: set.source.as_ref().map(|p| p.display().to_string()),
        incident_id: store.and_then(|s| crate::incident::record::open_incident_id(s).ok().flatten()),
        detail,
        ..Default::default()
    };
    if let Some(store) = store {
        store
            .audit(entry("backup-create-start", None), identity)
            .map_err(|err| format!("the audit log cannot be written, so no backup was made: {err}"))?;
    }
    on_start();
    let result = create(set, Utc::now());
    if let Some(store) = store {
        let (event, detail) = match &result {
            Ok(created) => ("backup-create", format!("created {}", created.path.display())),
            Err(reason) => ("backup-create-failed", reason.clone()),
        };
        if let Err(err) = store.audit(entry(event, Some(detail)), identity) {
            return result.map(|mut created| {
                created.summary.push_str(&format!("; WARNING: the audit log could not record it: {err}"));
                created
            });
        }
    }
    result
}

/// Makes a backup of `set` named for `now`. A half-written backup never carries the set's name.
pub fn create(set: &BackupSet, now: DateTime<Utc>) -> Result<Created, String> {
    let source = set.source.as_ref().ok_or_else(|| {
        format!("backup set `{}` has no `source`; add source = \"path/to/live.db\" to make backups", set.name)
    })?;
    if set.format.restores_a_tree() {
        return Err(format!("creating {} backups is not supported; only sqlite, sqlite-gz, file and gz", set.format));
    }
    if !source.is_file() {
        return Err(format!("the source {} does not exist or is not a file", source.display()));
    }
    let name = NamePattern::render(&set.pattern_text, now);
    let path = set.dir.join(&name);
    if path.exists() {
        return Err(format!("{} already exists; a backup is not overwritten", path.display()));
    }
    std::fs::create_dir_all(&set.dir).map_err(|err| format!("cannot create {}: {err}", set.dir.display()))?;
    let hidden = |suffix: &str| {
        tempfile::Builder::new()
            .prefix(".firstwatch-create-")
            .suffix(suffix)
            .tempfile_in(&set.dir)
            .map_err(|err| format!("cannot write in {}: {err}", set.dir.display()))
    };
    let mut output = hidden(".part")?;
    match set.format {
        BackupFormat::Sqlite => snapshot(source, output.path())?,
        BackupFormat::SqliteGz => {
            let snapshot_file = hidden(".db")?;
            snapshot(source, snapshot_file.path())?;
            gzip(&File::open(snapshot_file.path()).map_err(|e| e.to_string())?, output.as_file_mut())?;
        }
        BackupFormat::Gz => gzip(&File::open(source).map_err(|e| e.to_string())?, output.as_file_mut())?,
        _ => {
            let mut reader = BufReader::with_capacity(BUFFER, File::open(source).map_err(|e| e.to_string())?);
            verify::pump(&mut reader, output.as_file_mut()).map_err(|err| format!("cannot copy: {err}"))?;
        }
    }
    output.as_file().sync_all().map_err(|err| format!("cannot sync: {err}"))?;
    output
        .persist_noclobber(&path)
        .map_err(|err| format!("cannot name the backup {}: {}", path.display(), err.error))?;
    if let Ok(dir) = File::open(&set.dir) {
        let _ = dir.sync_all();
    }
    let size_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(Created { summary: format!("{name}, {}", human_bytes(size_bytes)), path, size_bytes })
}

/// A consistent copy of a database that may be written to while it is copied.
fn snapshot(source: &std::path::Path, destination: &std::path::Path) -> Result<(), String> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(source, flags)
        .map_err(|err| format!("cannot open the source database: {err}"))?;
    connection.busy_timeout(std::time::Duration::from_secs(10)).map_err(|err| err.to_string())?;
    connection
        .backup(rusqlite::MAIN_DB, destination, None)
        .map_err(|err| format!("the online backup of {} failed: {err}", source.display()))
}

fn gzip(source: &File, output: &mut File) -> Result<(), String> {
    let mut reader = BufReader::with_capacity(BUFFER, source);
    let mut encoder = GzEncoder::new(output, Compression::default());
    verify::pump(&mut reader, &mut encoder).map_err(|err| format!("cannot compress: {err}"))?;
    encoder.finish().and_then(|out| out.flush()).map_err(|err| format!("cannot compress: {err}"))
}
