//! The bottom line: host, clock, open incident, last error, and how to get help.

use crate::tui::action::Action;
use crate::tui::model::Model;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let theme = &model.theme;
    let status = &model.status;
    let separator = || Span::styled(" │ ", theme.bar());
    let mut spans = vec![
        Span::styled(format!(" {}", status.host), theme.bar()),
        separator(),
        Span::styled(status.clock.clone(), theme.bar()),
        separator(),
    ];
    match &status.incident {
        Some(incident) => spans.push(Span::styled(format!("INCIDENT {incident}"), theme.crit().patch(theme.bar()))),
        None => spans.push(Span::styled("no open incident", theme.bar())),
    }
    if let Some(health) = &status.health {
        spans.push(separator());
        let style = if health.critical { theme.crit().patch(theme.bar()) } else { theme.bar() };
        spans.push(Span::styled(health.text.clone(), style));
    }
    if let Some(gpu) = &status.gpu {
        spans.push(separator());
        let style = if gpu.critical { theme.crit() } else { theme.warn() };
        spans.push(Span::styled(gpu.text.clone(), style.patch(theme.bar())));
    }
    if let Some(backups) = &status.backups {
        spans.push(separator());
        let style = if backups.critical { theme.crit() } else { theme.warn() };
        spans.push(Span::styled(backups.text.clone(), style.patch(theme.bar())));
    }
    if let Some(window) = &status.window {
        spans.push(separator());
        spans.push(Span::styled(format!("MAINTENANCE {window}"), theme.warn().patch(theme.bar())));
    }
    if let Some(error) = &status.last_error {
        spans.push(separator());
        spans.push(Span::styled(format!("error: {error}"), theme.crit().patch(theme.bar())));
    }
    let help_key = model.keymap.key_for(model.mode(), &Action::ToggleHelp).unwrap_or_else(|| "?".into());
    let palette_key = model.keymap.key_for(model.mode(), &Action::OpenPalette).unwrap_or_else(|| ":".into());
    let hint = format!(" {help_key} help  {palette_key} commands ");
    let [left, right] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(hint.chars().count() as u16)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.bar()), left);
    frame.render_widget(Paragraph::new(Span::styled(hint, theme.bar())), right);
}
