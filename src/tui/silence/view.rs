//! Drawing the silence dialog and the silences overlay, centred over the body.
//!
//! ```text
//! ┌ silence on am ─────────────────────────────────────────────────────┐
//! │›matcher  alertname="ApiDown"_                                      │
//! │ matcher  job="api"                                                 │
//! │ duration 2h  (Mon 18:10 → Mon 20:10 UTC)                           │
//! │ comment  disk swap                                                 │
//! │                                                                    │
//! │ reach    would silence 1 active alert now (of 3 firing)            │
//! │ by       ana@bastion                                               │
//! │                                                                    │
//! │ tab/↑↓ field · ctrl-n add · ctrl-d drop · ctrl-f force · enter …   │
//! └────────────────────────────────────────────────────────────────────┘
//! ┌ silences: 2 active, 1 pending ─────────────────────────────────────┐
//! │  id       engine   state      left              matchers  by: why  │
//! │› 56a42030 am       ● active   1h59m left        alertname="X" ...  │
//! │ x expire · r reload · j/k move · esc close                         │
//! └────────────────────────────────────────────────────────────────────┘
//! ```

use super::dialog::{Alerts, Field, SilenceDialog, Stage};
use super::list::SilencesOverlay;
use crate::theme::Theme;
use crate::tui::model::Model;
use crate::tui::view::centered;
use crate::util::sanitize::sanitize_str;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

