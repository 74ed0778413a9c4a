//! Drawing the gpu tab for a fleet.
//!
//! ```text
//! engine `prom` · 64 hosts · 512 GPUs · every 5s · live
//!   HOST / GPU                 UTIL MEMORY           TEMP  POWER     STATE
//! ▶ - gpu-node-07 · 8 GPUs      57%  63% 402/640G    93°C  3.1/5.6kW CRIT 1/8
//!       0 H100 80GB HBM3        60%  60% 48.0/80.0G  58°C  252/700W  ok
//!       1 H100 80GB HBM3        61%  62% 49.1/80.0G  93°C  260/700W  CRIT temp
//!   + gpu-node-02 · 8 GPUs      12%  20% 128/640G    61°C  1.1/5.6kW ok
//! gpu-node-07 GPU 1 · GPU-3f1c… · last Xid 79: GPU has fallen off the bus
//! s sort: worst first · enter fold host · f fold all · n note · y copy
//! ```
//! One summary line per host (its GPUs, the worst state and how many GPUs
//! are in it, mean utilisation, memory, hottest GPU, power), then a line per
//! GPU unless the host is folded (`+`). Only the rows on screen are built, so
//! a 4,000-GPU fleet draws as fast as a small one. At 110 columns and wider an
//! XID column shows each GPU's last Xid with its meaning.

use super::fleet::Row;
use super::parts::{level_style, na};
use super::view::{clock, key, notice, short_name, state_word};
use super::{Command, GpuTab};
use crate::gpu::fleet::HostSummary;
use crate::gpu::format::{gib, watts};
use crate::gpu::state::{GpuCondition, GpuEntry, SourceHealth};
use crate::gpu::{GpuState, Level};
use crate::tui::action::Action;
use crate::tui::tabs::{TabCommand, ViewCtx};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table, TableState};

/// From this width on, each GPU's last Xid gets a column of its own.
const XID_COLUMN_FROM: u16 = 110;

pub fn render(tab: &GpuTab, state: &GpuState, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    if state.gpus.is_empty() {
        render_empty(state, view, frame, area);
        return;
    }
    let theme = view.theme;
    let [header, table, detail, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(header_line(tab, state, view)), header);
    render_table(tab, state, view, frame, table);
    frame.render_widget(Paragraph::new(detail_line(tab, state, view)), detail);
    let order = tab.host_order().label();
    let command = |c: Command| key(view, Action::Tab(TabCommand::Gpu(c)));
    let text = format!(
        "{} sort: {order} · {} fold host · {} fold all · {} note · {} copy · ←/→ host",
        command(Command::Sort),
        key(view, Action::Select),
        command(Command::Fold),
        command(Command::Note),
        key(view, Action::Copy),
    );
    frame.render_widget(Paragraph::new(Line::styled(text, theme.muted())), hints);
}

fn engine(state: &GpuState) -> &str {
    state.fleet.as_deref().unwrap_or("?")
}

fn header_line<'a>(tab: &GpuTab, state: &GpuState, view: &ViewCtx) -> Line<'a> {
    let theme = view.theme;
    let hosts = tab.fleet.hosts.len();
    let gpus = state.gpus.len();
    let mut spans = vec![Span::styled(
        format!(
            "engine `{}` · {hosts} host{} · {gpus} GPU{} · every {} · ",
            engine(state),
            if hosts == 1 { "" } else { "s" },
            if gpus == 1 { "" } else { "s" },
            crate::config::units::format_duration(state.every)
        ),
        theme.muted(),
    )];
    spans.push(match &state.health {
        SourceHealth::Live => Span::styled("live", theme.ok()),
        SourceHealth::Waiting => Span::styled("waiting", theme.muted()),
        // The numbers on screen are from before the engine stopped answering: say so first.
        SourceHealth::Stale { since, reason } => Span::styled(
            format!("ENGINE DOWN since {}, last numbers shown: {reason}", clock(view, *since)),
            theme.crit(),
        ),
        SourceHealth::NotAnswering { since, .. } => {
            Span::styled(format!("ENGINE NOT ANSWERING since {}", clock(view, *since)), theme.crit())
        }
        SourceHealth::NoGpu(reason) => Span::styled(format!("GONE: {reason}"), theme.crit()),
        SourceHealth::Stopped(reason) => Span::styled(format!("STOPPED: {reason}"), theme.crit()),
    });
    Line::from(spans)
}

