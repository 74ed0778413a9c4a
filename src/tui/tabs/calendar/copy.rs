//! `y` on the calendar: the selected task's command as the host runs it.

use super::CalendarTab;
use crate::tui::clipboard::Copied;

impl CalendarTab {
    /// A click on an agenda row selects it (and gives the agenda the focus).
    pub fn click(&mut self, x: u16, y: u16) -> bool {
        let Some(position) = self.hits.get().position_at(x, y) else { return false };
        if position >= self.rows.len() {
            return false;
        }
        self.selected_row = position;
        self.focus = super::Focus::Agenda;
        true
    }

    pub fn copy(&self) -> Option<Copied> {
        let task = self.plan.tasks.get(self.selected_task()?)?;
        let text = match &task.command {
            Some(command) => command.clone(),
            None if !task.argv.is_empty() => crate::action::spec::argv_line(&task.argv),
            None => return None,
        };
        Some(Copied { what: "the task's command", text })
    }
}
