//! Every set with its backups and their last verification: what the tab and
//! `firstwatch backups list` show.

use super::listing::{self, BackupEntry, Freshness};
use super::records::{self, Status, Verification};
use super::{BackupSet, human_age};
use crate::config::BackupFormat;
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct SetState {
    pub name: String,
    pub format: BackupFormat,
    pub dir: PathBuf,
    pub every: Option<Duration>,
    pub restore_to: Option<PathBuf>,
    /// Newest first.
    pub backups: Vec<BackupState>,
    /// Why the folder could not be read.
    pub error: Option<String>,
    /// The set has a `source`, so a backup can be made now.
    pub can_create: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackupState {
    pub entry: BackupEntry,
    pub last: Option<Verification>,
}

impl BackupState {
    pub fn status(&self) -> Status {
        Status::of(&self.entry, self.last.as_ref())
    }

    /// Files inside: counted for folders, learnt from verification for archives.
    pub fn files(&self) -> Option<u64> {
        self.entry.files.or_else(|| self.last.as_ref().and_then(|l| if l.ok { l.files } else { None }))
    }
}

impl SetState {
    /// The newest backup not known to be corrupt.
    pub fn last_good(&self) -> Option<&BackupState> {
        self.backups.iter().find(|b| !b.status().is_corrupt())
    }

    pub fn freshness(&self, now: DateTime<Utc>) -> Freshness {
        Freshness::of(self.last_good().map(|b| listing::age(now, b.entry.created)), self.every)
    }

    /// One line: "last good 1d14h ago · every 1d · 1 missed".
    pub fn headline(&self, now: DateTime<Utc>) -> String {
        if let Some(error) = &self.error {
            return error.clone();
        }
        let last = match self.last_good() {
            Some(good) => format!("last good {} ago", human_age(listing::age(now, good.entry.created))),
            None if self.backups.is_empty() => "no backups found".into(),
            None => "no good backup".into(),
        };
        let every = self.every.map(|e| format!(" · every {}", human_age(e))).unwrap_or_default();
        let freshness = match self.freshness(now) {
            Freshness::Unknown | Freshness::NoGoodBackup => String::new(),
            other => format!(" · {}", other.describe()),
        };
        format!("{last}{every}{freshness}")
    }

    /// The backup called `name`.
    pub fn find(&self, name: &str) -> Option<&BackupState> {
        self.backups.iter().find(|b| b.entry.name == name)
    }
}

/// Lists every set and joins each backup with its last stored verification.
pub fn survey(sets: &[BackupSet], store: Option<&Store>, now: DateTime<Utc>) -> Vec<SetState> {
    sets.iter()
        .map(|set| {
            let found = listing::list(set, now);
            let mut last = store.and_then(|store| records::latest(store, &set.name).ok()).unwrap_or_default();
            SetState {
                name: set.name.clone(),
                format: set.format,
                dir: set.dir.clone(),
                every: set.every,
                restore_to: set.restore_to.clone(),
                backups: found
                    .backups
                    .into_iter()
                    .map(|entry| {
                        let last = last.remove(&entry.name);
                        BackupState { entry, last }
                    })
                    .collect(),
                error: found.error,
                can_create: set.source.is_some(),
            }
        })
        .collect()
}

/// The JSON shape of one backup for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct BackupJson {
    pub id: String,
    pub set: String,
    pub path: PathBuf,
    pub format: BackupFormat,
    pub created: DateTime<Utc>,
    pub age_seconds: u64,
    pub size_bytes: u64,
    pub files: Option<u64>,
    pub status: &'static str,
    pub detail: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub prune: bool,
}

impl BackupJson {
    pub fn of(set: &SetState, backup: &BackupState, now: DateTime<Utc>) -> BackupJson {
        let status = backup.status();
        BackupJson {
            id: backup.entry.name.clone(),
            set: set.name.clone(),
            path: backup.entry.path.clone(),
            format: set.format,
            created: backup.entry.created,
            age_seconds: listing::age(now, backup.entry.created).as_secs(),
            size_bytes: backup.entry.size_bytes,
            files: backup.files(),
            status: status.word(),
            detail: backup.last.as_ref().map(|l| l.detail.clone()),
            verified_at: backup.last.as_ref().map(|l| l.verified_at),
            prune: backup.entry.prune,
        }
    }
}
