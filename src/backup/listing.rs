//! Finding a set's backups on disk: name, date, size, and what retention would prune.

use super::BackupSet;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One backup found in a set's folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupEntry {
    /// The file or folder name; unique within its set, and the id used on the command line.
    pub name: String,
    pub path: PathBuf,
    /// From the name when the pattern carries a date, else the modification time.
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// Bytes on disk (for folders, the sum of their files).
    pub size_bytes: u64,
    /// Files inside, for folders (archives learn theirs when verified).
    pub files: Option<u64>,
    /// The retention rule would remove it.
    pub prune: bool,
}

/// A set's backups, newest first, or why they could not be listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub backups: Vec<BackupEntry>,
    pub error: Option<String>,
}

/// Lists the backups of `set`, newest first, with the retention rule applied as of `now`.
pub fn list(set: &BackupSet, now: DateTime<Utc>) -> Listing {
    let reader = match read_folder(set) {
        Ok(reader) => reader,
        Err(error) => return Listing { backups: Vec::new(), error: Some(error) },
    };
    let mut backups = Vec::new();
    for item in reader.flatten() {
        let Some((name, dated)) = matching_name(set, &item) else { continue };
        let Ok(metadata) = item.metadata() else { continue };
        if metadata.is_dir() != set.pattern.is_dir {
            continue;
        }
        backups.push(entry_from(name, item.path(), dated, &metadata, true));
    }
    backups.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.name.cmp(&a.name)));
    mark_prunable(&mut backups, set.keep, set.keep_last, now);
    Listing { backups, error: None }
}

fn read_folder(set: &BackupSet) -> Result<std::fs::ReadDir, String> {
    std::fs::read_dir(&set.dir).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => format!("folder {} does not exist", set.dir.display()),
        _ => format!("cannot read {}: {err}", set.dir.display()),
    })
}

/// The name of a folder entry that belongs to the set, with the date in it.
fn matching_name(set: &BackupSet, item: &std::fs::DirEntry) -> Option<(String, Option<DateTime<Utc>>)> {
    let name = item.file_name().into_string().ok()?;
    // Hidden names are work in progress (a backup being created), never backups.
    if name.starts_with('.') {
        return None;
    }
    let dated = set.pattern.matches(&name)?;
    Some((name, dated))
}

fn entry_from(
    name: String,
    path: PathBuf,
    dated: Option<DateTime<Utc>>,
    metadata: &std::fs::Metadata,
    measure_folders: bool,
) -> BackupEntry {
    let modified: DateTime<Utc> = metadata.modified().map(DateTime::from).unwrap_or(DateTime::UNIX_EPOCH);
    let (size_bytes, files) = match (metadata.is_dir(), measure_folders) {
        (true, true) => folder_size(&path),
        (true, false) => (0, None),
        (false, _) => (metadata.len(), None),
    };
    BackupEntry { name, path, created: dated.unwrap_or(modified), modified, size_bytes, files, prune: false }
}

/// A backup known by its name alone: the date in the name is its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub name: String,
    pub created: DateTime<Utc>,
}

/// The set's backups by name, newest first, without reading anything but the folder:
/// what a health check needs to find the newest ones among thousands. `Ok(None)` when
/// the pattern carries no date (the times then come from the files).
pub fn names(set: &BackupSet) -> Result<Option<Vec<Named>>, String> {
    let reader = read_folder(set)?;
    let mut named = Vec::new();
    for item in reader.flatten() {
        let Some((name, dated)) = matching_name(set, &item) else { continue };
        let Some(created) = dated else { return Ok(None) };
        // The kind comes with the folder listing on most filesystems; no stat.
        if item.file_type().is_ok_and(|kind| kind.is_dir() != set.pattern.is_dir) {
            continue;
        }
        named.push(Named { name, created });
    }
    named.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.name.cmp(&a.name)));
    Ok(Some(named))
}

/// Reads one named backup's size and time (a folder's size only with `measure_folders`);
/// `None` when it vanished or is not the set's kind.
pub fn entry(set: &BackupSet, named: &Named, measure_folders: bool) -> Option<BackupEntry> {
    let path = set.dir.join(&named.name);
    let metadata = std::fs::symlink_metadata(&path).ok()?;
    if metadata.is_dir() != set.pattern.is_dir {
        return None;
    }
    let entry = entry_from(named.name.clone(), path, Some(named.created), &metadata, measure_folders);
    Some(entry)
}

