//! Looking inside a backup: archive and folder entries, SQLite tables with
//! row counts, and the manifest when there is one.

use super::progress::{Cancel, silent};
use super::verify::{self, BUFFER, Cap, CheckOptions, Failure, Limited, TableCount};
use crate::config::BackupFormat;
use crate::util::sanitize::sanitize_str;
use chrono::{DateTime, Utc};
use flate2::read::MultiGzDecoder;
use serde::Serialize;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// At most this many entries are listed; the rest are counted.
pub const MAX_ENTRIES: usize = 5000;
/// The manifest is shown up to this many bytes.
const MAX_MANIFEST: u64 = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Contents {
    pub entries: Vec<EntryInfo>,
    /// Entries beyond [`MAX_ENTRIES`] that were not listed.
    pub more_entries: u64,
    pub tables: Vec<TableCount>,
    /// The text of a MANIFEST file inside, sanitised.
    pub manifest: Option<String>,
}

/// One file, folder or link inside an archive or a backup folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryInfo {
    /// Sanitised path inside the backup.
    pub path: String,
    /// `file`, `dir`, `link` or `other`.
    pub kind: &'static str,
    pub size: u64,
    pub mode: u32,
    pub modified: Option<DateTime<Utc>>,
}

fn is_manifest(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    matches!(name.as_str(), "manifest" | "manifest.txt" | "manifest.json" | "manifest.toml")
}

/// Lists what is inside the backup at `path`, unpacking no more than `check` allows.
pub fn read(format: BackupFormat, path: &Path, check: &CheckOptions) -> Result<Contents, Failure> {
    match format {
        BackupFormat::Dir => read_dir(path),
        BackupFormat::Tar | BackupFormat::TarGz => {
            let (file, size) = verify::open(path)?;
            let reader = BufReader::with_capacity(BUFFER, file);
            if format == BackupFormat::TarGz {
                let cap = check.cap(size, None, 0);
                read_tar(Limited { inner: MultiGzDecoder::new(reader), left: cap.bytes }, &cap)
            } else {
                read_tar(reader, &Cap::fixed(u64::MAX))
            }
        }
        BackupFormat::Sqlite | BackupFormat::SqliteGz => read_sqlite(format, path, check),
        BackupFormat::File | BackupFormat::Gz => {
            let metadata = std::fs::metadata(path).map_err(|err| Failure::Corrupt(format!("cannot stat: {err}")))?;
            let name = path.file_name().map(|n| sanitize_str(&n.to_string_lossy())).unwrap_or_default();
            Ok(Contents {
                entries: vec![EntryInfo {
                    path: name,
                    kind: "file",
                    size: metadata.len(),
                    mode: mode_of(&metadata),
                    modified: metadata.modified().ok().map(DateTime::from),
                }],
                ..Contents::default()
            })
        }
    }
}

#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_metadata: &std::fs::Metadata) -> u32 {
    0
}

fn read_tar(reader: impl Read, cap: &Cap) -> Result<Contents, Failure> {
    let mut archive = tar::Archive::new(reader);
    let damaged = |err: std::io::Error| {
        if err.kind() == std::io::ErrorKind::FileTooLarge {
            return cap.exceeded();
        }
        Failure::Corrupt(format!("the tar data is damaged: {}", sanitize_str(&err.to_string())))
    };
    let mut contents = Contents::default();
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let header = entry.header();
        let kind = header.entry_type();
        let info = EntryInfo {
            path: sanitize_str(&String::from_utf8_lossy(&entry.path_bytes())),
            kind: if kind.is_dir() {
                "dir"
            } else if kind.is_file() {
                "file"
            } else if kind.is_symlink() || kind.is_hard_link() {
                "link"
            } else {
                "other"
            },
            size: entry.size(),
            mode: header.mode().unwrap_or(0) & 0o7777,
            modified: header.mtime().ok().and_then(|t| DateTime::from_timestamp(t as i64, 0)),
        };
        if contents.manifest.is_none() && info.kind == "file" && is_manifest(&info.path) {
            let mut text = Vec::new();
            (&mut entry).take(MAX_MANIFEST).read_to_end(&mut text).map_err(damaged)?;
            contents.manifest = Some(sanitize_manifest(&text));
        }
        if contents.entries.len() < MAX_ENTRIES {
            contents.entries.push(info);
        } else {
            contents.more_entries += 1;
        }
    }
    Ok(contents)
}

