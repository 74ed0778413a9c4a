//! Restores of real files: the target is the old one or the new one, never half;
//! the old one is kept; every attempt is in the audit log.

#[path = "support/backups.rs"]
mod files;

use firstwatch::backup::progress::silent;
use firstwatch::backup::restore::{self, RestoreError};
use firstwatch::backup::{BackupEntry, BackupSet, Cancel, listing};
use firstwatch::config::BackupFormat;
use firstwatch::store::Store;
use firstwatch::util::identity::Identity;
use std::path::Path;

fn set_for(dir: &Path, pattern: &str, format: BackupFormat, target: &Path) -> BackupSet {
    let mut set = BackupSet::simple("app db", dir.join("backups"), pattern, format).unwrap();
    set.restore_to = Some(target.to_path_buf());
    set.check.count = vec!["users".into()];
    set
}

fn only_backup(set: &BackupSet) -> BackupEntry {
    let mut found = listing::list(set, chrono::Utc::now()).backups;
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn who() -> Identity {
    Identity { user: "oncall".into(), host: "bastion".into(), ssh_client: None, tty: None }
}

#[test]
fn a_gzipped_database_round_trips_and_the_old_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let target = dir.path().join("data/app.db");
    files::make_db(&target, 5);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 42);
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    assert!(plan.current.is_some() && plan.aside.to_string_lossy().contains(".before-restore-"));

    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::rows(&target, "users"), 42, "the target holds the backup's rows");
    let aside = outcome.aside.expect("the old target is kept");
    assert_eq!(files::rows(&aside, "users"), 5, "the kept copy is the old database");
    assert_eq!(outcome.secured_by.as_deref(), Some("online backup"));
    assert!(files::hidden_leftovers(&dir.path().join("data")).is_empty(), "no temp file is left behind");
}

#[test]
fn a_corrupt_backup_leaves_the_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let target = dir.path().join("app.db");
    files::make_db(&target, 5);
    let before = std::fs::read(&target).unwrap();
    let backup = dir.path().join("backups/app_db_20261128_030000.db.gz");
    files::write_db_gz(&backup, 42);
    let bytes = std::fs::read(&backup).unwrap();
    std::fs::write(&backup, &bytes[..bytes.len() / 2]).unwrap();
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    let err = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap_err();
    assert!(matches!(&err, RestoreError::Backup(reason) if reason.contains("ends early")), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), before, "the target is byte for byte the old one");
    assert!(!plan.aside.exists(), "nothing was set aside because nothing was replaced");
    assert!(files::hidden_leftovers(dir.path()).is_empty());
}

#[test]
fn a_restore_interrupted_half_way_leaves_the_old_target() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let target = dir.path().join("big.bin");
    std::fs::write(&target, b"the old contents").unwrap();
    // Incompressible-ish data so the read spans many progress reports.
    let payload: Vec<u8> = (0..6u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(dir.path().join("backups/blob_20261128.gz"), files::gzip(&payload)).unwrap();
    let set = set_for(dir.path(), "blob_%Y%m%d.gz", BackupFormat::Gz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    // Stops the restore from inside its own progress report, as a kill or ctrl-c would mid-copy.
    let cancel = Cancel::new();
    let stopper = cancel.clone();
    let mut reports = 0;
    let mut progress = |done: u64, total: u64| {
        reports += 1;
        assert!(done <= total);
        stopper.cancel();
    };
    let err = restore::restore(&plan, &mut progress, &cancel).unwrap_err();
    assert_eq!(err, RestoreError::Cancelled);
    assert!(reports >= 1, "it was stopped part way through");
    assert_eq!(std::fs::read(&target).unwrap(), b"the old contents");
    assert!(files::hidden_leftovers(dir.path()).is_empty(), "the partial copy is removed");
}

#[test]
fn restoring_while_another_connection_writes_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let target = dir.path().join("live.db");
    files::make_db(&target, 3);
    let live = rusqlite::Connection::open(&target).unwrap();
    let mode: String = live.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    live.execute("INSERT INTO users (id, email) VALUES (100, 'late@example.test')", []).unwrap();
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 9);
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    let aside = outcome.aside.unwrap();
    assert_eq!(files::rows(&aside, "users"), 4, "the snapshot includes the row still in the WAL");
    assert_eq!(files::rows(&target, "users"), 9, "a new connection sees the restored database");
    let fresh = rusqlite::Connection::open(&target).unwrap();
    let check: String = fresh.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok", "no stale WAL was replayed onto the restored file");
    drop(live);
}

#[test]
fn an_archive_is_swapped_in_whole_and_the_old_folder_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let target = dir.path().join("config");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("old.conf"), "old").unwrap();
    let archive = files::tar_of(&[("app.conf", b"port = 3000\n"), ("nested/extra.conf", b"x\n")]);
    std::fs::write(dir.path().join("backups/backup_20261128.tar.gz"), files::gzip(&archive)).unwrap();
    let set = set_for(dir.path(), "backup_%Y%m%d.tar.gz", BackupFormat::TarGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(std::fs::read_to_string(target.join("app.conf")).unwrap(), "port = 3000\n");
    assert!(target.join("nested/extra.conf").exists());
    assert!(!target.join("old.conf").exists(), "the old folder is replaced, not merged");
    let aside = outcome.aside.unwrap();
    assert_eq!(std::fs::read_to_string(aside.join("old.conf")).unwrap(), "old");
}

#[test]
fn a_hostile_archive_is_refused_and_nothing_escapes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let target = dir.path().join("restored/config");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("keep.conf"), "mine").unwrap();
    for (name, kind, link) in
        [("../escaped", tar::EntryType::Regular, None), ("sneaky", tar::EntryType::Symlink, Some("../../../../etc"))]
    {
        std::fs::write(dir.path().join("backups/evil_20261128.tar"), files::tar_with_raw_name(name, kind, link))
            .unwrap();
        let set = set_for(dir.path(), "evil_%Y%m%d.tar", BackupFormat::Tar, &target);
        let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
        let err = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap_err();
        assert!(matches!(err, RestoreError::Backup(_)), "{name}: {err}");
        assert!(!dir.path().join("restored/escaped").exists());
        assert_eq!(std::fs::read_to_string(target.join("keep.conf")).unwrap(), "mine");
        assert!(files::hidden_leftovers(&dir.path().join("restored")).is_empty(), "the staging folder is removed");
    }
}

