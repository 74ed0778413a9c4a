//! The continuous engine: scheduling, debouncing, dependencies and re-runs.

#[path = "health/server.rs"]
mod server;

use firstwatch::config::load_str;
use firstwatch::health::{CheckSpec, CheckView, Status, engine};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn specs(toml: &str) -> Vec<CheckSpec> {
    let config = load_str(toml, Path::new("/tmp/firstwatch.toml")).unwrap_or_else(|e| panic!("{e}"));
    CheckSpec::build_all(&config).0
}

/// Starts the engine with a report channel the test reads from.
fn start(specs: Vec<CheckSpec>) -> (firstwatch::health::EngineHandle, mpsc::UnboundedReceiver<Arc<CheckView>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let report: engine::Report = Box::new(move |views| {
        for view in views {
            let _ = tx.send(view);
        }
        true
    });
    (engine::start(specs, None, report), rx)
}

/// Waits for the next report about check `index` that has a result.
async fn next_result(rx: &mut mpsc::UnboundedReceiver<Arc<CheckView>>, index: usize) -> Arc<CheckView> {
    loop {
        let view = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("a report").expect("open");
        if view.index == index && view.last.is_some() {
            return view;
        }
    }
}

// A check whose program does not exist fails at once, without awaiting I/O,
// which makes it a clean subject for the scheduler under paused time.
const UNRUNNABLE: &str =
    "[[check]]\nname = \"probe\"\ncommand = [\"/nonexistent/firstwatch-probe\"]\nevery = \"10s\"\nfail_after = 3\n";

#[tokio::test(start_paused = true)]
async fn runs_on_the_interval_and_alerts_only_after_fail_after_runs() {
    let (_engine, mut rx) = start(specs(UNRUNNABLE));
    let started = tokio::time::Instant::now();
    let first = next_result(&mut rx, 0).await;
    assert_eq!(first.status, Status::Failing, "one failure is not yet an alert, and not ok either");
    assert_eq!(first.status.symbol(), "!");
    assert_eq!(first.status_text(), "failing 1/3");
    assert_eq!(first.failures, 1);
    assert!(first.message().contains("(1/3 before alerting)"), "{}", first.message());
    assert!(started.elapsed() <= Duration::from_secs(2), "the first run is within the start-up spread");
    let second = next_result(&mut rx, 0).await;
    assert_eq!(second.status_text(), "failing 2/3");
    let third = next_result(&mut rx, 0).await;
    assert_eq!(third.status, Status::Unknown);
    assert_eq!(third.transitions.len(), 1);
    // Two intervals of 10 s, each within ±10 % jitter, after a start-up spread of at most 2 s.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(18) && elapsed <= Duration::from_secs(24), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn run_now_does_not_wait_for_the_interval() {
    let (engine, mut rx) = start(specs(&UNRUNNABLE.replace("10s", "1h")));
    next_result(&mut rx, 0).await;
    let asked = tokio::time::Instant::now();
    assert!(engine.run_now(Some(0)));
    let again = next_result(&mut rx, 0).await;
    assert_eq!(again.failures, 2);
    assert!(asked.elapsed() < Duration::from_secs(1), "{:?}", asked.elapsed());
}

#[tokio::test]
async fn an_endpoint_that_alternates_never_alerts_with_fail_after_2() {
    let server = server::start(None).await;
    let toml =
        format!("[[check]]\nname = \"flip\"\nhttp = \"{}/flip\"\nevery = \"20ms\"\nfail_after = 2\n", server.base);
    let (_engine, mut rx) = start(specs(&toml));
    let mut failed_runs = 0;
    for _ in 0..8 {
        let view = next_result(&mut rx, 0).await;
        assert_ne!(view.status, Status::Critical, "alerted on a single failure: {}", view.message());
        failed_runs += usize::from(!view.last.as_ref().unwrap().is_ok());
    }
    assert!(failed_runs >= 3, "the endpoint did fail now and then ({failed_runs})");
}

