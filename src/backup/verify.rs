//! Verification: read every byte of a backup the way a restore would.
//!
//! gzip is decompressed in full so its CRC and length are checked; a tar is
//! read header by header and entry by entry to the end; SQLite is copied
//! (decompressed if need be) to a temp file, opened read-only and put
//! through `PRAGMA integrity_check` plus the configured row counts. Folders and
//! plain files are read through and hashed so a later change shows.

pub use super::cap::{Cap, CapRule};
use super::human_bytes;
use super::progress::{Cancel, Capped, Progress, Tracked, is_cancelled, is_too_large};
use crate::config::{BackupFormat, IntegrityCheck};
use crate::util::sanitize::sanitize_str;
use flate2::read::MultiGzDecoder;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// What a set asks of verification.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckOptions {
    /// Tables whose row counts are reported (and must exist).
    pub count: Vec<String>,
    pub integrity: IntegrityCheck,
    /// The set's `max_unpacked`: an explicit cap on the unpacked size that replaces
    /// the default one worked out per backup (see [`CheckOptions::cap`]).
    pub max_unpacked: Option<u64>,
    /// The set's `max_ratio` (`None`: [`crate::config::DEFAULT_MAX_RATIO`]).
    pub max_ratio: Option<u64>,
    /// Folder sets: the manifest inside each backup, relative to it (see [`super::manifest`]).
    pub manifest: Option<PathBuf>,
}

/// A good backup, described.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// One line for people: "integrity ok · users 120 · deals 340".
    pub summary: String,
    pub files: Option<u64>,
    pub unpacked_bytes: Option<u64>,
    pub tables: Vec<TableCount>,
    /// SHA-256 of a plain file or a folder's files, so a later change is noticed.
    pub checksum: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCount {
    pub name: String,
    pub rows: i64,
}

/// Why a backup did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Corrupt(String),
    /// The check could not run to its end for want of disk space: no verdict on the backup.
    #[error("could not check: {0}")]
    NoRoom(String),
    #[error("cancelled")]
    Cancelled,
}

impl Failure {
    fn from_io(err: &io::Error, what: &str, cap: Option<&Cap>) -> Failure {
        if is_cancelled(err) {
            return Failure::Cancelled;
        }
        if let Some(cap) = cap
            && (is_too_large(err) || err.kind() == io::ErrorKind::FileTooLarge)
        {
            return cap.exceeded();
        }
        let detail = sanitize_str(&err.to_string());
        let truncated = err.kind() == io::ErrorKind::UnexpectedEof || detail.contains("unexpected EOF");
        Failure::Corrupt(match err.kind() {
            _ if truncated => format!("{what} ends early (truncated?)"),
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => format!("{what} is damaged: {detail}"),
            _ => format!("{what}: {detail}"),
        })
    }
}

/// Verifies the backup at `path` as `format`, reporting bytes read of its size on disk.
pub fn verify(
    format: BackupFormat,
    options: &CheckOptions,
    path: &Path,
    progress: &mut dyn Progress,
    cancel: &Cancel,
) -> Result<Report, Failure> {
    if format.is_dir() {
        return verify_dir(path, options.manifest.as_deref(), progress, cancel);
    }
    let (file, size) = open(path)?;
    if size == 0 {
        return Err(Failure::Corrupt("the file is empty (0 bytes)".into()));
    }
    // Only a gzipped database is unpacked onto disk (a temp file) while it is checked.
    let unpack_into = (format == BackupFormat::SqliteGz).then(std::env::temp_dir);
    let cap = options.cap(size, unpack_into.as_deref(), 0);
    let reader = Tracked::new(BufReader::with_capacity(BUFFER, file), size, progress, cancel);
    match format {
        BackupFormat::Gz => {
            let unpacked = gunzip_into(reader, io::sink(), &cap)?;
            Ok(Report {
                summary: format!("gzip ok · {} unpacked", human_bytes(unpacked)),
                unpacked_bytes: Some(unpacked),
                ..Report::empty()
            })
        }
        BackupFormat::File => {
            let (checksum, bytes) = hash_stream(reader, "the file", Sha256::new())?;
            Ok(Report {
                summary: format!("readable · {}", human_bytes(bytes)),
                checksum: Some(checksum),
                ..Report::empty()
            })
        }
        BackupFormat::Tar => verify_tar(reader, &cap),
        BackupFormat::TarGz => {
            verify_tar(Limited { inner: MultiGzDecoder::new(reader), left: cap.bytes }, &cap).map_err(gzip_wording)
        }
        BackupFormat::Sqlite => {
            drop(reader);
            let mut report = check_sqlite_cancellable(path, options, cancel)?;
            report.unpacked_bytes = Some(size);
            Ok(report)
        }
        BackupFormat::SqliteGz => {
            let temp = tempfile::Builder::new()
                .prefix("firstwatch-verify-")
                .suffix(".db")
                .tempfile()
                .map_err(|err| Failure::Corrupt(format!("cannot make a temp file to check it in: {err}")))?;
            let unpacked = gunzip_into(reader, temp.as_file(), &cap)?;
            let mut report = check_sqlite_cancellable(temp.path(), options, cancel)?;
            report.unpacked_bytes = Some(unpacked);
            report.summary = format!("{} · {} unpacked", report.summary, human_bytes(unpacked));
            // The temp copy is removed when `temp` drops, on success and on every error above.
            Ok(report)
        }
        BackupFormat::Dir => unreachable_dir(),
    }
}

