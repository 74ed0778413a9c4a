//! The store and the target locks hold argv, users, SSH addresses and incident
//! notes, so they are created for their owner alone whatever the umask, or for
//! one named group with `settings.shared_group`. Real files, stat'ed.
//!
//! This binary sets its own umask (022, the usual one that made them 0644),
//! which is why these tests live in a file of their own.

use firstwatch::action::lock::TargetLock;
use firstwatch::store::{AuditEntry, STORE_FILE, Store};
use firstwatch::util::identity::Identity;
use firstwatch::util::perms::SharedGroup;
use nix::sys::stat::{Mode, umask};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).mode() & 0o777
}

fn gid(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().gid()
}

fn who() -> Identity {
    Identity { user: "ana".into(), host: "bastion".into(), ssh_client: Some("10.1.2.3".into()), tty: None }
}

/// Writes a row, so SQLite has made its `-wal` and `-shm` files.
fn write_row(store: &Store) {
    let entry = AuditEntry {
        event: "request".into(),
        action: Some("redeploy orders".into()),
        target: Some("orders".into()),
        argv: Some(vec!["deploy".into(), "orders".into()]),
        incident_id: None,
        detail: None,
    };
    store.audit(entry, &who()).unwrap();
}

fn store_files(data: &Path) -> [PathBuf; 3] {
    let db = data.join(STORE_FILE);
    [db.clone(), PathBuf::from(format!("{}-wal", db.display())), PathBuf::from(format!("{}-shm", db.display()))]
}

#[test]
fn the_store_and_locks_are_owner_only_under_umask_022() {
    umask(Mode::from_bits_truncate(0o022));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Store::open_in(&data).unwrap();
    write_row(&store);
    assert_eq!(mode(&data), 0o700, "a data folder firstwatch creates");
    for file in store_files(&data) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let lock = TargetLock::acquire(&data, "orders", &who(), "redeploy orders").unwrap();
    assert_eq!(mode(&data.join("locks")), 0o700);
    assert_eq!(mode(&data.join("locks/orders.lock")), 0o600);
    assert_eq!(mode(&data.join("locks/orders.holder")), 0o600, "the note says who runs what");
    drop(lock);
}

#[test]
fn files_left_readable_by_an_older_version_are_narrowed() {
    umask(Mode::from_bits_truncate(0o022));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let old = Store::open_in(&data).unwrap();
    write_row(&old);
    let locks = data.join("locks");
    std::fs::create_dir_all(&locks).unwrap();
    std::fs::write(locks.join("orders.lock"), "").unwrap();
    let wide = |path: &Path, bits| std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits)).unwrap();
    wide(&locks, 0o755);
    wide(&locks.join("orders.lock"), 0o644);
    for file in store_files(&data) {
        wide(&file, 0o644);
    }
    // A second instance opens while the first still has the -wal and -shm open.
    let store = Store::open_in(&data).unwrap();
    write_row(&store);
    for file in store_files(&data) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let _lock = TargetLock::acquire(&data, "orders", &who(), "redeploy orders").unwrap();
    assert_eq!(mode(&locks), 0o700);
    assert_eq!(mode(&locks.join("orders.lock")), 0o600);
}

/// A group files can be given to here: one that is not the process's own when
/// that is allowed (root, or a member of several groups), so the change shows.
fn a_group() -> SharedGroup {
    let own = nix::unistd::getegid();
    let others: Vec<nix::unistd::Gid> = if nix::unistd::geteuid().is_root() {
        let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
        groups.lines().filter_map(|l| l.split(':').nth(2)?.parse().ok()).map(nix::unistd::Gid::from_raw).collect()
    } else {
        nix::unistd::getgroups().unwrap_or_default()
    };
    let gid = others.into_iter().find(|g| *g != own).unwrap_or(own);
    let name = nix::unistd::Group::from_gid(gid).unwrap().expect("a named group").name;
    SharedGroup::lookup(&name).unwrap()
}

#[test]
fn a_shared_group_gets_group_access_and_ownership() {
    umask(Mode::from_bits_truncate(0o022));
    let group = a_group();
    let dir = tempfile::tempdir().unwrap();
    let text = format!("[settings]\ndata_dir = \"data\"\nshared_group = \"{}\"\n", group.name);
    let config = firstwatch::config::load_str(&text, &dir.path().join("fw.toml")).unwrap();
    assert_eq!(config.shared_group(), Some(group.clone()));

    let data = dir.path().join("data");
    let store = Store::for_config(&config).unwrap();
    write_row(&store);
    assert_eq!((mode(&data), gid(&data)), (0o770, group.gid), "the data folder");
    assert!(std::fs::metadata(&data).unwrap().mode() & 0o2000 != 0, "setgid: new files inherit the group");
    for file in store_files(&data) {
        assert_eq!((mode(&file), gid(&file)), (0o660, group.gid), "{}", file.display());
    }
    let _lock =
        TargetLock::acquire_with(&data, "orders", &who(), "redeploy orders", config.shared_group().as_ref()).unwrap();
    for (path, bits) in [("locks", 0o770), ("locks/orders.lock", 0o660), ("locks/orders.holder", 0o660)] {
        let path = data.join(path);
        assert_eq!((mode(&path), gid(&path)), (bits, group.gid), "{}", path.display());
    }
}

#[test]
fn an_unknown_shared_group_is_a_config_error_at_its_line() {
    let text = "[settings]\nshared_group = \"no-such-group-fw\"\n";
    let err = firstwatch::config::load_str(text, Path::new("/etc/fw.toml")).unwrap_err().to_string();
    assert!(err.contains("fw.toml:2:16") && err.contains("no group named `no-such-group-fw`"), "{err}");
}
