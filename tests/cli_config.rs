//! The config as users meet it: through the binary, with file:line:col errors and exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config").join(name)
}

fn firstwatch(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("FIRSTWATCH_CONFIG")
        .output()
        .unwrap()
}

fn check(config: &Path) -> (i32, String, String) {
    let output = firstwatch(&["config", "check", "--config", config.to_str().unwrap()]);
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn valid_configs_pass_with_a_summary() {
    for name in ["valid.toml", "valid-full.toml"] {
        let (code, stdout, stderr) = check(&fixture(name));
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(stdout.contains(": ok"), "{stdout}");
    }
}

#[test]
fn every_invalid_fixture_names_its_line_and_problem() {
    // (file, "line:col", what the message must say)
    let cases = [
        ("unknown_key.toml", "4:1", "unknown field `evry`"),
        ("wrong_type.toml", "7:9", "invalid type: integer `15`, expected a string"),
        ("duplicate_name.toml", "6:8", "duplicate check name `api`"),
        ("unknown_reference.toml", "4:14", "unknown check `database`"),
        ("bad_duration.toml", "4:9", "not a duration unit"),
        ("bad_timezone.toml", "2:12", "unknown time zone `Mars/Olympus_Mons`"),
        ("two_targets.toml", "2:8", "needs exactly one target, found http, tcp"),
        ("unknown_action_key.toml", "2:12", "`ctrl-q` is bound to an unknown action"),
        ("unknown_on_failed_verify.toml", "11:20", "unknown action `roll back ap`"),
        ("unknown_theme.toml", "2:9", "unknown theme `neon-pink`"),
        ("not_utf8.toml", "3:6", "not valid UTF-8"),
        ("unterminated.toml", "2:12", "invalid basic string"),
        ("allow_dash_unknown.toml", "6:23", "`allow_dash` names `flags`, which is not a placeholder of `run`"),
        ("shared_group_unknown.toml", "2:16", "no group named `no-such-group-fw`"),
        ("memory_budget_small.toml", "3:17", "memory_budget of 524288 bytes is below the smallest, 1MiB"),
        ("memory_budget_unit.toml", "2:17", "`parsecs` is not a size unit"),
        (
            "memory_budget_history.toml",
            "3:17",
            "memory_budget of 2 MiB cannot hold the history of 40 checks (2 MiB at their fullest) and 1 MiB of log lines",
        ),
        (
            "window_silence_bad_matcher.toml",
            "5:25",
            "window `nightly`: silence matcher `(prod` is not a regular expression: unclosed group",
        ),
        ("window_silence_too_broad.toml", "5:12", "window `nightly`: silence is too broad"),
        (
            "color_unknown.toml",
            "2:9",
            "unknown variant `blue`, expected one of `auto`, `truecolor`, `256`, `16`, `none`",
        ),
    ];
    for (name, position, message) in cases {
        let path = fixture(&format!("invalid/{name}"));
        let (code, _, stderr) = check(&path);
        assert_eq!(code, 2, "{name} must exit 2: {stderr}");
        let location = format!("{}:{position}: ", path.display());
        assert!(stderr.contains(&location), "{name}: expected {location} in:\n{stderr}");
        assert!(stderr.contains(message), "{name}: expected `{message}` in:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// 64 MiB, less the log lines' 1 MiB, hold 1,911 histories of 34,560 bytes.
#[test]
fn the_default_budget_refuses_more_check_histories_than_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let config = |checks: usize| {
        let path = dir.path().join(format!("{checks}.toml"));
        let text: String =
            (0..checks).map(|i| format!("[[check]]\nname = \"cpu {i}\"\nsystem = \"cpu\"\n\n")).collect();
        std::fs::write(&path, text).unwrap();
        path
    };
    let (code, _, stderr) = check(&config(1911));
    assert_eq!(code, 0, "{stderr}");
    let path = config(1912);
    let (code, _, stderr) = check(&path);
    assert_eq!(code, 2, "{stderr}");
    // Unset, the budget has no line of its own: the last check is where it overflowed.
    let location = format!("{}:{}:8: ", path.display(), 1911 * 4 + 2);
    assert!(stderr.contains(&location), "expected {location} in:\n{stderr}");
    assert!(stderr.contains("memory_budget of 64 MiB cannot hold the history of 1912 checks (64 MiB"), "{stderr}");
    assert!(stderr.contains("set memory_budget = \"65MiB\" or more"), "{stderr}");
}

#[test]
fn all_problems_are_reported_at_once() {
    let (code, _, stderr) = check(&fixture("invalid/several_errors.toml"));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown time zone `Nowhere/Special`"), "{stderr}");
    assert!(stderr.contains("duplicate check name `a`"), "{stderr}");
    assert!(stderr.contains("unknown check `b`"), "{stderr}");
    assert!(stderr.contains("3 config errors"), "{stderr}");
}

#[test]
fn missing_config_and_a_directory_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = check(&dir.path().join("nope.toml"));
    assert_eq!(code, 2);
    assert!(stderr.contains("no config file found") && stderr.contains("firstwatch init"), "{stderr}");
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("is a directory"), "{stderr}");
}

#[test]
fn console_refuses_bad_config_before_touching_the_terminal() {
    let output = firstwatch(&["--config", fixture("invalid/unknown_key.toml").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing may reach the terminal: {:?}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn init_writes_a_starter_that_passes_check_and_never_overwrites_silently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conf/firstwatch.toml");
    let output = firstwatch(&["init", path.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (code, _, stderr) = check(&path);
    assert_eq!(code, 0, "the starter config must be valid: {stderr}");
    let again = firstwatch(&["init", path.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn a_bad_theme_flag_on_the_demo_is_refused_before_any_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["demo", "--dir", demo.to_str().unwrap(), "--theme", "neon"])
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown theme `neon`"));
    assert!(!demo.exists(), "nothing is created for a refused start");
}

#[test]
fn a_corrupt_store_is_reported_and_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("firstwatch.db"), b"not a database at all, just text ".repeat(100)).unwrap();
    let config = dir.path().join("firstwatch.toml");
    std::fs::write(&config, "[settings]\ndata_dir = \"data\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .args(["--config", config.to_str().unwrap()])
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is damaged") && stderr.contains("firstwatch store move-aside"), "{stderr}");
    assert!(data.join("firstwatch.db").exists());
    let moved = firstwatch(&["store", "move-aside", "--config", config.to_str().unwrap()]);
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    assert!(!data.join("firstwatch.db").exists());
}

#[test]
fn help_and_version_are_complete() {
    let help = firstwatch(&["--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["demo", "init", "config", "store", "--config", "--theme", "--read-only"] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let version = firstwatch(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
}

/// Runs the binary in `cwd`, with the config path as given (relative here).
fn firstwatch_in(cwd: &Path, args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_firstwatch"))
        .current_dir(cwd)
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("USER", "ana")
        .env_remove("FIRSTWATCH_CONFIG")
        .env_remove("PWD")
        .output()
        .unwrap()
}

const RELATIVE_PATHS: &str = r#"
[settings]
data_dir = "data"

[[action]]
name = "here"
kind = "custom"
target = "files"
risk = "low"
run = ["touch", "here.txt"]

[[action]]
name = "in work"
kind = "custom"
target = "files"
risk = "low"
dir = "work"
run = ["./stamp.sh", "there.txt"]
"#;

#[test]
fn a_relative_config_path_means_the_config_folder_from_any_directory() {
    let root = tempfile::tempdir().unwrap();
    let ops = root.path().join("ops");
    let elsewhere = root.path().join("elsewhere");
    std::fs::create_dir_all(ops.join("work")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(ops.join("fw.toml"), RELATIVE_PATHS).unwrap();
    let script = ops.join("work/stamp.sh");
    std::fs::write(&script, "#!/bin/sh\ntouch \"$1\"\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    // (current directory, --config as typed)
    let cases = [(ops.clone(), "fw.toml"), (root.path().to_path_buf(), "ops/fw.toml"), (elsewhere, "../ops/fw.toml")];
    for (cwd, config) in cases {
        for (action, made) in [("here", ops.join("here.txt")), ("in work", ops.join("work/there.txt"))] {
            // Absent the first time round; only its reappearance matters.
            let _ = std::fs::remove_file(&made);
            let output = firstwatch_in(&cwd, &["action", "run", action, "--yes", "--config", config]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "`{action}` from {} with {config}: {stderr}", cwd.display());
            assert!(made.exists(), "`{action}` from {} with {config} did not write {}", cwd.display(), made.display());
        }
        assert!(ops.join("data/firstwatch.db").exists(), "the store is beside the config");
        assert!(!cwd.join("here.txt").exists() || cwd == ops, "nothing lands in the current directory");
        assert!(!cwd.join("data").exists() || cwd == ops, "no store in the current directory");
    }
}
