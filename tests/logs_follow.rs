//! The follower against real files: appended, rotated by rename and by
//! copytruncate, truncated, deleted and recreated, huge, binary. Every wait is
//! on the follower's event channel with a timeout, never a sleep.

use firstwatch::logs::command::{CommandSource, CommandSpec};
use firstwatch::logs::follow::{FileSpec, FollowEvent, FollowOptions, Follower, Marker, SourceState};
use firstwatch::logs::split::RawLine;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

/// What the follower said, in order.
#[derive(Default)]
struct Seen {
    lines: Vec<(usize, RawLine)>,
    markers: Vec<(usize, Marker)>,
    states: Vec<(usize, SourceState)>,
    /// Index into `lines` where each marker arrived.
    marker_at: Vec<usize>,
    /// The first pass over the files is done.
    caught_up: bool,
}

impl Seen {
    fn numbers(&self) -> Vec<u64> {
        self.lines.iter().map(|(_, l)| number(&l.bytes)).collect()
    }
}

fn number(bytes: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(bytes);
    text.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered line: {text:?}"))
}

struct Harness {
    events: Receiver<FollowEvent>,
    _follower: Follower,
    seen: Seen,
}

impl Harness {
    fn start(path: &Path, tail_lines: usize, options: FollowOptions) -> Harness {
        let (out, events) = sync_channel(64);
        let spec = FileSpec { source: 0, path: path.to_path_buf(), tail_lines, max_line_bytes: 64 * 1024 };
        let follower = Follower::spawn(vec![spec], options, out).unwrap();
        Harness { events, _follower: follower, seen: Seen::default() }
    }

    /// Takes one event; fails the test if the follower says nothing for a long time.
    fn step(&mut self) -> FollowEvent {
        let event = self.events.recv_timeout(PATIENCE).expect("the follower went quiet");
        match &event {
            FollowEvent::Lines { source, lines } => self.seen.lines.extend(lines.iter().map(|l| (*source, l.clone()))),
            FollowEvent::Raw { source, bytes } => {
                let lines = bytes.strip_suffix(b"\n").unwrap_or(bytes).split(|b| *b == b'\n');
                self.seen.lines.extend(lines.map(|l| (*source, RawLine { bytes: l.to_vec(), cut: 0 })));
            }
            FollowEvent::Marker { source, marker } => {
                self.seen.markers.push((*source, *marker));
                self.seen.marker_at.push(self.seen.lines.len());
            }
            FollowEvent::State { source, state } => self.seen.states.push((*source, state.clone())),
            FollowEvent::CaughtUp => self.seen.caught_up = true,
        }
        event
    }

    fn until(&mut self, mut done: impl FnMut(&Seen) -> bool) {
        while !done(&self.seen) {
            self.step();
        }
    }

    fn until_number(&mut self, n: u64) {
        self.until(|seen| seen.lines.last().is_some_and(|(_, l)| number(&l.bytes) == n));
    }
}

fn fast() -> FollowOptions {
    FollowOptions { poll: Duration::from_millis(200), ..FollowOptions::default() }
}

fn append(path: &Path, from: u64, to: u64) {
    let mut text = String::new();
    for n in from..=to {
        text.push_str(&format!("line {n} some padding to look like a real log line\n"));
    }
    OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(text.as_bytes()).unwrap();
}

fn copytruncate(path: &Path) {
    std::fs::copy(path, path.with_extension("log.1")).unwrap();
    OpenOptions::new().write(true).open(path).unwrap().set_len(0).unwrap();
}

fn temp_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    (dir, path)
}