/// No GPU to list: the engine has none, cannot be read, or has not answered yet.
fn render_empty(state: &GpuState, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let engine = engine(state);
    let retry = crate::config::units::format_duration(crate::gpu::engine::NO_GPU_RETRY.max(state.every));
    let lines = match &state.health {
        SourceHealth::NoGpu(reason) => vec![
            Line::styled(format!("No GPU in engine `{engine}`'s metrics"), theme.warn()),
            Line::raw(""),
            Line::raw(reason.clone()),
            Line::raw(""),
            Line::styled(
                "The fleet's GPUs come from the DCGM exporter's DCGM_FI_DEV_* metrics, one query per metric.",
                theme.muted(),
            ),
            Line::styled(format!("Looking again every {retry}. The other tabs are not affected."), theme.muted()),
        ],
        SourceHealth::Stale { since, reason } => vec![
            Line::styled(format!("Engine `{engine}` cannot be read (since {})", clock(view, *since)), theme.crit()),
            Line::raw(""),
            Line::raw(reason.clone()),
            Line::styled("Retrying with back-off. The other tabs are not affected.", theme.muted()),
        ],
        SourceHealth::NotAnswering { since, timeout } => vec![
            Line::styled(format!("Engine `{engine}` NOT ANSWERING since {}", clock(view, *since)), theme.crit()),
            Line::raw(""),
            Line::raw(format!(
                "Its queries took longer than {}. Waiting for them to return.",
                crate::config::units::format_duration(*timeout)
            )),
        ],
        SourceHealth::Stopped(reason) => {
            vec![Line::styled("GPU sampling stopped", theme.crit()), Line::raw(""), Line::raw(reason.clone())]
        }
        SourceHealth::Waiting | SourceHealth::Live => {
            vec![Line::styled(format!("Asking engine `{engine}` for the fleet's GPUs…"), theme.muted())]
        }
    };
    notice(frame, area, theme, lines);
}

/// Column widths: name (fills), util, memory, temp, power, state, and XID when wide enough.
/// The table's highlight symbol takes the first column of every row.
fn widths(area: Rect) -> Vec<Constraint> {
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Length(16),
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(11),
    ];
    if area.width >= XID_COLUMN_FROM {
        widths.push(Constraint::Length(30));
    }
    widths
}

