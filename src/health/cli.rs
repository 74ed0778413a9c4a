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
A check with depends_on whose parent failed too is suppressed (drawn ↳, with
\"suppressed_by\" in --json) and counts no worse than its parent; a parent
that was not named runs as well, to judge it, and is not printed.
A promql check prints one line per series it returned (a targets check, one
per scrape target that is down), named by the labels that tell them apart;
the check counts as its worst line. An engine that cannot be read makes the
check unknown, naming the engine.

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
    /// Print a JSON array: name, kind, status (ok|warning|critical|unknown), suppressed_by, latency_ms, message;
    /// a promql or targets check gives one object per series, with its labels and engine.
    #[arg(long)]
    pub json: bool,
    /// Keep running every check on its interval and print state changes only (Ctrl-C to stop).
    #[arg(long, conflicts_with = "json")]
    pub watch: bool,
}

pub fn run(config: Config, args: CheckArgs, _global: &Global) -> ExitCode {
    let plan = match select(&config, &args.names) {
        Ok(plan) => plan,
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
        let specs = plan.specs.into_iter().zip(plan.shown).filter_map(|(spec, shown)| shown.then_some(spec));
        return runtime.block_on(watch(specs.collect()));
    }
    let outcomes = runtime.block_on(run_all(&plan.specs));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    let rows: Vec<Row> = judge_dependencies(&plan.specs, outcomes)
        .into_iter()
        .zip(&plan.shown)
        .filter_map(|(row, shown)| shown.then_some(row))
        .collect();
    if args.json {
        println!("{}", to_json(&rows));
    } else {
        print!("{}", to_table(&rows));
    }
    let worst = rows.iter().map(|row| row.counts_as).max().unwrap_or(Level::Ok);
    ExitCode::from(exit_code(worst))
}

/// Nagios: critical (2) outranks unknown (3), which outranks warning (1).
pub fn exit_code(worst: Level) -> u8 {
    worst.exit_code()
}

/// What runs: the checks asked for, and the checks they depend on (run to judge them, not shown).
#[derive(Debug)]
pub struct Plan {
    pub specs: Vec<CheckSpec>,
    pub shown: Vec<bool>,
}

/// The checks named on the command line (all when none are named), in config order,
/// with the checks they depend on.
fn select(config: &Config, names: &[String]) -> Result<Plan, String> {
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
    let mut engines = super::spec::EngineCache::default();
    for check in &config.checks {
        specs.push(
            CheckSpec::build(check, config, &known, &mut engines)
                .map_err(|e| format!("check `{}`: {e}", check.name.get_ref())),
        );
    }
    let shown: Vec<bool> = known.iter().map(|name| names.is_empty() || names.contains(name)).collect();
    let mut needed = shown.clone();
    let mut stack: Vec<usize> = (0..needed.len()).filter(|&i| needed[i]).collect();
    while let Some(index) = stack.pop() {
        if let Some(Ok(spec)) = specs.get(index)
            && let Some(parent) = spec.depends_on
            && !needed[parent]
        {
            needed[parent] = true;
            stack.push(parent);
        }
    }
    let mut plan = Plan { specs: Vec::new(), shown: Vec::new() };
    let mut position = vec![None; specs.len()];
    for (index, spec) in specs.into_iter().enumerate() {
        if needed[index] {
            position[index] = Some(plan.specs.len());
            plan.specs.push(spec?);
            plan.shown.push(shown[index]);
        }
    }
    // Parents by position in the plan, not in the config.
    for spec in &mut plan.specs {
        spec.depends_on = spec.depends_on.and_then(|parent| position[parent]);
    }
    Ok(plan)
}

pub async fn run_all(specs: &[CheckSpec]) -> Vec<Outcome> {
    let prober = Prober::new();
    futures::future::join_all(specs.iter().map(|spec| prober.run(spec))).await
}

/// One line of the result: a check's own outcome and how it counts.
#[derive(Debug, Clone)]
pub struct Row {
    pub spec: CheckSpec,
    pub outcome: Outcome,
    /// The check it depends on, when that one failed too: its failure explains this one.
    pub suppressed_by: Option<String>,
    /// The level for the exit code: never worse than the parent's when suppressed.
    pub counts_as: Level,
}

/// Root cause first: a failing check whose parent failed too is suppressed, and counts
/// no worse than its parent, so one outage is one critical line.
pub fn judge_dependencies(specs: &[CheckSpec], outcomes: Vec<Outcome>) -> Vec<Row> {
    let mut counts: Vec<Option<Level>> = vec![None; specs.len()];
    fn counts_as(
        index: usize,
        specs: &[CheckSpec],
        outcomes: &[Outcome],
        memo: &mut [Option<Level>],
        depth: usize,
    ) -> Level {
        if let Some(level) = memo[index] {
            return level;
        }
        let own = outcomes[index].level;
        let level = match specs[index].depends_on.filter(|&p| p != index && depth < specs.len()) {
            Some(parent) if own != Level::Ok && outcomes[parent].level != Level::Ok => {
                own.min(counts_as(parent, specs, outcomes, memo, depth + 1))
            }
            _ => own,
        };
        memo[index] = Some(level);
        level
    }
    for index in 0..specs.len() {
        counts_as(index, specs, &outcomes, &mut counts, 0);
    }
    specs
        .iter()
        .zip(outcomes.iter())
        .enumerate()
        .map(|(index, (spec, outcome))| {
            let suppressed_by = spec
                .depends_on
                .filter(|&p| p != index && outcome.level != Level::Ok && outcomes[p].level != Level::Ok)
                .map(|p| specs[p].name.clone());
            Row {
                spec: spec.clone(),
                outcome: outcome.clone(),
                suppressed_by,
                counts_as: counts[index].unwrap_or(outcome.level),
            }
        })
        .collect()
}

