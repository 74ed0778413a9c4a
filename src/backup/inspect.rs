//! A quick look at a backup without reading it all: is it empty, cut short, or
//! not what its format says? Cheap enough to run on every listing and every
//! health check, so a 0-byte or half-written newest backup is caught before
//! anyone verifies it.
//!
//! - every format: 0 bytes (or a folder with no files) is empty;
//! - SQLite: the header must be SQLite's, and the file as long as the page count
//!   in its header says;
//! - tar: a whole number of 512-byte blocks, ending in the zero blocks that close an archive;
//! - gzip formats: the gzip magic, and up to [`GZIP_SCAN_LIMIT`] (8 MiB) the whole stream is
//!   decompressed (CRC and length checked, results kept per file); larger ones are left
//!   to verification;
//! - folders with a manifest: every listed file is there with its size.

use super::BackupSet;
use super::listing::BackupEntry;
use crate::config::BackupFormat;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Compressed backups up to this size are decompressed in full by the quick look ...
pub const GZIP_SCAN_LIMIT: u64 = 8 << 20;
/// ... unless they unpack to more than this (a gzip bomb is verification's to refuse).
const GZIP_UNPACK_LIMIT: u64 = 256 << 20;

/// What the quick look found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flaw {
    Empty(String),
    Truncated(String),
    Damaged(String),
    /// A folder that lacks what its manifest lists (a file missing, empty or short).
    Incomplete(String),
}

impl Flaw {
    /// One line: "empty (0 bytes)", "truncated: ...".
    pub fn describe(&self) -> String {
        match self {
            Flaw::Empty(detail) => format!("empty ({detail})"),
            Flaw::Truncated(detail) => format!("truncated: {detail}"),
            Flaw::Damaged(detail) => format!("damaged: {detail}"),
            Flaw::Incomplete(detail) => format!("incomplete: {detail}"),
        }
    }
}

/// Looks at `entry` of `set`; `Ok` when nothing is visibly wrong. A folder whose
/// size was not measured yet (`files` is `None`) is measured here, in the same walk
/// that holds it to its manifest.
pub fn quick_look(set: &BackupSet, entry: &mut BackupEntry) -> Result<(), Flaw> {
    if set.format.is_dir() {
        return look_at_folder(set, entry);
    }
    if entry.size_bytes == 0 {
        return Err(Flaw::Empty("0 bytes".into()));
    }
    match set.format {
        BackupFormat::Sqlite => sqlite(&entry.path, entry.size_bytes),
        BackupFormat::Tar => tar(&entry.path, entry.size_bytes),
        BackupFormat::SqliteGz | BackupFormat::TarGz | BackupFormat::Gz => gzip_cached(entry),
        BackupFormat::File | BackupFormat::Dir => Ok(()),
    }
}

type Look = Result<(), Flaw>;

fn look_at_folder(set: &BackupSet, entry: &mut BackupEntry) -> Look {
    let walked = match (&set.check.manifest, entry.files) {
        (None, Some(_)) => None,
        _ => Some(
            super::manifest::walk(&entry.path)
                .map_err(|err| Flaw::Damaged(format!("cannot list the folder: {err}")))?,
        ),
    };
    if let Some(found) = &walked
        && entry.files.is_none()
    {
        entry.files = Some(found.len() as u64);
        entry.size_bytes = found.values().sum();
    }
    if entry.files == Some(0) {
        return Err(Flaw::Empty("the folder holds no files".into()));
    }
    match (&set.check.manifest, &walked) {
        (Some(manifest), Some(found)) => super::manifest::read(&entry.path, manifest)
            .and_then(|listed| super::manifest::check_sizes(&entry.path, &listed, found))
            .map_err(Flaw::Incomplete),
        _ => Ok(()),
    }
}

fn io(err: std::io::Error) -> Flaw {
    if err.kind() == std::io::ErrorKind::UnexpectedEof {
        return Flaw::Truncated("shorter than its header".into());
    }
    Flaw::Damaged(format!("cannot read it: {err}"))
}

fn sqlite(path: &Path, size: u64) -> Look {
    let mut header = [0u8; 100];
    File::open(path).and_then(|mut f| f.read_exact(&mut header)).map_err(io)?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(Flaw::Damaged("not an SQLite database (its header is wrong)".into()));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let field = |at: usize| u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]);
    let pages = u64::from(field(28));
    // The page count is only kept up to date when "version-valid-for" matches the change counter.
    let counted = pages > 0 && field(92) == field(24);
    if page_size < 512 || !page_size.is_power_of_two() {
        return Err(Flaw::Damaged(format!("its header gives a page size of {page_size}")));
    }
    if counted && size < pages * page_size {
        return Err(Flaw::Truncated(format!("{size} bytes, its header says {pages} pages of {page_size}")));
    }
    if !size.is_multiple_of(page_size) {
        return Err(Flaw::Truncated(format!("{size} bytes is not a whole number of {page_size}-byte pages")));
    }
    Ok(())
}

fn tar(path: &Path, size: u64) -> Look {
    if !size.is_multiple_of(512) || size < 1024 {
        return Err(Flaw::Truncated(format!("{size} bytes is not a whole number of 512-byte tar blocks")));
    }
    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(size - 1024)).map_err(io)?;
    let mut tail = [0u8; 1024];
    file.read_exact(&mut tail).map_err(io)?;
    if tail.iter().any(|&b| b != 0) {
        return Err(Flaw::Truncated("the archive does not end with its closing blocks".into()));
    }
    Ok(())
}

type Key = (PathBuf, u64, DateTime<Utc>);

/// Results of gzip scans by path, size and time, so a listing repeated every minute reads each file once.
static GZIP_SEEN: Mutex<Option<HashMap<Key, Result<(), Flaw>>>> = Mutex::new(None);

fn gzip_cached(entry: &BackupEntry) -> Result<(), Flaw> {
    let key = (entry.path.clone(), entry.size_bytes, entry.modified);
    if let Some(seen) = GZIP_SEEN.lock().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(|m| m.get(&key)) {
        return seen.clone();
    }
    let result = gzip(&entry.path, entry.size_bytes);
    let mut seen = GZIP_SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let map = seen.get_or_insert_with(HashMap::new);
    // Bounded: a long-running console lists many backups over weeks.
    if map.len() >= 1024 {
        map.clear();
    }
    map.insert(key, result.clone());
    result
}

fn gzip(path: &Path, size: u64) -> Look {
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    file.read_exact(&mut magic).map_err(io)?;
    if magic != [0x1f, 0x8b] {
        return Err(Flaw::Damaged("not gzip data (its header is wrong)".into()));
    }
    if size < 20 {
        return Err(Flaw::Truncated(format!("{size} bytes is too short for gzip data")));
    }
    if size > GZIP_SCAN_LIMIT {
        return Ok(());
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
    let mut buffer = vec![0u8; 64 * 1024];
    let mut unpacked = 0u64;
    loop {
        match decoder.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                unpacked += n as u64;
                if unpacked > GZIP_UNPACK_LIMIT {
                    return Ok(());
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err)
                if err.kind() == std::io::ErrorKind::UnexpectedEof || err.to_string().contains("unexpected EOF") =>
            {
                return Err(Flaw::Truncated("the gzip stream ends early".into()));
            }
            Err(err) => {
                let detail = crate::util::sanitize::sanitize_str(&err.to_string());
                return Err(Flaw::Damaged(format!("the gzip data is damaged: {detail}")));
            }
        }
    }
}
