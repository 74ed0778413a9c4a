//! The `?` overlay, generated from the keymap of the current view.
//!
//! ```text
//!        ┌ keys: logs ─────────────────────────┐
//!        │ on this tab                          │
//!        │   f            filter lines          │
//!        │ everywhere                           │
//!        │   q, ctrl-c    quit firstwatch       │
//!        └ esc closes ──────────────────────────┘
//! ```

use super::centered;
use crate::tui::keymap::Mode;
use crate::tui::model::Model;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn render(model: &Model, scroll: u16, frame: &mut Frame, body: Rect) {
    let theme = &model.theme;
    let tab_mode = Mode::Tab(model.tab);
    let mut lines = Vec::new();
    let mut section = |title: String, bindings: Vec<(String, crate::tui::action::Action)>| {
        if bindings.is_empty() {
            return;
        }
        lines.push(Line::styled(title, theme.accent()));
        for (keys, action) in bindings {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<22}"), theme.info()),
                Span::styled(action.describe(), theme.base()),
            ]));
        }
        lines.push(Line::raw(""));
    };
    section(format!("on the {} tab", model.tab.title()), model.keymap.bindings(tab_mode));
    section("everywhere".into(), model.keymap.bindings(Mode::Global));
    let area = centered(body, 72, body.height.saturating_sub(2));
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(format!(" keys: {} ", model.tab.title()), theme.accent()))
        .title_bottom(Span::styled(" esc closes · j/k scroll ", theme.muted()))
        .style(theme.base());
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}