#[test]
fn rename_rotation_under_a_concurrent_writer_loses_and_repeats_nothing() {
    let (_dir, path) = temp_log();
    File::create(&path).unwrap();
    let mut harness = Harness::start(&path, 10, fast());
    // Lines written before the first open would be skipped as "before the tail".
    harness.until(|seen| seen.caught_up);
    const PHASE: u64 = 2000;
    const PHASES: u64 = 10;
    let lock = Arc::new(Mutex::new(()));
    let (permit, permits) = sync_channel::<()>(1);
    let writer = {
        let (lock, path) = (lock.clone(), path.clone());
        std::thread::spawn(move || {
            for phase in 0..PHASES {
                for n in phase * PHASE + 1..=(phase + 1) * PHASE {
                    let _held = lock.lock().unwrap();
                    append(&path, n, n);
                }
                if phase + 1 < PHASES {
                    permits.recv().unwrap();
                }
            }
        })
    };
    for phase in 0..PHASES - 1 {
        // Rotate while the writer is still writing this phase's lines.
        harness.until(|seen| seen.lines.len() as u64 >= phase * PHASE + PHASE / 2);
        {
            let _held = lock.lock().unwrap();
            std::fs::rename(&path, path.with_extension("log.1")).unwrap();
            File::create(&path).unwrap();
        }
        let rotations = phase as usize + 1;
        harness.until(|seen| seen.markers.len() == rotations);
        permit.send(()).unwrap();
    }
    harness.until_number(PHASES * PHASE);
    writer.join().unwrap();
    let expected: Vec<u64> = (1..=PHASES * PHASE).collect();
    assert_eq!(harness.seen.numbers(), expected, "every line once, in order");
    assert!(harness.seen.markers.iter().all(|(_, m)| *m == Marker::Rotated));
    assert_eq!(harness.seen.markers.len(), (PHASES - 1) as usize);
}

#[test]
fn copytruncate_and_truncate_then_shorter_write_restart_from_zero_with_a_marker() {
    let (_dir, path) = temp_log();
    append(&path, 1, 300);
    let mut harness = Harness::start(&path, 100_000, fast());
    harness.until_number(300);
    let mut next = 301;
    for round in 1..=15 {
        if round % 2 == 0 {
            copytruncate(&path);
        } else {
            OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
        }
        // Fewer lines than before the truncation, so only the shrink can reveal it.
        append(&path, next, next + 99);
        next += 100;
        harness.until_number(next - 1);
        append(&path, next, next + 199);
        next += 200;
        harness.until_number(next - 1);
        assert_eq!(harness.seen.markers.len(), round, "one marker per truncation");
    }
    let expected: Vec<u64> = (1..next).collect();
    assert_eq!(harness.seen.numbers(), expected);
    assert!(harness.seen.markers.iter().all(|(_, m)| *m == Marker::Truncated));
}

#[test]
fn copytruncate_under_a_concurrent_writer_loses_only_a_flagged_window() {
    let (_dir, path) = temp_log();
    File::create(&path).unwrap();
    let mut harness = Harness::start(&path, 10, fast());
    // Lines written before the first open would be skipped as "before the tail".
    harness.until(|seen| seen.caught_up);
    const PHASE: u64 = 2000;
    const PHASES: u64 = 10;
    let lock = Arc::new(Mutex::new(()));
    let (permit, permits) = sync_channel::<()>(1);
    let writer = {
        let (lock, path) = (lock.clone(), path.clone());
        std::thread::spawn(move || {
            for phase in 0..PHASES {
                for n in phase * PHASE + 1..=(phase + 1) * PHASE {
                    let _held = lock.lock().unwrap();
                    append(&path, n, n);
                }
                if phase + 1 < PHASES {
                    permits.recv().unwrap();
                }
            }
        })
    };
    for phase in 0..PHASES - 1 {
        // Truncate once most of this phase was read: what the writer adds
        // afterwards is shorter than what was read, so the shrink is always seen.
        harness.until(|seen| seen.numbers().last().is_some_and(|n| *n >= phase * PHASE + 1200));
        {
            let _held = lock.lock().unwrap();
            copytruncate(&path);
        }
        let truncations = phase as usize + 1;
        harness.until(|seen| seen.markers.len() == truncations);
        permit.send(()).unwrap();
    }
    harness.until_number(PHASES * PHASE);
    writer.join().unwrap();
    let numbers = harness.seen.numbers();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "no line twice, none out of order");
    let mut lost = 0;
    for (i, pair) in numbers.windows(2).enumerate() {
        if pair[1] != pair[0] + 1 {
            assert!(
                harness.seen.marker_at.contains(&(i + 1)),
                "a gap after line {} without a truncation marker",
                pair[0]
            );
            lost += pair[1] - pair[0] - 1;
        }
    }
    assert_eq!(numbers.len() as u64 + lost, PHASES * PHASE);
    assert!(lost < PHASES * 800, "the window stays small: {lost} lines lost");
    assert_eq!(harness.seen.markers.len(), (PHASES - 1) as usize);
    eprintln!("copytruncate lost {lost} of {} lines over {} truncations", PHASES * PHASE, PHASES - 1);
}

