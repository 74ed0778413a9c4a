//! The incident tab's dialogs, drawn centred over it. Each ends with one hint
//! line in the shared grammar: what saves, and that esc cancels.

use super::IncidentTab;
use super::prompt::{ConfirmDialog, Editor, EditorPurpose, OpenForm, Question, SeverityPicker};
use crate::action::Risk;
use crate::incident::checklist::StepState;
use crate::incident::record::{EventKind, Severity};
use crate::incident::runbook::StepKind;
use crate::tui::tabs::ViewCtx;
use crate::tui::view::centered;
use crate::util::sanitize::sanitize_str;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub(super) fn popup(title: String, view: &ViewCtx, frame: &mut Frame, area: Rect, width: u16, height: u16) -> Rect {
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

pub(super) fn render_open_form(tab: &IncidentTab, form: &OpenForm, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let height = if form.evidence.is_some() { 10 } else { 9 };
    let inner = popup("new incident".into(), view, frame, area, 76, height);
    let runbook = match form.runbook.checked_sub(1).and_then(|i| tab.runbooks.get(i)) {
        Some(runbook) => runbook.title.clone(),
        None => "none".into(),
    };
    let mut lines = vec![
        Line::from(vec![Span::styled("title     ", theme.muted()), Span::raw(format!("{}_", form.title))]),
        Line::from(vec![
            Span::styled("severity  ", theme.muted()),
            Span::styled(form.severity.label(), theme.crit()),
            Span::raw(format!(" {} · {}", form.severity.meaning(), form.severity.response_target())),
        ]),
        Line::from(vec![Span::styled("runbook   ", theme.muted()), Span::raw(runbook)]),
    ];
    if let Some(evidence) = &form.evidence {
        lines.push(Line::from(vec![
            Span::styled("evidence  ", theme.muted()),
            Span::styled(sanitize_str(evidence), theme.info()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(if form.discard_asked {
        Line::styled("discard the typed title? y or esc discards · n keeps it", theme.warn())
    } else {
        Line::styled("type the title · ↑↓ severity · ←→ runbook · enter/ctrl-s open · esc cancel", theme.muted())
    });
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// P0-P3, one per line with what it means and how soon to respond; the current level marked.
pub(super) fn render_severity(picker: &SeverityPicker, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let title = match &picker.step {
        Some(step) => format!("severity (ticks step {step})"),
        None => "severity".to_string(),
    };
    let inner = popup(title, view, frame, area, 70, 8);
    let mut lines: Vec<Line> = Severity::ALL
        .iter()
        .enumerate()
        .map(|(index, level)| {
            let pointer = if *level == picker.selected { "▶" } else { " " };
            let current = if *level == picker.current { " (now)" } else { "" };
            let line = Line::from(vec![
                Span::styled(format!("{pointer} {index} "), theme.muted()),
                Span::styled(level.label(), theme.crit()),
                Span::raw(format!(" {:<30}", level.meaning())),
                Span::styled(format!("{}{current}", level.response_target()), theme.muted()),
            ]);
            if *level == picker.selected { line.style(theme.selection()) } else { line }
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled("↑↓ or 0-3 choose · enter/ctrl-s set · esc cancel", theme.muted()));
    frame.render_widget(Paragraph::new(lines), inner);
}

pub(super) fn render_question(question: &Question, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let (title, text) = match question {
        Question::CloseWithOpenSteps { open, total } => (
            "close the incident?",
            format!("{open} of {total} runbook steps are still open (neither done nor skipped). Close anyway?"),
        ),
    };
    let inner = popup(title.into(), view, frame, area, 60, 6);
    let lines = vec![
        Line::styled(text, theme.warn()),
        Line::raw(""),
        Line::styled("y close and write the resolution · n or esc keep it open", theme.muted()),
    ];
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// `enter` on a step: its whole text, its detail, what it is bound to, who settled it
/// with the evidence recorded then, and its notes.
pub(super) fn render_step(tab: &IncidentTab, key: &str, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let Some((_, phase, step)) = tab.runbook().and_then(|r| r.steps().find(|(k, _, _)| k == key)) else { return };
    let width = area.width.saturating_sub(4).min(90);
    let height = area.height.saturating_sub(2);
    let inner = popup(format!("step {key} · {}", phase.title), view, frame, area, width, height);
    let [body, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let mut lines = vec![Line::styled(step.text.clone(), theme.accent())];
    lines.extend(step.detail.lines().map(|l| Line::styled(l.to_string(), theme.base())));
    let link = match &step.kind {
        StepKind::Action(name) => {
            Some(format!("bound to the action `{name}`: space asks to run it; a run ticks the step"))
        }
        StepKind::Check(name) => Some(format!("looks at the check `{name}`: r runs it once")),
        StepKind::Severity => Some("bound to the severity: space opens the P0-P3 picker".into()),
        StepKind::Note => Some("bound to a note: space opens the note editor".into()),
        StepKind::Manual => None,
    };
    if let Some(link) = link {
        lines.push(Line::raw(""));
        lines.push(Line::styled(link, theme.info()));
    }
    lines.push(Line::raw(""));
    match tab.checklist.state(key) {
        StepState::Done { who, at } => {
            let when = at.with_timezone(&view.zone).format("%H:%M:%S");
            lines.push(Line::styled(format!("done by {who} at {when}"), theme.ok()));
            // The evidence is what the tick recorded after its first line.
            let tick = tab.record.as_ref().and_then(|r| {
                r.events.iter().rev().find(|e| e.kind == EventKind::Tick && e.step.as_deref() == Some(key))
            });
            for line in tick.into_iter().flat_map(|e| e.text.lines().skip(1)) {
                lines.push(Line::styled(format!("  {}", sanitize_str(line)), theme.muted()));
            }
        }
        StepState::Skipped { who, reason } => {
            lines.push(Line::styled(format!("skipped by {who}: {}", sanitize_str(&reason)), theme.muted()))
        }
        StepState::Open => lines.push(Line::styled("open", theme.warn())),
    }
    for note in tab.checklist.notes.get(key).into_iter().flatten() {
        lines.push(Line::styled(format!("✎ {}", sanitize_str(note)), theme.info()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    frame.render_widget(Paragraph::new(Line::styled("esc or enter closes", theme.muted())), hint);
}

pub(super) fn render_confirm(dialog: &ConfirmDialog, view: &ViewCtx, frame: &mut Frame, area: Rect) {
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

pub(super) fn render_editor(editor: &Editor, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let title = match &editor.purpose {
        EditorPurpose::Note { step: Some(step) } if editor.ticks_step => format!("note on step {step} (ticks it)"),
        EditorPurpose::Note { step: Some(step) } => format!("note on step {step}"),
        EditorPurpose::Note { step: None } => "note".to_string(),
        EditorPurpose::Skip { step } => format!("skip step {step}: why?"),
        EditorPurpose::Close => "close the incident: resolution".to_string(),
    };
    let save = if editor.purpose == EditorPurpose::Close { "ctrl-s close" } else { "ctrl-s save" };
    let inner = popup(title, view, frame, area, 72, 12);
    let [text, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(&editor.area, text);
    let hint_line = if editor.discard_asked {
        Line::styled("discard what you wrote? y or esc discards · n keeps writing", view.theme.warn())
    } else {
        Line::styled(format!("{save} · esc cancel · enter new line"), view.theme.muted())
    };
    frame.render_widget(Paragraph::new(hint_line), hint);
}
