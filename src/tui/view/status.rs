//! The bottom line: host, clock, and the few things that matter on every tab
//! (the last error, the open incident, a maintenance window, failing checks,
//! GPU and backup alerts), then how to get help.
//!
//! At 80 columns not everything fits, so segments are kept by importance and
//! drawn in a fixed order: what is dropped is the least urgent, never the error.

use crate::tui::action::Action;
use crate::tui::model::{HealthSummary, Model};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

const SEPARATOR: &str = " │ ";
/// The importance of what is only reassurance ("no open incident"): the first to go.
const REASSURANCE: u8 = 9;

/// One piece of the line: where it is drawn, how much it matters, and how it looks.
struct Segment {
    order: u8,
    /// Lower is kept first.
    importance: u8,
    text: String,
    style: Style,
}

pub fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let theme = &model.theme;
    let status = &model.status;
    let bar = theme.bar();
    let alert = |summary: &HealthSummary| if summary.critical { theme.crit() } else { theme.warn() }.patch(bar);
    let mut segments = Vec::new();
    let mut add = |order: u8, importance: u8, text: String, style: Style| {
        segments.push(Segment { order, importance, text, style });
    };
    if let Some((notice, _)) = &status.notice {
        add(0, 0, notice.clone(), theme.ok().patch(bar));
    }
    if let Some(error) = &status.last_error {
        add(7, 0, format!("error: {error}"), theme.crit().patch(bar));
    }
    match &status.incident {
        Some(incident) => add(1, 1, format!("INCIDENT {incident}"), theme.crit().patch(bar)),
        None => add(1, REASSURANCE, "no open incident".into(), bar),
    }
    if let Some(window) = &status.window {
        add(6, 2, format!("MAINTENANCE {window}"), theme.warn().patch(bar));
    }
    if let Some(health) = &status.health {
        let style = if health.critical { theme.crit().patch(bar) } else { bar };
        add(2, 3, health.text.clone(), style);
    }
    if let Some(gpu) = &status.gpu {
        add(3, 4, gpu.text.clone(), alert(gpu));
    }
    if let Some(backups) = &status.backups {
        add(4, 5, backups.text.clone(), alert(backups));
    }

    let help_key = model.keymap.key_for(model.mode(), &Action::ToggleHelp).unwrap_or_else(|| "?".into());
    let palette_key = model.keymap.key_for(model.mode(), &Action::OpenPalette).unwrap_or_else(|| ":".into());
    let full_hint = format!(" {help_key} help  {palette_key} commands ");
    let head = format!(" {}{SEPARATOR}{}", status.host, status.clock);
    // The palette hint gives way first; the help key always stays.
    let hint = if fits(&head, &segments, area.width, &full_hint) { full_hint } else { format!(" {help_key} help ") };
    let room = usize::from(area.width).saturating_sub(hint.width() + head.width());
    let kept = keep_what_fits(segments, room);

    let mut spans = vec![Span::styled(head, bar)];
    for segment in kept {
        spans.push(Span::styled(SEPARATOR, bar));
        spans.push(Span::styled(segment.text, segment.style));
    }
    let [left, right] = Layout::horizontal([Constraint::Min(1), Constraint::Length(hint.width() as u16)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), left);
    frame.render_widget(Paragraph::new(Span::styled(hint, bar)), right);
}

/// Whether everything important fits beside the full hint.
fn fits(head: &str, segments: &[Segment], width: u16, hint: &str) -> bool {
    let needed: usize = segments
        .iter()
        .filter(|s| s.importance < REASSURANCE)
        .map(|s| s.text.width() + SEPARATOR.width())
        .sum::<usize>();
    head.width() + needed + hint.width() <= usize::from(width)
}

/// The most important segments that fit in `room` cells, back in drawing order.
/// The first one is kept even if it must be cut, so an error is never hidden.
fn keep_what_fits(mut segments: Vec<Segment>, room: usize) -> Vec<Segment> {
    segments.sort_by_key(|s| s.importance);
    let mut used = 0;
    let mut kept = Vec::new();
    for (position, segment) in segments.into_iter().enumerate() {
        let width = segment.text.width() + SEPARATOR.width();
        if used + width <= room || position == 0 {
            used += width;
            kept.push(segment);
        }
    }
    kept.sort_by_key(|s| s.order);
    kept
}
