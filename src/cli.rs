//! What every headless subcommand shares from the command line.

/// The global flags, as the subcommands see them.
#[derive(Debug, Clone, Default)]
pub struct Global {
    /// `--read-only` (or `settings.read_only`): refuse every action.
    pub read_only: bool,
    pub theme: Option<String>,
}
