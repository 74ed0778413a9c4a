//! The health engine under load, on loopback.
//!
//! - sustained: 1,000 HTTP checks with `every = "1s"` through the real engine
//!   for a few seconds; prints checks per second and the checker's CPU (the
//!   process minus the server's own thread), as % of one core;
//! - hung: 500 checks stuck on an endpoint that never answers, while a
//!   "frame" timer asks for a wake-up every 16 ms; prints the worst lateness;
//! - criterion: one HTTP check, a batch of 100 in parallel, condition
//!   evaluation, and one health tab frame at 120x40 with 100 checks;
//! - series: a promql check over 500 hosts x 8 GPUs (4,000 series rows): a
//!   report folded into the tab (sorted worst first), and a frame at 120x40.

use criterion::{Criterion, criterion_group};
use firstwatch::config::load_str;
use firstwatch::health::engine::{self, Collector};
use firstwatch::health::{CheckSpec, Level, Outcome, Prober, condition};
use firstwatch::util::zone::Zone;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "support/http_server.rs"]
#[allow(dead_code)]
mod http_server;

fn specs(port: u16, count: usize, every: &str, path: &str) -> Vec<CheckSpec> {
    let mut toml = String::new();
    for i in 0..count {
        toml.push_str(&format!(
            "[[check]]\nname = \"c{i}\"\nhttp = \"http://127.0.0.1:{port}{path}\"\nevery = \"{every}\"\ntimeout = \"30s\"\n\
             expect = ['status == 200', 'json.status == \"healthy\"', 'latency < 1s']\n"
        ));
    }
    let config = load_str(&toml, Path::new("/tmp/bench.toml")).unwrap();
    CheckSpec::build_all(&config).0
}

/// CPU seconds (user + system) of the whole process, from /proc.
fn process_cpu() -> f64 {
    http_server::cpu_seconds("/proc/self/stat")
}

/// CPU seconds of one thread, from /proc.
fn thread_cpu(tid: u64) -> f64 {
    http_server::cpu_seconds(&format!("/proc/self/task/{tid}/stat"))
}

fn sustained(port: u16, server_tid: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let counter = done.clone();
    let report: engine::Report = Box::new(move |views| {
        counter.fetch_add(views.len() as u64, Ordering::Relaxed);
        true
    });
    let _guard = runtime.enter();
    let _engine = engine::start(specs(port, 1000, "1s", "/health"), None, report);
    // Warm up: connections opened, first spread over.
    std::thread::sleep(Duration::from_secs(3));
    let (start_count, start_cpu, start_server, started) =
        (done.load(Ordering::Relaxed), process_cpu(), thread_cpu(server_tid), Instant::now());
    std::thread::sleep(Duration::from_secs(6));
    let elapsed = started.elapsed().as_secs_f64();
    let checks = (done.load(Ordering::Relaxed) - start_count) as f64;
    let cpu = (process_cpu() - start_cpu) - (thread_cpu(server_tid) - start_server);
    let per_check_us = cpu / checks * 1e6;
    println!("health/sustained: {:.0} checks/s over {elapsed:.1}s (1000 checks every 1s)", checks / elapsed);
    println!(
        "health/sustained: checker CPU {:.1}% of one core ({per_check_us:.0} µs per check)",
        cpu / elapsed * 100.0
    );
    println!("health/sustained: 100 checks every 5s would cost {:.2}% of one core", per_check_us * 20.0 / 1e6 * 100.0);
    drop(_guard);
    runtime.shutdown_timeout(Duration::from_millis(100));
}

fn hung(port: u16) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let worst = runtime.block_on(async move {
        let _engine = engine::start(specs(port, 500, "1s", "/hang"), None, Box::new(|_| true));
        tokio::time::sleep(Duration::from_secs(3)).await;
        // A frame timer like the console's: how late does it wake while 500 checks hang?
        let mut worst = Duration::ZERO;
        for _ in 0..180 {
            let asked = Instant::now();
            tokio::time::sleep(Duration::from_millis(16)).await;
            worst = worst.max(asked.elapsed().saturating_sub(Duration::from_millis(16)));
        }
        worst
    });
    println!("health/hung: 500 checks hanging; a 16 ms frame timer woke at most {worst:?} late over 180 frames");
    runtime.shutdown_timeout(Duration::from_millis(100));
}

