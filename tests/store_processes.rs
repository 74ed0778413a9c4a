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
