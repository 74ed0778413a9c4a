//! Tab bodies. Each tab's work replaces its placeholder with a folder of its own.

mod placeholder;

use super::model::Model;
use super::tab::TabId;
use ratatui::Frame;
use ratatui::layout::Rect;

pub fn render(model: &Model, frame: &mut Frame, area: Rect) {
    match model.tab {
        tab @ (TabId::Health | TabId::Calendar | TabId::Gpu | TabId::Logs | TabId::Backups | TabId::Incident) => {
            placeholder::render(model, tab, frame, area)
        }
    }
}