#[test]
fn a_file_backup_cannot_replace_a_folder_and_a_set_without_target_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    std::fs::create_dir_all(dir.path().join("data/app.db")).unwrap();
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 1);
    let set =
        set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &dir.path().join("data/app.db"));
    let err = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap_err();
    assert!(err.to_string().contains("is a folder"), "{err}");
    let mut no_target = set.clone();
    no_target.restore_to = None;
    let err = restore::plan(&no_target, &only_backup(&set), None, chrono::Utc::now()).unwrap_err();
    assert!(err.to_string().contains("--to"), "{err}");
}

#[test]
fn every_attempt_writes_audit_rows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let store = Store::open_in(&dir.path().join("state")).unwrap();
    let target = dir.path().join("app.db");
    files::make_db(&target, 1);
    let backup = dir.path().join("backups/app_db_20261128_030000.db.gz");
    files::write_db_gz(&backup, 2);
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    restore::run_audited(&store, &who(), &plan, &mut silent(), &Cancel::new()).unwrap();

    std::fs::write(&backup, b"garbage").unwrap();
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    assert!(restore::run_audited(&store, &who(), &plan, &mut silent(), &Cancel::new()).is_err());
    restore::audit_not_run(&store, &who(), "app db", Some(&target), "restore-cancelled", "cancelled in the dialog");

    let rows = store.audit_since(None).unwrap();
    let events: Vec<&str> = rows.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(events, ["restore-start", "restore-done", "restore-start", "restore-failed", "restore-cancelled"]);
    assert!(rows[1].detail.as_deref().unwrap().contains("RTO"), "{:?}", rows[1].detail);
    assert!(rows[1].detail.as_deref().unwrap().contains("RPO"));
    assert!(rows.iter().all(|r| r.user == "oncall" && r.target.as_deref() == Some(target.to_str().unwrap())));
}

#[test]
fn creating_a_backup_of_a_live_database_uses_a_consistent_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let live_path = dir.path().join("live.db");
    files::make_db(&live_path, 3);
    let live = rusqlite::Connection::open(&live_path).unwrap();
    let _: String = live.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    live.execute("INSERT INTO users (id, email) VALUES (99, 'wal@example.test')", []).unwrap();
    let mut set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &live_path);
    set.source = Some(live_path.clone());
    let at = chrono::Utc::now();
    let created = firstwatch::backup::create::create(&set, at).unwrap();
    let entry = only_backup(&set);
    assert_eq!(entry.path, created.path);
    let report =
        firstwatch::backup::verify::verify(set.format, &set.check, &entry.path, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(report.tables[0].rows, 4, "the row still in the WAL is in the backup");
    assert!(files::hidden_leftovers(&dir.path().join("backups")).is_empty(), "no half-written file remains");
    let again = firstwatch::backup::create::create(&set, at).unwrap_err();
    assert!(again.contains("already exists"), "{again}");
    drop(live);
}

#[test]
fn a_backup_folder_is_copied_in_and_progress_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let weekly = dir.path().join("backups/20261123");
    std::fs::create_dir_all(weekly.join("nginx")).unwrap();
    std::fs::write(weekly.join("MANIFEST"), "nginx/site.conf\n").unwrap();
    std::fs::write(weekly.join("nginx/site.conf"), "server { listen 80; }\n").unwrap();
    let target = dir.path().join("etc");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("site.conf"), "broken").unwrap();
    let set = set_for(dir.path(), "%Y%m%d/", BackupFormat::Dir, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    let mut last = (0, 0);
    let mut progress = |done: u64, total: u64| last = (done, total);
    let outcome = restore::restore(&plan, &mut progress, &Cancel::new()).unwrap();
    assert_eq!(std::fs::read_to_string(target.join("nginx/site.conf")).unwrap(), "server { listen 80; }\n");
    assert_eq!(last.0, last.1, "progress ends at the total");
    assert!(last.1 > 0);
    assert_eq!(std::fs::read_to_string(outcome.aside.unwrap().join("site.conf")).unwrap(), "broken");
    assert!(weekly.join("MANIFEST").exists(), "the backup itself is untouched");
}

fn dir_with_backups() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    dir
}

#[test]
fn two_restores_of_a_file_set_in_one_second_keep_every_earlier_target() {
    let dir = dir_with_backups();
    let target = dir.path().join("app.conf");
    std::fs::write(&target, "version 1").unwrap();
    std::fs::write(dir.path().join("backups/conf_20261128.gz"), files::gzip(b"version 2")).unwrap();
    let set = set_for(dir.path(), "conf_%Y%m%d.gz", BackupFormat::Gz, &target);
    // One clock reading for both plans: the second restore lands in the same second as the first.
    let now = chrono::Utc::now();

    let first =
        restore::restore(&restore::plan(&set, &only_backup(&set), None, now).unwrap(), &mut silent(), &Cancel::new())
            .unwrap();
    std::fs::write(&target, "version 2, edited after the first restore").unwrap();
    let second =
        restore::restore(&restore::plan(&set, &only_backup(&set), None, now).unwrap(), &mut silent(), &Cancel::new())
            .unwrap();

    let (first_aside, second_aside) = (first.aside.unwrap(), second.aside.unwrap());
    assert_ne!(first_aside, second_aside, "each restore keeps the old target under its own name");
    assert_eq!(std::fs::read_to_string(&first_aside).unwrap(), "version 1");
    assert_eq!(std::fs::read_to_string(&second_aside).unwrap(), "version 2, edited after the first restore");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "version 2");
    assert!(files::hidden_leftovers(dir.path()).is_empty());
}

