//! `firstwatch action`: list the configured actions and run one after confirming it.

use super::Refusal;
use super::execute::{ActionContext, Progress};
use super::runner::{self, Stream};
use super::spec::{ActionSpec, Risk};
use crate::cli::Global;
use crate::config::Config;
use crate::ops::confirm;
use crate::ops::{self, Job};
use crate::store::Store;
use crate::util::identity::Identity;
use clap::Subcommand;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

const ACTION_HELP: &str = "\
`firstwatch action NAME` shows what will run and asks you to type the target's name
(`y` for a low-risk action). Without a terminal it refuses unless given --yes or
--confirm TARGET. Every attempt, refused or not, is written to the audit log.

After a redeploy or rollback with `verify` checks, the checks are re-run every
10 s for the whole `watch` window (default 5m); one failing round fails it. If
the action names `on_failed_verify`, that action then runs under the same
confirmation (the prompt shows it) and its outcome is printed after the first.

Exit codes:
  0    done (and verified, where the action verifies, or its watch was
       superseded by a newer operation on the same target)
  N    the command's own exit code when it fails
  2    bad config, unknown action or missing --set value
  3    refused: read-only, not confirmed, target busy, audit log unwritable
  4    ran, but a check failed inside the watch window; an on_failed_verify
       action, if declared, was run and its outcome printed (it does not
       change this code)
  5    detached (Ctrl-C, hang-up or SIGTERM here): the operation goes on;
       see `firstwatch ops list`, `ops follow ID`, `ops cancel ID`
  6    ran, but could not verify: a check could not be run, or the watch was
       cancelled before its window ended; no on_failed_verify action runs
  124  timed out (the process group was stopped)
  127  could not start
  130  cancelled (`firstwatch ops cancel`)";

/// Exit code for a refusal: read-only, not confirmed, target busy, audit log unwritable.
pub const EXIT_REFUSED: u8 = 3;
/// Exit code when the command succeeded but its service did not come back.
pub const EXIT_UNVERIFIED: u8 = 4;
/// Exit code when this terminal stopped following (Ctrl-C, hang-up) and the operation goes on.
pub const EXIT_DETACHED: u8 = 5;
/// Exit code when the command succeeded but its watch could not tell whether the service came back.
pub const EXIT_NOT_VERIFIED: u8 = 6;