fn popup(title: String, theme: &Theme, frame: &mut Frame, rect: Rect) -> Rect {
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .style(theme.base())
        .title(Span::styled(format!(" {title} "), theme.accent()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

fn field<'a>(name: &str, value: String, style: Style, theme: &Theme) -> Line<'a> {
    Line::from(vec![Span::styled(format!("{name:<10}"), theme.muted()), Span::styled(value, style)])
}

pub fn render_dialog(model: &Model, dialog: &SilenceDialog, frame: &mut Frame, area: Rect) {
    let theme = &model.theme;
    let zone = model.status.zone;
    let preview = dialog.preview(model.wall);
    let mut lines: Vec<Line> = Vec::new();
    let editing = dialog.stage == Stage::Edit;
    let cursor = |focused: bool| if focused && editing { "_" } else { "" };
    for (index, text) in dialog.matchers.iter().enumerate() {
        let focused = dialog.focus == Field::Matcher(index);
        let style = if text.trim().is_empty() || crate::engine::matcher::Matcher::parse(text).is_ok() {
            theme.base()
        } else {
            theme.crit()
        };
        let name = if focused && editing { "›matcher" } else { " matcher" };
        lines.push(field(name, format!("{}{}", sanitize_str(text), cursor(focused)), style, theme));
    }
    let times = match &preview {
        Ok(preview) => format!(
            "  ({} → {})",
            preview.starts_at.with_timezone(&zone).format("%a %H:%M"),
            preview.ends_at.with_timezone(&zone).format("%a %H:%M %Z")
        ),
        Err(_) => String::new(),
    };
    let focused = dialog.focus == Field::Duration;
    let name = if focused && editing { "›duration" } else { " duration" };
    lines.push(field(name, format!("{}{}{times}", dialog.duration, cursor(focused)), theme.base(), theme));
    let focused = dialog.focus == Field::Comment;
    let name = if focused && editing { "›comment" } else { " comment" };
    let comment = if dialog.comment.is_empty() && !focused {
        "(required: why)".to_string()
    } else {
        sanitize_str(&dialog.comment)
    };
    lines.push(field(name, format!("{comment}{}", cursor(focused)), theme.base(), theme));
    let mut bottom: Vec<Line> = vec![Line::raw("")];
    let reach = match (&dialog.alerts, &preview) {
        (Alerts::Loading, _) => ("reading the alerts …".to_string(), theme.muted()),
        (Alerts::Failed(why), _) => (format!("alerts not counted: {}", sanitize_str(why)), theme.warn()),
        (Alerts::Loaded(_), Ok(preview)) => match &preview.reach {
            Ok(reach) => (reach.describe(), theme.info()),
            Err(why) => (sanitize_str(why), theme.warn()),
        },
        (Alerts::Loaded(_), Err(why)) => (sanitize_str(why), theme.crit()),
    };
    bottom.push(field(" reach", reach.0, reach.1, theme));
    if let Ok(Some(why)) = preview.as_ref().map(|p| p.broad.clone()) {
        let text = if dialog.force { format!("⚠ FORCED: {why}") } else { format!("⚠ {why}; ctrl-f forces") };
        bottom.push(field(" broad", text, theme.crit(), theme));
    }
    bottom.push(field(" by", sanitize_str(&dialog.created_by), theme.muted(), theme));
    bottom.push(Line::raw(""));
    match &dialog.stage {
        Stage::Edit => {
            if let Some(error) = &dialog.error {
                bottom.push(Line::styled(format!("✗ {}", sanitize_str(error)), theme.crit()));
            }
            bottom.push(Line::styled(
                "tab/↑↓ field · ctrl-n add · ctrl-d drop matcher · ctrl-f force · enter confirm · esc cancel",
                theme.muted(),
            ));
        }
        Stage::Confirm { batch, typed, error, .. } => {
            bottom.push(Line::styled(
                format!("type the engine name `{}` and press enter; esc or an empty enter goes back", batch.engine()),
                theme.warn(),
            ));
            bottom.push(Line::from(vec![Span::styled("> ", theme.accent()), Span::raw(format!("{typed}_"))]));
            if let Some(error) = error {
                bottom.push(Line::styled(format!("refused: {error}"), theme.crit()));
            }
        }
        Stage::Sending => {
            bottom.push(Line::styled(
                "creating the silence … (esc closes; it goes on under its supervisor)",
                theme.warn(),
            ));
        }
        Stage::Done(Ok(id)) => {
            bottom.push(Line::styled(format!("✓ silence {} created", sanitize_str(id)), theme.ok()));
            bottom.push(Line::styled("enter or esc closes", theme.muted()));
        }
        Stage::Done(Err(why)) => {
            bottom.push(Line::styled(format!("✗ not created: {}", sanitize_str(why)), theme.crit()));
            bottom.push(Line::styled("enter or esc closes", theme.muted()));
        }
    }
    // The fields scroll (an alert may carry many labels); what it would do and the question stay in view.
    let width = area.width.saturating_sub(4).min(96);
    let inner_width = usize::from(width.saturating_sub(2)).max(1);
    let bottom_height: u16 = bottom.iter().map(|line| line.width().max(1).div_ceil(inner_width) as u16).sum();
    let height = (lines.len() as u16 + bottom_height + 2).min(area.height);
    let rect = centered(area, width, height);
    let inner = popup(format!("silence on {}", sanitize_str(&dialog.engine)), theme, frame, rect);
    let [top, foot] = Layout::vertical([Constraint::Min(1), Constraint::Length(bottom_height)]).areas(inner);
    let focus_row = match dialog.focus {
        Field::Matcher(index) => index,
        Field::Duration => dialog.matchers.len(),
        Field::Comment => dialog.matchers.len() + 1,
    };
    let scroll = focus_row.saturating_sub(usize::from(top.height).saturating_sub(1));
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), top);
    frame.render_widget(Paragraph::new(bottom).wrap(Wrap { trim: false }), foot);
}

pub fn render_list(model: &Model, list: &SilencesOverlay, frame: &mut Frame, area: Rect) {
    let theme = &model.theme;
    let count = |state: &str| list.rows.iter().filter(|r| r.silence.status.state == state).count();
    let title = if list.loading && list.rows.is_empty() {
        "silences: reading …".to_string()
    } else {
        format!("silences: {} active, {} pending, {} expired", count("active"), count("pending"), count("expired"))
    };
    let rect = centered(area, area.width.saturating_sub(4).min(130), area.height.saturating_sub(2));
    let inner = popup(title, theme, frame, rect);
    let footer_height = 2 + u16::from(list.confirm.is_some()) * 2;
    let [body, footer] = Layout::vertical([Constraint::Min(1), Constraint::Length(footer_height)]).areas(inner);
    let mut lines = vec![Line::styled(
        format!("  {:<8} {:<10} {:<10} {:<17} {}", "id", "engine", "state", "left", "matchers · by: comment"),
        theme.muted(),
    )];
    for error in &list.errors {
        lines.push(Line::styled(format!("✗ {}", sanitize_str(error)), theme.crit()));
    }
    if list.rows.is_empty() && !list.loading {
        lines.push(Line::styled("no silences", theme.muted()));
    }
    let room = (body.height as usize).saturating_sub(lines.len()).max(1);
    let first = list.selected.saturating_sub(room.saturating_sub(1));
    for (index, row) in list.rows.iter().enumerate().skip(first).take(room) {
        let silence = &row.silence;
        let (mark, style) = match silence.status.state.as_str() {
            "active" => ("● active", theme.warn()),
            "pending" => ("○ pending", theme.info()),
            _ => ("· expired", theme.muted()),
        };
        let pointer = if index == list.selected { "›" } else { " " };
        let line = Line::from(vec![
            Span::raw(format!(
                "{pointer} {:<8} {:<10.10} ",
                crate::silence::plan::short_id(&sanitize_str(&silence.id)),
                sanitize_str(&row.engine)
            )),
            Span::styled(format!("{mark:<10} "), style),
            Span::raw(format!("{:<17} ", crate::silence::list::time_left(silence, model.wall))),
            Span::raw(sanitize_str(&silence.matchers_text())),
            Span::styled(
                format!(" · {}: {}", sanitize_str(&silence.created_by), sanitize_str(&silence.comment)),
                theme.muted(),
            ),
        ]);
        lines.push(if index == list.selected { line.style(theme.selection()) } else { line });
    }
    frame.render_widget(Paragraph::new(lines), body);
    let mut foot = Vec::new();
    if let Some(confirm) = &list.confirm {
        foot.push(Line::styled(
            format!(
                "expire {} on {}? type `{}` and press enter; esc keeps it",
                confirm.expiry.short_id(),
                confirm.expiry.engine,
                confirm.expiry.short_id()
            ),
            theme.warn(),
        ));
        let refused = confirm.error.as_ref().map(|e| format!("   refused: {e}")).unwrap_or_default();
        foot.push(Line::from(vec![
            Span::styled("> ", theme.accent()),
            Span::raw(format!("{}_", confirm.typed)),
            Span::styled(refused, theme.crit()),
        ]));
    }
    foot.push(match &list.notice {
        Some(notice) => Line::styled(sanitize_str(notice), theme.info()),
        None => Line::raw(""),
    });
    foot.push(Line::styled("x expire · r reload · j/k move · esc close", theme.muted()));
    frame.render_widget(Paragraph::new(foot), footer);
}
