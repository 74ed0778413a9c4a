//! `firstwatch ops`: the operations running on this host, from any terminal.

use super::output::{Line, follow};
use super::record::{self, OperationRow, State};
use crate::cli::Global;
use crate::config::Config;
use crate::store::Store;
use crate::util::identity::Identity;
use clap::Subcommand;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

const OPS_HELP: &str = "\
Operations (action runs, restores, prunes, new backups, tasks run now from the
calendar, silences) are carried out by a supervisor process of their own, so
they run to their end and are audited even if the terminal that started them goes
away. Any operator on the host can list them, follow their output and cancel them.

`list` prints two lines an operation: id, state, kind, name and target; then who
started it, the supervisor's pid, when it started and ended, and its exit code.

Exit codes: 0 ok; 1 no such operation, or it is not running; 2 bad usage;
3 refused (read-only, not confirmed, audit log unwritable).";

/// List, follow and cancel operations.
#[derive(Debug, clap::Args)]
#[command(after_help = OPS_HELP)]
pub struct OpsArgs {
    #[command(subcommand)]
    command: OpsCommand,
}

#[derive(Debug, Subcommand)]
enum OpsCommand {
    /// Running operations and the most recent finished ones.
    List {
        #[arg(long)]
        json: bool,
        /// How many finished operations to show besides the running ones.
        #[arg(long, default_value_t = 20)]
        last: usize,
    },
    /// Print an operation's output so far, then follow it until it ends.
    Follow { id: i64 },
    /// Stop a running operation (its command's process group gets SIGTERM, then SIGKILL).
    Cancel {
        id: i64,
        /// Confirm by repeating the operation's id, as the prompt would ask.
        #[arg(long, value_name = "ID")]
        confirm: Option<String>,
        /// Confirm without a prompt (for scripts).
        #[arg(long, short)]
        yes: bool,
    },
}

pub fn run(config: Config, args: OpsArgs, global: &Global) -> ExitCode {
    let store = match Store::for_config(&config) {
        Ok(store) => store,
        Err(err) => {
            eprintln!("firstwatch ops: {err}");
            return ExitCode::from(3);
        }
    };
    let who = Identity::current();
    report_abandoned(&store, &who);
    match args.command {
        OpsCommand::List { json, last } => list(&store, json, last),
        OpsCommand::Follow { id } => follow_command(&store, id),
        OpsCommand::Cancel { id, confirm, yes } => {
            let read_only = global.read_only || config.settings.read_only;
            cancel(&store, &who, id, confirm.as_deref(), yes, read_only)
        }
    }
}

/// Closes the records of operations whose supervisor died, and says so on stderr.
pub fn report_abandoned(store: &Store, who: &Identity) {
    match super::recover(store, who) {
        Ok(notes) => {
            for note in notes {
                eprintln!("firstwatch: {note}");
            }
        }
        Err(err) => eprintln!("firstwatch: cannot check for abandoned operations: {err}"),
    }
}

fn list(store: &Store, json: bool, last: usize) -> ExitCode {
    let mut rows = match record::recent(store, last) {
        Ok(rows) => rows,
        Err(err) => return store_failed(err),
    };
    // Anything still open is shown, however old.
    if let Ok(open) = record::open(store) {
        for row in open {
            if !rows.iter().any(|r| r.id == row.id) {
                rows.push(row);
            }
        }
    }
    rows.sort_by_key(|row| row.id);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    if rows.is_empty() {
        println!("no operations yet");
    }
    for row in &rows {
        println!("{}", lines(row));
    }
    ExitCode::SUCCESS
}

