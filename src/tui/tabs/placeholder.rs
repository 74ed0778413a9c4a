//! The body of a tab that is not built yet: it says so plainly.

use super::ViewCtx;
use crate::tui::tab::TabId;
use crate::tui::view::centered;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

fn promise(tab: TabId) -> &'static str {
    match tab {
        TabId::Health => "Live HTTP, TCP, command, SQLite and system checks with latency and uptime.",
        TabId::Calendar => "Scheduled maintenance tasks and windows on a month calendar, with past runs.",
        TabId::Gpu => "NVIDIA GPU gauges and processes through NVML.",
        TabId::Logs => "Several logs followed at once, filtered and highlighted, surviving rotation.",
        TabId::Backups => "Backup sets listed, verified, browsed and restored.",
        TabId::Incident => "Runbook checklists with a T+ clock, confirmed actions and the audit log.",
    }
}

pub fn render(view: &ViewCtx, tab: TabId, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(format!(" {} ", tab.title()), theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = vec![
        Line::styled(format!("The {} tab is not built yet.", tab.title()), theme.warn()),
        Line::raw(""),
        Line::styled(promise(tab), theme.muted()),
    ];
    let box_area = centered(inner, 60, 4);
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).centered(), box_area);
}
