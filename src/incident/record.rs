//! Incidents in the shared store: one open at a time for the whole host,
//! with an append-only timeline. Every write bumps a revision counter, so
//! every firstwatch on the host notices another's change with one cheap read.

use crate::store::migrations::Migrations;
use crate::store::{Store, StoreError};
use crate::util::identity::Identity;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

pub const MIGRATIONS: Migrations = Migrations {
    module: "incident",
    steps: &["CREATE TABLE incident (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            severity TEXT NOT NULL,
            runbook TEXT,
            opened_at TEXT NOT NULL,
            opened_by TEXT NOT NULL,
            closed_at TEXT,
            closed_by TEXT,
            resolution TEXT,
            -- 1 while open, NULL once closed: UNIQUE lets only one incident be open.
            open_slot INTEGER UNIQUE CHECK (open_slot IS NULL OR open_slot = 1)
        );
        CREATE TABLE incident_event (
            id INTEGER PRIMARY KEY,
            incident_id INTEGER NOT NULL REFERENCES incident(id),
            at TEXT NOT NULL,
            who TEXT NOT NULL,
            kind TEXT NOT NULL,
            step TEXT,
            text TEXT NOT NULL
        );
        CREATE INDEX incident_event_by_incident ON incident_event(incident_id, id);
        CREATE TABLE incident_revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
        INSERT INTO incident_revision (id, value) VALUES (1, 0);
        CREATE TRIGGER incident_bump_insert AFTER INSERT ON incident BEGIN
            UPDATE incident_revision SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER incident_bump_update AFTER UPDATE ON incident BEGIN
            UPDATE incident_revision SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER incident_bump_event AFTER INSERT ON incident_event BEGIN
            UPDATE incident_revision SET value = value + 1 WHERE id = 1; END;
        CREATE TRIGGER incident_event_no_update BEFORE UPDATE ON incident_event BEGIN
            SELECT RAISE(ABORT, 'the timeline is append-only'); END;
        CREATE TRIGGER incident_event_no_delete BEFORE DELETE ON incident_event BEGIN
            SELECT RAISE(ABORT, 'the timeline is append-only'); END;"],
};

