//! The top line: the app's name, the six tabs with their number keys, and
//! the environment label.

use crate::tui::model::Model;
use crate::tui::tab::TabId;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let theme = &model.theme;
    let mut spans =
        vec![Span::styled(" firstwatch ", theme.accent().patch(theme.bar())), Span::styled("│", theme.bar())];
    for (number, tab) in TabId::ALL.iter().enumerate() {
        let label = format!(" {} {} ", number + 1, tab.title());
        let style = if *tab == model.tab { theme.selection() } else { theme.bar() };
        spans.push(Span::styled(label, style));
    }
    let label = model.environment.as_deref().map(|env| format!(" [{env}] ")).unwrap_or_default();
    let [left, right] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(crate::util::width::width(&label) as u16)])
            .areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.bar()), left);
    frame.render_widget(Paragraph::new(Span::styled(label, theme.warn().patch(theme.bar()))), right);
}
