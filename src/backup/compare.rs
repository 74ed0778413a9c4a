//! Comparing a backup with what is at its restore target now: for databases
//! the row counts of each table, for folders and archives the files added,
//! removed and changed (by size). It answers "what would a restore undo?".

use super::contents::{self, Contents};
use super::verify::{CheckOptions, Failure, TableCount};
use crate::config::BackupFormat;
use crate::util::sanitize::sanitize_str;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// At most this many paths are listed per kind of change.
const MAX_LISTED: usize = 200;

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Comparison {
    /// Tables with their rows in the backup and now (`None`: the table is not there).
    pub tables: Vec<TableDiff>,
    /// Files at the target that the backup does not have (a restore removes them).
    pub added: Vec<String>,
    /// Files in the backup that the target lacks (a restore brings them back).
    pub removed: Vec<String>,
    /// Files in both with a different size.
    pub changed: Vec<String>,
    /// Counts beyond what is listed.
    pub more: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDiff {
    pub name: String,
    pub backup_rows: Option<i64>,
    pub target_rows: Option<i64>,
}

impl Comparison {
    /// One line for people: "3 tables differ", "2 added, 1 removed, 4 changed", "identical".
    pub fn summary(&self) -> String {
        let differing = self.tables.iter().filter(|t| t.backup_rows != t.target_rows).count();
        let mut parts = Vec::new();
        if differing > 0 {
            parts.push(format!("{differing} of {} tables differ in rows", self.tables.len()));
        }
        for (count, word) in
            [(self.added.len(), "added"), (self.removed.len(), "removed"), (self.changed.len(), "changed")]
        {
            if count > 0 {
                parts.push(format!("{count} {word}"));
            }
        }
        if parts.is_empty() { "no differences in rows or files".into() } else { parts.join(", ") }
    }
}

/// Compares the backup at `backup` with `target`.
pub fn compare(
    format: BackupFormat,
    backup: &Path,
    target: &Path,
    check: &CheckOptions,
) -> Result<Comparison, Failure> {
    if !target.exists() {
        return Err(Failure::Corrupt(format!("nothing is at {} to compare with", target.display())));
    }
    let inside = contents::read(format, backup, check)?;
    if format.is_sqlite() {
        return Ok(Comparison { tables: table_diffs(&inside.tables, &live_tables(target)?), ..Comparison::default() });
    }
    if format.restores_a_tree() {
        return Ok(file_diffs(&inside, target));
    }
    let size = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
    let backup_size = inside.entries.first().map_or(0, |e| e.size);
    let mut comparison = Comparison::default();
    if format == BackupFormat::File && size != backup_size {
        comparison.changed.push(format!("{} ({backup_size} -> {size} bytes)", target.display()));
    }
    Ok(comparison)
}

/// Row counts of a live database, read without disturbing its writers.
fn live_tables(target: &Path) -> Result<Vec<TableCount>, Failure> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let failed = |err: rusqlite::Error| Failure::Corrupt(format!("the target: {}", sanitize_str(&err.to_string())));
    let connection = rusqlite::Connection::open_with_flags(target, flags).map_err(failed)?;
    let _ = connection.busy_timeout(std::time::Duration::from_secs(5));
    let names: Vec<String> = {
        let mut statement = connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .map_err(failed)?;
        let rows = statement.query_map([], |row| row.get(0)).map_err(failed)?;
        rows.collect::<Result<_, _>>().map_err(failed)?
    };
    let mut tables = Vec::new();
    for name in names {
        let rows: i64 = connection
            .query_row(&format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")), [], |row| row.get(0))
            .map_err(failed)?;
        tables.push(TableCount { name: sanitize_str(&name), rows });
    }
    Ok(tables)
}

fn table_diffs(backup: &[TableCount], target: &[TableCount]) -> Vec<TableDiff> {
    let mut merged: BTreeMap<&str, TableDiff> = BTreeMap::new();
    for table in backup {
        merged.insert(
            &table.name,
            TableDiff { name: table.name.clone(), backup_rows: Some(table.rows), target_rows: None },
        );
    }
    for table in target {
        merged
            .entry(&table.name)
            .or_insert_with(|| TableDiff { name: table.name.clone(), backup_rows: None, target_rows: None })
            .target_rows = Some(table.rows);
    }
    merged.into_values().collect()
}

fn file_diffs(inside: &Contents, target: &Path) -> Comparison {
    // Paths inside the backup are relative to what the restore puts at the target.
    let backup: BTreeMap<String, u64> = inside
        .entries
        .iter()
        .filter(|e| e.kind == "file")
        .map(|e| (e.path.trim_start_matches("./").to_string(), e.size))
        .collect();
    let now: BTreeMap<String, u64> = super::verify::walk_files(target)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(path, size)| {
            let relative = path.strip_prefix(target).ok()?;
            Some((sanitize_str(&relative.to_string_lossy()), size))
        })
        .collect();
    let mut comparison = Comparison::default();
    for (path, size) in &backup {
        match now.get(path) {
            None => note(&mut comparison.removed, &mut comparison.more, path),
            Some(current) if current != size => note(&mut comparison.changed, &mut comparison.more, path),
            Some(_) => {}
        }
    }
    for path in now.keys().filter(|p| !backup.contains_key(*p)) {
        note(&mut comparison.added, &mut comparison.more, path);
    }
    comparison
}

fn note(list: &mut Vec<String>, more: &mut usize, path: &str) {
    if list.len() < MAX_LISTED {
        list.push(path.to_string());
    } else {
        *more += 1;
    }
}