#[test]
fn two_restores_of_a_database_in_one_second_keep_both_old_databases() {
    let dir = dir_with_backups();
    let target = dir.path().join("app.db");
    files::make_db(&target, 5);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 42);
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let now = chrono::Utc::now();

    let first =
        restore::restore(&restore::plan(&set, &only_backup(&set), None, now).unwrap(), &mut silent(), &Cancel::new())
            .unwrap();
    rusqlite::Connection::open(&target)
        .unwrap()
        .execute("INSERT INTO users (email) VALUES ('late@x.test')", [])
        .unwrap();
    let second =
        restore::restore(&restore::plan(&set, &only_backup(&set), None, now).unwrap(), &mut silent(), &Cancel::new())
            .unwrap();

    let (first_aside, second_aside) = (first.aside.unwrap(), second.aside.unwrap());
    assert_ne!(first_aside, second_aside);
    assert_eq!(files::rows(&first_aside, "users"), 5, "the original database is still kept");
    assert_eq!(files::rows(&second_aside, "users"), 43, "the database the second restore replaced is kept");
    assert_eq!(files::rows(&target, "users"), 42);
}

#[test]
fn two_restores_of_an_archive_in_one_second_keep_both_old_folders() {
    let dir = dir_with_backups();
    let target = dir.path().join("config");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("old.conf"), "the original").unwrap();
    let archive = files::tar_of(&[("app.conf", b"port = 3000\n")]);
    std::fs::write(dir.path().join("backups/backup_20261128.tar.gz"), files::gzip(&archive)).unwrap();
    let set = set_for(dir.path(), "backup_%Y%m%d.tar.gz", BackupFormat::TarGz, &target);
    let now = chrono::Utc::now();

    let first =
        restore::restore(&restore::plan(&set, &only_backup(&set), None, now).unwrap(), &mut silent(), &Cancel::new())
            .unwrap();
    std::fs::write(target.join("app.conf"), "port = 4000\n").unwrap();
    let second =
        restore::restore(&restore::plan(&set, &only_backup(&set), None, now).unwrap(), &mut silent(), &Cancel::new());
    let second = second.unwrap_or_else(|err| {
        panic!("second restore failed: {err}; the target now holds {:?}", std::fs::read_dir(&target).map(|d| d.count()))
    });

    let (first_aside, second_aside) = (first.aside.unwrap(), second.aside.unwrap());
    assert_ne!(first_aside, second_aside);
    assert_eq!(std::fs::read_to_string(first_aside.join("old.conf")).unwrap(), "the original");
    assert_eq!(std::fs::read_to_string(second_aside.join("app.conf")).unwrap(), "port = 4000\n");
    assert_eq!(std::fs::read_to_string(target.join("app.conf")).unwrap(), "port = 3000\n");
    assert!(files::hidden_leftovers(dir.path()).is_empty());
}

#[test]
fn a_taken_aside_name_never_costs_the_old_folder() {
    let dir = dir_with_backups();
    let target = dir.path().join("config");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("mine.conf"), "the folder in use").unwrap();
    std::fs::write(dir.path().join("backups/backup_20261128.tar"), files::tar_of(&[("app.conf", b"new\n")])).unwrap();
    let set = set_for(dir.path(), "backup_%Y%m%d.tar", BackupFormat::Tar, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    // Something already sits under the name the plan proposed (an earlier restore, a colleague's copy).
    std::fs::create_dir_all(&plan.aside).unwrap();
    std::fs::write(plan.aside.join("theirs.conf"), "someone else's").unwrap();

    let result = restore::restore(&plan, &mut silent(), &Cancel::new());
    let outcome = result.unwrap_or_else(|err| {
        let kept = target.join("mine.conf").exists()
            || dir.path().read_dir().unwrap().flatten().any(|e| e.path().join("mine.conf").exists());
        panic!("restore failed: {err}; the old folder still exists somewhere: {kept}")
    });
    let aside = outcome.aside.unwrap();
    assert_ne!(aside, plan.aside, "a taken name is never reused");
    assert_eq!(std::fs::read_to_string(aside.join("mine.conf")).unwrap(), "the folder in use");
    assert_eq!(std::fs::read_to_string(plan.aside.join("theirs.conf")).unwrap(), "someone else's");
    assert_eq!(std::fs::read_to_string(target.join("app.conf")).unwrap(), "new\n");
}

/// A tar built with the tar crate: a setuid/setgid, world-writable tool owned by uid 1000 and a sticky shared folder.
fn dangerous_modes_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, kind: tar::EntryType, mode: u32, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_uid(1000);
        header.set_gid(1000);
        header.set_mtime(1_700_000_000);
        builder.append_data(&mut header, path, data).unwrap();
    };
    add("bin", tar::EntryType::Directory, 0o755, b"");
    add("bin/tool", tar::EntryType::Regular, 0o6777, b"#!/bin/sh\necho hi\n");
    add("shared", tar::EntryType::Directory, 0o1777, b"");
    add("notes.txt", tar::EntryType::Regular, 0o640, b"plain\n");
    builder.into_inner().unwrap()
}

fn our_uid(dir: &Path) -> u32 {
    use std::os::unix::fs::MetadataExt;
    let probe = dir.join("uid-probe");
    std::fs::write(&probe, b"").unwrap();
    let uid = std::fs::metadata(&probe).unwrap().uid();
    std::fs::remove_file(probe).unwrap();
    uid
}

#[test]
fn an_archive_cannot_plant_setuid_or_world_writable_files() {
    use std::os::unix::fs::MetadataExt;
    let dir = dir_with_backups();
    let target = dir.path().join("app");
    std::fs::write(dir.path().join("backups/app_20261128.tar.gz"), files::gzip(&dangerous_modes_tar())).unwrap();
    let set = set_for(dir.path(), "app_%Y%m%d.tar.gz", BackupFormat::TarGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::mode(&target.join("bin/tool")), 0o775, "setuid, setgid and world-write are dropped");
    assert_eq!(files::mode(&target.join("shared")), 0o775, "sticky and world-write are dropped");
    assert_eq!(files::mode(&target.join("notes.txt")), 0o640, "ordinary modes are kept");
    let uid = our_uid(dir.path());
    assert_eq!(std::fs::metadata(target.join("bin/tool")).unwrap().uid(), uid, "the archive's owner is not applied");
}

