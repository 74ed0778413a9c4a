//! Peak resident memory of the console's GPU tab on a fleet of 500 hosts x 8
//! GPUs (goal: under 40 MB), end to end: a server process (this binary again,
//! started with `--serve`) answers the seven DCGM queries with recorded
//! bodies; this process reads them through the real prometheus source
//! (reqwest, one query per metric, one after another), folds them into the
//! tab's state with ten minutes of history, hands a copy to the console's
//! model and draws a 120x40 frame, refresh after refresh. It then prints the
//! time per refresh and the process's peak RSS (VmHWM).
//!
//! `cargo bench --bench gpu_fleet_rss`

#[path = "support/dcgm_bodies.rs"]
mod dcgm_bodies;

use firstwatch::gpu::GpuState;
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::{TabMsg, gpu::Msg};
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HOSTS: usize = 500;
const GPUS: usize = 8;
/// Ten minutes of history at the fleet's 5 s refresh, and as many more.
const REFRESHES: usize = 240;

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        serve();
        return;
    }
    let mut server = Command::new(std::env::current_exe().expect("this binary"))
        .arg("--serve")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the answer server");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("its stdout")).read_line(&mut line).expect("its port");
    let url = format!("http://{}", line.trim());

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("firstwatch.toml");
    let text = format!(
        "[[engine]]\nname = \"prom\"\nkind = \"prometheus\"\nurl = \"{url}\"\n[gpu]\nsource = \"prometheus\"\n"
    );
    std::fs::write(&path, text).expect("the config");
    let config = firstwatch::config::load(&path).expect("a valid config");
    let options = firstwatch::gpu::engine::EngineOptions::from_config(&config);
    let mut source = firstwatch::gpu::source_for(&config);
    let mut state = GpuState::new(source.describe(), false, options.every, options.history, options.thresholds)
        .with_fleet(source.fleet());
    let mut model = Model::new(
        Keymap::defaults(),
        Theme::built_in("default-dark"),
        "bench-host".into(),
        firstwatch::util::zone::Zone::UTC,
    );
    model.tab = TabId::Gpu;
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("a test terminal");
    let start = chrono::Utc::now();
    let mut times = Vec::with_capacity(REFRESHES);
    for refresh in 0..REFRESHES {
        let began = Instant::now();
        let readings = source.sample();
        assert!(readings.as_ref().is_ok_and(|r| r.len() == HOSTS * GPUS), "{:?}", readings.as_ref().err());
        // The fleet's clock, five seconds a refresh, so the history fills as it would.
        state.apply(readings, start + chrono::Duration::seconds(5 * refresh as i64));
        let _key = state.view_key();
        let message = TabMsg::Gpu(Msg::State(Arc::new(state.clone())));
        update(&mut model, Action::Msg(message), Instant::now());
        terminal.draw(|frame| view::render(&model, frame)).expect("a frame");
        times.push(began.elapsed());
    }
    let _ = server.kill();
    let _ = server.wait();
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    let peak = status_kib("VmHWM");
    let now = status_kib("VmRSS");
    println!(
        "gpu fleet {HOSTS} hosts x {GPUS} GPUs, {REFRESHES} refreshes over HTTP: median {:.1} ms, slowest {:.1} ms; \
         peak RSS {:.1} MiB (now {:.1} MiB)",
        ms(median),
        ms(worst),
        peak as f64 / 1024.0,
        now as f64 / 1024.0
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim_start_matches(':').trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

/// The answer server: the recorded bodies by metric name, prepared once.
fn serve() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let bodies: Arc<Vec<(String, [Vec<u8>; 2])>> = Arc::new(
            firstwatch::gpu::dcgm::Metric::ALL
                .iter()
                .map(|m| {
                    let name = m.name();
                    (m.query(), [0, 1].map(|turn| dcgm_bodies::body(name, HOSTS, GPUS, turn).into_bytes()))
                })
                .collect(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        println!("{}", listener.local_addr().expect("its address"));
        let turn = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (bodies, turn) = (bodies.clone(), turn.clone());
            tokio::spawn(firstwatch::demo::http::serve_one(stream, move |request| async move {
                let query = request.param("query").unwrap_or_default().to_string();
                let round = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) / 7 % 2;
                match bodies.iter().find(|(name, _)| *name == query) {
                    Some((_, answers)) => firstwatch::demo::http::Response {
                        status: 200,
                        content_type: "application/json",
                        body: answers[round].clone(),
                    },
                    None => firstwatch::demo::http::Response::text(404, "unknown metric"),
                }
            }));
        }
    });
}
