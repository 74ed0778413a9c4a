//! Drawing the incident tab.
//!
//! From 100 columns, checklist and actions side by side:
//! ```text
//! ┌ incident ───────────────────────────────────────────────────────────┐
//! │ T+07:42  #3 P1 orders down · respond within 30 min                  │ header
//! │ opened 03:02 by ana · Service down · Redeploy: 7 min left           │
//! ├ checklist ────────────────────┐ ┌ actions ──────────────────────────┤
//! │ Triage (0-15 min)             │ │ > redeploy orders  orders  high   │
//! │ > [x] 1.1 Acknowledge the     │ │ ─ redeploy orders | 00:03 ─       │ run pane
//! │           alert               │ │ output ...                        │
//! ├ timeline ─────────────────────┴─┴───────────────────────────────────┤
//! │ 03:02:10 ana  opened: P1 orders down                                │
//! │ notice or key hints                                                 │
//! └─────────────────────────────────────────────────────────────────────┘
//! ```
//! Narrower, the three panes stack (checklist, actions and output, timeline)
//! and the focused one takes the room the others leave. Step text wraps under
//! its own key, so no pane writes into another. Dialogs draw centred on top
//! (see `dialogs.rs`).

use super::dialogs;
use super::prompt::Prompt;
use super::timeline;
use super::{Focus, HostOperation, IncidentTab, RunPane};
use crate::action::Risk;
use crate::incident::checklist::StepState;
use crate::incident::export::duration;
use crate::incident::record::EventKind;
use crate::incident::runbook::StepKind;
use crate::tui::tabs::ViewCtx;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// From this many columns the checklist and the actions sit side by side.
const SIDE_BY_SIDE: u16 = 100;
/// Rows (with the title rule) of a pane without focus when the panes stack.
const STACKED_UNFOCUSED: u16 = 4;

pub fn render(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(" incident ", theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(6), Constraint::Length(1)]).areas(inner);
    let wide = area.width >= SIDE_BY_SIDE;
    render_header(tab, view, frame, header, wide);
    let (checklist, actions, timeline) = if wide {
        let timeline_share = if tab.focus == Focus::Timeline { 60 } else { 40 };
        let [middle, timeline] =
            Layout::vertical([Constraint::Min(6), Constraint::Percentage(timeline_share)]).areas(body);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).spacing(2).areas(middle);
        (left, right, timeline)
    } else {
        let size = |pane: Focus| {
            // A running action's pane keeps room for its newest output lines.
            let rows =
                if pane == Focus::Actions && tab.run.is_some() { STACKED_UNFOCUSED + 1 } else { STACKED_UNFOCUSED };
            if tab.focus == pane { Constraint::Min(rows) } else { Constraint::Length(rows) }
        };
        let [checklist, actions, timeline] =
            Layout::vertical([size(Focus::Checklist), size(Focus::Actions), size(Focus::Timeline)]).areas(body);
        (checklist, actions, timeline)
    };
    render_checklist(tab, view, frame, checklist);
    render_actions(tab, view, frame, actions);
    render_timeline(tab, view, frame, timeline);
    render_footer(tab, view, frame, footer);
    match &tab.prompt {
        None => {}
        Some(Prompt::Open(form)) => dialogs::render_open_form(tab, form, view, frame, area),
        Some(Prompt::Severity(picker)) => dialogs::render_severity(picker, view, frame, area),
        Some(Prompt::Milestone(picker)) => super::milestones::render(picker, view, frame, area),
        Some(Prompt::Confirm(dialog)) => dialogs::render_confirm(dialog, view, frame, area),
        Some(Prompt::Editor(editor)) => dialogs::render_editor(editor, view, frame, area),
        Some(Prompt::Ask(question)) => dialogs::render_question(question, view, frame, area),
        Some(Prompt::Step(key)) => dialogs::render_step(tab, key, view, frame, area),
    }
}