#[test]
fn preserve_permissions_restores_an_archive_s_modes_and_owners_as_recorded() {
    use std::os::unix::fs::MetadataExt;
    let dir = dir_with_backups();
    let target = dir.path().join("app");
    std::fs::write(dir.path().join("backups/app_20261128.tar"), dangerous_modes_tar()).unwrap();
    let mut set = set_for(dir.path(), "app_%Y%m%d.tar", BackupFormat::Tar, &target);
    set.preserve_permissions = true;
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    assert!(plan.preserve_permissions);

    restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::mode(&target.join("shared")), 0o1777);
    let tool = std::fs::metadata(target.join("bin/tool")).unwrap();
    if our_uid(dir.path()) == 0 {
        assert_eq!((tool.uid(), tool.gid()), (1000, 1000), "root applies the recorded owners");
        assert_eq!(files::mode(&target.join("bin/tool")), 0o6777);
    } else {
        // Not root: the file stays ours, and the kernel keeps setgid only for a group we are in.
        assert_eq!(files::mode(&target.join("bin/tool")) & 0o4777, 0o4777);
    }
}

#[test]
fn a_backup_folder_cannot_plant_setuid_files_either() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let weekly = dir.path().join("backups/20261123");
    std::fs::create_dir_all(&weekly).unwrap();
    std::fs::write(weekly.join("tool"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(weekly.join("tool"), std::fs::Permissions::from_mode(0o4777)).unwrap();
    let target = dir.path().join("etc");
    let set = set_for(dir.path(), "%Y%m%d/", BackupFormat::Dir, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::mode(&target.join("tool")), 0o775);
}

#[test]
fn a_link_chain_that_climbs_out_is_refused_on_restore() {
    let dir = dir_with_backups();
    let target = dir.path().join("restored/config");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("keep.conf"), "mine").unwrap();
    let archive = files::raw_tar(&[files::RawEntry::symlink("a", "."), files::RawEntry::symlink("L", "a/a/../..")]);
    std::fs::write(dir.path().join("backups/evil_20261128.tar"), archive).unwrap();
    let set = set_for(dir.path(), "evil_%Y%m%d.tar", BackupFormat::Tar, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    let err = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap_err();
    assert!(matches!(&err, RestoreError::Backup(reason) if reason.contains("outside")), "{err}");
    assert_eq!(std::fs::read_to_string(target.join("keep.conf")).unwrap(), "mine");
    assert!(!target.join("L").exists());
    assert!(files::hidden_leftovers(&dir.path().join("restored")).is_empty());
}

#[test]
fn a_gzip_bomb_is_refused_on_restore_and_nothing_is_written() {
    let dir = dir_with_backups();
    let target = dir.path().join("blob.bin");
    std::fs::write(&target, "the old contents").unwrap();
    let bomb = files::gzip_of_zeros(200 << 20);
    assert!(bomb.len() < 1 << 20, "200 MiB of zeros packs into {} bytes", bomb.len());
    std::fs::write(dir.path().join("backups/blob_20261128.gz"), &bomb).unwrap();
    let set = set_for(dir.path(), "blob_%Y%m%d.gz", BackupFormat::Gz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    let err = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap_err();
    let RestoreError::Backup(reason) = &err else { panic!("{err}") };
    assert!(reason.contains("max_ratio") && reason.contains("times"), "names the limit and the key: {reason}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the old contents");
    assert!(files::hidden_leftovers(dir.path()).is_empty(), "the partial copy is removed");

    // The set's own max_unpacked says this one is genuine.
    let mut roomy = set.clone();
    roomy.check.max_unpacked = Some(256 << 20);
    let plan = restore::plan(&roomy, &only_backup(&roomy), None, chrono::Utc::now()).unwrap();
    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(outcome.bytes, 200 << 20);
    assert_eq!(std::fs::metadata(&target).unwrap().len(), 200 << 20);
}

/// Not a test of its own: the child process of the open-database tests (this test
/// binary run again). It opens the database in FIRSTWATCH_TEST_HOLD, starts a write
/// when FIRSTWATCH_TEST_WRITE is set, says so on stdout and waits for stdin to close.
#[test]
fn holder_child() {
    use std::io::{Read, Write};
    let Some(path) = std::env::var_os("FIRSTWATCH_TEST_HOLD") else { return };
    let connection = rusqlite::Connection::open(path).unwrap();
    let _: i64 = connection.query_row("SELECT count(*) FROM users", [], |row| row.get(0)).unwrap();
    if std::env::var_os("FIRSTWATCH_TEST_WRITE").is_some() {
        connection.execute_batch("BEGIN IMMEDIATE; INSERT INTO users (email) VALUES ('held@x.test');").unwrap();
    }
    println!("\nHOLDING-THE-DATABASE");
    std::io::stdout().flush().unwrap();
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

/// Another process with a database open, until released.
struct Holder {
    child: std::process::Child,
}

impl Holder {
    fn start(db: &Path, write: bool) -> Holder {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["holder_child", "--exact", "--nocapture", "--test-threads=1"])
            .env("FIRSTWATCH_TEST_HOLD", db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if write {
            command.env("FIRSTWATCH_TEST_WRITE", "1");
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        // Returns once the child has the database open; if it dies first, its stdout ends and this fails.
        let ready =
            std::io::BufReader::new(stdout).lines().map_while(Result::ok).any(|line| line == "HOLDING-THE-DATABASE");
        assert!(ready, "the holder process did not get the database open");
        Holder { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn command(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/comm", self.pid())).unwrap().trim_end().to_string()
    }

    fn release(mut self) {
        drop(self.child.stdin.take());
        self.child.wait().unwrap();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // Only when a test failed with the holder still running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_database_another_process_has_open_is_not_replaced_until_it_lets_go() {
    let dir = dir_with_backups();
    let target = dir.path().join("app.db");
    files::make_db(&target, 5);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 42);
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    assert!(!plan.force_open);
    let before = std::fs::read(&target).unwrap();

    let holder = Holder::start(&target, false);
    let err = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&format!("pid {} ({})", holder.pid(), holder.command())), "{message}");
    assert!(message.contains("--force-open") && message.contains("was not changed"), "{message}");
    assert_eq!(std::fs::read(&target).unwrap(), before, "the target is untouched");
    assert!(!plan.aside.exists());
    assert!(files::hidden_leftovers(dir.path()).is_empty());

    holder.release();
    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::rows(&target, "users"), 42);
    assert_eq!(files::rows(&outcome.aside.unwrap(), "users"), 5);
}

#[test]
fn a_forced_restore_still_waits_for_the_database_lock_and_refuses_while_a_writer_holds_it() {
    let dir = dir_with_backups();
    let target = dir.path().join("app.db");
    files::make_db(&target, 5);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 42);
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let mut plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    plan.force_open = true;

    let writer = Holder::start(&target, true);
    let err = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("write lock") && message.contains(&format!("pid {}", writer.pid())), "{message}");
    assert!(message.contains("was not changed"), "{message}");
    assert!(!plan.aside.exists(), "nothing was kept because nothing was replaced");
    writer.release();
    assert_eq!(files::rows(&target, "users"), 5, "the writer's transaction rolled back; the old rows remain");

    // An idle reader does not hold the lock: a forced restore goes ahead under it.
    let reader = Holder::start(&target, false);
    restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::rows(&target, "users"), 42);
    reader.release();
}

