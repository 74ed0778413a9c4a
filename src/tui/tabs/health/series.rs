//! A series row of a `promql` or `targets` check: its detail pane (labels,
//! value, conditions, a sparkline of its value over the row's window) and the
//! one request that fills that sparkline.
//!
//! ```text
//! ├ gpu memory{Hostname="gpu-node-01",gpu="1"} ──────────────────────────────┤
//! │ promql on prom  DCGM_FI_DEV_FB_USED / (...)  every 30s · critical after 2 │
//! │ ✗ critical since 03:02 (for 1m00s) · value 0.1104                         │
//! │ value was 0.11, expected < 0.06                                           │
//! │ labels  Hostname="gpu-node-01" UUID="GPU-..." gpu="1" job="node" ...      │
//! │ conditions: ✗ value < 0.06                                                │
//! │ value 1h   ▂▂▃▃▅▅▆▇██████                                                 │
//! │ 0.01–0.11                                                                 │
//! │ 120 points                                                                │
//! └ transitions of the check ─────────────────────────────────────────────────┘
//! ```
//! The sparkline is asked once when the row is looked at and again when its
//! check has run again, never for every series on every refresh.

use super::{Effect, HealthTab, RangeAnswer, RangeRequest, Selection};
use crate::engine::format_value;
use crate::health::{CheckView, SeriesResult, Status};
use crate::tui::tabs::ViewCtx;
use crate::util::sanitize::sanitize_str;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline, Wrap};
use std::time::Duration;

/// The selected series' values over its window, or what became of the request.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeView {
    pub key: Selection,
    pub generation: u64,
    pub window: Duration,
    /// (time, value), oldest first; kept from the last answer while a new one is on its way.
    pub points: Vec<(f64, f64)>,
    pub loading: bool,
    pub error: Option<String>,
}

impl HealthTab {
    /// Asks for the selected series over its window when the detail pane shows it and it is
    /// not held yet (or `again`, after its check ran again).
    pub(super) fn fetch_range(&mut self, again: bool) -> Option<Effect> {
        if !self.detail {
            return None;
        }
        let selection = self.selected.clone()?;
        let series = self.selected_series()?;
        let view = self.rows.get(selection.check)?;
        let source = self.sources.get(selection.check)?.as_ref()?;
        let held = self.range.as_ref().is_some_and(|range| range.key == selection);
        if held && !again {
            return None;
        }
        let window = crate::health::series::window(view.every);
        let request = RangeRequest {
            engine: source.engine.clone(),
            promql: source.promql.clone(),
            labels: series.labels.clone(),
            window,
            key: selection.clone(),
            generation: self.generation + 1,
        };
        self.generation += 1;
        let points = self.range.take().filter(|range| range.key == selection).map(|range| range.points);
        self.range = Some(RangeView {
            key: selection,
            generation: self.generation,
            window,
            points: points.unwrap_or_default(),
            loading: true,
            error: None,
        });
        Some(Effect::FetchRange(request))
    }

    /// Takes an answer, unless a newer request has been made since.
    pub(super) fn take_range(&mut self, answer: RangeAnswer) {
        let Some(range) = self.range.as_mut().filter(|r| r.generation == answer.generation && r.key == answer.key)
        else {
            return;
        };
        range.loading = false;
        match answer.points {
            Ok(points) => {
                range.points = points;
                range.error = None;
            }
            Err(error) => range.error = Some(sanitize_str(&error)),
        }
    }

    /// The range held for the selected row, if it is the one shown.
    fn shown_range(&self) -> Option<&RangeView> {
        self.range.as_ref().filter(|range| Some(&range.key) == self.selected.as_ref())
    }
}

/// Most lines the labels take in the detail pane.
const LABEL_LINES: usize = 3;

