//! `restore_mode = "overlay"` with real tar.gz archives: the backup's files go
//! over the target, only what they replace is set aside, and everything else in
//! the target (its logs, its own backups) is left exactly as it was.

#[path = "support/backups.rs"]
mod files;

use firstwatch::backup::progress::silent;
use firstwatch::backup::restore::{self, RestoreError};
use firstwatch::backup::{BackupEntry, BackupSet, Cancel, listing};
use firstwatch::config::{BackupFormat, RestoreMode};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// An app folder that also holds its logs and its own backups, the way the users keep it.
fn app_folder(root: &Path) -> PathBuf {
    let target = root.join("app");
    std::fs::create_dir_all(target.join("logs")).unwrap();
    std::fs::create_dir_all(target.join("backups")).unwrap();
    std::fs::create_dir_all(target.join("scripts")).unwrap();
    std::fs::write(target.join("app.conf"), "port = 2999\n").unwrap();
    std::fs::write(target.join("scripts/deploy.sh"), "old deploy\n").unwrap();
    std::fs::write(target.join("scripts/local-only.sh"), "mine\n").unwrap();
    std::fs::write(target.join("logs/app.log"), "line 1\nline 2\n").unwrap();
    std::fs::write(target.join("backups/app_db_20261127.db.gz"), "older backup").unwrap();
    target
}

/// A tar.gz of the app as it was: config, scripts and a module the target lacks.
fn write_backup(root: &Path) {
    std::fs::create_dir_all(root.join("backups")).unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, data).unwrap();
    };
    add("app.conf", b"port = 3000\n", 0o644);
    add("scripts/deploy.sh", b"new deploy\n", 0o4755);
    add("modules/billing.py", b"print('billing')\n", 0o644);
    let archive = builder.into_inner().unwrap();
    std::fs::write(root.join("backups/backup_20261128.tar.gz"), files::gzip(&archive)).unwrap();
}

fn overlay_set(root: &Path, target: &Path) -> BackupSet {
    let mut set = BackupSet::simple("app", root.join("backups"), "backup_%Y%m%d.tar.gz", BackupFormat::TarGz).unwrap();
    set.restore_to = Some(target.to_path_buf());
    set.restore_mode = RestoreMode::Overlay;
    set
}

fn only_backup(set: &BackupSet) -> BackupEntry {
    let mut found = listing::list(set, chrono::Utc::now()).backups;
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Every file under `root`, relative, sorted.
fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                pending.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn an_overlay_replaces_only_the_backup_s_files_and_sets_aside_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let target = app_folder(dir.path());
    write_backup(dir.path());
    let log_inode = std::fs::metadata(target.join("logs/app.log")).unwrap().ino();
    let set = overlay_set(dir.path(), &target);
    let mut plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    assert_eq!(plan.mode, RestoreMode::Overlay);

    // The preview, from the archive's names alone, says what will be set aside; nothing changes.
    restore::preview_overlay(&mut plan);
    let preview = plan.overlay.clone().expect("previewed").expect("readable");
    assert_eq!(preview.replaced, [PathBuf::from("app.conf"), PathBuf::from("scripts/deploy.sh")]);
    assert_eq!(preview.added, 1, "modules/billing.py is new");
    assert_eq!(read(&target.join("app.conf")), "port = 2999\n");

    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(outcome.mode, RestoreMode::Overlay);
    assert_eq!(outcome.replaced, preview.replaced, "it set aside what the preview said");
    // The backup's files are in.
    assert_eq!(read(&target.join("app.conf")), "port = 3000\n");
    assert_eq!(read(&target.join("scripts/deploy.sh")), "new deploy\n");
    assert_eq!(read(&target.join("modules/billing.py")), "print('billing')\n");
    // Everything else is where it was, as it was: the very same log file, not a copy.
    assert_eq!(read(&target.join("logs/app.log")), "line 1\nline 2\n");
    assert_eq!(std::fs::metadata(target.join("logs/app.log")).unwrap().ino(), log_inode);
    assert_eq!(read(&target.join("backups/app_db_20261127.db.gz")), "older backup");
    assert_eq!(read(&target.join("scripts/local-only.sh")), "mine\n");
    // The aside folder holds the replaced files and nothing else.
    let aside = outcome.aside.expect("something was replaced");
    assert!(aside.display().to_string().starts_with(&format!("{}.before-restore-", target.display())));
    assert_eq!(tree(&aside), ["app.conf", "scripts/deploy.sh"]);
    assert_eq!(read(&aside.join("app.conf")), "port = 2999\n");
    assert_eq!(read(&aside.join("scripts/deploy.sh")), "old deploy\n");
    // Setuid is dropped as in a replace, and no staging folder is left.
    assert_eq!(files::mode(&target.join("scripts/deploy.sh")) & 0o7000, 0, "setuid dropped");
    assert!(files::hidden_leftovers(dir.path()).is_empty(), "{:?}", files::hidden_leftovers(dir.path()));
    assert!(outcome.check.contains("2 replaced paths kept aside"), "{}", outcome.check);
}

