//! Past runs for the demo's calendar, so outcomes show from the first frame:
//! mostly successes, the night the backup failed (the same night the demo's
//! backup file is cut short), and a morning check nobody ran.

use crate::schedule::{How, NewRun, Plan, history};
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use std::path::Path;

/// Writes ten days of runs into the demo store under `data_dir`, once.
pub fn seed(data_dir: &Path, plan: &Plan, now: DateTime<Utc>) -> Result<usize, String> {
    let store = Store::open_in(data_dir).map_err(|err| err.to_string())?;
    let runs = demo_runs(plan, now);
    let count = runs.len();
    store
        .call(move |connection| {
            let seeded: i64 = connection.query_row("SELECT COUNT(*) FROM schedule_runs", [], |row| row.get(0))?;
            if seeded > 0 {
                return Ok(0);
            }
            let transaction = connection.transaction()?;
            for run in &runs {
                history::insert(&transaction, run)?;
            }
            transaction.commit()?;
            Ok(count)
        })
        .map_err(|err| err.to_string())
}

/// The runs themselves: every scheduled time of the last ten days, with a few going wrong.
pub fn demo_runs(plan: &Plan, now: DateTime<Utc>) -> Vec<NewRun> {
    let mut runs = Vec::new();
    let since = now - Duration::days(10);
    let backup_failed_on = (now - Duration::days(2)).date_naive();
    let missed_check_on = (now - Duration::days(1)).date_naive();
    for task in &plan.tasks {
        // Frequent tasks keep two days of history; the rest ten.
        let from = if task.spec().starts_with("*/") { now - Duration::days(2) } else { since };
        for (index, at) in task.runs_between(from, now - Duration::minutes(10), 400).into_iter().enumerate() {
            let day = at.date_naive();
            if task.name == "morning check" && day == missed_check_on {
                continue;
            }
            let base = task.expected.and_then(|d| Duration::from_std(d).ok()).unwrap_or(Duration::seconds(3));
            let jitter = Duration::seconds(((index * 37) % 23) as i64);
            let (exit_code, took, tail) = if task.name == "database backup" && day == backup_failed_on {
                (1, Duration::seconds(74), "gzip: stdout: No space left on device\nbackup aborted".to_string())
            } else if task.name == "health sweep" && index == 17 {
                (2, Duration::seconds(11), "orders: HTTP 503 after 10s".to_string())
            } else {
                (0, base + jitter, "done".to_string())
            };
            let started = at + Duration::seconds(2);
            runs.push(NewRun {
                task: task.name.clone(),
                started,
                ended: Some(started + took),
                exit_code: Some(exit_code),
                output_tail: Some(tail),
                how: How::Wrap,
                user: "cron".into(),
                host: "demo-host".into(),
            });
        }
    }
    runs.sort_by_key(|run| run.started);
    runs
}
