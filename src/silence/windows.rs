//! Silences for maintenance windows: each occurrence of a `[[window]]` with
//! `silence = [...]` in the coming days gets a pending silence with the
//! window's start and end, unless one with the same matchers already covers it.
//! Planning twice gives the same answer, so `schedule silences --apply` can run
//! from cron; the calendar uses the same test to mark windows silenced.

use super::cli::{Answer, launch_batch, open_store};
use super::list::same_matchers;
use super::log::Log;
use super::plan::{self, Batch};
use crate::config::Config;
use crate::config::units::HumanDuration;
use crate::engine::alertmanager::{self, NewSilence, Silence};
use crate::engine::matcher::Matcher;
use crate::schedule::{Plan, Span};
use crate::util::identity::Identity;
use crate::util::sanitize::sanitize_str;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::process::ExitCode;

/// Slack when comparing times: Alertmanager keeps what it is sent, but a start in the past becomes "now".
const SLACK: chrono::Duration = chrono::Duration::seconds(1);

/// One occurrence of a window that asks for a silence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    pub window: String,
    /// The occurrence; a silence for one already under way starts now.
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(serialize_with = "as_text")]
    pub matchers: Vec<Matcher>,
    /// The id of a silence that already covers it, if any.
    pub existing: Option<String>,
}

fn as_text<S: serde::Serializer>(matchers: &[Matcher], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(matchers.iter().map(ToString::to_string))
}

/// The silence among `silences` that covers `matchers` over `[starts_at, ends_at]`:
/// the same matchers, not expired, from no later than the start to no earlier than the end.
pub fn covering<'a>(
    silences: &'a [Silence],
    matchers: &[Matcher],
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> Option<&'a Silence> {
    silences.iter().find(|silence| {
        silence.status.state != "expired"
            && silence.starts_at <= starts_at + SLACK
            && silence.ends_at + SLACK >= ends_at
            && same_matchers(silence, matchers)
    })
}

/// Every window occurrence in `[now, now + within)` that asks for a silence, with the one covering it.
pub fn plan(calendar: &Plan, silences: &[Silence], now: DateTime<Utc>, within: chrono::Duration) -> Vec<Planned> {
    let mut planned: Vec<Planned> = calendar
        .windows
        .iter()
        .filter(|window| !window.silence.is_empty())
        .flat_map(|window| {
            window.spans(now, now + within).into_iter().map(move |Span { start, end }| {
                let starts_at = start.max(now);
                Planned {
                    window: window.name.clone(),
                    starts_at,
                    ends_at: end,
                    matchers: window.silence.clone(),
                    existing: covering(silences, &window.silence, starts_at, end).map(|s| s.id.clone()),
                }
            })
        })
        .collect();
    planned.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then_with(|| a.window.cmp(&b.window)));
    planned
}

/// The comment a window's silence carries.
pub fn comment(window: &str) -> String {
    format!("maintenance window `{window}` (firstwatch schedule silences)")
}

