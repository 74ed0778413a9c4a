//! `[[task]]` and `[[window]]`: scheduled maintenance and the windows it runs in.

use super::Config;
use super::units::HumanDuration;
use super::validate::Problems;
use serde::Deserialize;
use toml::Spanned;

/// `[[task]]`: a scheduled maintenance task.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub name: Spanned<String>,
    pub cron: Spanned<String>,
    #[serde(default)]
    pub tz: Option<Spanned<String>>,
    #[serde(default)]
    pub run: Vec<String>,
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
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    problems.unique_names("task", config.tasks.iter().map(|t| &t.name));
    problems.unique_names("window", config.windows.iter().map(|w| &w.name));
}
