//! `firstwatch incident`: the incident tab, headless.

use super::checklist::Checklist;
use super::export;
use super::milestone::Milestone;
use super::record::{self, EventKind, IncidentError, IncidentRecord, Severity};
use super::runbook::{self, Runbook};
use super::timeline::{self, TimelineRow};
use crate::cli::Global;
use crate::config::Config;
use crate::store::Store;
use crate::util::identity::Identity;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// Open, follow and close the host's incident; export a post-mortem.
///
/// Only one incident is open at a time on a host, shared by everyone who runs
/// firstwatch there (the store is the record).
///
/// Exit codes: 0 done; 1 refused or failed (none open, one already open, no
/// such step); 2 bad config or arguments.
#[derive(Debug, clap::Args)]
#[command(after_help = "Only one incident is open at a time on a host, shared by everyone who runs firstwatch \
there.\n\nExit codes:\n  0  done\n  1  refused or failed (none open, one already open, no such step; nothing \
is written)\n  2  bad config, arguments, runbook file or unknown runbook (nothing is opened)")]
pub struct IncidentArgs {
    #[command(subcommand)]
    command: IncidentCommand,
}

#[derive(Debug, Subcommand)]
enum IncidentCommand {
    /// Open an incident; prints its id.
    #[command(alias = "start")]
    Open {
        title: String,
        /// P0 (outage, respond in 15 min), P1 (30 min), P2 (2 h) or P3 (24 h).
        #[arg(long, short, value_parser = parse_severity, default_value = "P2")]
        severity: Severity,
        /// The runbook to follow, by name or title, any case (see `firstwatch incident runbooks`).
        #[arg(long)]
        runbook: Option<String>,
    },
    /// Mark a milestone of the post-mortem timeline, with an optional remark.
    Mark {
        #[arg(value_parser = parse_milestone)]
        milestone: Milestone,
        #[arg(default_value = "")]
        text: String,
    },
    /// Add a note to the open incident's timeline.
    Note {
        text: String,
        /// Attach it to a runbook step, e.g. 1.2.
        #[arg(long)]
        step: Option<String>,
    },
    /// Mark a runbook step (e.g. 1.2) done.
    Tick { step: String },
    /// Mark a runbook step skipped, with the reason.
    Skip { step: String, reason: String },
    /// Change the open incident's severity.
    Severity {
        #[arg(value_parser = parse_severity)]
        severity: Severity,
    },
    /// Close the open incident (or incident ID).
    Close {
        /// What fixed it.
        #[arg(long, short, default_value = "")]
        resolution: String,
        id: Option<i64>,
    },
    /// The open incident: severity, T+, checklist, recent timeline.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Every incident, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One incident with its timeline.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Write the post-mortem draft of the open incident (or ID) to stdout or --output.
    Export {
        id: Option<i64>,
        #[arg(long, default_value = "md", value_parser = ["md", "json"])]
        format: String,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List the runbooks (configured and built in).
    Runbooks,
    /// Print a runbook's phases and steps.
    Runbook { name: String },
    /// Check a runbook file; reports problems with line numbers.
    CheckRunbook { path: PathBuf },
}

fn parse_milestone(text: &str) -> Result<Milestone, String> {
    Milestone::parse(text).ok_or_else(|| {
        let keys: Vec<&str> = Milestone::ALL.iter().map(|m| m.key()).collect();
        format!("`{text}` is not a milestone; use {}", keys.join(", "))
    })
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| format!("`{text}` is not a severity; use P0, P1, P2 or P3"))
}

pub fn run(config: Config, mut args: IncidentArgs, _global: &Global) -> ExitCode {
    match &mut args.command {
        IncidentCommand::Runbooks => return list_runbooks(&config),
        IncidentCommand::Runbook { name } => return show_runbook(&config, name),
        IncidentCommand::CheckRunbook { path } => return check_runbook(path),
        // An incident opened on a runbook nobody can find would have no checklist: refuse it.
        IncidentCommand::Open { runbook: Some(wanted), .. } => match find_runbook(&config, wanted) {
            Some(found) => *wanted = found.name,
            None => {
                eprintln!("firstwatch incident: no runbook named `{wanted}`; nothing was opened. Runbooks:");
                for runbook in runbook::load_all(&config).0 {
                    eprintln!("  {:<20} {}", runbook.name, runbook.title);
                }
                return ExitCode::from(2);
            }
        },
        _ => {}
    }
    let store = match Store::for_config(&config) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("firstwatch incident: {err}");
            return ExitCode::from(1);
        }
    };
    let who = Identity::current();
    match execute(&config, &store, &who, args.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("firstwatch incident: {err}");
            ExitCode::from(1)
        }
    }
}

