//! `firstwatch silence add|list|expire`: Alertmanager silences as confirmed,
//! audited operations, carried by a supervisor like every other change.

use super::list::{self, JsonRow};
use super::log::Log;
use super::plan::{self, Batch, Draft, Expiry};
use crate::action::Refusal;
use crate::cli::Global;
use crate::config::units::{HumanDuration, format_duration};
use crate::config::{Config, EngineKind};
use crate::engine::alertmanager::{self, Silence};
use crate::engine::matcher::Matcher;
use crate::engine::{Engine, Engines};
use crate::ops::confirm;
use crate::ops::{self, Job};
use crate::store::Store;
use crate::util::identity::Identity;
use crate::util::sanitize::sanitize_str;
use chrono::{DateTime, Utc};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

const SILENCE_HELP: &str = "\
`silence add` shows the matchers, when the silence starts and ends, and how many
of the alerts firing now it would silence, then asks you to type the engine's
name. `silence expire` shows the silence and asks for its id (the first 8
characters are enough). Without a terminal both refuse unless given --yes or
--confirm. A comment is required; matchers that would silence every alert
(no name=\"value\" equality, or every alert firing now) are refused unless
--force. created_by is you, as user@host. Every attempt, refused or not, is in
the audit log, and on the open incident's timeline.

The request runs under a supervisor like any operation (`firstwatch ops list`);
`add` prints the new silence's id on stdout.

Exit codes:
  0  done (list: every engine read)
  1  the engine failed the request; no such silence; it is already expired
  2  bad usage: a matcher, duration or time that does not parse; no such engine
  3  refused: read-only, not confirmed, no comment, too broad, audit log
     unwritable (list: an engine could not be read)
  5  detached (Ctrl-C, hang-up here): the request goes on; see `firstwatch ops list`";

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_REFUSED: u8 = 3;
pub const EXIT_DETACHED: u8 = 5;

/// Create, list and expire Alertmanager silences.
#[derive(Debug, clap::Args)]
#[command(after_help = SILENCE_HELP)]
pub struct SilenceArgs {
    #[command(subcommand)]
    command: SilenceCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SilenceCommand {
    /// Create a silence, after showing what it would silence and confirming it.
    Add(AddArgs),
    /// Every silence (active, pending, expired) with its time left.
    List {
        /// Only this Alertmanager.
        #[arg(long, value_name = "NAME")]
        engine: Option<String>,
        /// JSON objects: id, engine, state, matchers, starts_at, ends_at, created_by, comment.
        #[arg(long)]
        json: bool,
    },
    /// Expire a silence now, after confirming it.
    Expire {
        /// The silence's id (or its first 8 characters, as `list` shows it).
        id: String,
        /// The Alertmanager that holds it (default: the only one, else the one that has it).
        #[arg(long, value_name = "NAME")]
        engine: Option<String>,
        /// Confirm by naming the silence's id (its first 8 characters suffice), as the prompt would ask.
        #[arg(long, value_name = "ID")]
        confirm: Option<String>,
        /// Confirm without a prompt (for scripts).
        #[arg(long, short)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// The Alertmanager (default: the only one configured).
    #[arg(long, value_name = "NAME")]
    engine: Option<String>,
    /// A label matcher: name="value", name!="value", name=~"regex" or name!~"regex"; repeat for several.
    #[arg(long = "matcher", short = 'm', value_name = "MATCHER", required = true)]
    matchers: Vec<String>,
    /// How long it lasts.
    #[arg(long, default_value = "2h", value_name = "DURATION")]
    duration: HumanDuration,
    /// Why: required, shown to whoever finds the alert silenced.
    #[arg(long, value_name = "TEXT")]
    comment: Option<String>,
    /// When it starts, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    starts: Option<String>,
    /// Create it even if its matchers would silence every alert.
    #[arg(long)]
    force: bool,
    /// Confirm by naming the engine, as the prompt would ask.
    #[arg(long, value_name = "ENGINE")]
    confirm: Option<String>,
    /// Confirm without a prompt (for scripts).
    #[arg(long, short)]
    yes: bool,
}

pub fn run(config: Config, args: SilenceArgs, global: &Global) -> ExitCode {
    let read_only = global.read_only || config.settings.read_only;
    let (engines, problems) = Engines::from_config(&config);
    for problem in problems {
        eprintln!("firstwatch silence: {problem}");
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("firstwatch silence: cannot start a runtime");
        return ExitCode::from(EXIT_FAILED);
    };
    let config = Arc::new(config);
    match args.command {
        SilenceCommand::Add(add) => runtime.block_on(add_command(&config, &engines, add, read_only)),
        SilenceCommand::List { engine, json } => runtime.block_on(list_command(&engines, engine.as_deref(), json)),
        SilenceCommand::Expire { id, engine, confirm, yes } => {
            let answer = Answer { typed: confirm, yes, read_only };
            runtime.block_on(expire_command(&config, &engines, &id, engine.as_deref(), answer))
        }
    }
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("firstwatch silence: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// The store for the audit log; without it nothing may be done.
pub(crate) fn open_store(config: &Config, who: &Identity) -> Result<Store, ExitCode> {
    match Store::for_config(config) {
        Ok(store) => {
            ops::cli::report_abandoned(&store, who);
            Ok(store)
        }
        Err(err) => {
            eprintln!("firstwatch silence: refused: the audit log cannot be opened: {err}");
            Err(ExitCode::from(EXIT_REFUSED))
        }
    }
}

/// How the operator confirms on the command line.
pub(crate) struct Answer {
    pub typed: Option<String>,
    pub yes: bool,
    pub read_only: bool,
}

async fn add_command(config: &Arc<Config>, engines: &Engines, args: AddArgs, read_only: bool) -> ExitCode {
    let engine = match engines.pick(args.engine.as_deref(), EngineKind::Alertmanager) {
        Ok(engine) => engine,
        Err(why) => return usage(why),
    };
    let matchers = match args.matchers.iter().map(|text| Matcher::parse(text)).collect::<Result<Vec<_>, _>>() {
        Ok(matchers) => matchers,
        Err(why) => return usage(format!("--matcher {why}")),
    };
    let starts_at = match args.starts.as_deref().map(parse_time).transpose() {
        Ok(starts) => starts,
        Err(why) => return usage(why),
    };
    let who = Identity::current();
    let store = match open_store(config, &who) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let log = Log::new(&store, &who, plan::ADD, engine.name());
    let draft = Draft {
        engine: engine.name().to_string(),
        matchers,
        starts_at,
        duration: args.duration.get(),
        comment: args.comment.clone().unwrap_or_default(),
        force: args.force,
    };
    if let Err(err) = log.audit("request", format!("from the command line: {}", plan::matchers_text(&draft.matchers))) {
        eprintln!("firstwatch silence: refused: the audit log cannot be written: {err}");
        return ExitCode::from(EXIT_REFUSED);
    }
    let alerts = alertmanager::alerts(&engine).await.map_err(|err| sanitize_str(&err.to_string()));
    let now = Utc::now();
    let preview = draft.preview(alerts.as_deref().map_err(Clone::clone), now);
    show_preview(&preview);
    let batch = match preview.checked(&plan::created_by(&who), now) {
        Ok(batch) => batch,
        Err(why) => {
            log.refused(&why);
            eprintln!("firstwatch silence: refused: {why}; nothing was created");
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    let answer = Answer { typed: args.confirm, yes: args.yes, read_only };
    launch_batch(config, &store, &who, &log, &batch, answer).await
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|err| format!("--starts `{text}` is not an RFC 3339 time ({err}); write e.g. 2026-03-29T01:30:00Z"))
}

fn show_preview(preview: &plan::Preview) {
    eprintln!("engine    {}", preview.engine);
    for matcher in &preview.matchers {
        eprintln!("matcher   {}", sanitize_str(&matcher.to_string()));
    }
    eprintln!("starts    {}", preview.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    eprintln!("ends      {}", preview.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    eprintln!("duration  {}", format_duration(preview.duration()));
    match &preview.reach {
        Ok(reach) => eprintln!("reach     {}", reach.describe()),
        Err(why) => eprintln!("reach     unknown: the alerts could not be read ({why})"),
    }
    if let Some(why) = &preview.broad {
        eprintln!("broad     {why}{}", if preview.force { " (forced)" } else { "" });
    }
    eprintln!("comment   {}", sanitize_str(&preview.comment));
}

/// Confirms `batch` (typed engine name, `--confirm ENGINE` or `--yes`) and hands it
/// to a supervisor, following its output; every step is audited.
pub(crate) async fn launch_batch(
    config: &Config,
    store: &Store,
    who: &Identity,
    log: &Log,
    batch: &Batch,
    answer: Answer,
) -> ExitCode {
    let question = format!("type the engine name `{}` to create it (enter alone cancels): ", batch.engine());
    let ask = Asked { question, flag: "--confirm ENGINE", unchanged: "nothing was created" };
    let confirmed = match confirmation(
        log,
        &answer,
        &ask,
        |typed| confirm::check(batch, typed, false),
        || confirm::by_flag(batch, false),
    ) {
        Ok(confirmed) => confirmed,
        Err(code) => return code,
    };
    if let Err(err) = log.audit("confirmed", batch.summary()) {
        eprintln!("firstwatch silence: refused: the audit log cannot be written: {err}");
        return ExitCode::from(EXIT_REFUSED);
    }
    let job = Job::silences(&confirmed, config, store.path().to_path_buf(), who.clone());
    follow(job, store).await
}

/// Launches a silence job and follows it to its end; the exit code says how it went.
async fn follow(job: Job, store: &Store) -> ExitCode {
    match ops::launch_and_follow(job, store, ops::cli::print_line, ops::stop_signal()).await {
        Ok(ops::Followed::Ended(Some(row))) => {
            ExitCode::from(row.exit.and_then(|code| u8::try_from(code).ok()).unwrap_or(EXIT_FAILED))
        }
        Ok(ops::Followed::Ended(None)) => {
            eprintln!("firstwatch silence: the operation ended but its record cannot be read; see `firstwatch audit`");
            ExitCode::from(EXIT_FAILED)
        }
        Ok(ops::Followed::Detached { id, supervisor }) => {
            ops::cli::say_detached(id, supervisor);
            ExitCode::from(EXIT_DETACHED)
        }
        Err(why) => {
            eprintln!("firstwatch silence: refused: {why}; nothing was sent");
            ExitCode::from(EXIT_REFUSED)
        }
    }
}

async fn list_command(engines: &Engines, only: Option<&str>, json: bool) -> ExitCode {
    let listing = match list::list(engines, only).await {
        Ok(listing) => listing,
        Err(why) => return usage(why),
    };
    if json {
        let rows: Vec<JsonRow> = listing.rows.iter().map(JsonRow::of).collect();
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        if listing.rows.is_empty() && listing.errors.is_empty() {
            println!("no silences");
        }
        let now = Utc::now();
        for row in &listing.rows {
            let silence = &row.silence;
            println!(
                "{:<36} {:<10} {:<8} {:<20} {}  by {}: {}",
                sanitize_str(&silence.id),
                sanitize_str(&row.engine),
                sanitize_str(&silence.status.state),
                list::time_left(silence, now),
                sanitize_str(&silence.matchers_text()),
                sanitize_str(&silence.created_by),
                sanitize_str(&silence.comment),
            );
        }
    }
    for error in &listing.errors {
        eprintln!("firstwatch silence: {error}");
    }
    if listing.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REFUSED) }
}

/// The engine that holds silence `id`: the one named, the only Alertmanager, or the one that has it;
/// and the silence itself (found by its id or its first characters).
async fn find_silence(
    engines: &Engines,
    named: Option<&str>,
    id: &str,
) -> Result<(Arc<Engine>, Silence), (u8, String)> {
    let candidates: Vec<Arc<Engine>> = match named {
        Some(name) => vec![engines.pick(Some(name), EngineKind::Alertmanager).map_err(|why| (EXIT_USAGE, why))?],
        None => engines.of_kind(EngineKind::Alertmanager).cloned().collect(),
    };
    if candidates.is_empty() {
        let why = engines.pick(None, EngineKind::Alertmanager).err().unwrap_or_default();
        return Err((EXIT_USAGE, why));
    }
    let mut errors = Vec::new();
    let mut found = Vec::new();
    for engine in candidates {
        match alertmanager::silences(&engine).await {
            Ok(silences) => {
                let exact = silences.iter().find(|s| s.id == id).cloned();
                let by_prefix: Vec<Silence> = silences.into_iter().filter(|s| s.id.starts_with(id)).collect();
                match (exact, by_prefix.as_slice()) {
                    (Some(silence), _) => found.push((engine.clone(), silence)),
                    (None, [one]) if id.len() >= 8 => found.push((engine.clone(), one.clone())),
                    (None, []) => {}
                    (None, [_]) => errors.push(format!("`{id}` is too short to name a silence; give 8 characters")),
                    (None, _) => {
                        errors.push(format!("`{id}` names several silences on {}; give more of it", engine.name()))
                    }
                }
            }
            Err(err) => errors.push(sanitize_str(&err.to_string())),
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 if errors.is_empty() => {
            Err((EXIT_FAILED, format!("no silence `{}` (see `firstwatch silence list`)", sanitize_str(id))))
        }
        0 => Err((EXIT_FAILED, errors.join("; "))),
        _ => Err((EXIT_USAGE, format!("`{}` is on several Alertmanagers; name one with --engine", sanitize_str(id)))),
    }
}

async fn expire_command(
    config: &Arc<Config>,
    engines: &Engines,
    id: &str,
    named: Option<&str>,
    answer: Answer,
) -> ExitCode {
    let who = Identity::current();
    let store = match open_store(config, &who) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let (engine, silence) = match find_silence(engines, named, id).await {
        Ok(found) => found,
        Err((code, why)) => {
            let target = named.unwrap_or("alertmanager");
            Log::new(&store, &who, plan::EXPIRE, target).refused(&format!("silence {}: {why}", sanitize_str(id)));
            eprintln!("firstwatch silence: {why}");
            return ExitCode::from(code);
        }
    };
    let log = Log::new(&store, &who, plan::EXPIRE, engine.name());
    let expiry = Expiry::of(engine.name(), &silence);
    if let Err(err) = log.audit("request", format!("from the command line: silence {}", expiry.id)) {
        eprintln!("firstwatch silence: refused: the audit log cannot be written: {err}");
        return ExitCode::from(EXIT_REFUSED);
    }
    eprintln!("silence   {} on {}", sanitize_str(&silence.id), engine.name());
    eprintln!("matchers  {}", sanitize_str(&silence.matchers_text()));
    eprintln!("state     {} ({})", sanitize_str(&silence.status.state), list::time_left(&silence, Utc::now()));
    eprintln!("by        {}: {}", sanitize_str(&silence.created_by), sanitize_str(&silence.comment));
    if silence.status.state == "expired" {
        let why = format!("silence {} is already expired", expiry.id);
        log.refused(&why);
        eprintln!("firstwatch silence: {why}");
        return ExitCode::from(EXIT_FAILED);
    }
    let question = format!("type the silence id `{}` to expire it (enter alone cancels): ", expiry.short_id());
    let ask = Asked { question, flag: "--confirm ID", unchanged: "the silence stays" };
    let confirmed = match confirmation(
        &log,
        &answer,
        &ask,
        |typed| confirm::check(&expiry, typed, false),
        || confirm::by_flag(&expiry, false),
    ) {
        Ok(confirmed) => confirmed,
        Err(code) => return code,
    };
    if let Err(err) = log.audit("confirmed", format!("silence {}: {}", expiry.id, expiry.summary)) {
        eprintln!("firstwatch silence: refused: the audit log cannot be written: {err}");
        return ExitCode::from(EXIT_REFUSED);
    }
    let job = Job::expire_silence(&confirmed, config, store.path().to_path_buf(), who);
    follow(job, &store).await
}

/// The prompt of a confirmation at the terminal, and what is said when it is refused.
struct Asked {
    question: String,
    /// The flag that confirms without a terminal.
    flag: &'static str,
    /// What stays as it was when the answer is no.
    unchanged: &'static str,
}

/// The one confirmation step of `add` and `expire`: read-only, `--confirm`, `--yes`, or the
/// typed answer at a terminal. A refusal or a cancel is audited and said; `Err` is the exit.
fn confirmation<T>(
    log: &Log,
    answer: &Answer,
    asked: &Asked,
    typed: impl Fn(&str) -> Result<T, Refusal>,
    by_flag: impl Fn() -> Result<T, Refusal>,
) -> Result<T, ExitCode> {
    let confirmed = if answer.read_only {
        Err(Refusal::ReadOnly)
    } else if let Some(text) = &answer.typed {
        typed(text)
    } else if answer.yes {
        by_flag()
    } else if std::io::stdin().is_terminal() {
        match crate::util::prompt::ask(&asked.question) {
            Ok(Some(text)) if text.trim().is_empty() => {
                let _ = log.audit("cancelled", "nothing typed at the prompt");
                eprintln!("cancelled; {}", asked.unchanged);
                return Err(ExitCode::from(EXIT_REFUSED));
            }
            Ok(Some(text)) => typed(&text),
            Ok(None) => Err(Refusal::NoTerminal),
            Err(why) => {
                log.refused(&why);
                eprintln!("firstwatch silence: refused: {why}");
                return Err(ExitCode::from(EXIT_REFUSED));
            }
        }
    } else {
        Err(Refusal::NoTerminal)
    };
    confirmed.map_err(|refusal| {
        let why = match refusal {
            Refusal::NoTerminal => format!("not confirmed: stdin is not a terminal; pass --yes or {}", asked.flag),
            other => other.to_string(),
        };
        log.refused(&why);
        eprintln!("firstwatch silence: refused: {why}; {}", asked.unchanged);
        ExitCode::from(EXIT_REFUSED)
    })
}
