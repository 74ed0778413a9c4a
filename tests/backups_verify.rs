//! Verification and browsing against real gzip, tar and SQLite files, good and damaged.

#[path = "support/backups.rs"]
mod files;

use firstwatch::backup::contents;
use firstwatch::backup::progress::silent;
use firstwatch::backup::verify::{CheckOptions, Failure, Report, verify};
use firstwatch::backup::{BackupSet, Cancel, check_and_record, listing, records};
use firstwatch::config::{BackupFormat, IntegrityCheck};
use firstwatch::store::Store;
use std::path::Path;

fn options(count: &[&str]) -> CheckOptions {
    CheckOptions {
        count: count.iter().map(|s| s.to_string()).collect(),
        integrity: IntegrityCheck::Full,
        max_unpacked: Some(1 << 30),
        max_ratio: None,
        manifest: None,
    }
}

fn check(format: BackupFormat, path: &Path, options: &CheckOptions) -> Result<Report, Failure> {
    verify(format, options, path, &mut silent(), &Cancel::new())
}

fn corrupt_reason(result: Result<Report, Failure>) -> String {
    match result {
        Err(Failure::Corrupt(reason)) => reason,
        other => panic!("expected a corrupt verdict, got {other:?}"),
    }
}

#[test]
fn a_good_gzipped_database_passes_with_row_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app_db.db.gz");
    files::write_db_gz(&path, 25);
    let report = check(BackupFormat::SqliteGz, &path, &options(&["users", "deals", "trades"])).unwrap();
    let counts: Vec<(String, i64)> = report.tables.iter().map(|t| (t.name.clone(), t.rows)).collect();
    assert_eq!(counts, [("users".into(), 25), ("deals".into(), 25), ("trades".into(), 0)]);
    assert!(report.summary.contains("integrity ok"), "{}", report.summary);
    let quick = CheckOptions { integrity: IntegrityCheck::Quick, ..options(&[]) };
    assert!(check(BackupFormat::SqliteGz, &path, &quick).unwrap().summary.contains("quick check ok"));
}

#[test]
fn truncated_flipped_and_empty_gzip_files_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.db.gz");
    files::write_db_gz(&good, 500);
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.path().join("truncated.db.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(corrupt_reason(check(BackupFormat::SqliteGz, &truncated, &options(&[]))).contains("ends early"));

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    for byte in &mut flipped[middle..middle + 8] {
        *byte ^= 0xff;
    }
    let flipped_path = dir.path().join("flipped.db.gz");
    std::fs::write(&flipped_path, &flipped).unwrap();
    let reason = corrupt_reason(check(BackupFormat::Gz, &flipped_path, &options(&[])));
    assert!(reason.contains("gzip"), "{reason}");

    let empty = dir.path().join("empty.db.gz");
    std::fs::write(&empty, b"").unwrap();
    assert!(corrupt_reason(check(BackupFormat::SqliteGz, &empty, &options(&[]))).contains("empty"));

    let no_gzip = dir.path().join("plain.gz");
    std::fs::write(&no_gzip, b"just some text, never compressed").unwrap();
    assert!(corrupt_reason(check(BackupFormat::Gz, &no_gzip, &options(&[]))).contains("gzip"));
}

#[test]
fn a_gzip_that_is_not_a_database_and_a_missing_table_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.db.gz");
    std::fs::write(&text, files::gzip(&b"hello, this is a shopping list\n".repeat(100))).unwrap();
    assert!(corrupt_reason(check(BackupFormat::SqliteGz, &text, &options(&[]))).contains("not an SQLite database"));

    let db = dir.path().join("app.db.gz");
    files::write_db_gz(&db, 3);
    let reason = corrupt_reason(check(BackupFormat::SqliteGz, &db, &options(&["users", "invoices"])));
    assert!(reason.contains("`invoices` is missing"), "{reason}");
}

#[test]
fn a_database_with_a_damaged_page_fails_the_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    files::make_db(&db, 2000);
    let (page, root): (usize, usize) = {
        let connection = rusqlite::Connection::open(&db).unwrap();
        let page = connection.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)).unwrap() as usize;
        let root = connection
            .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'users_email'", [], |r| r.get::<_, i64>(0))
            .unwrap() as usize;
        (page, root)
    };
    let mut bytes = std::fs::read(&db).unwrap();
    // The index's root page gets a page type that does not exist, as a torn write would leave it.
    let offset = (root - 1) * page;
    for byte in &mut bytes[offset..offset + 64] {
        *byte = 0xff;
    }
    std::fs::write(&db, &bytes).unwrap();
    let reason = corrupt_reason(check(BackupFormat::Sqlite, &db, &options(&["users"])));
    assert!(reason.contains("integrity check failed") || reason.contains("SQLite"), "{reason}");
}

