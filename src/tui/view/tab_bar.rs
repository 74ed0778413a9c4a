//! The top line: the app's name, the six tabs with their number keys, and
//! the environment label.

use crate::tui::model::Model;
use crate::tui::tab::TabId;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const NAME: &str = " firstwatch ";
const BAR: &str = "│";

fn tab_label(number: usize, tab: TabId) -> String {
    format!(" {} {} ", number + 1, tab.title())
}

/// The tab whose label covers column `x` of the tab bar, for a mouse click.
pub fn tab_at(x: u16) -> Option<TabId> {
    let mut start = crate::util::width::width(NAME) + crate::util::width::width(BAR);
    for (number, tab) in TabId::ALL.iter().enumerate() {
        let end = start + crate::util::width::width(&tab_label(number, *tab));
        if (start..end).contains(&usize::from(x)) {
            return Some(*tab);
        }
        start = end;
    }
    None
}

pub fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let theme = &model.theme;
    let mut spans = vec![Span::styled(NAME, theme.accent().patch(theme.bar())), Span::styled(BAR, theme.bar())];
    for (number, tab) in TabId::ALL.iter().enumerate() {
        let label = tab_label(number, *tab);
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
