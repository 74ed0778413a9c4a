//! The pieces a GPU block and the process pane are made of: gauge rows drawn
//! cell by cell, the line of small facts, and the process table.

use super::ProcessSort;
use crate::gpu::format::{gib, rate, watts};
use crate::gpu::state::GpuEntry;
use crate::gpu::{GpuSample, GpuState, Level, Reading};
use crate::theme::Theme;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState};

/// Width of the gauge and sparkline labels ("power ").
pub const LABEL_WIDTH: usize = 6;

pub fn level_style(theme: &Theme, level: Level) -> Style {
    match level {
        Level::Ok => theme.ok(),
        Level::Warn => theme.warn(),
        Level::Crit => theme.crit(),
    }
}

pub fn na<T>(reading: &Reading<T>, show: impl Fn(&T) -> String) -> String {
    reading.value().map_or_else(|| "n/a".to_string(), show)
}

/// One gauge row: label, a bar in the level's style, and the number in text.
pub struct Gauge {
    label: &'static str,
    percent: Option<f64>,
    text: String,
    level: Level,
}

impl Gauge {
    /// Writes the row straight into the buffer: bars are most of the tab's cells, and
    /// setting them one by one skips the text shaping a `Line` would do for each.
    fn draw(&self, buf: &mut Buffer, row: Rect, theme: &Theme, dim: bool) {
        if row.height == 0 || row.width == 0 {
            return;
        }
        let text = if self.level == Level::Ok || self.percent.is_none() {
            self.text.clone()
        } else {
            format!("{} {}", self.text, self.level.word())
        };
        let width = row.width as usize;
        let text_width = crate::util::width::width(&text);
        let bar_width =
            width.saturating_sub(LABEL_WIDTH + 1 + text_width).max(4).min(width.saturating_sub(LABEL_WIDTH));
        let filled = self.percent.map_or(0, |p| ((p.clamp(0.0, 100.0) / 100.0) * bar_width as f64).round() as usize);
        let muted = theme.muted();
        let style = match (dim, self.percent) {
            (false, Some(_)) => level_style(theme, self.level),
            _ => muted,
        };
        let text_style = if dim || self.level == Level::Ok { if dim { muted } else { theme.base() } } else { style };
        buf.set_stringn(row.x, row.y, self.label, LABEL_WIDTH.min(width), if dim { muted } else { Style::new() });
        let bar_x = row.x + LABEL_WIDTH.min(width) as u16;
        for i in 0..bar_width {
            if let Some(cell) = buf.cell_mut((bar_x + i as u16, row.y)) {
                if i < filled {
                    cell.set_symbol("█").set_style(style);
                } else {
                    cell.set_symbol("░").set_style(muted);
                }
            }
        }
        let text_x = bar_x + bar_width as u16 + 1;
        let room = (row.x + row.width).saturating_sub(text_x) as usize;
        buf.set_stringn(text_x, row.y, &text, room, text_style);
    }
}

pub fn gauges(state: &GpuState, entry: &GpuEntry, sample: &GpuSample) -> [Gauge; 4] {
    let levels = state.levels(entry);
    let memory = sample.memory.get();
    let power = sample.power_draw_mw.get().map(|draw| match sample.power_limit_mw.get() {
        Some(limit) => format!("{}/{} W", watts(draw), watts(limit)),
        None => format!("{} W", watts(draw)),
    });
    [
        Gauge {
            label: "util",
            percent: sample.utilization_gpu.get().map(f64::from),
            text: na(&sample.utilization_gpu, |u| format!("{u:>3}%")),
            level: Level::Ok,
        },
        Gauge {
            label: "mem",
            percent: memory.map(|m| m.percent()),
            text: memory.map_or("n/a".into(), |m| format!("{:>3.0}% {}/{}G", m.percent(), gib(m.used), gib(m.total))),
            level: levels.memory,
        },
        Gauge {
            label: "temp",
            percent: sample.temperature.get().map(f64::from),
            text: na(&sample.temperature, |t| format!("{t:>3}°C")),
            level: levels.temperature,
        },
        Gauge {
            label: "power",
            percent: sample.power_percent(),
            text: power.unwrap_or_else(|| "n/a".into()),
            level: levels.power,
        },
    ]
}

