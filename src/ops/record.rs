//! The `operations` table: one row per operation a supervisor carried (or
//! tried to carry) out, so any firstwatch on the host can list, follow and
//! cancel it, and the next one to start can tell an abandoned run apart.

use crate::store::migrations::Migrations;
use crate::store::{Store, StoreError};
use crate::util::identity::Identity;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::path::PathBuf;

pub(crate) const MIGRATIONS: Migrations = Migrations {
    module: "operations",
    steps: &[
        "CREATE TABLE operations (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            target TEXT NOT NULL,
            argv TEXT,
            state TEXT NOT NULL,
            supervisor_pid INTEGER,
            pgid INTEGER,
            user TEXT NOT NULL,
            host TEXT NOT NULL,
            tty TEXT,
            ssh_client TEXT,
            started TEXT NOT NULL,
            ended TEXT,
            exit_code INTEGER,
            detail TEXT,
            verification TEXT,
            output TEXT NOT NULL,
            staging TEXT,
            incident_id INTEGER,
            done INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX operations_open ON operations(done);",
        // What an in-process operation (a restore) came to, as JSON for the front end that follows it.
        "ALTER TABLE operations ADD COLUMN result TEXT;",
        // When the group's leader started (clock ticks since boot), so a reused pgid is never signalled.
        "ALTER TABLE operations ADD COLUMN leader_started INTEGER;",
    ],
};

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Running,
    Ok,
    Failed,
    Cancelled,
    TimedOut,
    /// Its supervisor died before it could record an outcome.
    Abandoned,
    /// The target was busy or the audit log could not be written: nothing ran.
    Refused,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Ok => "ok",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
            State::TimedOut => "timed_out",
            State::Abandoned => "abandoned",
            State::Refused => "refused",
        }
    }

    fn parse(text: &str) -> State {
        match text {
            "running" => State::Running,
            "ok" => State::Ok,
            "failed" => State::Failed,
            "cancelled" => State::Cancelled,
            "timed_out" => State::TimedOut,
            "refused" => State::Refused,
            _ => State::Abandoned,
        }
    }

    pub fn is_final(self) -> bool {
        self != State::Running
    }
}

/// A row about to be written when a supervisor takes on an operation.
#[derive(Debug, Clone)]
pub struct NewOperation {
    pub kind: String,
    pub name: String,
    pub target: String,
    pub argv: Option<Vec<String>>,
    pub supervisor_pid: u32,
    pub output: PathBuf,
    pub incident_id: Option<i64>,
}

/// A row read back.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OperationRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub target: String,
    pub argv: Option<Vec<String>>,
    pub state: State,
    /// The supervisor's pid (signal it to cancel).
    pub pid: Option<i64>,
    pub pgid: Option<i64>,
    pub user: String,
    pub host: String,
    pub tty: Option<String>,
    pub ssh_client: Option<String>,
    pub started: String,
    pub ended: Option<String>,
    /// The exit code the front end passes on (`firstwatch action`'s codes).
    pub exit: Option<i64>,
    pub detail: Option<String>,
    /// `watching` while the service is watched after the command, then the verdict.
    pub verification: Option<String>,
    pub output: PathBuf,
    pub staging: Option<PathBuf>,
    pub incident_id: Option<i64>,
    /// The supervisor has finished everything (command and watch).
    pub done: bool,
    /// For a restore: its outcome or error, as JSON.
    #[serde(skip)]
    pub result: Option<String>,
    /// When the command's group leader started, in clock ticks since boot.
    #[serde(skip)]
    pub leader_started: Option<i64>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const COLUMNS: &str = "id, kind, name, target, argv, state, supervisor_pid, pgid, user, host, tty, ssh_client, \
                       started, ended, exit_code, detail, verification, output, staging, incident_id, done, result, \
                       leader_started";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OperationRow> {
    let argv: Option<String> = row.get(4)?;
    let state: String = row.get(5)?;
    let output: String = row.get(17)?;
    let staging: Option<String> = row.get(18)?;
    Ok(OperationRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        name: row.get(2)?,
        target: row.get(3)?,
        argv: argv.and_then(|text| serde_json::from_str(&text).ok()),
        state: State::parse(&state),
        pid: row.get(6)?,
        pgid: row.get(7)?,
        user: row.get(8)?,
        host: row.get(9)?,
        tty: row.get(10)?,
        ssh_client: row.get(11)?,
        started: row.get(12)?,
        ended: row.get(13)?,
        exit: row.get(14)?,
        detail: row.get(15)?,
        verification: row.get(16)?,
        output: PathBuf::from(output),
        staging: staging.map(PathBuf::from),
        incident_id: row.get(19)?,
        done: row.get::<_, i64>(20)? != 0,
        result: row.get(21)?,
        leader_started: row.get(22)?,
    })
}

/// Records an operation as running; returns its id.
pub fn insert(store: &Store, operation: NewOperation, who: &Identity) -> Result<i64, StoreError> {
    let who = who.clone();
    store.call(move |connection| {
        let argv = operation.argv.map(|argv| serde_json::to_string(&argv).unwrap_or_default());
        connection.execute(
            "INSERT INTO operations (kind, name, target, argv, state, supervisor_pid, user, host, tty, ssh_client,
                                     started, output, incident_id)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                operation.kind,
                operation.name,
                operation.target,
                argv,
                operation.supervisor_pid,
                who.user,
                who.host,
                who.tty,
                who.ssh_client,
                now(),
                operation.output.display().to_string(),
                operation.incident_id,
            ],
        )?;
        Ok(connection.last_insert_rowid())
    })
}