/// List the configured actions, or run one after confirming it.
///
/// `firstwatch action NAME` (or `action run NAME`) shows what will run and asks
/// you to type the target's name (`y` for a low-risk action). When stdin is not
/// a terminal it refuses unless given `--yes` or `--confirm TARGET`. Every
/// attempt, refused or not, is written to the audit log.
///
/// The operation runs under a supervisor of its own: if this terminal goes
/// away, it still runs to its end and is audited.
///
/// Exit codes: 0 done (and verified); the command's own exit code when it
/// fails; 2 bad config or unknown action; 3 refused (read-only, not confirmed,
/// target busy, audit log unwritable); 4 ran but verification failed (any
/// `on_failed_verify` action was run and reported); 5 detached (the
/// operation goes on); 6 ran but could not verify (a check could not run);
/// 124 timed out; 127 could not start; 130 cancelled.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, after_help = ACTION_HELP)]
pub struct ActionArgs {
    #[command(subcommand)]
    command: Option<ActionCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum ActionCommand {
    /// Every configured action with its target, risk and command.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Run an action after confirming it.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The action's name, as in `[[action]] name`.
    name: Option<String>,
    /// Record and show what would run, without running it.
    #[arg(long)]
    dry_run: bool,
    /// Confirm without a prompt (for scripts).
    #[arg(long, short)]
    yes: bool,
    /// Confirm by naming the target, as the prompt would ask.
    #[arg(long, value_name = "TARGET")]
    confirm: Option<String>,
    /// Fill a `{KEY}` placeholder of the action's command; repeat for several.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    set: Vec<(String, String)>,
}

fn parse_set(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

pub fn run(config: Config, args: ActionArgs, global: &Global) -> ExitCode {
    match args.command {
        Some(ActionCommand::List { json }) => list(&config, json),
        Some(ActionCommand::Run(run_args)) => run_action(config, run_args, global),
        None if args.run.name.is_some() => run_action(config, args.run, global),
        None => list(&config, false),
    }
}

fn list(config: &Config, json: bool) -> ExitCode {
    let specs = ActionSpec::all(config);
    if json {
        println!("{}", serde_json::to_string_pretty(&specs).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    if specs.is_empty() {
        println!("no actions configured (add [[action]] entries to the config)");
    }
    for spec in specs {
        let risk = match spec.risk {
            Risk::High => "high",
            Risk::Low => "low",
        };
        println!(
            "{:<24} {:<9} target {:<12} risk {:<4}  {}",
            spec.name,
            spec.kind,
            spec.target,
            risk,
            spec.argv_line()
        );
    }
    ExitCode::SUCCESS
}

fn run_action(config: Config, args: RunArgs, global: &Global) -> ExitCode {
    let name = args.name.clone().unwrap_or_default();
    let Some(spec) = ActionSpec::find(&config, &name) else {
        let known: Vec<String> = ActionSpec::all(&config).into_iter().map(|s| s.name).collect();
        eprintln!(
            "firstwatch action: no action named `{name}`; known: {}",
            if known.is_empty() { "none".into() } else { known.join(", ") }
        );
        return ExitCode::from(2);
    };
    let spec = match spec.fill(&args.set.iter().cloned().collect()) {
        Ok(spec) => spec,
        Err(err) => {
            eprintln!("firstwatch action: {err}");
            return ExitCode::from(2);
        }
    };
    let store = match Store::for_config(&config) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("firstwatch action: refused: the audit log cannot be opened: {err}");
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    ops::cli::report_abandoned(&store, &Identity::current());
    let read_only = global.read_only || config.settings.read_only;
    let context = ActionContext {
        config: Arc::new(config),
        store: Some(store),
        who: Identity::current(),
        grace: runner::GRACE,
        superseded: None,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("firstwatch action: {err}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(confirm_and_run(context, spec, args, read_only))
}

async fn confirm_and_run(context: ActionContext, spec: ActionSpec, args: RunArgs, read_only: bool) -> ExitCode {
    let request = format!("from the command line{}", if args.dry_run { " (dry run)" } else { "" });
    if let Err(err) = context.audit("request", Some(&spec), Some(request)).await {
        eprintln!("firstwatch action: refused: the audit log cannot be written: {err}");
        return ExitCode::from(EXIT_REFUSED);
    }
    let confirmed = if read_only {
        Err(Refusal::ReadOnly)
    } else if let Some(typed) = &args.confirm {
        confirm::check(&spec, typed, false).map(|c| c.dry_if(args.dry_run))
    } else if args.dry_run {
        confirm::dry_run(&spec, false)
    } else if args.yes {
        confirm::by_flag(&spec, false)
    } else if std::io::stdin().is_terminal() {
        describe(&context.config, &spec);
        match prompt(&spec) {
            Some(typed) if typed.trim().is_empty() => {
                let _ = context.audit("cancelled", Some(&spec), Some("nothing typed at the prompt".into())).await;
                eprintln!("cancelled; nothing was run");
                return ExitCode::from(EXIT_REFUSED);
            }
            Some(typed) => confirm::check(&spec, &typed, false),
            None => Err(Refusal::NoTerminal),
        }
    } else {
        Err(Refusal::NoTerminal)
    };
    let confirmed = match confirmed {
        Ok(confirmed) => confirmed,
        Err(refusal) => {
            context.refuse(&spec, &refusal).await;
            eprintln!("firstwatch action: refused: {refusal}; nothing was run");
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    if confirmed.dry_run() {
        context.run(confirmed, runner::CancelSignal::never(), print_progress).await;
        println!("dry run: would run {} in {}", spec.argv_line(), spec.dir.display());
        return ExitCode::SUCCESS;
    }
    let Some(store) = context.store.clone() else { return ExitCode::from(EXIT_REFUSED) };
    let job = Job::action(&confirmed, &context.config, store.path().to_path_buf(), context.who.clone(), runner::GRACE);
    let row = match ops::launch_and_follow(job, &store, ops::cli::print_line, ops::stop_signal()).await {
        Ok(ops::Followed::Ended(Some(row))) => row,
        Ok(ops::Followed::Ended(None)) => {
            eprintln!("firstwatch action: the operation ended but its record cannot be read; see `firstwatch audit`");
            return ExitCode::from(1);
        }
        Ok(ops::Followed::Detached { id, supervisor }) => {
            ops::cli::say_detached(id, supervisor);
            return ExitCode::from(EXIT_DETACHED);
        }
        Err(why) => {
            eprintln!("firstwatch action: refused: {why}; nothing was run");
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    let mut text = row.detail.clone().unwrap_or_default();
    if let Some(verification) = &row.verification {
        text.push_str("; ");
        text.push_str(verification);
    }
    let _ = writeln!(std::io::stderr(), "{}: {text}", spec.name);
    if row.exit == Some(i64::from(EXIT_UNVERIFIED))
        && spec.on_failed_verify.is_none()
        && let Some(rollback) = &spec.rollback_with
    {
        let _ =
            writeln!(std::io::stderr(), "the service did not come back; consider `firstwatch action \"{rollback}\"`");
    }
    ExitCode::from(row.exit.and_then(|code| u8::try_from(code).ok()).unwrap_or(1))
}

fn print_progress(progress: Progress) {
    match progress {
        Progress::Started { argv } => eprintln!("running: {argv}"),
        Progress::Spawned { .. } => {}
        Progress::Output(line) => match line.stream {
            Stream::Stdout => println!("{}", line.text),
            Stream::Stderr => eprintln!("{}", line.text),
        },
        Progress::Lingering { processes, for_up_to } => {
            eprintln!("{}", super::execute::lingering_line(processes, for_up_to))
        }
        Progress::Finished { .. } => {}
        Progress::Verdict { check, healthy, summary } => {
            eprintln!("{}", super::execute::verdict_line(&check, healthy, &summary));
        }
    }
}

/// What the operator is about to confirm, as the console's dialog shows it:
/// with the watch and the follow-up, so the one confirmation covers both.
fn describe(config: &Config, spec: &ActionSpec) {
    eprintln!("action   {} ({})", spec.name, spec.kind);
    eprintln!("target   {}", spec.target);
    eprintln!("host     {}", crate::util::identity::hostname());
    eprintln!("runs     {}", spec.argv_line());
    eprintln!("in       {}", spec.dir.display());
    eprintln!("timeout  {} s", spec.timeout.as_secs());
    if let Some(watch) = spec.watch_summary() {
        eprintln!("watch    {watch}");
    }
    if let Some(follow_up) = spec.follow_up_summary(&ActionSpec::all(config)) {
        eprintln!("if verification fails: {follow_up}");
    }
}

/// Asks for the confirmation word. Keys typed before the question was asked
/// (`orders⏎` typed ahead while the details printed) must not answer it, so
/// input already waiting on the terminal is thrown away first.
fn prompt(spec: &ActionSpec) -> Option<String> {
    let question = match spec.risk {
        Risk::High => format!("type the target name `{}` to run it (enter alone cancels): ", spec.target),
        Risk::Low => "run it? type y (enter alone cancels): ".to_string(),
    };
    match crate::util::prompt::ask(&question) {
        Ok(answer) => answer,
        // Without the flush, type-ahead could answer: refuse rather than ask.
        Err(why) => {
            eprintln!("firstwatch action: {why}");
            None
        }
    }
}