#[test]
fn the_cli_names_the_process_that_holds_the_database_and_force_open_overrides() {
    let dir = dir_with_backups();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let target = dir.path().join("data/app.db");
    files::make_db(&target, 3);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 20);
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(
        &config,
        "[settings]\ndata_dir = \"state\"\n\n[[backup]]\nname = \"app db\"\ndir = \"backups\"\n\
         pattern = \"app_db_%Y%m%d_%H%M%S.db.gz\"\nformat = \"sqlite-gz\"\nrestore_to = \"data/app.db\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| files::firstwatch(&config, dir.path()).args(args).output().unwrap();
    let text = |output: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    };

    let holder = Holder::start(&target, false);
    let dry = run(&["backups", "restore", "latest", "--dry-run"]);
    assert!(text(&dry).contains(&format!("open in  pid {}", holder.pid())), "{}", text(&dry));
    let refused = run(&["backups", "restore", "latest", "--yes"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains(&format!("pid {} ({})", holder.pid(), holder.command())), "{}", text(&refused));
    assert_eq!(files::rows(&target, "users"), 3);

    let forced = run(&["backups", "restore", "latest", "--yes", "--force-open"]);
    assert!(forced.status.success(), "{}", text(&forced));
    assert_eq!(files::rows(&target, "users"), 20);
    holder.release();
}

/// A pid that belonged to a process that has exited.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    child.id()
}

#[test]
fn only_debris_of_restores_whose_process_is_gone_is_swept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("app.db");
    std::fs::write(&target, "live data").unwrap();
    let dead = dead_pid();
    let mut live = std::process::Command::new("cat").stdin(std::process::Stdio::piped()).spawn().unwrap();
    let at = |name: String| dir.path().join(name);
    let dead_file = at(format!(".app.db.firstwatch-restore-{dead}-a1B2c3D4"));
    let dead_dir = at(format!(".app.db.firstwatch-restore-{dead}-Zz9Yy8Xx"));
    let live_file = at(format!(".app.db.firstwatch-restore-{}-q1W2e3R4", live.id()));
    std::fs::write(&dead_file, vec![7u8; 1 << 20]).unwrap();
    std::fs::create_dir_all(dead_dir.join("nested")).unwrap();
    std::fs::write(dead_dir.join("nested/part.bin"), b"half a backup").unwrap();
    std::fs::write(&live_file, b"a restore in progress").unwrap();
    // Not debris of this target: another target's, a kept copy, a name without a pid.
    let others = [
        at(format!(".other.db.firstwatch-restore-{dead}-a1B2c3D4")),
        at("app.db.before-restore-20261128T030000Z".into()),
        at(".app.db.firstwatch-restore-notapid-x".into()),
    ];
    for other in &others {
        std::fs::write(other, b"keep").unwrap();
    }

    let removed = restore::sweep_debris(&target);
    let mut expected = vec![dead_file.clone(), dead_dir.clone()];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(!dead_file.exists() && !dead_dir.exists());
    assert!(live_file.exists(), "a restore whose process runs is left alone");
    assert!(others.iter().all(|p| p.exists()));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "live data");

    drop(live.stdin.take());
    live.wait().unwrap();
    assert_eq!(restore::sweep_debris(&target), [live_file], "once its process is gone, it is debris too");
}

/// A set whose backup is a large, incompressible gzip or tar.gz, and a config naming it.
struct BigRestore {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    target: std::path::PathBuf,
    total: u64,
}

const PART: u64 = 64 << 20;

impl BigRestore {
    fn new(format: BackupFormat) -> BigRestore {
        use flate2::{Compression, write::GzEncoder};
        let dir = dir_with_backups();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        // Stored, not compressed: the data is noise, and storing keeps the test fast.
        let encoder =
            |path: &str| GzEncoder::new(std::fs::File::create(dir.path().join(path)).unwrap(), Compression::none());
        let (pattern, target, total) = if format == BackupFormat::Gz {
            let mut gz = encoder("backups/blob_20261128.gz");
            std::io::copy(&mut files::Noise::new(1, 2 * PART), &mut gz).unwrap();
            gz.finish().unwrap();
            std::fs::write(dir.path().join("data/blob.bin"), "the old contents").unwrap();
            ("blob_%Y%m%d.gz", "data/blob.bin", 2 * PART)
        } else {
            let mut builder = tar::Builder::new(encoder("backups/blob_20261128.tar.gz"));
            for (seed, name) in [(1, "part1.bin"), (2, "part2.bin")] {
                let mut header = tar::Header::new_gnu();
                header.set_size(PART);
                header.set_mode(0o644);
                builder.append_data(&mut header, name, files::Noise::new(seed, PART)).unwrap();
            }
            builder.into_inner().unwrap().finish().unwrap();
            std::fs::create_dir_all(dir.path().join("data/config")).unwrap();
            std::fs::write(dir.path().join("data/config/old.conf"), "the old contents").unwrap();
            ("blob_%Y%m%d.tar.gz", "data/config", 2 * PART)
        };
        let config = dir.path().join("firstwatch.toml");
        let text = format!(
            "[settings]\ndata_dir = \"state\"\n\n[[backup]]\nname = \"blob\"\ndir = \"backups\"\n\
             pattern = \"{pattern}\"\nformat = \"{}\"\nrestore_to = \"{target}\"\n",
            format.name()
        );
        std::fs::write(&config, text).unwrap();
        let target = dir.path().join(target);
        BigRestore { dir, config, target, total }
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// Bytes in this target's staging entries (a file, or a folder of files).
    fn staged_bytes(&self) -> u64 {
        let name = self.target.file_name().unwrap().to_string_lossy().into_owned();
        let lead = format!(".{name}.firstwatch-restore-");
        let mut total = 0;
        for entry in std::fs::read_dir(self.data()).unwrap().flatten() {
            if !entry.file_name().to_string_lossy().starts_with(&lead) {
                continue;
            }
            let mut pending = vec![entry.path()];
            while let Some(path) = pending.pop() {
                match std::fs::symlink_metadata(&path) {
                    Ok(meta) if meta.is_dir() => {
                        pending.extend(std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()))
                    }
                    Ok(meta) => total += meta.len(),
                    Err(_) => {}
                }
            }
        }
        total
    }

