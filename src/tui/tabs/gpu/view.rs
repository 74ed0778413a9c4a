//! Drawing the gpu tab.
//!
//! ```text
//! SIMULATED  simulated, 4 GPUs · every 1s · live
//! ┏▶ GPU 0 A100-SXM4-80GB ━━━━━━━━ ok ┓┌ GPU 1 L40S ─────────── WARN mem ┐
//! ┃util  ███████░░░░░░░░░░░  57%     ┃│util  ████████████████░░  88%     │
//! ┃mem   ████████░░░░░░░░░░  41% 32.8┃│mem   ████████████████░░  91% 43.7│
//! ┃temp  ████████████░░░░░░  64°C    ┃│temp  ███████████████░░░  78°C    │
//! ┃power ██████████░░░░░░░░ 310/400 W┃│power ████████████████░░ 320/350 W│
//! ┃fan n/a  sm 1410 MHz  procs 3 ... ┃│fan 71%  sm 1400 MHz  procs 2 ... │
//! ┃util ▃▄▅▆▇▇▆▅▄▃▂▂▃▄▅▆ (history)    ┃│util ▇▇▇▇▆▇▇▇▇▇▇▇▆▇▇▇             │
//! ┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛└──────────────────────────────────┘
//! ```
//! Blocks form a grid that fits the terminal; when even the smallest block
//! does not fit (8 GPUs at 80x24) it becomes one line per GPU. Enter opens
//! the selected GPU's process table. Every level is also written as a word
//! (WARN, CRIT, LOST), so the tab reads without colour.

use super::parts::{LABEL_WIDTH, details, draw_gauges, fitted, gauges, level_style, na, process_table};
use super::{GpuTab, Pane};
use crate::gpu::format::{gib, watts};
use crate::gpu::state::{GpuCondition, GpuEntry, SourceHealth};
use crate::gpu::{GpuState, Level};
use crate::theme::Theme;
use crate::tui::action::Action;
use crate::tui::keymap::Mode;
use crate::tui::tab::TabId;
use crate::tui::tabs::{TabCommand, ViewCtx};
use crate::tui::view::centered;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Row, Sparkline, Table, TableState, Wrap};

/// The smallest useful GPU block: four gauges and a border.
const MIN_BLOCK_WIDTH: u16 = 36;
const MIN_BLOCK_HEIGHT: u16 = 6;
/// Beyond these a bigger block shows nothing more, so layouts are compared only up to them.
const USEFUL_BLOCK_WIDTH: u16 = 64;
const USEFUL_BLOCK_HEIGHT: u16 = 12;

pub fn render(tab: &GpuTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let Some(state) = tab.state() else {
        let text = if tab.started { "Looking for GPUs…" } else { "GPU sampling is not running." };
        notice(frame, area, theme, vec![Line::styled(text, theme.muted())]);
        return;
    };
    if state.fleet.is_some() {
        super::fleet_view::render(tab, state, view, frame, area);
        return;
    }
    if state.gpus.is_empty() {
        render_without_gpus(state, view, frame, area);
        return;
    }
    let [header, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(Paragraph::new(header_line(state, view)), header);
    match tab.pane() {
        Pane::Processes => render_processes(tab, state, view, frame, body),
        Pane::Gpus => match grid(state.gpus.len(), body) {
            Some((columns, rows)) => render_grid(tab, state, view, frame, body, columns, rows),
            None => render_compact(tab, state, view, frame, body),
        },
    }
}

pub(super) fn notice(frame: &mut Frame, area: Rect, theme: &Theme, lines: Vec<Line>) {
    let block =
        Block::new().borders(Borders::ALL).border_style(theme.border()).title(Span::styled(" gpu ", theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = (lines.len() as u16 + 2).min(inner.height);
    let box_area = centered(inner, inner.width.saturating_sub(4).min(76), height);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), box_area);
}

pub(super) fn clock(view: &ViewCtx, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&view.zone).format("%H:%M:%S").to_string()
}

