//! Writing an archive's or a backup folder's files into a staging folder for a
//! restore: nothing may land outside it, no link may lead outside it, and no
//! file comes out setuid, setgid, sticky or world-writable unless the set asks.

use super::progress::{Cancel, Progress};
use super::restore::RestoreError;
use super::safety::ArchiveTree;
use super::verify::{self, Cap};
use crate::util::sanitize::sanitize_str;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Mode bits a restore drops unless the set has `preserve_permissions = true`:
/// setuid, setgid, sticky and write for others. An archive made elsewhere (or
/// tampered with) must not plant a root-owned setuid program or a file anyone
/// may rewrite.
pub(crate) const DROPPED_BITS: u32 = 0o7002;

/// Unpacks every entry into `root`, refusing the archive if any entry or link
/// would reach outside it or it unpacks to more than `cap`.
pub(crate) fn unpack_tar(reader: impl Read, root: &Path, cap: &Cap, preserve: bool) -> Result<u64, RestoreError> {
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(preserve);
    // Only root can give files away; for anyone else the archive's owners cannot apply.
    archive.set_preserve_ownerships(preserve && nix::unistd::geteuid().is_root());
    archive.set_mask(if preserve { 0 } else { DROPPED_BITS });
    archive.set_overwrite(true);
    let damaged = |err: io::Error| -> RestoreError {
        if super::progress::is_cancelled(&err) {
            return RestoreError::Cancelled;
        }
        if super::progress::is_too_large(&err) || err.kind() == io::ErrorKind::FileTooLarge {
            return RestoreError::from(cap.exceeded());
        }
        RestoreError::Backup(format!("the archive is damaged: {}", sanitize_str(&err.to_string())))
    };
    let mut tree = ArchiveTree::default();
    let mut bytes = 0u64;
    let mut count = 0;
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let path = entry.path().map_err(damaged)?.into_owned();
        let kind = entry.header().entry_type();
        let link = entry.link_name().ok().flatten().map(|l| l.into_owned());
        tree.admit(&path, kind, link.as_deref()).map_err(RestoreError::Backup)?;
        bytes = bytes.saturating_add(entry.size());
        if bytes > cap.bytes {
            return Err(RestoreError::from(cap.exceeded()));
        }
        count += 1;
        if !entry.unpack_in(root).map_err(damaged)? {
            let shown = sanitize_str(&path.display().to_string());
            return Err(RestoreError::Backup(format!("entry `{shown}` would land outside the target")));
        }
    }
    if count == 0 {
        return Err(RestoreError::Backup("the archive holds no entries".into()));
    }
    // A link can lead outside only through links that came after it; now every one is known.
    tree.finish().map_err(RestoreError::Backup)?;
    Ok(bytes)
}

/// Copies a backup folder; links are refused rather than followed.
pub(crate) fn copy_tree(
    source: &Path,
    destination: &Path,
    preserve: bool,
    progress: &mut dyn Progress,
    cancel: &Cancel,
) -> Result<u64, RestoreError> {
    if !source.is_dir() {
        return Err(RestoreError::Backup("the backup folder is gone".into()));
    }
    let total: u64 = verify::walk_files(source).map(|files| files.iter().map(|(_, size)| size).sum()).unwrap_or(0);
    let mut bytes = 0;
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let from = source.join(&relative);
        let reader = std::fs::read_dir(&from).map_err(|err| RestoreError::Backup(format!("cannot list: {err}")))?;
        for item in reader {
            if cancel.is_cancelled() {
                return Err(RestoreError::Cancelled);
            }
            let item = item.map_err(|err| RestoreError::Backup(format!("cannot list: {err}")))?;
            let kind = item.file_type().map_err(|err| RestoreError::Backup(err.to_string()))?;
            let inner = relative.join(item.file_name());
            let shown = || sanitize_str(&inner.display().to_string());
            if kind.is_dir() {
                std::fs::create_dir(destination.join(&inner)).map_err(|err| RestoreError::Io {
                    step: "cannot create a folder in the staging folder",
                    reason: err.to_string(),
                })?;
                pending.push(inner);
            } else if kind.is_file() {
                let to = destination.join(&inner);
                let copied = std::fs::copy(item.path(), &to)
                    .map_err(|err| RestoreError::Backup(format!("cannot read `{}`: {err}", shown())))?;
                settle_permissions(&item.path(), &to, preserve).map_err(|err| RestoreError::Io {
                    step: "cannot set a restored file's permissions",
                    reason: err.to_string(),
                })?;
                bytes += copied;
                progress.report(bytes, total);
            } else {
                return Err(RestoreError::Backup(format!("`{}` is a link or special file; not restored", shown())));
            }
        }
    }
    Ok(bytes)
}

/// `std::fs::copy` carries every mode bit over; drop the dangerous ones, or with
/// `preserve` (and as root) give the copy its original owners as well.
fn settle_permissions(from: &Path, to: &Path, preserve: bool) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let metadata = std::fs::metadata(from)?;
    let mode = metadata.mode() & 0o7777;
    if preserve {
        if nix::unistd::geteuid().is_root() {
            std::os::unix::fs::chown(to, Some(metadata.uid()), Some(metadata.gid()))?;
            // Changing the owner clears setuid and setgid, so the mode goes on again.
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))?;
        }
        return Ok(());
    }
    if mode & DROPPED_BITS != 0 {
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode & !DROPPED_BITS))?;
    }
    Ok(())
}

/// Flushes every staged file and the staging folder itself to disk.
pub(crate) fn sync_tree(root: &Path) -> io::Result<()> {
    for (file, _) in verify::walk_files(root)? {
        File::open(&file)?.sync_all()?;
    }
    sync_dir(root);
    Ok(())
}

pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        // A folder that cannot be synced is still renamed; the rename itself is atomic.
        let _ = handle.sync_all();
    }
}
