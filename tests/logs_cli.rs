//! `firstwatch logs` through the real binary, on real files with a temp config.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(config: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join("firstwatch.toml"), config).unwrap();
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(self.path(name)).unwrap();
        file.write_all(bytes).unwrap();
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_firstwatch"));
        command
            .arg("--config")
            .arg(self.path("firstwatch.toml"))
            .arg("logs")
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("FIRSTWATCH_CONFIG");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

const TWO_LOGS: &str = r#"
[[log]]
name = "app"
path = "logs/app.log"

[[log]]
name = "metrics"
path = "logs/metrics.jsonl"
format = "jsonl"
"#;

fn numbered(from: u32, to: u32) -> String {
    (from..=to)
        .map(|n| format!("2026-11-29T10:00:{:02}Z {} line {n}\n", n % 60, if n % 5 == 0 { "ERROR" } else { "INFO" }))
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn prints_the_last_lines_of_a_named_log_with_its_tag() {
    let scratch = Scratch::new(TWO_LOGS);
    scratch.write("logs/app.log", numbered(1, 20).as_bytes());
    scratch.write("logs/metrics.jsonl", b"{\"level\":\"info\",\"msg\":\"sync ok\"}\n");
    let output = scratch.run(&["app", "-n", "3"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("app ") && lines[0].ends_with("line 18"), "{lines:?}");
    assert!(lines[2].ends_with("line 20"));

    let everything = stdout(&scratch.run(&["-n", "1"]));
    assert!(everything.contains("app     2026") && everything.contains("metrics INFO  sync ok"), "{everything}");
}

#[test]
fn grep_level_and_json_filter_and_shape_the_output() {
    let scratch = Scratch::new(TWO_LOGS);
    scratch.write("logs/app.log", numbered(1, 20).as_bytes());
    scratch.write("logs/metrics.jsonl", b"");
    let output = scratch.run(&["app", "-n", "100", "--level", "error", "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let objects: Vec<serde_json::Value> = stdout(&output).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objects.len(), 4, "lines 5, 10, 15, 20 are errors");
    assert_eq!(objects[0]["source"], "app");
    assert_eq!(objects[0]["level"], "error");
    assert!(objects[3]["text"].as_str().unwrap().ends_with("line 20"));

    let grepped = stdout(&scratch.run(&["app", "-n", "100", "--grep", "line 1[0-2]$"]));
    assert_eq!(grepped.lines().count(), 3, "{grepped}");
    let inverted = stdout(&scratch.run(&["app", "-n", "100", "--grep", "line 1", "-v"]));
    assert_eq!(inverted.lines().count(), 9, "{inverted}");
}

#[test]
fn raw_prints_the_bytes_as_read_and_the_default_is_sanitised() {
    let scratch = Scratch::new(TWO_LOGS);
    let hostile = b"A\x1b]0;PWNED\x07\x1b]52;c;cm0=\x07\x1b[2JFAKE \xff\x00 end\nplain\n";
    scratch.write("logs/app.log", hostile);
    let raw = scratch.run(&["app", "--raw"]);
    assert_eq!(raw.stdout, hostile.to_vec());
    let safe = scratch.run(&["app"]);
    assert!(!safe.stdout.contains(&0x1b) && !safe.stdout.contains(&0x07), "{:?}", stdout(&safe));
    assert!(stdout(&safe).contains("app AFAKE \u{fffd}\u{2400} end"), "{}", stdout(&safe));
}

#[test]
fn plain_lines_are_printed_as_written_and_the_others_made_safe_tabs_cuts_and_crlf_included() {
    let scratch = Scratch::new("[[log]]\nname = \"app\"\npath = \"logs/app.log\"\nmax_line_bytes = 256\n");
    let long = "x".repeat(300);
    scratch.write("logs/app.log", format!("plain ascii\ntab\there\ncrlf\r\ncafé\n{long}\n").as_bytes());
    let expected =
        format!("app plain ascii\napp tab here\napp crlf\napp café\napp {} [… 44 bytes cut]\n", &long[..256]);
    assert_eq!(stdout(&scratch.run(&["app"])), expected);
}

#[test]
fn bad_usage_exits_2_and_unreadable_logs_exit_1() {
    let scratch = Scratch::new(TWO_LOGS);
    let unknown = scratch.run(&["nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown log `nope` (known: app, metrics)"));
    let regex = scratch.run(&["--grep", "(unclosed"]);
    assert_eq!(regex.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&regex.stderr).contains("--grep is not a valid regex"));
    let level = scratch.run(&["--level", "loud"]);
    assert_eq!(level.status.code(), Some(2));

    let missing = scratch.run(&["app"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("app.log does not exist"), "{missing:?}");
    std::fs::create_dir(scratch.path("logs/app.log")).unwrap();
    let folder = scratch.run(&["app"]);
    assert_eq!(folder.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&folder.stderr).contains("is a directory"));
}

#[test]
fn help_documents_the_exit_codes() {
    let scratch = Scratch::new(TWO_LOGS);
    let help = stdout(&scratch.run(&["--help"]));
    assert!(help.contains("Exit codes:") && help.contains("unknown log name"), "{help}");
}

#[test]
fn a_command_source_prints_its_output() {
    let scratch = Scratch::new("[[log]]\nname = \"cmd\"\ncommand = [\"sh\", \"-c\", \"echo one; echo WARN two\"]\n");
    let output = scratch.run(&["--level", "warn"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "cmd WARN two\n");
}

/// Lines of the child's stdout as they come.
fn lines_of(child: &mut std::process::Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn wait_for(lines: &Receiver<String>, wanted: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = lines.recv_timeout(PATIENCE).unwrap_or_else(|_| panic!("no `{wanted}` in {seen:?}"));
        let done = line.contains(wanted);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

#[test]
fn follow_keeps_going_through_rotation_and_ctrl_c_exits_0() {
    let scratch = Scratch::new(TWO_LOGS);
    let log = scratch.path("logs/app.log");
    scratch.write("logs/app.log", numbered(1, 5).as_bytes());
    let mut child = scratch.command(&["app", "--follow", "-n", "2"]).stdout(Stdio::piped()).spawn().unwrap();
    let lines = lines_of(&mut child);
    let first = wait_for(&lines, "line 5");
    assert_eq!(first.len(), 2, "{first:?}");
    scratch.write("logs/app.log", numbered(6, 7).as_bytes());
    wait_for(&lines, "line 7");
    std::fs::rename(&log, log.with_extension("log.1")).unwrap();
    scratch.write("logs/app.log", numbered(8, 9).as_bytes());
    let after = wait_for(&lines, "line 9");
    assert!(after[0].contains("rotated"), "{after:?}");
    assert!(after[1].ends_with("line 8"), "{after:?}");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || tx.send(child.wait().unwrap()).unwrap());
    let status = rx.recv_timeout(PATIENCE).expect("logs --follow did not stop on SIGINT");
    assert_eq!(status.code(), Some(0));
}

/// Lines as a metrics job writes them (Python's json.dumps: a space after each colon).
const METRICS: &str = concat!(
    "{\"time\": \"10:00:01\", \"level\": \"info\", \"operation\": \"sync\", \"duration_seconds\": 2.5, \"status\": \"success\"}\n",
    "{\"time\": \"10:00:02\", \"level\": \"error\", \"operation\": \"sync\", \"duration_seconds\": 12.5, \"status\": \"failure\", \"http\": {\"status\": 503}}\n",
    "{\"time\": \"10:00:03\", \"level\": \"warn\", \"operation\": \"export\", \"duration_seconds\": 30, \"status\": \"failure\"}\n",
    "not json: status failure\n",
);

#[test]
fn grep_reads_json_lines_as_they_are_written() {
    let scratch = Scratch::new(TWO_LOGS);
    scratch.write("logs/metrics.jsonl", METRICS.as_bytes());
    let output = scratch.run(&["metrics", "-g", "\"status\": \"failure\""]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("metrics 10:00:02 ERROR operation=sync"), "shown as usual: {lines:?}");
    assert!(lines[1].contains("operation=export"), "{lines:?}");

    let raw = scratch.run(&["metrics", "--raw", "-g", "\"status\": \"failure\""]);
    let expected: String =
        METRICS.lines().filter(|l| l.contains("\"status\": \"failure\"")).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&raw), expected, "--raw prints the matching lines byte for byte");

    let rendered = scratch.run(&["metrics", "-g", "status=failure"]);
    assert_eq!(stdout(&rendered), "", "grep does not see the key=value rendering");
    let inverted = scratch.run(&["metrics", "--raw", "-g", "\"status\": \"failure\"", "-v"]);
    assert_eq!(stdout(&inverted).lines().count(), 2, "{}", stdout(&inverted));
}

#[test]
fn where_keeps_json_lines_whose_fields_match() {
    let scratch = Scratch::new(TWO_LOGS);
    scratch.write("logs/metrics.jsonl", METRICS.as_bytes());
    let failures = scratch.run(&["metrics", "--raw", "--where", "status == \"failure\""]);
    assert_eq!(failures.status.code(), Some(0), "{}", String::from_utf8_lossy(&failures.stderr));
    assert_eq!(stdout(&failures).lines().count(), 2, "the plain-text line has no fields: {}", stdout(&failures));

    let slow = scratch.run(&["metrics", "--json", "--where", "status == failure and duration_seconds > 20"]);
    let objects: Vec<serde_json::Value> = stdout(&slow).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objects.len(), 1, "{}", stdout(&slow));
    assert!(objects[0]["text"].as_str().unwrap().contains("operation=export"));

    let nested = stdout(&scratch.run(&["metrics", "--raw", "--where", "http.status >= 500"]));
    assert!(nested.lines().count() == 1 && nested.contains("\"http\": {\"status\": 503}"), "{nested}");
    let together = stdout(&scratch.run(&["metrics", "--raw", "--where", "operation != sync", "-g", "failure"]));
    assert_eq!(together.lines().count(), 1, "grep and --where both apply: {together}");
    let regex = stdout(&scratch.run(&["metrics", "--raw", "--where", "operation ~ '^exp' and level !~ error"]));
    assert!(regex.lines().count() == 1 && regex.contains("export"), "{regex}");

    // A plain log whose lines happen to be JSON is read the same way.
    let plain = Scratch::new("[[log]]\nname = \"jobs\"\npath = \"logs/jobs.log\"\n");
    plain.write("logs/jobs.log", METRICS.as_bytes());
    assert_eq!(stdout(&plain.run(&["--raw", "--where", "status == failure"])).lines().count(), 2);
}

#[test]
fn a_bad_where_exits_2_and_points_at_the_problem() {
    let scratch = Scratch::new(TWO_LOGS);
    scratch.write("logs/metrics.jsonl", METRICS.as_bytes());
    let cases = [
        ("status = \"failure\"", "column 8: use == to compare", "         ^"),
        (
            "status == \"failure\" or level == error",
            "column 21: only `and` joins conditions",
            "                      ^",
        ),
        ("duration_seconds > slow", "column 20: `>` compares numbers", "                     ^"),
        ("status ==", "column 10: expected a value", "           ^"),
    ];
    for (filter, message, caret) in cases {
        let output = scratch.run(&["metrics", "--where", filter]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{filter}: {stderr}");
        assert!(stderr.contains(&format!("firstwatch logs: --where {message}")), "{filter}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.get(1).copied(), Some(format!("  {filter}").as_str()), "{stderr}");
        assert_eq!(lines.get(2).copied(), Some(caret), "{filter}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

/// A config with one log at `path` (absolute), named `odd`.
fn odd_log(path: &std::path::Path) -> Scratch {
    Scratch::new(&format!("[[log]]\nname = \"odd\"\npath = {:?}\n", path.to_str().unwrap()))
}

/// Waits for the child to end, at most `deadline`; kills it and fails otherwise.
fn exits_within(child: std::process::Child, deadline: Duration) -> std::process::ExitStatus {
    let pid = child.id();
    let (tx, rx) = channel();
    let mut child = child;
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().unwrap());
    });
    rx.recv_timeout(deadline).unwrap_or_else(|_| {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
        panic!("still running after {deadline:?}");
    })
}

/// Lines of the child's stderr as they come.
fn errors_of(child: &mut std::process::Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

#[test]
fn a_fifo_a_socket_and_a_device_are_reported_and_skipped_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.log");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let socket = dir.path().join("socket.log");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    for (path, what) in
        [(fifo.as_path(), "a FIFO"), (socket.as_path(), "a socket"), (Path::new("/dev/zero"), "a character device")]
    {
        let scratch = odd_log(path);
        let child = scratch.command(&[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Opening the FIFO for reading would wait for a writer forever; /dev/zero never ends.
        let status = exits_within(child, PATIENCE);
        assert_eq!(status.code(), Some(1), "{what}");
        let output = scratch.run(&[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("not a regular file ({what})")), "{what}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn sigterm_ends_a_follow_on_a_fifo_within_a_second_and_a_later_regular_file_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metrics.jsonl");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let scratch = odd_log(&path);
    let mut child = scratch.command(&["--follow"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let errors = errors_of(&mut child);
    let lines = lines_of(&mut child);
    let reported = errors.recv_timeout(PATIENCE).expect("the FIFO is reported");
    assert!(reported.contains("not a regular file (a FIFO)"), "{reported}");

    // The FIFO is replaced by a regular file: it is followed from its start.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, "first line of the new file\nsecond\n").unwrap();
    let seen = wait_for(&lines, "second");
    assert_eq!(seen, vec!["odd first line of the new file", "odd second"]);

    // And back to a FIFO, which a reader would block on: SIGTERM still ends it promptly.
    std::fs::remove_file(&path).unwrap();
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    loop {
        let line = errors.recv_timeout(PATIENCE).expect("the new FIFO is reported");
        if line.contains("not a regular file") {
            break;
        }
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = exits_within(child, Duration::from_secs(1));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_ends_logs_within_a_second_even_while_its_output_is_stuck() {
    let scratch = Scratch::new(TWO_LOGS);
    scratch.write("logs/app.log", numbered(1, 200_000).as_bytes());
    // Nobody reads past the first line: the pipe fills and writing blocks.
    let mut child = scratch.command(&["app", "--follow", "-n", "200000"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.ends_with("line 1\n"), "{first}");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = exits_within(child, Duration::from_secs(1));
    assert_eq!(status.code(), Some(0));
    drop(out);
}
