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

/// The furthest the overlay scrolls: its last line at the bottom of its box, never past it.
pub fn max_scroll(model: &Model) -> u16 {
    let tab = model.keymap.bindings(Mode::Tab(model.tab)).len();
    let global = model.keymap.bindings(Mode::Global).len();
    let section = |n: usize| if n == 0 { 0 } else { n + 2 };
    let lines = section(tab) + section(global);
    // The body is the screen less the tab bar and status line; the box is two rows
    // shorter than it, and its borders take two more.
    let shown = usize::from(model.size.1).saturating_sub(2 + 2 + 2);
    u16::try_from(lines.saturating_sub(shown)).unwrap_or(u16::MAX)
}

pub fn render(model: &Model, scroll: u16, frame: &mut Frame, body: Rect) {
    let scroll = scroll.min(max_scroll(model));
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