#[test]
fn a_gzip_bomb_stops_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.db.gz");
    std::fs::write(&bomb, files::gzip(&vec![0u8; 8 << 20])).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 64 * 1024, "compresses very well");
    let capped = CheckOptions { max_unpacked: Some(1 << 20), ..options(&[]) };
    let reason = corrupt_reason(check(BackupFormat::SqliteGz, &bomb, &capped));
    assert!(reason.contains("max_unpacked"), "{reason}");
}

#[test]
fn tar_archives_are_read_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let archive = files::tar_of(&[("etc/app.conf", b"port = 3000\n"), ("MANIFEST", b"etc/app.conf\n")]);
    let good = dir.path().join("good.tar.gz");
    std::fs::write(&good, files::gzip(&archive)).unwrap();
    let report = check(BackupFormat::TarGz, &good, &options(&[])).unwrap();
    assert_eq!(report.files, Some(2));

    let plain = dir.path().join("good.tar");
    std::fs::write(&plain, &archive).unwrap();
    assert_eq!(check(BackupFormat::Tar, &plain, &options(&[])).unwrap().files, Some(2));

    let mut bad_header = archive.clone();
    bad_header[10] ^= 0x55;
    let bad = dir.path().join("bad.tar");
    std::fs::write(&bad, &bad_header).unwrap();
    assert!(corrupt_reason(check(BackupFormat::Tar, &bad, &options(&[]))).contains("tar"));

    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &archive[..600]).unwrap();
    let reason = corrupt_reason(check(BackupFormat::Tar, &cut, &options(&[])));
    assert!(reason.contains("cut short") || reason.contains("ends early"), "{reason}");

    let garbage = dir.path().join("garbage.tar");
    std::fs::write(&garbage, b"this is definitely not a tar archive".repeat(40)).unwrap();
    assert!(corrupt_reason(check(BackupFormat::Tar, &garbage, &options(&[]))).contains("tar"));
}

#[test]
fn hostile_tar_entries_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("../x", tar::EntryType::Regular, None, "climbs out"),
        ("/etc/x", tar::EntryType::Regular, None, "absolute"),
        ("link", tar::EntryType::Symlink, Some("../../etc/passwd"), "points outside"),
        ("abs-link", tar::EntryType::Symlink, Some("/etc/passwd"), "points outside"),
    ];
    for (name, kind, link, expected) in cases {
        let path = dir.path().join("hostile.tar");
        std::fs::write(&path, files::tar_with_raw_name(name, kind, link)).unwrap();
        let reason = corrupt_reason(check(BackupFormat::Tar, &path, &options(&[])));
        assert!(reason.contains(expected), "{name}: {reason}");
    }
}

#[test]
fn cancelling_stops_a_verification() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.gz");
    std::fs::write(&path, files::gzip(&vec![7u8; 4 << 20])).unwrap();
    let cancel = Cancel::new();
    cancel.cancel();
    assert_eq!(verify(BackupFormat::Gz, &options(&[]), &path, &mut silent(), &cancel), Err(Failure::Cancelled));

    let db = dir.path().join("app.db");
    files::make_db(&db, 10);
    assert_eq!(verify(BackupFormat::Sqlite, &options(&[]), &db, &mut silent(), &cancel), Err(Failure::Cancelled));
    let fresh = Cancel::new();
    assert!(verify(BackupFormat::Sqlite, &options(&["users"]), &db, &mut silent(), &fresh).is_ok());
    let not_a_db = dir.path().join("junk.db");
    std::fs::write(&not_a_db, b"junk").unwrap();
    let refused = verify(BackupFormat::Sqlite, &options(&[]), &not_a_db, &mut silent(), &fresh);
    assert!(matches!(refused, Err(Failure::Corrupt(_))), "a refused file ends the check without hanging");
}

