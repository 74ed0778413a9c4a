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

/// One entry of [`raw_tar`]: its exact name, kind, link target and contents.
#[derive(Clone, Copy)]
pub struct RawEntry<'a> {
    pub name: &'a str,
    pub kind: tar::EntryType,
    pub link: Option<&'a str>,
    pub data: &'a [u8],
}

impl<'a> RawEntry<'a> {
    pub fn file(name: &'a str, data: &'a [u8]) -> RawEntry<'a> {
        RawEntry { name, kind: tar::EntryType::Regular, link: None, data }
    }
    pub fn dir(name: &'a str) -> RawEntry<'a> {
        RawEntry { name, kind: tar::EntryType::Directory, link: None, data: b"" }
    }
    pub fn symlink(name: &'a str, to: &'a str) -> RawEntry<'a> {
        RawEntry { name, kind: tar::EntryType::Symlink, link: Some(to), data: b"" }
    }
    pub fn hard_link(name: &'a str, to: &'a str) -> RawEntry<'a> {
        RawEntry { name, kind: tar::EntryType::Link, link: Some(to), data: b"" }
    }
}

/// A tar of `entries` with names and link targets written exactly as given, bypassing the builder's checks.
pub fn raw_tar(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        let mut header = tar::Header::new_old();
        {
            let bytes = header.as_old_mut();
            bytes.name[..entry.name.len()].copy_from_slice(entry.name.as_bytes());
            if let Some(link) = entry.link {
                bytes.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
        }
        header.set_size(entry.data.len() as u64);
        header.set_mode(if entry.kind.is_dir() { 0o755 } else { 0o644 });
        header.set_mtime(1_700_000_000);
        header.set_entry_type(entry.kind);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(entry.data);
        let padding = (512 - entry.data.len() % 512) % 512;
        out.extend(std::iter::repeat_n(0u8, padding));
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// Incompressible bytes from a fixed seed (xorshift), `len` of them, readable as a stream.
pub struct Noise {
    state: u64,
    left: u64,
}

impl Noise {
    pub fn new(seed: u64, len: u64) -> Noise {
        Noise { state: seed | 1, left: len }
    }

    pub fn bytes(seed: u64, len: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(len as usize);
        std::io::Read::read_to_end(&mut Noise::new(seed, len), &mut out).unwrap();
        out
    }
}

impl std::io::Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            chunk.copy_from_slice(&self.state.to_le_bytes()[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// `len` bytes of zeros gzipped at the default level: a small file that unpacks to a large one.
pub fn gzip_of_zeros(len: u64) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    std::io::copy(&mut std::io::Read::take(std::io::repeat(0), len), &mut encoder).unwrap();
    encoder.finish().unwrap()
}

/// The permission bits of `path` (links not followed).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// The firstwatch binary with a config, a private HOME and no colour.
pub fn firstwatch(config: &Path, home: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_firstwatch"));
    command.arg("--config").arg(config).env("HOME", home).env("NO_COLOR", "1").stdin(std::process::Stdio::null());
    command
}
