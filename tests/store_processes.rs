//! Two processes writing the store at once lose no row.
//!
//! The test re-runs its own binary as the writer processes (selected by an
//! environment variable), so each writer is a real separate process with its
//! own SQLite connection and file locks.

use firstwatch::store::{AuditEntry, Store};
use firstwatch::util::identity::Identity;
use std::process::Command;

const ROWS_PER_WRITER: usize = 200;

#[test]
fn writer_process() {
    // Does nothing unless started by the test below as a child process.
    let Ok(dir) = std::env::var("FIRSTWATCH_TEST_WRITER_DIR") else { return };
    let tag = std::env::var("FIRSTWATCH_TEST_WRITER_TAG").unwrap();
    let store = Store::open_in(std::path::Path::new(&dir)).unwrap();
    let who = Identity { user: tag.clone(), host: "test".into(), ssh_client: None, tty: None };
    for i in 0..ROWS_PER_WRITER {
        let entry = AuditEntry { event: "note".into(), detail: Some(format!("{tag}-{i}")), ..AuditEntry::default() };
        store.audit(entry, &who).unwrap();
    }
}

#[test]
fn two_processes_writing_at_once_lose_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let spawn = |tag: &str| {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "writer_process", "--nocapture"])
            .env("FIRSTWATCH_TEST_WRITER_DIR", dir.path())
            .env("FIRSTWATCH_TEST_WRITER_TAG", tag)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Both start before either finishes, and both race through the first migration too.
    let mut first = spawn("alpha");
    let mut second = spawn("beta");
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());

    let store = Store::open_in(dir.path()).unwrap();
    let rows = store.audit_since(None).unwrap();
    assert_eq!(rows.len(), 2 * ROWS_PER_WRITER);
    for tag in ["alpha", "beta"] {
        let mine: Vec<String> = rows.iter().filter(|r| r.user == tag).filter_map(|r| r.detail.clone()).collect();
        let expected: Vec<String> = (0..ROWS_PER_WRITER).map(|i| format!("{tag}-{i}")).collect();
        assert_eq!(mine, expected, "{tag}'s rows must all be there, in order");
    }
}

/// POSIX locks this process holds on the file at `path`, from /proc/locks.
fn posix_locks_held(path: &std::path::Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).unwrap().ino();
    let me = std::process::id().to_string();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "1: POSIX  ADVISORY  READ 4242 00:2d:1234 128 128"
            fields.get(1) == Some(&"POSIX")
                && fields.get(4) == Some(&me.as_str())
                && fields.get(5).and_then(|id| id.rsplit(':').next()) == Some(inode.to_string().as_str())
        })
        .count()
}

/// SQLite marks a WAL index in use with a POSIX lock on `-shm`, and a process loses every
/// POSIX lock on a file when it closes any descriptor of it. Opening the store (even a second
/// time in one process, as a test or a tab may) must keep that lock, or another process resets
/// the index under this one's mapping: that killed long-lived supervisors with SIGBUS.
#[test]
fn opening_the_store_keeps_sqlites_lock_on_its_wal_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let who = Identity::default();
    store.audit(AuditEntry { event: "note".into(), ..AuditEntry::default() }, &who).unwrap();
    let shm = dir.path().join("firstwatch.db-shm");
    assert!(posix_locks_held(&shm) > 0, "the first connection holds the -shm lock");
    let again = Store::open_in(dir.path()).unwrap();
    again.audit(AuditEntry { event: "note".into(), ..AuditEntry::default() }, &who).unwrap();
    assert!(posix_locks_held(&shm) > 0, "opening the store again kept it");
    assert_eq!(store.audit_since(None).unwrap().len(), 2);
}