#[test]
fn a_deleted_file_is_missing_until_recreated_then_read_from_its_start() {
    let (_dir, path) = temp_log();
    append(&path, 1, 5);
    let mut harness = Harness::start(&path, 100, fast());
    harness.until_number(5);
    std::fs::remove_file(&path).unwrap();
    harness.until(|seen| seen.states.last().is_some_and(|(_, s)| *s == SourceState::Missing));
    append(&path, 6, 8);
    harness.until_number(8);
    assert_eq!(harness.seen.numbers(), (1..=8).collect::<Vec<_>>());
    assert_eq!(harness.seen.markers, vec![(0, Marker::Rotated)]);
    assert_eq!(harness.seen.marker_at, vec![5], "the marker sits between the two files' lines");
    assert_eq!(harness.seen.states.last().unwrap().1, SourceState::Live);
}

#[test]
fn a_file_that_appears_later_is_picked_up() {
    let (_dir, path) = temp_log();
    let mut harness = Harness::start(&path, 100, fast());
    harness.until(|seen| seen.states.iter().any(|(_, s)| *s == SourceState::Missing));
    append(&path, 1, 3);
    harness.until_number(3);
    assert_eq!(harness.seen.numbers(), vec![1, 2, 3]);
    assert!(harness.seen.markers.is_empty());
}

#[test]
fn polling_alone_keeps_following_through_rotation() {
    let (_dir, path) = temp_log();
    append(&path, 1, 10);
    let mut harness = Harness::start(
        &path,
        100,
        FollowOptions { poll: Duration::from_millis(20), notify: false, ..FollowOptions::default() },
    );
    harness.until_number(10);
    std::fs::rename(&path, path.with_extension("log.1")).unwrap();
    append(&path, 11, 20);
    harness.until_number(20);
    copytruncate(&path);
    append(&path, 21, 22);
    harness.until_number(22);
    assert_eq!(harness.seen.numbers(), (1..=22).collect::<Vec<_>>());
    assert_eq!(
        harness.seen.markers.iter().map(|(_, m)| *m).collect::<Vec<_>>(),
        vec![Marker::Rotated, Marker::Truncated]
    );
}

#[test]
fn a_folder_and_an_unreadable_file_fail_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = Harness::start(dir.path(), 10, fast());
    harness.until(|seen| !seen.states.is_empty());
    assert_eq!(harness.seen.states[0].1, SourceState::Failed("is a directory, not a file".into()));

    if nix::unistd::geteuid().is_root() {
        eprintln!("running as root: permission bits do not stop reads, skipping the unreadable-file half");
        return;
    }
    let path = dir.path().join("secret.log");
    append(&path, 1, 1);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let mut harness = Harness::start(&path, 10, fast());
    harness.until(|seen| !seen.states.is_empty());
    assert_eq!(harness.seen.states[0].1, SourceState::Failed("permission denied".into()));
}

