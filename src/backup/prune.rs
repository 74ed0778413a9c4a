//! Applying a set's retention rule: removing the backups it marks, each removal audited.

use super::BackupEntry;
use crate::store::{AuditEntry, Store};
use crate::util::identity::Identity;

/// What happened to one backup the rule marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub name: String,
    pub result: Result<(), String>,
}

/// Removes every backup in `backups` marked `prune`, writing an audit row
/// before each removal (nothing is removed when that row cannot be written).
/// `Err` when another operation holds the set (a prune or a backup being made).
pub fn prune(set: &str, backups: &[BackupEntry], store: &Store, who: &Identity) -> Result<Vec<Removal>, String> {
    prune_with(set, backups, store, who, &mut || {})
}

/// [`prune`], calling `on_start` once the first removal's audit row is written
/// (a supervisor says the prune started only then). If that first row cannot be
/// written, nothing is removed and the `Err` says so.
pub fn prune_with(
    set: &str,
    backups: &[BackupEntry],
    store: &Store,
    who: &Identity,
    on_start: &mut dyn FnMut(),
) -> Result<Vec<Removal>, String> {
    let _lock = super::lock_set(set, Some(store), who, &format!("prune {set}"))?;
    let incident_id = crate::incident::record::open_incident_id(store).ok().flatten();
    let mut removals = Vec::new();
    for backup in backups.iter().filter(|b| b.prune) {
        let entry = |event: &str, detail: String| AuditEntry {
            event: event.into(),
            action: Some(format!("prune {set}")),
            target: Some(backup.path.display().to_string()),
            argv: None,
            incident_id,
            detail: Some(detail),
        };
        let created = backup.created.to_rfc3339();
        if let Err(err) = store.audit(entry("prune-start", format!("created {created}")), who) {
            if removals.is_empty() {
                return Err(format!("the audit log cannot be written, so nothing was removed: {err}"));
            }
            removals
                .push(Removal { name: backup.name.clone(), result: Err(format!("not removed: cannot audit: {err}")) });
            continue;
        }
        if removals.is_empty() {
            on_start();
        }
        let removed = if backup.path.is_dir() {
            std::fs::remove_dir_all(&backup.path)
        } else {
            std::fs::remove_file(&backup.path)
        };
        let result = removed.map_err(|err| err.to_string());
        let (event, detail) = match &result {
            Ok(()) => ("prune-done", format!("removed {} bytes", backup.size_bytes)),
            Err(reason) => ("prune-failed", reason.clone()),
        };
        let _ = store.audit(entry(event, detail), who);
        removals.push(Removal { name: backup.name.clone(), result });
    }
    Ok(removals)
}
