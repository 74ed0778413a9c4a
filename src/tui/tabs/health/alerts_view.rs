//! Drawing the health tab's alerts section, under the checks.
//!
//! ```text
//! │ alerts · 1 critical, 1 warning, 1 suppressed · am-eu unreadable        │
//! │   am › alertname="ApiDown", job="api" (team-api)                       │
//! │ ▶ ✗ critical ApiDown            active       12m  api is down          │
//! │   ▲ warning  DiskFull           suppressed 2h05m  disk 91% full        │
//! │   ? am-eu    unknown            engine `am-eu`: unreachable: …         │
//! ├ ApiDown ───────────────────────────────────────────────────────────────┤
//! │ detail: state, since, engine, summary, labels, annotations, silenced   │
//! │ by, the generator URL (enter opens it; two lines otherwise)            │
//! ```
//! Only the lines that fit are built, so 1,000 alerts cost a screenful.

use super::HealthTab;
use super::alerts::{AlertLine, AlertsSection};
use crate::engine::alerts::{AlertView, Severity, State, age};
use crate::tui::tabs::ViewCtx;
use crate::util::width::{truncate, width};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use std::sync::Arc;

/// From this width the alert name gets more room.
const WIDE: u16 = 110;

/// Splits the list area between the checks and the alerts: each gets what it
/// needs when both fit, else the alerts at least half.
pub fn split(tab: &HealthTab, area: Rect) -> (Rect, Option<Rect>) {
    if !tab.alerts.present() {
        return (area, None);
    }
    if tab.rows.is_empty() {
        return (Rect { height: 0, ..area }, Some(area));
    }
    let total = area.height;
    let checks_need = tab.order.len() as u16 + 1;
    let alerts_need = tab.alerts.lines.len() as u16 + 1;
    let checks = if checks_need + alerts_need <= total {
        checks_need
    } else {
        checks_need.min(total.saturating_sub(alerts_need).max(total / 2)).max(3.min(total))
    };
    let alerts = Rect { y: area.y + checks, height: total - checks, ..area };
    (Rect { height: checks, ..area }, Some(alerts))
}

pub fn render_section(tab: &HealthTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let section = &tab.alerts;
    if area.height == 0 {
        return;
    }
    let mut lines = vec![heading(section, view)];
    let visible = usize::from(area.height.saturating_sub(1));
    let offset = section.cursor.map_or(0, |c| (c + 1).saturating_sub(visible));
    let body = Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area };
    section.hits.set(super::super::ListHits { rows: body, first: offset });
    let name_width = if area.width >= WIDE { 28 } else { 18 };
    for (index, line) in section.lines.iter().enumerate().skip(offset).take(visible) {
        let selected = section.cursor == Some(index);
        let mut drawn = match line {
            AlertLine::Group { engine, labels, receiver } => {
                Line::styled(format!(" {engine} › {labels} ({receiver})"), view.theme.muted())
            }
            AlertLine::Alert(alert) => alert_line(alert, name_width, view),
            AlertLine::Unreadable { engine, error } => Line::from(vec![
                Span::styled("? ", view.theme.warn()),
                Span::raw(pad(&truncate(engine, 8), 9)),
                Span::styled(pad("unknown", name_width + 1), view.theme.warn()),
                Span::styled(error.clone(), view.theme.warn()),
            ]),
        };
        let marker = if selected { "▶" } else { " " };
        if !matches!(line, AlertLine::Group { .. }) {
            drawn.spans.insert(0, Span::raw(marker));
        }
        if selected {
            drawn = drawn.patch_style(view.theme.selection());
        }
        lines.push(drawn);
    }
    if section.lines.is_empty() && section.waiting().next().is_none() {
        lines.push(Line::styled("  no alerts", view.theme.muted()));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `alerts · 1 critical, 2 warning, 1 suppressed · reading am-eu…`
fn heading(section: &AlertsSection, view: &ViewCtx) -> Line<'static> {
    let theme = view.theme;
    let counts = &section.counts;
    let mut spans = vec![Span::styled("alerts", theme.accent())];
    let mut parts: Vec<Span> = Vec::new();
    for (n, word, style) in [
        (counts.critical, "critical", theme.crit()),
        (counts.warning, "warning", theme.warn()),
        (counts.info, "info", theme.muted()),
        (counts.unprocessed, "unprocessed", theme.muted()),
        (counts.suppressed, "suppressed", theme.muted()),
        (counts.unreadable, "unreadable", theme.warn()),
    ] {
        if n > 0 {
            parts.push(Span::styled(format!("{n} {word}"), style));
        }
    }
    if !parts.is_empty() {
        spans.push(Span::raw(" · "));
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                spans.push(Span::raw(", "));
            }
            spans.push(part);
        }
    }
    let waiting: Vec<&str> = section.waiting().collect();
    if !waiting.is_empty() {
        spans.push(Span::styled(format!(" · reading {}…", waiting.join(", ")), theme.muted()));
    }
    Line::from(spans)
}