/// The whole-tab states: nothing found, nothing yet, a hung or dead source.
fn render_without_gpus(state: &GpuState, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let retry = crate::config::units::format_duration(crate::gpu::engine::NO_GPU_RETRY.max(state.every));
    let lines = match &state.health {
        SourceHealth::NoGpu(reason) => vec![
            Line::styled("No NVIDIA GPU found", theme.warn()),
            Line::raw(""),
            Line::raw(reason.clone()),
            Line::raw(""),
            Line::styled(
                "Looked for the NVIDIA management library (libnvidia-ml.so.1, installed with the NVIDIA \
                 driver) and asked it for GPUs.",
                theme.muted(),
            ),
            Line::styled(format!("Looking again every {retry}. The other tabs are not affected."), theme.muted()),
            Line::styled("To try this tab without a GPU, set `simulate = 4` under [gpu] in the config.", theme.muted()),
        ],
        SourceHealth::NotAnswering { since, timeout } => vec![
            Line::styled(format!("NVML NOT ANSWERING since {}", clock(view, *since)), theme.crit()),
            Line::raw(""),
            Line::raw(format!(
                "The first GPU query took longer than {}; the driver may be hung. Waiting for it to return.",
                crate::config::units::format_duration(*timeout)
            )),
        ],
        SourceHealth::Stale { since, reason } => vec![
            Line::styled(format!("GPU query failing since {}", clock(view, *since)), theme.warn()),
            Line::raw(""),
            Line::raw(reason.clone()),
            Line::styled("Retrying with back-off.", theme.muted()),
        ],
        SourceHealth::Stopped(reason) => {
            vec![Line::styled("GPU sampling stopped", theme.crit()), Line::raw(""), Line::raw(reason.clone())]
        }
        SourceHealth::Waiting | SourceHealth::Live => {
            vec![Line::styled(format!("Looking for GPUs through {}…", state.source), theme.muted())]
        }
    };
    notice(frame, area, theme, lines);
}

fn header_line<'a>(state: &'a GpuState, view: &ViewCtx) -> Line<'a> {
    let theme = view.theme;
    let mut spans = Vec::new();
    if state.simulated {
        spans.push(Span::styled("SIMULATED ", theme.warn()));
    }
    let count = state.gpus.len();
    spans.push(Span::styled(
        format!(
            "{} · {count} GPU{} · every {}",
            state.source,
            if count == 1 { "" } else { "s" },
            crate::config::units::format_duration(state.every)
        ),
        theme.muted(),
    ));
    spans.push(Span::raw(" · "));
    spans.push(match &state.health {
        SourceHealth::Live => Span::styled("live", theme.ok()),
        SourceHealth::Waiting => Span::styled("waiting", theme.muted()),
        SourceHealth::Stale { since, reason } => {
            Span::styled(format!("STALE since {}: {reason}", clock(view, *since)), theme.warn())
        }
        SourceHealth::NotAnswering { since, timeout } => Span::styled(
            format!(
                "NOT ANSWERING since {} (over {})",
                clock(view, *since),
                crate::config::units::format_duration(*timeout)
            ),
            theme.crit(),
        ),
        SourceHealth::NoGpu(reason) => Span::styled(format!("GONE: {reason}"), theme.crit()),
        SourceHealth::Stopped(reason) => Span::styled(format!("STOPPED: {reason}"), theme.crit()),
    });
    Line::from(spans)
}

/// Columns and rows of blocks that fit `area`, preferring the layout whose blocks are most useful.
pub fn grid(count: usize, area: Rect) -> Option<(u16, u16)> {
    let count = count.max(1) as u16;
    (1..=count)
        .filter_map(|columns| {
            let rows = count.div_ceil(columns);
            let (width, height) = (area.width / columns, area.height / rows);
            (width >= MIN_BLOCK_WIDTH && height >= MIN_BLOCK_HEIGHT).then(|| {
                let score = u32::from(width.min(USEFUL_BLOCK_WIDTH)) * u32::from(height.min(USEFUL_BLOCK_HEIGHT));
                (score, std::cmp::Reverse(columns), columns, rows)
            })
        })
        .max()
        .map(|(_, _, columns, rows)| (columns, rows))
}

/// "ok", "WARN mem", "CRIT temp, power", "LOST", "STALE".
pub(super) fn state_word(state: &GpuState, entry: &GpuEntry) -> (String, Level) {
    match &entry.condition {
        GpuCondition::Lost { .. } => return ("LOST".into(), Level::Crit),
        GpuCondition::Stale { .. } => return ("STALE".into(), Level::Warn),
        GpuCondition::Live => {}
    }
    let levels = state.levels(entry);
    let worst = levels.worst();
    if worst == Level::Ok {
        return ("ok".into(), Level::Ok);
    }
    let names: Vec<&str> = [("mem", levels.memory), ("temp", levels.temperature), ("power", levels.power)]
        .into_iter()
        .filter(|(_, level)| *level == worst)
        .map(|(name, _)| name)
        .collect();
    (format!("{} {}", worst.word(), names.join(",")), worst)
}

