//! `firstwatch audit`: read the append-only audit log.

use crate::cli::Global;
use crate::config::Config;
use crate::config::units::HumanDuration;
use crate::store::{AuditRow, Store};
use std::process::ExitCode;

/// Print the audit log: every action request, confirmation, refusal, run and outcome.
///
/// Exit codes: 0 printed (even if nothing matched); 1 the store cannot be read;
/// 2 bad arguments.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes:\n  0  printed (even if nothing matched)\n  1  the store cannot be read\n  2  bad arguments"
)]
pub struct AuditArgs {
    /// Only rows since: an RFC 3339 time, a date (2026-01-31) or a span back from now (90m, 2h, 7d).
    #[arg(long, value_parser = parse_since)]
    since: Option<String>,
    /// Only rows about this action.
    #[arg(long)]
    action: Option<String>,
    /// Only rows of this event (request, confirmed, refused, cancelled, dry-run, start, succeeded, failed, timed-out ...).
    #[arg(long)]
    event: Option<String>,
    /// At most this many rows, the newest.
    #[arg(long)]
    limit: Option<usize>,
    /// One JSON array instead of lines.
    #[arg(long)]
    json: bool,
}

/// Turns `--since` into the stored time format, so rows compare as text.
fn parse_since(text: &str) -> Result<String, String> {
    let format = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(format(time.to_utc()));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(format(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()));
    }
    match text.parse::<HumanDuration>() {
        Ok(span) => {
            let span = chrono::TimeDelta::from_std(span.get()).map_err(|e| e.to_string())?;
            Ok(format(chrono::Utc::now() - span))
        }
        Err(_) => Err(format!("`{text}` is not a time; use 2026-01-31T03:00:00Z, 2026-01-31 or a span like 2h")),
    }
}

pub fn run(config: Config, args: AuditArgs, _global: &Global) -> ExitCode {
    let store = match Store::for_config(&config) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("firstwatch audit: {err}");
            return ExitCode::from(1);
        }
    };
    let rows = match store.audit_since(args.since.clone()) {
        Ok(rows) => rows,
        Err(err) => {
            eprintln!("firstwatch audit: {err}");
            return ExitCode::from(1);
        }
    };
    let mut rows: Vec<AuditRow> = rows
        .into_iter()
        .filter(|row| args.action.as_ref().is_none_or(|a| row.action.as_ref() == Some(a)))
        .filter(|row| args.event.as_ref().is_none_or(|e| &row.event == e))
        .collect();
    if let Some(limit) = args.limit {
        let skip = rows.len().saturating_sub(limit);
        rows.drain(..skip);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    if rows.is_empty() {
        println!("no audit rows");
    }
    for row in rows {
        let clean = |t: &str| crate::util::sanitize::sanitize_str(t);
        let mut line = format!("{}  {:<15} {}", row.at, row.event, clean(&row.user));
        if let Some(client) = &row.ssh_client {
            line.push_str(&format!(" from {}", clean(client)));
        }
        if let Some(action) = &row.action {
            line.push_str(&format!("  {}", clean(action)));
        }
        if let Some(target) = &row.target {
            line.push_str(&format!(" -> {}", clean(target)));
        }
        if let Some(incident) = row.incident_id {
            line.push_str(&format!("  incident #{incident}"));
        }
        if let Some(detail) = &row.detail {
            line.push_str(&format!("  {}", clean(detail)));
        }
        println!("{line}");
    }
    ExitCode::SUCCESS
}
