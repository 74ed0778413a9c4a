//! `restore_mode` of a `[[backup]]` set whose backups are trees (tar, tar-gz, dir).

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a tree is restored over an existing target folder.
///
/// `Replace` is the default because a restore should give back exactly what
/// the backup holds: files added since (a module deleted in the backed-up
/// version, a stray config) would otherwise survive the restore unnoticed.
/// `Overlay` is for targets that share their folder with things the backup
/// never held (logs, the backups themselves), as `tar -xzf` over the folder does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RestoreMode {
    /// The whole target folder is swapped for the restored one; the old folder is kept aside whole.
    #[default]
    Replace,
    /// The backup's files are written over the target one by one; only the files they
    /// replace are kept aside, and everything else in the target is left as it is.
    Overlay,
}

impl RestoreMode {
    pub fn name(self) -> &'static str {
        match self {
            RestoreMode::Replace => "replace",
            RestoreMode::Overlay => "overlay",
        }
    }
}

impl fmt::Display for RestoreMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
