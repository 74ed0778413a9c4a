//! The allocator's set-up at start: firstwatch runs without glibc's per-thread
//! caches (set through GLIBC_TUNABLES, which glibc reads only as a process
//! starts), and the commands it runs see GLIBC_TUNABLES as the user left it.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn firstwatch() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_firstwatch"));
    command.env_remove("GLIBC_TUNABLES").env_remove("FIRSTWATCH_GLIBC_TUNABLES");
    command
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("firstwatch.toml");
    let text = format!(
        "[settings]\ndata_dir = \"{data}\"\n\n[[check]]\nname = \"env\"\n\
         command = [\"sh\", \"-c\", \"echo tunables=${{GLIBC_TUNABLES-unset}} marker=${{FIRSTWATCH_GLIBC_TUNABLES-unset}}\"]\n\n\
         [[log]]\nname = \"app\"\npath = \"{log}\"\n",
        data = dir.join("data").display(),
        log = dir.join("app.log").display(),
    );
    std::fs::write(&config, text).unwrap();
    std::fs::write(dir.join("app.log"), "started\n").unwrap();
    config
}

#[test]
fn commands_see_glibc_tunables_as_the_user_left_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    for (given, seen) in [(None, "unset"), (Some(""), ""), (Some("glibc.malloc.check=0"), "glibc.malloc.check=0")] {
        let mut command = firstwatch();
        command.args(["check", "--config", config.to_str().unwrap()]);
        if let Some(value) = given {
            command.env("GLIBC_TUNABLES", value);
        }
        let output = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout.contains(&format!("tunables={seen} marker=unset")), "given {given:?}: {stdout}");
    }
}

/// The environment this running firstwatch started with, as glibc read it.
fn started_with(tunables: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let mut command = firstwatch();
    command.args(["logs", "--follow", "--raw", "--config", config.to_str().unwrap()]).stdout(Stdio::piped());
    if let Some(value) = tunables {
        command.env("GLIBC_TUNABLES", value);
    }
    let mut child = command.spawn().unwrap();
    // The first line comes from the follower itself, so any second start is behind it.
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "started\n");
    let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    // glibc ends each tunable it reads with a NUL in place, so they read as separate entries.
    String::from_utf8_lossy(&environ)
        .split('\0')
        .filter(|v| v.contains("TUNABLES") || v.starts_with("glibc."))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn firstwatch_runs_without_the_thread_caches_unless_the_user_set_them() {
    assert_eq!(started_with(None), "FIRSTWATCH_GLIBC_TUNABLES=- GLIBC_TUNABLES=glibc.malloc.tcache_count=0");
    assert_eq!(
        started_with(Some("glibc.malloc.check=0")),
        "FIRSTWATCH_GLIBC_TUNABLES==glibc.malloc.check=0 GLIBC_TUNABLES=glibc.malloc.check=0 glibc.malloc.tcache_count=0"
    );
    // A choice of the user's own is kept, and firstwatch starts once.
    assert_eq!(started_with(Some("glibc.malloc.tcache_count=3")), "GLIBC_TUNABLES=glibc.malloc.tcache_count=3");
}
