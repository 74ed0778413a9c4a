//! `firstwatch logs`: the logs tab, headless. Prints the last lines of the
//! configured logs and, with `--follow`, keeps following through rotation.

use super::fields::FieldFilter;
use super::filter::{Filter, LineText, Pattern};
use super::follow::{FollowEvent, FollowOptions, Marker, SourceState};
use super::level::Level;
use super::parse::{Format, written_bytes};
use super::source::{self, SourceKind, SourceSpec};
use super::split::RawLine;
use crate::cli::Global;
use crate::config::Config;
use crate::util::sanitize::is_printable_ascii;
use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exit codes:
  0  done; with --follow, also when stopped with Ctrl-C or SIGTERM
  1  a log could not be read (missing, not a regular file, no permission, a command that failed)
  2  bad usage: an unknown log name, an invalid --grep regex, --where filter or --level, or config errors

--grep reads each line as written in the file (a JSON line too, not its key=value rendering).
--where reads the fields of JSON lines: conditions `FIELD OP VALUE` joined by `and`;
FIELD may be dotted (http.status); OP is ==, !=, ~ (regex), !~, <, <=, >, >=;
VALUE is \"text\", 'text', a number, null or a bare word.

Examples:
  firstwatch logs app -n 50
  firstwatch logs --follow --level warn
  firstwatch logs metrics -g '\"status\": \"failure\"'
  firstwatch logs metrics --where 'status == \"failure\" and duration_seconds > 10' --json")]
pub struct LogsArgs {
    /// Logs to show, by their [[log]] name (default: every log).
    #[arg(value_name = "LOG")]
    pub sources: Vec<String>,
    /// Keep following through rotation and truncation, like `tail -F`, until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// Only lines matching this regex as written in the file (a pattern without capitals ignores case).
    #[arg(short, long, value_name = "RE")]
    pub grep: Option<String>,
    /// Only JSON lines whose fields meet these conditions, e.g. 'status == "failure" and duration_seconds > 10'.
    #[arg(long = "where", value_name = "EXPR")]
    pub where_fields: Option<String>,
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
/// The write end of the pipe that wakes the stop watchdog (-1 before it exists).
static WAKE_WATCHDOG: AtomicI32 = AtomicI32::new(-1);

/// How long a stop may take after Ctrl-C or SIGTERM before the process ends
/// anyway: output stuck on a full pipe, or a read stuck on a hung filesystem,
/// must not keep it alive.
const STOP_GRACE: Duration = Duration::from_millis(700);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let fd = WAKE_WATCHDOG.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; the pipe is non-blocking, so a full one is ignored.
        unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
    }
}

/// Ctrl-C and SIGTERM end a follow cleanly (exit 0) instead of killing the
/// process mid-line; a watchdog ends it within [`STOP_GRACE`] if the clean
/// stop is stuck.
fn catch_interrupts() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    start_watchdog();
    let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic and writes to a pipe, both async-signal-safe.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

fn start_watchdog() {
    let mut ends = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills the two descriptors it is given.
    if unsafe { libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        // Without the watchdog the clean stop still works; only a stuck one would wait.
        return;
    }
    let [read_end, write_end] = ends;
    // SAFETY: write_end is a descriptor this function owns; O_NONBLOCK keeps the handler from ever waiting.
    unsafe { libc::fcntl(write_end, libc::F_SETFL, libc::O_NONBLOCK) };
    // SAFETY: read_end was just created and is owned by nothing else.
    let mut wake = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(read_end) };
    WAKE_WATCHDOG.store(write_end, Ordering::SeqCst);
    let spawned = std::thread::Builder::new().name("stop-watchdog".into()).spawn(move || {
        let mut byte = [0u8; 1];
        if matches!(std::io::Read::read(&mut wake, &mut byte), Ok(1)) {
            std::thread::sleep(STOP_GRACE);
            // SAFETY: _exit ends the process at once, without running anything that could block.
            unsafe { libc::_exit(0) };
        }
    });
    if spawned.is_err() {
        WAKE_WATCHDOG.store(-1, Ordering::SeqCst);
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
    let fields = match args.where_fields.as_deref().map(FieldFilter::parse).transpose() {
        Ok(fields) => fields,
        Err(err) => {
            eprintln!("firstwatch logs: --where {err}");
            return ExitCode::from(2);
        }
    };
    let filter = Filter { pattern, invert: args.invert_match, fields, floor, hidden: Vec::new() };
    for spec in &mut specs {
        spec.tail_lines = args.lines;
    }
    catch_interrupts();
    follow(&specs, &filter, &args)
}

