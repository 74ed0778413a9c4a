//! The append-only audit log: who did what, where and when.

use super::migrations::Migrations;
use super::{Store, StoreError};
use crate::util::identity::Identity;
use rusqlite::params;
use serde::Serialize;

pub(super) const MIGRATIONS: Migrations = Migrations {
    module: "audit",
    steps: &["CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            host TEXT NOT NULL,
            ssh_client TEXT,
            tty TEXT,
            event TEXT NOT NULL,
            action TEXT,
            target TEXT,
            argv TEXT,
            incident_id INTEGER,
            detail TEXT
        );
        CREATE INDEX audit_at ON audit(at);
        -- Append-only at the SQL level: edits and deletions are refused.
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"],
};

/// A row about to be written. The identity and time are filled in by the store call.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub event: String,
    pub action: Option<String>,
    pub target: Option<String>,
    pub argv: Option<Vec<String>>,
    pub incident_id: Option<i64>,
    pub detail: Option<String>,
}

/// A row read back.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub user: String,
    pub host: String,
    pub ssh_client: Option<String>,
    pub tty: Option<String>,
    pub event: String,
    pub action: Option<String>,
    pub target: Option<String>,
    pub argv: Option<Vec<String>>,
    pub incident_id: Option<i64>,
    pub detail: Option<String>,
}

impl Store {
    /// Appends an audit row and returns its id once it is on disk.
    pub fn audit(&self, entry: AuditEntry, who: &Identity) -> Result<i64, StoreError> {
        let who = who.clone();
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.call(move |connection| {
            let argv = entry.argv.map(|argv| serde_json::to_string(&argv).unwrap_or_default());
            connection.execute(
                "INSERT INTO audit (at, user, host, ssh_client, tty, event, action, target, argv, incident_id, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    at,
                    who.user,
                    who.host,
                    who.ssh_client,
                    who.tty,
                    entry.event,
                    entry.action,
                    entry.target,
                    argv,
                    entry.incident_id,
                    entry.detail
                ],
            )?;
            Ok(connection.last_insert_rowid())
        })
    }

    /// Audit rows at or after `since` (RFC 3339), oldest first.
    pub fn audit_since(&self, since: Option<String>) -> Result<Vec<AuditRow>, StoreError> {
        self.call(move |connection| {
            let mut statement = connection.prepare(
                "SELECT id, at, user, host, ssh_client, tty, event, action, target, argv, incident_id, detail
                 FROM audit WHERE at >= ?1 ORDER BY id",
            )?;
            let rows = statement.query_map([since.unwrap_or_default()], |row| {
                let argv: Option<String> = row.get(9)?;
                Ok(AuditRow {
                    id: row.get(0)?,
                    at: row.get(1)?,
                    user: row.get(2)?,
                    host: row.get(3)?,
                    ssh_client: row.get(4)?,
                    tty: row.get(5)?,
                    event: row.get(6)?,
                    action: row.get(7)?,
                    target: row.get(8)?,
                    argv: argv.and_then(|text| serde_json::from_str(&text).ok()),
                    incident_id: row.get(10)?,
                    detail: row.get(11)?,
                })
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_rows_round_trip_and_cannot_be_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let who =
            Identity { user: "ana".into(), host: "bastion".into(), ssh_client: Some("10.0.0.7".into()), tty: None };
        let entry = AuditEntry {
            event: "request".into(),
            action: Some("redeploy api".into()),
            argv: Some(vec!["deploy".into(), "a b; rm -rf /".into()]),
            ..AuditEntry::default()
        };
        let id = store.audit(entry, &who).unwrap();
        let rows = store.audit_since(None).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, id);
        assert_eq!(rows[0].argv.as_deref(), Some(&["deploy".to_string(), "a b; rm -rf /".to_string()][..]));
        assert_eq!(rows[0].ssh_client.as_deref(), Some("10.0.0.7"));
        let deleted = store.call(|c| c.execute("DELETE FROM audit", []));
        assert!(deleted.is_err(), "deleting audit rows must be refused");
        assert_eq!(store.audit_since(None).unwrap().len(), 1);
    }
}
