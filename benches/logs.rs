//! Log engine figures (issue targets in brackets):
//! - the last 10,000 lines of a 1 GB file, from open to a filled view [< 50 ms for a screen];
//! - re-filtering a full 100,000-line ring [< 30 ms];
//! - a `--where` field filter over 100,000 JSON lines [< 50 ms];
//! - follower throughput, lines/s from append to parsed line [keep up with 200,000 lines/s];
//! - memory of a full default ring (printed once, from /proc/self/statm).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use firstwatch::logs::fields::FieldFilter;
use firstwatch::logs::filter::{Filter, Pattern};
use firstwatch::logs::follow::{FileSpec, FollowEvent, FollowOptions, Follower};
use firstwatch::logs::level::{self, Level};
use firstwatch::logs::parse::{Format, JsonFields, LineParser};
use firstwatch::logs::split::LineSplitter;
use firstwatch::logs::tail::start_of_last_lines;
use firstwatch::logs::view::{LogView, SourceView};
use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

const MESSAGES: [&str; 5] = [
    "INFO  GET /api/orders 200 12ms user=4211 region=eu-west-1 trace=9f1c2a7b",
    "WARN  slow query: SELECT * FROM deals WHERE status = 'open' took 2.8s",
    "ERROR upstream payments-api timed out after 10s attempt=3 trace=77aa01",
    "DEBUG cache hit ratio 0.93 over last 1000 lookups shard=7 node=cache-3",
    "INFO  worker 3 picked job sync-inventory queue=default wait_ms=14",
];

/// A ~120-byte line numbered `n`.
fn line(n: u64) -> String {
    format!("2026-11-29T10:{:02}:{:02}.000Z {} req={n:08}\n", (n / 60) % 60, n % 60, MESSAGES[(n % 5) as usize])
}

fn lines(from: u64, count: u64) -> String {
    (from..from + count).map(line).collect()
}

/// 1 GiB: a sparse start and 8 MiB of real lines at the end (the tail is all that is read).
fn gigabyte_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("huge.log");
    let file = File::create(&path).unwrap();
    let tail = lines(0, 70_000);
    let size = 1024 * 1024 * 1024u64;
    file.set_len(size - tail.len() as u64).unwrap();
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(tail.as_bytes()).unwrap();
    path
}

/// What opening a source does: find the start, read to the end, split, parse, fill the view.
fn open_tail(path: &Path, wanted: usize) -> LogView {
    let mut file = File::open(path).unwrap();
    let end = file.metadata().unwrap().len();
    let start = start_of_last_lines(&mut file, end, wanted).unwrap();
    file.seek(SeekFrom::Start(start)).unwrap();
    let mut bytes = Vec::with_capacity((end - start) as usize);
    file.read_to_end(&mut bytes).unwrap();
    let parser = LineParser::default();
    let mut view = LogView::new(vec![SourceView::new("huge", 100_000, Vec::new())]);
    let mut splitter = LineSplitter::new(64 * 1024);
    splitter.feed(&bytes, |raw| {
        let parsed = parser.parse(&raw);
        view.push(0, parsed.level, parsed.text, false);
    });
    view.end_batch();
    view
}

fn tail_of_a_gigabyte(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = gigabyte_file(dir.path());
    let mut group = c.benchmark_group("open 1 GiB file");
    group.sample_size(30);
    group.bench_function("last 10,000 lines into the view", |b| {
        b.iter(|| assert_eq!(black_box(open_tail(&path, 10_000)).len(), 10_000))
    });
    group.bench_function("last 40 lines (one screen)", |b| b.iter(|| assert_eq!(open_tail(&path, 40).len(), 40)));
    group.finish();
}

fn full_ring() -> LogView {
    let parser = LineParser::default();
    let mut view =
        LogView::new(vec![SourceView::new("a", 50_000, Vec::new()), SourceView::new("b", 50_000, Vec::new())]);
    for n in 0..100_000u64 {
        let text = line(n);
        let parsed =
            parser.parse(&firstwatch::logs::split::RawLine { bytes: text.trim_end().as_bytes().to_vec(), cut: 0 });
        view.push((n % 2) as usize, parsed.level, parsed.text, false);
    }
    view.end_batch();
    view
}

fn refilter(c: &mut Criterion) {
    let mut view = full_ring();
    let mut group = c.benchmark_group("refilter 100,000 lines (2 sources merged)");
    group.sample_size(20);
    group.bench_function("regex", |b| {
        b.iter(|| {
            view.set_filter(Filter { pattern: Pattern::new("timed? out|slow"), ..Filter::default() });
            assert_eq!(view.len(), 40_000);
        })
    });
    group.bench_function("plain text, ignoring case", |b| {
        b.iter(|| {
            view.set_filter(Filter { pattern: Pattern::new("payments-api"), ..Filter::default() });
            assert_eq!(view.len(), 20_000);
        })
    });
    group.bench_function("level floor", |b| {
        b.iter(|| {
            view.set_filter(Filter { floor: Some(Level::Warn), ..Filter::default() });
            assert_eq!(view.len(), 40_000);
        })
    });
    group.bench_function("clear", |b| {
        b.iter(|| {
            view.set_filter(Filter::default());
            assert_eq!(view.len(), 100_000);
        })
    });
    group.finish();
}

