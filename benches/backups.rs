//! Backups: listing a set of 10,000 backups (goal: under 200 ms), a backup
//! health check over a set of 10,000 files (goal: under 20 ms), both as 10,000
//! backups and as one folder backup of 10,000 files held to its manifest, and
//! the throughput of gzip verification next to `gzip -t` on the same file
//! (goal: within 1.5x).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use firstwatch::backup::overview::survey;
use firstwatch::backup::progress::silent;
use firstwatch::backup::verify::{CheckOptions, verify};
use firstwatch::backup::{BackupSet, Cancel, listing};
use firstwatch::config::{BackupFormat, IntegrityCheck};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::hint::black_box;
use std::io::Write;
use std::process::Command;
use std::time::Duration;

fn listing_10k(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap().and_hms_opt(3, 0, 0).unwrap().and_utc();
    for n in 0..10_000 {
        let at = start + chrono::Duration::hours(n);
        std::fs::write(dir.path().join(at.format("app_db_%Y%m%d_%H%M%S.db.gz").to_string()), b"x").unwrap();
    }
    // Strangers in the same folder are skipped, not parsed.
    for n in 0..500 {
        std::fs::write(dir.path().join(format!("notes-{n}.txt")), b"x").unwrap();
    }
    let mut set =
        BackupSet::simple("db", dir.path().to_path_buf(), "app_db_%Y%m%d_%H%M%S.db.gz", BackupFormat::SqliteGz)
            .unwrap();
    set.keep = Some(Duration::from_secs(7 * 86400));
    set.every = Some(Duration::from_secs(3600));
    let now = chrono::Utc::now();
    assert_eq!(listing::list(&set, now).backups.len(), 10_000);
    let sets = vec![set];
    let mut group = c.benchmark_group("backups");
    group.sample_size(20);
    group.bench_function("list a set of 10,000 backups", |b| b.iter(|| black_box(survey(&sets, None, now))));
    group.finish();
}

/// The check a `[[check]] backup = "SET"` runs, over a set of 10,000 backups and
/// over a folder backup of 10,000 files with a manifest.
fn backup_check_10k(c: &mut Criterion) {
    use firstwatch::backup::assess::Limits;
    use firstwatch::health::probe::backup::BackupCheck;
    let now = chrono::Utc::now();
    let many = tempfile::tempdir().unwrap();
    let gz = {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(&payload(64 << 10)).unwrap();
        encoder.finish().unwrap()
    };
    for n in 0..10_000 {
        let at = now - chrono::Duration::hours(n);
        std::fs::write(many.path().join(at.format("app_db_%Y%m%d_%H%M%S.gz").to_string()), &gz).unwrap();
    }
    let mut set =
        BackupSet::simple("db", many.path().to_path_buf(), "app_db_%Y%m%d_%H%M%S.gz", BackupFormat::Gz).unwrap();
    set.every = Some(Duration::from_secs(3600));
    let backups = BackupCheck::without_store(set, Limits::for_set(Some(Duration::from_secs(3600)), None, None));
    let judged = backups.run(now);
    assert!(judged.threshold.is_none(), "{}", judged.summary);

    let folders = tempfile::tempdir().unwrap();
    let folder = folders.path().join(now.format("%Y%m%d").to_string());
    let mut manifest = String::new();
    for n in 0..10_000 {
        let relative = format!("part{:02}/file{n:05}.conf", n % 100);
        let body = format!("setting {n}\n");
        std::fs::create_dir_all(folder.join(&relative).parent().unwrap()).unwrap();
        std::fs::write(folder.join(&relative), &body).unwrap();
        manifest.push_str(&format!("{} - {relative}\n", body.len()));
    }
    std::fs::write(folder.join("MANIFEST"), manifest).unwrap();
    let mut set = BackupSet::simple("weekly", folders.path().to_path_buf(), "%Y%m%d/", BackupFormat::Dir).unwrap();
    set.every = Some(Duration::from_secs(7 * 86400));
    set.check.manifest = Some("MANIFEST".into());
    let folder_check =
        BackupCheck::without_store(set, Limits::for_set(Some(Duration::from_secs(7 * 86400)), None, None));
    let judged = folder_check.run(now);
    assert!(judged.threshold.is_none(), "{}", judged.summary);

    let mut group = c.benchmark_group("backups");
    group.sample_size(20);
    group.bench_function("backup check, a set of 10,000 backups", |b| b.iter(|| black_box(backups.run(now))));
    group.bench_function("backup check, a folder of 10,000 files with a manifest", |b| {
        b.iter(|| black_box(folder_check.run(now)))
    });
    group.finish();
}

/// Data that compresses about as well as a database does (roughly 3:1).
fn payload(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    while out.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let word =
            format!("row {} user{}@example.test amount {} status open\n", out.len(), state % 10_000, state % 997);
        out.extend_from_slice(word.as_bytes());
        out.extend_from_slice(&state.to_le_bytes()[..3]);
    }
    out.truncate(bytes);
    out
}

fn gzip_throughput(c: &mut Criterion) {
    let size = 64 << 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.gz");
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&payload(size)).unwrap();
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    let options = CheckOptions {
        count: Vec::new(),
        integrity: IntegrityCheck::Full,
        max_unpacked: Some(u64::MAX),
        max_ratio: None,
        manifest: None,
    };

    let mut group = c.benchmark_group("gzip verification (64 MiB unpacked)");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function("firstwatch verify", |b| {
        b.iter(|| verify(BackupFormat::Gz, &options, &path, &mut silent(), &Cancel::new()).unwrap())
    });
    let have_gzip = Command::new("gzip").arg("--version").output().is_ok_and(|o| o.status.success());
    if have_gzip {
        group.bench_function("gzip -t", |b| {
            b.iter(|| {
                let status = Command::new("gzip").arg("-t").arg(&path).status().unwrap();
                assert!(status.success());
            })
        });
    } else {
        eprintln!("gzip is not installed: only firstwatch's own figure is measured");
    }
    group.finish();
}

criterion_group!(benches, listing_10k, backup_check_10k, gzip_throughput);
criterion_main!(benches);
