//! The week view: seven days by twenty-four hours, one cell per hour.
//!
//! ```text
//!         00    03    06    09    12    15    18    21
//! Sun 29   4 4 4 4 5~5~5 4 4 ✗ 4 4 4 4 4 4 4 4 4 4 4 4 4 4
//! ```
//! A cell shows how many runs fall in that hour (`·` none, `+` ten or more),
//! `✗` when one of them failed, and `~` marks hours inside a maintenance window.

use super::CalendarTab;
use crate::schedule::Outcome;
use crate::tui::tabs::ViewCtx;
use chrono::{Datelike, Duration, NaiveDate, Timelike};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn render(tab: &CalendarTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let zone = tab.zone();
    let selected = tab.selected_day();
    let sunday = selected - Duration::days(i64::from(selected.weekday().num_days_from_sunday()));
    let title = format!(" week of {} ({}) ", sunday.format("%d %b %Y"), zone.name());
    let block =
        Block::new().borders(Borders::ALL).border_style(theme.border()).title(Span::styled(title, theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut header = String::from("        ");
    for hour in (0..24).step_by(3) {
        header.push_str(&format!("{hour:02}    "));
    }
    let mut lines = vec![Line::styled(header, theme.muted())];
    for offset in 0..7 {
        let day = sunday + Duration::days(offset);
        lines.push(day_line(tab, view, day, day == selected));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("digit = runs that hour · + ten or more · ✗ a failure · ~ in a window", theme.muted()));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn day_line<'a>(tab: &CalendarTab, view: &ViewCtx, day: NaiveDate, selected: bool) -> Line<'a> {
    let theme = view.theme;
    let zone = tab.zone();
    let (start, end) = super::derive::day_bounds(day, zone);
    let mut counts = [0u32; 24];
    let mut failed = [false; 24];
    let mut window = [false; 24];
    for task in &tab.plan.tasks {
        for at in task.runs_between(start - Duration::seconds(1), end - Duration::seconds(1), 2000) {
            counts[at.with_timezone(&zone).hour() as usize] += 1;
        }
    }
    for run in tab.runs.iter().filter(|r| r.started >= start && r.started < end) {
        if run.outcome() == Outcome::Failed {
            failed[run.started.with_timezone(&zone).hour() as usize] = true;
        }
    }
    for (hour, in_window) in window.iter_mut().enumerate() {
        let at = start + Duration::hours(hour as i64) + Duration::minutes(30);
        *in_window = tab.plan.in_window(at).is_some();
    }
    let label = format!("{} ", day.format("%a %d"));
    let mut spans = vec![Span::styled(
        format!("{}{label}", if selected { "›" } else { " " }),
        if selected { theme.selection() } else { theme.base() },
    )];
    for hour in 0..24 {
        let count = match counts[hour] {
            0 => "·".to_string(),
            n @ 1..=9 => n.to_string(),
            _ => "+".to_string(),
        };
        let (text, style) = if failed[hour] {
            ("✗".to_string(), theme.crit())
        } else {
            (count, if counts[hour] > 0 { theme.base() } else { theme.muted() })
        };
        spans.push(Span::styled(if window[hour] { "~" } else { " " }, theme.info()));
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}