fn render_header(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect, wide: bool) {
    let theme = view.theme;
    let lines = match &tab.record {
        None if !tab.configured => vec![
            Line::styled("No store is open, so incidents cannot be kept on this host.", theme.warn()),
            Line::styled("Actions cannot run either: nothing could be written to the audit log.", theme.muted()),
        ],
        None => vec![
            Line::styled("No open incident.", theme.ok()),
            Line::styled("Press n to open one: title, severity (P0-P3) and the runbook to follow.", theme.muted()),
        ],
        Some(record) => {
            let incident = &record.incident;
            let elapsed = view.wall - incident.opened_at;
            // Narrow, the level's meaning gives way to how soon to respond.
            let about = if wide {
                format!("  · {} · {}", incident.severity.meaning(), incident.severity.response_target())
            } else {
                format!("  · {}", incident.severity.response_target())
            };
            let first = Line::from(vec![
                Span::styled(format!("T+{} ", duration(elapsed)), theme.crit()),
                Span::styled(format!(" #{} {} ", incident.id, incident.severity.label()), theme.crit()),
                Span::styled(incident.title.clone(), theme.accent()),
                Span::styled(about, theme.muted()),
            ]);
            // The runbook and its deadline first; who opened it is what a narrow screen cuts.
            let mut second = Vec::new();
            match tab.runbook() {
                Some(runbook) => {
                    second.push(Span::styled(runbook.title.clone(), theme.base()));
                    if let Some((text, style)) = phase_deadline(tab, view) {
                        second.push(Span::styled(" · ", theme.muted()));
                        second.push(Span::styled(text, style));
                    }
                }
                None => second.push(Span::styled(
                    match &incident.runbook {
                        Some(name) => format!("runbook `{name}` is not known here"),
                        None => "no runbook".into(),
                    },
                    theme.muted(),
                )),
            }
            second.push(Span::styled(
                format!(
                    " · opened {} by {}",
                    incident.opened_at.with_timezone(&view.zone).format("%H:%M"),
                    incident.opened_by
                ),
                theme.muted(),
            ));
            vec![first, Line::from(second)]
        }
    };
    frame.render_widget(Paragraph::new(lines), area);
}

/// The current phase (first with an open step) and its deadline: amber in its last third, red once missed.
fn phase_deadline(tab: &IncidentTab, view: &ViewCtx) -> Option<(String, Style)> {
    let record = tab.record.as_ref()?;
    let runbook = tab.runbook()?;
    let elapsed = (view.wall - record.incident.opened_at).num_seconds().max(0) as u64;
    let (index, phase) = runbook.phases.iter().enumerate().find(|(p, phase)| {
        (0..phase.steps.len()).any(|s| !tab.checklist.state(&format!("{}.{}", p + 1, s + 1)).is_settled())
    })?;
    let Some(deadline) = phase.deadline else {
        return Some((format!("phase {}: {}", index + 1, phase.title), view.theme.base()));
    };
    let deadline = deadline.as_secs();
    if elapsed > deadline {
        let late = (elapsed - deadline).div_ceil(60);
        return Some((format!("{}: deadline MISSED by {late} min", phase.title), view.theme.crit()));
    }
    let left = deadline - elapsed;
    let style = if left * 3 <= deadline { view.theme.warn() } else { view.theme.ok() };
    Some((format!("{}: {} min left", phase.title, left.div_ceil(60)), style))
}

fn pane<'a>(title: String, focused: bool, view: &ViewCtx) -> Block<'a> {
    let style = if focused { view.theme.accent() } else { view.theme.muted() };
    let marker = if focused { "▸ " } else { "" };
    Block::new()
        .borders(Borders::TOP)
        .border_style(view.theme.border())
        .title(Span::styled(format!(" {marker}{title} "), style))
}

/// The visible window of `len` rows around `cursor`.
fn window(cursor: usize, len: usize, height: usize) -> std::ops::Range<usize> {
    if height == 0 {
        return 0..0;
    }
    let start = cursor.saturating_sub(height - 1).min(len.saturating_sub(height));
    start..(start + height).min(len)
}

