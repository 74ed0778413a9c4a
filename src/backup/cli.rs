//! `firstwatch backups`: the backups tab, headless.

use super::cli_confirm::{self, NotConfirmed};
use super::cli_show;
use super::overview::{BackupState, SetState, survey};
use super::progress::{Cancel, silent};
use super::restore::{self, Plan};
use super::{BackupSet, check_and_record, human_age, human_bytes};
use crate::cli::Global;
use crate::config::Config;
use crate::ops;
use crate::store::Store;
use crate::util::identity::Identity;
use crate::util::sanitize::sanitize_str;
use crate::util::zone::Zone;
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code when this terminal stopped following a restore that goes on.
const EXIT_DETACHED: u8 = 5;

const EXIT_CODES: &str = "\
Exit codes of list and verify (Nagios, for cron and monitoring), for the worst set:
  0  ok: every set has a good backup within its cadence
  1  warning: the newest good backup is late (past `every` and a grace), or an
     older backup is corrupt
  2  critical: overdue (past twice `every`), no good backup, or the newest backup
     is empty, truncated or corrupt; for verify, a named backup is corrupt
  3  could not read a set's folder, unknown set or backup, nothing to verify
The reasons are printed last (on stderr with --json).

Exit codes of the other subcommands:
  0  done
  1  a restore or prune failed, was refused or not confirmed; show or compare could not read
  2  bad usage: unknown set or backup, invalid config
  5  a restore, prune or create was detached (Ctrl-C, hang-up here): it goes on under its supervisor;
     see `firstwatch ops list`, `ops follow ID`, `ops cancel ID`

A backup is named by its file or folder name (as `list` shows it); `latest`
names the newest backup of a set that is not known to be corrupt. Use --set
when two sets hold the same name.";

