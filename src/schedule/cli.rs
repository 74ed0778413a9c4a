//! `firstwatch schedule`: the calendar tab, headless.

use super::flags::{TaskState, task_state};
use super::history::{self, How, NewRun, RunRecord};
use super::plan::{Plan, Task};
use super::runner::{Echo, TaskCommand, run_operation};
use super::{Schedule, import};
use crate::cli::Global;
use crate::config::Config;
use crate::config::units::{HumanDuration, format_duration};
use crate::store::{AuditEntry, Store};
use crate::util::identity::Identity;
use crate::util::sanitize::sanitize_str;
use crate::util::zone::Zone;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::HashMap;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  done; every configured task's last run is fine (or unknown)
  1  the agenda shows a task whose last run failed or that missed its time;
     `record` could not write to the store
  2  bad input: invalid expression, time, zone or task name
  3  refused, nothing was run: --read-only, the task has no `run` command, the
     task is already running (its lock names the holder), or the audit log
     cannot be written (`wrap` without a store runs the command unaudited)
  N  `run` and `wrap` exit with the task's own exit code (127 if it could not start)

`silences` (cron-able: `schedule silences --apply --yes`): 0 planned, or every
missing silence created; 1 the Alertmanager could not be read or a creation
failed; 2 no such engine; 3 refused (read-only, not confirmed); 5 detached";

/// Show upcoming runs, evaluate an expression, or run and record tasks.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, after_help = EXIT_CODES)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    command: Option<ScheduleCommand>,
    #[command(flatten)]
    agenda: AgendaArgs,
}

#[derive(Debug, clap::Args)]
struct AgendaArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Start of the agenda, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// How many hours ahead to show.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8784))]
    hours: u32,
    /// Also show the host's crontabs and systemd timers.
    #[arg(long)]
    host: bool,
}