fn execute(config: &Config, store: &Store, who: &Identity, command: IncidentCommand) -> Result<(), IncidentError> {
    let open = || record::current(store)?.ok_or(IncidentError::NoneOpen);
    match command {
        IncidentCommand::Open { title, severity, runbook } => {
            let incident = record::open(store, &title, severity, runbook.as_deref(), who)?;
            println!("{}", incident.id);
        }
        IncidentCommand::Note { text, step } => {
            let current = open()?;
            if let Some(step) = &step {
                require_step(config, &current, step)?;
            }
            record::add_event(store, current.incident.id, EventKind::Note, step.as_deref(), &text, who)?;
        }
        IncidentCommand::Tick { step } => {
            let current = open()?;
            require_step(config, &current, &step)?;
            record::add_event(store, current.incident.id, EventKind::Tick, Some(&step), "done", who)?;
        }
        IncidentCommand::Skip { step, reason } => {
            let current = open()?;
            require_step(config, &current, &step)?;
            record::add_event(store, current.incident.id, EventKind::Skip, Some(&step), &reason, who)?;
        }
        IncidentCommand::Mark { milestone, text } => {
            let current = open()?;
            record::mark_milestone(store, current.incident.id, milestone, &text, who)?;
            println!(
                "{} at T+{}",
                milestone.label(),
                export::duration(chrono::Utc::now() - current.incident.opened_at)
            );
        }
        IncidentCommand::Severity { severity } => {
            let current = open()?;
            record::set_severity(store, current.incident.id, severity, who)?;
        }
        IncidentCommand::Close { resolution, id } => {
            let id = match id {
                Some(id) => id,
                None => open()?.incident.id,
            };
            record::close(store, id, &resolution, who)?;
            println!("closed incident #{id}");
        }
        IncidentCommand::Status { json } => {
            let current = record::current(store)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&current).unwrap_or_default());
            } else {
                match current {
                    Some(current) => print_status(config, &current),
                    None => println!("no open incident"),
                }
            }
        }
        IncidentCommand::List { json } => {
            let incidents = record::list(store)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&incidents).unwrap_or_default());
            } else if incidents.is_empty() {
                println!("no incidents recorded");
            }
            if !json {
                for incident in incidents {
                    let state = match incident.closed_at {
                        Some(closed) => format!("closed after {}", export::duration(closed - incident.opened_at)),
                        None => "OPEN".into(),
                    };
                    println!(
                        "#{:<4} {} {}  {}  {}",
                        incident.id,
                        incident.severity.label(),
                        incident.opened_at.format("%Y-%m-%d %H:%M"),
                        state,
                        incident.title
                    );
                }
            }
        }
        IncidentCommand::Show { id, json } => {
            let record = record::get(store, id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&record).unwrap_or_default());
            } else {
                print_status(config, &record);
            }
        }
        IncidentCommand::Export { id, format, output } => {
            let record = match id {
                Some(id) => record::get(store, id)?,
                None => record::current(store)?.ok_or_else(|| nothing_to_export(store))?,
            };
            let text = if format == "json" {
                serde_json::to_string_pretty(&record).unwrap_or_default()
            } else {
                let runbook = record.incident.runbook.as_deref().and_then(|name| find_runbook(config, name));
                export::post_mortem(&record, runbook.as_ref(), chrono::Utc::now())
            };
            match output {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|err| {
                        IncidentError::Store(crate::store::StoreError::DataDir {
                            path: path.clone(),
                            reason: err.to_string(),
                        })
                    })?;
                    println!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
        }
        IncidentCommand::Runbooks | IncidentCommand::Runbook { .. } | IncidentCommand::CheckRunbook { .. } => {}
    }
    Ok(())
}

/// A runbook by name (its id) or title, in any case, among the configured and built-in ones.
pub fn find_runbook(config: &Config, name: &str) -> Option<Runbook> {
    let runbooks = runbook::load_all(config).0;
    Runbook::find(&runbooks, name).cloned()
}

/// Ticking, skipping or noting a step the incident's runbook does not have is
/// refused before anything is written, as is any step when there is no runbook.
fn require_step(config: &Config, record: &IncidentRecord, step: &str) -> Result<(), IncidentError> {
    let Some(name) = record.incident.runbook.as_deref() else {
        return Err(IncidentError::NoSuchStep {
            runbook: "(none: the incident has no runbook)".into(),
            step: step.into(),
        });
    };
    match find_runbook(config, name) {
        Some(runbook) if runbook.steps().any(|(key, _, _)| key == step) => Ok(()),
        Some(runbook) => Err(IncidentError::NoSuchStep { runbook: runbook.name, step: step.to_string() }),
        None => Err(IncidentError::NoSuchStep { runbook: format!("{name} (not found)"), step: step.to_string() }),
    }
}

