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
        for debris in &debris {
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
    let Some(number) = row.pgid.and_then(|g| u32::try_from(g).ok()).filter(|g| *g > 1) else { return false };
    let group = Pid::from_raw(number as i32);
    if killpg(group, None::<Signal>).is_err() {
        return false;
    }
    let leader = crate::util::process::start_ticks(number);
    if !still_ours(row.leader_started, leader) {
        return false;
    }
    killpg(group, Signal::SIGKILL).is_ok()
}

/// Whether a live group with the recorded number is still the operation's.
/// Linux never hands out a number still in use as a group id, so a group whose
/// leader is gone is the same group; a leader that started at another time is
/// a new process that got the number after the whole old group ended.
fn still_ours(recorded: Option<i64>, leader_now: Option<u64>) -> bool {
    match (recorded, leader_now) {
        (_, None) => true,
        (Some(recorded), Some(now)) => u64::try_from(recorded).is_ok_and(|recorded| recorded == now),
        // Recorded before start times were: trust it as before.
        (None, Some(_)) => true,
    }
}

/// What a restore had staged when its supervisor died (it records where before staging).
fn remove_staging(row: &OperationRow) -> Vec<std::path::PathBuf> {
    row.staging.as_deref().map(crate::backup::restore::remove_staging).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::still_ours;

    #[test]
    fn a_group_number_taken_by_a_later_process_is_not_ours() {
        assert!(still_ours(Some(500), Some(500)), "the same leader");
        assert!(!still_ours(Some(500), Some(9000)), "a new leader with the old number");
        assert!(still_ours(Some(500), None), "the leader died; its group lives on");
        assert!(still_ours(None, Some(9000)), "rows from before start times were kept");
    }
}
