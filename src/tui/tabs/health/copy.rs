//! `y` on the health tab: the selected check, its target and its last answer.

use super::HealthTab;
use crate::tui::clipboard::Copied;

impl HealthTab {
    pub fn copy(&self) -> Option<Copied> {
        let row = self.selected_row()?;
        let mut text = format!("{} ({} {})", row.name, row.kind, row.target);
        if let Some(last) = &row.last {
            text.push_str(&format!(": {}", last.message));
        }
        Some(Copied { what: "the check and its last result", text })
    }
}