/// Why `export` without an id has nothing to write, pointing at the latest closed incident.
fn nothing_to_export(store: &Store) -> IncidentError {
    match record::list(store).ok().and_then(|all| all.into_iter().next()) {
        Some(latest) => IncidentError::NothingToExport(format!(
            "no incident is open, so there is nothing to export; the latest is #{} \"{}\": \
             `firstwatch incident export {}`",
            latest.id, latest.title, latest.id
        )),
        None => IncidentError::NothingToExport("no incident has been recorded, so there is nothing to export".into()),
    }
}

fn print_status(config: &Config, record: &IncidentRecord) {
    let incident = &record.incident;
    let end = incident.closed_at.unwrap_or_else(chrono::Utc::now);
    println!(
        "#{} {} {}  T+{}  ({}, {})",
        incident.id,
        incident.severity.label(),
        incident.title,
        export::duration(end - incident.opened_at),
        incident.severity.meaning(),
        incident.severity.response_target()
    );
    println!("opened {} by {}", incident.opened_at.format("%Y-%m-%d %H:%M:%S UTC"), incident.opened_by);
    if let Some(closed) = incident.closed_at {
        println!(
            "closed {} by {}",
            closed.format("%Y-%m-%d %H:%M:%S UTC"),
            incident.closed_by.as_deref().unwrap_or("?")
        );
    }
    let milestones = super::milestone::Milestones::from_events(&record.events);
    if !milestones.reached().is_empty() {
        let reached: Vec<String> = milestones
            .reached()
            .iter()
            .map(|(milestone, at)| format!("{} T+{}", milestone.label(), export::duration(*at - incident.opened_at)))
            .collect();
        println!("milestones: {}", reached.join(", "));
    }
    if let Some(runbook) = incident.runbook.as_deref().and_then(|name| find_runbook(config, name)) {
        let checklist = Checklist::from_events(&record.events);
        println!("\n{}", runbook.title);
        for (key, _, step) in runbook.steps() {
            println!("  {} {key} {}", checklist.state(&key).mark(), step.text);
        }
    }
    println!("\ntimeline (checks folded; `status --json` has every entry):");
    for row in timeline::fold_timeline(&record.events) {
        match row {
            TimelineRow::Human(index) => {
                let event = &record.events[index];
                let step = event.step.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default();
                println!(
                    "  {} {}{} {}: {}",
                    event.at.format("%H:%M:%S"),
                    event.kind.as_str(),
                    step,
                    event.who,
                    event.text.replace('\n', " / ")
                );
            }
            TimelineRow::Machine(fold) => {
                let at = fold.last_at(&record.events);
                println!("  {} {}: {}", at.format("%H:%M:%S"), fold.source, fold.summary(incident.opened_at));
            }
        }
    }
}

fn list_runbooks(config: &Config) -> ExitCode {
    let (runbooks, problems) = runbook::load_all(config);
    for runbook in &runbooks {
        println!("{:<20} {:>2} steps  {}", runbook.name, runbook.step_count(), runbook.title);
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn show_runbook(config: &Config, name: &str) -> ExitCode {
    let Some(runbook) = find_runbook(config, name) else {
        eprintln!("firstwatch incident: no runbook named `{name}` (see `firstwatch incident runbooks`)");
        return ExitCode::from(1);
    };
    println!("{}", runbook.title);
    for (key, phase, step) in runbook.steps() {
        if key.ends_with(".1") {
            let deadline = phase.deadline.map(|d| format!(" (by T+{} min)", d.as_secs() / 60)).unwrap_or_default();
            println!("\n{}{deadline}", phase.title);
        }
        let link = match &step.kind {
            runbook::StepKind::Action(name) => format!("  -> action `{name}`"),
            runbook::StepKind::Check(name) => format!("  -> check `{name}`"),
            _ => String::new(),
        };
        println!("  {key} {}{link}", step.text);
    }
    ExitCode::SUCCESS
}

fn check_runbook(path: &std::path::Path) -> ExitCode {
    match runbook::load_file(path) {
        Ok(runbook) => {
            println!("{}: ok, {} phases, {} steps", path.display(), runbook.phases.len(), runbook.step_count());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(2)
        }
    }
}

/// `firstwatch runbook`: the runbooks on their own, for writing and checking them.
#[derive(Debug, clap::Args)]
pub struct RunbookArgs {
    #[command(subcommand)]
    command: RunbookCommand,
}

#[derive(Debug, clap::Subcommand)]
enum RunbookCommand {
    /// List the runbooks (configured and built in).
    List,
    /// Print a runbook's phases and steps.
    Show { name: String },
    /// Check a runbook file; reports problems with line numbers (exit 2 when it has any).
    Check { path: PathBuf },
}

pub fn run_runbook(config: Config, args: RunbookArgs, _global: &Global) -> ExitCode {
    match args.command {
        RunbookCommand::List => list_runbooks(&config),
        RunbookCommand::Show { name } => show_runbook(&config, &name),
        RunbookCommand::Check { path } => check_runbook(&path),
    }
}
