//! Every set with its backups and their last verification: what the tab and
//! `firstwatch backups list` show.

use super::inspect::Flaw;
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
    /// Only verified-good backups count as good.
    pub require_verified: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackupState {
    pub entry: BackupEntry,
    pub last: Option<Verification>,
    /// What a quick look found wrong (looked at for the newest backups only; `None` otherwise).
    pub flaw: Option<Flaw>,
}

impl BackupState {
    pub fn status(&self) -> Status {
        Status::of(&self.entry, self.last.as_ref())
    }

    /// Whether this backup counts as a good one: not empty, not visibly cut short, not
    /// known corrupt, and verified good when the set requires it.
    pub fn is_good(&self, require_verified: bool) -> bool {
        let status = self.status();
        let empty = self.entry.size_bytes == 0 || self.entry.files == Some(0);
        !empty && self.flaw.is_none() && !status.is_corrupt() && (!require_verified || matches!(status, Status::Ok(_)))
    }

    /// Files inside: counted for folders, learnt from verification for archives.
    pub fn files(&self) -> Option<u64> {
        self.entry.files.or_else(|| self.last.as_ref().and_then(|l| if l.ok { l.files } else { None }))
    }
}

impl SetState {
    /// The newest good backup (see [`BackupState::is_good`]).
    pub fn last_good(&self) -> Option<&BackupState> {
        self.backups.iter().find(|b| b.is_good(self.require_verified))
    }

    pub fn freshness(&self, now: DateTime<Utc>) -> Freshness {
        Freshness::of(self.last_good().map(|b| listing::age(now, b.entry.created)), self.every)
    }

    /// One line: "last good 1d14h ago · every 1d · 1 missed"; "last good" only for a
    /// backup verified good, else "last backup 3h ago, not verified".
    pub fn headline(&self, now: DateTime<Utc>) -> String {
        if let Some(error) = &self.error {
            return error.clone();
        }
        let last = match self.last_good() {
            Some(good) => {
                let age = human_age(listing::age(now, good.entry.created));
                match good.status() {
                    Status::Ok(_) => format!("last good {age} ago"),
                    Status::Changed => format!("last backup {age} ago, changed since verified"),
                    _ => format!("last backup {age} ago, unverified"),
                }
            }
            None if self.backups.is_empty() => "no backups found".into(),
            None => "no good backup".into(),
        };
        let every = self.every.map(|e| format!(" · every {}", human_age(e))).unwrap_or_default();
        let freshness = match self.freshness(now) {
            Freshness::Unknown | Freshness::NoGoodBackup => String::new(),
            other => format!(" · {}", other.describe()),
        };
        let flaw = match self.backups.first().and_then(|b| b.flaw.as_ref()) {
            Some(flaw) => format!(" · newest {}", flaw_word(flaw)),
            None => String::new(),
        };
        let corrupt = match self.corrupt_count() {
            0 => String::new(),
            n => format!(" · {n} corrupt"),
        };
        format!("{last}{every}{freshness}{flaw}{corrupt}")
    }

    /// How many backups are known corrupt (their last verification failed and they have not changed since).
    pub fn corrupt_count(&self) -> usize {
        self.backups.iter().filter(|b| b.status().is_corrupt()).count()
    }

    /// The backup called `name`.
    pub fn find(&self, name: &str) -> Option<&BackupState> {
        self.backups.iter().find(|b| b.entry.name == name)
    }
}

/// "empty", "truncated", "damaged".
pub fn flaw_word(flaw: &Flaw) -> &'static str {
    match flaw {
        Flaw::Empty(_) => "empty",
        Flaw::Truncated(_) => "truncated",
        Flaw::Damaged(_) => "damaged",
        Flaw::Incomplete(_) => "incomplete",
    }
}

/// How many of the newest backups a survey looks at before giving up on finding a good one.
const LOOKS: usize = 8;

