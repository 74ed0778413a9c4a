//! Past runs in the store: started, ended, exit code, output tail.

use crate::store::migrations::Migrations;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

pub const MIGRATIONS: Migrations = Migrations {
    module: "schedule",
    steps: &["CREATE TABLE schedule_runs (
            id INTEGER PRIMARY KEY,
            task TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            exit_code INTEGER,
            output_tail TEXT,
            how TEXT NOT NULL,
            user TEXT NOT NULL,
            host TEXT NOT NULL
        );
        CREATE INDEX schedule_runs_task ON schedule_runs(task, started_at);
        CREATE INDEX schedule_runs_started ON schedule_runs(started_at);"],
};

/// How much of a run's output is kept.
pub const OUTPUT_TAIL_BYTES: usize = 4096;

/// How a run reached the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// `firstwatch schedule run` or `x` in the tab.
    Run,
    /// `firstwatch schedule wrap` (typically from a crontab line).
    Wrap,
    /// `firstwatch schedule record` after the fact.
    Record,
}

impl How {
    fn as_str(self) -> &'static str {
        match self {
            How::Run => "run",
            How::Wrap => "wrap",
            How::Record => "record",
        }
    }

    fn parse(text: &str) -> How {
        match text {
            "wrap" => How::Wrap,
            "record" => How::Record,
            _ => How::Run,
        }
    }
}

/// A run read back from the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub task: String,
    pub started: DateTime<Utc>,
    /// `None` while running, or when the process recording it was killed.
    pub ended: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    pub output_tail: Option<String>,
    pub how: How,
    pub user: String,
    pub host: String,
}

/// What a run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    Failed,
    /// Started and not (yet) ended.
    Running,
}

impl Outcome {
    /// A word and a symbol, so the outcome reads without colour.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "✓ ok",
            Outcome::Failed => "✗ failed",
            Outcome::Running => "… running",
        }
    }
}

impl RunRecord {
    pub fn outcome(&self) -> Outcome {
        match (self.ended, self.exit_code) {
            (Some(_), Some(0)) => Outcome::Ok,
            (Some(_), _) => Outcome::Failed,
            (None, _) => Outcome::Running,
        }
    }

    pub fn duration(&self) -> Option<std::time::Duration> {
        self.ended.and_then(|ended| (ended - self.started).to_std().ok())
    }
}

/// A run about to be written.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub task: String,
    pub started: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    pub output_tail: Option<String>,
    pub how: How,
    pub user: String,
    pub host: String,
}

/// Times are stored as fixed-width UTC text, so text order is time order.
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn parse_stamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

pub fn insert(connection: &Connection, run: &NewRun) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT INTO schedule_runs (task, started_at, ended_at, exit_code, output_tail, how, user, host)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            run.task,
            stamp(run.started),
            run.ended.map(stamp),
            run.exit_code,
            run.output_tail,
            run.how.as_str(),
            run.user,
            run.host
        ],
    )?;
    Ok(connection.last_insert_rowid())
}

/// Marks a started run as ended.
pub fn finish(
    connection: &Connection,
    id: i64,
    ended: DateTime<Utc>,
    exit_code: i32,
    output_tail: Option<&str>,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE schedule_runs SET ended_at = ?2, exit_code = ?3, output_tail = ?4 WHERE id = ?1",
        params![id, stamp(ended), exit_code, output_tail],
    )?;
    Ok(())
}

const COLUMNS: &str = "id, task, started_at, ended_at, exit_code, output_tail, how, user, host";

fn read_row(row: &rusqlite::Row) -> rusqlite::Result<Option<RunRecord>> {
    let started: String = row.get(2)?;
    let ended: Option<String> = row.get(3)?;
    let how: String = row.get(6)?;
    let Some(started) = parse_stamp(&started) else { return Ok(None) };
    Ok(Some(RunRecord {
        id: row.get(0)?,
        task: row.get(1)?,
        started,
        ended: ended.as_deref().and_then(parse_stamp),
        exit_code: row.get(4)?,
        output_tail: row.get(5)?,
        how: How::parse(&how),
        user: row.get(7)?,
        host: row.get(8)?,
    }))
}

/// Runs started at or after `since`, oldest first, at most `limit` (the newest are kept).
pub fn runs_since(connection: &Connection, since: DateTime<Utc>, limit: usize) -> rusqlite::Result<Vec<RunRecord>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {COLUMNS} FROM (SELECT * FROM schedule_runs WHERE started_at >= ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)
         ORDER BY started_at, id"
    ))?;
    let rows = statement.query_map(params![stamp(since), limit as i64], read_row)?;
    rows.filter_map(|row| row.transpose()).collect()
}

/// The newest `limit` runs of one task, newest first.
pub fn last_runs(connection: &Connection, task: &str, limit: usize) -> rusqlite::Result<Vec<RunRecord>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {COLUMNS} FROM schedule_runs WHERE task = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2"
    ))?;
    let rows = statement.query_map(params![task, limit as i64], read_row)?;
    rows.filter_map(|row| row.transpose()).collect()
}

/// The newest run of each task, for "last outcome" columns.
pub fn latest_per_task(connection: &Connection) -> rusqlite::Result<Vec<RunRecord>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {COLUMNS} FROM schedule_runs r WHERE id = (
            SELECT id FROM schedule_runs WHERE task = r.task ORDER BY started_at DESC, id DESC LIMIT 1)
         ORDER BY task"
    ))?;
    let rows = statement.query_map([], read_row)?;
    rows.filter_map(|row| row.transpose()).collect()
}

pub fn get(connection: &Connection, id: i64) -> rusqlite::Result<Option<RunRecord>> {
    connection
        .query_row(&format!("SELECT {COLUMNS} FROM schedule_runs WHERE id = ?1"), [id], read_row)
        .optional()
        .map(Option::flatten)
}

/// Keeps the last `OUTPUT_TAIL_BYTES` of `bytes` as text, cut on a character boundary.
pub fn tail_text(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(OUTPUT_TAIL_BYTES);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let text = text.trim_start_matches('\u{fffd}');
    text.to_string()
}
