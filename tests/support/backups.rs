//! Real backup files for the backup tests: SQLite databases written with
//! rusqlite, gzipped with flate2, tar archives built with the tar crate.

#![allow(dead_code)]

use flate2::Compression;
use flate2::write::GzEncoder;
use rusqlite::Connection;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A database with `users`, `deals` and `trades`, with `users` rows in users.
pub fn make_db(path: &Path, users: i64) {
    let _ = std::fs::remove_file(path);
    let connection = Connection::open(path).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
             CREATE INDEX users_email ON users(email);
             CREATE TABLE deals (id INTEGER PRIMARY KEY, amount INTEGER);
             CREATE TABLE trades (id INTEGER PRIMARY KEY, deal INTEGER);",
        )
        .unwrap();
    let transaction = connection.unchecked_transaction().unwrap();
    for id in 1..=users {
        transaction
            .execute("INSERT INTO users (id, email) VALUES (?1, ?2)", (id, format!("u{id}@example.test")))
            .unwrap();
        transaction.execute("INSERT INTO deals (id, amount) VALUES (?1, ?2)", (id, id * 10)).unwrap();
    }
    transaction.commit().unwrap();
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A gzipped copy of a fresh database with `users` rows, written to `path`.
pub fn write_db_gz(path: &Path, users: i64) {
    let scratch = tempfile::tempdir().unwrap();
    let db = scratch.path().join("source.db");
    make_db(&db, users);
    std::fs::write(path, gzip(&std::fs::read(&db).unwrap())).unwrap();
}

/// A tar archive holding `files` (path, contents).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *contents).unwrap();
    }
    builder.into_inner().unwrap()
}

/// A tar whose first entry has exactly `name` (even `../x` or `/etc/x`), bypassing the builder's checks.
pub fn tar_with_raw_name(name: &str, kind: tar::EntryType, link: Option<&str>) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    {
        let bytes = header.as_old_mut();
        bytes.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            bytes.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
    }
    header.set_size(if kind.is_file() { 4 } else { 0 });
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    header.set_entry_type(kind);
    header.set_cksum();
    let mut out = header.as_bytes().to_vec();
    if kind.is_file() {
        let mut block = [0u8; 512];
        block[..4].copy_from_slice(b"evil");
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

pub fn rows(db: &Path, table: &str) -> i64 {
    let connection = Connection::open(db).unwrap();
    connection.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).unwrap()
}

/// Every file in `dir` whose name starts with `.` (temp files left by a restore).
pub fn hidden_leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect()
}