    /// The pid in this target's staging entry: the process doing the restore.
    fn staging_pid(&self) -> Option<i32> {
        let name = self.target.file_name().unwrap().to_string_lossy().into_owned();
        let lead = format!(".{name}.firstwatch-restore-");
        std::fs::read_dir(self.data()).unwrap().flatten().find_map(|entry| {
            let file = entry.file_name().to_string_lossy().into_owned();
            file.strip_prefix(&lead)?.split('-').next()?.parse().ok()
        })
    }

    /// Starts `firstwatch backups restore latest --yes` (with `extra` arguments, from
    /// `cwd`) and returns its front end once `threshold` bytes are staged, watching the
    /// folder for the staging entry to grow.
    fn restore_staged(&self, extra: &[&str], cwd: &std::path::Path, threshold: u64) -> std::process::Child {
        use notify::Watcher;
        let (events, changes) = std::sync::mpsc::channel();
        let mut watcher = notify::recommended_watcher(events).unwrap();
        watcher.watch(&self.data(), notify::RecursiveMode::Recursive).unwrap();
        let mut child = files::firstwatch(&self.config, self.dir.path())
            .args(["backups", "restore", "latest", "--yes"])
            .args(extra)
            .current_dir(cwd)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while self.staged_bytes() < threshold {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the front end ended ({status}) before {threshold} bytes were staged");
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            // Each write to the staging entry wakes this; the deadline only guards against a hang.
            changes.recv_timeout(left).expect("no progress from the restore within two minutes").ok();
        }
        child
    }

    /// SIGKILLs the process doing a restore (its supervisor, named in the staging
    /// entry) once `fraction` of the backup is staged.
    fn kill_part_way(&self, fraction: f64) {
        let threshold = (self.total as f64 * fraction) as u64;
        let mut child = self.restore_staged(&[], self.dir.path(), threshold.max(1));
        let restorer = self.staging_pid().expect("the staging entry names its process");
        // SAFETY: the restoring process this test started (through the front end).
        assert_eq!(unsafe { libc::kill(restorer, libc::SIGKILL) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "the front end reports the restore it followed as failed: {status}");
    }

    fn is_old(&self) -> bool {
        if self.target.is_dir() {
            let names: Vec<_> = std::fs::read_dir(&self.target).unwrap().flatten().map(|e| e.file_name()).collect();
            names == ["old.conf"]
                && std::fs::read_to_string(self.target.join("old.conf")).unwrap() == "the old contents"
        } else {
            std::fs::read(&self.target).unwrap() == b"the old contents"
        }
    }

    fn is_new(&self) -> bool {
        if self.target.is_dir() {
            let mut names: Vec<_> = std::fs::read_dir(&self.target)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().into_string().unwrap())
                .collect();
            names.sort();
            names == ["part1.bin", "part2.bin"]
                && std::fs::read(self.target.join("part1.bin")).unwrap() == files::Noise::bytes(1, PART)
                && std::fs::read(self.target.join("part2.bin")).unwrap() == files::Noise::bytes(2, PART)
        } else {
            std::fs::metadata(&self.target).unwrap().len() == self.total
                && std::fs::read(&self.target).unwrap() == files::Noise::bytes(1, self.total)
        }
    }

    fn kills_leave_old_or_new_and_no_debris(&self) {
        for fraction in [0.1, 0.6] {
            // The front end that followed it sees its supervisor gone and clears what it staged.
            self.kill_part_way(fraction);
            assert_eq!(self.staged_bytes(), 0, "the killed restore's staging entry was removed");
            let listed = files::firstwatch(&self.config, self.dir.path()).args(["backups", "list"]).output().unwrap();
            assert!(listed.status.success());
            let leftovers = files::hidden_leftovers(&self.data());
            assert!(leftovers.is_empty(), "after a kill at {fraction}: {leftovers:?}");
            assert!(self.is_old() || self.is_new(), "after a kill at {fraction} the target is whole");
        }
        let done = files::firstwatch(&self.config, self.dir.path())
            .args(["backups", "restore", "latest", "--yes"])
            .output()
            .unwrap();
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        assert!(self.is_new(), "an uninterrupted restore afterwards completes");
        assert!(files::hidden_leftovers(&self.data()).is_empty());
    }
}

#[test]
fn a_gzip_restore_killed_part_way_leaves_a_whole_target_and_no_debris() {
    BigRestore::new(BackupFormat::Gz).kills_leave_old_or_new_and_no_debris();
}

#[test]
fn an_archive_restore_killed_part_way_leaves_a_whole_target_and_no_debris() {
    BigRestore::new(BackupFormat::TarGz).kills_leave_old_or_new_and_no_debris();
}

