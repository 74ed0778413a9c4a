//! The demo's backups through the real binary: the sets list, the damaged ones are found.

use std::process::Command;

#[test]
fn demo_backups_list_and_verify_find_the_damaged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let demo = firstwatch::demo::prepare(dir.path(), &listener).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_firstwatch"))
            .args(args)
            .arg("--config")
            .arg(&demo.config_path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let list = run(&["backups", "list"]);
    let text = String::from_utf8_lossy(&list.stdout);
    // The demo's daily backup ran at 03:00 yesterday: ok before about 04:00, late (a warning) after.
    assert!(matches!(list.status.code(), Some(0 | 1)), "{text}{}", String::from_utf8_lossy(&list.stderr));
    assert!(text.contains("app db") && text.contains("weekly config") && text.contains("weekly archive"), "{text}");
    // Daily backups at 03:00 from 1 to 9 days ago: those past 7 days would be pruned.
    let pruned = text.matches("[would prune]").count();
    assert!((2..=3).contains(&pruned), "{pruned} pruned:\n{text}");

    let verify = run(&["backups", "verify", "--all"]);
    let out = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(1), "older corrupt backups are a warning:\n{out}");
    assert!(out.contains("WARNING weekly archive: 1 older backup is corrupt"), "{out}");
    assert_eq!(out.matches("CORRUPT").count(), 2, "the truncated gz and the damaged tar.gz:\n{out}");
    assert!(out.contains("ends early"), "{out}");

    let list = run(&["backups", "list", "app db"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("✗ corrupt"), "results are kept in the store:\n{text}");
}