/// Gives the newest backups a quick look, newest first, until one is good.
fn look_at_newest(set: &BackupSet, backups: &mut [BackupState]) {
    for backup in backups.iter_mut().take(LOOKS) {
        if backup.status().is_corrupt() {
            continue;
        }
        backup.flaw = super::inspect::quick_look(set, &mut backup.entry).err();
        if backup.is_good(set.require_verified) {
            break;
        }
    }
    // Emptiness needs no reading, so every backup gets that much.
    for backup in backups.iter_mut().filter(|b| b.flaw.is_none() && !set.format.is_dir()) {
        if backup.entry.size_bytes == 0 {
            backup.flaw = Some(Flaw::Empty("0 bytes".into()));
        }
    }
}

/// What a health check needs of a set, read as little as it can: the newest backups
/// down to the first good one, and those with a stored verification (for the corrupt
/// count). Sets whose names carry no date are listed in full.
pub fn survey_for_check(set: &BackupSet, store: Option<&Store>, now: DateTime<Utc>) -> SetState {
    let named = match listing::names(set) {
        Ok(Some(named)) => named,
        Ok(None) => return survey_one(set, store, now),
        Err(error) => return state_of(set, Vec::new(), Some(error)),
    };
    let mut last = store.and_then(|store| records::latest(store, &set.name).ok()).unwrap_or_default();
    let mut backups = Vec::new();
    let mut good = false;
    let mut looks = 0;
    for named in &named {
        if good && !last.contains_key(&named.name) {
            continue;
        }
        // A folder is measured by the quick look's own walk when it gets one.
        let measure = good || looks >= LOOKS;
        let Some(entry) = listing::entry(set, named, measure) else { continue };
        let mut backup = BackupState { last: last.remove(&named.name), entry, flaw: None };
        if !good && looks < LOOKS && !backup.status().is_corrupt() {
            looks += 1;
            backup.flaw = super::inspect::quick_look(set, &mut backup.entry).err();
        } else if backup.entry.files.is_none() && set.format.is_dir() {
            (backup.entry.size_bytes, backup.entry.files) = listing::folder_size(&backup.entry.path);
        }
        if backup.flaw.is_none() && !set.format.is_dir() && backup.entry.size_bytes == 0 {
            backup.flaw = Some(Flaw::Empty("0 bytes".into()));
        }
        good |= backup.is_good(set.require_verified);
        backups.push(backup);
    }
    state_of(set, backups, None)
}

fn state_of(set: &BackupSet, backups: Vec<BackupState>, error: Option<String>) -> SetState {
    SetState {
        name: set.name.clone(),
        format: set.format,
        dir: set.dir.clone(),
        every: set.every,
        restore_to: set.restore_to.clone(),
        backups,
        error,
        can_create: set.source.is_some(),
        require_verified: set.require_verified,
    }
}

/// Lists every set and joins each backup with its last stored verification.
pub fn survey(sets: &[BackupSet], store: Option<&Store>, now: DateTime<Utc>) -> Vec<SetState> {
    sets.iter().map(|set| survey_one(set, store, now)).collect()
}

/// One set's backups, their last verification, and a quick look at the newest.
pub fn survey_one(set: &BackupSet, store: Option<&Store>, now: DateTime<Utc>) -> SetState {
    let found = listing::list(set, now);
    let mut last = store.and_then(|store| records::latest(store, &set.name).ok()).unwrap_or_default();
    let mut backups: Vec<BackupState> = found
        .backups
        .into_iter()
        .map(|entry| {
            let last = last.remove(&entry.name);
            BackupState { entry, last, flaw: None }
        })
        .collect();
    look_at_newest(set, &mut backups);
    state_of(set, backups, found.error)
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
    /// What a quick look found wrong without a full read: "empty (0 bytes)", "truncated: ...".
    pub flaw: Option<String>,
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
            flaw: backup.flaw.as_ref().map(Flaw::describe),
            prune: backup.entry.prune,
        }
    }
}
