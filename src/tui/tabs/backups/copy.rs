//! `y` on the backups tab: the selected backup's path (or the set's folder).

use super::BackupsTab;
use crate::tui::clipboard::Copied;

impl BackupsTab {
    pub fn copy(&self) -> Option<Copied> {
        if let Some((_, backup)) = self.selected_backup() {
            return Some(Copied { what: "the backup's path", text: backup.entry.path.display().to_string() });
        }
        let set = self.selected_set()?;
        Some(Copied { what: "the set's folder", text: set.dir.display().to_string() })
    }
}
