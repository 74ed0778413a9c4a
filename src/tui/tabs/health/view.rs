//! Drawing the health tab.
//!
//! ```text
//! ┌ health · 11 checks: 8 ok, 1 warning, 2 critical ──── sort: worst first ┐
//! │ MAINTENANCE sunday 03:00-05:00: failures are expected                  │
//! │   Name            Kind    Latency  p50/p95   1h     24h   Since Message│
//! │ ▶ ✗ orders        http       3ms    3/5ms   0.0%   0.0%  14:03 status …│
//! │   ✓ api           http      12ms   11/14ms 100.0% 100.0%  14:01 200 OK │
//! ├ orders ─────────────────────────────────────────────────────────────────┤
//! │ detail: target, state, conditions ✓/✗, latency sparkline, last         │
//! │ response, transitions (enter opens it; one sparkline line otherwise)   │
//! └ r run  R run all  s sort  f failing  / filter  i incident  enter details ┘
//! ```
//! Columns p50/p95, 24h and Since appear from 110 columns up. A `promql` or
//! `targets` check is drawn as its series (`gpu memory{Hostname="a",gpu="0"}`),
//! each with its own state; the Name column widens for them (up to 2/5 of the
//! table), and a selected series gets its own detail pane (see `series.rs`).

use super::{Command, HealthTab};
use crate::health::condition::format_latency;
use crate::health::{CheckView, Level, Status};
use crate::tui::action::Action;
use crate::tui::keymap::Mode;
use crate::tui::tab::TabId;
use crate::tui::tabs::{TabCommand, ViewCtx};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table, TableState, Wrap};
use std::time::Duration;

/// From this width the table shows every column.
const WIDE: u16 = 110;

pub fn render(tab: &HealthTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Line::from(title(tab, view)))
        .title(Line::from(view_state(tab, view)).right_aligned())
        .title_bottom(Line::from(key_hints(tab, view)).style(theme.muted()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if tab.rows.is_empty() && !tab.alerts.present() {
        render_empty(tab, view, frame, inner);
        return;
    }
    let banner_height = u16::from(tab.window.is_some()) + tab.problems.len().min(2) as u16;
    let detail_height = if tab.detail { (inner.height / 2).max(9) } else { 2 };
    let [banner, lists, detail] =
        Layout::vertical([Constraint::Length(banner_height), Constraint::Min(3), Constraint::Length(detail_height)])
            .areas(inner);
    render_banner(tab, view, frame, banner);
    let (table, alerts) = super::alerts_view::split(tab, lists);
    if !tab.rows.is_empty() {
        render_table(tab, view, frame, table);
    }
    if let Some(area) = alerts {
        super::alerts_view::render_section(tab, view, frame, area);
    }
    if let Some(line) = tab.alerts.selected() {
        if tab.detail {
            super::alerts_view::render_detail(line, view, frame, detail);
        } else {
            super::alerts_view::render_strip(line, view, frame, detail);
        }
        return;
    }
    let maintenance = tab.window.is_some();
    match (tab.selected_row(), tab.selected_series()) {
        (Some(row), Some(series)) => {
            let style = status_style(row.series_status(series), maintenance, view);
            if tab.detail {
                super::series::render_detail(tab, row, series, style, view, frame, detail);
            } else {
                super::series::render_strip(row, series, style, view, frame, detail);
            }
        }
        (Some(row), None) if tab.detail => render_detail(tab, row, view, frame, detail),
        (Some(row), None) => render_strip(tab, row, view, frame, detail),
        (None, _) => frame.render_widget(Paragraph::new(Line::styled("no check matches", theme.muted())), detail),
    }
}

fn title(tab: &HealthTab, view: &ViewCtx) -> Vec<Span<'static>> {
    let theme = view.theme;
    // Rows as drawn: a check's series count one each.
    let count = |status: Status| tab.count(status);
    let mut spans = vec![Span::styled(" health ", theme.accent())];
    if tab.rows.is_empty() {
        return spans;
    }
    spans.push(Span::raw("· "));
    spans.push(Span::styled(format!("{} ok", count(Status::Ok)), theme.ok()));
    for (status, style) in [
        (Status::Warning, theme.warn()),
        (Status::Critical, theme.crit()),
        (Status::Unknown, theme.warn()),
        (Status::Failing, theme.warn()),
        (Status::Suppressed, theme.muted()),
        (Status::Pending, theme.muted()),
    ] {
        let n = count(status);
        if n > 0 {
            spans.push(Span::raw(", "));
            spans.push(Span::styled(format!("{n} {}", status.label()), style));
        }
    }
    spans.push(Span::raw(" "));
    spans
}

