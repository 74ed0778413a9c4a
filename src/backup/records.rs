//! Verification results kept in the store, so the list shows the last result
//! of every backup across restarts and across the CLI and the console.

use super::BackupEntry;
use super::verify::{Failure, Report};
use crate::store::migrations::Migrations;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;

pub const MIGRATIONS: Migrations = Migrations {
    module: "backup",
    steps: &["CREATE TABLE backup_verification (
            id INTEGER PRIMARY KEY,
            set_name TEXT NOT NULL,
            name TEXT NOT NULL,
            ok INTEGER NOT NULL,
            detail TEXT NOT NULL,
            files INTEGER,
            checksum TEXT,
            size_bytes INTEGER NOT NULL,
            modified TEXT NOT NULL,
            verified_at TEXT NOT NULL,
            duration_ms INTEGER NOT NULL
        );
        CREATE INDEX backup_verification_by_name ON backup_verification(set_name, name, id);"],
};

/// The outcome of one verification of one backup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub detail: String,
    pub files: Option<u64>,
    pub checksum: Option<String>,
    /// The backup's size and modification time when it was checked, to notice a later change.
    pub size_bytes: u64,
    pub modified: DateTime<Utc>,
    pub verified_at: DateTime<Utc>,
    pub duration_ms: u64,
}

impl Verification {
    /// A result for `entry` from a verification that took `duration_ms`.
    pub fn of(entry: &BackupEntry, result: &Result<Report, Failure>, at: DateTime<Utc>, duration_ms: u64) -> Self {
        let (ok, detail, files, checksum) = match result {
            Ok(report) => (true, report.summary.clone(), report.files, report.checksum.clone()),
            Err(failure) => (false, failure.to_string(), None, None),
        };
        Verification {
            ok,
            detail,
            files,
            checksum,
            size_bytes: entry.size_bytes,
            modified: entry.modified,
            verified_at: at,
            duration_ms,
        }
    }
}

/// What the list shows for a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Unverified,
    Verifying(u8),
    Ok(String),
    Corrupt(String),
    /// Verified once, but the file changed since.
    Changed,
}

impl Status {
    /// The last result, unless the backup changed on disk since it was taken.
    pub fn of(entry: &BackupEntry, last: Option<&Verification>) -> Status {
        match last {
            None => Status::Unverified,
            Some(last) if last.size_bytes != entry.size_bytes || last.modified != entry.modified => Status::Changed,
            Some(last) if last.ok => Status::Ok(last.detail.clone()),
            Some(last) => Status::Corrupt(last.detail.clone()),
        }
    }

    /// A symbol that reads without colour.
    pub fn symbol(&self) -> &'static str {
        match self {
            Status::Unverified => "?",
            Status::Verifying(_) => "…",
            Status::Ok(_) => "✓",
            Status::Corrupt(_) => "✗",
            Status::Changed => "~",
        }
    }

    /// The word for the list and for `--json`: unverified, verifying, ok, corrupt, changed.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Unverified => "unverified",
            Status::Verifying(_) => "verifying",
            Status::Ok(_) => "ok",
            Status::Corrupt(_) => "corrupt",
            Status::Changed => "changed",
        }
    }

    /// Short text: `ok`, `corrupt: ends early`, `verifying 43%`.
    pub fn label(&self) -> String {
        match self {
            Status::Verifying(percent) => format!("verifying {percent}%"),
            Status::Corrupt(reason) => format!("corrupt: {reason}"),
            Status::Changed => "changed since verified".into(),
            other => other.word().into(),
        }
    }

    pub fn is_corrupt(&self) -> bool {
        matches!(self, Status::Corrupt(_))
    }
}

/// Records a result. A folder or file whose checksum differs from the one first
/// seen is recorded as changed-and-failed, since backups are never edited.
pub fn save(store: &Store, set: &str, name: &str, mut result: Verification) -> Result<Verification, StoreError> {
    let (set, name) = (set.to_string(), name.to_string());
    store.call(move |connection| {
        if let Some(checksum) = &result.checksum {
            let first: Option<(String, String)> = connection
                .query_row(
                    "SELECT checksum, verified_at FROM backup_verification
                     WHERE set_name = ?1 AND name = ?2 AND checksum IS NOT NULL ORDER BY id LIMIT 1",
                    params![set, name],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            if let Some((first, at)) = first
                && &first != checksum
            {
                result.ok = false;
                result.detail = format!("contents differ from what was first seen on {at}");
            }
        }
        connection.execute(
            "INSERT INTO backup_verification
             (set_name, name, ok, detail, files, checksum, size_bytes, modified, verified_at, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                set,
                name,
                result.ok,
                result.detail,
                result.files.map(|f| f as i64),
                result.checksum,
                result.size_bytes as i64,
                result.modified.to_rfc3339(),
                result.verified_at.to_rfc3339(),
                result.duration_ms as i64
            ],
        )?;
        Ok(result)
    })
}

/// The latest result of every backup of `set`, by backup name.
pub fn latest(store: &Store, set: &str) -> Result<HashMap<String, Verification>, StoreError> {
    let set = set.to_string();
    store.call(move |connection| {
        let mut statement = connection.prepare(
            "SELECT name, ok, detail, files, checksum, size_bytes, modified, verified_at, duration_ms
             FROM backup_verification WHERE id IN
               (SELECT max(id) FROM backup_verification WHERE set_name = ?1 GROUP BY name)",
        )?;
        let rows = statement.query_map([set], |row| {
            let time = |index: usize| -> rusqlite::Result<DateTime<Utc>> {
                let text: String = row.get(index)?;
                Ok(DateTime::parse_from_rfc3339(&text).map(|t| t.with_timezone(&Utc)).unwrap_or_default())
            };
            Ok((
                row.get::<_, String>(0)?,
                Verification {
                    ok: row.get(1)?,
                    detail: row.get(2)?,
                    files: row.get::<_, Option<i64>>(3)?.map(|f| f.max(0) as u64),
                    checksum: row.get(4)?,
                    size_bytes: row.get::<_, i64>(5)?.max(0) as u64,
                    modified: time(6)?,
                    verified_at: time(7)?,
                    duration_ms: row.get::<_, i64>(8)?.max(0) as u64,
                },
            ))
        })?;
        rows.collect()
    })
}