#[test]
fn the_tail_of_a_huge_sparse_file_comes_without_reading_it_whole() {
    let (_dir, path) = temp_log();
    let file = File::create(&path).unwrap();
    file.set_len(200 * 1024 * 1024).unwrap();
    drop(file);
    append(&path, 1, 5000);
    // Fewer lines wanted than there are: exactly the last ones.
    let mut harness = Harness::start(&path, 1000, fast());
    harness.until_number(5000);
    assert_eq!(harness.seen.numbers(), (4001..=5000).collect::<Vec<_>>());

    // More lines wanted than exist: the scan stops 64 MiB back and the first,
    // 64 MiB "line" of zeros arrives cut to the cap rather than in memory whole.
    let mut harness = Harness::start(&path, 10_000, fast());
    harness.until(|seen| seen.lines.len() == 5000);
    let (_, first) = &harness.seen.lines[0];
    assert_eq!(first.bytes.len(), 64 * 1024);
    assert!(first.bytes.iter().all(|b| *b == 0));
    assert!(first.cut > 60 * 1024 * 1024, "the rest of the scanned 64 MiB is counted, not kept: {}", first.cut);
    let rest: Vec<u64> = harness.seen.lines[1..].iter().map(|(_, l)| number(&l.bytes)).collect();
    assert_eq!(rest, (2..=5000).collect::<Vec<_>>());
}

#[test]
fn a_one_megabyte_line_is_cut_and_binary_bytes_pass_through_untouched() {
    let (_dir, path) = temp_log();
    File::create(&path).unwrap();
    let mut harness = Harness::start(&path, 10, fast());
    harness.until(|seen| !seen.states.is_empty());
    let mut content = vec![b'x'; 1024 * 1024];
    content.extend_from_slice(b"\n\xff\xfe\x00\x1b[2J binary\nline 7 after\n");
    OpenOptions::new().append(true).open(&path).unwrap().write_all(&content).unwrap();
    harness.until(|seen| seen.lines.len() == 3);
    let lines: Vec<&RawLine> = harness.seen.lines.iter().map(|(_, l)| l).collect();
    assert_eq!((lines[0].bytes.len(), lines[0].cut), (64 * 1024, 1024 * 1024 - 64 * 1024));
    assert_eq!(lines[1].bytes, b"\xff\xfe\x00\x1b[2J binary", "raw bytes are kept; the view sanitises");
    assert_eq!(number(&lines[2].bytes), 7);
}

#[test]
fn raw_blocks_carry_the_same_lines_through_rotation_and_cuts() {
    let (_dir, path) = temp_log();
    append(&path, 1, 3);
    let mut harness = Harness::start(&path, 2, FollowOptions { raw: true, ..fast() });
    harness.until(|seen| seen.caught_up);
    assert_eq!(harness.seen.numbers(), vec![2, 3], "the tail comes as a block too");
    // A line left without its newline is sent whole when the file is rotated away.
    append(&path, 4, 4);
    OpenOptions::new().append(true).open(&path).unwrap().write_all(b"line 5 unfinished").unwrap();
    std::fs::rename(&path, path.with_extension("log.1")).unwrap();
    append(&path, 6, 7);
    harness.until(|seen| seen.lines.len() == 6);
    assert_eq!(harness.seen.numbers(), vec![2, 3, 4, 5, 6, 7]);
    assert_eq!(harness.seen.markers, vec![(0, Marker::Rotated)]);
    assert_eq!(harness.seen.marker_at, vec![4], "the marker sits between the old file's lines and the new");
    let mut long = vec![b'z'; 100 * 1024];
    long.extend_from_slice(b"\nline 8 after a long one\n");
    OpenOptions::new().append(true).open(&path).unwrap().write_all(&long).unwrap();
    harness.until(|seen| seen.lines.len() == 8);
    assert_eq!(harness.seen.lines[6].1.bytes.len(), 64 * 1024, "cut at max_line_bytes as lines are");
    assert_eq!(number(&harness.seen.lines[7].1.bytes), 8);
}