/// The top-right corner: how the list is narrowed and ordered, when not the default.
fn view_state(tab: &HealthTab, view: &ViewCtx) -> Vec<Span<'static>> {
    let theme = view.theme;
    let mut spans = Vec::new();
    if tab.sort != super::Sort::Status {
        spans.push(Span::styled(format!(" by {} ", tab.sort.label()), theme.muted()));
    }
    if tab.failing_only {
        spans.push(Span::styled(" failing only ", theme.warn()));
    }
    if tab.filter_open || !tab.filter.is_empty() {
        let cursor = if tab.filter_open { "▏" } else { "" };
        spans.push(Span::styled(format!(" filter: {}{cursor} ", tab.filter), theme.accent()));
    }
    spans
}

fn key_hints(tab: &HealthTab, view: &ViewCtx) -> Vec<Span<'static>> {
    if tab.rows.is_empty() && !tab.alerts.present() {
        return Vec::new();
    }
    if tab.filter_open {
        return vec![Span::raw(" type to filter · enter keep · esc clear ")];
    }
    let key =
        |command: Command| view.keymap.key_for(Mode::Tab(TabId::Health), &Action::Tab(TabCommand::Health(command)));
    let mut spans = vec![Span::raw(" ")];
    for (command, label) in [
        (Command::RunSelected, "run"),
        (Command::RunAll, "run all"),
        (Command::CycleSort, "sort"),
        (Command::ToggleFailingOnly, "failing"),
        (Command::Filter, "filter"),
        (Command::Declare, "incident"),
    ] {
        if let Some(key) = key(command) {
            spans.push(Span::raw(format!("{key} {label}  ")));
        }
    }
    let enter = view.keymap.key_for(Mode::Tab(TabId::Health), &Action::Select).unwrap_or_else(|| "enter".into());
    spans.push(Span::raw(format!("{enter} details ")));
    spans
}

fn render_empty(tab: &HealthTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let mut text = vec![
        Line::styled("No health checks are configured.", theme.warn()),
        Line::raw(""),
        Line::raw("Add [[check]] entries to the config, for example:"),
        Line::styled("  [[check]]", theme.muted()),
        Line::styled("  name = \"api\"", theme.muted()),
        Line::styled("  http = \"https://api.example.com/health\"", theme.muted()),
        Line::styled("  expect = ['status == 200', 'json.status == \"healthy\"']", theme.muted()),
        Line::raw(""),
        Line::raw("or run `firstwatch demo` to see this tab with live checks."),
    ];
    for problem in &tab.problems {
        text.push(Line::styled(problem.clone(), theme.crit()));
    }
    let box_area = crate::tui::view::centered(area, 66, text.len() as u16);
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), box_area);
}

