//! The manifest of a folder backup: the list of files the folder must hold.
//!
//! A folder set with `manifest = "MANIFEST"` expects that file inside each backup
//! folder, one file per line:
//!
//! ```text
//! # size  sha256 (or -)  path, relative to the backup folder
//! 1048576  9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  config/app.toml
//! 2048  -  snapshots/orders.csv
//! ```
//!
//! Fields are separated by spaces or tabs; the path is the rest of the line, so it
//! may hold spaces. Blank lines and lines starting with `#` are skipped. A backup
//! passes when every listed file is there, is a regular file, has the listed size
//! (a file listed with a size above 0 that is empty fails as empty) and, when a
//! checksum is given, hashes to it. Files the manifest does not list are allowed.

use crate::util::sanitize::sanitize_str;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// One listed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: PathBuf,
    pub size: u64,
    /// Lower-case hex SHA-256, when the manifest gives one.
    pub sha256: Option<String>,
}

/// Whether `path` stays inside the folder it is relative to.
pub fn is_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty() && path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Reads a manifest's text; a bad line is an error naming its line number.
pub fn parse(text: &str) -> Result<Vec<Listed>, String> {
    let mut listed = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (size, rest) =
            split_field(line).ok_or_else(|| format!("manifest line {number}: expected `SIZE SHA256|- PATH`"))?;
        let (sum, path) =
            split_field(rest).ok_or_else(|| format!("manifest line {number}: expected `SIZE SHA256|- PATH`"))?;
        let size: u64 = size
            .parse()
            .map_err(|_| format!("manifest line {number}: `{}` is not a size in bytes", sanitize_str(size)))?;
        let sha256 = match sum {
            "-" => None,
            sum if sum.len() == 64 && sum.bytes().all(|b| b.is_ascii_hexdigit()) => Some(sum.to_ascii_lowercase()),
            other => {
                return Err(format!(
                    "manifest line {number}: `{}` is not a SHA-256 (64 hex digits) or -",
                    sanitize_str(other)
                ));
            }
        };
        // `find .` writes `./a/b`; the folder's own files are keyed `a/b`.
        let mut path = path.trim_end_matches(['\r', '\n']);
        while let Some(rest) = path.strip_prefix("./") {
            path = rest;
        }
        let path = PathBuf::from(path);
        if !is_inside(&path) {
            return Err(format!(
                "manifest line {number}: `{}` is not a path inside the folder",
                sanitize_str(&path.display().to_string())
            ));
        }
        listed.push(Listed { path, size, sha256 });
    }
    Ok(listed)
}

/// The first whitespace-separated field and the rest of the line after the separators.
fn split_field(line: &str) -> Option<(&str, &str)> {
    let end = line.find([' ', '\t'])?;
    let rest = line[end..].trim_start_matches([' ', '\t']);
    (!rest.is_empty()).then_some((&line[..end], rest))
}

/// Reads and parses the manifest of the backup folder `folder`.
pub fn read(folder: &Path, manifest: &Path) -> Result<Vec<Listed>, String> {
    let shown = sanitize_str(&manifest.display().to_string());
    let path = folder.join(manifest);
    let metadata = std::fs::symlink_metadata(&path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => format!("the manifest `{shown}` is missing"),
        _ => format!("cannot read the manifest `{shown}`: {err}"),
    })?;
    if !metadata.is_file() {
        return Err(format!("the manifest `{shown}` is not a regular file"));
    }
    // A manifest is a list of names; one of many megabytes is not one.
    const LIMIT: u64 = 64 << 20;
    if metadata.len() > LIMIT {
        return Err(format!("the manifest `{shown}` is larger than 64 MiB"));
    }
    let text = std::fs::read(&path).map_err(|err| format!("cannot read the manifest `{shown}`: {err}"))?;
    let text = String::from_utf8(text).map_err(|_| format!("the manifest `{shown}` is not UTF-8 text"))?;
    let listed = parse(&text)?;
    if listed.is_empty() {
        return Err(format!("the manifest `{shown}` lists no files"));
    }
    Ok(listed)
}

