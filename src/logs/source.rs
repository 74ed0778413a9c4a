//! The configured sources, and starting them all behind one event channel.

use super::command::{CommandSource, CommandSpec};
use super::filter::Pattern;
use super::follow::{FileSpec, FollowEvent, FollowOptions, Follower};
use super::parse::{Format, JsonFields, LineParser};
use super::view::{Highlight, Role};
use crate::config::{Config, LogConfig};
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    File(PathBuf),
    Command(Vec<String>),
}

/// One `[[log]]`, resolved: paths against the config's folder, defaults filled in.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub name: String,
    pub kind: SourceKind,
    pub parser: LineParser,
    pub tail_lines: usize,
    pub buffer_lines: usize,
    pub max_line_bytes: usize,
    pub highlights: Vec<Highlight>,
}

impl SourceSpec {
    pub fn from_config(config: &Config, log: &LogConfig) -> SourceSpec {
        let mut format = log.format.as_ref().and_then(|f| Format::parse(f.get_ref())).unwrap_or_default();
        let mut fields = JsonFields::default();
        let kind = if let Some(path) = &log.path {
            SourceKind::File(config.resolve(std::path::Path::new(path.get_ref())))
        } else if let Some(command) = &log.command {
            SourceKind::Command(command.get_ref().clone())
        } else {
            // journald: journalctl's JSON output, one object a line.
            format = Format::Jsonl;
            fields.message.insert(0, "MESSAGE".into());
            fields.level.insert(0, "PRIORITY".into());
            fields.time.insert(0, "SYSLOG_TIMESTAMP".into());
            fields.hidden_prefixes = vec!["_".into(), "SYSLOG_FACILITY".into(), "SYSLOG_TIMESTAMP".into()];
            let units = log.journald.as_ref().map(|u| u.get_ref().clone()).unwrap_or_default();
            let mut argv: Vec<String> =
                ["journalctl", "--follow", "--output=json", "--no-pager"].iter().map(|s| s.to_string()).collect();
            argv.push(format!("--lines={}", log.tail_lines()));
            for unit in units {
                argv.push(format!("--unit={unit}"));
            }
            SourceKind::Command(argv)
        };
        if let Some(field) = &log.level_field {
            fields.level.insert(0, field.clone());
        }
        if let Some(field) = &log.message_field {
            fields.message.insert(0, field.clone());
        }
        if let Some(field) = &log.time_field {
            fields.time.insert(0, field.clone());
        }
        let highlights = log
            .highlight
            .iter()
            .filter_map(|rule| {
                let pattern = Pattern::regex(rule.pattern.get_ref()).ok()?;
                Some(Highlight { pattern, role: Role::parse(rule.style.get_ref())? })
            })
            .collect();
        SourceSpec {
            name: log.name.get_ref().clone(),
            kind,
            parser: LineParser::new(format, fields),
            tail_lines: log.tail_lines(),
            buffer_lines: log.buffer_lines(),
            max_line_bytes: log.max_line_bytes(),
            highlights,
        }
    }

    pub fn all(config: &Config) -> Vec<SourceSpec> {
        config.logs.iter().map(|log| SourceSpec::from_config(config, log)).collect()
    }

    /// Where it reads from, for headers and messages.
    pub fn origin(&self) -> String {
        match &self.kind {
            SourceKind::File(path) => path.display().to_string(),
            SourceKind::Command(argv) => argv.join(" "),
        }
    }
}

/// Everything started for a set of sources; dropping it stops them.
pub struct Running {
    _follower: Option<Follower>,
    _commands: Vec<CommandSource>,
}

impl Running {
    pub fn stop(self) {
        if let Some(follower) = self._follower {
            follower.stop();
        }
    }
}

/// Starts the sources in `specs` (their index is their source id) reporting to `out`.
/// `follow` off makes commands one-shot; files still send `CaughtUp` after their tail.
pub fn start(
    specs: &[SourceSpec],
    options: FollowOptions,
    follow: bool,
    out: SyncSender<FollowEvent>,
) -> std::io::Result<Running> {
    let mut files = Vec::new();
    let mut commands = Vec::new();
    for (source, spec) in specs.iter().enumerate() {
        match &spec.kind {
            SourceKind::File(path) => files.push(FileSpec {
                source,
                path: path.clone(),
                tail_lines: spec.tail_lines,
                max_line_bytes: spec.max_line_bytes,
            }),
            SourceKind::Command(argv) => commands.push(CommandSource::spawn(
                CommandSpec { source, argv: argv.clone(), max_line_bytes: spec.max_line_bytes, restart: follow },
                out.clone(),
            )?),
        }
    }
    let follower = if files.is_empty() {
        let _ = out.send(FollowEvent::CaughtUp);
        None
    } else {
        Some(Follower::spawn(files, options, out)?)
    };
    Ok(Running { _follower: follower, _commands: commands })
}