pub(super) fn short_name(name: &str) -> &str {
    name.strip_prefix("NVIDIA ").unwrap_or(name)
}

#[allow(clippy::too_many_arguments)]
fn render_grid(tab: &GpuTab, state: &GpuState, view: &ViewCtx, frame: &mut Frame, area: Rect, columns: u16, rows: u16) {
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, u32::from(rows)); rows as usize]).split(area);
    for (position, entry) in state.gpus.iter().enumerate() {
        let (row, column) = (position as u16 / columns, position as u16 % columns);
        let cells = Layout::horizontal(vec![Constraint::Ratio(1, u32::from(columns)); columns as usize])
            .split(row_areas[row as usize]);
        render_block(state, entry, position == tab.selected(), view, frame, cells[column as usize]);
    }
}

fn render_block(state: &GpuState, entry: &GpuEntry, selected: bool, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let (word, level) = state_word(state, entry);
    let marker = if selected { "▶ " } else { "" };
    let mut block = Block::new()
        .borders(Borders::ALL)
        .title_top(Line::from(vec![
            Span::styled(format!("{marker}GPU {} ", entry.index), theme.accent()),
            Span::raw(format!("{} ", short_name(entry.name()))),
        ]))
        .title_top(Line::styled(format!(" {word} "), level_style(theme, level)).right_aligned());
    block = if selected {
        block.border_type(BorderType::Thick).border_style(theme.accent())
    } else {
        block.border_style(theme.border())
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let condition = match &entry.condition {
        GpuCondition::Lost { since, reason } => {
            Some(Line::styled(format!("LOST since {}: {reason}", clock(view, *since)), theme.crit()))
        }
        GpuCondition::Stale { since, reason } => {
            Some(Line::styled(format!("STALE since {}: {reason}", clock(view, *since)), theme.warn()))
        }
        GpuCondition::Live => None,
    };
    let condition_rows = u16::from(condition.is_some());
    let Some(sample) = &entry.sample else {
        frame.render_widget(Paragraph::new(condition.unwrap_or_default()).wrap(Wrap { trim: true }), inner);
        return;
    };
    let gauge_rows = condition_rows + 4;
    let spare = inner.height.saturating_sub(gauge_rows);
    let detail_rows = spare.min(if inner.height >= 14 { 2 } else { 1 });
    // A tall block (one GPU, or two at 120x40) also lists the GPU's processes under its history.
    let history_rows = spare.saturating_sub(detail_rows);
    let history_rows = if history_rows >= 14 { 8 } else { history_rows };
    let [top, detail, history, processes] = Layout::vertical([
        Constraint::Length(gauge_rows),
        Constraint::Length(detail_rows),
        Constraint::Length(history_rows),
        Constraint::Min(0),
    ])
    .areas(inner);
    let [condition_area, gauge_area] =
        Layout::vertical([Constraint::Length(condition_rows), Constraint::Min(0)]).areas(top);
    if let Some(line) = condition {
        frame.render_widget(Paragraph::new(line), condition_area);
    }
    let dim = !matches!(entry.condition, GpuCondition::Live);
    draw_gauges(&gauges(state, entry, sample), theme, dim, frame, gauge_area);
    // Wrapping costs more than cutting; only wrap where there is a second row to wrap into.
    let facts = details(sample);
    let detail_text = if detail.height > 1 {
        Paragraph::new(Line::styled(facts.join("  "), theme.muted())).wrap(Wrap { trim: true })
    } else {
        Paragraph::new(Line::styled(fitted(&facts, detail.width as usize), theme.muted()))
    };
    frame.render_widget(detail_text, detail);
    render_history(entry, theme, frame, history);
    if processes.height >= 3 {
        let [_, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(processes);
        process_table(sample, super::ProcessSort::Memory, None, theme, frame, table);
    }
}

/// Utilisation and memory history as sparklines, as tall as the block allows (up to 4 rows each).
fn render_history(entry: &GpuEntry, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let series = [("util", &entry.history.utilization), ("mem", &entry.history.memory)];
    let shown = if area.height >= 2 { 2 } else { 1 };
    let each = (area.height / shown).min(4);
    for (i, (label, points)) in series.iter().take(shown as usize).enumerate() {
        let row = Rect { y: area.y + i as u16 * each, height: each, ..area };
        let [label_area, chart] =
            Layout::horizontal([Constraint::Length(LABEL_WIDTH as u16), Constraint::Min(0)]).areas(row);
        frame.render_widget(Paragraph::new(Span::styled(*label, theme.muted())), label_area);
        let data = points.last(usize::from(chart.width).min(crate::gpu::state::SPARK_POINTS));
        frame.render_widget(Sparkline::default().data(&data).max(100).style(theme.info()), chart);
    }
}

/// One line per GPU, for when blocks do not fit (8 GPUs at 80x24).
fn render_compact(tab: &GpuTab, state: &GpuState, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let header = Row::new(["", "GPU", "NAME", "UTIL", "MEMORY", "TEMP", "POWER", "STATE"]).style(theme.muted());
    let rows = state.gpus.iter().map(|entry| {
        let (word, level) = state_word(state, entry);
        let cells: [String; 6] = match &entry.sample {
            Some(sample) => {
                let memory = sample.memory.get();
                [
                    short_name(entry.name()).to_string(),
                    na(&sample.utilization_gpu, |u| format!("{u:>3}%")),
                    memory.map_or("n/a".into(), |m| format!("{:>3.0}% {}/{}G", m.percent(), gib(m.used), gib(m.total))),
                    na(&sample.temperature, |t| format!("{t}°C")),
                    na(&sample.power_draw_mw, |d| match sample.power_limit_mw.get() {
                        Some(limit) => format!("{}/{}W", watts(*d), watts(limit)),
                        None => format!("{}W", watts(*d)),
                    }),
                    String::new(),
                ]
            }
            None => {
                [entry.name().to_string(), String::new(), String::new(), String::new(), String::new(), String::new()]
            }
        };
        let [name, util, memory, temperature, power, _] = cells;
        Row::new(vec![
            Span::raw(String::new()),
            Span::styled(entry.index.to_string(), theme.accent()),
            Span::raw(name),
            Span::raw(util),
            Span::raw(memory),
            Span::raw(temperature),
            Span::raw(power),
            Span::styled(word, level_style(theme, level)),
        ])
    });
    let widths = [
        Constraint::Length(0),
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(16),
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(12),
    ];
    let table_height = (state.gpus.len() as u16 + 1).min(area.height);
    let [table_area, rest] = Layout::vertical([Constraint::Length(table_height), Constraint::Min(0)]).areas(area);
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selection())
        .highlight_symbol("▶");
    let mut table_state = TableState::default().with_selected(Some(tab.selected()));
    frame.render_stateful_widget(table, table_area, &mut table_state);
    if rest.height >= 2
        && let Some(entry) = state.gpus.get(tab.selected())
        && let Some(sample) = &entry.sample
    {
        let lines = vec![
            Line::styled(format!("GPU {} {}", entry.index, details(sample).join("  ")), theme.muted()),
            Line::styled(hint(view, "for its processes"), theme.muted()),
        ];
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), rest);
    }
}

