//! Finding and reading the config file.

use super::error::{ConfigError, Diagnostic};
use super::{Config, validate};
use std::path::{Path, PathBuf};

/// The commented starter config that `firstwatch init` writes.
pub const STARTER_CONFIG: &str = include_str!("../../assets/firstwatch.example.toml");

/// `firstwatch.toml` in the platform config dir (`~/.config/firstwatch/` on Linux).
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "firstwatch").map(|dirs| dirs.config_dir().join("firstwatch.toml"))
}

/// `--config PATH`, else `$FIRSTWATCH_CONFIG`, else the platform default.
pub fn resolve_config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("FIRSTWATCH_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from))
        .or_else(default_config_path)
}

/// Reads, parses and validates the config at `path`.
///
/// A relative `path` is made absolute against the current directory first, so
/// the config's own relative paths (`dir`, `data_dir`, runbooks) mean the same
/// wherever the process later runs its commands.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let absolute = absolute(path);
    let path = absolute.as_path();
    let metadata = std::fs::metadata(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => ConfigError::NotFound { path: path.to_path_buf() },
        _ => ConfigError::Unreadable { path: path.to_path_buf(), reason: err.to_string() },
    })?;
    if metadata.is_dir() {
        return Err(ConfigError::Unreadable {
            path: path.to_path_buf(),
            reason: "it is a directory; point --config at the TOML file inside it".into(),
        });
    }
    let bytes = std::fs::read(path)
        .map_err(|err| ConfigError::Unreadable { path: path.to_path_buf(), reason: err.to_string() })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&err.as_bytes()[..valid]).into_owned();
            let diagnostic = Diagnostic::at(path, &prefix, Some(valid..valid), "the file is not valid UTF-8")
                .with_hint("TOML files must be UTF-8 text");
            return Err(ConfigError::Invalid(vec![diagnostic]));
        }
    };
    load_str(&text, path)
}

/// Parses and validates config text as if read from `path` (used by tests and the demo).
pub fn load_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let mut config: Config = toml::from_str(text).map_err(|err| {
        let message = err.message().trim().to_string();
        let hint = hint_for(&message);
        let mut diagnostic = Diagnostic::at(path, text, err.span(), message);
        if let Some(hint) = hint {
            diagnostic = diagnostic.with_hint(hint);
        }
        ConfigError::Invalid(vec![diagnostic])
    })?;
    config.path = Some(absolute(path));
    config.source = text.into();
    let problems = validate::validate(&config, text, path);
    if problems.is_empty() { Ok(config) } else { Err(ConfigError::Invalid(problems)) }
}

/// `path` joined to the current directory when relative. Symlinks are not
/// resolved: the folder a user named is the folder its relative paths mean.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn hint_for(message: &str) -> Option<&'static str> {
    if message.starts_with("unknown field") {
        Some("check the spelling; `firstwatch init` writes a commented example of every section")
    } else if message.starts_with("invalid type") {
        Some("strings need quotes, lists need [ ], durations are strings such as \"15s\"")
    } else if message.starts_with("missing field") {
        Some("this section needs that key")
    } else if message.contains("duplicate key") {
        Some("each key may appear once per table")
    } else {
        None
    }
}