#[test]
fn an_overlay_never_writes_through_a_link_and_swaps_a_changed_kind_aside_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("app");
    std::fs::create_dir_all(&target).unwrap();
    // `conf.d` is a link to a folder outside the target; `data` is a file where the backup has a folder.
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, target.join("conf.d")).unwrap();
    std::fs::write(target.join("data"), "a file").unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let archive = files::tar_of(&[("conf.d/site.conf", b"site\n"), ("data/rows.csv", b"1,2\n")]);
    std::fs::write(dir.path().join("backups/backup_20261128.tar.gz"), files::gzip(&archive)).unwrap();
    let set = overlay_set(dir.path(), &target);
    let mut plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    restore::preview_overlay(&mut plan);
    let preview = plan.overlay.clone().unwrap().unwrap();
    assert_eq!(preview.replaced, [PathBuf::from("conf.d"), PathBuf::from("data")]);

    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "nothing was written through the link");
    assert!(std::fs::symlink_metadata(target.join("conf.d")).unwrap().is_dir(), "a real folder now");
    assert_eq!(read(&target.join("conf.d/site.conf")), "site\n");
    assert_eq!(read(&target.join("data/rows.csv")), "1,2\n");
    let aside = outcome.aside.unwrap();
    assert_eq!(std::fs::read_link(aside.join("conf.d")).unwrap(), outside, "the link itself is kept");
    assert_eq!(read(&aside.join("data")), "a file");
}

#[test]
fn an_overlay_that_replaces_nothing_makes_no_aside_folder_and_a_bad_archive_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("app");
    std::fs::create_dir_all(target.join("logs")).unwrap();
    std::fs::write(target.join("logs/app.log"), "kept").unwrap();
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    let archive = files::tar_of(&[("fresh.conf", b"new\n")]);
    let good = files::gzip(&archive);
    std::fs::write(dir.path().join("backups/backup_20261128.tar.gz"), &good).unwrap();
    let set = overlay_set(dir.path(), &target);
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert_eq!(outcome.aside, None);
    assert!(outcome.replaced.is_empty());
    assert_eq!(tree(&target), ["fresh.conf", "logs/app.log"]);
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(siblings.len(), 2, "only app and backups: {siblings:?}");

    // A truncated archive fails in staging: the target is not touched at all.
    std::fs::write(dir.path().join("backups/backup_20261128.tar.gz"), &good[..good.len() / 2]).unwrap();
    std::fs::write(target.join("fresh.conf"), "edited since").unwrap();
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    let err = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap_err();
    assert!(matches!(err, RestoreError::Backup(_)), "{err}");
    assert_eq!(read(&target.join("fresh.conf")), "edited since");
    assert!(files::hidden_leftovers(dir.path()).is_empty());
}

#[test]
fn the_default_mode_still_replaces_the_whole_folder() {
    let dir = tempfile::tempdir().unwrap();
    let target = app_folder(dir.path());
    write_backup(dir.path());
    let mut set = overlay_set(dir.path(), &target);
    set.restore_mode = RestoreMode::default();
    let plan = restore::plan(&set, &only_backup(&set), None, chrono::Utc::now()).unwrap();
    assert_eq!(plan.mode, RestoreMode::Replace);
    let outcome = restore::restore(&plan, &mut silent(), &Cancel::new()).unwrap();
    assert!(!target.join("logs").exists(), "replace swaps the whole folder");
    assert_eq!(read(&outcome.aside.unwrap().join("logs/app.log")), "line 1\nline 2\n");
}

const CONFIG: &str = r#"[settings]
data_dir = "state"

[[backup]]
name = "app"
dir = "backups"
pattern = "backup_%Y%m%d.tar.gz"
format = "tar-gz"
restore_to = "app"
restore_mode = "overlay"
"#;

fn text(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn the_cli_dry_run_and_confirmation_say_overlay_and_list_what_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let target = app_folder(dir.path());
    write_backup(dir.path());
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let run = |args: &[&str]| files::firstwatch(&config, dir.path()).args(args).output().unwrap();

    let dry = run(&["backups", "restore", "latest", "--dry-run"]);
    let said = text(&dry);
    assert!(dry.status.success(), "{said}");
    assert!(said.contains("mode     overlay"), "{said}");
    assert!(said.contains("sets aside the 2 paths it replaces"), "{said}");
    assert!(said.contains("    app.conf\n") && said.contains("    scripts/deploy.sh\n"), "{said}");
    assert!(!said.contains("logs/app.log"), "files the backup lacks are not listed: {said}");
    assert!(said.contains("dry run: nothing was changed"), "{said}");
    assert_eq!(read(&target.join("app.conf")), "port = 2999\n", "the dry run changed nothing");
    assert!(tree(dir.path()).iter().all(|path| !path.contains("before-restore")), "no aside folder yet");

    let done = run(&["backups", "restore", "latest", "--confirm", "app"]);
    let said = text(&done);
    assert!(done.status.success(), "{said}");
    assert!(said.contains("overlays") && said.contains("the 2 paths it replaced are kept under"), "{said}");
    assert_eq!(read(&target.join("app.conf")), "port = 3000\n");
    assert_eq!(read(&target.join("logs/app.log")), "line 1\nline 2\n");

    // A file set cannot take a restore mode.
    std::fs::write(&config, CONFIG.replace("format = \"tar-gz\"", "format = \"gz\"").replace(".tar.gz", ".gz"))
        .unwrap();
    let refused = run(&["backups", "list"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("restore_mode is for tar, tar-gz and dir sets"), "{}", text(&refused));
}