/// One operation in two lines that fit 80 columns:
/// ```text
/// #12   ok, watching redeploy      redeploy orders          target orders
///     by ana  pid 4242  2026-12-06 01:20:11 → 01:21:02  exit 0
/// ```
fn lines(row: &OperationRow) -> String {
    use crate::util::sanitize::sanitize_str;
    use crate::util::width::truncate;
    let state = match (&row.state, row.verification.as_deref()) {
        (State::Ok, Some("watching")) => "ok, watching".to_string(),
        (state, _) => state.as_str().to_string(),
    };
    let kind = truncate(&sanitize_str(&row.kind), 13);
    let name = truncate(&sanitize_str(&row.name), 24);
    let target = truncate(&sanitize_str(&row.target), 15);
    let first = format!("#{:<4} {state:<12} {kind:<13} {name:<24} target {target}", row.id);
    let stamp = |at: &str| at.get(..19).unwrap_or(at).replace('T', " ");
    let started = stamp(&row.started);
    let when = match row.ended.as_deref().map(stamp) {
        // The same day: only the time it ended.
        Some(ended) if ended.get(..10) == started.get(..10) => format!("{started} → {}", ended.get(11..).unwrap_or("")),
        Some(ended) => format!("{started} → {ended}"),
        None => format!("since {started}"),
    };
    let mut second = format!("    by {}", truncate(&sanitize_str(&row.user), 8));
    if let Some(pid) = row.pid {
        second.push_str(&format!("  pid {pid}"));
    }
    second.push_str(&format!("  {when}"));
    if let Some(code) = row.exit {
        second.push_str(&format!("  exit {code}"));
    }
    format!("{}\n{second}", first.trim_end())
}

fn store_failed(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("firstwatch ops: {err}");
    ExitCode::from(1)
}

fn find(store: &Store, id: i64) -> Result<OperationRow, ExitCode> {
    match record::get(store, id) {
        Ok(Some(row)) => Ok(row),
        Ok(None) => {
            eprintln!("firstwatch ops: no operation #{id} (see `firstwatch ops list`)");
            Err(ExitCode::from(1))
        }
        Err(err) => Err(store_failed(err)),
    }
}