/// P0 (complete outage) to P3 (minimal impact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    P0,
    P1,
    P2,
    P3,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::P0, Severity::P1, Severity::P2, Severity::P3];

    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_uppercase().as_str() {
            "P0" | "CRITICAL" => Some(Severity::P0),
            "P1" | "HIGH" => Some(Severity::P1),
            "P2" | "MEDIUM" => Some(Severity::P2),
            "P3" | "LOW" => Some(Severity::P3),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::P0 => "P0",
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
        }
    }

    /// What the level means, in a few words.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::P0 => "complete outage or data loss",
            Severity::P1 => "significant degradation",
            Severity::P2 => "limited impact",
            Severity::P3 => "minimal impact",
        }
    }

    /// How soon someone must be working on it.
    pub fn response_target(self) -> &'static str {
        match self {
            Severity::P0 => "respond within 15 min",
            Severity::P1 => "respond within 30 min",
            Severity::P2 => "respond within 2 h",
            Severity::P3 => "respond within 24 h",
        }
    }
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Opened,
    Note,
    Tick,
    Untick,
    Skip,
    Severity,
    Action,
    ActionOutcome,
    Verify,
    Closed,
    /// A milestone of the post-mortem timeline (acknowledged ... resolved).
    Milestone,
    /// Stakeholders were told, by a notify action.
    Notify,
    /// A health check changed state (a machine entry).
    Check,
    /// An alert changed state (a machine entry).
    Alert,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Note => "note",
            EventKind::Tick => "tick",
            EventKind::Untick => "untick",
            EventKind::Skip => "skip",
            EventKind::Severity => "severity",
            EventKind::Action => "action",
            EventKind::ActionOutcome => "action-outcome",
            EventKind::Verify => "verify",
            EventKind::Closed => "closed",
            EventKind::Milestone => "milestone",
            EventKind::Notify => "notify",
            EventKind::Check => "check",
            EventKind::Alert => "alert",
        }
    }

    fn parse(text: &str) -> EventKind {
        match text {
            "opened" => EventKind::Opened,
            "tick" => EventKind::Tick,
            "untick" => EventKind::Untick,
            "skip" => EventKind::Skip,
            "severity" => EventKind::Severity,
            "action" => EventKind::Action,
            "action-outcome" => EventKind::ActionOutcome,
            "verify" => EventKind::Verify,
            "closed" => EventKind::Closed,
            "milestone" => EventKind::Milestone,
            "notify" => EventKind::Notify,
            "check" => EventKind::Check,
            "alert" => EventKind::Alert,
            _ => EventKind::Note,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub runbook: Option<String>,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub opened_by: String,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closed_by: Option<String>,
    pub resolution: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub who: String,
    pub kind: EventKind,
    /// The runbook step it is about, as `phase.step` (1-based), if any.
    pub step: Option<String>,
    pub text: String,
}

/// An incident with its whole timeline, oldest entry first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentRecord {
    pub incident: Incident,
    pub events: Vec<Event>,
}

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("incident #{id} \"{title}\" is already open; close it first (firstwatch incident close)")]
    AlreadyOpen { id: i64, title: String },
    #[error("no incident is open")]
    NoneOpen,
    #[error("no incident #{0}")]
    NotFound(i64),
    #[error("incident #{0} is closed")]
    Closed(i64),
    #[error("runbook `{runbook}` has no step {step}; steps are numbered PHASE.STEP (see `firstwatch incident status`)")]
    NoSuchStep { runbook: String, step: String },
    #[error("{0}")]
    NothingToExport(String),
    #[error("the title is empty")]
    EmptyTitle,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who, as recorded on the timeline: the user, and where they are when it is not local.
pub fn who(identity: &Identity) -> String {
    let who = match &identity.ssh_client {
        Some(client) => format!("{} from {client}", identity.user),
        None => identity.user.clone(),
    };
    // Environment variables are outside input too.
    crate::util::sanitize::sanitize_str(&who)
}

/// Sanitises text that may span lines, keeping its line breaks.
pub fn clean_text(text: &str) -> String {
    text.lines().map(crate::util::sanitize::sanitize_str).collect::<Vec<_>>().join("\n")
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_time(text: String) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(&text).map(|t| t.to_utc()).unwrap_or(chrono::DateTime::UNIX_EPOCH)
}

/// Opens a new incident; refused while another one is open anywhere on the host.
pub fn open(
    store: &Store,
    title: &str,
    severity: Severity,
    runbook: Option<&str>,
    identity: &Identity,
) -> Result<Incident, IncidentError> {
    let title = crate::util::sanitize::sanitize_str(title.trim());
    if title.is_empty() {
        return Err(IncidentError::EmptyTitle);
    }
    let who = who(identity);
    let runbook = runbook.map(str::to_string);
    let id = store.call(move |connection| {
        let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(open) = open_id(&transaction)? {
            return Ok(Err(open));
        }
        let at = now_text();
        transaction.execute(
            "INSERT INTO incident (title, severity, runbook, opened_at, opened_by, open_slot) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
            params![title, severity.label(), runbook, at, who],
        )?;
        let id = transaction.last_insert_rowid();
        let text = format!("{} opened: {title}", severity.label());
        insert_event(&transaction, id, &at, &who, EventKind::Opened, None, &text)?;
        transaction.commit()?;
        Ok(Ok(id))
    })?;
    match id {
        Ok(id) => get(store, id).map(|record| record.incident),
        Err(open) => {
            let title = get(store, open).map(|r| r.incident.title).unwrap_or_default();
            Err(IncidentError::AlreadyOpen { id: open, title })
        }
    }
}