/// One printed line: a check, or one series of a check that returns several.
struct Printed<'a> {
    name: &'a str,
    level: Level,
    message: &'a str,
    labels: Option<&'a crate::engine::Labels>,
    value: Option<f64>,
    failed: &'a [usize],
}

/// A `promql` or `targets` check prints one line per series; any other check (or one
/// whose engine could not be read, or that returned nothing) prints itself.
fn printed(row: &Row) -> Vec<Printed<'_>> {
    if row.outcome.series.is_empty() {
        return vec![Printed {
            name: &row.spec.name,
            level: row.outcome.level,
            message: &row.outcome.message,
            labels: None,
            value: None,
            failed: &row.outcome.failed,
        }];
    }
    row.outcome
        .series
        .iter()
        .map(|series| Printed {
            name: &series.name,
            level: series.level,
            message: &series.message,
            labels: Some(&series.labels),
            value: series.value,
            failed: &series.failed,
        })
        .collect()
}

impl Printed<'_> {
    /// The parent that explains this line: a failing series is suppressed with its check, an ok one is not.
    fn suppressed_by<'r>(&self, row: &'r Row) -> Option<&'r String> {
        row.suppressed_by.as_ref().filter(|_| self.level != Level::Ok)
    }
}

/// A sample value as the Prometheus API writes it: "0.25", "NaN", "+Inf".
fn value_text(value: f64) -> String {
    if value.is_finite() { value.to_string() } else { crate::engine::format_value(value) }
}

pub fn to_json(rows: &[Row]) -> String {
    let mut lines: Vec<serde_json::Value> = Vec::new();
    for row in rows {
        let Row { spec, outcome, .. } = row;
        for line in printed(row) {
            let labels: serde_json::Map<String, serde_json::Value> = line
                .labels
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            lines.push(serde_json::json!({
                "name": line.name,
                "check": spec.name,
                "kind": spec.kind(),
                "target": spec.target_text(),
                "engine": spec.engine_name(),
                "labels": labels,
                "value": line.value.map(value_text),
                "status": line.level,
                "suppressed_by": line.suppressed_by(row),
                "latency_ms": outcome.latency.map(|l| l.as_millis() as u64),
                "message": line.message,
                "failed_conditions": line.failed.iter().filter_map(|&i| spec.conditions.get(i).map(|c| c.text.clone())).collect::<Vec<_>>(),
                "at": outcome.at.to_rfc3339(),
            }));
        }
    }
    serde_json::to_string_pretty(&lines).unwrap_or_else(|_| "[]".into())
}

/// The widest a name is printed before it is cut (a series' labels can run long).
const NAME_WIDTH: usize = 48;

pub fn to_table(rows: &[Row]) -> String {
    let all: Vec<(&Row, Printed<'_>)> =
        rows.iter().flat_map(|row| printed(row).into_iter().map(move |p| (row, p))).collect();
    let width = all.iter().map(|(_, p)| crate::util::width::width(p.name)).max().unwrap_or(4).clamp(4, NAME_WIDTH);
    let mut out = format!("{:<10} {:<width$} {:<7} {:>8}  {}\n", "STATUS", "NAME", "KIND", "LATENCY", "MESSAGE");
    for (row, line) in &all {
        let name = crate::util::width::truncate(&sanitize_str(line.name), width);
        let pad = width.saturating_sub(crate::util::width::width(&name));
        let latency = row.outcome.latency.map(format_latency).unwrap_or_else(|| "-".into());
        let (status, message) = match line.suppressed_by(row) {
            Some(parent) => (
                format!("↳ {}", line.level.as_str().to_uppercase()),
                format!("{} (suppressed: {} is down)", line.message, sanitize_str(parent)),
            ),
            None => (line.level.as_str().to_uppercase(), line.message.to_string()),
        };
        out.push_str(&format!("{status:<10} {name}{:pad$} {:<7} {latency:>8}  {message}\n", "", row.spec.kind()));
    }
    let count = |level: Level| {
        all.iter().filter(|(row, line)| line.suppressed_by(row).is_none() && line.level == level).count()
    };
    let suppressed = all.iter().filter(|(row, line)| line.suppressed_by(row).is_some()).count();
    out.push_str(&format!(
        "{} ok, {} warning, {} critical, {} unknown{}\n",
        count(Level::Ok),
        count(Level::Warning),
        count(Level::Critical),
        count(Level::Unknown),
        if suppressed > 0 { format!(", {suppressed} suppressed") } else { String::new() }
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
            // An unconfirmed failure is not a change of state; debouncing is the point of --watch.
            if *slot != Some(status) && !matches!(status, super::Status::Pending | super::Status::Failing) {
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