fn render_checklist(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let focused = tab.focus == Focus::Checklist;
    let block = pane("checklist".into(), focused, view);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(runbook) = tab.runbook() else {
        let mut lines = vec![Line::styled("Runbooks:", theme.muted())];
        for runbook in &tab.runbooks {
            lines.push(Line::raw(format!(" {} ({} steps)", runbook.title, runbook.step_count())));
        }
        for problem in &tab.runbook_problems {
            lines.push(Line::styled(format!("! {problem}"), theme.crit()));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    };
    // Tall enough: the selected step's detail and notes go under the list.
    let inner = if inner.height >= 16 {
        let [list, detail] = Layout::vertical([Constraint::Min(8), Constraint::Length(6)]).areas(inner);
        render_step_detail(tab, view, frame, detail);
        list
    } else {
        inner
    };
    // Rows for phase headings and steps; a step's text wraps under itself. The cursor counts steps.
    let width = inner.width as usize;
    let mut rows: Vec<Line> = Vec::new();
    // Where each heading and step begins, so the window never opens on half a step.
    let mut starts: Vec<usize> = Vec::new();
    let mut cursor_rows = 0..0;
    for (index, (key, phase, step)) in runbook.steps().enumerate() {
        if key.ends_with(".1") {
            starts.push(rows.len());
            // A heading like "Triage (0-15 min)" already says its deadline.
            let deadline = match phase.deadline {
                Some(d) if !phase.title.ends_with(')') => format!(" (by T+{} min)", d.as_secs() / 60),
                _ => String::new(),
            };
            rows.push(Line::styled(format!("{}{deadline}", phase.title), theme.accent()));
        }
        let state = tab.checklist.state(&key);
        let selected = focused && index == tab.step_cursor;
        let style = match state {
            StepState::Done { .. } => theme.ok(),
            StepState::Skipped { .. } => theme.muted(),
            StepState::Open => theme.base(),
        };
        let link = match &step.kind {
            StepKind::Action(name) => format!(" → {name}"),
            StepKind::Check(name) => format!(" ? {name}"),
            StepKind::Severity => " (severity)".into(),
            StepKind::Note => " (note)".into(),
            StepKind::Manual => String::new(),
        };
        let notes = tab.checklist.notes.get(&key).map_or(0, |n| n.len());
        let notes = if notes > 0 { format!(" ✎{notes}") } else { String::new() };
        let pointer = if index == tab.step_cursor { ">" } else { " " };
        let prefix = format!("{pointer}{} {key} ", state.mark());
        let indent = prefix.width();
        let mut text = wrap(&step.text, width.saturating_sub(indent).max(8));
        let tail = format!("{link}{notes}");
        let last_fits = text.last().is_some_and(|l| l.width() + tail.width() + indent <= width);
        let first = rows.len();
        starts.push(first);
        for (n, piece) in text.drain(..).enumerate() {
            let lead = if n == 0 { prefix.clone() } else { " ".repeat(indent) };
            rows.push(Line::from(vec![Span::styled(lead, style), Span::styled(piece, style)]));
        }
        if last_fits {
            if let Some(line) = rows.last_mut() {
                line.spans.push(Span::styled(link, theme.info()));
                line.spans.push(Span::styled(notes, theme.muted()));
            }
        } else if !tail.is_empty() {
            rows.push(Line::from(vec![
                Span::raw(" ".repeat(indent)),
                Span::styled(link.trim_start().to_string(), theme.info()),
                Span::styled(notes, theme.muted()),
            ]));
        }
        if selected {
            for line in &mut rows[first..] {
                line.style = theme.selection();
            }
        }
        if index == tab.step_cursor {
            cursor_rows = first..rows.len();
        }
    }
    let height = inner.height as usize;
    let mut visible = window(cursor_rows.end.saturating_sub(1), rows.len(), height);
    if cursor_rows.start < visible.start {
        visible = cursor_rows.start..(cursor_rows.start + height).min(rows.len());
    } else if let Some(&start) = starts.iter().find(|&&s| s >= visible.start)
        && start <= cursor_rows.start
    {
        visible = start..(start + height).min(rows.len());
    }
    let lines: Vec<Line> = rows.into_iter().skip(visible.start).take(visible.len()).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Splits `text` into lines at most `width` columns wide, at spaces where it can
/// (a word longer than a line is cut).
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        let word_width = word.width();
        if used > 0 && used + 1 + word_width <= width {
            line.push(' ');
            line.push_str(word);
            used += 1 + word_width;
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if word_width <= width {
            line.push_str(word);
            used = word_width;
            continue;
        }
        // A single word wider than the line: cut it.
        for c in word.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += w;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn render_step_detail(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let Some((key, step)) = tab.selected_step() else { return };
    let block = Block::new()
        .borders(Borders::TOP)
        .border_style(theme.border())
        .title(Span::styled(format!(" step {key} "), theme.muted()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = step.detail.lines().map(|l| Line::styled(l.to_string(), theme.base())).collect();
    match tab.checklist.state(&key) {
        StepState::Done { who, at } => lines.push(Line::styled(
            format!("done by {who} at {}", at.with_timezone(&view.zone).format("%H:%M:%S")),
            theme.ok(),
        )),
        StepState::Skipped { who, reason } => {
            lines.push(Line::styled(format!("skipped by {who}: {}", reason.replace('\n', " / ")), theme.muted()))
        }
        StepState::Open => {}
    }
    for note in tab.checklist.notes.get(&key).into_iter().flatten() {
        lines.push(Line::styled(format!("✎ {}", note.replace('\n', " / ")), theme.info()));
    }
    if lines.is_empty() {
        lines.push(Line::styled("no detail; e adds a note to this step", theme.muted()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}

fn render_actions(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let focused = tab.focus == Focus::Actions;
    let block = pane("actions".into(), focused, view);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let operations: Vec<&HostOperation> = tab.other_operations().collect();
    let rows = tab.actions.len() + operations.len();
    // With a run to show, the list gives way to its output; in a short pane, down to the selected action.
    let most = if inner.height < 6 { 1 } else { 3 };
    let list_height = if tab.run.is_some() { (rows as u16).clamp(1, most).min(inner.height) } else { inner.height };
    let [list_area, run_area] = Layout::vertical([Constraint::Length(list_height), Constraint::Min(0)]).areas(inner);
    let mut lines = Vec::new();
    if tab.read_only {
        lines.push(Line::styled("read-only session: actions are hidden", theme.warn()));
    } else if rows == 0 {
        lines.push(Line::styled("no actions configured ([[action]] in the config)", theme.muted()));
    } else {
        let visible = window(tab.action_cursor, rows, list_area.height as usize);
        for index in visible {
            let pointer = if index == tab.action_cursor { ">" } else { " " };
            let mut line = match tab.actions.get(index) {
                Some(action) => {
                    let risk = match action.risk {
                        Risk::High => "high",
                        Risk::Low => "low",
                    };
                    Line::from(vec![
                        Span::styled(format!("{pointer} {}", action.name), theme.base()),
                        Span::styled(format!("  {} → {} · {risk}", action.kind, action.target), theme.muted()),
                    ])
                }
                None => operation_line(operations[index - tab.actions.len()], pointer, view),
            };
            if focused && index == tab.action_cursor {
                line = line.style(theme.selection());
            }
            lines.push(line);
        }
    }
    frame.render_widget(Paragraph::new(lines), list_area);
    if let Some(run) = &tab.run {
        render_run(run, view, frame, run_area);
    }
}

/// An operation some terminal on this host started: who, on what, for how long.
fn operation_line(operation: &HostOperation, pointer: &str, view: &ViewCtx) -> Line<'static> {
    let theme = view.theme;
    let age = operation.started.map(|at| duration(view.wall - at)).unwrap_or_default();
    let state = if operation.watching { "watching" } else { "running" };
    Line::from(vec![
        Span::styled(format!("{pointer} ▶ #{} {}", operation.id, operation.name), theme.warn()),
        // Who comes before the target: in a narrow pane, whose operation it is matters most.
        Span::styled(format!("  {state} {age} · {} → {}", operation.who, operation.target), theme.muted()),
    ])
}

fn render_run(run: &RunPane, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let elapsed = duration(view.wall - run.started);
    let (state, style) = match &run.outcome {
        None => {
            let spinner = ["|", "/", "-", "\\"][(view.wall.timestamp().rem_euclid(4)) as usize];
            (format!("{spinner} running {elapsed}"), theme.warn())
        }
        Some(_) if run.failed => ("FAILED".to_string(), theme.crit()),
        Some(_) => ("done".to_string(), theme.ok()),
    };
    let dry = if run.dry_run { " (dry run)" } else { "" };
    let title = Line::from(vec![
        Span::styled(format!(" {}{dry}: ", run.name), theme.accent()),
        Span::styled(format!("{state} "), style),
    ]);
    let block = Block::new().borders(Borders::TOP).border_style(theme.border()).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    if run.dropped > 0 {
        lines.push(Line::styled(format!("… {} earlier lines not shown", run.dropped), theme.muted()));
    }
    lines.extend(run.lines.iter().map(|l| {
        if l.starts_with("» ") || l.starts_with("$ ") {
            Line::styled(l.clone(), theme.info())
        } else {
            Line::raw(l.clone())
        }
    }));
    if let Some(outcome) = &run.outcome {
        lines.push(Line::styled(outcome.clone(), if run.failed { theme.crit() } else { theme.ok() }));
        if run.failed
            && let Some(rollback) = &run.rollback
        {
            lines.push(Line::styled(format!("offer: {rollback} (selected; r to confirm it)"), theme.warn()));
        }
    } else if run.cancel_asked {
        lines.push(Line::styled("press c again to stop it", theme.warn()));
    }
    let height = inner.height as usize;
    let skip = lines.len().saturating_sub(height);
    frame.render_widget(Paragraph::new(lines.into_iter().skip(skip).collect::<Vec<_>>()), inner);
}

fn render_timeline(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let machine = tab.folded.machine;
    let title = match machine {
        0 => "timeline".to_string(),
        n if tab.hide_machine => format!("timeline · {n} check changes hidden (m shows)"),
        n => format!("timeline · {n} check changes folded (m hides)"),
    };
    let block = pane(title, tab.focus == Focus::Timeline, view);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(record) = &tab.record else {
        let text = match &tab.store_error {
            Some(err) => Line::styled(format!("store: {err}"), theme.crit()),
            None => Line::styled("Every tick, note, action and outcome will be listed here.", theme.muted()),
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        return;
    };
    let slots = &tab.folded.slots;
    let height = inner.height as usize;
    let end = slots.len().saturating_sub(tab.timeline_scroll.min(slots.len().saturating_sub(1)));
    let start = end.saturating_sub(height);
    let clock = |at: &chrono::DateTime<chrono::Utc>| at.with_timezone(&view.zone).format("%H:%M:%S").to_string();
    let rows: Vec<timeline::Row> = slots[start..end].iter().filter_map(|slot| slot.row(&record.events)).collect();
    let lines: Vec<Line> = rows
        .iter()
        .map(|row| match row {
            timeline::Row::Check { check, state, since, first, changes } => {
                let flaps = if *changes > 1 {
                    format!(" · {changes} changes since {}", clock(&first.at))
                } else {
                    String::new()
                };
                Line::styled(format!("{} {check} → {state}{flaps}", clock(&since.at)), theme.muted())
            }
            timeline::Row::Entry(event) => {
                let step = event.step.as_deref().map(|s| format!("[{s}] ")).unwrap_or_default();
                let text = event.text.lines().collect::<Vec<_>>().join(" / ");
                // Entries whose text says what happened need no label; ticks, skips and notes do.
                let label = match event.kind {
                    EventKind::Skip => "skipped: ",
                    EventKind::Note => "note: ",
                    _ => "",
                };
                Line::from(vec![
                    Span::styled(format!("{} ", clock(&event.at)), theme.muted()),
                    Span::styled(format!("{} ", event.who), theme.info()),
                    Span::styled(format!("{step}{label}"), theme.accent()),
                    Span::styled(text, theme.base()),
                ])
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The notice, or as many key hints as fit, most needed first.
fn render_footer(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let hints: &[&str] = if tab.record.is_some() {
        &[
            "space tick",
            "enter step",
            "e note",
            "r run",
            "S severity",
            "s skip",
            "C close",
            "X export",
            "m checks",
            "←→ panes",
        ]
    } else {
        &["n new incident", "r run action", "←→ panes"]
    };
    let line = match (&tab.notice, &tab.store_error) {
        (Some(notice), _) => Line::styled(notice.clone(), theme.warn()),
        (None, Some(err)) => Line::styled(format!("store: {err}"), theme.crit()),
        (None, None) => Line::styled(fit_hints(hints, area.width as usize), theme.muted()),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// `hints` joined with " · " as far as they fit in `width`, always ending with the help key.
fn fit_hints(hints: &[&str], width: usize) -> String {
    const END: &str = "? keys";
    let mut text = String::new();
    for hint in hints {
        let grown = if text.is_empty() { hint.to_string() } else { format!("{text} · {hint}") };
        if grown.width() + " · ".width() + END.width() > width {
            break;
        }
        text = grown;
    }
    if text.is_empty() { END.to_string() } else { format!("{text} · {END}") }
}
