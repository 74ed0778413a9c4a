//! `[[task]]` and `[[window]]`: scheduled maintenance and the windows it runs in.

use super::Config;
use super::units::HumanDuration;
use super::validate::Problems;
use crate::schedule::Schedule;
use crate::util::zone::Zone;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use toml::Spanned;

/// `[[task]]`: a scheduled maintenance task.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub name: Spanned<String>,
    /// Five-field cron expression or a shorthand such as `@daily`.
    pub cron: Spanned<String>,
    /// IANA zone the expression is read in; default `[settings] timezone`.
    #[serde(default)]
    pub tz: Option<Spanned<String>>,
    /// Argv firstwatch runs on demand (`x` in the tab, `firstwatch schedule run`).
    #[serde(default)]
    pub run: Option<Spanned<Vec<String>>>,
    /// The folder `run` starts in, relative to the config file; default: firstwatch's own.
    #[serde(default)]
    pub dir: Option<Spanned<PathBuf>>,
    /// Variables set for `run`, on top of firstwatch's own environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// How long a run is expected to take.
    #[serde(default)]
    pub duration: Option<HumanDuration>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `[[window]]`: a maintenance window, a cron start plus a length.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    pub name: Spanned<String>,
    pub cron: Spanned<String>,
    pub duration: HumanDuration,
    /// IANA zone the start is read in; default `[settings] timezone`.
    #[serde(default)]
    pub tz: Option<Spanned<String>>,
    /// Alertmanager matchers (`job="api"`) silenced for each occurrence of the
    /// window by `firstwatch schedule silences --apply`.
    #[serde(default)]
    pub silence: Vec<Spanned<String>>,
}

/// Longest window accepted: a week-long window would hide every alert.
const LONGEST_WINDOW_SECS: u64 = 7 * 86_400;

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    problems.unique_names("task", config.tasks.iter().map(|t| &t.name));
    problems.unique_names("window", config.windows.iter().map(|w| &w.name));
    for task in &config.tasks {
        check_cron(&task.cron, problems);
        check_zone(task.tz.as_ref(), problems);
        if let Some(run) = &task.run
            && run.get_ref().first().is_none_or(|program| program.trim().is_empty())
        {
            problems.push(
                run.span(),
                format!("task `{}`: `run` needs a program", task.name.get_ref()),
                Some("write the argv as a list, e.g. run = [\"/usr/local/bin/backup\", \"--full\"]"),
            );
        }
        check_run_place(task, problems);
    }
    for window in &config.windows {
        if let Some(schedule) = check_cron(&window.cron, problems)
            && schedule.is_reboot()
        {
            problems.push(
                window.cron.span(),
                format!("window `{}` needs a start time; @reboot has none", window.name.get_ref()),
                Some("give the start as a cron expression, e.g. \"0 3 * * 0\""),
            );
        }
        check_zone(window.tz.as_ref(), problems);
        let seconds = window.duration.get().as_secs();
        if seconds == 0 || seconds > LONGEST_WINDOW_SECS {
            problems.push(
                window.name.span(),
                format!("window `{}`: duration {} is outside 1s..7d", window.name.get_ref(), window.duration),
                Some("a window lasts minutes or hours, e.g. duration = \"2h\""),
            );
        }
        check_silence(window, problems);
    }
}

/// `silence` holds matchers that parse, and together name something: a window may
/// not silence every alert (no `--force` exists for a file).
fn check_silence(window: &WindowConfig, problems: &mut Problems) {
    let mut parsed = Vec::new();
    for text in &window.silence {
        match crate::engine::matcher::Matcher::parse(text.get_ref()) {
            Ok(matcher) => parsed.push(matcher),
            Err(why) => problems.push(
                text.span(),
                format!("window `{}`: silence matcher {why}", window.name.get_ref()),
                Some("write matchers as Alertmanager does, e.g. silence = ['job=\"api\"', 'env=~\"prod.*\"']"),
            ),
        }
    }
    if parsed.len() == window.silence.len()
        && let Some(first) = window.silence.first()
        && let Some(why) = crate::engine::matcher::too_broad(&parsed, &[])
    {
        problems.push(
            first.span(),
            format!("window `{}`: silence is too broad: {why}", window.name.get_ref()),
            Some("name what the window silences with at least one equality, e.g. 'job=\"api\"'"),
        );
    }
}

/// `dir` and `env` only mean something with a `run`, and a variable needs a usable name.
fn check_run_place(task: &TaskConfig, problems: &mut Problems) {
    let name = task.name.get_ref();
    if task.run.is_none()
        && let Some(dir) = &task.dir
    {
        problems.push(
            dir.span(),
            format!("task `{name}`: `dir` is where `run` starts, but the task has no `run`"),
            Some("add run = [\"program\"] or remove `dir`"),
        );
    }
    if task.run.is_none() && !task.env.is_empty() {
        problems.push(
            task.name.span(),
            format!("task `{name}`: `env` is for `run`, but the task has no `run`"),
            Some("add run = [\"program\"] or remove `env`"),
        );
    }
    for key in task.env.keys() {
        if key.is_empty() || key.contains(['=', '\0']) {
            problems.push(
                task.name.span(),
                format!("task `{name}`: `{}` cannot be an environment variable name", key.escape_debug()),
                Some("names are letters, digits and `_`, e.g. env = { APP_ENV = \"production\" }"),
            );
        }
    }
}

/// Parses `cron`, reporting a bad field at its own column.
fn check_cron(cron: &Spanned<String>, problems: &mut Problems) -> Option<Schedule> {
    match Schedule::parse(cron.get_ref()) {
        Ok(schedule) => Some(schedule),
        Err(err) => {
            let span = inside_string(cron.span(), err.offset);
            problems.push(span, format!("cron `{}`: {err}", cron.get_ref()), err.hint.as_deref());
            None
        }
    }
}

fn check_zone(tz: Option<&Spanned<String>>, problems: &mut Problems) {
    if let Some(tz) = tz
        && let Err(unknown) = Zone::named(tz.get_ref())
    {
        problems.push(tz.span(), unknown.to_string(), Some(unknown.hint()));
    }
}

/// The span of a byte offset inside a quoted TOML string (past the opening quote).
fn inside_string(span: Range<usize>, offset: usize) -> Range<usize> {
    let start = (span.start + 1 + offset).min(span.end.saturating_sub(1).max(span.start));
    start..(start + 1).min(span.end)
}

impl TaskConfig {
    /// The task's zone, falling back to the display zone.
    pub fn zone(&self, default: Zone) -> Zone {
        self.tz.as_ref().and_then(|tz| tz.get_ref().parse().ok()).unwrap_or(default)
    }

    pub fn argv(&self) -> &[String] {
        self.run.as_ref().map_or(&[], |run| run.get_ref().as_slice())
    }
}

impl WindowConfig {
    pub fn zone(&self, default: Zone) -> Zone {
        self.tz.as_ref().and_then(|tz| tz.get_ref().parse().ok()).unwrap_or(default)
    }

    /// The `silence` matchers; the config has been validated, so none fails to parse.
    pub fn silence_matchers(&self) -> Vec<crate::engine::matcher::Matcher> {
        self.silence.iter().filter_map(|text| crate::engine::matcher::Matcher::parse(text.get_ref()).ok()).collect()
    }
}