fn unreachable_dir() -> Result<Report, Failure> {
    Err(Failure::Corrupt("a folder cannot be read as a file".into()))
}

/// Read size for backups: large enough that syscalls do not dominate.
pub(crate) const BUFFER: usize = 256 * 1024;

impl Report {
    fn empty() -> Report {
        Report { summary: String::new(), files: None, unpacked_bytes: None, tables: Vec::new(), checksum: None }
    }
}

pub(crate) fn open(path: &Path) -> Result<(File, u64), Failure> {
    let file = File::open(path).map_err(|err| Failure::Corrupt(format!("cannot open: {err}")))?;
    let metadata = file.metadata().map_err(|err| Failure::Corrupt(format!("cannot stat: {err}")))?;
    if metadata.is_dir() {
        return Err(Failure::Corrupt("this is a folder, but the set's format is a file".into()));
    }
    Ok((file, metadata.len()))
}

/// Decompresses all gzip members from `reader` into `writer`, at most `cap` bytes; returns the size.
pub(crate) fn gunzip_into(reader: impl Read, writer: impl Write, cap: &Cap) -> Result<u64, Failure> {
    let mut decoder = MultiGzDecoder::new(reader);
    let mut sink = Capped { inner: writer, written: 0, limit: cap.bytes };
    pump(&mut decoder, &mut sink).map_err(|err| Failure::from_io(&err, "the gzip data", Some(cap)))?;
    sink.flush().map_err(|err| Failure::Corrupt(format!("cannot write the unpacked copy: {err}")))?;
    Ok(sink.written)
}

/// Copies with a large buffer (io::copy's 8 KiB costs throughput on big files).
pub(crate) fn pump(reader: &mut dyn Read, writer: &mut dyn Write) -> io::Result<u64> {
    let mut buffer = vec![0u8; BUFFER];
    let mut total = 0;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        writer.write_all(&buffer[..n])?;
        total += n as u64;
    }
}

fn gzip_wording(failure: Failure) -> Failure {
    match failure {
        Failure::Corrupt(reason) if reason.starts_with("the tar data") => {
            Failure::Corrupt(reason.replacen("the tar data", "the gzip/tar data", 1))
        }
        other => other,
    }
}

