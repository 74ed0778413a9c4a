//! Taking names without ever replacing what is there, and swapping a restored
//! folder in.
//!
//! The previous target is kept under `<target>.before-restore-<time>`; when
//! that name is taken (a second restore in the same second, a colleague's
//! copy), under the same name with `-2`, `-3` ... Names are taken atomically at
//! the moment they are used (`O_EXCL` for files, `RENAME_NOREPLACE` for folders),
//! so two restores racing each other cannot take the same one.

use super::restore::RestoreError;
use crate::util::sanitize::sanitize_str;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Names tried after the proposed one before giving up (`-2` ... `-1000`).
const MAX_TRIES: u32 = 1000;

/// `proposed`, then `proposed-2`, `proposed-3` ...
fn candidates(proposed: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    (1..=MAX_TRIES).map(move |n| {
        if n == 1 {
            return proposed.to_path_buf();
        }
        let mut name = OsString::from(proposed.as_os_str());
        name.push(format!("-{n}"));
        PathBuf::from(name)
    })
}

fn all_taken(proposed: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} and the next {} names after it are all taken", shown(proposed), MAX_TRIES - 1),
    )
}

fn shown(path: &Path) -> String {
    sanitize_str(&path.display().to_string())
}

/// Creates a new, empty file under `proposed` or the first free name after it,
/// with `mode` from the start (a copy of a private database stays private).
pub(crate) fn reserve_file(proposed: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    use std::os::unix::fs::OpenOptionsExt;
    for name in candidates(proposed) {
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&name) {
            Ok(file) => return Ok((name, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(all_taken(proposed))
}

/// Creates a new, empty folder under `proposed` or the first free name after it, with `mode`.
pub(crate) fn reserve_dir(proposed: &Path, mode: u32) -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    for name in candidates(proposed) {
        match std::fs::DirBuilder::new().mode(mode).create(&name) {
            Ok(()) => return Ok(name),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(all_taken(proposed))
}

/// Renames `from` to `proposed`, or to the first free name after it; returns the name taken.
pub(crate) fn rename_to_free_name(from: &Path, proposed: &Path) -> io::Result<PathBuf> {
    for name in candidates(proposed) {
        match rename_noreplace(from, &name) {
            Ok(()) => return Ok(name),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(all_taken(proposed))
}

/// Renames `from` to `to` unless something (even a dangling link) is already at `to`.
pub(crate) fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::errno::Errno;
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => return Ok(()),
            // The filesystem cannot do it; fall back to a checked rename below.
            Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {}
            Err(errno) => return Err(io::Error::from(errno)),
        }
    }
    // Checked rename: only a rename between this look and the next line could be overwritten.
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    std::fs::rename(from, to)
}

/// Puts the restored folder `staged` at `target` and keeps the current target
/// under `proposed` (or the first free name after it); returns where it is kept.
///
/// The old folder only ever has two names, `target` and the kept one: it never
/// passes through a staging name that a sweep could take for debris, and no
/// failure path removes it. On Linux the new folder first takes the kept name
/// and is then exchanged with the target in one atomic step (a kill between
/// the two leaves the target untouched and the restored copy under the kept
/// name); elsewhere the old folder is renamed aside and the new one in, and
/// put back when the second rename fails.
pub(crate) fn swap_in(staged: &Path, target: &Path, proposed: &Path) -> Result<PathBuf, RestoreError> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::errno::Errno;
        use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
        let kept = match rename_to_free_name(staged, proposed) {
            Ok(kept) => kept,
            Err(err) => {
                discard(staged);
                return Err(RestoreError::Io {
                    step: "cannot take a name to keep the current target under",
                    reason: err.to_string(),
                });
            }
        };
        match renameat2(AT_FDCWD, &kept, AT_FDCWD, target, RenameFlags::RENAME_EXCHANGE) {
            Ok(()) => return Ok(kept),
            Err(errno) => {
                // Nothing was exchanged: the restored folder is still under the kept name.
                if let Err(back) = rename_noreplace(&kept, staged) {
                    return Err(RestoreError::Swap(format!(
                        "cannot swap the restored folder in ({errno}) nor move it back ({back}). The target {} \
                         was not changed; the restored copy is at {}: remove it once you are done with it",
                        shown(target),
                        shown(&kept)
                    )));
                }
                if !matches!(errno, Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) {
                    discard(staged);
                    return Err(RestoreError::Io {
                        step: "cannot swap the restored folder in",
                        reason: io::Error::from(errno).to_string(),
                    });
                }
                // The filesystem has no exchange: go the two-rename way.
            }
        }
    }
    swap_by_two_renames(staged, target, proposed)
}

/// The swap without an atomic exchange: for a moment nothing is at `target`.
pub(crate) fn swap_by_two_renames(staged: &Path, target: &Path, proposed: &Path) -> Result<PathBuf, RestoreError> {
    let kept = rename_to_free_name(target, proposed).map_err(|err| {
        discard(staged);
        RestoreError::Io { step: "cannot move the current target aside", reason: err.to_string() }
    })?;
    if let Err(err) = rename_noreplace(staged, target) {
        return match rename_noreplace(&kept, target) {
            Ok(()) => {
                discard(staged);
                Err(RestoreError::Io { step: "cannot move the restored folder into place", reason: err.to_string() })
            }
            Err(back) => Err(RestoreError::Swap(format!(
                "cannot move the restored folder into place ({err}) nor the previous one back ({back}). Nothing \
                 is at {} now: the previous target is at {}, the restored copy at {} (cleared as debris by the \
                 next firstwatch backups command; the backup itself is untouched). Move the one you want to {}",
                shown(target),
                shown(&kept),
                shown(staged),
                shown(target)
            ))),
        };
    }
    Ok(kept)
}

/// Moves the restored folder to `target` when nothing was there; never over something that appeared since.
pub(crate) fn move_in(staged: &Path, target: &Path) -> Result<(), RestoreError> {
    rename_noreplace(staged, target).map_err(|err| {
        discard(staged);
        let reason = if err.kind() == io::ErrorKind::AlreadyExists {
            "something appeared at the target while the backup was unpacked; it was left alone".to_string()
        } else {
            err.to_string()
        };
        RestoreError::Io { step: "cannot move the restored folder into place", reason }
    })
}

/// Removes a staged copy of the backup (never the old target: callers pass only staging names).
fn discard(staged: &Path) {
    // What is left is a copy of the backup under a staging name; the next sweep clears it if this fails.
    let _ = std::fs::remove_dir_all(staged);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path, file: &str, text: &str) -> PathBuf {
        std::fs::create_dir_all(root).unwrap();
        std::fs::write(root.join(file), text).unwrap();
        root.to_path_buf()
    }

    #[test]
    fn a_taken_name_gets_a_counter_and_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let proposed = dir.path().join("app.conf.before-restore-20261128T030000Z");
        std::fs::write(&proposed, "first").unwrap();
        let (second, _) = reserve_file(&proposed, 0o600).unwrap();
        assert_eq!(second, dir.path().join("app.conf.before-restore-20261128T030000Z-2"));
        let (third, _) = reserve_file(&proposed, 0o600).unwrap();
        assert!(third.to_string_lossy().ends_with("-3"));
        assert_eq!(std::fs::read_to_string(&proposed).unwrap(), "first");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&second).unwrap().permissions().mode() & 0o777, 0o600);

        let folder = tree(&dir.path().join("folder"), "a", "folder");
        let taken = tree(&dir.path().join("kept"), "b", "someone else's");
        let kept = rename_to_free_name(&folder, &taken).unwrap();
        assert_eq!(kept, dir.path().join("kept-2"));
        assert_eq!(std::fs::read_to_string(taken.join("b")).unwrap(), "someone else's");
        std::os::unix::fs::symlink("nowhere", dir.path().join("link")).unwrap();
        let err = rename_noreplace(&kept, &dir.path().join("link")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "a dangling link is something too");
    }

    #[test]
    fn without_an_exchange_a_failed_move_puts_the_old_folder_back() {
        let dir = tempfile::tempdir().unwrap();
        let target = tree(&dir.path().join("config"), "app.conf", "in use");
        let missing = dir.path().join(".config.firstwatch-restore-1-gone");
        let err = swap_by_two_renames(&missing, &target, &dir.path().join("config.before-restore-x")).unwrap_err();
        assert!(matches!(&err, RestoreError::Io { .. }), "{err}");
        assert!(err.to_string().ends_with("the target was not changed"), "{err}");
        assert_eq!(std::fs::read_to_string(target.join("app.conf")).unwrap(), "in use");
        assert!(!dir.path().join("config.before-restore-x").exists());

        let staged = tree(&dir.path().join(".config.firstwatch-restore-1-new"), "app.conf", "restored");
        let kept = swap_by_two_renames(&staged, &target, &dir.path().join("config.before-restore-x")).unwrap();
        assert_eq!(std::fs::read_to_string(kept.join("app.conf")).unwrap(), "in use");
        assert_eq!(std::fs::read_to_string(target.join("app.conf")).unwrap(), "restored");
    }

    #[test]
    fn a_restored_folder_never_lands_on_something_that_appeared_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let target = tree(&dir.path().join("config"), "theirs", "made while we unpacked");
        let staged = tree(&dir.path().join(".config.firstwatch-restore-1-new"), "app.conf", "restored");
        let err = move_in(&staged, &target).unwrap_err();
        assert!(err.to_string().contains("left alone"), "{err}");
        assert_eq!(std::fs::read_to_string(target.join("theirs")).unwrap(), "made while we unpacked");
    }
}