fn sanitize_manifest(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).lines().map(sanitize_str).collect::<Vec<_>>().join("\n")
}

fn read_dir(root: &Path) -> Result<Contents, Failure> {
    let mut contents = Contents::default();
    let mut pending = vec![root.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = pending.pop() {
        let reader = std::fs::read_dir(&dir).map_err(|err| Failure::Corrupt(format!("cannot list: {err}")))?;
        for item in reader.flatten() {
            let Ok(metadata) = std::fs::symlink_metadata(item.path()) else { continue };
            let kind = if metadata.is_dir() {
                pending.push(item.path());
                "dir"
            } else if metadata.is_file() {
                "file"
            } else if metadata.file_type().is_symlink() {
                "link"
            } else {
                "other"
            };
            let relative = item.path().strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| item.path());
            found.push((relative, kind, metadata));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    for (relative, kind, metadata) in found {
        let path = sanitize_str(&relative.to_string_lossy());
        if contents.manifest.is_none() && kind == "file" && is_manifest(&path) {
            let mut text = Vec::new();
            if let Ok(file) = File::open(root.join(&relative)) {
                let _ = file.take(MAX_MANIFEST).read_to_end(&mut text);
            }
            contents.manifest = Some(sanitize_manifest(&text));
        }
        let info = EntryInfo {
            path,
            kind,
            size: if kind == "dir" { 0 } else { metadata.len() },
            mode: mode_of(&metadata),
            modified: metadata.modified().ok().map(DateTime::from),
        };
        if contents.entries.len() < MAX_ENTRIES {
            contents.entries.push(info);
        } else {
            contents.more_entries += 1;
        }
    }
    Ok(contents)
}

/// Tables and their row counts, read from a temp copy for gzipped databases.
fn read_sqlite(format: BackupFormat, path: &Path, check: &CheckOptions) -> Result<Contents, Failure> {
    let temp;
    let db_path = if format == BackupFormat::SqliteGz {
        let (file, size) = verify::open(path)?;
        temp = tempfile::Builder::new()
            .prefix("firstwatch-browse-")
            .suffix(".db")
            .tempfile()
            .map_err(|err| Failure::Corrupt(format!("cannot make a temp file: {err}")))?;
        let cancel = Cancel::new();
        let mut progress = silent();
        let reader =
            super::progress::Tracked::new(BufReader::with_capacity(BUFFER, file), size, &mut progress, &cancel);
        verify::gunzip_into(reader, temp.as_file(), &check.cap(size, Some(&std::env::temp_dir()), 0))?;
        temp.path().to_path_buf()
    } else {
        path.to_path_buf()
    };
    let mut header = [0u8; 16];
    let mut file = File::open(&db_path).map_err(|err| Failure::Corrupt(format!("cannot open: {err}")))?;
    if file.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0" {
        return Err(Failure::Corrupt("not an SQLite database (its header is wrong)".into()));
    }
    let connection = verify::open_read_only(&db_path)?;
    let damaged = |err: rusqlite::Error| Failure::Corrupt(format!("SQLite: {}", sanitize_str(&err.to_string())));
    let names: Vec<String> = {
        let mut statement = connection
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .map_err(damaged)?;
        let rows = statement.query_map([], |row| row.get(0)).map_err(damaged)?;
        rows.collect::<Result<_, _>>().map_err(damaged)?
    };
    let mut contents = Contents::default();
    for name in names {
        let rows: i64 = connection
            .query_row(&format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")), [], |row| row.get(0))
            .map_err(damaged)?;
        contents.tables.push(TableCount { name: sanitize_str(&name), rows });
    }
    Ok(contents)
}
