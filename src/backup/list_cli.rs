//! `firstwatch backups list` and `backups verify`: what the backups tab shows,
//! for people and for cron. Both end with the Nagios exit code of the worst set
//! (see [`super::assess`]) and say why on the last lines.

use super::assess::{self, Assessment, Limits};
use super::overview::{BackupJson, BackupState, SetState, survey};
use super::progress::{Cancel, silent};
use super::{BackupSet, check_and_record, human_age, human_bytes};
use crate::health::Level;
use crate::store::Store;
use crate::util::sanitize::sanitize_str;
use crate::util::zone::Zone;
use chrono::{DateTime, Utc};
use std::process::ExitCode;

/// Exit code when a set or backup named on the command line does not exist, or
/// nothing was named: Nagios's "unknown", since nothing could be judged.
const EXIT_USAGE: u8 = 3;

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("firstwatch backups: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn when(at: DateTime<Utc>, zone: Zone) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

/// Each set's verdict with its own `every`.
fn verdicts(states: &[SetState], now: DateTime<Utc>) -> Vec<(&SetState, Assessment)> {
    states.iter().map(|state| (state, assess::assess(state, Limits::for_set(state.every, None, None), now))).collect()
}

/// Says why (one line per set that is not ok) and returns the worst level's exit code.
/// With `--json` the reasons go to stderr, so stdout stays one JSON document.
fn conclude(verdicts: &[(&SetState, Assessment)], extra: Level, json: bool) -> ExitCode {
    let mut worst = extra;
    for (state, verdict) in verdicts {
        worst = worst.max(verdict.level);
        if verdict.level == Level::Ok {
            continue;
        }
        let line = format!(
            "{} {}: {}",
            verdict.level.as_str().to_uppercase(),
            sanitize_str(&state.name),
            sanitize_str(&verdict.problems.join("; "))
        );
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    ExitCode::from(worst.exit_code())
}

pub(super) fn list(states: &[SetState], json: bool, now: DateTime<Utc>, zone: Zone) -> ExitCode {
    let verdicts = verdicts(states, now);
    if json {
        let rows: Vec<BackupJson> =
            states.iter().flat_map(|s| s.backups.iter().map(move |b| BackupJson::of(s, b, now))).collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()));
        return conclude(&verdicts, Level::Ok, json);
    }
    if states.is_empty() {
        println!("no backup sets configured; add a [[backup]] section to the config");
    }
    for state in states {
        println!("{} ({}, {})  {}", state.name, state.format, state.dir.display(), state.headline(now));
        if state.backups.is_empty() {
            continue;
        }
        println!("  {:<12} {:<16}  {:>6}  {:>10}  {:>6}  NAME", "STATUS", "CREATED", "AGE", "SIZE", "FILES");
        for backup in &state.backups {
            print_backup(backup, now, zone);
        }
    }
    conclude(&verdicts, Level::Ok, json)
}

fn print_backup(backup: &BackupState, now: DateTime<Utc>, zone: Zone) {
    let status = backup.status();
    let files = backup.files().map_or("-".to_string(), |f| f.to_string());
    let prune = if backup.entry.prune { "  [would prune]" } else { "" };
    // A flaw seen without verifying outranks "unverified": the list must not look fine.
    let (symbol, word) = match (&backup.flaw, &status) {
        (Some(flaw), super::Status::Unverified | super::Status::Changed) => ("✗", super::overview::flaw_word(flaw)),
        _ => (status.symbol(), status.word()),
    };
    println!(
        "  {symbol} {word:<10} {:<16}  {:>6}  {:>10}  {:>6}  {}{prune}",
        when(backup.entry.created, zone),
        human_age(super::listing::age(now, backup.entry.created)),
        human_bytes(backup.entry.size_bytes),
        files,
        sanitize_str(&backup.entry.name)
    );
    if let super::Status::Corrupt(reason) = &status {
        println!("      {}", sanitize_str(reason));
    } else if let Some(flaw) = &backup.flaw {
        println!("      {}", sanitize_str(&flaw.describe()));
    }
}

/// What `verify` checks: backups by name, or every backup of the chosen sets.
pub(super) struct VerifyRequest<'a> {
    pub ids: &'a [String],
    pub set: Option<&'a str>,
    pub all: bool,
    pub json: bool,
}

pub(super) fn verify(sets: &[BackupSet], store: Option<&Store>, request: &VerifyRequest) -> ExitCode {
    let VerifyRequest { ids, set, all, json } = *request;
    if ids.is_empty() && !all && set.is_none() {
        return usage("name backups to verify, or pass --set SET or --all");
    }
    let chosen = match super::cli::pick_sets(sets, set) {
        Ok(chosen) => chosen.into_iter().cloned().collect::<Vec<_>>(),
        Err(message) => return usage(message),
    };
    let now = Utc::now();
    let states = survey(&chosen, store, now);
    let mut jobs: Vec<(&SetState, &BackupState)> = Vec::new();
    if ids.is_empty() {
        jobs = states.iter().flat_map(|s| s.backups.iter().map(move |b| (s, b))).collect();
    } else {
        for id in ids {
            match super::cli::find(&states, id) {
                Ok(job) => jobs.push(job),
                Err(message) => return usage(message),
            }
        }
    }
    // A corrupt backup named on the command line is critical, whichever it is.
    let mut named_corrupt = Level::Ok;
    let mut rows = Vec::new();
    let mut fresh = std::collections::HashMap::new();
    for (state, backup) in jobs {
        let Some(set) = chosen.iter().find(|s| s.name == state.name) else { continue };
        let Some(result) = check_and_record(set, &backup.entry, store, &mut silent(), &Cancel::new()) else {
            continue;
        };
        // A check that could not run (no room to unpack) is no verdict on the backup: unknown.
        let could_not_check = !result.ok && result.detail.starts_with("could not check");
        if could_not_check {
            named_corrupt = named_corrupt.max(Level::Unknown);
        } else if !result.ok && !ids.is_empty() {
            named_corrupt = Level::Critical;
        }
        if json {
            let mut row = BackupJson::of(state, backup, now);
            row.status = if result.ok { "ok" } else { "corrupt" };
            row.detail = Some(result.detail.clone());
            row.verified_at = Some(result.verified_at);
            rows.push(row);
        } else {
            let (symbol, word) = if result.ok { ("✓", "ok") } else { ("✗", "CORRUPT") };
            println!(
                "{symbol} {word:<7} {} / {}: {} ({} ms)",
                state.name,
                sanitize_str(&backup.entry.name),
                sanitize_str(&result.detail),
                result.duration_ms
            );
        }
        if !could_not_check {
            fresh.insert((state.name.clone(), backup.entry.name.clone()), result);
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()));
    }
    // The sets are judged with this run's results, whether or not a store kept them.
    let mut judged = states.clone();
    for state in &mut judged {
        for backup in &mut state.backups {
            if let Some(result) = fresh.remove(&(state.name.clone(), backup.entry.name.clone())) {
                backup.last = Some(result);
            }
        }
    }
    // Only the sets whose backups were named, or all the chosen ones.
    let touched: Vec<SetState> = if ids.is_empty() {
        judged
    } else {
        judged.into_iter().filter(|s| ids.iter().any(|id| id == "latest" || s.find(id).is_some())).collect()
    };
    conclude(&verdicts(&touched, now), named_corrupt, json)
}