fn severity_style(alert: &AlertView, view: &ViewCtx) -> Style {
    let theme = view.theme;
    match (alert.state, alert.severity) {
        (State::Suppressed | State::Unprocessed, _) => theme.muted(),
        (_, Severity::Critical) => theme.crit(),
        (_, Severity::Warning | Severity::None) => theme.warn(),
        (_, Severity::Info) => theme.info(),
    }
}

/// `✗ critical ApiDown            active       12m  api is down`.
fn alert_line(alert: &AlertView, name_width: usize, view: &ViewCtx) -> Line<'static> {
    let style = severity_style(alert, view);
    let severity = alert.severity_label.as_deref().map_or("-".to_string(), |label| truncate(label, 8));
    let state_style = if alert.state == State::Active { Style::new() } else { view.theme.muted() };
    Line::from(vec![
        Span::styled(format!("{} ", alert.severity.symbol()), style),
        Span::styled(pad(&severity, 9), style),
        Span::raw(pad(&truncate(&alert.name, name_width), name_width + 1)),
        Span::styled(format!("{:<11}", alert.state.as_str()), state_style),
        Span::raw(format!("{:>6}  ", age(alert.starts_at, view.wall))),
        Span::raw(alert.summary()),
    ])
}

/// Two lines under the list for the selected alert (or unreadable engine).
pub fn render_strip(line: &AlertLine, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let text = match line {
        AlertLine::Alert(alert) => vec![
            Line::from(vec![
                Span::styled(alert.name.clone(), theme.accent()),
                Span::styled(format!("  {} · {}", alert.engine, labels_text(alert)), theme.muted()),
            ]),
            Line::styled(silenced_text(alert).unwrap_or_else(|| alert.summary()), severity_style(alert, view)),
        ],
        AlertLine::Unreadable { engine, error } => vec![
            Line::styled(format!("{engine} could not be read"), theme.warn()),
            Line::styled(error.clone(), theme.muted()),
        ],
        AlertLine::Group { .. } => Vec::new(),
    };
    frame.render_widget(Paragraph::new(text), area);
}

/// The detail pane: state, times, engine, labels, annotations, silences, source.
pub fn render_detail(line: &AlertLine, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let title = match line {
        AlertLine::Alert(alert) => alert.name.clone(),
        AlertLine::Unreadable { engine, .. } => engine.clone(),
        AlertLine::Group { labels, .. } => labels.clone(),
    };
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border())
        .title(Span::styled(format!(" {title} "), theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text = match line {
        AlertLine::Alert(alert) => detail_lines(alert, view),
        AlertLine::Unreadable { engine, error } => vec![
            Line::styled(format!("? {engine} could not be read; its alerts are unknown"), theme.warn()),
            Line::raw(error.clone()),
            Line::styled("r reads every Alertmanager again", theme.muted()),
        ],
        AlertLine::Group { .. } => Vec::new(),
    };
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
}

fn detail_lines(alert: &Arc<AlertView>, view: &ViewCtx) -> Vec<Line<'static>> {
    let theme = view.theme;
    let style = severity_style(alert, view);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!(
                    "{} {} {}",
                    alert.severity.symbol(),
                    alert.severity_label.as_deref().unwrap_or("(no severity)"),
                    alert.state.as_str()
                ),
                style,
            ),
            Span::raw(format!(
                " since {} (for {})",
                alert.starts_at.with_timezone(&view.zone).format("%m-%d %H:%M:%S"),
                age(alert.starts_at, view.wall)
            )),
            Span::styled(format!(" · {} · fingerprint {}", alert.engine, alert.fingerprint), theme.muted()),
        ]),
        Line::from(vec![Span::styled("labels: ", theme.muted()), Span::raw(labels_text(alert))]),
    ];
    if let Some(silenced) = silenced_text(alert) {
        lines.push(Line::styled(silenced, theme.muted()));
    }
    if !alert.annotations.is_empty() {
        lines.push(Line::styled("annotations:", theme.muted()));
    }
    for (key, value) in &alert.annotations {
        let mut rows = value.lines();
        let first = rows.next().unwrap_or_default().to_string();
        lines.push(Line::from(vec![Span::styled(format!("  {key}: "), theme.muted()), Span::raw(first)]));
        lines.extend(rows.map(|row| Line::raw(format!("    {row}"))));
    }
    if let Some(url) = &alert.generator_url {
        lines.push(Line::from(vec![Span::styled("source: ", theme.muted()), Span::raw(url.clone())]));
    }
    if !alert.receivers.is_empty() {
        lines.push(Line::styled(format!("receivers: {}", alert.receivers.join(", ")), theme.muted()));
    }
    lines
}

fn labels_text(alert: &AlertView) -> String {
    alert
        .labels
        .iter()
        .filter(|(k, _)| *k != "alertname")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn silenced_text(alert: &AlertView) -> Option<String> {
    if !alert.silenced_by.is_empty() {
        Some(format!("silenced by {}", alert.silenced_by.join(", ")))
    } else if !alert.inhibited_by.is_empty() {
        Some(format!("inhibited by {}", alert.inhibited_by.join(", ")))
    } else {
        None
    }
}

/// `text` padded with spaces to `columns` terminal columns.
fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}
