//! Drawing the incident tab.
//!
//! ```text
//! ┌ incident ───────────────────────────────────────────────────────────┐
//! │ T+07:42  #3 P1 orders down · respond within 30 min                  │ header
//! │ opened 03:02 by ana · Service down · Redeploy: 7 min left           │
//! ├ checklist ─────────────────────┬ actions ───────────────────────────┤
//! │ Triage (0-15 min)              │ > redeploy orders  orders  high    │
//! │ > [x] 1.1 Acknowledge          │ ─ redeploy orders | 00:03 ─        │ run pane
//! │   [ ] 1.2 Redeploy  → action   │ output ...                         │
//! ├ timeline ──────────────────────┴────────────────────────────────────┤
//! │ 03:02:10 ana  opened: P1 orders down                                │
//! │ notice or key hints                                                 │
//! └─────────────────────────────────────────────────────────────────────┘
//! ```
//! Dialogs (new incident, confirmation, note editor) draw centred on top.

use super::prompt::{ConfirmDialog, Editor, EditorPurpose, OpenForm, Prompt};
use super::{Focus, IncidentTab, RunPane};
use crate::action::Risk;
use crate::incident::checklist::StepState;
use crate::incident::export::duration;
use crate::incident::record::EventKind;
use crate::incident::runbook::StepKind;
use crate::tui::tabs::ViewCtx;
use crate::tui::view::centered;
use crate::util::sanitize::sanitize_str;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn render(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(" incident ", theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [header, middle, timeline, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(6),
        Constraint::Length(if inner.height >= 30 { 10 } else { 5 }),
        Constraint::Length(1),
    ])
    .areas(inner);
    render_header(tab, view, frame, header);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    render_checklist(tab, view, frame, left);
    render_actions(tab, view, frame, right);
    render_timeline(tab, view, frame, timeline);
    render_footer(tab, view, frame, footer);
    match &tab.prompt {
        None => {}
        Some(Prompt::Open(form)) => render_open_form(tab, form, view, frame, area),
        Some(Prompt::Confirm(dialog)) => render_confirm(dialog, view, frame, area),
        Some(Prompt::Editor(editor)) => render_editor(editor, view, frame, area),
    }
}