/// Marks what the retention rule would remove. A backup is kept when it is
/// younger than `keep` or among the newest `keep_last`; the newest backup is
/// never pruned, so a set whose backups stopped keeps its last one.
pub fn mark_prunable(backups: &mut [BackupEntry], keep: Option<Duration>, keep_last: Option<u32>, now: DateTime<Utc>) {
    if keep.is_none() && keep_last.is_none() {
        return;
    }
    for (index, backup) in backups.iter_mut().enumerate() {
        let young = keep.is_some_and(|keep| age(now, backup.created) <= keep);
        let recent = keep_last.is_some_and(|n| index < n as usize);
        backup.prune = index > 0 && !young && !recent;
    }
}

/// How long ago `then` was (zero for times in the future).
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    (now - then).to_std().unwrap_or(Duration::ZERO)
}

/// Total size and number of files under a folder (links are not followed).
pub(crate) fn folder_size(path: &Path) -> (u64, Option<u64>) {
    let mut size = 0;
    let mut files = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(reader) = std::fs::read_dir(&dir) else { continue };
        for item in reader.flatten() {
            let Ok(kind) = item.file_type() else { continue };
            if kind.is_dir() {
                pending.push(item.path());
            } else if kind.is_file() {
                files += 1;
                size += item.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    (size, Some(files))
}

/// Whether backups arrive as often as the set says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "missed")]
pub enum Freshness {
    /// No `every` is configured.
    Unknown,
    /// The last good backup is younger than the cadence allows.
    Fresh,
    /// This many expected backups are missing since the last good one.
    Missed(u32),
    /// There is no backup that is not known to be corrupt.
    NoGoodBackup,
}

impl Freshness {
    /// Given the age of the newest backup not known to be corrupt and the cadence.
    pub fn of(last_good_age: Option<Duration>, every: Option<Duration>) -> Freshness {
        let Some(every) = every.filter(|e| !e.is_zero()) else {
            return if last_good_age.is_some() { Freshness::Unknown } else { Freshness::NoGoodBackup };
        };
        let Some(age) = last_good_age else { return Freshness::NoGoodBackup };
        // A backup that runs a little late is not yet a missed one.
        let grace = (every / 4).min(Duration::from_secs(3600));
        if age <= every + grace {
            return Freshness::Fresh;
        }
        let missed = (age - grace).as_secs() / every.as_secs().max(1);
        Freshness::Missed(missed.clamp(1, u32::MAX as u64) as u32)
    }

    /// Words for people: "fresh", "1 missed", "no good backup".
    pub fn describe(self) -> String {
        match self {
            Freshness::Unknown => "no cadence set".into(),
            Freshness::Fresh => "fresh".into(),
            Freshness::Missed(1) => "1 missed".into(),
            Freshness::Missed(n) => format!("{n} missed"),
            Freshness::NoGoodBackup => "no good backup".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(name: &str, created: DateTime<Utc>) -> BackupEntry {
        BackupEntry {
            name: name.into(),
            path: PathBuf::from(name),
            created,
            modified: created,
            size_bytes: 1,
            files: None,
            prune: false,
        }
    }

    #[test]
    fn retention_keeps_young_and_last_n_but_never_the_newest() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        let day = chrono::Duration::days(1);
        let mut backups: Vec<BackupEntry> = (1..=9).map(|d| entry(&format!("b{d}"), now - day * d)).collect();
        mark_prunable(&mut backups, Some(Duration::from_secs(7 * 86400)), None, now);
        let pruned: Vec<&str> = backups.iter().filter(|b| b.prune).map(|b| b.name.as_str()).collect();
        assert_eq!(pruned, ["b8", "b9"]);
        mark_prunable(&mut backups, None, Some(3), now);
        assert_eq!(backups.iter().filter(|b| !b.prune).count(), 3);
        let mut stale: Vec<BackupEntry> = (30..=32).map(|d| entry(&format!("old{d}"), now - day * d)).collect();
        mark_prunable(&mut stale, Some(Duration::from_secs(86400)), None, now);
        assert!(!stale[0].prune, "the newest backup survives even when every backup is old");
        assert!(stale[1].prune && stale[2].prune);
    }

    #[test]
    fn freshness_counts_missed_backups_with_a_little_grace() {
        let day = Duration::from_secs(86400);
        let hour = Duration::from_secs(3600);
        assert_eq!(Freshness::of(Some(day - hour), Some(day)), Freshness::Fresh);
        assert_eq!(Freshness::of(Some(day + hour / 2), Some(day)), Freshness::Fresh);
        assert_eq!(Freshness::of(Some(day + 14 * hour), Some(day)), Freshness::Missed(1));
        assert_eq!(Freshness::of(Some(2 * day + 3 * hour), Some(day)), Freshness::Missed(2));
        assert_eq!(Freshness::of(None, Some(day)), Freshness::NoGoodBackup);
        assert_eq!(Freshness::of(Some(day * 40), None), Freshness::Unknown);
    }
}
