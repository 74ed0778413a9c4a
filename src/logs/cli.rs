//! `firstwatch logs`: the logs tab, headless. Prints the last lines of the
//! configured logs and, with `--follow`, keeps following through rotation.

use super::filter::{Filter, Pattern};
use super::follow::{FollowEvent, FollowOptions, Marker, SourceState};
use super::level::Level;
use super::source::{self, SourceKind, SourceSpec};
use super::split::RawLine;
use crate::cli::Global;
use crate::config::Config;
use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exit codes:
  0  done; with --follow, also when stopped with Ctrl-C or SIGTERM
  1  a log could not be read (missing, a folder, no permission, a command that failed)
  2  bad usage: an unknown log name, an invalid --grep regex or --level, or config errors

Examples:
  firstwatch logs app -n 50
  firstwatch logs --follow --level warn
  firstwatch logs metrics --grep 'status.*failure' --json")]
pub struct LogsArgs {
    /// Logs to show, by their [[log]] name (default: every log).
    #[arg(value_name = "LOG")]
    pub sources: Vec<String>,
    /// Keep following through rotation and truncation, like `tail -F`, until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// Only lines matching this regex (a pattern without capitals ignores case).
    #[arg(short, long, value_name = "RE")]
    pub grep: Option<String>,
    /// With --grep: show the lines that do not match instead.
    #[arg(short = 'v', long, requires = "grep")]
    pub invert_match: bool,
    /// Only lines at this level or above: trace, debug, info, warn, error, fatal.
    #[arg(short, long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// Lines from the end of each log to start with.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 10)]
    pub lines: usize,
    /// One JSON object a line: {"source", "level", "text"} or {"source", "event"}.
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
    /// Each line's bytes exactly as read, with nothing added (for pipes and comparisons).
    #[arg(long)]
    pub raw: bool,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Ctrl-C and SIGTERM end a follow cleanly (exit 0) instead of killing the process mid-line.
fn catch_interrupts() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

pub fn run(config: Config, args: LogsArgs, _global: &Global) -> ExitCode {
    let all = SourceSpec::all(&config);
    if all.is_empty() {
        eprintln!("firstwatch logs: no [[log]] is configured");
        return ExitCode::from(2);
    }
    let mut specs = Vec::new();
    for wanted in &args.sources {
        match all.iter().find(|spec| &spec.name == wanted) {
            Some(spec) => specs.push(spec.clone()),
            None => {
                let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                eprintln!("firstwatch logs: unknown log `{wanted}` (known: {})", known.join(", "));
                return ExitCode::from(2);
            }
        }
    }
    if specs.is_empty() {
        specs = all;
    }
    let pattern = match args.grep.as_deref().map(Pattern::regex).transpose() {
        Ok(pattern) => pattern,
        Err(err) => {
            eprintln!("firstwatch logs: --grep is not a valid regex:\n{err}");
            return ExitCode::from(2);
        }
    };
    let floor = match args.level.as_deref().map(|l| Level::parse(l).ok_or(l)).transpose() {
        Ok(floor) => floor,
        Err(bad) => {
            eprintln!("firstwatch logs: unknown level `{bad}`; use trace, debug, info, warn, error or fatal");
            return ExitCode::from(2);
        }
    };
    let filter = Filter { pattern, invert: args.invert_match, floor, hidden: Vec::new() };
    for spec in &mut specs {
        spec.tail_lines = args.lines;
    }
    catch_interrupts();
    follow(&specs, &filter, &args)
}

/// Output problems (a closed pipe) end the command quietly.
struct Closed;

fn follow(specs: &[SourceSpec], filter: &Filter, args: &LogsArgs) -> ExitCode {
    let (out, events) = sync_channel(256);
    // Without --follow the files are read once: no watcher to set up.
    let options = FollowOptions { notify: args.follow, ..FollowOptions::default() };
    let running = match source::start(specs, options, args.follow, out) {
        Ok(running) => running,
        Err(err) => {
            eprintln!("firstwatch logs: cannot start following: {err}");
            return ExitCode::from(1);
        }
    };
    let commands: HashSet<usize> =
        specs.iter().enumerate().filter(|(_, s)| matches!(s.kind, SourceKind::Command(_))).map(|(i, _)| i).collect();
    let mut ended_commands = HashSet::new();
    let mut caught_up = false;
    let mut unreadable: HashSet<usize> = HashSet::new();
    let stdout = std::io::stdout();
    let mut printer = Printer { out: std::io::BufWriter::new(stdout.lock()), specs, filter, args };
    let tag_width = specs.iter().map(|s| crate::util::width::width(&s.name)).max().unwrap_or(0);
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            break;
        }
        if !args.follow && caught_up && ended_commands.len() == commands.len() {
            break;
        }
        let event = match events.recv_timeout(Duration::from_millis(200)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let printed = match event {
            FollowEvent::Lines { source, lines } => printer.lines(source, &lines, tag_width),
            FollowEvent::Marker { source, marker } => printer.marker(source, marker, tag_width),
            FollowEvent::State { source, state } => {
                match &state {
                    SourceState::Live => {
                        unreadable.remove(&source);
                    }
                    SourceState::Exited(_) | SourceState::Failed(_) if commands.contains(&source) => {
                        ended_commands.insert(source);
                        if matches!(state, SourceState::Failed(_)) {
                            unreadable.insert(source);
                        }
                    }
                    SourceState::Exited(_) => {}
                    SourceState::Missing | SourceState::Failed(_) => {
                        unreadable.insert(source);
                    }
                }
                printer.state(source, &state)
            }
            FollowEvent::CaughtUp => {
                caught_up = true;
                Ok(())
            }
        };
        if printed.and_then(|()| printer.out.flush().map_err(|_| Closed)).is_err() {
            // stdout went away (e.g. `| head`): nothing more to do.
            running.stop();
            return ExitCode::SUCCESS;
        }
    }
    let _ = printer.out.flush();
    drop(printer);
    running.stop();
    if !args.follow && !unreadable.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

struct Printer<'a, W: Write> {
    out: W,
    specs: &'a [SourceSpec],
    filter: &'a Filter,
    args: &'a LogsArgs,
}