/// Output problems (a closed pipe) end the command quietly.
struct Closed;

/// Events read ahead of what stdout has taken. An event holds about 64 KiB at
/// most, so a slow reader holds the followers back once about half a MiB
/// waits, as `tail -F` waits for its reader, instead of growing memory.
const EVENTS_AHEAD: usize = 8;

fn follow(specs: &[SourceSpec], filter: &Filter, args: &LogsArgs) -> ExitCode {
    let (out, events) = sync_channel(EVENTS_AHEAD);
    // Without --follow the files are read once: no watcher to set up. Raw
    // output with nothing to decide per line takes files' bytes in blocks.
    let options = FollowOptions { notify: args.follow, raw: args.raw && filter.is_empty(), ..FollowOptions::default() };
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
            FollowEvent::Raw { bytes, .. } => printer.out.write_all(&bytes).map_err(|_| Closed),
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
            drop(events);
            running.stop();
            return ExitCode::SUCCESS;
        }
    }
    let _ = printer.out.flush();
    drop(printer);
    // Dropped before stopping, so a follower waiting to hand over lines is let go.
    drop(events);
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
        let filter = self.filter;
        if self.args.raw && filter.is_empty() {
            // Nothing to decide per line: copy the bytes straight through.
            for line in lines {
                self.out.write_all(&line.bytes).and_then(|()| self.out.write_all(b"\n")).map_err(|_| Closed)?;
            }
            return Ok(());
        }
        // Raw output needs the level only for a level floor; the rest reads the line as written.
        let parse = !self.args.raw || filter.floor.is_some();
        let reads_text = filter.pattern.is_some() || filter.fields.is_some();
        // Plain text with nothing to decide is shown as written where that is safe.
        let as_written = !self.args.raw && !self.args.json && filter.is_empty() && spec.parser.format == Format::Plain;
        for line in lines {
            let bytes = written_bytes(line);
            if as_written && line.cut == 0 && is_printable_ascii(bytes) {
                self.tagged(&spec.name, tag_width, bytes).map_err(|_| Closed)?;
                continue;
            }
            let parsed = parse.then(|| spec.parser.parse(line));
            let level = parsed.as_ref().and_then(|p| p.level);
            let text = if reads_text { String::from_utf8_lossy(bytes) } else { "".into() };
            if !filter.keeps(0, level, LineText::same(&text), false) {
                continue;
            }
            if self.args.raw {
                self.out.write_all(&line.bytes).and_then(|()| self.out.write_all(b"\n")).map_err(|_| Closed)?;
                continue;
            }
            let parsed = parsed.unwrap_or_else(|| spec.parser.parse(line));
            let written = if self.args.json {
                let object = serde_json::json!({
                    "source": spec.name,
                    "level": parsed.level.map(|l| l.label().to_ascii_lowercase()),
                    "text": parsed.text,
                    "cut_bytes": line.cut,
                });
                writeln!(self.out, "{object}")
            } else {
                self.tagged(&spec.name, tag_width, parsed.text.as_bytes())
            };
            written.map_err(|_| Closed)?;
        }
        Ok(())
    }

    /// `text` after the source's name padded to `width`, as `{:<width$} {}` would
    /// write it, without the formatting machinery for every line.
    fn tagged(&mut self, name: &str, width: usize, text: &[u8]) -> std::io::Result<()> {
        const SPACES: &[u8] = &[b' '; 64];
        // Padded by characters, as the format would.
        let mut padding = width.saturating_sub(name.chars().count()) + 1;
        self.out.write_all(name.as_bytes())?;
        while padding > 0 {
            let now = padding.min(SPACES.len());
            self.out.write_all(&SPACES[..now])?;
            padding -= now;
        }
        self.out.write_all(text)?;
        self.out.write_all(b"\n")
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