fn render_banner(tab: &HealthTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let mut lines = Vec::new();
    if let Some(window) = &tab.window {
        lines.push(Line::styled(format!("MAINTENANCE {window}: failures are expected and not alarming"), theme.warn()));
    }
    for problem in tab.problems.iter().take(2) {
        lines.push(Line::styled(problem.clone(), theme.crit()));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// "usual latency 20ms (median of 24h00m, slow minutes left out) · warn above 2x for 5m00s".
fn baseline_line(baseline: &crate::health::view::BaselineView) -> String {
    let usual = match baseline.usual_ms {
        Some(ms) => format!("{ms}ms"),
        None => "not known yet".into(),
    };
    let source = if baseline.source == "fixed" {
        "fixed".to_string()
    } else {
        format!("{}, slow minutes left out", baseline.source)
    };
    format!(
        "usual latency {usual} ({source}) · warn above {}x for {}",
        crate::health::condition::format_number(baseline.factor),
        crate::config::units::format_duration(baseline.sustained)
    )
}

fn status_style(status: Status, maintenance: bool, view: &ViewCtx) -> Style {
    let theme = view.theme;
    match status {
        _ if maintenance && status.is_failing() => theme.muted(),
        Status::Ok => theme.ok(),
        Status::Failing | Status::Warning | Status::Unknown => theme.warn(),
        Status::Critical => theme.crit(),
        Status::Suppressed | Status::Pending => theme.muted(),
    }
}

fn render_table(tab: &HealthTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let wide = area.width >= WIDE;
    let maintenance = tab.window.is_some();
    let mut header = vec!["", "Name", "Kind", "Latency"];
    if wide {
        header.push("p50/p95");
    }
    header.push("Up 1h");
    if wide {
        header.extend(["Up 24h", "Since"]);
    }
    header.push("Message");
    // Only the rows that fit are built: a long list costs no more to draw than a screenful.
    let visible = usize::from(area.height.saturating_sub(1)).max(1);
    let position = tab.position();
    let offset = position.map_or(0, |p| (p + 1).saturating_sub(visible));
    // The header takes the first line; the rows follow it.
    let body = Rect { y: area.y + 1, height: area.height.saturating_sub(1), ..area };
    tab.hits.set(super::super::ListHits { rows: body, first: offset });
    let shown: Vec<super::RowRef> = tab.order.iter().skip(offset).take(visible).copied().collect();
    // Series names carry labels: the column widens for them, up to a quarter of the
    // table (longer ones drop their label keys), so the message keeps its room.
    let base = if wide { 22 } else { 18 };
    let most = usize::from(area.width / 4).max(base);
    let longest = shown.iter().map(|&r| crate::util::width::width(tab.row_label(r, most))).max().unwrap_or(0);
    let name_width = longest.clamp(base, most) as u16;
    let rows = shown.into_iter().map(|item| {
        let row = &tab.rows[item.check];
        let status = tab.row_status(item);
        let style = status_style(status, maintenance, view);
        let latency = if tab.requested.contains(&item.check) {
            "↻ run".to_string()
        } else {
            row.last.as_ref().and_then(|o| o.latency).map(format_latency).unwrap_or_else(|| "-".into())
        };
        let mut message = tab.row_message(item);
        if maintenance && status.is_failing() {
            message = format!("expected: {message}");
        }
        // Uptime is kept per check; a series row does not claim it.
        let series = item.series.is_some();
        let uptime = |value: Option<f64>| if series { "-".to_string() } else { percent(value) };
        let mut cells = vec![
            Cell::from(status.symbol()).style(style),
            Cell::from(tab.row_label(item, most).to_string()),
            Cell::from(row.kind),
            Cell::from(latency),
        ];
        if wide {
            cells.push(Cell::from(match (row.p50_ms, row.p95_ms) {
                (Some(p50), Some(p95)) => format!("{}/{}ms", small_ms(p50), small_ms(p95)),
                _ => "-".into(),
            }));
        }
        cells.push(Cell::from(uptime(row.uptime_hour)));
        if wide {
            cells.push(Cell::from(uptime(row.uptime_day)));
            cells.push(Cell::from(row.since.map(|s| clock(s, view)).unwrap_or_else(|| "-".into())));
        }
        cells.push(Cell::from(message).style(if status.is_failing() { style } else { Style::new() }));
        Row::new(cells)
    });
    let mut widths = vec![Constraint::Length(1), Constraint::Length(name_width), Constraint::Length(7)];
    widths.push(Constraint::Length(7));
    if wide {
        widths.push(Constraint::Length(11));
    }
    widths.push(Constraint::Length(6));
    if wide {
        widths.extend([Constraint::Length(6), Constraint::Length(5)]);
    }
    widths.push(Constraint::Fill(1));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.muted()))
        .row_highlight_style(theme.selection())
        .highlight_symbol("▶")
        .column_spacing(1);
    let mut state = TableState::default().with_selected(position.map(|p| p - offset));
    frame.render_stateful_widget(table, area, &mut state);
}

