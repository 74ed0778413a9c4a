//! Drawing the calendar tab.
//!
//! ```text
//! ┌ month ──────────────┐┌ agenda Mon 30 Nov (UTC) ─────────────────────┐
//! │    November 2026    ││ 02:00 log rotation     config   ✓ ok         │
//! │ Su Mo Tu We Th Fr Sa││ 03:00 database backup  config   ✗ exit 1     │
//! │  1  2  3  4  5  6  7││ 09:00 morning check    config   next         │
//! │ ...                 ││ ...                                          │
//! │ Mon 30 Nov: 12 due  ││                                              │
//! │ ✓ 3  ✗ 1  ~ window  ││                                              │
//! └─────────────────────┘└──────────────────────────────────────────────┘
//! ┌ database backup · 0 3 * * * · config ───────────────────────────────┐
//! │ At 03:00 every day · expected 4m00s · ✗ failed (1)                  │
//! │ next  30 Nov 03:00  01 Dec 03:00 ...                                │
//! │ last  29 Nov 03:00  ✗ exit 1   12s  wrap by ana@db1                 │
//! └─────────────────────────────────────────────────────────────────────┘
//! ```
//! `t` swaps the month and agenda for a 7-day x 24-hour grid.

use super::derive::RowState;
use super::{CalendarTab, Focus, week};
use crate::config::units::format_duration;
use crate::schedule::Outcome;
use crate::tui::tabs::ViewCtx;
use crate::util::sanitize::sanitize_str;
use chrono::{Datelike, NaiveDate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::calendar::{CalendarEventStore, Monthly};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn render(tab: &CalendarTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    if !tab.configured {
        render_empty(tab, view, frame, area);
        return;
    }
    let details_height = if area.height >= 36 { 13 } else { 8 };
    let [top, bottom] = Layout::vertical([Constraint::Min(10), Constraint::Length(details_height)]).areas(area);
    if tab.week_view {
        week::render(tab, view, frame, top);
    } else {
        let [month, agenda] = Layout::horizontal([Constraint::Length(25), Constraint::Min(30)]).areas(top);
        render_month(tab, view, frame, month);
        render_agenda(tab, view, frame, agenda);
    }
    render_details(tab, view, frame, bottom);
    if let Some(pending) = &tab.confirm {
        render_confirm(pending, view, frame, bottom);
    }
}

fn render_empty(tab: &CalendarTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(" calendar ", theme.accent()));
    let mut lines = vec![
        Line::styled("No scheduled tasks or maintenance windows.", theme.warn()),
        Line::raw(""),
        Line::raw("Add them to the config, for example:"),
        Line::styled("  [[task]]", theme.muted()),
        Line::styled("  name = \"database backup\"", theme.muted()),
        Line::styled("  cron = \"0 3 * * *\"", theme.muted()),
        Line::styled("  [[window]]", theme.muted()),
        Line::styled("  name = \"weekly maintenance\"", theme.muted()),
        Line::styled("  cron = \"0 3 * * 0\"", theme.muted()),
        Line::styled("  duration = \"2h\"", theme.muted()),
        Line::raw(""),
    ];
    if tab.import_notes.is_empty() {
        lines.push(Line::styled("Reading this host's crontabs and systemd timers…", theme.muted()));
    }
    for note in &tab.import_notes {
        lines.push(Line::styled(format!("· {}", sanitize_str(note)), theme.muted()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

fn to_time_date(date: NaiveDate) -> Option<time::Date> {
    let month = time::Month::try_from(date.month() as u8).ok()?;
    time::Date::from_calendar_date(date.year(), month, date.day() as u8).ok()
}

fn render_month(tab: &CalendarTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let focus = if tab.focus == Focus::Calendar { theme.accent() } else { theme.border() };
    let block = Block::new().borders(Borders::ALL).border_style(theme.border()).title(Span::styled(" month ", focus));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let first = tab.month_first();
    let selected = tab.selected_day();
    let today = tab.today();
    let mut events = CalendarEventStore::default();
    for (index, marks) in tab.marks.iter().enumerate() {
        let Some(day) = first.checked_add_days(chrono::Days::new(index as u64)) else { continue };
        let Some(date) = to_time_date(day) else { continue };
        // Modifiers as well as colours, so the marks survive NO_COLOR.
        let mut style = if marks.failed > 0 {
            theme.crit().add_modifier(Modifier::UNDERLINED)
        } else if marks.ok > 0 {
            theme.ok().add_modifier(Modifier::BOLD)
        } else if marks.due > 0 {
            theme.base()
        } else {
            theme.muted()
        };
        if marks.window {
            style = style.add_modifier(Modifier::ITALIC);
        }
        if day == today {
            style = theme.accent().add_modifier(Modifier::ITALIC | Modifier::UNDERLINED);
        }
        if day == selected {
            style = theme.selection();
        }
        events.add(date, style);
    }
    let Some(display) = to_time_date(selected) else { return };
    let calendar = Monthly::new(display, events)
        .show_month_header(theme.accent())
        .show_weekdays_header(theme.muted())
        .default_style(theme.base());
    let [grid, summary] = Layout::vertical([Constraint::Length(8), Constraint::Min(0)]).areas(inner);
    frame.render_widget(calendar, grid);
    let marks = tab.marks.get(selected.day0() as usize).copied().unwrap_or_default();
    let mut lines = vec![
        Line::styled(
            format!("{}{}", selected.format("%a %d %b"), if selected == today { " today" } else { "" }),
            theme.accent(),
        ),
        Line::from(vec![
            Span::raw(format!("{} due ", marks.due)),
            Span::styled(format!("✓{} ", marks.ok), theme.ok()),
            Span::styled(format!("✗{}", marks.failed), if marks.failed > 0 { theme.crit() } else { theme.muted() }),
            Span::styled(if marks.window { " ~window" } else { "" }, theme.info()),
        ]),
    ];
    let failed_days: Vec<String> =
        tab.marks.iter().enumerate().filter(|(_, m)| m.failed > 0).map(|(i, _)| (i + 1).to_string()).collect();
    if !failed_days.is_empty() {
        lines.push(Line::styled(format!("✗ on {}", failed_days.join(" ")), theme.crit()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), summary);
}

fn state_style(state: &RowState, view: &ViewCtx) -> Style {
    match state {
        RowState::Upcoming => view.theme.info(),
        RowState::Ran { outcome: Outcome::Ok, .. } => view.theme.ok(),
        RowState::Ran { outcome: Outcome::Running, .. } => view.theme.warn(),
        RowState::Ran { .. } | RowState::Missed => view.theme.crit(),
        RowState::Unknown => view.theme.muted(),
    }
}

fn render_agenda(tab: &CalendarTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let zone = tab.zone();
    let focus = if tab.focus == Focus::Agenda { theme.accent() } else { theme.border() };
    let title = format!(" agenda {} ({}) ", tab.selected_day().format("%a %d %b"), zone.name());
    let block = Block::new().borders(Borders::ALL).border_style(theme.border()).title(Span::styled(title, focus));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if tab.rows.is_empty() {
        let text = if tab.plan.tasks.is_empty() { "no tasks, only windows" } else { "nothing scheduled this day" };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.muted())), inner);
        return;
    }
    let wide = inner.width >= 80;
    let name_width = if wide { 30 } else { (inner.width as usize).saturating_sub(30).clamp(10, 24) };
    let visible = inner.height as usize;
    let first = tab.selected_row.saturating_sub(visible.saturating_sub(1));
    tab.hits.set(crate::tui::tabs::ListHits { rows: inner, first });
    let lines: Vec<Line> = tab
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(index, row)| {
            let task = row.task.and_then(|i| tab.plan.tasks.get(i));
            let source = task.map(|t| t.origin.label()).unwrap_or_else(|| "recorded".into());
            let name = match row.folded {
                Some(count) => format!("{} ×{count}", sanitize_str(&row.name)),
                None => sanitize_str(&row.name),
            };
            let marker = if index == tab.selected_row { "›" } else { " " };
            let time = if row.folded.is_some() && row.state == RowState::Upcoming { "next " } else { "" };
            let mut spans = vec![
                Span::raw(format!("{marker}{time}{} ", row.at.with_timezone(&zone).format("%H:%M"))),
                Span::raw(format!("{:<name_width$.name_width$} ", name)),
                Span::styled(format!("{:<9.9}", source), theme.muted()),
                Span::styled(format!("{:<11}", row.state.label()), state_style(&row.state, view)),
            ];
            if wide {
                let expected = task.and_then(|t| t.expected).map(format_duration).unwrap_or_else(|| "-".into());
                let took = match &row.state {
                    RowState::Ran { took: Some(took), .. } => format_duration(*took),
                    _ => String::new(),
                };
                spans.push(Span::styled(format!(" exp {expected:<7} took {took:<7}"), theme.muted()));
                if let Some(task) = task.filter(|t| t.zone != zone) {
                    spans.push(Span::styled(
                        format!(" {} {}", row.at.with_timezone(&task.zone).format("%H:%M"), task.zone.name()),
                        theme.muted(),
                    ));
                }
            }
            // A window's silence as one symbol before its name (the name may be cut); the task pane says it in words.
            if let Some(Some(mark)) = tab.row_silences.get(index) {
                let (text, style) = silence_words(mark, view);
                spans.push(Span::styled(format!(" {}", text.split(' ').next().unwrap_or_default()), style));
            }
            if let Some(window) = &row.in_window {
                let space = if tab.row_silences.get(index).is_some_and(Option::is_some) { "" } else { " " };
                spans.push(Span::styled(
                    if wide { format!("{space}~{window}") } else { format!("{space}~") },
                    theme.info(),
                ));
            }
            let line = Line::from(spans);
            if index == tab.selected_row && tab.focus == Focus::Agenda { line.style(theme.selection()) } else { line }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_details(tab: &CalendarTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let zone = tab.zone();
    let Some(task) = tab.selected_task().and_then(|index| tab.plan.tasks.get(index)) else {
        let block = Block::new().borders(Borders::ALL).border_style(theme.border()).title(" task ");
        let mut lines = windows_lines(tab, view);
        if let Some(notice) = &tab.notice {
            lines.insert(0, Line::styled(notice.clone(), theme.warn()));
        }
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    };
    let title = format!(" {} · {} · {} ", sanitize_str(&task.name), task.spec(), task.origin.label());
    let block =
        Block::new().borders(Borders::ALL).border_style(theme.border()).title(Span::styled(title, theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let state = tab.states.get(&task.name).copied();
    let mut summary = vec![Span::raw(task.describe())];
    if task.zone != zone {
        summary.push(Span::styled(format!(" ({})", task.zone.name()), theme.muted()));
    }
    if let Some(expected) = task.expected {
        summary.push(Span::styled(format!(" · expected {}", format_duration(expected)), theme.muted()));
    }
    if let Some(state) = state {
        let style = if state.needs_attention() { theme.crit() } else { theme.muted() };
        summary.push(Span::styled(format!(" · {}", state.label()), style));
    }
    let mut lines = vec![Line::from(summary)];
    if let (Some(row), Some(Some(mark))) = (tab.rows.get(tab.selected_row), tab.row_silences.get(tab.selected_row))
        && let Some(window) = &row.in_window
    {
        let (text, style) = silence_words(mark, view);
        lines.push(Line::from(vec![
            Span::styled("in    ", theme.muted()),
            Span::raw(format!("{} ", sanitize_str(window))),
            Span::styled(text, style),
        ]));
    }
    if let Some(notice) = &tab.notice {
        lines.push(Line::styled(notice.clone(), theme.warn()));
    }
    let next: Vec<String> = task
        .next_runs(tab.now, 5)
        .iter()
        .map(|at| {
            at.with_timezone(&zone)
                .format(if inner.width >= 100 { "%a %d %b %H:%M" } else { "%d %b %H:%M" })
                .to_string()
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled("next  ", theme.muted()),
        Span::raw(if next.is_empty() { "none".into() } else { next.join("  ") }),
    ]));
    if let Some(command) = task.command.as_deref().or(task.argv.first().map(String::as_str)) {
        let shown = if task.argv.is_empty() { command.to_string() } else { task.argv.join(" ") };
        let user = task.user.as_deref().map(|u| format!(" (as {u})")).unwrap_or_default();
        lines.push(Line::styled(format!("cmd   {}{user}", sanitize_str(&shown)), theme.muted()));
    }
    let room = (inner.height as usize).saturating_sub(lines.len());
    let past: Vec<_> = tab.runs.iter().rev().filter(|run| run.task == task.name).take(room).collect();
    if past.is_empty() && room > 0 {
        lines.push(Line::styled("last  no runs recorded", theme.muted()));
    }
    for run in past {
        let outcome = run.outcome();
        let style = match outcome {
            Outcome::Ok => theme.ok(),
            Outcome::Failed => theme.crit(),
            Outcome::Running => theme.warn(),
        };
        lines.push(Line::from(vec![
            Span::styled("last  ", theme.muted()),
            Span::raw(format!("{} ", run.started.with_timezone(&zone).format("%a %d %b %H:%M"))),
            Span::styled(format!("{:<10}", outcome.label()), style),
            Span::raw(format!(
                "exit {:<4} {:>7}  ",
                run.exit_code.map_or("-".into(), |c| c.to_string()),
                run.duration().map(format_duration).unwrap_or_else(|| "-".into())
            )),
            Span::styled(format!("{:?} by {}", run.how, sanitize_str(&run.user)).to_lowercase(), theme.muted()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// How a window's silence reads: a symbol and words, so it reads without colour too.
fn silence_words(mark: &super::SilenceMark, view: &ViewCtx) -> (String, Style) {
    match mark {
        super::SilenceMark::Silenced(id) => {
            (format!("✓ silenced ({})", crate::silence::plan::short_id(id)), view.theme.ok())
        }
        super::SilenceMark::Missing => ("✗ no silence (schedule silences --apply)".into(), view.theme.warn()),
        super::SilenceMark::Unknown => ("? silence unknown".into(), view.theme.muted()),
    }
}

fn windows_lines<'a>(tab: &CalendarTab, view: &ViewCtx) -> Vec<Line<'a>> {
    let zone = tab.zone();
    tab.plan
        .windows
        .iter()
        .map(|window| {
            let span = window.active_at(tab.now).or_else(|| window.next_after(tab.now));
            let mut line = match (window.active_at(tab.now), window.next_after(tab.now)) {
                (Some(span), _) => Line::styled(
                    format!("● {} active until {}", window.name, span.end.with_timezone(&zone).format("%a %H:%M")),
                    view.theme.warn(),
                ),
                (None, Some(span)) => Line::raw(format!(
                    "○ {} next {}",
                    window.name,
                    span.start.with_timezone(&zone).format("%a %d %b %H:%M")
                )),
                (None, None) => Line::raw(format!("○ {}", window.name)),
            };
            if let Some(mark) = span.and_then(|span| tab.silence_mark(window, span)) {
                let (text, style) = silence_words(&mark, view);
                line.spans.push(Span::styled(format!(" · {text}"), style));
            }
            line
        })
        .collect()
}

fn render_confirm(pending: &super::PendingRun, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.warn())
        .title(Span::styled(" run this task now? ", theme.warn()));
    let argv = pending.command.argv.iter().map(|a| sanitize_str(a)).collect::<Vec<_>>().join(" ");
    let mut lines = vec![
        Line::from(vec![Span::raw("task  "), Span::styled(sanitize_str(&pending.task), theme.accent())]),
        Line::from(vec![Span::raw("argv  "), Span::raw(argv)]),
    ];
    if let Some(dir) = &pending.command.dir {
        lines.push(Line::from(vec![Span::raw("in    "), Span::raw(sanitize_str(&dir.display().to_string()))]));
    }
    if !pending.command.env.is_empty() {
        // Names only: values may be secrets.
        let names: Vec<String> = pending.command.env.keys().map(|k| sanitize_str(k)).collect();
        lines.push(Line::from(vec![Span::raw("env   "), Span::raw(names.join(" "))]));
    }
    lines.extend([Line::raw(""), Line::styled("y = run it now · any other key = cancel", theme.warn())]);
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}
