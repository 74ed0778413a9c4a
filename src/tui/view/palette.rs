//! The `:` command palette.
//!
//! ```text
//!        ┌ command ────────────────────────────┐
//!        │ > gpu▏                               │
//!        │ ▶ go to the gpu tab              3   │
//!        │   verify the selected …  backups  v   │
//!        │   ...                                │
//!        └──────────────────────────────────────┘
//! ```

use crate::tui::model::Model;
use crate::tui::palette::Palette;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph};

pub fn render(model: &Model, palette: &Palette, frame: &mut Frame, body: Rect) {
    let theme = &model.theme;
    let width = 64.min(body.width);
    let height = (palette.matches.len() as u16 + 3).clamp(5, 16).min(body.height);
    let area = Rect { x: body.x + (body.width - width) / 2, y: body.y + 1, width, height };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(" command ", theme.accent()))
        .style(theme.base());
    frame.render_widget(Clear, area);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [input, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("> ", theme.accent()),
            Span::raw(palette.query.clone()),
            Span::styled("▏", theme.accent()),
        ])),
        input,
    );
    if palette.matches.is_empty() {
        frame.render_widget(Paragraph::new(Span::styled("  nothing matches", theme.muted())), list);
        return;
    }
    // The label is cut, never the tab or the key: they say where it runs and how to reach it next time.
    let label_width = list.width.saturating_sub(2 + 10 + 10) as usize;
    let items: Vec<ListItem> = palette
        .matches
        .iter()
        .map(|entry| {
            let label: String = entry.label.chars().take(label_width).collect();
            ListItem::new(Line::from(vec![
                Span::raw(format!("{label:<label_width$}")),
                Span::styled(format!("{:>10}", entry.tab.map_or("", |t| t.title())), theme.info()),
                Span::styled(format!("{:>10}", entry.key.as_deref().unwrap_or("")), theme.muted()),
            ]))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(palette.selected));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme.selection()).highlight_symbol("▶ "),
        list,
        &mut state,
    );
}
