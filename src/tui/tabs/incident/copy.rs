//! `y` on the incident tab: the selected action's command line when the actions
//! pane has the focus, else the incident in one line for a chat or a ticket.

use super::{Focus, IncidentTab};
use crate::tui::clipboard::Copied;

impl IncidentTab {
    pub fn copy(&self) -> Option<Copied> {
        if self.focus == Focus::Actions
            && let Some(action) = self.actions.get(self.action_cursor)
        {
            return Some(Copied { what: "the action's command", text: action.argv_line() });
        }
        let incident = &self.record.as_ref()?.incident;
        let text = format!(
            "{:?} {} (open since {} UTC, by {})",
            incident.severity,
            incident.title,
            incident.opened_at.format("%Y-%m-%d %H:%M"),
            incident.opened_by
        );
        Some(Copied { what: "the incident summary", text })
    }
}