#[derive(Debug, clap::Subcommand)]
enum ScheduleCommand {
    /// Print the next run times of one cron expression (no config needed).
    Next {
        /// Five fields or a shorthand such as @daily; quote it.
        expression: String,
        /// Start, RFC 3339 (default: now).
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// How many runs to print.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100000))]
        count: u32,
        /// IANA zone the expression is read in (default: the config's timezone).
        #[arg(long, value_name = "ZONE")]
        tz: Option<String>,
        /// Print {"expression": ..., "runs": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// Run a configured task's `run` command now and record the outcome.
    Run { task: String },
    /// Record a run that happened outside firstwatch.
    Record {
        task: String,
        /// The run's exit code.
        #[arg(long = "exit", value_name = "CODE", allow_negative_numbers = true)]
        exit_code: i32,
        /// How long it took, e.g. 90s or 4m.
        #[arg(long, value_name = "DURATION")]
        duration: Option<HumanDuration>,
        /// When it started, RFC 3339 (default: now minus the duration).
        #[arg(long, value_name = "TIME")]
        started: Option<String>,
        /// The last lines of its output.
        #[arg(long, value_name = "TEXT")]
        output: Option<String>,
    },
    /// Run a command and record it under TASK: prefix crontab lines with `firstwatch schedule wrap TASK --`.
    Wrap {
        task: String,
        /// The command and its arguments.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Plan (and with --apply, create) the Alertmanager silences of the coming windows' `silence`.
    Silences(crate::silence::windows::ScheduleSilencesArgs),
    /// List recorded runs, newest first.
    History {
        /// Only this task.
        task: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

impl ScheduleArgs {
    /// `next` evaluates an expression on its own, so it may run without a config file.
    pub fn config_optional(&self) -> bool {
        matches!(self.command, Some(ScheduleCommand::Next { .. }))
    }
}

pub fn run(config: Config, args: ScheduleArgs, global: &Global) -> ExitCode {
    let zone = config.settings.zone();
    match args.command {
        None => agenda(&config, args.agenda),
        Some(ScheduleCommand::Next { expression, from, count, tz, json }) => {
            next(&expression, from.as_deref(), count as usize, tz.as_deref().map_or(Ok(zone), parse_zone), json)
        }
        Some(ScheduleCommand::Run { task }) => run_task(&config, &task, global.read_only || config.settings.read_only),
        Some(ScheduleCommand::Record { task, exit_code, duration, started, output }) => {
            record(&config, &task, exit_code, duration, started.as_deref(), output)
        }
        Some(ScheduleCommand::Wrap { task, command }) => wrap(&config, &task, &command),
        Some(ScheduleCommand::Silences(silences)) => {
            crate::silence::windows::run_schedule(&config, silences, global.read_only || config.settings.read_only)
        }
        Some(ScheduleCommand::History { task, limit, json }) => show_history(&config, task.as_deref(), limit, json),
    }
}

fn bad_input(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("firstwatch schedule: {message}");
    ExitCode::from(2)
}

fn parse_time(text: Option<&str>) -> Result<DateTime<Utc>, String> {
    match text {
        None => Ok(Utc::now()),
        Some(text) => DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|err| format!("`{text}` is not an RFC 3339 time ({err}); write e.g. 2026-03-29T01:30:00+01:00")),
    }
}

fn parse_zone(text: &str) -> Result<Zone, String> {
    text.parse::<Zone>().map_err(|unknown| format!("{unknown}; {}", unknown.hint()))
}

fn next(expression: &str, from: Option<&str>, count: usize, zone: Result<Zone, String>, json: bool) -> ExitCode {
    let zone = match zone {
        Ok(zone) => zone,
        Err(message) => return bad_input(message),
    };
    let from = match parse_time(from) {
        Ok(from) => from,
        Err(message) => return bad_input(message),
    };
    let schedule = match Schedule::parse(expression) {
        Ok(schedule) => schedule,
        Err(err) => {
            let caret = format!("{}^", " ".repeat(err.offset));
            eprintln!("firstwatch schedule next: {err}\n  {expression}\n  {caret}");
            if let Some(hint) = &err.hint {
                eprintln!("  hint: {hint}");
            }
            return ExitCode::from(2);
        }
    };
    let runs: Vec<String> =
        schedule.runs_after(from, zone).take(count).map(|at| at.with_timezone(&zone).to_rfc3339()).collect();
    if json {
        println!("{}", json!({ "expression": expression, "zone": zone.name(), "runs": runs }));
    } else if schedule.is_reboot() {
        println!("{expression}: runs at system start-up only");
    } else {
        for run in runs {
            println!("{run}");
        }
    }
    ExitCode::SUCCESS
}

fn open_store(config: &Config) -> Result<Store, ExitCode> {
    Store::for_config(config).map_err(|err| {
        eprintln!("firstwatch schedule: {err}");
        ExitCode::from(1)
    })
}

/// The agenda: every run in the next hours, windows, and tasks that need a look.
fn agenda(config: &Config, args: AgendaArgs) -> ExitCode {
    let zone = config.settings.zone();
    let from = match parse_time(args.from.as_deref()) {
        Ok(from) => from,
        Err(message) => return bad_input(message),
    };
    let until = from + Duration::hours(i64::from(args.hours));
    let mut plan = Plan::from_config(config);
    let configured = plan.tasks.len();
    let mut notes = Vec::new();
    if args.host {
        let imported = import::load_host(zone);
        plan.tasks.extend(imported.tasks);
        notes = imported.notes;
    }
    let latest: HashMap<String, RunRecord> = match Store::for_config(config) {
        Ok(store) => store
            .call(|c| history::latest_per_task(c))
            .map(|runs| runs.into_iter().map(|run| (run.task.clone(), run)).collect())
            .unwrap_or_default(),
        Err(err) => {
            notes.push(format!("past runs unavailable: {err}"));
            HashMap::new()
        }
    };
    let now = Utc::now();
    let states: Vec<TaskState> = plan.tasks.iter().map(|task| task_state(task, latest.get(&task.name), now)).collect();
    let due = plan.agenda(from, until, 2000);
    let attention = plan.tasks[..configured].iter().zip(&states).filter(|(_, state)| state.needs_attention()).count();
    if args.json {
        print_agenda_json(&plan, &states, &due, from, until, zone, &notes);
    } else {
        print_agenda_table(&plan, &states, &due, from, until, zone, &notes);
    }
    if attention > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

fn local(at: DateTime<Utc>, zone: Zone, format: &str) -> String {
    at.with_timezone(&zone).format(format).to_string()
}

/// The task's own clock when it differs from the display zone, e.g. " (09:00 Europe/Berlin)".
fn own_zone_note(task: &Task, at: DateTime<Utc>, zone: Zone) -> String {
    if task.zone == zone { String::new() } else { format!(" ({} {})", local(at, task.zone, "%H:%M"), task.zone.name()) }
}

fn print_agenda_table(
    plan: &Plan,
    states: &[TaskState],
    due: &[super::Due],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    zone: Zone,
    notes: &[String],
) {
    println!(
        "Runs from {} to {} ({})",
        local(from, zone, "%a %d %b %H:%M"),
        local(until, zone, "%a %d %b %H:%M"),
        zone.name()
    );
    if due.is_empty() {
        println!("  (no runs in this span)");
    } else {
        println!("{:<16} {:<28} {:<12} {:<9} LAST", "WHEN", "TASK", "SOURCE", "EXPECTED");
    }
    for item in due {
        let task = &plan.tasks[item.task];
        let window = plan.in_window(item.at).map(|w| format!(" [in window {}]", w.name)).unwrap_or_default();
        println!(
            "{:<16} {:<28} {:<12} {:<9} {}{}{}",
            local(item.at, zone, "%a %d %H:%M"),
            truncate(&task.name, 28),
            truncate(&task.origin.label(), 12),
            task.expected.map(format_duration).unwrap_or_else(|| "-".into()),
            states[item.task].label(),
            own_zone_note(task, item.at, zone),
            window
        );
    }
    if !plan.windows.is_empty() {
        println!("\nMaintenance windows:");
        for window in &plan.windows {
            match (window.active_at(from), window.next_after(from)) {
                (Some(span), _) => {
                    println!("  ● {} — ACTIVE until {}", window.name, local(span.end, zone, "%a %d %b %H:%M"))
                }
                (None, Some(span)) => println!(
                    "  ○ {} — next {} to {}",
                    window.name,
                    local(span.start, zone, "%a %d %b %H:%M"),
                    local(span.end, zone, "%H:%M")
                ),
                (None, None) => println!("  ○ {} — no further occurrence", window.name),
            }
        }
    }
    let flagged: Vec<String> = plan
        .tasks
        .iter()
        .zip(states)
        .filter(|(_, state)| state.needs_attention())
        .map(|(task, state)| match state {
            TaskState::Missed { due } => {
                format!("  ! {}: missed its run at {}", task.name, local(*due, zone, "%a %d %b %H:%M"))
            }
            other => format!("  {} {}", other.label(), task.name),
        })
        .collect();
    if !flagged.is_empty() {
        println!("\nNeeds attention:");
        for line in flagged {
            println!("{line}");
        }
    }
    for note in notes {
        eprintln!("note: {note}");
    }
}

fn print_agenda_json(
    plan: &Plan,
    states: &[TaskState],
    due: &[super::Due],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    zone: Zone,
    notes: &[String],
) {
    let runs: Vec<_> = due
        .iter()
        .map(|item| {
            let task = &plan.tasks[item.task];
            json!({
                "at": item.at.with_timezone(&zone).to_rfc3339(),
                "task": task.name,
                "source": task.origin,
                "expression": task.spec(),
                "task_zone": task.zone.name(),
                "expected_seconds": task.expected.map(|d| d.as_secs()),
                "in_window": plan.in_window(item.at).map(|w| w.name.clone()),
            })
        })
        .collect();
    let windows: Vec<_> = plan
        .windows
        .iter()
        .map(|window| {
            let active = window.active_at(from);
            let next = window.next_after(from);
            json!({
                "name": window.name,
                "expression": window.schedule.text(),
                "active": active.is_some(),
                "active_until": active.map(|s| s.end.with_timezone(&zone).to_rfc3339()),
                "next_start": next.map(|s| s.start.with_timezone(&zone).to_rfc3339()),
                "next_end": next.map(|s| s.end.with_timezone(&zone).to_rfc3339()),
            })
        })
        .collect();
    let tasks: Vec<_> = plan
        .tasks
        .iter()
        .zip(states)
        .map(|(task, state)| {
            json!({
                "name": task.name,
                "expression": task.spec(),
                "description": task.describe(),
                "source": task.origin,
                "state": state,
            })
        })
        .collect();
    let out = json!({
        "from": from.with_timezone(&zone).to_rfc3339(),
        "until": until.with_timezone(&zone).to_rfc3339(),
        "zone": zone.name(),
        "runs": runs,
        "windows": windows,
        "tasks": tasks,
        "notes": notes,
    });
    println!("{out}");
}

fn truncate(text: &str, width: usize) -> String {
    crate::util::width::truncate(text, width)
}

fn check_task_name(task: &str) -> Result<(), ExitCode> {
    if task.trim().is_empty() || task.len() > 200 || task.chars().any(char::is_control) {
        return Err(bad_input("a task name must be 1-200 printable characters"));
    }
    Ok(())
}

fn run_task(config: &Config, name: &str, read_only: bool) -> ExitCode {
    let plan = Plan::from_config(config);
    let Some(task) = plan.task(name) else {
        let known: Vec<&str> = plan.tasks.iter().map(|t| t.name.as_str()).collect();
        return bad_input(format!("no task `{}` in the config (known: {})", sanitize_str(name), known.join(", ")));
    };
    if task.argv.is_empty() {
        eprintln!("firstwatch schedule run: task `{name}` has no `run` command; add run = [\"program\", \"arg\"]");
        return ExitCode::from(3);
    }
    let who = Identity::current();
    let store = match open_store(config) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let audit = |event: &str, detail: Option<String>| {
        let entry = AuditEntry {
            event: event.into(),
            action: Some(format!("schedule run {name}")),
            target: Some(name.to_string()),
            argv: Some(task.argv.clone()),
            detail,
            ..AuditEntry::default()
        };
        if let Err(err) = store.audit(entry, &who) {
            eprintln!("firstwatch schedule run: cannot write the audit log: {err}");
        }
    };
    if read_only {
        audit("refused", Some("read-only".into()));
        eprintln!("firstwatch schedule run: refused in read-only mode");
        return ExitCode::from(3);
    }
    let lock_dir = crate::action::lock::dir_for(Some(&store));
    let finished =
        match run_operation(Some(&store), &lock_dir, name, &task.command(), How::Run, &who, Echo::PassThrough) {
            Ok(finished) => finished,
            Err(why) => {
                eprintln!("firstwatch schedule run: refused: {why}; nothing was run");
                return ExitCode::from(3);
            }
        };
    report_finished(name, &finished)
}

fn report_finished(name: &str, finished: &super::runner::Finished) -> ExitCode {
    if finished.exit_code == 127 && finished.output_tail.starts_with("cannot start") {
        eprintln!("firstwatch schedule run: {}", finished.output_tail);
    }
    let took = (finished.ended - finished.started).to_std().unwrap_or_default();
    eprintln!("firstwatch: `{name}` exited {} after {}", finished.exit_code, format_duration(took));
    if let Some(err) = &finished.store_error {
        eprintln!("firstwatch: the run was not recorded: {err}");
    }
    ExitCode::from(finished.exit_code.clamp(0, 255) as u8)
}

fn wrap(config: &Config, name: &str, command: &[String]) -> ExitCode {
    if let Err(code) = check_task_name(name) {
        return code;
    }
    // The command runs even when the store cannot be opened: the job matters more than its record.
    let store = Store::for_config(config).map_err(|err| eprintln!("firstwatch schedule wrap: {err}")).ok();
    let lock_dir = crate::action::lock::dir_for(store.as_ref());
    let who = Identity::current();
    let finished = match run_operation(
        store.as_ref(),
        &lock_dir,
        name,
        &TaskCommand::here(command),
        How::Wrap,
        &who,
        Echo::PassThrough,
    ) {
        Ok(finished) => finished,
        Err(why) => {
            eprintln!("firstwatch schedule wrap: refused: {why}; nothing was run");
            return ExitCode::from(3);
        }
    };
    if finished.exit_code == 127 && finished.output_tail.starts_with("cannot start") {
        eprintln!("firstwatch schedule wrap: {}", finished.output_tail);
    }
    if let Some(err) = &finished.store_error {
        eprintln!("firstwatch schedule wrap: the run was not recorded: {err}");
    }
    ExitCode::from(finished.exit_code.clamp(0, 255) as u8)
}

fn record(
    config: &Config,
    name: &str,
    exit_code: i32,
    duration: Option<HumanDuration>,
    started: Option<&str>,
    output: Option<String>,
) -> ExitCode {
    if let Err(code) = check_task_name(name) {
        return code;
    }
    let took = match duration.map(|d| Duration::from_std(d.get())).transpose() {
        Ok(took) => took.unwrap_or_else(Duration::zero),
        Err(_) => return bad_input("--duration is too long"),
    };
    let started = match started {
        Some(text) => match parse_time(Some(text)) {
            Ok(at) => at,
            Err(message) => return bad_input(message),
        },
        None => Utc::now() - took,
    };
    if Plan::from_config(config).task(name).is_none() {
        eprintln!("note: `{}` is not a task in the config; recorded anyway", sanitize_str(name));
    }
    let store = match open_store(config) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let who = Identity::current();
    let run = NewRun {
        task: name.to_string(),
        started,
        ended: Some(started + took),
        exit_code: Some(exit_code),
        output_tail: output.map(|text| history::tail_text(text.as_bytes())),
        how: How::Record,
        user: who.user,
        host: who.host,
    };
    match store.call(move |c| history::insert(c, &run)) {
        Ok(id) => {
            println!("recorded run {id} of `{}`", sanitize_str(name));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("firstwatch schedule record: {err}");
            ExitCode::from(1)
        }
    }
}

fn show_history(config: &Config, task: Option<&str>, limit: usize, json: bool) -> ExitCode {
    let store = match open_store(config) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let task = task.map(str::to_string);
    let runs = store.call(move |c| match &task {
        Some(task) => history::last_runs(c, task, limit),
        None => {
            let mut runs = history::runs_since(c, DateTime::UNIX_EPOCH, limit)?;
            runs.reverse();
            Ok(runs)
        }
    });
    let runs = match runs {
        Ok(runs) => runs,
        Err(err) => {
            eprintln!("firstwatch schedule history: {err}");
            return ExitCode::from(1);
        }
    };
    let zone = config.settings.zone();
    if json {
        println!("{}", serde_json::to_string(&runs).unwrap_or_else(|_| "[]".into()));
        return ExitCode::SUCCESS;
    }
    if runs.is_empty() {
        println!("no runs recorded");
    }
    for run in runs {
        println!(
            "{}  {:<28} {:<10} exit {:<4} {:>8}  {} by {}@{}",
            local(run.started, zone, "%Y-%m-%d %H:%M"),
            truncate(&sanitize_str(&run.task), 28),
            run.outcome().label(),
            run.exit_code.map_or("-".into(), |c| c.to_string()),
            run.duration().map(format_duration).unwrap_or_else(|| "-".into()),
            format!("{:?}", run.how).to_lowercase(),
            sanitize_str(&run.user),
            sanitize_str(&run.host),
        );
    }
    ExitCode::SUCCESS
}
