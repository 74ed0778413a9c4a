//! Health history in the shared store: per-minute buckets (runs, good runs,
//! latency) and state transitions, kept for seven days.

use super::history::{Bucket, minute_of};
use super::outcome::Level;
use super::view::TransitionView;
use crate::store::migrations::Migrations;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::params;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

pub const MIGRATIONS: Migrations = Migrations {
    module: "health",
    steps: &[
        "CREATE TABLE health_minutes (
            check_name TEXT NOT NULL,
            minute INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            total INTEGER NOT NULL,
            latency_sum_ms INTEGER NOT NULL,
            latency_max_ms INTEGER NOT NULL,
            PRIMARY KEY (check_name, minute)
        ) WITHOUT ROWID;
        CREATE TABLE health_transitions (
            id INTEGER PRIMARY KEY,
            check_name TEXT NOT NULL,
            at_ms INTEGER NOT NULL,
            from_level TEXT,
            to_level TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX health_transitions_by_check ON health_transitions (check_name, at_ms);",
        // Runs flagged slow, so the measured baseline can leave their minutes out after a restart.
        "ALTER TABLE health_minutes ADD COLUMN slow INTEGER NOT NULL DEFAULT 0;",
    ],
};

/// How long history is kept.
pub const RETENTION: Duration = Duration::from_secs(7 * 86_400);

/// The most past-retention minutes one write removes for a check. After a long
/// stop the backlog goes over the following writes, a step each, rather than in
/// one transaction of thousands of pages.
const PRUNE_STEP_MINUTES: i64 = 60;
/// The most rows one sweep removes, for the same reason.
const SWEEP_STEP_ROWS: i64 = 10_000;

/// Writes waiting for the next flush.
#[derive(Debug, Default)]
pub struct Persist {
    minutes: HashMap<(String, i64), Bucket>,
    transitions: Vec<(String, TransitionView)>,
    /// Also drop every other check's rows past retention (a scan of the whole table).
    sweep: bool,
}

impl Persist {
    pub fn record(&mut self, name: &str, at: DateTime<Utc>, ok: bool, latency: Option<Duration>) {
        self.record_run(name, at, ok, latency, false);
    }

    pub fn record_run(&mut self, name: &str, at: DateTime<Utc>, ok: bool, latency: Option<Duration>, slow: bool) {
        let minute = minute_of(at);
        let latency_ms = latency.map_or(0, |l| u32::try_from(l.as_millis()).unwrap_or(u32::MAX));
        let bucket = self.minutes.entry((name.to_string(), minute)).or_insert(Bucket { minute, ..Bucket::default() });
        bucket.total += 1;
        bucket.ok += u32::from(ok);
        bucket.latency_sum_ms += u64::from(latency_ms);
        bucket.latency_max_ms = bucket.latency_max_ms.max(latency_ms);
        bucket.slow += u32::from(slow);
    }

    pub fn transition(&mut self, name: &str, transition: &TransitionView) {
        self.transitions.push((name.to_string(), transition.clone()));
    }

    /// Past-retention rows of checks not in this batch (removed from the config)
    /// are dropped too. It reads the whole table, so the engine asks for it rarely.
    pub fn sweep(&mut self) {
        self.sweep = true;
    }

    /// Nothing new to write (a sweep alone does not count).
    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty() && self.transitions.is_empty()
    }
}

