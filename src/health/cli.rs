//! `firstwatch check`: the health tab, headless, for cron, CI and Nagios.

use super::condition::format_latency;
use super::outcome::{Level, Outcome};
use super::{CheckSpec, Prober};
use crate::cli::Global;
use crate::config::Config;
use crate::util::sanitize::sanitize_str;
use std::process::ExitCode;

/// Exit codes and what a run means, shown under `firstwatch check --help`.
const AFTER_HELP: &str = "\
Each selected check runs once, in parallel, and its own result counts: the
debouncing of fail_after belongs to the live console and to --watch.

Exit codes follow the Nagios plugin convention, so the command drops into
cron, CI, Nagios or Icinga:
  0  every check ok
  1  the worst result is a warning
  2  the worst result is critical (also: the config could not be loaded)
  3  a check could not be run (unknown), or a NAME matches no check
Critical outranks unknown, which outranks warning.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct CheckArgs {
    /// Checks to run, by name (default: all).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Print a JSON array: name, kind, status (ok|warning|critical|unknown), latency_ms, message.
    #[arg(long)]
    pub json: bool,
    /// Keep running every check on its interval and print state changes only (Ctrl-C to stop).
    #[arg(long, conflicts_with = "json")]
    pub watch: bool,
}

pub fn run(config: Config, args: CheckArgs, _global: &Global) -> ExitCode {
    let specs = match select(&config, &args.names) {
        Ok(specs) => specs,
        Err(message) => {
            eprintln!("firstwatch check: {message}");
            return ExitCode::from(3);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("firstwatch check: cannot start the async runtime: {err}");
            return ExitCode::from(3);
        }
    };
    if args.watch {
        return runtime.block_on(watch(specs));
    }
    let outcomes = runtime.block_on(run_all(&specs));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    if args.json {
        println!("{}", to_json(&specs, &outcomes));
    } else {
        print!("{}", to_table(&specs, &outcomes));
    }
    let worst = outcomes.iter().map(|o| o.level).max().unwrap_or(Level::Ok);
    ExitCode::from(exit_code(worst))
}

/// Nagios: critical (2) outranks unknown (3), which outranks warning (1).
pub fn exit_code(worst: Level) -> u8 {
    worst.exit_code()
}

/// The checks named on the command line, in config order; all when none are named.
fn select(config: &Config, names: &[String]) -> Result<Vec<CheckSpec>, String> {
    let known: Vec<String> = config.checks.iter().map(|c| c.name.get_ref().clone()).collect();
    for name in names {
        if !known.contains(name) {
            let list = if known.is_empty() {
                "no checks are configured".to_string()
            } else {
                format!("known: {}", known.join(", "))
            };
            return Err(format!("no check named `{name}` ({list})"));
        }
    }
    let mut specs = Vec::new();
    for check in &config.checks {
        if names.is_empty() || names.contains(check.name.get_ref()) {
            specs.push(
                CheckSpec::from_config(check, config, &known)
                    .map_err(|e| format!("check `{}`: {e}", check.name.get_ref()))?,
            );
        }
    }
    Ok(specs)
}

pub async fn run_all(specs: &[CheckSpec]) -> Vec<Outcome> {
    let prober = Prober::new();
    futures::future::join_all(specs.iter().map(|spec| prober.run(spec))).await
}

pub fn to_json(specs: &[CheckSpec], outcomes: &[Outcome]) -> String {
    let rows: Vec<serde_json::Value> = specs
        .iter()
        .zip(outcomes)
        .map(|(spec, outcome)| {
            serde_json::json!({
                "name": spec.name,
                "kind": spec.kind(),
                "target": spec.target_text(),
                "status": outcome.level,
                "latency_ms": outcome.latency.map(|l| l.as_millis() as u64),
                "message": outcome.message,
                "failed_conditions": outcome.failed.iter().filter_map(|&i| spec.conditions.get(i).map(|c| c.text.clone())).collect::<Vec<_>>(),
                "at": outcome.at.to_rfc3339(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into())
}

pub fn to_table(specs: &[CheckSpec], outcomes: &[Outcome]) -> String {
    let width = specs.iter().map(|s| crate::util::width::width(&s.name)).max().unwrap_or(4).clamp(4, 32);
    let mut out = format!("{:<8} {:<width$} {:<7} {:>8}  {}\n", "STATUS", "NAME", "KIND", "LATENCY", "MESSAGE");
    for (spec, outcome) in specs.iter().zip(outcomes) {
        let name: String = sanitize_str(&spec.name).chars().take(width).collect();
        let latency = outcome.latency.map(format_latency).unwrap_or_else(|| "-".into());
        out.push_str(&format!(
            "{:<8} {:<width$} {:<7} {:>8}  {}\n",
            outcome.level.as_str().to_uppercase(),
            name,
            spec.kind(),
            latency,
            outcome.message
        ));
    }
    let count = |level: Level| outcomes.iter().filter(|o| o.level == level).count();
    out.push_str(&format!(
        "{} ok, {} warning, {} critical, {} unknown\n",
        count(Level::Ok),
        count(Level::Warning),
        count(Level::Critical),
        count(Level::Unknown)
    ));
    out
}

/// Runs the live engine (with debouncing) and prints each change of state.
async fn watch(specs: Vec<CheckSpec>) -> ExitCode {
    let mut shown: Vec<Option<super::Status>> = vec![None; specs.len()];
    let report: super::engine::Report = Box::new(move |views| {
        for view in views {
            let status = view.status;
            let Some(slot) = shown.get_mut(view.index) else { continue };
            if *slot != Some(status) && status != super::Status::Pending {
                let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
                println!("{now} {:<10} {} — {}", status.label().to_uppercase(), view.name, view.message());
                *slot = Some(status);
            }
        }
        true
    });
    let _engine = super::engine::start(specs, None, report);
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