#[test]
fn contents_list_tables_entries_and_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db.gz");
    files::write_db_gz(&db, 7);
    let found = contents::read(BackupFormat::SqliteGz, &db, &options(&[])).unwrap();
    let users = found.tables.iter().find(|t| t.name == "users").unwrap();
    assert_eq!(users.rows, 7);

    let archive = dir.path().join("weekly.tar.gz");
    let evil_name = "notes\u{1b}]0;pwned\u{7}.txt";
    let tar = files::tar_of(&[("config/MANIFEST", b"app.conf\n"), ("config/app.conf", b"x=1\n"), (evil_name, b"!")]);
    std::fs::write(&archive, files::gzip(&tar)).unwrap();
    let found = contents::read(BackupFormat::TarGz, &archive, &options(&[])).unwrap();
    assert_eq!(found.entries.len(), 3);
    assert_eq!(found.manifest.as_deref(), Some("app.conf"));
    assert_eq!(found.entries[0].mode, 0o644);
    assert!(found.entries.iter().all(|e| !e.path.contains('\u{1b}')), "entry names are sanitised");

    let corrupt = dir.path().join("corrupt.db.gz");
    std::fs::write(&corrupt, &std::fs::read(&db).unwrap()[..100]).unwrap();
    assert!(contents::read(BackupFormat::SqliteGz, &corrupt, &options(&[])).is_err());
}

#[test]
fn a_folder_that_changes_after_its_first_check_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let weekly = dir.path().join("backups/20261123");
    std::fs::create_dir_all(&weekly).unwrap();
    std::fs::write(weekly.join("app.conf"), "port = 3000\n").unwrap();
    let store = Store::open_in(&dir.path().join("state")).unwrap();
    let set = BackupSet::simple("weekly", dir.path().join("backups"), "%Y%m%d/", BackupFormat::Dir).unwrap();
    let now = chrono::Utc::now();
    let entry = listing::list(&set, now).backups.remove(0);
    let first = check_and_record(&set, &entry, Some(&store), &mut silent(), &Cancel::new()).unwrap();
    assert!(first.ok, "{}", first.detail);

    std::fs::write(weekly.join("app.conf"), "port = 4000\n").unwrap();
    let entry = listing::list(&set, now).backups.remove(0);
    let second = check_and_record(&set, &entry, Some(&store), &mut silent(), &Cancel::new()).unwrap();
    assert!(!second.ok && second.detail.contains("differ"), "{second:?}");
    let latest = records::latest(&store, "weekly").unwrap();
    assert!(!latest["20261123"].ok, "the stored result is the newest one");
}

#[test]
fn listing_reads_dates_from_names_and_ignores_strangers() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["app_db_20261120_030000.db.gz", "app_db_20261122_030000.db.gz", "notes.txt", "app_db_2026.db.gz"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    std::fs::create_dir(dir.path().join("app_db_20261121_030000.db.gz")).unwrap();
    let set = BackupSet::simple("db", dir.path().to_path_buf(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz)
        .unwrap();
    let found = listing::list(&set, chrono::Utc::now());
    let names: Vec<&str> = found.backups.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["app_db_20261122_030000.db.gz", "app_db_20261120_030000.db.gz"], "newest first, files only");

    let missing = BackupSet::simple("gone", dir.path().join("nope"), "*", BackupFormat::File).unwrap();
    assert!(listing::list(&missing, chrono::Utc::now()).error.unwrap().contains("does not exist"));
}

#[test]
fn comparing_an_archive_with_a_folder_lists_added_removed_and_changed() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("weekly.tar.gz");
    let tar = files::tar_of(&[("app.conf", b"port = 3000\n"), ("gone.conf", b"x"), ("same.conf", b"same")]);
    std::fs::write(&archive, files::gzip(&tar)).unwrap();
    let target = dir.path().join("etc");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("app.conf"), "port = 30000\n").unwrap();
    std::fs::write(target.join("same.conf"), "same").unwrap();
    std::fs::write(target.join("new.conf"), "y").unwrap();
    let comparison =
        firstwatch::backup::compare::compare(BackupFormat::TarGz, &archive, &target, &options(&[])).unwrap();
    assert_eq!(comparison.added, ["new.conf"]);
    assert_eq!(comparison.removed, ["gone.conf"]);
    assert_eq!(comparison.changed, ["app.conf"]);
    assert_eq!(comparison.summary(), "1 added, 1 removed, 1 changed");
}