pub(super) fn key(view: &ViewCtx, action: Action) -> String {
    view.keymap.key_for(Mode::Tab(TabId::Gpu), &action).unwrap_or_else(|| "?".into())
}

fn hint(view: &ViewCtx, what: &str) -> String {
    format!("{} {what}", key(view, Action::Select))
}

/// The selected GPU's processes, sortable.
fn render_processes(tab: &GpuTab, state: &GpuState, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let Some(entry) = state.gpus.get(tab.selected()) else { return };
    let sort_key = key(view, Action::Tab(TabCommand::Gpu(super::Command::Sort)));
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title_top(Line::from(vec![
            Span::styled(format!("▶ GPU {} ", entry.index), theme.accent()),
            Span::raw(format!("{} · processes by {} ", short_name(entry.name()), tab.sort().label())),
        ]))
        .title_bottom(Line::styled(
            format!(" {sort_key} sort · ←/→ GPU · {} back ", key(view, Action::Close)),
            theme.muted(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(sample) = &entry.sample else { return };
    let [gauge_area, table_area] = Layout::vertical([Constraint::Length(4), Constraint::Min(0)]).areas(inner);
    draw_gauges(&gauges(state, entry, sample), theme, false, frame, gauge_area);
    process_table(sample, tab.sort(), Some(tab.process_row), theme, frame, table_area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_gpu_fills_the_tab_and_eight_fit_at_120x40() {
        let body = |w, h| Rect::new(0, 0, w, h);
        assert_eq!(grid(1, body(120, 37)), Some((1, 1)));
        assert_eq!(grid(4, body(120, 37)), Some((2, 2)));
        assert_eq!(grid(4, body(80, 21)), Some((2, 2)));
        let (columns, rows) = grid(8, body(120, 37)).unwrap();
        assert!(columns * rows >= 8);
        assert_eq!(grid(8, body(80, 21)), None, "8 GPUs at 80x24 become one line each");
    }
}
