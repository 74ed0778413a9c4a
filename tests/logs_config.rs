//! `[[log]]` validation through the real binary: every problem at file:line:col, exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/invalid").join(name)
}

fn check(path: &Path) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["config", "check", "--config"])
        .arg(path)
        .env("HOME", home.path())
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap();
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn every_log_fixture_names_its_line_column_and_problem() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("log_unknown_format.toml", &[("4:10", "unknown log format `xml`")]),
        ("log_bad_highlight_regex.toml", &[("6:25", "highlight pattern is not a valid regex: error: unclosed group")]),
        ("log_unknown_style.toml", &[("4:39", "unknown highlight style `neon`")]),
        (
            "log_sources.toml",
            &[
                ("2:8", "log `app` needs exactly one source, found path, command"),
                ("7:8", "log `nothing` needs exactly one source, found none"),
            ],
        ),
        (
            "log_bounds.toml",
            &[("4:18", "max_line_bytes 10 is outside 256..=67108864"), ("5:16", "buffer_lines 5 is outside")],
        ),
        ("log_empty_command.toml", &[("3:11", "log command is empty")]),
    ];
    for (name, expected) in cases {
        let path = fixture(name);
        let (code, stderr) = check(&path);
        assert_eq!(code, 2, "{name} must exit 2: {stderr}");
        for (position, message) in *expected {
            let location = format!("{}:{position}: ", path.display());
            let found = stderr.lines().any(|line| line.contains(&location) && line.contains(message));
            assert!(found, "{name}: expected `{location}{message}` in:\n{stderr}");
        }
    }
}