#[tokio::test]
async fn a_child_of_a_failing_parent_is_suppressed() {
    let port = server::closed_port().await;
    let toml = format!(
        "[[check]]\nname = \"db\"\ntcp = \"127.0.0.1:{port}\"\nevery = \"20ms\"\nfail_after = 1\n\n\
         [[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:{port}/health\"\nevery = \"20ms\"\nfail_after = 1\ndepends_on = \"db\"\n"
    );
    let (_engine, mut rx) = start(specs(&toml));
    let parent = next_result(&mut rx, 0).await;
    assert_eq!(parent.status, Status::Critical);
    let child = loop {
        let view = next_result(&mut rx, 1).await;
        if !matches!(view.status, Status::Pending | Status::Failing) {
            break view;
        }
    };
    assert_eq!(child.status, Status::Suppressed);
    assert!(child.message().contains("suppressed: db is down"), "{}", child.message());
}

#[tokio::test]
async fn a_hung_check_does_not_delay_the_others() {
    let server = server::start(None).await;
    let toml = format!(
        "[[check]]\nname = \"hang\"\nhttp = \"{0}/hang\"\ntimeout = \"30s\"\n\n\
         [[check]]\nname = \"fast\"\nhttp = \"{0}/healthy\"\nevery = \"20ms\"\n",
        server.base
    );
    let (_engine, mut rx) = start(specs(&toml));
    for _ in 0..5 {
        let view = next_result(&mut rx, 1).await;
        assert_eq!(view.status, Status::Ok, "{}", view.message());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_survives_in_the_store_and_old_rows_are_dropped() {
    use firstwatch::health::Level;
    use firstwatch::health::store::{Persist, load, write};
    use firstwatch::health::view::TransitionView;
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    let now = chrono::Utc::now();
    let old = now - chrono::Duration::days(8);
    let mut batch = Persist::default();
    for i in 0..3 {
        batch.record("api", now - chrono::Duration::minutes(i), i != 1, Some(Duration::from_millis(20)));
    }
    batch.record("api", old, true, None);
    batch.transition(
        "api",
        &TransitionView { at: now, from: Some(Level::Ok), to: Level::Critical, message: "status was 500".into() },
    );
    batch.transition("api", &TransitionView { at: old, from: None, to: Level::Ok, message: "200 OK".into() });
    write(&store, batch).await.unwrap();
    // A second process writing the same minute adds to it.
    let mut again = Persist::default();
    again.record("api", now, false, Some(Duration::from_millis(90)));
    write(&store, again).await.unwrap();

    let loaded = load(&store, vec!["api".into(), "other".into()]).await.unwrap();
    let (buckets, transitions) = &loaded[0];
    assert_eq!(buckets.len(), 3, "the 8-day-old minute is past retention: {buckets:?}");
    let newest = buckets.last().unwrap();
    assert_eq!((newest.ok, newest.total, newest.latency_max_ms), (1, 2, 90));
    assert_eq!(transitions.len(), 1);
    assert_eq!(transitions[0].to, Level::Critical);
    assert_eq!(transitions[0].message, "status was 500");
    assert!(loaded[1].0.is_empty() && loaded[1].1.is_empty());

    let mut history = firstwatch::health::history::History::default();
    history.preload(buckets.iter().copied());
    let uptime = history.uptime(now, Duration::from_secs(3600)).unwrap();
    assert!((uptime - 50.0).abs() < 0.1, "2 good runs of 4: {uptime}");
}

#[test]
fn suppression_needs_the_parent_to_be_failing_too() {
    use firstwatch::health::engine::Collector;
    use firstwatch::health::{Level, Outcome};
    let toml = "[[check]]\nname = \"db\"\ntcp = \"127.0.0.1:1\"\nfail_after = 1\n\n\
                [[check]]\nname = \"api\"\ntcp = \"127.0.0.1:2\"\nfail_after = 1\ndepends_on = \"db\"\n";
    let specs = specs(toml).into_iter().map(Arc::new).collect();
    let mut collector = Collector::new(specs, None, Box::new(|_| true));
    collector.apply(0, Outcome::new(Level::Ok, "connected"));
    collector.apply(1, Outcome::new(Level::Critical, "refused"));
    assert_eq!(collector.status_of(1), Status::Failing, "held until the parent has run again");
    assert_eq!(collector.waiting_for_parent(1), Some(0));
    collector.apply(0, Outcome::new(Level::Ok, "connected"));
    assert_eq!(collector.status_of(1), Status::Critical, "a healthy parent explains nothing");
    collector.apply(0, Outcome::new(Level::Critical, "refused"));
    assert_eq!(collector.status_of(1), Status::Suppressed);
    assert_eq!(collector.status_of(0), Status::Critical);
    collector.apply(0, Outcome::new(Level::Ok, "connected"));
    assert_eq!(collector.status_of(1), Status::Critical, "the child's own failure shows again");
}

#[test]
fn latency_above_twice_its_usual_for_five_minutes_is_a_warning() {
    use firstwatch::health::engine::Collector;
    use firstwatch::health::{Level, Outcome};
    let toml = "[[check]]\nname = \"api\"\nhttp = \"http://127.0.0.1:1/\"\nfail_after = 1\nslow_factor = 2\nslow_for = \"5m\"\n";
    let specs = specs(toml).into_iter().map(Arc::new).collect();
    let mut collector = Collector::new(specs, None, Box::new(|_| true));
    let start = chrono::Utc::now() - chrono::Duration::minutes(30);
    let run = |collector: &mut Collector, minute: i64, ms: u64| {
        let mut outcome = Outcome::new(Level::Ok, "200 OK").with_latency(Duration::from_millis(ms));
        outcome.at = start + chrono::Duration::seconds(minute * 30);
        collector.apply(0, outcome);
    };
    // Ten minutes at a usual 20 ms.
    for i in 0..20 {
        run(&mut collector, i, 20);
    }
    // Then 60 ms: slow, but only a warning once it has lasted five minutes.
    for i in 20..29 {
        run(&mut collector, i, 60);
        assert_eq!(collector.status_of(0), Status::Ok, "run {i} is slow for under five minutes");
    }
    run(&mut collector, 30, 60);
    assert_eq!(collector.status_of(0), Status::Warning);
    let view = collector.view(0, chrono::Utc::now());
    assert_eq!(view.message(), "latency 60ms above 2x its usual 20ms for 5m00s");
    // Back to normal: healthy again.
    run(&mut collector, 31, 20);
    assert_eq!(collector.status_of(0), Status::Ok);
}

/// A probe that answers only as often as the test lets it.
struct Gated(Arc<tokio::sync::Semaphore>);

impl engine::Probe for Gated {
    fn run<'a>(&'a self, _spec: &'a CheckSpec) -> futures::future::BoxFuture<'a, firstwatch::health::Outcome> {
        Box::pin(async move {
            self.0.acquire().await.expect("the gate stays open").forget();
            firstwatch::health::Outcome::new(firstwatch::health::Level::Ok, "ok").with_latency(Duration::from_millis(5))
        })
    }
}

/// Length of the store's write-ahead log, where every commit lands first.
fn wal_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("firstwatch.db-wal")).map_or(0, |m| m.len())
}

