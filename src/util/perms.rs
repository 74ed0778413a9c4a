//! Files only their owner (or one named group) may read: the store, target
//! locks, and anything else that holds argv, users, SSH addresses or notes.
//!
//! Modes are set when a file is created (so there is no moment when it is
//! readable by all) and corrected when it already exists with other bits,
//! whatever the process umask. With a [`SharedGroup`], files are 0660 and
//! folders 2770 (setgid, so files that SQLite or another engineer creates in
//! them inherit the group) and both belong to that group.

use std::fs::{File, Metadata, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// `settings.shared_group`: the Unix group whose members share the store and locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedGroup {
    pub name: String,
    pub gid: u32,
}

impl SharedGroup {
    /// The group called `name`, from the system's group database.
    pub fn lookup(name: &str) -> Result<SharedGroup, String> {
        match nix::unistd::Group::from_name(name) {
            Ok(Some(group)) => Ok(SharedGroup { name: group.name, gid: group.gid.as_raw() }),
            Ok(None) => Err(format!("no group named `{name}` on this host")),
            Err(err) => Err(format!("cannot look up group `{name}`: {err}")),
        }
    }
}

/// 0600, or 0660 for a shared group.
pub fn file_mode(group: Option<&SharedGroup>) -> u32 {
    if group.is_some() { 0o660 } else { 0o600 }
}

/// 0700, or 2770 (group-shared, setgid) for a shared group.
pub fn dir_mode(group: Option<&SharedGroup>) -> u32 {
    if group.is_some() { 0o2770 } else { 0o700 }
}

/// Creates `path` (and missing parents) and makes it owner-only, or shared with `group`.
pub fn private_dir(path: &Path, group: Option<&SharedGroup>) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(dir_mode(group) & 0o777).create(path)?;
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "exists and is not a folder"));
    }
    if let Some(group) = group {
        // The group first: a later chmod can then keep the setgid bit.
        tolerate_foreign(&metadata, set_group_if(&metadata, group, |gid| std::os::unix::fs::chown(path, None, gid)))?;
    }
    let wanted = dir_mode(group);
    if metadata.mode() & 0o7777 != wanted {
        let chmod = std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted));
        tolerate_foreign(&metadata, chmod)?;
    }
    Ok(())
}

/// Opens `path` for appending and reading, creating it owner-only (or shared
/// with `group`); an existing file with other mode bits or another group is corrected.
pub fn private_file(path: &Path, group: Option<&SharedGroup>) -> std::io::Result<File> {
    let file = OpenOptions::new().read(true).append(true).create(true).mode(file_mode(group)).open(path)?;
    restrict(&file, group)?;
    Ok(file)
}

/// Gives an open file the mode and group [`private_file`] would have created it with.
pub fn restrict(file: &File, group: Option<&SharedGroup>) -> std::io::Result<()> {
    let metadata = file.metadata()?;
    if let Some(group) = group {
        tolerate_foreign(&metadata, set_group_if(&metadata, group, |gid| std::os::unix::fs::fchown(file, None, gid)))?;
    }
    // Also when the mode is narrower: creation is subject to the umask, and a shared file must be group-writable.
    let wanted = file_mode(group);
    if metadata.mode() & 0o7777 != wanted {
        tolerate_foreign(&metadata, file.set_permissions(std::fs::Permissions::from_mode(wanted)))?;
    }
    Ok(())
}

/// Like [`restrict`] for a path that may not exist (a sidecar another process creates and deletes).
///
/// It never opens the file: closing a descriptor drops every POSIX lock this process holds on
/// the file, and SQLite keeps its database and `-shm` locks that way.
pub fn restrict_path(path: &Path, group: Option<&SharedGroup>) -> std::io::Result<()> {
    // Not followed: a link in place of a sidecar is not ours to change.
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_file() => metadata,
        Ok(_) => return Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    if let Some(group) = group {
        tolerate_foreign(&metadata, set_group_if(&metadata, group, |gid| std::os::unix::fs::chown(path, None, gid)))?;
    }
    let wanted = file_mode(group);
    if metadata.mode() & 0o7777 != wanted {
        tolerate_foreign(&metadata, std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted)))?;
    }
    Ok(())
}

fn set_group_if(
    metadata: &Metadata,
    group: &SharedGroup,
    chown: impl FnOnce(Option<u32>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if metadata.gid() == group.gid { Ok(()) } else { chown(Some(group.gid)) }
}

/// Only the owner (or root) may change a file's mode or group. Another group
/// member opening a shared file it does not own cannot fix it and must not be
/// stopped by that: the owner's next run fixes it.
fn tolerate_foreign(metadata: &Metadata, result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(err)
            if err.kind() == std::io::ErrorKind::PermissionDenied
                && metadata.uid() != nix::unistd::geteuid().as_raw() =>
        {
            Ok(())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    #[test]
    fn files_and_folders_are_created_owner_only_and_wider_ones_are_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a/b");
        private_dir(&folder, None).unwrap();
        assert_eq!(mode(&folder), 0o700);
        let file = folder.join("f");
        std::fs::write(&file, "kept").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&folder, None).unwrap();
        let mut opened = private_file(&file, None).unwrap();
        assert_eq!((mode(&folder), mode(&file)), (0o700, 0o600));
        std::io::Write::write_all(&mut opened, b" and appended").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept and appended");
    }

    #[test]
    fn an_unknown_group_is_an_error_that_names_it() {
        let err = SharedGroup::lookup("no-such-group-fw").unwrap_err();
        assert!(err.contains("no-such-group-fw"), "{err}");
    }
}