fn criterion_benches(c: &mut Criterion) {
    let port = http_server::start().port;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let one = specs(port, 1, "1s", "/health").remove(0);
    let prober = Prober::new();
    c.bench_function("health: one HTTP check on loopback", |b| {
        b.iter(|| runtime.block_on(async { assert_eq!(prober.run(&one).await.level, Level::Ok) }))
    });
    let hundred = specs(port, 100, "1s", "/health");
    c.bench_function("health: 100 HTTP checks in parallel", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let outcomes = futures::future::join_all(hundred.iter().map(|s| prober.run(s))).await;
                assert!(outcomes.iter().all(|o| o.level == Level::Ok));
            })
        })
    });
    let conditions: Vec<_> =
        ["status == 200", r#"json.status == "healthy""#, "json.totalAgents >= 1000", "latency < 200ms"]
            .iter()
            .map(|c| condition::parse(c).unwrap())
            .collect();
    let seen = condition::Observation {
        status: Some(200),
        latency: Some(Duration::from_millis(12)),
        body: Some(r#"{"status":"healthy","totalAgents":1204,"version":"2.4.1"}"#.into()),
        ..Default::default()
    };
    c.bench_function("health: evaluate 4 conditions on a JSON body", |b| {
        b.iter(|| conditions.iter().all(|c| c.evaluate(black_box(&seen)).is_ok()))
    });
    baseline(c);
    frame(c, port);
    series(c);
}

/// A fleet-wide promql check: 4,000 series, each its own row.
fn series(c: &mut Criterion) {
    use firstwatch::health::SeriesResult;
    use firstwatch::tui::tabs::{TabMsg, health};
    use firstwatch::tui::{Action, Model, update, view};
    let text = "[[engine]]\nname = \"prom\"\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9\"\n\n\
                [[check]]\nname = \"gpu memory\"\npromql = 'DCGM_FI_DEV_FB_USED'\nexpect = ['value < 0.9']\n";
    let (specs, _) = CheckSpec::build_all(&load_str(text, Path::new("/tmp/fw.toml")).unwrap());
    let mut collector = Collector::new(specs.iter().cloned().map(Arc::new).collect(), None, Box::new(|_| true));
    let mut outcome = Outcome::new(Level::Critical, "fleet").with_latency(Duration::from_millis(40));
    for host in 0..500 {
        for gpu in 0..8 {
            let value = ((host * 8 + gpu) % 100) as f64 / 100.0;
            let hostname = format!("gpu-node-{host:03}");
            let labels = [("Hostname", hostname.as_str()), ("gpu", &gpu.to_string()), ("job", "dcgm")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let level = if value < 0.9 { Level::Ok } else { Level::Critical };
            outcome.series.push(SeriesResult {
                name: format!("gpu memory{{Hostname=\"{hostname}\",gpu=\"{gpu}\"}}"),
                short: format!("gpu memory{{{hostname},{gpu}}}"),
                labels,
                value: Some(value),
                level,
                message: format!("value {value}"),
                failed: Vec::new(),
            });
        }
    }
    collector.apply(0, outcome);
    let views: Vec<_> = vec![Arc::new(collector.view(0, chrono::Utc::now()))];
    let mut model = Model::new(
        firstwatch::tui::keymap::Keymap::defaults(),
        firstwatch::theme::Theme::built_in("default-dark"),
        "bench".into(),
        Zone::UTC,
    );
    model.tabs.health = health::HealthTab::with_checks(&specs);
    c.bench_function("health: report of a 4,000-series promql check folded into the tab", |b| {
        b.iter(|| update(&mut model, Action::Msg(TabMsg::Health(health::Msg::Updated(views.clone()))), Instant::now()))
    });
    c.bench_function("health: tab frame 120x40 with 4,000 series rows", |b| {
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|f| view::render(black_box(&model), f)).unwrap();
        })
    });
}

/// The slow rule asks for the usual latency on every run: a full day of minutes.
fn baseline(c: &mut Criterion) {
    let mut history = firstwatch::health::history::History::default();
    let start = chrono::Utc::now() - chrono::Duration::hours(24);
    for minute in 0..1440i64 {
        let at = start + chrono::Duration::minutes(minute);
        for run in 0..4 {
            let latency = Duration::from_millis(20 + ((minute + run) % 30) as u64);
            history.record_run(at + chrono::Duration::seconds(run * 15), true, Some(latency), minute % 97 == 0);
        }
    }
    let now = chrono::Utc::now();
    c.bench_function("health: usual latency over 24h of stored minutes", |b| {
        b.iter(|| black_box(history.baseline(black_box(now), Duration::from_secs(86_400))))
    });
}

fn frame(c: &mut Criterion, port: u16) {
    use firstwatch::tui::tabs::{TabMsg, health};
    use firstwatch::tui::{Action, Model, update, view};
    let specs = specs(port, 100, "1s", "/health");
    let mut collector = Collector::new(specs.iter().cloned().map(Arc::new).collect(), None, Box::new(|_| true));
    for run in 0..120 {
        for i in 0..specs.len() {
            let level = if (i + run) % 17 == 0 { Level::Critical } else { Level::Ok };
            let mut outcome = Outcome::new(level, "200 OK").with_latency(Duration::from_millis((i + run) as u64 % 50));
            outcome.at = chrono::Utc::now();
            collector.apply(i, outcome);
        }
    }
    let now = chrono::Utc::now();
    let views = (0..specs.len()).map(|i| Arc::new(collector.view(i, now))).collect();
    let mut model = Model::new(
        firstwatch::tui::keymap::Keymap::defaults(),
        firstwatch::theme::Theme::built_in("default-dark"),
        "bench".into(),
        Zone::UTC,
    );
    model.tabs.health = health::HealthTab::with_checks(&specs);
    update(&mut model, Action::Msg(TabMsg::Health(health::Msg::Updated(views))), Instant::now());
    update(&mut model, Action::Select, Instant::now());
    c.bench_function("health: tab frame 120x40, 100 checks, detail open", |b| {
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|f| view::render(black_box(&model), f)).unwrap();
        })
    });
}

criterion_group!(benches, criterion_benches);

fn main() {
    let quick = std::env::args().any(|a| a == "--test" || a == "--list");
    if !quick {
        let server = http_server::start();
        let (port, server_tid) = (server.port, server.thread_id);
        sustained(port, server_tid);
        hung(port);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