/// One line under the table for the selected check: its latency trend and full message.
fn render_strip(tab: &HealthTab, row: &CheckView, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let [label, chart] = Layout::horizontal([Constraint::Length(30), Constraint::Fill(1)]).areas(area);
    let peak = row.latencies.iter().copied().max().unwrap_or(0);
    let text = vec![
        Line::styled(truncate(&row.name, 28), theme.accent()),
        Line::styled(format!("latency, max {}", micros(peak)), theme.muted()),
    ];
    frame.render_widget(Paragraph::new(text), label);
    let points = tail(&row.latencies, chart.width as usize);
    frame.render_widget(
        Sparkline::default().data(points).max(peak.max(SPARK_FLOOR_US)).style(status_style(
            row.status,
            tab.window.is_some(),
            view,
        )),
        chart,
    );
}

/// The latency a full sparkline bar stands for at least (1 ms): sub-millisecond
/// answers are drawn against it instead of vanishing, slower ones against their peak.
const SPARK_FLOOR_US: u64 = 1_000;

/// A latency kept in microseconds, as the table writes latencies (`0.7ms`, `35ms`, `1.20s`).
fn micros(us: u64) -> String {
    crate::health::condition::format_latency(std::time::Duration::from_micros(us))
}

fn render_detail(tab: &HealthTab, row: &CheckView, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border())
        .title(Span::styled(format!(" {} ", row.name), theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let style = status_style(row.status, tab.window.is_some(), view);
    let mut head = vec![
        Line::from(vec![
            Span::styled(format!("{} ", row.kind), theme.muted()),
            Span::raw(row.target.clone()),
            Span::styled(
                format!(
                    "  every {} · {} after {} failure{}{}",
                    crate::config::units::format_duration(row.every),
                    match row.severity {
                        crate::config::Severity::Critical => "critical",
                        crate::config::Severity::Warning => "warning",
                    },
                    row.fail_after,
                    if row.fail_after == 1 { "" } else { "s" },
                    row.parent.as_ref().map(|p| format!(" · depends on {p}")).unwrap_or_default()
                ),
                theme.muted(),
            ),
        ]),
        Line::from(vec![
            Span::styled(format!("{} {}", row.status.symbol(), row.status_text()), style),
            Span::raw(match row.since {
                Some(since) => format!(" since {} ({})", clock(since, view), ago(since, view)),
                None => String::new(),
            }),
            Span::styled(
                format!(
                    " · uptime 1h {} 24h {} · p50 {} p95 {}",
                    percent(row.uptime_hour),
                    percent(row.uptime_day),
                    row.p50_ms.map_or("-".into(), |v| format!("{v}ms")),
                    row.p95_ms.map_or("-".into(), |v| format!("{v}ms"))
                ),
                theme.muted(),
            ),
        ]),
        Line::styled(row.message(), style),
    ];
    if let Some(baseline) = &row.baseline {
        head.push(Line::styled(baseline_line(baseline), theme.muted()));
    }
    let failed: &[usize] = row.last.as_ref().map_or(&[], |o| o.failed.as_slice());
    let mut conditions = vec![Span::styled(
        if row.default_conditions { "conditions (default): " } else { "conditions: " },
        theme.muted(),
    )];
    if row.conditions.is_empty() {
        conditions.push(Span::raw(if row.kind == "command" { "exit == 0" } else { "answers" }));
    }
    for (i, condition) in row.conditions.iter().enumerate() {
        let (mark, style) = match &row.last {
            None => ("·", theme.muted()),
            Some(_) if failed.contains(&i) => ("✗", theme.crit()),
            Some(_) => ("✓", theme.ok()),
        };
        conditions.push(Span::styled(format!("{mark} {condition}  "), style));
    }
    head.push(Line::from(conditions));
    let head_height = head.len() as u16;
    let [head_area, chart_area, rest_area] =
        Layout::vertical([Constraint::Length(head_height), Constraint::Length(3), Constraint::Fill(1)]).areas(inner);
    frame.render_widget(Paragraph::new(head), head_area);
    let [chart_label, chart] = Layout::horizontal([Constraint::Length(14), Constraint::Fill(1)]).areas(chart_area);
    let peak = row.latencies.iter().copied().max().unwrap_or(0);
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled("latency", theme.muted()),
            Line::styled(format!("max {}", micros(peak)), theme.muted()),
            Line::styled(format!("{} runs", row.latencies.len()), theme.muted()),
        ]),
        chart_label,
    );
    frame.render_widget(
        Sparkline::default()
            .data(tail(&row.latencies, chart.width as usize))
            .max(peak.max(SPARK_FLOOR_US))
            .style(style),
        chart,
    );
    let mut rest = Vec::new();
    if let Some(response) = row.last.as_ref().and_then(|o| o.response.as_ref()) {
        rest.push(Line::styled(
            format!(
                "last response: {} · {} header{} · {} B{}{}",
                response.status,
                response.headers.len(),
                if response.headers.len() == 1 { "" } else { "s" },
                response.body_bytes,
                if response.truncated { " (cut at the limit)" } else { "" },
                if response.redirects > 0 { format!(" · {} redirects", response.redirects) } else { String::new() }
            ),
            theme.muted(),
        ));
        if !response.headers.is_empty() {
            let headers: Vec<String> = response.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            rest.push(Line::styled(format!("  {}", headers.join(" · ")), theme.muted()));
        }
        for line in response.body_lines.iter().take(3) {
            rest.push(Line::raw(format!("  {line}")));
        }
    }
    if !row.transitions.is_empty() {
        rest.push(Line::styled("transitions:", theme.muted()));
    }
    for transition in &row.transitions {
        let from = transition.from.map_or("pending", Level::as_str);
        let style = match transition.to {
            Level::Ok => theme.ok(),
            Level::Warning | Level::Unknown => theme.warn(),
            Level::Critical => theme.crit(),
        };
        rest.push(Line::from(vec![
            Span::raw(format!("  {} ", stamp(transition.at, view))),
            Span::styled(format!("{from} → {}", transition.to.as_str()), style),
            Span::styled(format!("  {}", transition.message), theme.muted()),
        ]));
    }
    frame.render_widget(Paragraph::new(rest), rest_area);
}