const OPERATIONS: [&str; 4] = ["sync", "export", "backup", "reindex"];

/// A ~190-byte metrics line numbered `n`: one in five failed, durations 0-60 s.
fn json_line(n: u64) -> String {
    format!(
        "{{\"time\": \"2026-11-29T10:{:02}:{:02}Z\", \"level\": \"{}\", \"operation\": \"{}\", \"duration_seconds\": {}.{}, \"status\": \"{}\", \"host\": \"web-{}\", \"http\": {{\"status\": {}}}}}",
        (n / 60) % 60,
        n % 60,
        if n.is_multiple_of(5) { "error" } else { "info" },
        OPERATIONS[(n % 4) as usize],
        n % 61,
        n % 10,
        if n.is_multiple_of(5) { "failure" } else { "success" },
        n % 8,
        if n.is_multiple_of(5) { 503 } else { 200 },
    )
}

fn where_filter(c: &mut Criterion) {
    let lines: Vec<String> = (0..100_000).map(json_line).collect();
    let bytes: usize = lines.iter().map(String::len).sum();
    let filter = FieldFilter::parse(r#"status == "failure" and duration_seconds > 30 and http.status >= 500"#).unwrap();
    let expected = lines.iter().filter(|l| l.contains("\"failure\"")).filter(|l| {
        let seconds: f64 =
            l.split("\"duration_seconds\": ").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
        seconds > 30.0
    });
    let expected = expected.count();
    let mut group = c.benchmark_group("--where over 100,000 JSON lines");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("3 conditions, line by line (the CLI)", |b| {
        b.iter(|| assert_eq!(lines.iter().filter(|line| filter.matches(black_box(line))).count(), expected))
    });
    let numbers = FieldFilter::parse("duration_seconds > 30 and http.status >= 500").unwrap();
    let slow_failures = lines.iter().filter(|line| numbers.matches(line)).count();
    assert!(slow_failures > 0 && slow_failures < expected + 1);
    group.bench_function("2 numeric conditions, every line read (the CLI)", |b| {
        b.iter(|| assert_eq!(lines.iter().filter(|line| numbers.matches(black_box(line))).count(), slow_failures))
    });
    let parser = LineParser::new(Format::Jsonl, JsonFields::default());
    let mut view = LogView::new(vec![SourceView::new("metrics", 100_000, Vec::new())]);
    for line in &lines {
        view.push_parsed(
            0,
            parser.parse(&firstwatch::logs::split::RawLine { bytes: line.as_bytes().to_vec(), cut: 0 }),
        );
    }
    view.end_batch();
    group.bench_function("3 conditions, re-filtering the tab's full ring", |b| {
        b.iter(|| {
            view.set_filter(Filter { fields: Some(filter.clone()), ..Filter::default() });
            assert_eq!(view.len(), expected);
        })
    });
    group.finish();
}

/// Appends `count` lines in 1 MiB writes and waits until the follower has
/// delivered every one, parsed as the tab's bridge does.
fn follow_burst(count: u64) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fast.log");
    File::create(&path).unwrap();
    let (out, events) = sync_channel(256);
    let spec = FileSpec { source: 0, path: path.clone(), tail_lines: 0, max_line_bytes: 64 * 1024 };
    let follower = Follower::spawn(vec![spec], FollowOptions::default(), out).unwrap();
    while !matches!(events.recv().unwrap(), FollowEvent::CaughtUp) {}
    let text = lines(0, count);
    let parser = LineParser::default();
    let started = Instant::now();
    let writer = std::thread::spawn(move || {
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        for chunk in text.as_bytes().chunks(1024 * 1024) {
            file.write_all(chunk).unwrap();
        }
    });
    let mut seen = 0u64;
    while seen < count {
        if let FollowEvent::Lines { lines, .. } = events.recv_timeout(Duration::from_secs(60)).unwrap() {
            for raw in &lines {
                black_box(parser.parse(raw));
            }
            seen += lines.len() as u64;
        }
    }
    let took = started.elapsed();
    writer.join().unwrap();
    follower.stop();
    took
}

fn follower_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("follower");
    group.sample_size(10);
    group.throughput(Throughput::Elements(200_000));
    group.bench_function("200,000 appended lines to parsed lines", |b| {
        b.iter_custom(|iterations| (0..iterations).map(|_| follow_burst(200_000)).sum())
    });
    group.finish();
}

fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4
}

fn ring_memory(c: &mut Criterion) {
    let before = resident_kib();
    let view = full_ring();
    let after = resident_kib();
    eprintln!(
        "memory: a full default ring (100,000 lines of ~120 bytes, {} buffered) adds {} MiB resident",
        view.buffered(),
        (after.saturating_sub(before)) / 1024
    );
    c.bench_function("level detection, one line", |b| {
        b.iter(|| level::detect(black_box("2026-11-29T10:00:00.000Z ERROR upstream payments-api timed out")))
    });
}

criterion_group!(benches, ring_memory, tail_of_a_gigabyte, refilter, where_filter, follower_throughput);
criterion_main!(benches);
