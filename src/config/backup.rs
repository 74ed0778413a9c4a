//! `[[backup]]`: a backup set on the backups tab and for `firstwatch backups`.

use super::Config;
use super::units::HumanDuration;
use super::validate::Problems;
use serde::Deserialize;
use std::path::PathBuf;
use toml::Spanned;

/// `[[backup]]`: a set of backups in one folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    pub name: Spanned<String>,
    pub dir: PathBuf,
    pub pattern: String,
    pub format: String,
    #[serde(default)]
    pub restore_to: Option<PathBuf>,
    #[serde(default)]
    pub keep: Option<HumanDuration>,
    #[serde(default)]
    pub keep_last: Option<u32>,
    #[serde(default)]
    pub every: Option<HumanDuration>,
    #[serde(default)]
    pub count: Vec<String>,
}

pub(super) fn validate(config: &Config, problems: &mut Problems) {
    problems.unique_names("backup", config.backups.iter().map(|b| &b.name));
}