/// A reader that fails once more than `limit` bytes came through.
pub(crate) struct Limited<R> {
    pub inner: R,
    pub left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "unpacked size limit reached"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn hash_stream(mut reader: impl Read, what: &str, mut hasher: Sha256) -> Result<(String, u64), Failure> {
    let mut buffer = vec![0u8; BUFFER];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(|err| Failure::from_io(&err, what, None))?;
        if n == 0 {
            return Ok((hex(&hasher.finalize()), total));
        }
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads every header and every entry's data to the end of the archive.
fn verify_tar(reader: impl Read, cap: &Cap) -> Result<Report, Failure> {
    let mut archive = tar::Archive::new(reader);
    let damaged = |err: io::Error| Failure::from_io(&err, "the tar data", Some(cap));
    let entries = archive.entries().map_err(damaged)?;
    let (mut files, mut bytes, mut count) = (0u64, 0u64, 0u64);
    let mut tree = super::safety::ArchiveTree::default();
    for entry in entries {
        let mut entry = entry.map_err(damaged)?;
        count += 1;
        let path = entry.path().map_err(|err| Failure::from_io(&err, "a tar entry name", Some(cap)))?.into_owned();
        let kind = entry.header().entry_type();
        let link = entry.link_name().ok().flatten().map(|l| l.into_owned());
        tree.admit(&path, kind, link.as_deref()).map_err(Failure::Corrupt)?;
        let expected = entry.size();
        // Sizes come from the headers, so an entry that claims too much is refused before it is read.
        if bytes.saturating_add(expected) > cap.bytes {
            return Err(cap.exceeded());
        }
        let read = pump(&mut entry, &mut io::sink()).map_err(damaged)?;
        if read != expected {
            let name = sanitize_str(&path.display().to_string());
            return Err(Failure::Corrupt(format!("entry `{name}` is cut short ({read} of {expected} bytes)")));
        }
        if kind.is_file() {
            files += 1;
        }
        bytes += read;
    }
    if count == 0 {
        return Err(Failure::Corrupt("the archive holds no entries".into()));
    }
    tree.finish().map_err(Failure::Corrupt)?;
    Ok(Report {
        summary: format!("tar ok · {files} files · {}", human_bytes(bytes)),
        files: Some(files),
        unpacked_bytes: Some(bytes),
        ..Report::empty()
    })
}

/// Reads every file under a backup folder (sorted, so the checksum is stable).
fn verify_dir(
    path: &Path,
    manifest: Option<&Path>,
    progress: &mut dyn Progress,
    cancel: &Cancel,
) -> Result<Report, Failure> {
    if !path.is_dir() {
        return Err(Failure::Corrupt("not a folder".into()));
    }
    let listed = match manifest {
        Some(manifest) => {
            let listed = super::manifest::read(path, manifest).map_err(Failure::Corrupt)?;
            super::manifest::check_all(path, &listed, cancel)?;
            Some(listed.len())
        }
        None => None,
    };
    let files = walk_files(path).map_err(|err| Failure::Corrupt(format!("cannot list the folder: {err}")))?;
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    let mut buffer = vec![0u8; BUFFER];
    for (file, _) in &files {
        if cancel.is_cancelled() {
            return Err(Failure::Cancelled);
        }
        let relative = file.strip_prefix(path).unwrap_or(file);
        hasher.update(relative.to_string_lossy().as_bytes());
        hasher.update([0]);
        let shown = sanitize_str(&relative.display().to_string());
        let mut reader = File::open(file).map_err(|err| Failure::Corrupt(format!("cannot read `{shown}`: {err}")))?;
        loop {
            let n =
                reader.read(&mut buffer).map_err(|err| Failure::Corrupt(format!("cannot read `{shown}`: {err}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            done += n as u64;
        }
        progress.report(done, total);
    }
    if files.is_empty() {
        return Err(Failure::Corrupt("the folder is empty".into()));
    }
    let matched = listed.map(|n| format!(" · manifest ok ({n} listed)")).unwrap_or_default();
    Ok(Report {
        summary: format!("{} files readable · {}{matched}", files.len(), human_bytes(done)),
        files: Some(files.len() as u64),
        unpacked_bytes: Some(done),
        checksum: Some(hex(&hasher.finalize())),
        tables: Vec::new(),
    })
}

/// Regular files under `root` with their sizes, sorted by path; links are not followed.
pub(crate) fn walk_files(root: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for item in std::fs::read_dir(&dir)? {
            let item = item?;
            let kind = item.file_type()?;
            if kind.is_dir() {
                pending.push(item.path());
            } else if kind.is_file() {
                out.push((item.path(), item.metadata()?.len()));
            }
        }
    }
    out.sort();
    Ok(out)
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Like [`check_sqlite`], but `cancel` interrupts a long integrity check.
pub fn check_sqlite_cancellable(path: &Path, options: &CheckOptions, cancel: &Cancel) -> Result<Report, Failure> {
    if cancel.is_cancelled() {
        return Err(Failure::Cancelled);
    }
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (handle_tx, handle_rx) = std::sync::mpsc::sync_channel::<rusqlite::InterruptHandle>(1);
    let watcher = {
        let (cancel, finished) = (cancel.clone(), finished.clone());
        std::thread::Builder::new().name("sqlite-cancel".into()).spawn(move || {
            let Ok(handle) = handle_rx.recv() else { return };
            // Polling is fine here: it only runs while a check does, and stops with it.
            while !finished.load(std::sync::atomic::Ordering::Relaxed) {
                if cancel.is_cancelled() {
                    handle.interrupt();
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })
    };
    let result = check_sqlite_with(path, options, &|connection| {
        let _ = handle_tx.send(connection.get_interrupt_handle());
    });
    finished.store(true, std::sync::atomic::Ordering::Relaxed);
    // Unblocks the watcher when the file was refused before a connection was made.
    drop(handle_tx);
    if let Ok(watcher) = watcher {
        let _ = watcher.join();
    }
    if cancel.is_cancelled() && result.is_err() { Err(Failure::Cancelled) } else { result }
}

/// Opens an SQLite file read-only and runs the integrity check and row counts.
pub fn check_sqlite(path: &Path, options: &CheckOptions) -> Result<Report, Failure> {
    check_sqlite_with(path, options, &|_| {})
}

fn check_sqlite_with(path: &Path, options: &CheckOptions, opened: &dyn Fn(&Connection)) -> Result<Report, Failure> {
    let mut header = [0u8; 16];
    let mut file = File::open(path).map_err(|err| Failure::Corrupt(format!("cannot open: {err}")))?;
    if file.read_exact(&mut header).is_err() || &header != SQLITE_HEADER {
        return Err(Failure::Corrupt("not an SQLite database (its header is wrong)".into()));
    }
    drop(file);
    let connection = open_read_only(path)?;
    opened(&connection);
    let damaged = |err: rusqlite::Error| Failure::Corrupt(format!("SQLite: {}", sanitize_str(&err.to_string())));
    let pragma = match options.integrity {
        IntegrityCheck::Full => "PRAGMA integrity_check(20)",
        IntegrityCheck::Quick => "PRAGMA quick_check(20)",
    };
    let problems: Vec<String> = {
        let mut statement = connection.prepare(pragma).map_err(damaged)?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0)).map_err(damaged)?;
        rows.collect::<Result<_, _>>().map_err(damaged)?
    };
    if problems.len() != 1 || problems[0] != "ok" {
        let first = problems.first().map(|p| sanitize_str(p)).unwrap_or_else(|| "no answer".into());
        let more = problems.len().saturating_sub(1);
        let tail = if more > 0 { format!(" (+{more} more)") } else { String::new() };
        return Err(Failure::Corrupt(format!("integrity check failed: {first}{tail}")));
    }
    let table_total: i64 = connection
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |row| row.get(0))
        .map_err(damaged)?;
    let mut tables = Vec::new();
    for name in &options.count {
        let exists: Option<String> = connection
            .query_row("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |row| row.get(0))
            .optional()
            .map_err(damaged)?;
        if exists.is_none() {
            return Err(Failure::Corrupt(format!("table `{name}` is missing")));
        }
        let rows: i64 = connection
            .query_row(&format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")), [], |row| row.get(0))
            .map_err(damaged)?;
        tables.push(TableCount { name: name.clone(), rows });
    }
    let check = match options.integrity {
        IntegrityCheck::Full => "integrity ok",
        IntegrityCheck::Quick => "quick check ok",
    };
    let mut summary = format!("{check} · {table_total} tables");
    for table in &tables {
        summary.push_str(&format!(" · {} {}", table.name, table.rows));
    }
    Ok(Report { summary, tables, ..Report::empty() })
}

/// Read-only and immutable: a backup must not grow a -wal or -shm beside it.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection, Failure> {
    let text = path.to_string_lossy().replace('%', "%25").replace('?', "%3f").replace('#', "%23");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(format!("file:{text}?immutable=1"), flags)
        .map_err(|err| Failure::Corrupt(format!("SQLite cannot open it: {}", sanitize_str(&err.to_string()))))
}
