//! `y` on the logs tab: the line of the current search match, else the newest line on screen.

use super::LogsTab;
use crate::tui::clipboard::Copied;

impl LogsTab {
    pub fn copy(&self) -> Option<Copied> {
        let view = self.view.as_ref()?;
        let matched = view
            .current_match()
            .and_then(|seq| (0..view.len()).rev().find(|&i| view.get(i).is_some_and(|l| l.seq == seq)));
        let line = view.get(matched.or_else(|| view.bottom())?)?;
        Some(Copied { what: "the log line", text: line.text.to_string() })
    }
}