/// List, verify, look inside and restore backups.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct BackupsArgs {
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// List backups, newest first, with age, size, last verification and retention.
    List {
        /// Only this set.
        set: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check backups: full gzip decompression, tar read to the end, SQLite integrity and row counts.
    Verify {
        /// Backups to check (default with --all or --set: all of them).
        ids: Vec<String>,
        #[arg(long)]
        set: Option<String>,
        /// Every backup of every set.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show what is inside a backup: tables with row counts, archive or folder entries, the manifest.
    #[command(visible_aliases = ["browse", "contents"])]
    Show {
        id: String,
        #[arg(long)]
        set: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Compare a backup with its restore target now: table row counts, or files added, removed and changed.
    Compare {
        id: String,
        #[arg(long)]
        set: Option<String>,
        /// Compare with this path instead of the set's restore_to.
        #[arg(long, value_name = "PATH")]
        to: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup over its target, keeping the current target beside it.
    ///
    /// The new content is written and checked beside the target, then renamed
    /// over it in one step; the old target is kept as TARGET.before-restore-TIME
    /// (with -2, -3 ... when that name is taken). A database that other processes
    /// have open is not replaced without --force-open. Needs --confirm SET (or
    /// --yes); otherwise asks on the terminal, and refuses when there is none.
    /// Every attempt is written to the audit log.
    Restore {
        id: String,
        #[arg(long)]
        set: Option<String>,
        /// Restore here instead of the set's restore_to.
        #[arg(long, value_name = "PATH")]
        to: Option<PathBuf>,
        /// The set's name, typed out, as the confirmation.
        #[arg(long, value_name = "SET")]
        confirm: Option<String>,
        /// Confirm without typing the set's name.
        #[arg(long)]
        yes: bool,
        /// Restore even a backup that failed verification.
        #[arg(long)]
        force: bool,
        /// Replace a database even though other processes have it open (they lose what they write afterwards).
        #[arg(long)]
        force_open: bool,
        /// Show what would happen and stop.
        #[arg(long)]
        dry_run: bool,
    },
    /// Make a new backup of the set's `source` now (SQLite through the online backup API).
    ///
    /// On a terminal it asks `y` first (or pass --yes); run without one (cron, scripts),
    /// the command itself is the confirmation: a new backup only adds a file.
    Create {
        set: String,
        /// Confirm without the prompt.
        #[arg(long)]
        yes: bool,
    },
    /// Remove the backups a set's retention rule (keep, keep_last) marks.
    ///
    /// The newest backup is never removed. Needs --confirm SET (or --yes); every removal is audited.
    Prune {
        set: String,
        #[arg(long, value_name = "SET")]
        confirm: Option<String>,
        #[arg(long)]
        yes: bool,
        /// List what would be removed and stop.
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(config: Config, args: BackupsArgs, global: &Global) -> ExitCode {
    let sets = BackupSet::all(&config);
    let store = Store::for_config(&config).ok();
    let read_only = global.read_only || config.settings.read_only;
    let zone = config.settings.zone();
    let command = args.command.unwrap_or(Sub::List { set: None, json: false });
    let now = Utc::now();
    // Read-only mode changes nothing, debris included.
    if !read_only {
        clear_debris(&sets);
    }
    match command {
        Sub::List { set, json } => match pick_sets(&sets, set.as_deref()) {
            Ok(chosen) => {
                let chosen: Vec<BackupSet> = chosen.into_iter().cloned().collect();
                super::list_cli::list(&survey(&chosen, store.as_ref(), now), json, now, zone)
            }
            Err(message) => {
                eprintln!("firstwatch backups: {message}");
                ExitCode::from(3)
            }
        },
        Sub::Verify { ids, set, all, json } => {
            let request = super::list_cli::VerifyRequest { ids: &ids, set: set.as_deref(), all, json };
            super::list_cli::verify(&sets, store.as_ref(), &request)
        }
        Sub::Show { id, set, json } => cli_show::show(&sets, store.as_ref(), &id, set.as_deref(), json),
        Sub::Restore { id, set, to, confirm, yes, force, force_open, dry_run } => {
            let request = RestoreRequest { id, set, to, confirm, yes, force, force_open, dry_run };
            restore_command(&config, &sets, store.as_ref(), &request, read_only, now, zone)
        }
        Sub::Compare { id, set, to, json } => {
            cli_show::compare_command(&sets, store.as_ref(), &id, set.as_deref(), to, json)
        }
        Sub::Create { set, yes } => create_command(&config, &sets, store.as_ref(), &set, yes, read_only),
        Sub::Prune { set, confirm, yes, dry_run } => {
            let request = PruneRequest { set, confirm, yes, dry_run };
            prune_command(&config, &sets, store.as_ref(), &request, read_only, now)
        }
    }
}

/// Clears what killed restores left beside every set's restore target; one line on stderr for each.
fn clear_debris(sets: &[BackupSet]) {
    for target in sets.iter().filter_map(|set| set.restore_to.as_deref()) {
        for removed in restore::sweep_debris(target) {
            report_debris(&removed);
        }
    }
}

fn report_debris(removed: &std::path::Path) {
    eprintln!(
        "firstwatch backups: removed {}, left by an interrupted restore",
        sanitize_str(&removed.display().to_string())
    );
}

fn create_command(
    config: &Config,
    sets: &[BackupSet],
    store: Option<&Store>,
    name: &str,
    yes: bool,
    read_only: bool,
) -> ExitCode {
    let set = match pick_sets(sets, Some(name)) {
        Ok(chosen) => chosen[0],
        Err(message) => return usage(message),
    };
    if read_only {
        eprintln!("firstwatch backups: create refused: read-only mode (--read-only or settings.read_only)");
        return ExitCode::from(1);
    }
    if set.source.is_none() {
        return usage(format!("backup set `{name}` has no `source` to copy"));
    }
    let Some(store) = store else {
        eprintln!("firstwatch backups: create refused: the store cannot be opened, so it could not be audited");
        return ExitCode::from(1);
    };
    let confirmed = match cli_confirm::new_backup(&ops::confirm::NewBackup { set: set.name.clone() }, yes) {
        Ok(confirmed) => confirmed,
        Err(NotConfirmed::Refused(why)) => {
            eprintln!("firstwatch backups: create refused: {why}");
            return ExitCode::from(1);
        }
        Err(NotConfirmed::Cancelled(why)) => {
            eprintln!("firstwatch backups: {why}; nothing was made");
            return ExitCode::from(1);
        }
    };
    let job = ops::Job::create_backup(&confirmed, config, store.path().to_path_buf(), Identity::current());
    supervised(job, store, "create", |_| {})
}

/// Hands a confirmed backup operation to a supervisor and follows it: it runs
/// to its end whatever happens to this terminal. `done` says what a success did.
fn supervised(job: ops::Job, store: &Store, what: &str, done: impl FnOnce(&ops::record::OperationRow)) -> ExitCode {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        eprintln!("firstwatch backups: cannot start a runtime; nothing was changed");
        return ExitCode::from(1);
    };
    match runtime.block_on(ops::launch_and_follow(job, store, ops::cli::print_line, ops::stop_signal())) {
        Ok(ops::Followed::Ended(Some(row))) if row.state == ops::record::State::Ok => {
            done(&row);
            ExitCode::SUCCESS
        }
        Ok(ops::Followed::Ended(Some(row))) => {
            eprintln!("firstwatch backups: {what} {}: {}", row.state.as_str(), row.detail.unwrap_or_default());
            ExitCode::from(1)
        }
        Ok(ops::Followed::Ended(None)) => {
            eprintln!("firstwatch backups: the {what} ended but its record cannot be read; see `firstwatch audit`");
            ExitCode::from(1)
        }
        Ok(ops::Followed::Detached { id, supervisor }) => {
            ops::cli::say_detached(id, supervisor);
            ExitCode::from(EXIT_DETACHED)
        }
        Err(why) => {
            eprintln!("firstwatch backups: {what} refused: {why}; nothing was changed");
            ExitCode::from(1)
        }
    }
}

struct PruneRequest {
    set: String,
    confirm: Option<String>,
    yes: bool,
    dry_run: bool,
}

fn prune_command(
    config: &Config,
    sets: &[BackupSet],
    store: Option<&Store>,
    request: &PruneRequest,
    read_only: bool,
    now: DateTime<Utc>,
) -> ExitCode {
    let chosen = match pick_sets(sets, Some(&request.set)) {
        Ok(chosen) => chosen.into_iter().cloned().collect::<Vec<_>>(),
        Err(message) => return usage(message),
    };
    let set = &chosen[0];
    if set.keep.is_none() && set.keep_last.is_none() {
        return usage(format!("set `{}` has no retention rule (keep or keep_last)", set.name));
    }
    let states = survey(&chosen, store, now);
    let marked: Vec<_> = states[0].backups.iter().filter(|b| b.entry.prune).collect();
    if marked.is_empty() {
        println!("nothing to prune in `{}`", set.name);
        return ExitCode::SUCCESS;
    }
    println!("prune `{}`: {} backups past retention", set.name, marked.len());
    for backup in &marked {
        println!(
            "  {}  {} old  {}",
            sanitize_str(&backup.entry.name),
            human_age(super::listing::age(now, backup.entry.created)),
            human_bytes(backup.entry.size_bytes)
        );
    }
    if request.dry_run {
        println!("dry run: nothing was removed");
        return ExitCode::SUCCESS;
    }
    let who = Identity::current();
    let refuse = |reason: &str| {
        if let Some(store) = store {
            let entry = crate::store::AuditEntry {
                event: "prune-refused".into(),
                action: Some(format!("prune {}", set.name)),
                target: Some(set.dir.display().to_string()),
                detail: Some(reason.into()),
                ..Default::default()
            };
            let _ = store.audit(entry, &who);
        }
        eprintln!("firstwatch backups: prune refused: {reason}");
        ExitCode::from(1)
    };
    if read_only {
        return refuse("read-only mode (--read-only or settings.read_only)");
    }
    let Some(store) = store else {
        eprintln!("firstwatch backups: prune refused: the store cannot be opened, so removals could not be audited");
        return ExitCode::from(1);
    };
    let shown =
        ops::confirm::Prune { set: set.name.clone(), backups: marked.iter().map(|b| b.entry.path.clone()).collect() };
    let confirmed = match cli_confirm::by_set_name(&shown, request.confirm.as_deref(), request.yes, &set.name) {
        Ok(confirmed) => confirmed,
        Err(NotConfirmed::Refused(reason) | NotConfirmed::Cancelled(reason)) => return refuse(&reason),
    };
    let job = ops::Job::prune(&confirmed, config, store.path().to_path_buf(), who);
    supervised(job, store, "prune", |_| {})
}

pub(super) fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("firstwatch backups: {message}");
    ExitCode::from(2)
}

pub(super) fn pick_sets<'a>(sets: &'a [BackupSet], name: Option<&str>) -> Result<Vec<&'a BackupSet>, String> {
    match name {
        None => Ok(sets.iter().collect()),
        Some(name) => match sets.iter().find(|s| s.name == name) {
            Some(set) => Ok(vec![set]),
            None => Err(unknown_set(sets, name)),
        },
    }
}

fn unknown_set(sets: &[BackupSet], name: &str) -> String {
    let known: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    if known.is_empty() {
        format!("unknown backup set `{name}`: no [[backup]] is configured")
    } else {
        format!("unknown backup set `{name}` (known: {})", known.join(", "))
    }
}

/// The set and backup a command names (`latest` or a backup's name, within `--set`),
/// as a usage message when there is none or more than one.
pub(super) fn locate(
    sets: &[BackupSet],
    store: Option<&Store>,
    id: &str,
    set: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(BackupSet, super::overview::BackupState), String> {
    let chosen: Vec<BackupSet> = pick_sets(sets, set)?.into_iter().cloned().collect();
    let states = survey(&chosen, store, now);
    let (state, backup) = find(&states, id)?;
    let set = chosen.iter().find(|s| s.name == state.name).ok_or("set vanished")?;
    Ok((set.clone(), backup.clone()))
}

/// Finds a backup by name (or `latest`) across the chosen sets.
pub(super) fn find<'a>(states: &'a [SetState], id: &str) -> Result<(&'a SetState, &'a BackupState), String> {
    let mut found = Vec::new();
    for set in states {
        let hit = if id == "latest" { set.last_good() } else { set.find(id) };
        if let Some(backup) = hit {
            found.push((set, backup));
        }
    }
    match found.len() {
        1 => Ok(found[0]),
        0 => Err(format!("no backup named `{}`; `firstwatch backups list` shows them", sanitize_str(id))),
        _ => Err(format!("`{id}` is in several sets; pick one with --set")),
    }
}

fn when(at: DateTime<Utc>, zone: Zone) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

struct RestoreRequest {
    id: String,
    set: Option<String>,
    to: Option<PathBuf>,
    confirm: Option<String>,
    yes: bool,
    force: bool,
    force_open: bool,
    dry_run: bool,
}

fn restore_command(
    config: &Config,
    sets: &[BackupSet],
    store: Option<&Store>,
    request: &RestoreRequest,
    read_only: bool,
    now: DateTime<Utc>,
    zone: Zone,
) -> ExitCode {
    let who = Identity::current();
    let (set, backup) = match locate(sets, store, &request.id, request.set.as_deref(), now) {
        Ok(found) => found,
        Err(message) => return usage(message),
    };
    let refuse = |target: Option<&std::path::Path>, reason: &str| {
        if let Some(store) = store {
            restore::audit_not_run(store, &who, &set.name, target, "restore-refused", reason);
        }
        eprintln!("firstwatch backups: restore refused: {reason}");
        ExitCode::from(1)
    };
    if read_only && !request.dry_run {
        return refuse(None, "read-only mode (--read-only or settings.read_only)");
    }
    let mut plan = match restore::plan(&set, &backup.entry, request.to.as_deref(), now) {
        Ok(plan) => plan,
        Err(err) => return refuse(request.to.as_deref(), &err.to_string()),
    };
    restore::preview_overlay(&mut plan);
    print_plan(&plan, &backup.status(), now, zone);
    // A backup never checked is checked now; one that failed needs --force.
    let mut status = backup.status();
    if matches!(status, super::Status::Unverified | super::Status::Changed) {
        eprintln!("verifying the backup first…");
        if let Some(result) = check_and_record(&set, &backup.entry, store, &mut silent(), &Cancel::new()) {
            status = if result.ok { super::Status::Ok(result.detail) } else { super::Status::Corrupt(result.detail) };
            println!("  verification: {}", sanitize_str(&status.label()));
        }
    }
    if let super::Status::Corrupt(reason) = &status
        && !request.force
    {
        return refuse(
            Some(&plan.target),
            &format!("the backup failed verification ({reason}); pass --force to restore it anyway"),
        );
    }
    plan.forced = status.is_corrupt();
    plan.force_open = request.force_open;
    if request.dry_run {
        println!("dry run: nothing was changed");
        return ExitCode::SUCCESS;
    }
    let Some(store) = store else {
        eprintln!(
            "firstwatch backups: restore refused: the store cannot be opened, so the restore could not be audited"
        );
        return ExitCode::from(1);
    };
    let confirmed = match cli_confirm::by_set_name(&plan, request.confirm.as_deref(), request.yes, &set.name) {
        Ok(confirmed) => confirmed,
        Err(NotConfirmed::Refused(reason)) => return refuse(Some(&plan.target), &reason),
        Err(NotConfirmed::Cancelled(reason)) => {
            restore::audit_not_run(store, &who, &set.name, Some(&plan.target), "restore-cancelled", &reason);
            eprintln!("firstwatch backups: {reason}; nothing was changed");
            return ExitCode::from(1);
        }
    };
    // The restore runs under a supervisor of its own: it finishes (or is cancelled whole) whatever
    // happens to this terminal, and the next firstwatch sweeps what a killed one leaves.
    let job = ops::Job::restore(&confirmed, config, store.path().to_path_buf(), who);
    supervised(job, store, "restore", |row| {
        println!(
            "took {}; the backup was {} old",
            row.detail.as_deref().unwrap_or("?").trim_start_matches("restored in "),
            human_age(super::listing::age(now, plan.backup.created))
        );
    })
}

fn print_plan(plan: &Plan, status: &super::Status, now: DateTime<Utc>, zone: Zone) {
    println!("restore set `{}`", plan.set);
    println!(
        "  backup   {} ({}, {} old, {}, {})",
        plan.backup.path.display(),
        when(plan.backup.created, zone),
        human_age(super::listing::age(now, plan.backup.created)),
        human_bytes(plan.backup.size_bytes),
        sanitize_str(&status.label())
    );
    match &plan.current {
        Some(current) => {
            let modified = current.modified.map(|m| when(m, zone)).unwrap_or_default();
            let size = if current.is_dir { "folder".to_string() } else { human_bytes(current.size_bytes) };
            let aside = sanitize_str(&plan.aside.display().to_string());
            if plan.mode == crate::config::RestoreMode::Overlay {
                println!("  overlays {} ({size}, modified {modified})", plan.target.display());
                super::cli_overlay::print_overlay(plan, &aside);
            } else {
                if current.is_dir {
                    println!("  mode     replace: the whole folder is swapped for the backup's");
                }
                println!("  replaces {} ({size}, modified {modified})", plan.target.display());
                println!("  keeps    the current target at {aside} (or -2, -3 ... if taken)");
            }
            if plan.format.is_sqlite() {
                let holders = super::inuse::lasting_database_holders(&plan.target);
                if !holders.is_empty() {
                    println!("  open in  {} (refused unless --force-open)", super::inuse::describe(&holders));
                }
            }
        }
        None => println!("  creates  {} (nothing is there now)", plan.target.display()),
    }
}
