//! `y` on the calendar: the selected task's command as the host runs it.

use super::CalendarTab;
use crate::tui::clipboard::Copied;

impl CalendarTab {
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