/// The labels as `key="value"`, sanitised, in the engine's (sorted) order, packed into
/// lines of `width` after the word "labels"; what does not fit in [`LABEL_LINES`] is counted.
fn label_lines(series: &SeriesResult, width: usize) -> Vec<String> {
    use crate::util::width::{truncate, width as cells};
    let items: Vec<String> =
        series.labels.iter().map(|(key, value)| format!("{}=\"{}\"", sanitize_str(key), sanitize_str(value))).collect();
    if items.is_empty() {
        return vec!["labels none".into()];
    }
    let mut lines = vec!["labels".to_string()];
    for (index, item) in items.iter().enumerate() {
        let Some(line) = lines.last_mut() else { break };
        if cells(line) + 1 + cells(item) <= width {
            line.push(' ');
            line.push_str(item);
            continue;
        }
        if lines.len() == LABEL_LINES {
            let more = format!(" +{} more", items.len() - index);
            if let Some(line) = lines.last_mut() {
                *line = format!("{}{more}", truncate(line, width.saturating_sub(cells(&more))));
            }
            break;
        }
        lines.push(format!("       {}", truncate(item, width.saturating_sub(7))));
    }
    lines
}

/// One line under the table for a selected series: its whole name, and its value or error.
pub(super) fn render_strip(
    row: &CheckView,
    series: &SeriesResult,
    style: Style,
    view: &ViewCtx,
    frame: &mut Frame,
    area: Rect,
) {
    let theme = view.theme;
    let status = row.series_status(series);
    let text = vec![
        Line::styled(crate::util::width::truncate(&series.name, area.width as usize), theme.accent()),
        Line::from(vec![
            Span::styled(format!("{} ", status.symbol()), style),
            Span::styled(row.series_message(series), if status.is_failing() { style } else { theme.muted() }),
        ]),
    ];
    frame.render_widget(Paragraph::new(text), area);
}

pub(super) fn render_detail(
    tab: &HealthTab,
    row: &CheckView,
    series: &SeriesResult,
    style: Style,
    view: &ViewCtx,
    frame: &mut Frame,
    area: Rect,
) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border())
        .title(Span::styled(format!(" {} ", series.name), theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let status = row.series_status(series);
    let value = series.value.map(|v| format!(" · value {}", format_value(v))).unwrap_or_default();
    let since = match (status, row.since) {
        (Status::Ok, _) | (_, None) => String::new(),
        (_, Some(since)) => format!(" · check {} since {}", row.status.label(), super::view::clock(since, view)),
    };
    let mut conditions = vec![Span::styled("conditions: ", theme.muted())];
    if row.conditions.is_empty() {
        conditions.push(Span::raw(if row.kind == "targets" { "target is up" } else { "none (any value is ok)" }));
    }
    for (index, condition) in row.conditions.iter().enumerate() {
        let (mark, style) = if series.failed.contains(&index) { ("✗", theme.crit()) } else { ("✓", theme.ok()) };
        conditions.push(Span::styled(format!("{mark} {condition}  "), style));
    }
    let engine = row.engine.as_deref().map(|e| format!(" on {e}")).unwrap_or_default();
    let head = vec![
        Line::from(vec![
            Span::styled(format!("{}{engine} ", row.kind), theme.muted()),
            Span::raw(row.target.clone()),
            Span::styled(format!("  every {}", crate::config::units::format_duration(row.every)), theme.muted()),
        ]),
        Line::from(vec![
            Span::styled(format!("{} {}", status.symbol(), status.label()), style),
            Span::raw(value),
            Span::styled(since, theme.muted()),
        ]),
        Line::styled(row.series_message(series), if status.is_failing() { style } else { Style::new() }),
    ];
    let mut head = head;
    head.extend(label_lines(series, inner.width as usize).into_iter().map(Line::raw));
    head.push(Line::from(conditions));
    let head_height = head.len() as u16;
    let head = Paragraph::new(head);
    let chart_height = if series.value.is_some() { 3 } else { 0 };
    let [head_area, chart_area, rest_area] =
        Layout::vertical([Constraint::Length(head_height), Constraint::Length(chart_height), Constraint::Fill(1)])
            .areas(inner);
    frame.render_widget(head, head_area);
    if chart_height > 0 {
        render_chart(tab.shown_range(), row, style, view, frame, chart_area);
    }
    let mut rest = Vec::new();
    if !row.transitions.is_empty() {
        rest.push(Line::styled("transitions of the check:", theme.muted()));
    }
    for transition in &row.transitions {
        rest.push(Line::from(vec![
            Span::raw(format!("  {} ", super::view::stamp(transition.at, view))),
            Span::raw(format!(
                "{} → {}",
                transition.from.map_or("pending", crate::health::Level::as_str),
                transition.to.as_str()
            )),
            Span::styled(format!("  {}", transition.message), theme.muted()),
        ]));
    }
    frame.render_widget(Paragraph::new(rest), rest_area);
}

/// The value over the row's window: a label column, then the sparkline.
fn render_chart(
    range: Option<&RangeView>,
    row: &CheckView,
    style: Style,
    view: &ViewCtx,
    frame: &mut Frame,
    area: Rect,
) {
    let theme = view.theme;
    let window = range.map_or_else(|| crate::health::series::window(row.every), |r| r.window);
    let [label, chart] = Layout::horizontal([Constraint::Length(14), Constraint::Fill(1)]).areas(area);
    let span = super::view::window_text(window);
    let points: &[(f64, f64)] = range.map_or(&[], |r| r.points.as_slice());
    let finite = points.iter().map(|p| p.1).filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let second = match range {
        None => "enter shows it".to_string(),
        Some(r) if r.points.is_empty() && r.loading => "loading…".to_string(),
        Some(r) if r.points.is_empty() => match &r.error {
            Some(_) => "no data".to_string(),
            None => "no samples".to_string(),
        },
        Some(_) if low > high => "no finite value".into(),
        Some(_) => format!("{}–{}", format_value(low), format_value(high)),
    };
    let third = match range {
        Some(r) if r.error.is_some() => "range failed".to_string(),
        Some(r) if r.loading && !r.points.is_empty() => "refreshing…".to_string(),
        Some(r) => format!("{} points", r.points.len()),
        None => String::new(),
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(format!("value {span}"), theme.muted()),
            Line::styled(second, theme.muted()),
            Line::styled(third, theme.muted()),
        ]),
        label,
    );
    if let Some(error) = range.and_then(|r| r.error.as_ref()) {
        frame.render_widget(Paragraph::new(Line::styled(error.clone(), theme.warn())).wrap(Wrap { trim: true }), chart);
        return;
    }
    let bars = bars(points, chart.width as usize, low, high);
    frame.render_widget(Sparkline::default().data(bars).max(SCALE).style(style).absent_value_symbol("·"), chart);
}