/// The child's process group, once it runs (to stop leftovers of an abandoned run),
/// with its leader's start time, which tells that group from a later one given the same number.
pub fn set_pgid(store: &Store, id: i64, pgid: u32) -> Result<(), StoreError> {
    let started = crate::util::process::start_ticks(pgid).and_then(|t| i64::try_from(t).ok());
    store.call(move |c| {
        c.execute("UPDATE operations SET pgid = ?2, leader_started = ?3 WHERE id = ?1", params![id, pgid, started])
            .map(|_| ())
    })
}

/// Files a restore is writing, to be removed if its supervisor dies.
pub fn set_staging(store: &Store, id: i64, staging: Option<PathBuf>) -> Result<(), StoreError> {
    let staging = staging.map(|p| p.display().to_string());
    store.call(move |c| c.execute("UPDATE operations SET staging = ?2 WHERE id = ?1", params![id, staging]).map(|_| ()))
}

/// The command has ended: how, with which exit code for the front end.
pub fn finish(store: &Store, id: i64, state: State, exit: i32, detail: &str) -> Result<(), StoreError> {
    let detail = detail.to_string();
    store.call(move |c| {
        c.execute(
            "UPDATE operations SET state = ?2, exit_code = ?3, detail = ?4, ended = ?5, staging = NULL WHERE id = ?1",
            params![id, state.as_str(), exit, detail, now()],
        )
        .map(|_| ())
    })
}

/// The watch after the command: `watching`, then its verdict (with the exit code it implies).
pub fn set_verification(store: &Store, id: i64, verification: &str, exit: Option<i32>) -> Result<(), StoreError> {
    let verification = verification.to_string();
    store.call(move |c| {
        c.execute(
            "UPDATE operations SET verification = ?2, exit_code = COALESCE(?3, exit_code) WHERE id = ?1",
            params![id, verification, exit],
        )
        .map(|_| ())
    })
}

/// What an in-process operation came to, for the front end that follows it.
pub fn set_result(store: &Store, id: i64, result: &str) -> Result<(), StoreError> {
    let result = result.to_string();
    store.call(move |c| c.execute("UPDATE operations SET result = ?2 WHERE id = ?1", params![id, result]).map(|_| ()))
}

/// The supervisor is done with this operation.
pub fn mark_done(store: &Store, id: i64) -> Result<(), StoreError> {
    store.call(move |c| c.execute("UPDATE operations SET done = 1 WHERE id = ?1", [id]).map(|_| ()))
}

/// Marks an operation whose supervisor is gone.
pub fn abandon(store: &Store, id: i64, detail: &str) -> Result<(), StoreError> {
    let detail = detail.to_string();
    store.call(move |c| {
        c.execute(
            "UPDATE operations SET
                state = CASE WHEN state = 'running' THEN 'abandoned' ELSE state END,
                verification = CASE WHEN verification = 'watching' THEN 'abandoned' ELSE verification END,
                detail = CASE WHEN state = 'running' THEN ?2 ELSE detail END,
                exit_code = CASE WHEN state = 'running' THEN 1 ELSE exit_code END,
                ended = COALESCE(ended, ?3), staging = NULL, done = 1
             WHERE id = ?1",
            params![id, detail, now()],
        )
        .map(|_| ())
    })
}

pub fn get(store: &Store, id: i64) -> Result<Option<OperationRow>, StoreError> {
    store.call(move |c| {
        c.query_row(&format!("SELECT {COLUMNS} FROM operations WHERE id = ?1"), [id], read_row).optional()
    })
}

/// Operations whose supervisor has not said it is done, oldest first.
pub fn open(store: &Store) -> Result<Vec<OperationRow>, StoreError> {
    store.call(|c| {
        let mut statement = c.prepare(&format!("SELECT {COLUMNS} FROM operations WHERE done = 0 ORDER BY id"))?;
        statement.query_map([], read_row)?.collect()
    })
}

/// The newest `limit` operations, oldest first.
pub fn recent(store: &Store, limit: usize) -> Result<Vec<OperationRow>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    store.call(move |c| {
        let mut statement = c.prepare(&format!(
            "SELECT {COLUMNS} FROM (SELECT * FROM operations ORDER BY id DESC LIMIT ?1) ORDER BY id"
        ))?;
        statement.query_map([limit], read_row)?.collect()
    })
}

/// A newer operation on `target` than `id`, if one started (it supersedes a watch).
pub fn newer_on_target(store: &Store, id: i64, target: &str) -> Result<Option<OperationRow>, StoreError> {
    let target = target.to_string();
    store.call(move |c| {
        c.query_row(
            &format!(
                "SELECT {COLUMNS} FROM operations WHERE target = ?2 AND id > ?1 AND state != 'refused' \
                 ORDER BY id LIMIT 1"
            ),
            params![id, target],
            read_row,
        )
        .optional()
    })
}