/// Whole milliseconds, with sub-millisecond loopback answers shown as "<1".
fn small_ms(ms: u32) -> String {
    if ms == 0 { "<1".into() } else { ms.to_string() }
}

fn tail(values: &[u64], width: usize) -> Vec<u64> {
    values[values.len().saturating_sub(width)..].to_vec()
}

fn percent(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if (99.95..100.0).contains(&v) => "99.9%".into(),
        Some(v) => format!("{v:.1}%"),
    }
}

pub(super) fn clock(at: chrono::DateTime<chrono::Utc>, view: &ViewCtx) -> String {
    let local = at.with_timezone(&view.zone);
    if (view.wall - at).num_hours() >= 24 {
        local.format("%m-%d").to_string()
    } else {
        local.format("%H:%M").to_string()
    }
}

pub(super) fn stamp(at: chrono::DateTime<chrono::Utc>, view: &ViewCtx) -> String {
    at.with_timezone(&view.zone).format("%m-%d %H:%M:%S").to_string()
}

/// A window as people write it: "1h", "20m".
pub(super) fn window_text(window: Duration) -> String {
    match window.as_secs() {
        secs if secs % 3600 == 0 => format!("{}h", secs / 3600),
        secs if secs % 60 == 0 => format!("{}m", secs / 60),
        _ => crate::config::units::format_duration(window),
    }
}

fn ago(at: chrono::DateTime<chrono::Utc>, view: &ViewCtx) -> String {
    let elapsed = (view.wall - at).to_std().unwrap_or(Duration::ZERO);
    if elapsed < Duration::from_secs(1) {
        return "just now".into();
    }
    format!("for {}", crate::config::units::format_duration(elapsed))
}

fn truncate(text: &str, width: usize) -> String {
    crate::util::width::truncate(text, width)
}