/// Whether incident `id` exists and is open, read inside the caller's transaction.
fn still_open(connection: &Connection, id: i64) -> rusqlite::Result<Result<(), IncidentError>> {
    let closed: Option<Option<String>> =
        connection.query_row("SELECT closed_at FROM incident WHERE id = ?1", [id], |row| row.get(0)).optional()?;
    Ok(match closed {
        None => Err(IncidentError::NotFound(id)),
        Some(Some(_)) => Err(IncidentError::Closed(id)),
        Some(None) => Ok(()),
    })
}

fn open_id(connection: &Connection) -> rusqlite::Result<Option<i64>> {
    connection.query_row("SELECT id FROM incident WHERE open_slot = 1", [], |row| row.get(0)).optional()
}

fn insert_event(
    connection: &Connection,
    incident: i64,
    at: &str,
    who: &str,
    kind: EventKind,
    step: Option<&str>,
    text: &str,
) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT INTO incident_event (incident_id, at, who, kind, step, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![incident, at, who, kind.as_str(), step, text],
    )?;
    Ok(connection.last_insert_rowid())
}

/// The id of the open incident, if there is one.
pub fn open_incident_id(store: &Store) -> Result<Option<i64>, StoreError> {
    store.call(|connection| open_id(connection))
}

/// The open incident with its timeline.
pub fn current(store: &Store) -> Result<Option<IncidentRecord>, StoreError> {
    match open_incident_id(store)? {
        Some(id) => get(store, id).map(Some).or_else(|err| match err {
            IncidentError::Store(err) => Err(err),
            // Closed between the two reads.
            _ => Ok(None),
        }),
        None => Ok(None),
    }
}

/// Changes on every write to any incident, by any process.
pub fn revision(store: &Store) -> Result<i64, StoreError> {
    store.call(|connection| connection.query_row("SELECT value FROM incident_revision WHERE id = 1", [], |r| r.get(0)))
}