fn follow_command(store: &Store, id: i64) -> ExitCode {
    let row = match find(store, id) {
        Ok(row) => row,
        Err(code) => return code,
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return store_failed("cannot start a runtime");
    };
    let followed = runtime.block_on(async {
        tokio::select! {
            followed = follow(&row.output, print_line) => followed.map(|()| true),
            _ = tokio::signal::ctrl_c() => Ok(false),
        }
    });
    match followed {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("stopped following; operation #{id} goes on");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("firstwatch ops: cannot read {}: {err}", row.output.display());
            return ExitCode::from(1);
        }
    }
    match find(store, id) {
        Ok(row) => {
            eprintln!("{}", ending(&row));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// Prints a followed line where the command wrote it: stdout to stdout, the rest to stderr.
/// Never panics on a closed pipe or a terminal that went away.
pub fn print_line(line: Line) {
    let _ = match line {
        // A hundred lines of percentages say nothing a finished restore does not.
        Line::Percent(_) => return,
        Line::Stdout(text) => writeln!(std::io::stdout(), "{text}"),
        other => writeln!(std::io::stderr(), "{}", other.display()),
    };
}

/// Tells the operator their operation goes on after this terminal stopped following it.
pub fn say_detached(id: i64, supervisor: u32) {
    // Whatever stopped us (Ctrl-C, a hang-up, SIGTERM); the terminal may be gone, so no panic on failure.
    let _ = writeln!(
        std::io::stderr(),
        "\ndetached: operation #{id} goes on under its supervisor (pid {supervisor}); \
         follow it with `firstwatch ops follow {id}`, cancel it with `firstwatch ops cancel {id}`"
    );
}

/// How an operation ended, in one line.
pub fn ending(row: &OperationRow) -> String {
    let mut text = format!("operation #{} {}: {}", row.id, row.state.as_str(), row.detail.as_deref().unwrap_or(""));
    if let Some(verification) = row.verification.as_deref() {
        text.push_str("; ");
        text.push_str(verification);
    }
    text
}

fn cancel(store: &Store, who: &Identity, id: i64, typed: Option<&str>, yes: bool, read_only: bool) -> ExitCode {
    let row = match find(store, id) {
        Ok(row) => row,
        Err(code) => return code,
    };
    let audit = |event: &str, detail: String| super::cancel::audit(store, who, &row, event, &detail);
    if let Err(err) = audit("cancel-request", "from the command line".into()) {
        eprintln!("firstwatch ops: refused: the audit log cannot be written: {err}");
        return ExitCode::from(3);
    }
    use super::confirm::{self, Cancel};
    let what = Cancel { id };
    // Each road to the token, and the refusal in this command's own words.
    let confirmed = if read_only {
        Err("read-only session: nothing can be cancelled".to_string())
    } else if let Some(typed) = typed {
        confirm::check(&what, typed, read_only).map_err(|_| {
            format!("--confirm `{}` does not match the operation id `{id}`", crate::util::sanitize::sanitize_str(typed))
        })
    } else if yes {
        confirm::by_flag(&what, read_only).map_err(|refusal| refusal.to_string())
    } else if std::io::stdin().is_terminal() {
        use crate::util::sanitize::sanitize_str as clean;
        let (name, target, user) = (clean(&row.name), clean(&row.target), clean(&row.user));
        eprintln!("operation #{id}: {name} on {target} by {user}, started {}", row.started);
        let question = format!("type the operation id `{id}` to cancel it (enter alone keeps it running): ");
        match crate::util::prompt::ask(&question) {
            Ok(Some(typed)) => {
                confirm::check(&what, &typed, read_only).map_err(|_| "not confirmed at the prompt".to_string())
            }
            Ok(None) => Err("not confirmed at the prompt".to_string()),
            Err(why) => Err(why),
        }
    } else {
        Err("not confirmed: stdin is not a terminal; pass --yes or --confirm ID".into())
    };
    let confirmed = match confirmed {
        Ok(confirmed) => confirmed,
        Err(why) => {
            let _ = audit("cancel-refused", why.clone());
            eprintln!("firstwatch ops: refused: {why}; operation #{id} goes on");
            return ExitCode::from(3);
        }
    };
    match super::cancel::signal(store, who, &confirmed, &row) {
        Ok(_) => {}
        Err(super::cancel::NotCancelled::NotRunning(why)) | Err(super::cancel::NotCancelled::Failed(why)) => {
            eprintln!("firstwatch ops: {why}");
            return ExitCode::from(1);
        }
    }
    println!("cancelling operation #{id}; its outcome will be in `firstwatch ops list` and the audit log");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: State, ended: Option<&str>) -> OperationRow {
        OperationRow {
            id: 12,
            kind: "backup-create".into(),
            name: "create a set whose name is far too long for a table".into(),
            target: "a target with a long name".into(),
            argv: None,
            state,
            pid: Some(4_194_304),
            pgid: None,
            user: "a-very-long-user-name".into(),
            host: "bastion".into(),
            tty: None,
            ssh_client: None,
            started: "2026-12-06T01:20:11.123Z".into(),
            ended: ended.map(str::to_string),
            exit: ended.map(|_| 0),
            detail: None,
            verification: None,
            output: "/tmp/op".into(),
            staging: None,
            incident_id: None,
            done: ended.is_some(),
            result: None,
            leader_started: None,
        }
    }

    #[test]
    fn a_listed_operation_names_its_kind_and_end_within_80_columns() {
        let same_day = lines(&row(State::Ok, Some("2026-12-06T01:21:02.000Z")));
        assert!(same_day.lines().next().unwrap().contains(" backup-create "), "{same_day}");
        assert!(same_day.contains("2026-12-06 01:20:11 → 01:21:02  exit 0"), "{same_day}");
        let next_day = lines(&row(State::Failed, Some("2026-12-07T00:00:05.000Z")));
        assert!(next_day.contains("2026-12-06 01:20:11 → 2026-12-07 00:00:05"), "{next_day}");
        let running = lines(&row(State::Running, None));
        assert!(running.contains("since 2026-12-06 01:20:11") && !running.contains("exit"), "{running}");
        for text in [same_day, next_day, running] {
            for line in text.lines() {
                assert!(crate::util::width::width(line) <= 80, "{} columns: {line}", crate::util::width::width(line));
            }
        }
    }
}