/// Bars drawn for the finite range low..high; the lowest value still shows as a sliver.
const SCALE: u64 = 100;

/// The last `width` points as bars from low to high; NaN and infinities are gaps.
fn bars(points: &[(f64, f64)], width: usize, low: f64, high: f64) -> Vec<Option<u64>> {
    let span = high - low;
    points[points.len().saturating_sub(width)..]
        .iter()
        .map(|&(_, value)| {
            if !value.is_finite() {
                return None;
            }
            let share = if span > 0.0 { (value - low) / span } else { 1.0 };
            Some(1 + (share * (SCALE - 1) as f64).round() as u64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_pack_into_lines_and_say_how_many_did_not_fit() {
        let labels = (0..12).map(|i| (format!("label{i:02}"), "x".repeat(10))).collect();
        let series = SeriesResult {
            name: "s".into(),
            short: "s".into(),
            labels,
            value: Some(1.0),
            level: crate::health::Level::Ok,
            message: String::new(),
            failed: Vec::new(),
        };
        let lines = label_lines(&series, 60);
        assert_eq!(lines.len(), LABEL_LINES);
        assert!(lines.iter().all(|l| crate::util::width::width(l) <= 60), "{lines:?}");
        assert!(lines[0].starts_with("labels label00=\"xxxxxxxxxx\" label01="), "{lines:?}");
        assert!(lines[2].ends_with(" more"), "{lines:?}");
    }

    #[test]
    fn bars_span_the_finite_values_and_leave_gaps_for_nan_and_infinities() {
        let points = [(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, f64::INFINITY), (4.0, 2.0)];
        assert_eq!(bars(&points, 10, 1.0, 3.0), vec![Some(1), None, Some(100), None, Some(51)]);
        assert_eq!(super::bars(&points, 2, 1.0, 3.0).len(), 2, "only what fits, newest kept");
    }
}