#[test]
fn a_restore_outlives_its_front_end_killed_part_way_and_finishes_audited() {
    use notify::Watcher;
    let big = BigRestore::new(BackupFormat::TarGz);
    // The restore's writes pace the wait for its end, below.
    let (events, changes) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(events).unwrap();
    watcher.watch(&big.data(), notify::RecursiveMode::Recursive).unwrap();
    // As soon as the restore is under way, its terminal goes away.
    let mut front = big.restore_staged(&[], big.dir.path(), 1);
    front.kill().unwrap();
    front.wait().unwrap();
    assert!(big.staging_pid().is_some(), "the restore is still staging");
    let store = Store::open_in(&big.dir.path().join("state")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let finished = || firstwatch::ops::record::get(&store, 1).unwrap().is_some_and(|row| row.done);
    while !finished() {
        assert!(std::time::Instant::now() < deadline, "the restore never finished");
        // Woken by the restore's own writes; the timeout only paces the check once it goes quiet.
        changes.recv_timeout(std::time::Duration::from_millis(200)).ok();
    }
    assert!(big.is_new(), "the restore finished without its front end");
    let row = firstwatch::ops::record::get(&store, 1).unwrap().unwrap();
    assert_eq!((row.state, row.done), (firstwatch::ops::record::State::Ok, true), "{row:?}");
    let events: Vec<String> = store.audit_since(None).unwrap().into_iter().map(|r| r.event).collect();
    assert_eq!(events, ["restore-start", "restore-done"]);
    assert!(files::hidden_leftovers(&big.data()).is_empty());
}

#[test]
fn a_database_too_damaged_to_open_is_still_kept_and_replaced() {
    let dir = dir_with_backups();
    let target = dir.path().join("app.db");
    std::fs::write(&target, "this stopped being a database at 3 a.m.").unwrap();
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 7);
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();

    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::rows(&target, "users"), 7);
    let kept = outcome.aside.unwrap();
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "this stopped being a database at 3 a.m.");
    assert!(outcome.secured_by.unwrap().starts_with("copy"), "kept as bytes: nothing can be writing to it");
}

#[test]
fn a_restore_and_anything_else_acting_on_its_target_never_run_at_once() {
    use firstwatch::action::lock::{TargetLock, dir_for};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let store = Store::open_in(&dir.path().join("state")).unwrap();
    let target = dir.path().join("app.db");
    files::make_db(&target, 1);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 2);
    let bo = Identity { user: "bo".into(), host: "bastion".into(), ssh_client: None, tty: Some("/dev/pts/4".into()) };

    // A set that names its target shares the lock with the actions on that target.
    let mut set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    set.target = Some("db".into());
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    let deploy = TargetLock::acquire(&dir_for(Some(&store)), "db", &bo, "redeploy db").unwrap();
    let refused = restore::run_audited(&store, &who(), &plan, &mut silent(), &Cancel::new()).unwrap_err();
    assert!(matches!(&refused, RestoreError::Busy(why) if why.contains("redeploy db by bo")), "{refused}");
    assert_eq!(files::rows(&target, "users"), 1, "the target was not touched");
    drop(deploy);

    // Without a name, the restore path is the lock: a second restore of it is refused.
    let plan = restore::plan(
        &set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target),
        &only_backup(&set),
        None,
        chrono::Utc::now(),
    )
    .unwrap();
    assert_eq!(plan.lock, target.display().to_string());
    let other = TargetLock::acquire(&dir_for(Some(&store)), &plan.lock, &bo, "restore app db").unwrap();
    let refused = restore::run_audited(&store, &who(), &plan, &mut silent(), &Cancel::new()).unwrap_err();
    assert!(
        refused.to_string().contains("restore app db by bo") && refused.to_string().ends_with("nothing was restored")
    );
    drop(other);
    restore::run_audited(&store, &who(), &plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(files::rows(&target, "users"), 2);

    let events: Vec<String> = store.audit_since(None).unwrap().into_iter().map(|r| r.event).collect();
    assert_eq!(events, ["restore-refused", "restore-refused", "restore-start", "restore-done"]);
}

#[test]
fn a_prune_and_a_backup_being_made_of_one_set_never_overlap() {
    use firstwatch::action::lock::{TargetLock, dir_for};
    use firstwatch::backup::{create, prune};
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let store = Store::open_in(&dir.path().join("state")).unwrap();
    let source = dir.path().join("live.db");
    files::make_db(&source, 3);
    let mut set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &dir.path().join("app.db"));
    set.source = Some(source);
    let bo = Identity { user: "bo".into(), host: "bastion".into(), ssh_client: None, tty: None };

    let held = TargetLock::acquire(&dir_for(Some(&store)), "backups app db", &bo, "prune app db").unwrap();
    let refused = create::create_audited(&set, Some(&store), &who()).unwrap_err();
    assert!(refused.contains("prune app db by bo"), "{refused}");
    assert!(std::fs::read_dir(dir.path().join("backups")).unwrap().next().is_none(), "no backup was made");
    let refused = prune::prune("app db", &[], &store, &who()).unwrap_err();
    assert!(refused.contains("prune app db by bo"), "{refused}");
    drop(held);

    create::create_audited(&set, Some(&store), &who()).unwrap();
    let events: Vec<String> = store.audit_since(None).unwrap().into_iter().map(|r| r.event).collect();
    assert_eq!(events, ["lock-refused", "lock-refused", "backup-create-start", "backup-create"]);
}