/// Commits in the write-ahead log: frames whose "database size after commit" is set.
fn wal_commits(dir: &Path) -> usize {
    let wal = std::fs::read(dir.join("firstwatch.db-wal")).unwrap();
    let page = u32::from_be_bytes(wal[8..12].try_into().unwrap()) as usize;
    wal[32..].chunks(24 + page).filter(|frame| frame.len() >= 8 && frame[4..8] != [0; 4]).count()
}

/// A week (and two hours more, as after a stop) of per-minute history for `names`.
async fn week_of_history(store: &firstwatch::store::Store, names: &[&str]) {
    let now = chrono::Utc::now();
    let mut batch = firstwatch::health::store::Persist::default();
    for name in names {
        for minute in 1..(7 * 1440 + 180) {
            batch.record(name, now - chrono::Duration::minutes(minute), true, Some(Duration::from_millis(20)));
        }
    }
    firstwatch::health::store::write(store, batch).await.unwrap();
}

/// The oldest minute kept for `name`, and how many.
fn kept(store: &firstwatch::store::Store, name: &'static str) -> (i64, i64) {
    store
        .call(move |c| {
            c.query_row("SELECT min(minute), count(*) FROM health_minutes WHERE check_name = ?1", [name], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
        })
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn starting_on_a_week_of_history_writes_nothing_before_the_first_new_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    week_of_history(&store, &["a", "b", "c"]).await;
    store.call(|c| c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))).unwrap();
    assert_eq!(wal_len(dir.path()), 0, "the history is in the database file, the log is empty");

    let checks = (["a", "b", "c"]
        .map(|n| format!("[[check]]\nname = \"{n}\"\ntcp = \"127.0.0.1:1\"\nevery = \"10s\"\n")))
    .concat();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let report: engine::Report = Box::new(move |views| {
        for view in views {
            let _ = tx.send(view);
        }
        true
    });
    let _engine = engine::start_with(
        specs(&checks),
        Some(store.clone()),
        report,
        Arc::new(Gated(gate.clone())),
        engine::tokio_clock(),
    );
    let loaded = rx.recv().await.expect("the first report: history loaded");
    assert!(loaded.uptime_day.is_some() && loaded.last.is_none(), "history, and no new result yet");
    // Hours of flush periods, and a sweep's worth, with every probe held: nothing is new.
    tokio::time::sleep(Duration::from_secs(2 * 3600)).await;
    assert_eq!(wal_len(dir.path()), 0, "nothing was written before a check answered");

    gate.add_permits(1);
    let first = loop {
        let view = rx.recv().await.expect("open");
        if view.last.is_some() {
            break view;
        }
    };
    tokio::time::sleep(engine::FLUSH_EVERY).await;
    // The write runs on the store's thread; once it has begun, a call queued behind it waits for its end.
    for _ in 0..1_000_000 {
        if wal_len(dir.path()) > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    store.call(|_| Ok(())).unwrap();
    assert_eq!(wal_commits(dir.path()), 1, "the new result went in one transaction");
    let name = ["a", "b", "c"][first.index];
    let at = firstwatch::health::history::minute_of(first.last.as_ref().unwrap().at);
    let total: i64 = store
        .call(move |c| {
            c.query_row("SELECT total FROM health_minutes WHERE check_name = ?1 AND minute = ?2", (name, at), |r| {
                r.get(0)
            })
        })
        .unwrap();
    assert_eq!(total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_past_retention_goes_a_step_per_write_and_a_sweep_takes_removed_checks() {
    use firstwatch::health::store::{Persist, write};
    let dir = tempfile::tempdir().unwrap();
    let store = firstwatch::store::Store::open_in(dir.path()).unwrap();
    // Three hours past retention; writing it already took the first step of an hour.
    week_of_history(&store, &["api", "gone"]).await;
    let (oldest, count) = kept(&store, "api");
    assert_eq!(count, 7 * 1440 + 179 - 60);
    let record_api = |sweep: bool| {
        let mut batch = Persist::default();
        batch.record("api", chrono::Utc::now(), true, None);
        if sweep {
            batch.sweep();
        }
        batch
    };
    write(&store, record_api(false)).await.unwrap();
    let (next, _) = kept(&store, "api");
    assert_eq!(next, oldest + 60, "one step further");
    assert_eq!(kept(&store, "gone").1, 7 * 1440 + 179 - 60, "a check not written is not pruned");
    write(&store, record_api(true)).await.unwrap();
    let cutoff = firstwatch::health::history::minute_of(chrono::Utc::now() - chrono::Duration::days(7));
    let (gone_oldest, _) = kept(&store, "gone");
    assert!(gone_oldest >= cutoff, "the sweep dropped what is past retention: {gone_oldest} < {cutoff}");
}

#[tokio::test(start_paused = true)]
async fn many_results_reach_the_screen_in_few_reports() {
    // 200 checks a second: without a gap between reports each result would be a report of its own.
    let toml: String = (0..200)
        .map(|i| format!("[[check]]\nname = \"c{i}\"\ncommand = [\"/nonexistent/firstwatch-probe\"]\nevery = \"1s\"\n"))
        .collect();
    let reports = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let views = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (counted_reports, counted_views) = (reports.clone(), views.clone());
    let report: engine::Report = Box::new(move |batch| {
        counted_reports.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        counted_views.fetch_add(batch.len(), std::sync::atomic::Ordering::SeqCst);
        true
    });
    let _engine = engine::start(specs(&toml), None, report);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (reports, views) =
        (reports.load(std::sync::atomic::Ordering::SeqCst), views.load(std::sync::atomic::Ordering::SeqCst));
    assert!(views >= 200 * 8, "every check reported about once a second: {views} views");
    // At most one report per gap of 100 ms, plus the first one at start.
    assert!(reports <= 10_000 / 100 + 2, "{reports} reports for {views} views");
}