#[test]
fn a_glob_follows_every_match_and_files_that_appear_later() {
    let dir = tempfile::tempdir().unwrap();
    append(&dir.path().join("a.log"), 1, 2);
    append(&dir.path().join("b.log"), 3, 3);
    append(&dir.path().join("skip.txt"), 100, 100);
    let mut harness = Harness::start(&dir.path().join("*.log"), 100, fast());
    harness.until(|seen| seen.lines.len() == 3);
    let mut numbers = harness.seen.numbers();
    numbers.sort();
    assert_eq!(numbers, vec![1, 2, 3]);
    append(&dir.path().join("c.log"), 4, 5);
    harness.until_number(5);
    assert_eq!(harness.seen.numbers()[3..], [4, 5], "a new match is read from its start");
    assert_eq!(harness.seen.states[0].1, SourceState::Live);
}

#[test]
fn a_command_source_reports_its_output_and_how_it_ended() {
    let (out, events) = sync_channel(64);
    let argv = ["sh", "-c", "echo 'line 1'; echo 'line 2' >&2; exit 3"].map(String::from).to_vec();
    let _source =
        CommandSource::spawn(CommandSpec { source: 4, argv, max_line_bytes: 1024, restart: false }, out).unwrap();
    let mut lines = Vec::new();
    let ended = loop {
        match events.recv_timeout(PATIENCE).expect("the command source went quiet") {
            FollowEvent::Lines { source, lines: batch } => {
                assert_eq!(source, 4);
                lines.extend(batch.into_iter().map(|l| number(&l.bytes)));
            }
            FollowEvent::State { state: SourceState::Exited(how), .. } => break how,
            _ => {}
        }
    };
    lines.sort();
    assert_eq!(lines, vec![1, 2], "stdout and stderr are both read");
    assert_eq!(ended, "exit status 3");

    let (out, events) = sync_channel(64);
    let argv = vec!["firstwatch-no-such-program".to_string()];
    let _source =
        CommandSource::spawn(CommandSpec { source: 0, argv, max_line_bytes: 1024, restart: false }, out).unwrap();
    let state = loop {
        if let FollowEvent::State { state, .. } = events.recv_timeout(PATIENCE).unwrap() {
            break state;
        }
    };
    assert_eq!(state, SourceState::Failed("`firstwatch-no-such-program` is not installed on this host".into()));
}

#[test]
fn a_fifo_is_reported_not_opened_and_a_regular_file_created_there_later_is_followed_from_its_start() {
    let (_dir, path) = temp_log();
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut harness = Harness::start(&path, 1, fast());
    // Opening the FIFO would wait for a writer: the follower would never say anything.
    harness.until(|seen| seen.caught_up);
    let failed = SourceState::Failed("not a regular file (a FIFO); skipped until a regular file is there".into());
    assert_eq!(harness.seen.states, vec![(0, failed)]);
    std::fs::remove_file(&path).unwrap();
    append(&path, 1, 3);
    harness.until_number(3);
    assert_eq!(harness.seen.numbers(), vec![1, 2, 3], "a file that appeared later is new: all of it, not the tail");
    assert_eq!(harness.seen.states.last().unwrap().1, SourceState::Live);
    append(&path, 4, 4);
    harness.until_number(4);
    assert!(harness.seen.markers.is_empty());
}

#[test]
fn a_glob_skips_a_fifo_among_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    nix::unistd::mkfifo(&dir.path().join("a.log"), nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    append(&dir.path().join("b.log"), 1, 2);
    let mut harness = Harness::start(&dir.path().join("*.log"), 10, fast());
    harness.until_number(2);
    harness.until(|seen| seen.caught_up);
    assert_eq!(harness.seen.numbers(), vec![1, 2]);
    assert_eq!(harness.seen.states, vec![(0, SourceState::Live)]);
}
