//! Backup sets: listing, verifying, browsing and restoring.
//!
//! Nothing here knows about the terminal: the backups tab and
//! `firstwatch backups` both call into these modules.

pub mod assess;
mod cap;
pub mod cli;
mod cli_confirm;
mod cli_overlay;
mod cli_show;
pub mod compare;
pub mod contents;
pub mod create;
pub mod inspect;
pub mod inuse;
mod list_cli;
pub mod listing;
pub mod manifest;
pub mod overview;
pub mod pattern;
pub mod progress;
pub mod prune;
pub mod records;
pub mod restore;
pub mod restore_overlay;
mod safety;
mod swap;
mod unpack;
pub mod verify;

pub use listing::{BackupEntry, Freshness, Listing};
pub use progress::{Cancel, Progress};
pub use records::{Status, Verification};

use crate::config::{BackupConfig, BackupFormat, Config};
use pattern::NamePattern;
use std::path::PathBuf;
use std::time::Duration;

/// A configured set with its paths resolved against the config file's folder.
#[derive(Debug, Clone)]
pub struct BackupSet {
    pub name: String,
    pub dir: PathBuf,
    pub pattern: NamePattern,
    pub pattern_text: String,
    pub format: BackupFormat,
    pub restore_to: Option<PathBuf>,
    pub keep: Option<Duration>,
    pub keep_last: Option<u32>,
    pub every: Option<Duration>,
    pub check: verify::CheckOptions,
    /// The live database or file `create` copies.
    pub source: Option<PathBuf>,
    /// Restore setuid/setgid/sticky/world-write bits and owners from archives as recorded.
    pub preserve_permissions: bool,
    /// The target name a restore locks (shared with actions), when the set names one.
    pub target: Option<String>,
    /// Tree sets: swap the whole target folder, or write the backup's files over it.
    pub restore_mode: crate::config::RestoreMode,
    /// Only backups verified good count as fresh.
    pub require_verified: bool,
}

impl BackupSet {
    /// The set for one `[[backup]]`; `None` only for a pattern validation already rejected.
    pub fn from_config(config: &Config, set: &BackupConfig) -> Option<BackupSet> {
        let pattern = NamePattern::parse(set.pattern.get_ref()).ok()?;
        Some(BackupSet {
            name: set.name.get_ref().clone(),
            dir: config.resolve(&set.dir),
            pattern,
            pattern_text: set.pattern.get_ref().clone(),
            format: set.format,
            restore_to: set.restore_to.as_deref().map(|p| config.resolve(p)),
            keep: set.keep.map(|k| k.get()),
            keep_last: set.keep_last.as_ref().map(|k| *k.get_ref()),
            every: set.every.map(|e| e.get()),
            check: verify::CheckOptions {
                count: set.count.iter().map(|t| t.get_ref().clone()).collect(),
                integrity: set.integrity,
                max_unpacked: set.max_unpacked(),
                max_ratio: set.max_ratio(),
                manifest: set.manifest.as_ref().map(|m| m.get_ref().clone()),
            },
            source: set.source.as_ref().map(|p| config.resolve(p.get_ref())),
            preserve_permissions: set.preserve_permissions,
            target: set.target.clone().filter(|t| !t.trim().is_empty()),
            restore_mode: set.restore_mode.as_ref().map(|mode| *mode.get_ref()).unwrap_or_default(),
            require_verified: set.require_verified,
        })
    }

    /// Every set in the config.
    pub fn all(config: &Config) -> Vec<BackupSet> {
        config.backups.iter().filter_map(|set| BackupSet::from_config(config, set)).collect()
    }

    /// A bare set for tests and benches: one folder, one format, a dateless `*` pattern unless given.
    pub fn simple(name: &str, dir: PathBuf, pattern: &str, format: BackupFormat) -> Result<BackupSet, String> {
        Ok(BackupSet {
            name: name.into(),
            dir,
            pattern: NamePattern::parse(pattern)?,
            pattern_text: pattern.into(),
            format,
            restore_to: None,
            keep: None,
            keep_last: None,
            every: None,
            check: verify::CheckOptions::default(),
            source: None,
            preserve_permissions: false,
            target: None,
            restore_mode: crate::config::RestoreMode::Replace,
            require_verified: false,
        })
    }
}

/// Sizes for people: `812 B`, `4.2 KiB`, `1.3 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// Ages for people at minute resolution: `<1m`, `42m`, `3h12m`, `1d14h`, `7d`.
pub fn human_age(age: Duration) -> String {
    let minutes = age.as_secs() / 60;
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours, mins) {
        (0, 0, 0) => "<1m".into(),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m:02}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h:02}h"),
    }
}

/// Takes the host-wide lock on a set's backups, so a prune and a backup being made
/// never overlap (two operators, or the console and cron); a refusal is audited and says who holds it.
pub(crate) fn lock_set(
    set: &str,
    store: Option<&crate::store::Store>,
    who: &crate::util::identity::Identity,
    operation: &str,
) -> Result<crate::action::lock::TargetLock, String> {
    let dir = crate::action::lock::dir_for(store);
    let group = store.and_then(crate::store::Store::shared_group);
    crate::action::lock::TargetLock::acquire_with(&dir, &format!("backups {set}"), who, operation, group).map_err(
        |err| {
            if let Some(store) = store {
                let entry = crate::store::AuditEntry {
                    event: "lock-refused".into(),
                    action: Some(operation.to_string()),
                    target: Some(format!("backups {set}")),
                    detail: Some(err.to_string()),
                    ..Default::default()
                };
                // The refusal is what the operator hears; an audit failure on top changes nothing that happens.
                let _ = store.audit(entry, who);
            }
            err.to_string()
        },
    )
}

/// Verifies one backup and records the result (when there is a store); a
/// cancelled check records nothing and returns `None`.
pub fn check_and_record(
    set: &BackupSet,
    entry: &BackupEntry,
    store: Option<&crate::store::Store>,
    progress: &mut dyn Progress,
    cancel: &Cancel,
) -> Option<Verification> {
    let started = std::time::Instant::now();
    let result = verify::verify(set.format, &set.check, &entry.path, progress, cancel);
    if result == Err(verify::Failure::Cancelled) {
        return None;
    }
    let elapsed = started.elapsed().as_millis() as u64;
    let verification = Verification::of(entry, &result, chrono::Utc::now(), elapsed);
    // A check that could not run is shown, never kept as the backup's verdict.
    if matches!(result, Err(verify::Failure::NoRoom(_))) {
        return Some(verification);
    }
    match store {
        Some(store) => Some(records::save(store, &set.name, &entry.name, verification.clone()).unwrap_or(verification)),
        None => Some(verification),
    }
}