pub fn draw_gauges(gauges: &[Gauge], theme: &Theme, dim: bool, frame: &mut Frame, area: Rect) {
    let buf = frame.buffer_mut();
    for (i, gauge) in gauges.iter().enumerate().take(area.height as usize) {
        gauge.draw(buf, Rect { y: area.y + i as u16, height: 1, ..area }, theme, dim);
    }
}

/// As many whole facts as fit in `width` columns, so a one-row detail line never ends mid-word.
pub fn fitted(facts: &[String], width: usize) -> String {
    let mut line = String::new();
    for fact in facts {
        let extra = if line.is_empty() { 0 } else { 2 };
        if crate::util::width::width(&line) + extra + crate::util::width::width(fact) > width {
            break;
        }
        if !line.is_empty() {
            line.push_str("  ");
        }
        line.push_str(fact);
    }
    line
}

/// Fan, clocks, PCIe, ECC, modes, throttling: small facts, most useful first.
pub fn details(sample: &GpuSample) -> Vec<String> {
    let mut parts = vec![
        format!("fan {}", na(&sample.fan, |f| format!("{f}%"))),
        match (sample.clock_sm.get(), sample.clock_memory.get()) {
            (Some(sm), Some(memory)) => format!("clocks sm {sm}/mem {memory} MHz"),
            (Some(sm), None) => format!("clocks sm {sm} MHz"),
            _ => "clocks n/a".to_string(),
        },
        format!("procs {}", na(&sample.processes, |p| p.len().to_string())),
    ];
    if let (Some(tx), Some(rx)) = (sample.pcie_tx.get(), sample.pcie_rx.get()) {
        parts.push(format!("pcie ↑{} ↓{}", rate(tx), rate(rx)));
    }
    if let (Some(corrected), Some(uncorrected)) = (sample.ecc_corrected.get(), sample.ecc_uncorrected.get()) {
        parts.push(format!("ecc {corrected}/{uncorrected}"));
    }
    if let Some(on) = sample.persistence_mode.get() {
        parts.push(format!("persist {}", if on { "on" } else { "off" }));
    }
    if let Some(on) = sample.mig_mode.get() {
        parts.push(format!("MIG {}", if on { "on" } else { "off" }));
    }
    if let Some(reasons) = sample.throttle_reasons.value().filter(|r| !r.is_empty()) {
        parts.push(format!("throttle {}", reasons.join(",")));
    }
    let failed = sample.failed_fields();
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|(name, _)| *name).collect();
        parts.insert(0, format!("error reading {}", names.join(",")));
    }
    parts
}

/// The processes of one GPU, sorted; `selected` marks a row when the table has the keyboard.
pub fn process_table(
    sample: &GpuSample,
    sort: ProcessSort,
    selected: Option<usize>,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let list = match &sample.processes {
        Reading::Value(list) if list.is_empty() => {
            let text = Line::styled("No process is using this GPU.", theme.muted());
            frame.render_widget(Paragraph::new(text), area);
            return;
        }
        Reading::Value(list) => list,
        Reading::NotSupported => {
            let text = Line::styled("This GPU's driver does not list processes (n/a).", theme.muted());
            frame.render_widget(Paragraph::new(text), area);
            return;
        }
        Reading::Failed(reason) => {
            frame.render_widget(Paragraph::new(Line::styled(format!("processes: {reason}"), theme.warn())), area);
            return;
        }
    };
    let mut list = list.clone();
    sort.apply(&mut list);
    let header = Row::new(["PID", "USER", "MEMORY", "GPU%", "TYPE", "NAME"]).style(theme.muted());
    let rows = list.iter().map(|p| {
        Row::new(vec![
            p.pid.to_string(),
            p.user.clone(),
            p.memory.map_or("n/a".into(), |m| format!("{} GiB", gib(m))),
            p.gpu_percent.map_or("n/a".into(), |g| format!("{g}%")),
            format!("{:?}", p.kind).to_lowercase(),
            p.name.clone(),
        ])
    });
    let widths = [
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Length(5),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    let mut table = Table::new(rows, widths).header(header);
    if selected.is_some() {
        table = table.row_highlight_style(theme.selection()).highlight_symbol("▶ ");
    }
    let mut table_state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut table_state);
}
