//! `[[log]]`: a log followed on the logs tab and by `firstwatch logs`.

use super::Config;
use super::validate::Problems;
use serde::Deserialize;
use toml::Spanned;

/// `[[log]]`: a followed log source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub name: Spanned<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub journald: Option<Vec<String>>,
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    problems.unique_names("log", config.logs.iter().map(|l| &l.name));
}