/// The silences still to create, as one batch for confirmation; `None` when every occurrence is covered.
pub fn batch(engine: &str, planned: &[Planned], created_by: &str) -> Option<Batch> {
    let missing: Vec<&Planned> = planned.iter().filter(|p| p.existing.is_none()).collect();
    if missing.is_empty() {
        return None;
    }
    let silences = missing
        .iter()
        .map(|p| NewSilence {
            matchers: p.matchers.clone(),
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            created_by: created_by.to_string(),
            comment: comment(&p.window),
        })
        .collect();
    let names: Vec<String> = missing
        .iter()
        .map(|p| format!("{} {}", p.window, p.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .collect();
    Some(Batch::scheduled(engine, silences, format!("{} window silences: {}", missing.len(), names.join(", "))))
}

/// `firstwatch schedule silences`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleSilencesArgs {
    /// Create the missing silences (without it, only print the plan).
    #[arg(long)]
    apply: bool,
    /// The Alertmanager (default: the only one configured).
    #[arg(long, value_name = "NAME")]
    engine: Option<String>,
    /// How far ahead to look.
    #[arg(long, default_value = "7d", value_name = "DURATION")]
    within: HumanDuration,
    /// Confirm by naming the engine.
    #[arg(long, value_name = "ENGINE")]
    confirm: Option<String>,
    /// Confirm without a prompt (for cron).
    #[arg(long, short)]
    yes: bool,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

/// Prints the plan, and with `--apply` creates what is missing as one confirmed operation.
pub fn run_schedule(config: &Config, args: ScheduleSilencesArgs, read_only: bool) -> ExitCode {
    use super::cli::{EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE};
    let calendar = Plan::from_config(config);
    if calendar.windows.iter().all(|w| w.silence.is_empty()) {
        println!("no [[window]] has silence = [...]; nothing to plan");
        return ExitCode::SUCCESS;
    }
    let (engines, problems) = crate::engine::Engines::from_config(config);
    for problem in problems {
        eprintln!("firstwatch schedule: {problem}");
    }
    let engine = match engines.pick(args.engine.as_deref(), crate::config::EngineKind::Alertmanager) {
        Ok(engine) => engine,
        Err(why) => {
            eprintln!("firstwatch schedule: {why}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let Ok(within) = chrono::Duration::from_std(args.within.get()) else {
        eprintln!("firstwatch schedule: --within {} is too long", args.within);
        return ExitCode::from(EXIT_USAGE);
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("firstwatch schedule: cannot start a runtime");
        return ExitCode::from(EXIT_FAILED);
    };
    runtime.block_on(async {
        let silences = match alertmanager::silences(&engine).await {
            Ok(silences) => silences,
            Err(err) => {
                eprintln!("firstwatch schedule: {}", sanitize_str(&err.to_string()));
                return ExitCode::from(EXIT_FAILED);
            }
        };
        let now = Utc::now();
        let planned = plan(&calendar, &silences, now, within);
        print_plan(&planned, config.settings.zone(), args.json);
        let who = Identity::current();
        let Some(batch) = batch(engine.name(), &planned, &plan::created_by(&who)) else {
            if !args.json {
                println!("every window in the next {} has its silence", args.within);
            }
            return ExitCode::SUCCESS;
        };
        if !args.apply {
            if !args.json {
                println!("{} to create; run again with --apply to create them", batch.silences().len());
            }
            return ExitCode::SUCCESS;
        }
        let store = match open_store(config, &who) {
            Ok(store) => store,
            Err(code) => return code,
        };
        let log = Log::new(&store, &who, plan::SCHEDULED, engine.name());
        if let Err(err) = log.audit("request", format!("from the command line: {}", batch.summary())) {
            eprintln!("firstwatch schedule: refused: the audit log cannot be written: {err}");
            return ExitCode::from(EXIT_REFUSED);
        }
        let answer = Answer { typed: args.confirm, yes: args.yes, read_only };
        launch_batch(config, &store, &who, &log, &batch, answer).await
    })
}

fn print_plan(planned: &[Planned], zone: crate::util::zone::Zone, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(planned).unwrap_or_default());
        return;
    }
    for p in planned {
        let state = match &p.existing {
            Some(id) => format!("silenced ({})", plan::short_id(id)),
            None => "to create".into(),
        };
        println!(
            "{:<20} {} - {}  {:<16} {}",
            sanitize_str(&p.window),
            p.starts_at.with_timezone(&zone).format("%a %d %b %H:%M"),
            p.ends_at.with_timezone(&zone).format("%a %d %b %H:%M %Z"),
            state,
            sanitize_str(&plan::matchers_text(&p.matchers)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::alertmanager::SilenceStatus;

    fn calendar() -> Plan {
        let config = crate::config::load_str(
            "[[window]]\nname = \"nightly\"\ncron = \"0 3 * * *\"\nduration = \"1h\"\nsilence = ['job=\"api\"']\n\
             [[window]]\nname = \"plain\"\ncron = \"0 4 * * *\"\nduration = \"1h\"\n",
            std::path::Path::new("/srv/fw.toml"),
        )
        .unwrap();
        Plan::from_config(&config)
    }

    fn existing(planned: &Planned, state: &str) -> Silence {
        Silence {
            id: format!("id-{}", planned.starts_at.timestamp()),
            matchers: planned.matchers.iter().map(Matcher::to_api).collect(),
            starts_at: planned.starts_at,
            ends_at: planned.ends_at,
            created_by: "cron@h".into(),
            comment: comment(&planned.window),
            status: SilenceStatus { state: state.into() },
        }
    }

    #[test]
    fn each_coming_occurrence_is_planned_once_and_covered_ones_are_left() {
        let now = DateTime::parse_from_rfc3339("2026-03-02T03:30:00Z").unwrap().to_utc();
        let first = plan(&calendar(), &[], now, chrono::Duration::days(2));
        let starts: Vec<String> = first.iter().map(|p| p.starts_at.to_rfc3339()).collect();
        assert_eq!(starts, ["2026-03-02T03:30:00+00:00", "2026-03-03T03:00:00+00:00", "2026-03-04T03:00:00+00:00"]);
        assert!(first.iter().all(|p| p.window == "nightly"), "a window without silence plans nothing");
        assert_eq!(batch("am", &first, "ana@h").unwrap().silences().len(), 3);

        // What Alertmanager holds after --apply: the same plan then finds everything covered.
        let created: Vec<Silence> = first.iter().map(|p| existing(p, "pending")).collect();
        let later = now + chrono::Duration::minutes(5);
        let second = plan(&calendar(), &created, later, chrono::Duration::days(2));
        assert!(second.iter().take(3).all(|p| p.existing.is_some()), "{second:?}");
        assert!(batch("am", &second[..3], "ana@h").is_none());

        let expired: Vec<Silence> = first.iter().map(|p| existing(p, "expired")).collect();
        assert!(plan(&calendar(), &expired, now, chrono::Duration::days(2)).iter().all(|p| p.existing.is_none()));
        let mut other = existing(&first[1], "pending");
        other.matchers = vec![Matcher::parse("job=\"web\"").unwrap().to_api()];
        assert!(covering(&[other], &first[1].matchers, first[1].starts_at, first[1].ends_at).is_none());
    }
}