/// Waits (bounded) for a process that is not our child to be gone.
fn wait_gone(pid: i32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(std::time::Instant::now() < deadline, "pid {pid} never went away");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_restore_killed_with_its_front_end_is_cleared_by_the_next_command_whatever_it_is() {
    let mut big = BigRestore::new(BackupFormat::Gz);
    // Somewhere no backup set names, typed relative to where the operator stands.
    big.target = big.data().join("elsewhere.bin");
    let mut front = big.restore_staged(&["--to", "./elsewhere.bin"], &big.data(), 1);
    // Nobody is left to notice: the front end first, then the supervisor, both outright.
    front.kill().unwrap();
    front.wait().unwrap();
    let supervisor = big.staging_pid().expect("the staging entry names its process");
    // SAFETY: the supervisor this test's front end started.
    assert_eq!(unsafe { libc::kill(supervisor, libc::SIGKILL) }, 0);
    wait_gone(supervisor);
    assert!(big.staged_bytes() > 0, "the kill left the staging entry");

    // Not a backups command: nothing there knows this path but the operation's record.
    let listed = files::firstwatch(&big.config, big.dir.path()).args(["ops", "list", "--json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&listed.stderr);
    assert!(listed.status.success(), "{stderr}");
    assert!(stderr.contains("removed the unfinished restore at"), "{stderr}");
    assert_eq!(big.staged_bytes(), 0, "the staging entry is gone");
    assert!(files::hidden_leftovers(&big.data()).is_empty());
    assert!(!big.target.exists(), "nothing was restored there");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0]["kind"].as_str(), rows[0]["state"].as_str()), (Some("restore"), Some("abandoned")));
    assert_eq!(rows[0]["staging"], serde_json::Value::Null, "the record no longer points at staging");
    let store = Store::open_in(&big.dir.path().join("state")).unwrap();
    let events: Vec<String> = store.audit_since(None).unwrap().into_iter().map(|r| r.event).collect();
    assert_eq!(events, ["restore-start", "abandoned"]);
}

#[test]
fn two_spellings_of_one_restore_target_lock_one_name() {
    use firstwatch::action::lock::{TargetLock, dir_for};
    let dir = dir_with_backups();
    std::fs::create_dir_all(dir.path().join("data/sub")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("data"), dir.path().join("linked")).unwrap();
    let target = dir.path().join("data/app.db");
    files::make_db(&target, 1);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 2);
    let store = Store::open_in(&dir.path().join("state")).unwrap();
    let set = set_for(dir.path(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz, &target);
    let backup = only_backup(&set);
    // The same file typed relative to this process's folder, through `..`, and through a linked folder.
    let cwd = std::env::current_dir().unwrap();
    let up: std::path::PathBuf = cwd.components().skip(1).map(|_| "..").collect();
    let relative = up.join(target.strip_prefix("/").unwrap());
    let spellings = [relative, dir.path().join("data/sub/../app.db"), dir.path().join("linked/app.db")];
    let configured = restore::plan(&set, &backup, None, chrono::Utc::now()).unwrap();
    let bo = Identity { user: "bo".into(), host: "bastion".into(), ssh_client: None, tty: None };
    let held = TargetLock::acquire(&dir_for(Some(&store)), &configured.lock, &bo, "restore app db").unwrap();
    for spelling in &spellings {
        let plan = restore::plan(&set, &backup, Some(spelling), chrono::Utc::now()).unwrap();
        assert_eq!(plan.lock, configured.lock, "{} locks another name", spelling.display());
        assert_eq!(plan.target, configured.target);
        let refused = restore::run_audited(&store, &who(), &plan, &mut silent(), &Cancel::new()).unwrap_err();
        assert!(matches!(&refused, RestoreError::Busy(why) if why.contains("restore app db by bo")), "{refused}");
    }
    assert_eq!(files::rows(&target, "users"), 1, "no spelling got past the lock");
    drop(held);
}

/// A config with one SQLite set restoring to data/app.db, its backup and the old database.
fn cli_restore_fixture() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = dir_with_backups();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let target = dir.path().join("data/app.db");
    files::make_db(&target, 3);
    files::write_db_gz(&dir.path().join("backups/app_db_20261128_030000.db.gz"), 20);
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(
        &config,
        "[settings]\ndata_dir = \"state\"\n\n[[backup]]\nname = \"app db\"\ndir = \"backups\"\n\
         pattern = \"app_db_%Y%m%d_%H%M%S.db.gz\"\nformat = \"sqlite-gz\"\nrestore_to = \"data/app.db\"\n",
    )
    .unwrap();
    (dir, config, target)
}

#[test]
fn a_restore_during_an_incident_goes_on_its_timeline_once() {
    let (dir, config, target) = cli_restore_fixture();
    let run = |args: &[&str]| files::firstwatch(&config, dir.path()).args(args).output().unwrap();
    let opened = run(&["incident", "open", "orders down"]);
    assert!(opened.status.success(), "{}", String::from_utf8_lossy(&opened.stderr));
    let restored = run(&["backups", "restore", "latest", "--yes"]);
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert_eq!(files::rows(&target, "users"), 20);

    let shown = run(&["incident", "show", "1", "--json"]);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let incident: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let texts: Vec<String> = incident["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["text"].as_str().map(str::to_string))
        .filter(|text| text.starts_with("restore app db"))
        .collect();
    assert_eq!(texts.len(), 2, "one start and one outcome: {texts:?}");
    assert!(texts[0].starts_with("restore app db started:") && texts[0].contains("app.db"), "{texts:?}");
    assert!(texts[1].starts_with("restore app db: restored in"), "{texts:?}");
    let store = Store::open_in(&dir.path().join("state")).unwrap();
    let rows = store.audit_since(None).unwrap();
    let restore_rows: Vec<_> = rows.iter().filter(|row| row.event.starts_with("restore-")).collect();
    assert_eq!(restore_rows.len(), 2);
    assert!(restore_rows.iter().all(|row| row.incident_id == Some(1)), "{restore_rows:?}");
}

#[test]
fn a_restore_whose_start_the_audit_log_cannot_take_is_refused_and_changes_nothing() {
    let (dir, config, target) = cli_restore_fixture();
    let run = |args: &[&str]| files::firstwatch(&config, dir.path()).args(args).output().unwrap();
    // The store exists; then its audit log stops taking rows (a full disk, a damaged file).
    assert!(run(&["ops", "list"]).status.success());
    let store = rusqlite::Connection::open(dir.path().join("state/firstwatch.db")).unwrap();
    store
        .execute_batch("CREATE TRIGGER audit_full BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .unwrap();
    let refused = run(&["backups", "restore", "latest", "--yes"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("restore refused: cannot write the audit log") && stderr.contains("disk full"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(files::rows(&target, "users"), 3, "the target is untouched");
    assert!(files::hidden_leftovers(&dir.path().join("data")).is_empty());
    let listed = run(&["ops", "list", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows[0]["state"], "refused", "{rows:?}");
    assert_eq!(rows[0]["done"], true);
}
