//! The audit rows and incident timeline lines of silence operations, written
//! as an action's are: every request, refusal, cancel, confirmation, start and
//! outcome is a row naming the operator; refusals, starts and outcomes also go
//! onto the open incident's timeline when one is open.

use crate::incident::record::{self, EventKind};
use crate::store::{AuditEntry, Store, StoreError};
use crate::util::identity::Identity;

/// Writes one operation's rows: `what` is the operation ([`super::plan::ADD`] ...), `engine` its target.
#[derive(Clone)]
pub struct Log {
    pub store: Store,
    pub who: Identity,
    pub what: String,
    pub engine: String,
}

impl Log {
    pub fn new(store: &Store, who: &Identity, what: &str, engine: &str) -> Log {
        Log { store: store.clone(), who: who.clone(), what: what.to_string(), engine: engine.to_string() }
    }

    /// One audit row; the error says why it could not be written (then nothing may run).
    pub fn audit(&self, event: &str, detail: impl Into<String>) -> Result<(), StoreError> {
        let entry = AuditEntry {
            event: event.to_string(),
            action: Some(self.what.clone()),
            target: Some(self.engine.clone()),
            argv: None,
            incident_id: record::open_incident_id(&self.store).ok().flatten(),
            detail: Some(detail.into()),
        };
        self.store.audit(entry, &self.who).map(|_| ())
    }

    /// A line on the open incident's timeline, if one is open.
    pub fn timeline(&self, kind: EventKind, text: &str) {
        if let Ok(Some(id)) = record::open_incident_id(&self.store) {
            // The audit row beside it is the record that counts; a timeline line lost to a busy store is said nowhere else.
            let _ = record::add_event(&self.store, id, kind, None, text, &self.who);
        }
    }

    /// A refusal: its audit row and its timeline line.
    pub fn refused(&self, why: &str) {
        // The refusal is what the operator is told; a log that cannot take it changes nothing that happens.
        let _ = self.audit("refused", why);
        self.timeline(EventKind::Action, &format!("{} on {} refused: {why}", self.what, self.engine));
    }
}
