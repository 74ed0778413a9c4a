//! Cancelling a running operation, from whichever front end: the request, the
//! refusal or the signal are each an audit row, so the log says who stopped what.

use super::confirm::{Cancel, Confirmed};
use super::output::supervisor_alive;
use super::record::OperationRow;
use crate::store::{AuditEntry, Store, StoreError};
use crate::util::identity::Identity;

/// Why a cancel did not reach the operation.
#[derive(Debug, Clone, PartialEq)]
pub enum NotCancelled {
    /// It had already ended (or its supervisor is gone): nothing to stop.
    NotRunning(String),
    /// The request could not be carried out (no pid, the signal failed, no audit row).
    Failed(String),
}

impl std::fmt::Display for NotCancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotCancelled::NotRunning(why) | NotCancelled::Failed(why) => f.write_str(why),
        }
    }
}

/// Writes one audit row about cancelling `row`.
pub fn audit(store: &Store, who: &Identity, row: &OperationRow, event: &str, detail: &str) -> Result<i64, StoreError> {
    let entry = AuditEntry {
        event: event.into(),
        action: Some(row.name.clone()),
        target: Some(row.target.clone()),
        argv: row.argv.clone(),
        incident_id: crate::incident::record::open_incident_id(store).ok().flatten(),
        detail: Some(format!("operation #{}: {detail}", row.id)),
    };
    store.audit(entry, who)
}

/// Asks `row`'s supervisor to stop (SIGTERM; it stops the command's group and
/// records the outcome). The operator confirmed (`confirmed`, for this very
/// operation); the request was audited. Returns the supervisor's pid.
pub fn signal(
    store: &Store,
    who: &Identity,
    confirmed: &Confirmed<Cancel>,
    row: &OperationRow,
) -> Result<i32, NotCancelled> {
    if confirmed.what().id != row.id {
        return Err(NotCancelled::Failed(format!(
            "the confirmation was for operation #{}, not #{}",
            confirmed.what().id,
            row.id
        )));
    }
    if row.state.is_final() || !supervisor_alive(&row.output) {
        let _ = audit(store, who, row, "cancel-refused", "the operation is not running");
        return Err(NotCancelled::NotRunning(format!("operation #{} is not running ({})", row.id, row.state.as_str())));
    }
    // Never 0 or negative: those would signal a whole process group, perhaps our own.
    let Some(pid) = row.pid.and_then(|pid| i32::try_from(pid).ok()).filter(|pid| *pid > 0) else {
        let _ = audit(store, who, row, "cancel-refused", "no supervisor pid on record");
        return Err(NotCancelled::Failed(format!("operation #{} has no supervisor pid on record", row.id)));
    };
    use nix::sys::signal::{Signal, kill};
    if let Err(err) = kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM) {
        let _ = audit(store, who, row, "cancel-refused", &format!("cannot signal the supervisor: {err}"));
        return Err(NotCancelled::Failed(format!(
            "cannot signal operation #{}'s supervisor (pid {pid}): {err}",
            row.id
        )));
    }
    let _ = audit(store, who, row, "cancel-sent", &format!("SIGTERM to supervisor pid {pid}"));
    Ok(pid)
}