pub fn get(store: &Store, id: i64) -> Result<IncidentRecord, IncidentError> {
    let record = store.call(move |connection| {
        let incident = connection
            .query_row(
                "SELECT id, title, severity, runbook, opened_at, opened_by, closed_at, closed_by, resolution
                 FROM incident WHERE id = ?1",
                [id],
                incident_from_row,
            )
            .optional()?;
        let Some(incident) = incident else { return Ok(None) };
        let mut statement = connection.prepare(
            "SELECT id, at, who, kind, step, text FROM incident_event WHERE incident_id = ?1 ORDER BY at, id",
        )?;
        let events = statement
            .query_map([id], |row| {
                Ok(Event {
                    id: row.get(0)?,
                    at: parse_time(row.get(1)?),
                    who: row.get(2)?,
                    kind: EventKind::parse(&row.get::<_, String>(3)?),
                    step: row.get(4)?,
                    text: row.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(IncidentRecord { incident, events }))
    })?;
    record.ok_or(IncidentError::NotFound(id))
}

fn incident_from_row(row: &rusqlite::Row) -> rusqlite::Result<Incident> {
    let severity: String = row.get(2)?;
    Ok(Incident {
        id: row.get(0)?,
        title: row.get(1)?,
        severity: Severity::parse(&severity).unwrap_or(Severity::P2),
        runbook: row.get(3)?,
        opened_at: parse_time(row.get(4)?),
        opened_by: row.get(5)?,
        closed_at: row.get::<_, Option<String>>(6)?.map(parse_time),
        closed_by: row.get(7)?,
        resolution: row.get(8)?,
    })
}

/// Every incident, newest first.
pub fn list(store: &Store) -> Result<Vec<Incident>, StoreError> {
    store.call(|connection| {
        let mut statement = connection.prepare(
            "SELECT id, title, severity, runbook, opened_at, opened_by, closed_at, closed_by, resolution
             FROM incident ORDER BY id DESC",
        )?;
        statement.query_map([], incident_from_row)?.collect()
    })
}

/// Appends a timeline entry to the open incident `id`.
pub fn add_event(
    store: &Store,
    id: i64,
    kind: EventKind,
    step: Option<&str>,
    text: &str,
    identity: &Identity,
) -> Result<i64, IncidentError> {
    let who = who(identity);
    let step = step.map(str::to_string);
    let text = clean_text(text);
    store.call(move |connection| {
        let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Err(refused) = still_open(&transaction, id)? {
            return Ok(Err(refused));
        }
        let event = insert_event(&transaction, id, &now_text(), &who, kind, step.as_deref(), &text)?;
        transaction.commit()?;
        Ok(Ok(event))
    })?
}

/// Appends a timeline entry to whichever incident is open, if one is. The audit
/// row beside it is the record that counts, so a line the store cannot take is
/// not an error for the operation that tells it.
pub fn add_to_open(store: &Store, kind: EventKind, text: &str, identity: &Identity) {
    if let Ok(Some(id)) = open_incident_id(store) {
        let _ = add_event(store, id, kind, None, text, identity);
    }
}

/// Appends `text` to the open incident unless the same text was recorded within
/// `within`: several firstwatch instances on a host see the same health changes.
/// Check and write are one transaction, so two instances cannot both add it.
pub fn add_event_once(
    store: &Store,
    kind: EventKind,
    text: &str,
    within: chrono::TimeDelta,
    identity: &Identity,
) -> Result<bool, IncidentError> {
    let who = who(identity);
    let text = clean_text(text);
    let since = (chrono::Utc::now() - within).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Ok(store.call(move |connection| {
        let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let Some(id) = open_id(&transaction)? else { return Ok(false) };
        let seen: bool = transaction.query_row(
            "SELECT EXISTS (SELECT 1 FROM incident_event WHERE incident_id = ?1 AND text = ?2 AND at >= ?3)",
            params![id, text, since],
            |row| row.get(0),
        )?;
        if !seen {
            insert_event(&transaction, id, &now_text(), &who, kind, None, &text)?;
        }
        transaction.commit()?;
        Ok(!seen)
    })?)
}

/// Changes the severity of the open incident `id`.
pub fn set_severity(store: &Store, id: i64, severity: Severity, identity: &Identity) -> Result<(), IncidentError> {
    let record = get(store, id)?;
    if record.incident.closed_at.is_some() {
        return Err(IncidentError::Closed(id));
    }
    store.call(move |connection| {
        connection.execute("UPDATE incident SET severity = ?1 WHERE id = ?2", params![severity.label(), id])
    })?;
    let text = format!("severity {} -> {}", record.incident.severity.label(), severity.label());
    add_event(store, id, EventKind::Severity, None, &text, identity).map(|_| ())
}

/// Marks a milestone (acknowledged, mitigated ...) on the open incident `id`,
/// with an optional word on it; the entry reads `fix applied: deployed 1.4.2`.
pub fn mark_milestone(
    store: &Store,
    id: i64,
    milestone: super::milestone::Milestone,
    text: &str,
    identity: &Identity,
) -> Result<i64, IncidentError> {
    add_event(store, id, EventKind::Milestone, None, &milestone.entry_text(text), identity)
}

/// Closes incident `id` with what resolved it.
pub fn close(store: &Store, id: i64, resolution: &str, identity: &Identity) -> Result<(), IncidentError> {
    let who = who(identity);
    let resolution = clean_text(resolution.trim());
    store.call(move |connection| {
        let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Err(refused) = still_open(&transaction, id)? {
            return Ok(Err(refused));
        }
        let at = now_text();
        transaction.execute(
            "UPDATE incident SET closed_at = ?1, closed_by = ?2, resolution = ?3, open_slot = NULL WHERE id = ?4",
            params![at, who, resolution, id],
        )?;
        let text = if resolution.is_empty() { "closed".to_string() } else { format!("closed: {resolution}") };
        insert_event(&transaction, id, &at, &who, EventKind::Closed, None, &text)?;
        transaction.commit()?;
        Ok(Ok(()))
    })?
}
