//! `firstwatch demo`: the whole console on a self-contained environment.
//!
//! It makes a scratch folder with a config, a small SQLite database and real
//! backups of it, starts an HTTP service on 127.0.0.1 with healthy, slow,
//! flaky and broken endpoints and a simulated fleet behind Prometheus and
//! Alertmanager APIs (`fleet`), and a writer that appends log lines and
//! rotates its file. Nothing leaves loopback; the folder is kept and printed
//! on exit so it can be looked at afterwards.

mod files;
pub mod fleet;
pub mod http;
mod incident;
mod logwriter;
mod rng;
pub mod schedule_history;
mod service;

use crate::app::{ConsoleOptions, run_console};
use crate::config;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The demo's scratch folder and the config written into it.
pub struct Demo {
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub service_port: u16,
}

/// Runs the console on the demo environment.
pub fn run(dir: Option<PathBuf>, mut options: ConsoleOptions) -> ExitCode {
    // Refuse before anything is written, so a refused start leaves no folder behind.
    if let Some(name) = &options.theme
        && let Err(err) = crate::theme::Theme::load(name, crate::theme::user_theme_dir().as_deref())
    {
        eprintln!("firstwatch: --theme: {err}");
        return ExitCode::from(2);
    }
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("firstwatch-demo-{}", std::process::id())));
    let listener = match TcpListener::bind("127.0.0.1:0").and_then(|l| l.set_nonblocking(true).map(|()| l)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("firstwatch demo: cannot listen on 127.0.0.1: {err}");
            return ExitCode::from(1);
        }
    };
    let demo = match prepare(&dir, &listener) {
        Ok(demo) => demo,
        Err(err) => {
            eprintln!("firstwatch demo: cannot prepare {}: {err}", dir.display());
            return ExitCode::from(1);
        }
    };
    let config = match config::load(&demo.config_path) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("firstwatch demo: the demo config is invalid (a bug):\n{err}");
            return ExitCode::from(1);
        }
    };
    let background = match start_background(&demo, listener) {
        Ok(thread) => thread,
        Err(err) => {
            eprintln!("firstwatch demo: cannot start the demo services: {err}");
            return ExitCode::from(1);
        }
    };
    options.environment = Some("demo".into());
    let code = run_console(config, options);
    drop(background);
    eprintln!("demo files kept in {}", demo.dir.display());
    code
}

/// Writes the demo's files and config; the listener's port goes into the config.
pub fn prepare(dir: &Path, listener: &TcpListener) -> std::io::Result<Demo> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    let service_port = listener.local_addr()?.port();
    files::write_all(&dir)?;
    incident::write_files(&dir)?;
    let config_path = dir.join("firstwatch.toml");
    std::fs::write(&config_path, files::config_text(service_port))?;
    seed_schedule_history(&config_path)?;
    Ok(Demo { dir, config_path, service_port })
}

/// The demo's service and log writer run on their own small runtime in a
/// background thread, so they keep going however busy the console is.
fn start_background(demo: &Demo, listener: TcpListener) -> std::io::Result<std::thread::JoinHandle<()>> {
    let dir = demo.dir.clone();
    std::thread::Builder::new().name("demo-environment".into()).spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            let service = tokio::spawn(service::serve(listener, dir.clone()));
            let writer = tokio::spawn(logwriter::run(dir));
            let _ = tokio::join!(service, writer);
        });
    })
}

/// Gives the calendar some past runs to show (only into a fresh store).
fn seed_schedule_history(config_path: &Path) -> std::io::Result<()> {
    let config = config::load(config_path).map_err(|err| std::io::Error::other(err.to_string()))?;
    let plan = crate::schedule::Plan::from_config(&config);
    schedule_history::seed(&config.resolve(Path::new("data")), &plan, chrono::Utc::now())
        .map_err(std::io::Error::other)?;
    Ok(())
}
