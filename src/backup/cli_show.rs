//! `backups show` and `backups compare`: looking inside a backup, and at how it
//! differs from its restore target now.

use super::BackupSet;
use super::cli::{locate, usage};
use super::contents::{self, Contents};
use super::human_bytes;
use crate::store::Store;
use crate::util::sanitize::sanitize_str;
use chrono::Utc;
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) fn compare_command(
    sets: &[BackupSet],
    store: Option<&Store>,
    id: &str,
    set: Option<&str>,
    to: Option<PathBuf>,
    json: bool,
) -> ExitCode {
    let (set, backup) = match locate(sets, store, id, set, Utc::now()) {
        Ok(found) => found,
        Err(message) => return usage(message),
    };
    let Some(target) = to.or_else(|| set.restore_to.clone()) else {
        return usage(format!("backup set `{}` has no restore_to; pass --to PATH", set.name));
    };
    match super::compare::compare(set.format, &backup.entry.path, &target, &set.check) {
        Ok(comparison) if json => {
            println!("{}", serde_json::to_string_pretty(&comparison).unwrap_or_else(|_| "{}".into()));
            ExitCode::SUCCESS
        }
        Ok(comparison) => {
            println!(
                "{} / {} against {}: {}",
                set.name,
                sanitize_str(&backup.entry.name),
                target.display(),
                comparison.summary()
            );
            for table in &comparison.tables {
                let show = |rows: Option<i64>| rows.map_or("-".to_string(), |r| r.to_string());
                println!(
                    "  {:<30} backup {:>10}  now {:>10}",
                    table.name,
                    show(table.backup_rows),
                    show(table.target_rows)
                );
            }
            for (word, list) in
                [("added", &comparison.added), ("removed", &comparison.removed), ("changed", &comparison.changed)]
            {
                for path in list {
                    println!("  {word:<8} {path}");
                }
            }
            if comparison.more > 0 {
                println!("  … and {} more", comparison.more);
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("firstwatch backups: cannot compare: {failure}");
            ExitCode::from(1)
        }
    }
}

pub(super) fn show(sets: &[BackupSet], store: Option<&Store>, id: &str, set: Option<&str>, json: bool) -> ExitCode {
    let (set, backup) = match locate(sets, store, id, set, Utc::now()) {
        Ok(found) => found,
        Err(message) => return usage(message),
    };
    match contents::read(set.format, &backup.entry.path, &set.check) {
        Ok(contents) if json => {
            println!("{}", serde_json::to_string_pretty(&contents).unwrap_or_else(|_| "{}".into()));
            ExitCode::SUCCESS
        }
        Ok(contents) => {
            println!("{} / {} ({})", set.name, sanitize_str(&backup.entry.name), set.format);
            print_contents(&contents);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("firstwatch backups: cannot read {}: {failure}", backup.entry.path.display());
            ExitCode::from(1)
        }
    }
}

fn print_contents(contents: &Contents) {
    if !contents.tables.is_empty() {
        println!("tables:");
        for table in &contents.tables {
            println!("  {:<30} {:>12} rows", table.name, table.rows);
        }
    }
    if let Some(manifest) = &contents.manifest {
        println!("manifest:");
        for line in manifest.lines() {
            println!("  {line}");
        }
    }
    if !contents.entries.is_empty() {
        println!("entries:");
        for entry in &contents.entries {
            let modified = entry.modified.map(|m| m.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
            println!(
                "  {:<4} {:04o} {:>10}  {modified:<16}  {}",
                entry.kind,
                entry.mode,
                human_bytes(entry.size),
                entry.path
            );
        }
        if contents.more_entries > 0 {
            println!("  … and {} more", contents.more_entries);
        }
    }
}