fn chain(entries: &[files::RawEntry]) -> Result<Report, Failure> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("links.tar");
    std::fs::write(&path, files::raw_tar(entries)).unwrap();
    let set = BackupSet::simple("links", dir.path().to_path_buf(), "*.tar", BackupFormat::Tar).unwrap();
    check(BackupFormat::Tar, &path, &set.check)
}

#[test]
fn a_link_chain_that_climbs_out_of_the_archive_is_corrupt() {
    use files::RawEntry;
    // `a` is the root itself, so `a/a/../..` is two levels above the root, though it reads as the root.
    let reason = corrupt_reason(chain(&[RawEntry::symlink("a", "."), RawEntry::symlink("L", "a/a/../..")]));
    assert!(reason.contains("`L`") && reason.contains("outside"), "{reason}");
}

#[test]
fn a_link_through_a_link_that_escapes_is_corrupt_in_either_order() {
    use files::RawEntry;
    let up = RawEntry::symlink("d/up", "..");
    let through = RawEntry::symlink("x", "d/up/..");
    for entries in [[RawEntry::dir("d/"), up, through], [RawEntry::dir("d/"), through, up]] {
        let reason = corrupt_reason(chain(&entries));
        assert!(reason.contains("`x`") && reason.contains("outside"), "{reason}");
    }
    let hop = corrupt_reason(chain(&[
        RawEntry::symlink("one", "two"),
        RawEntry::symlink("two", "three/.."),
        RawEntry::symlink("three", "."),
    ]));
    assert!(hop.contains("outside"), "{hop}");
}

#[test]
fn internal_relative_links_are_accepted() {
    use files::RawEntry;
    let report = chain(&[
        RawEntry::dir("conf/"),
        RawEntry::dir("conf/v2/"),
        RawEntry::file("conf/v2/app.conf", b"port = 3000\n"),
        RawEntry::symlink("conf/current", "v2"),
        RawEntry::symlink("latest.conf", "conf/current/app.conf"),
        RawEntry::symlink("conf/v2/root", "../.."),
        RawEntry::symlink("self", "."),
        RawEntry::hard_link("copy.conf", "conf/v2/app.conf"),
    ])
    .unwrap_or_else(|failure| panic!("a benign archive was refused: {failure}"));
    assert_eq!(report.files, Some(1));
}

#[test]
fn a_gzip_bomb_is_refused_by_default_and_an_explicit_cap_lets_it_through() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("blob_20261128.gz");
    std::fs::write(&bomb, files::gzip_of_zeros(200 << 20)).unwrap();
    let set = BackupSet::simple("blobs", dir.path().to_path_buf(), "blob_%Y%m%d.gz", BackupFormat::Gz).unwrap();
    let reason = corrupt_reason(check(BackupFormat::Gz, &bomb, &set.check));
    assert!(reason.contains("max_ratio") && reason.contains("max_unpacked"), "names the keys: {reason}");

    let tar_bomb = dir.path().join("zeros.tar.gz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let mut header = tar::Header::new_gnu();
    header.set_size(200 << 20);
    header.set_mode(0o644);
    builder.append_data(&mut header, "zeros.bin", std::io::Read::take(std::io::repeat(0), 200 << 20)).unwrap();
    std::fs::write(&tar_bomb, builder.into_inner().unwrap().finish().unwrap()).unwrap();
    let reason = corrupt_reason(check(BackupFormat::TarGz, &tar_bomb, &set.check));
    assert!(reason.contains("max_ratio"), "{reason}");

    // Either key of the set lets a genuine one through.
    let roomy = CheckOptions { max_unpacked: Some(256 << 20), ..set.check.clone() };
    assert_eq!(check(BackupFormat::Gz, &bomb, &roomy).unwrap().unpacked_bytes, Some(200 << 20));
    assert_eq!(check(BackupFormat::TarGz, &tar_bomb, &roomy).unwrap().files, Some(1));
    let generous = CheckOptions { max_ratio: Some(5000), ..set.check.clone() };
    assert!(check(BackupFormat::Gz, &bomb, &generous).is_ok());
    let tight = CheckOptions { max_unpacked: Some(100 << 20), ..set.check.clone() };
    let reason = corrupt_reason(check(BackupFormat::Gz, &bomb, &tight));
    assert!(reason.contains("100.0 MiB") && reason.contains("max_unpacked"), "{reason}");
}