impl<W: Write> Printer<'_, W> {
    fn lines(&mut self, source: usize, lines: &[RawLine], tag_width: usize) -> Result<(), Closed> {
        let spec = &self.specs[source];
        if self.args.raw && self.filter.pattern.is_none() && self.filter.floor.is_none() {
            // Nothing to decide per line: copy the bytes straight through.
            for line in lines {
                self.out.write_all(&line.bytes).and_then(|()| self.out.write_all(b"\n")).map_err(|_| Closed)?;
            }
            return Ok(());
        }
        for line in lines {
            let parsed = spec.parser.parse(line);
            if !self.filter.keeps(0, parsed.level, &parsed.text, false) {
                continue;
            }
            let written = if self.args.raw {
                self.out.write_all(&line.bytes).and_then(|()| self.out.write_all(b"\n"))
            } else if self.args.json {
                let object = serde_json::json!({
                    "source": spec.name,
                    "level": parsed.level.map(|l| l.label().to_ascii_lowercase()),
                    "text": parsed.text,
                    "cut_bytes": line.cut,
                });
                writeln!(self.out, "{object}")
            } else {
                writeln!(self.out, "{:<tag_width$} {}", spec.name, parsed.text)
            };
            written.map_err(|_| Closed)?;
        }
        Ok(())
    }

    fn marker(&mut self, source: usize, marker: Marker, tag_width: usize) -> Result<(), Closed> {
        let name = &self.specs[source].name;
        if self.args.raw {
            // Raw output holds only the log's own bytes; the notice goes to stderr.
            eprintln!("firstwatch logs: {name}: {}", marker.describe());
            return Ok(());
        }
        let written = if self.args.json {
            let event = match marker {
                Marker::Rotated => "rotated",
                Marker::Truncated => "truncated",
                Marker::Restarted => "restarted",
            };
            writeln!(self.out, "{}", serde_json::json!({ "source": name, "event": event }))
        } else {
            writeln!(self.out, "{name:<tag_width$} ── {} ──", marker.describe())
        };
        written.map_err(|_| Closed)
    }

    fn state(&mut self, source: usize, state: &SourceState) -> Result<(), Closed> {
        let spec = &self.specs[source];
        match state {
            SourceState::Live => Ok(()),
            SourceState::Missing => {
                eprintln!("firstwatch logs: {}: {} does not exist (yet)", spec.name, spec.origin());
                Ok(())
            }
            SourceState::Failed(why) | SourceState::Exited(why) => {
                eprintln!("firstwatch logs: {}: {}: {why}", spec.name, spec.origin());
                Ok(())
            }
        }
    }
}