/// Regular files under `folder` by path relative to it, with their sizes (links are not followed).
pub fn walk(folder: &Path) -> std::io::Result<HashMap<PathBuf, u64>> {
    let mut found = HashMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for item in std::fs::read_dir(folder.join(&relative))? {
            let item = item?;
            let kind = item.file_type()?;
            if kind.is_dir() {
                pending.push(relative.join(item.file_name()));
            } else if kind.is_file() {
                found.insert(relative.join(item.file_name()), item.metadata()?.len());
            }
        }
    }
    Ok(found)
}

/// The cheap part of the check: every listed file is among the `found` regular files
/// (see [`walk`]), of its listed size. Stops at the first problem, which it describes.
pub fn check_sizes(folder: &Path, listed: &[Listed], found: &HashMap<PathBuf, u64>) -> Result<(), String> {
    for file in listed {
        let shown = sanitize_str(&file.path.display().to_string());
        // Paths compare by component, so `a/./b` finds `a/b`.
        let Some(&size) = found.get(&file.path) else {
            return Err(match std::fs::symlink_metadata(folder.join(&file.path)) {
                Ok(_) => format!("`{shown}` is not a regular file"),
                Err(_) => format!("`{shown}` is missing"),
            });
        };
        if size == 0 && file.size > 0 {
            return Err(format!("`{shown}` is empty (the manifest says {} bytes)", file.size));
        }
        if size != file.size {
            let cut = if size < file.size { " (truncated?)" } else { "" };
            return Err(format!("`{shown}` is {size} bytes, the manifest says {}{cut}", file.size));
        }
    }
    Ok(())
}

/// The full check: sizes, then the checksum of every file that has one.
pub fn check_all(folder: &Path, listed: &[Listed], cancel: &super::Cancel) -> Result<(), super::verify::Failure> {
    use super::verify::Failure;
    let found = walk(folder).map_err(|err| Failure::Corrupt(format!("cannot list the folder: {err}")))?;
    check_sizes(folder, listed, &found).map_err(Failure::Corrupt)?;
    let mut buffer = vec![0u8; super::verify::BUFFER];
    for file in listed {
        let Some(expected) = &file.sha256 else { continue };
        if cancel.is_cancelled() {
            return Err(Failure::Cancelled);
        }
        let shown = sanitize_str(&file.path.display().to_string());
        let cannot = |err: std::io::Error| Failure::Corrupt(format!("cannot read `{shown}`: {err}"));
        let mut reader = std::fs::File::open(folder.join(&file.path)).map_err(cannot)?;
        let mut hasher = Sha256::new();
        loop {
            let n = reader.read(&mut buffer).map_err(cannot)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        let actual: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        if &actual != expected {
            return Err(Failure::Corrupt(format!("`{shown}` does not match its SHA-256 in the manifest")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_give_size_checksum_and_a_path_that_may_hold_spaces() {
        let sum = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
        let text = format!("# comment\n\n12 {sum} ./config/app.toml\n3\t-\tmy notes.txt\n");
        let listed = parse(&text).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].sha256.as_deref(), Some(sum.to_ascii_lowercase().as_str()));
        assert_eq!(listed[0].path, PathBuf::from("config/app.toml"), "a leading ./ is dropped");
        assert_eq!(listed[1], Listed { path: "my notes.txt".into(), size: 3, sha256: None });
    }

    #[test]
    fn bad_lines_are_named_by_number() {
        assert_eq!(parse("12 - a\nx - b\n").unwrap_err(), "manifest line 2: `x` is not a size in bytes");
        assert!(parse("1 abc a\n").unwrap_err().contains("line 1: `abc` is not a SHA-256"));
        assert!(parse("1 - ../etc/passwd\n").unwrap_err().contains("not a path inside the folder"));
        assert!(parse("1 - /etc/passwd\n").unwrap_err().contains("not a path inside the folder"));
        assert!(parse("12\n").unwrap_err().contains("expected `SIZE SHA256|- PATH`"));
    }
}
