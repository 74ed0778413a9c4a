//! Finding operations whose supervisor died (SIGKILL, OOM, reboot) and saying so.

use super::output::supervisor_alive;
use super::record::{self, OperationRow};
use crate::store::{AuditEntry, Store, StoreError};
use crate::util::identity::Identity;

/// Marks every unfinished operation whose supervisor is gone as abandoned, with
/// an audit row, stops what is left of its process group and removes what a
/// restore left half-written. Returns one line per operation it closed.
pub fn recover(store: &Store, who: &Identity) -> Result<Vec<String>, StoreError> {
    let mut notes = Vec::new();
    for row in record::open(store)? {
        if supervisor_alive(&row.output) {
            continue;
        }
        let leftovers = stop_leftovers(&row);
        let debris = remove_staging(&row);
        let was_running = row.state == record::State::Running;
        let what = if was_running { "its command" } else { "the watch after it" };
        let mut detail = format!("the supervisor (pid {}) died before {what} ended", row.pid.unwrap_or(0));
        if leftovers {
            detail.push_str("; stopped what was left of its process group");
        }
        if let Some(debris) = &debris {
            detail.push_str(&format!("; removed the unfinished restore at {}", debris.display()));
        }
        record::abandon(store, row.id, &detail)?;
        let entry = AuditEntry {
            event: "abandoned".into(),
            action: Some(row.name.clone()),
            target: Some(row.target.clone()),
            argv: row.argv.clone(),
            incident_id: row.incident_id,
            detail: Some(format!("operation #{}: {detail}", row.id)),
        };
        store.audit(entry, who)?;
        notes.push(format!("operation #{} ({}) was abandoned: {detail}", row.id, row.name));
    }
    Ok(notes)
}

/// SIGKILL to the command's group if any member still runs (grandchildren outlive a parent-death signal).
fn stop_leftovers(row: &OperationRow) -> bool {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let Some(group) = row.pgid.and_then(|g| i32::try_from(g).ok()).filter(|g| *g > 1) else { return false };
    let group = Pid::from_raw(group);
    if killpg(group, None::<Signal>).is_err() {
        return false;
    }
    killpg(group, Signal::SIGKILL).is_ok()
}

fn remove_staging(row: &OperationRow) -> Option<std::path::PathBuf> {
    let staging = row.staging.clone()?;
    let removed = if staging.is_dir() { std::fs::remove_dir_all(&staging) } else { std::fs::remove_file(&staging) };
    removed.ok().map(|()| staging)
}
