//! `y` on the backups tab: the selected backup's path (or the set's folder).

use super::BackupsTab;
use crate::tui::clipboard::Copied;

impl BackupsTab {
    /// A click on a row selects it.
    pub fn click(&mut self, x: u16, y: u16) -> bool {
        let Some(position) = self.hits.get().position_at(x, y) else { return false };
        if position >= self.rows().len() {
            return false;
        }
        self.selected = position;
        true
    }

    pub fn copy(&self) -> Option<Copied> {
        if let Some((_, backup)) = self.selected_backup() {
            return Some(Copied { what: "the backup's path", text: backup.entry.path.display().to_string() });
        }
        let set = self.selected_set()?;
        Some(Copied { what: "the set's folder", text: set.dir.display().to_string() })
    }
}