fn render_header(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
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
            let first = Line::from(vec![
                Span::styled(format!("T+{} ", duration(elapsed)), theme.crit()),
                Span::styled(format!(" #{} {} ", incident.id, incident.severity.label()), theme.crit()),
                Span::styled(incident.title.clone(), theme.accent()),
                Span::styled(
                    format!("  · {} · {}", incident.severity.meaning(), incident.severity.response_target()),
                    theme.muted(),
                ),
            ]);
            let mut second = vec![Span::styled(
                format!(
                    "opened {} by {} · ",
                    incident.opened_at.with_timezone(&view.zone).format("%H:%M"),
                    incident.opened_by
                ),
                theme.muted(),
            )];
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
    // One row per phase heading and per step; the cursor counts steps only.
    let mut rows: Vec<Line> = Vec::new();
    let mut cursor_row = 0;
    for (index, (key, phase, step)) in runbook.steps().enumerate() {
        if key.ends_with(".1") {
            // A heading like "Triage (0-15 min)" already says its deadline.
            let deadline = match phase.deadline {
                Some(d) if !phase.title.ends_with(')') => format!(" (by T+{} min)", d.as_secs() / 60),
                _ => String::new(),
            };
            rows.push(Line::styled(format!("{}{deadline}", phase.title), theme.accent()));
        }
        let state = tab.checklist.state(&key);
        let selected = focused && index == tab.step_cursor;
        if index == tab.step_cursor {
            cursor_row = rows.len();
        }
        let style = match state {
            StepState::Done { .. } => theme.ok(),
            StepState::Skipped { .. } => theme.muted(),
            StepState::Open => theme.base(),
        };
        let link = match &step.kind {
            StepKind::Action(name) => format!(" → {name}"),
            StepKind::Check(name) => format!(" ? {name}"),
            StepKind::Severity => " (severity)".into(),
            _ => String::new(),
        };
        let notes = tab.checklist.notes.get(&key).map_or(0, |n| n.len());
        let notes = if notes > 0 { format!(" ✎{notes}") } else { String::new() };
        let pointer = if index == tab.step_cursor { ">" } else { " " };
        let mut line = Line::from(vec![
            Span::styled(format!("{pointer}{} {key} ", state.mark()), style),
            Span::styled(step.text.clone(), style),
            Span::styled(link, theme.info()),
            Span::styled(notes, theme.muted()),
        ]);
        if selected {
            line = line.style(theme.selection());
        }
        rows.push(line);
    }
    let visible = window(cursor_row, rows.len(), inner.height as usize);
    let lines: Vec<Line> = rows.into_iter().skip(visible.start).take(visible.len()).collect();
    frame.render_widget(Paragraph::new(lines), inner);
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
    let list_height =
        if tab.run.is_some() { (tab.actions.len() as u16).clamp(1, 3).min(inner.height) } else { inner.height };
    let [list_area, run_area] = Layout::vertical([Constraint::Length(list_height), Constraint::Min(0)]).areas(inner);
    let mut lines = Vec::new();
    if tab.read_only {
        lines.push(Line::styled("read-only session: actions are hidden", theme.warn()));
    } else if tab.actions.is_empty() {
        lines.push(Line::styled("no actions configured ([[action]] in the config)", theme.muted()));
    } else {
        let visible = window(tab.action_cursor, tab.actions.len(), list_area.height as usize);
        for (index, action) in tab.actions.iter().enumerate().skip(visible.start).take(visible.len()) {
            let risk = match action.risk {
                Risk::High => "high",
                Risk::Low => "low",
            };
            let pointer = if index == tab.action_cursor { ">" } else { " " };
            let mut line = Line::from(vec![
                Span::styled(format!("{pointer} {}", action.name), theme.base()),
                Span::styled(format!("  {} → {} · {risk}", action.kind, action.target), theme.muted()),
            ]);
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
    let block = pane("timeline".into(), tab.focus == Focus::Timeline, view);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(record) = &tab.record else {
        let text = match &tab.store_error {
            Some(err) => Line::styled(format!("store: {err}"), theme.crit()),
            None => Line::styled("Every tick, note, action and outcome will be listed here.", theme.muted()),
        };
        frame.render_widget(Paragraph::new(text), inner);
        return;
    };
    let height = inner.height as usize;
    let end = record.events.len().saturating_sub(tab.timeline_scroll.min(record.events.len().saturating_sub(1)));
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = record.events[start..end]
        .iter()
        .map(|event| {
            let step = event.step.as_deref().map(|s| format!("[{s}] ")).unwrap_or_default();
            let text = event.text.lines().collect::<Vec<_>>().join(" / ");
            // Entries whose text says what happened need no label; ticks, skips and notes do.
            let label = match event.kind {
                EventKind::Tick | EventKind::Untick => "",
                EventKind::Skip => "skipped: ",
                EventKind::Note => "note: ",
                _ => "",
            };
            Line::from(vec![
                Span::styled(event.at.with_timezone(&view.zone).format("%H:%M:%S ").to_string(), theme.muted()),
                Span::styled(format!("{} ", event.who), theme.info()),
                Span::styled(format!("{step}{label}"), theme.accent()),
                Span::styled(text, theme.base()),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_footer(tab: &IncidentTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let line = match (&tab.notice, &tab.store_error) {
        (Some(notice), _) => Line::styled(notice.clone(), theme.warn()),
        (None, Some(err)) => Line::styled(format!("store: {err}"), theme.crit()),
        (None, None) if tab.record.is_some() => Line::styled(
            "space tick · s skip · e note · r run · S severity · X export · C close · ←→ panes",
            theme.muted(),
        ),
        (None, None) => Line::styled("n new incident · r run action · ←→ panes · ? help", theme.muted()),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn popup(title: String, view: &ViewCtx, frame: &mut Frame, area: Rect, width: u16, height: u16) -> Rect {
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(view.theme.accent())
        .style(view.theme.base())
        .title(Span::styled(format!(" {title} "), view.theme.accent()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

fn render_open_form(tab: &IncidentTab, form: &OpenForm, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let inner = popup("new incident".into(), view, frame, area, 70, 9);
    let runbook = match form.runbook.checked_sub(1).and_then(|i| tab.runbooks.get(i)) {
        Some(runbook) => runbook.title.clone(),
        None => "none".into(),
    };
    let lines = vec![
        Line::from(vec![Span::styled("title     ", theme.muted()), Span::raw(format!("{}_", form.title))]),
        Line::from(vec![
            Span::styled("severity  ", theme.muted()),
            Span::styled(form.severity.label(), theme.crit()),
            Span::raw(format!(" {} · {}", form.severity.meaning(), form.severity.response_target())),
        ]),
        Line::from(vec![Span::styled("runbook   ", theme.muted()), Span::raw(runbook)]),
        Line::raw(""),
        Line::styled("type the title · ↑↓ severity · ←→ runbook · enter open · esc cancel", theme.muted()),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn render_confirm(dialog: &ConfirmDialog, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let spec = &dialog.spec;
    let risk = match spec.risk {
        Risk::High => "high risk",
        Risk::Low => "low risk",
    };
    let watch = spec.watch_summary();
    let follow_up = dialog.follow_up.clone();
    let extra = u16::from(watch.is_some()) + u16::from(follow_up.is_some());
    let title = format!("confirm: {} ({}, {risk})", spec.name, spec.kind);
    let inner = popup(title, view, frame, area, 76, 14 + extra);
    let field = |name: &str, value: String| {
        Line::from(vec![Span::styled(format!("{name:<9}"), theme.muted()), Span::styled(value, theme.base())])
    };
    let mut lines = vec![
        field("host", dialog.host.clone()),
        field("target", spec.target.clone()),
        field("runs", sanitize_str(&spec.argv_line())),
        field("in", sanitize_str(&spec.dir.display().to_string())),
        field("timeout", format!("{} s", spec.timeout.as_secs())),
        field(
            "dry run",
            if dialog.dry_run { "ON: record only, nothing runs (ctrl-d)".into() } else { "off (ctrl-d)".into() },
        ),
    ];
    if let Some(backup) = &spec.backup {
        lines.push(field("restores", format!("from backup set `{backup}`, overwriting {}", spec.target)));
    }
    if let Some(watch) = watch {
        lines.push(field("watch", watch));
    }
    if let Some(follow_up) = follow_up {
        lines.push(field("if fails", sanitize_str(&follow_up)));
    }
    lines.push(Line::raw(""));
    // The question is on the first frame that shows the dialog: keys read after that frame answer it.
    let ask = match spec.risk {
        Risk::High => format!("type the target `{}` and press enter; esc or an empty enter cancels", spec.target),
        Risk::Low => "press y to run it; n, esc or enter cancels".to_string(),
    };
    lines.push(Line::styled(ask, theme.warn()));
    if spec.risk == Risk::High {
        lines.push(Line::from(vec![Span::styled("> ", theme.accent()), Span::raw(format!("{}_", dialog.typed))]));
    }
    if let Some(error) = &dialog.error {
        lines.push(Line::styled(format!("refused: {error}"), theme.crit()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn render_editor(editor: &Editor, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let (title, keys) = match &editor.purpose {
        EditorPurpose::Note { step: Some(step) } => (format!("note on step {step}"), "ctrl-s or esc save"),
        EditorPurpose::Note { step: None } => ("note".to_string(), "ctrl-s or esc save"),
        EditorPurpose::Skip { step } => (format!("skip step {step}: why?"), "ctrl-s or esc save"),
        EditorPurpose::Close => ("close the incident: resolution".to_string(), "ctrl-s close · esc cancel"),
    };
    let inner = popup(format!("{title} · {keys}"), view, frame, area, 72, 12);
    frame.render_widget(&editor.area, inner);
}