/// Adds the buckets (two processes may both write one minute: counts add up) and
/// transitions in one transaction, then drops what is past retention for the
/// checks written: through the primary key, at most [`PRUNE_STEP_MINUTES`] each.
pub async fn write(store: &Store, batch: Persist) -> Result<(), StoreError> {
    store
        .call_async(move |connection| {
            let transaction = connection.transaction()?;
            {
                let mut upsert = transaction.prepare_cached(
                    "INSERT INTO health_minutes (check_name, minute, ok, total, latency_sum_ms, latency_max_ms, slow)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (check_name, minute) DO UPDATE SET
                        ok = ok + excluded.ok, total = total + excluded.total, slow = slow + excluded.slow,
                        latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms,
                        latency_max_ms = max(latency_max_ms, excluded.latency_max_ms)",
                )?;
                for ((name, minute), b) in &batch.minutes {
                    upsert.execute(params![
                        name,
                        minute,
                        b.ok,
                        b.total,
                        b.latency_sum_ms as i64,
                        b.latency_max_ms,
                        b.slow
                    ])?;
                }
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO health_transitions (check_name, at_ms, from_level, to_level, message)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (name, t) in &batch.transitions {
                    insert.execute(params![
                        name,
                        t.at.timestamp_millis(),
                        t.from.map(Level::as_str),
                        t.to.as_str(),
                        t.message
                    ])?;
                }
                let cutoff = Utc::now() - chrono::Duration::from_std(RETENTION).unwrap_or_default();
                let mut prune_minutes = transaction.prepare_cached(
                    "DELETE FROM health_minutes WHERE check_name = ?1 AND minute < min(?2,
                        (SELECT min(minute) FROM health_minutes WHERE check_name = ?1) + ?3)",
                )?;
                let mut prune_transitions = transaction
                    .prepare_cached("DELETE FROM health_transitions WHERE check_name = ?1 AND at_ms < ?2")?;
                let names: BTreeSet<&str> = batch
                    .minutes
                    .keys()
                    .map(|(name, _)| name.as_str())
                    .chain(batch.transitions.iter().map(|(name, _)| name.as_str()))
                    .collect();
                for name in names {
                    prune_minutes.execute(params![name, minute_of(cutoff), PRUNE_STEP_MINUTES])?;
                    prune_transitions.execute(params![name, cutoff.timestamp_millis()])?;
                }
                if batch.sweep {
                    transaction.execute(
                        "DELETE FROM health_minutes WHERE (check_name, minute) IN
                            (SELECT check_name, minute FROM health_minutes WHERE minute < ?1 LIMIT ?2)",
                        params![minute_of(cutoff), SWEEP_STEP_ROWS],
                    )?;
                    transaction
                        .execute("DELETE FROM health_transitions WHERE at_ms < ?1", [cutoff.timestamp_millis()])?;
                }
            }
            transaction.commit()
        })
        .await
}

/// The last 24 h of buckets (oldest first) and the last transitions (newest first) of each check.
pub async fn load(store: &Store, names: Vec<String>) -> Result<Vec<(Vec<Bucket>, Vec<TransitionView>)>, StoreError> {
    let since = minute_of(Utc::now()) - 1440;
    store
        .call_async(move |connection| {
            let mut buckets = connection.prepare(
                "SELECT minute, ok, total, latency_sum_ms, latency_max_ms, slow FROM health_minutes
                 WHERE check_name = ?1 AND minute > ?2 ORDER BY minute",
            )?;
            let mut transitions = connection.prepare(
                "SELECT at_ms, from_level, to_level, message FROM health_transitions
                 WHERE check_name = ?1 ORDER BY at_ms DESC LIMIT 20",
            )?;
            let mut loaded = Vec::with_capacity(names.len());
            for name in &names {
                let rows = buckets
                    .query_map(params![name, since], |row| {
                        Ok(Bucket {
                            minute: row.get(0)?,
                            ok: row.get(1)?,
                            total: row.get(2)?,
                            latency_sum_ms: row.get::<_, i64>(3)? as u64,
                            latency_max_ms: row.get(4)?,
                            slow: row.get(5)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let changes = transitions
                    .query_map(params![name], |row| {
                        let at: i64 = row.get(0)?;
                        let from: Option<String> = row.get(1)?;
                        let to: String = row.get(2)?;
                        Ok(TransitionView {
                            at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                            from: from.as_deref().and_then(parse_level),
                            to: parse_level(&to).unwrap_or(Level::Unknown),
                            message: row.get(3)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                loaded.push((rows, changes));
            }
            Ok(loaded)
        })
        .await
}

fn parse_level(text: &str) -> Option<Level> {
    match text {
        "ok" => Some(Level::Ok),
        "warning" => Some(Level::Warning),
        "unknown" => Some(Level::Unknown),
        "critical" => Some(Level::Critical),
        _ => None,
    }
}
