//! `[[log]]`: a log followed on the logs tab and by `firstwatch logs`.
//!
//! ```toml
//! [[log]]
//! name = "app"
//! path = "logs/app.log"          # or a glob in the file name: "logs/*.log"
//! format = "plain"               # or "jsonl" (level/msg/time from fields)
//! tail_lines = 10000             # lines shown from the end when opened
//! buffer_lines = 100000          # lines kept in memory for the tab
//! max_line_bytes = 65536         # longer lines are cut with a marker
//! highlight = [{ pattern = "timed? out", style = "crit" }]
//!
//! [[log]]
//! name = "pods"
//! command = ["kubectl", "logs", "-f", "deploy/api"]
//! ```

use super::Config;
use super::validate::Problems;
use serde::Deserialize;
use toml::Spanned;

pub const DEFAULT_TAIL_LINES: usize = 10_000;
pub const DEFAULT_BUFFER_LINES: usize = 100_000;
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// `[[log]]`: a followed log source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub name: Spanned<String>,
    /// A file, or a glob in its last part (`logs/*.log`); relative to the config's folder.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// `plain` (default) or `jsonl`.
    #[serde(default)]
    pub format: Option<Spanned<String>>,
    /// A program whose output is followed (restarted with back-off when it exits).
    #[serde(default)]
    pub command: Option<Spanned<Vec<String>>>,
    /// systemd units to follow through `journalctl`.
    #[serde(default)]
    pub journald: Option<Spanned<Vec<String>>>,
    /// JSON field names for the level, message and time of `jsonl` lines.
    #[serde(default)]
    pub level_field: Option<String>,
    #[serde(default)]
    pub message_field: Option<String>,
    #[serde(default)]
    pub time_field: Option<String>,
    #[serde(default)]
    pub tail_lines: Option<Spanned<usize>>,
    #[serde(default)]
    pub buffer_lines: Option<Spanned<usize>>,
    #[serde(default)]
    pub max_line_bytes: Option<Spanned<usize>>,
    #[serde(default)]
    pub highlight: Vec<HighlightConfig>,
}

/// `highlight = [{ pattern = "...", style = "crit" }]`: matches drawn in a theme style.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HighlightConfig {
    pub pattern: Spanned<String>,
    /// ok, warn, crit, accent, muted or info.
    pub style: Spanned<String>,
}

pub const HIGHLIGHT_STYLES: [&str; 6] = ["ok", "warn", "crit", "accent", "muted", "info"];

impl LogConfig {
    pub fn tail_lines(&self) -> usize {
        self.tail_lines.as_ref().map_or(DEFAULT_TAIL_LINES, |n| *n.get_ref())
    }

    pub fn buffer_lines(&self) -> usize {
        self.buffer_lines.as_ref().map_or(DEFAULT_BUFFER_LINES, |n| *n.get_ref())
    }

    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes.as_ref().map_or(DEFAULT_MAX_LINE_BYTES, |n| *n.get_ref())
    }

    /// The kinds of source set on this entry (exactly one is valid).
    fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.path.is_some() {
            kinds.push("path");
        }
        if self.command.is_some() {
            kinds.push("command");
        }
        if self.journald.is_some() {
            kinds.push("journald");
        }
        kinds
    }
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    problems.unique_names("log", config.logs.iter().map(|l| &l.name));
    for log in &config.logs {
        let kinds = log.kinds();
        if kinds.len() != 1 {
            problems.push(
                log.name.span(),
                format!(
                    "log `{}` needs exactly one source, found {}",
                    log.name.get_ref(),
                    if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") }
                ),
                Some("set one of path, command or journald"),
            );
        }
        if let Some(format) = &log.format
            && !["plain", "text", "jsonl", "json"].contains(&format.get_ref().as_str())
        {
            problems.push(
                format.span(),
                format!("unknown log format `{}`", format.get_ref()),
                Some("use \"plain\" or \"jsonl\""),
            );
        }
        if let Some(path) = &log.path
            && path.get_ref().trim().is_empty()
        {
            problems.push(path.span(), "log path is empty", None);
        }
        if let Some(command) = &log.command
            && command.get_ref().first().is_none_or(|program| program.trim().is_empty())
        {
            problems.push(command.span(), "log command is empty", Some("give the program and its arguments as a list"));
        }
        bounded(problems, &log.tail_lines, "tail_lines", 0, 10_000_000);
        bounded(problems, &log.buffer_lines, "buffer_lines", 100, 10_000_000);
        bounded(problems, &log.max_line_bytes, "max_line_bytes", 256, 64 * 1024 * 1024);
        for rule in &log.highlight {
            if let Err(err) = regex::Regex::new(rule.pattern.get_ref()) {
                let first_line = err.to_string().lines().last().unwrap_or("").trim().to_string();
                problems.push(
                    error_span(config, &rule.pattern),
                    format!("highlight pattern is not a valid regex: {first_line}"),
                    Some("escape special characters with \\\\, e.g. \"\\\\(\""),
                );
            }
            if !HIGHLIGHT_STYLES.contains(&rule.style.get_ref().as_str()) {
                problems.push(
                    rule.style.span(),
                    format!("unknown highlight style `{}`", rule.style.get_ref()),
                    Some("use ok, warn, crit, accent, muted or info"),
                );
            }
        }
    }
}

/// Where in the file a bad pattern goes wrong: the exact character when the
/// string is written without escapes (so offsets match), else the string itself.
fn error_span(config: &Config, pattern: &Spanned<String>) -> std::ops::Range<usize> {
    let span = pattern.span();
    let text = pattern.get_ref();
    let inside = span.start + 1;
    let written_as_is = config.source.get(inside..inside + text.len()) == Some(text.as_str());
    let offset = regex_syntax::ast::parse::Parser::new().parse(text).err().map(|err| err.span().start.offset);
    match offset {
        Some(offset) if written_as_is => inside + offset..inside + offset + 1,
        _ => span,
    }
}

fn bounded(problems: &mut Problems, value: &Option<Spanned<usize>>, what: &str, min: usize, max: usize) {
    if let Some(value) = value
        && !(min..=max).contains(value.get_ref())
    {
        problems.push(value.span(), format!("{what} {} is outside {min}..={max}", value.get_ref()), None);
    }
}