fn render_table(tab: &GpuTab, state: &GpuState, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let fleet = &tab.fleet;
    let wide = area.width >= XID_COLUMN_FROM;
    let visible = area.height.saturating_sub(1) as usize;
    let offset = fleet.scroll(visible);
    let mut heading = vec!["HOST / GPU", "UTIL", "MEMORY", "TEMP", "POWER", "STATE"];
    if wide {
        heading.push("LAST XID");
    }
    let rows = fleet.rows.iter().skip(offset).take(visible).map(|row| match *row {
        Row::Host(host) => host_row(&fleet.hosts[host], fleet.is_folded(&fleet.hosts[host].host), wide, view),
        Row::Gpu { gpu, .. } => gpu_row(state, &state.gpus[gpu], wide, view),
    });
    let table = Table::new(rows, widths(area))
        .header(TableRow::new(heading).style(theme.muted()))
        .column_spacing(1)
        .row_highlight_style(theme.selection())
        .highlight_symbol("▶");
    let mut table_state = TableState::default().with_selected(fleet.cursor.checked_sub(offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}

fn host_row<'a>(host: &HostSummary, folded: bool, wide: bool, view: &ViewCtx) -> TableRow<'a> {
    let theme = view.theme;
    let (word, level) = host_state(host);
    let name = format!(
        "{} {} · {} GPU{}",
        if folded { "+" } else { "-" },
        host.host,
        host.count(),
        if host.count() == 1 { "" } else { "s" }
    );
    let mut cells = vec![
        Cell::from(Span::styled(name, theme.accent().add_modifier(Modifier::BOLD))),
        Cell::from(host.mean_utilization.map_or("n/a".into(), |u| format!("{u:>3.0}%"))),
        Cell::from(host.memory.map_or("n/a".into(), |m| {
            format!("{:>3.0}% {:.0}/{:.0}G", m.percent(), m.used as f64 / GIB, m.total as f64 / GIB)
        })),
        Cell::from(host.hottest.map_or("n/a".into(), |t| format!("{t}°C"))),
        Cell::from(kilowatts(host.power_draw_mw, host.power_limit_mw)),
        Cell::from(Span::styled(word, level_style(theme, level))),
    ];
    if wide {
        let text = match host.with_xid {
            0 => String::new(),
            1 => "1 GPU with an Xid".to_string(),
            n => format!("{n} GPUs with an Xid"),
        };
        cells.push(Cell::from(Span::styled(text, theme.muted())));
    }
    TableRow::new(cells).style(Style::new().add_modifier(Modifier::BOLD))
}

const GIB: f64 = (1u64 << 30) as f64;

/// `3.1/5.6kW`, `3.1kW` without limits, `n/a` without readings.
fn kilowatts(draw: Option<u64>, limit: Option<u64>) -> String {
    let kw = |mw: u64| mw as f64 / 1_000_000.0;
    match (draw, limit) {
        (Some(draw), Some(limit)) => format!("{:.1}/{:.1}kW", kw(draw), kw(limit)),
        (Some(draw), None) => format!("{:.1}kW", kw(draw)),
        _ => "n/a".into(),
    }
}

/// `ok`, `CRIT 1/8` (one of eight GPUs critical), or `STALE` when none is reported any more.
fn host_state(host: &HostSummary) -> (String, Level) {
    if host.stale == host.count() {
        return ("STALE".into(), Level::Warn);
    }
    match host.worst {
        Level::Ok => ("ok".into(), Level::Ok),
        worst => (format!("{} {}/{}", worst.word(), host.at_worst, host.count()), worst),
    }
}

fn gpu_row<'a>(state: &GpuState, entry: &GpuEntry, wide: bool, view: &ViewCtx) -> TableRow<'a> {
    let theme = view.theme;
    let (word, level) = state_word(state, entry);
    let name = format!("    {:>2} {}", entry.index, short_name(entry.name()));
    let mut cells = vec![Cell::from(name)];
    match &entry.sample {
        Some(sample) => {
            let memory = sample.memory.get();
            cells.extend([
                Cell::from(na(&sample.utilization_gpu, |u| format!("{u:>3}%"))),
                Cell::from(
                    memory.map_or("n/a".into(), |m| format!("{:>3.0}% {}/{}G", m.percent(), gib(m.used), gib(m.total))),
                ),
                Cell::from(na(&sample.temperature, |t| format!("{t}°C"))),
                Cell::from(na(&sample.power_draw_mw, |d| match sample.power_limit_mw.get() {
                    Some(limit) => format!("{}/{}W", watts(*d), watts(limit)),
                    None => format!("{}W", watts(*d)),
                })),
            ]);
        }
        None => cells.extend((0..4).map(|_| Cell::from(""))),
    }
    cells.push(Cell::from(Span::styled(word, level_style(theme, level))));
    if wide {
        let xid = entry.sample.as_ref().and_then(|s| s.xid.get()).filter(|x| *x != 0);
        cells.push(Cell::from(match xid {
            Some(code) => Span::styled(
                format!("{code} {}", crate::gpu::xid::meaning(code).unwrap_or("(see NVIDIA's Xid list)")),
                theme.warn(),
            ),
            None => Span::raw(""),
        }));
    }
    let style = if matches!(entry.condition, GpuCondition::Live) { Style::new() } else { theme.muted() };
    TableRow::new(cells).style(style)
}

/// A host's summary in words, for the detail line, notes and copies.
pub fn host_facts(host: &HostSummary) -> String {
    let (word, _) = host_state(host);
    let mut parts = vec![format!("{} GPU{} {word}", host.count(), if host.count() == 1 { "" } else { "s" })];
    if let Some(util) = host.mean_utilization {
        parts.push(format!("util {util:.0}%"));
    }
    if let Some(memory) = host.memory {
        parts.push(format!(
            "memory {:.0}/{:.0} GiB ({:.0}%)",
            memory.used as f64 / GIB,
            memory.total as f64 / GIB,
            memory.percent()
        ));
    }
    if let Some(hottest) = host.hottest {
        parts.push(format!("hottest {hottest}°C"));
    }
    if host.power_draw_mw.is_some() {
        parts.push(format!("power {}", kilowatts(host.power_draw_mw, host.power_limit_mw)));
    }
    if host.with_xid > 0 {
        parts.push(format!("{} with an Xid", host.with_xid));
    }
    parts.join(", ")
}

/// The selection in one line: a host's summary, or a GPU's UUID, state and last Xid.
fn detail_line<'a>(tab: &GpuTab, state: &GpuState, view: &ViewCtx) -> Line<'a> {
    let theme = view.theme;
    let fleet = &tab.fleet;
    match fleet.selected() {
        Some(Row::Host(host)) => {
            let host = &fleet.hosts[host];
            Line::from(vec![Span::styled(format!("{}: ", host.host), theme.accent()), Span::raw(host_facts(host))])
        }
        Some(Row::Gpu { gpu, .. }) => {
            let entry = &state.gpus[gpu];
            let mut spans = vec![Span::styled(format!("{} ", entry.label()), theme.accent())];
            match &entry.condition {
                GpuCondition::Lost { since, reason } | GpuCondition::Stale { since, reason } => {
                    spans.push(Span::styled(format!("since {}: {reason} · ", clock(view, *since)), theme.warn()));
                }
                GpuCondition::Live => {}
            }
            if let Some(sample) = &entry.sample {
                let mut facts = vec![na(&sample.uuid, String::clone)];
                if sample.power_draw_mw.get().is_some() && sample.power_limit_mw.get().is_none() {
                    facts.push("power limit unknown".into());
                }
                facts.push(match sample.xid.get() {
                    Some(0) => "no Xid".into(),
                    Some(code) => format!("last {}", crate::gpu::xid::describe(code).unwrap_or_default()),
                    None => "Xid n/a".into(),
                });
                spans.push(Span::styled(facts.join(" · "), theme.muted()));
            }
            Line::from(spans)
        }
        None => Line::raw(""),
    }
}
