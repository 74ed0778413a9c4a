//! Drawing the logs tab.
//!
//! ```text
//! ┌ logs · merged ───────────────────────────────────────────────┐
//! │▸app ● live 12/s ▁▃▅  metrics ● live  old ○ missing            │ sources
//! │app     2026-11-29T10:00:01Z INFO  GET /api/orders 200 12ms    │
//! │metrics 10:00:02 ERROR operation=sync duration_seconds=10.9 …  │ lines
//! │── app: rotated: following the new file from its start ──      │
//! │● FOLLOW · level >= WARN · search "timeout": 3 matches          │ status or prompt
//! └──────────────────────────────────────────────────────────────┘
//! ```
//! Every state is spelled out in text or symbols, so it reads without colour.

use super::{Command, LogsTab, PromptKind};
use crate::logs::follow::{Marker, SourceState};
use crate::logs::level::Level;
use crate::logs::view::{LogLine, LogView, Role, SourceView};
use crate::theme::Theme;
use crate::tui::tabs::ViewCtx;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use std::ops::Range;
use unicode_width::UnicodeWidthChar;

/// Source tags are padded to the longest name, up to this width.
const MAX_TAG_WIDTH: usize = 12;
/// Wide enough for rates and sparklines in the header.
const WIDE: u16 = 100;

pub fn render(tab: &LogsTab, ctx: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = ctx.theme;
    let title = match &tab.view {
        Some(view) => match view.focus() {
            Some(source) => format!(" logs · only {} ", view.sources[source].name),
            None => " logs · merged ".to_string(),
        },
        None => " logs ".to_string(),
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(title, theme.accent()))
        .title_bottom(Line::raw(key_hints(tab, ctx)).style(theme.muted()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(view) = &tab.view else {
        render_not_configured(theme, frame, inner);
        return;
    };
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    frame.render_widget(Paragraph::new(header_line(tab, view, theme, inner.width)), header);
    tab.page.set(body.height as usize);
    if let Some(failure) = &tab.failure {
        frame
            .render_widget(Paragraph::new(Line::styled(failure.clone(), theme.crit())).wrap(Wrap { trim: true }), body);
    } else if view.is_empty() {
        frame.render_widget(Paragraph::new(empty_message(tab, view, theme)).wrap(Wrap { trim: true }), body);
    } else {
        frame.render_widget(Paragraph::new(body_lines(tab, view, theme, body)), body);
    }
    frame.render_widget(Paragraph::new(footer_line(tab, view, theme)), footer);
}

fn render_not_configured(theme: &Theme, frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::styled("No logs are configured.", theme.warn()),
        Line::raw(""),
        Line::styled("Add a [[log]] section to the config, for example:", theme.muted()),
        Line::raw(""),
        Line::raw("  [[log]]"),
        Line::raw("  name = \"app\""),
        Line::raw("  path = \"/var/log/app/*.log\""),
        Line::raw(""),
        Line::styled("Then `firstwatch config check` and restart.", theme.muted()),
    ];
    frame.render_widget(Paragraph::new(text), area);
}

fn empty_message<'a>(tab: &LogsTab, view: &LogView, theme: &Theme) -> Vec<Line<'a>> {
    if !tab.caught_up {
        return vec![Line::styled("Reading the logs…", theme.muted())];
    }
    if view.buffered() > 0 {
        return vec![Line::styled("No line matches the filter (c clears it).", theme.warn())];
    }
    let mut lines = vec![Line::styled("No lines yet: waiting for the sources to write.", theme.muted())];
    for (source, origin) in view.sources.iter().zip(&tab.origins) {
        lines.push(Line::styled(format!("  {}: {}", source.name, origin), theme.muted()));
    }
    lines
}

fn state_span(source: &SourceView, theme: &Theme) -> Span<'static> {
    match &source.state {
        None => Span::styled("… opening", theme.muted()),
        Some(SourceState::Live) => Span::styled("● live", theme.ok()),
        Some(SourceState::Missing) => Span::styled("○ missing", theme.warn()),
        Some(SourceState::Failed(why)) => Span::styled(format!("✗ {why}"), theme.crit()),
        Some(SourceState::Exited(why)) => Span::styled(format!("✗ {why}"), theme.warn()),
    }
}

fn header_line<'a>(tab: &LogsTab, view: &LogView, theme: &Theme, width: u16) -> Line<'a> {
    let mut spans = Vec::new();
    for (i, source) in view.sources.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        let cursor = i == tab.cursor && view.sources.len() > 1;
        spans.push(Span::raw(if cursor { "▸" } else { "" }));
        let name_style = if cursor { theme.selection() } else { source_style(theme, i) };
        spans.push(Span::styled(source.name.clone(), name_style));
        spans.push(Span::raw(" "));
        spans.push(state_span(source, theme));
        if view.filter().hidden.get(i).copied().unwrap_or(false) {
            spans.push(Span::styled(" (hidden)", theme.muted()));
        }
        if let Some(marker) = source.last_marker {
            let what = match marker {
                Marker::Rotated => "rotated",
                Marker::Truncated => "truncated",
                Marker::Restarted => "restarted",
            };
            let times = if source.markers > 1 { format!(" ×{}", source.markers) } else { String::new() };
            spans.push(Span::styled(format!(" ↻ {what}{times}"), theme.muted()));
        }
        if source.budget_dropped > 0 {
            // Distinct from its own buffer_lines: other sources share the memory.
            spans.push(Span::styled(" older lines dropped: budget", theme.warn()));
        }
        if width >= WIDE {
            let last = source.rate.back().copied().unwrap_or(0);
            let spark = sparkline(source, 8);
            let spark = if spark.trim().is_empty() { String::new() } else { format!(" {spark}") };
            spans.push(Span::styled(format!(" {last}/s{spark}"), theme.muted()));
            if source.errors_last_minute > 0 {
                spans.push(Span::styled(format!(" {} err/min", source.errors_last_minute), theme.crit()));
            }
        }
    }
    Line::from(spans)
}

/// The last `seconds` of a source's line rate as block characters.
fn sparkline(source: &SourceView, seconds: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let recent: Vec<u64> = source.rate.iter().rev().take(seconds).rev().copied().collect();
    let peak = recent.iter().copied().max().unwrap_or(0).max(1);
    recent.iter().map(|r| if *r == 0 { ' ' } else { BARS[((r * 7) / peak) as usize] }).collect()
}

fn footer_line<'a>(tab: &LogsTab, view: &LogView, theme: &Theme) -> Line<'a> {
    if let Some(prompt) = &tab.prompt {
        let label = match prompt.kind {
            PromptKind::Search => "search: ",
            PromptKind::Filter => "filter: ",
            PromptKind::Fields => "where: ",
        };
        let hint = match (&prompt.error, prompt.kind) {
            (Some(error), _) => Span::styled(format!("  {}", crate::util::sanitize::sanitize_str(error)), theme.crit()),
            (None, PromptKind::Fields) => {
                Span::styled("  e.g. status == \"failure\" and duration_seconds > 10 · esc cancel", theme.muted())
            }
            (None, _) => Span::styled("  enter apply · esc cancel", theme.muted()),
        };
        return Line::from(vec![
            Span::styled(label, theme.accent()),
            Span::raw(crate::util::sanitize::sanitize_str(&prompt.text)),
            Span::styled("█", theme.accent()),
            hint,
        ]);
    }
    let mut spans = Vec::new();
    if view.following() {
        spans.push(Span::styled("● FOLLOW", theme.ok()));
    } else {
        spans.push(Span::styled(format!("⏸ PAUSED, {} new lines (G/End follows)", view.pending()), theme.warn()));
    }
    let mut parts = Vec::new();
    if let Some(filter) = view.filter().describe() {
        parts.push(Span::styled(filter, theme.accent()));
    }
    if let Some(search) = view.search() {
        let place = match view.match_position() {
            Some(position) => format!("match {position}/{}", view.match_count()),
            None => format!("{} matches", view.match_count()),
        };
        parts.push(Span::styled(format!("search \"{}\": {place}", search.text), theme.accent()));
    }
    if tab.wrap {
        parts.push(Span::styled("wrap", theme.muted()));
    }
    if view.dropped > 0 {
        parts.push(Span::styled(format!("{} lines dropped", view.dropped), theme.crit()));
    }
    parts.push(Span::styled(format!("{}/{} lines", view.len(), view.buffered()), theme.muted()));
    for part in parts {
        spans.push(Span::styled(" · ", theme.muted()));
        spans.push(part);
    }
    Line::from(spans)
}

fn source_style(theme: &Theme, source: usize) -> Style {
    match source % 3 {
        0 => theme.accent(),
        1 => theme.info(),
        _ => theme.ok(),
    }
}

fn level_style(theme: &Theme, line: &LogLine) -> Style {
    if line.marker {
        return theme.accent();
    }
    match line.level {
        Some(Level::Fatal | Level::Error) => theme.crit(),
        Some(Level::Warn) => theme.warn(),
        Some(Level::Debug | Level::Trace) => theme.muted(),
        _ => Style::default(),
    }
}

fn role_style(theme: &Theme, role: Role) -> Style {
    match role {
        Role::Ok => theme.ok(),
        Role::Warn => theme.warn(),
        Role::Crit => theme.crit(),
        Role::Accent => theme.accent(),
        Role::Muted => theme.muted(),
        Role::Info => theme.info(),
    }
}

/// The rows for the lines on screen, the newest at the bottom.
fn body_lines<'a>(tab: &LogsTab, view: &LogView, theme: &Theme, area: Rect) -> Vec<Line<'a>> {
    let height = area.height as usize;
    let width = area.width as usize;
    let merged = view.focus().is_none() && view.sources.len() > 1;
    let tag_width =
        view.sources.iter().map(|s| crate::util::width::width(&s.name)).max().unwrap_or(0).min(MAX_TAG_WIDTH);
    let mut rows: Vec<Line> = Vec::new();
    let Some(bottom) = view.bottom() else { return rows };
    let mut index = bottom + 1;
    while rows.len() < height && index > 0 {
        index -= 1;
        let Some(line) = view.get(index) else { continue };
        let spans = line_spans(view, &line, theme, merged.then_some(tag_width));
        let mut line_rows = if tab.wrap { wrap_spans(spans, width.max(1)) } else { vec![Line::from(spans)] };
        while let Some(row) = line_rows.pop() {
            if rows.len() == height {
                break;
            }
            rows.push(row);
        }
    }
    rows.reverse();
    rows
}

fn line_spans<'a>(view: &LogView, line: &LogLine, theme: &Theme, tag_width: Option<usize>) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    let current = view.current_match() == Some(line.seq);
    if let Some(width) = tag_width {
        let name = &view.sources[line.source as usize].name;
        let tag: String = name.chars().take(width).collect();
        spans.push(Span::styled(format!("{tag:<width$}"), source_style(theme, line.source as usize)));
        spans.push(Span::raw(if current { "▶" } else { " " }));
    } else if current {
        spans.push(Span::raw("▶"));
    }
    let base = level_style(theme, line);
    let mut marks: Vec<(Range<usize>, Style)> = Vec::new();
    if let Some(search) = view.search() {
        marks.extend(search.find_ranges(line.text).into_iter().map(|r| (r, theme.selection())));
    }
    for rule in &view.sources[line.source as usize].highlights {
        let style = base.patch(role_style(theme, rule.role));
        marks.extend(rule.pattern.find_ranges(line.text).into_iter().map(|r| (r, style)));
    }
    spans.extend(styled(line.text, base, marks));
    spans
}

/// Splits `text` into spans: `marks` (earlier ones win where they overlap) over `base`.
fn styled<'a>(text: &str, base: Style, mut marks: Vec<(Range<usize>, Style)>) -> Vec<Span<'a>> {
    if marks.is_empty() {
        return vec![Span::styled(text.to_string(), base)];
    }
    // Stable sort keeps search matches ahead of highlight rules at the same start.
    marks.sort_by_key(|(range, _)| range.start);
    let mut spans = Vec::new();
    let mut at = 0;
    for (range, style) in marks {
        if range.start < at || range.end > text.len() {
            continue;
        }
        if range.start > at {
            spans.push(Span::styled(text[at..range.start].to_string(), base));
        }
        spans.push(Span::styled(text[range.clone()].to_string(), style));
        at = range.end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    spans
}

/// Cuts spans into rows of at most `width` columns, keeping their styles.
fn wrap_spans<'a>(spans: Vec<Span<'a>>, width: usize) -> Vec<Line<'a>> {
    let mut rows = Vec::new();
    let mut row: Vec<Span> = Vec::new();
    let mut used = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Line::from(std::mem::take(&mut row)));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, span.style));
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(Line::from(row));
    }
    rows
}

/// The keys of this tab, as every tab shows them in its bottom border.
fn key_hints(tab: &LogsTab, view: &ViewCtx) -> String {
    if tab.view.is_none() {
        return String::new();
    }
    if let Some(prompt) = &tab.prompt {
        return match prompt.kind {
            PromptKind::Filter => " type to filter (shown as you type) · enter keep · esc undo ".into(),
            _ => " enter apply · esc cancel ".into(),
        };
    }
    let mode = crate::tui::keymap::Mode::Tab(crate::tui::tab::TabId::Logs);
    let key = |command: Command| {
        view.keymap.key_for(mode, &crate::tui::action::Action::Tab(crate::tui::tabs::TabCommand::Logs(command)))
    };
    let mut hints = String::from(" ");
    for (command, label) in [
        (Command::Search, "search"),
        (Command::NextMatch, "next"),
        (Command::Filter, "filter"),
        (Command::FieldFilter, "fields"),
        (Command::CycleLevel, "level"),
        (Command::TogglePause, "pause"),
        (Command::OnlySource, "only"),
        (Command::ToggleWrap, "wrap"),
    ] {
        if let Some(key) = key(command) {
            hints.push_str(&format!("{key} {label}  "));
        }
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_split_text_and_overlaps_keep_the_first() {
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        let spans = styled("abcdef", Style::default(), vec![(1..3, bold), (2..4, bold), (4..5, bold)]);
        let texts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, vec!["a", "bc", "d", "e", "f"]);
    }

    #[test]
    fn wrapping_counts_columns_not_bytes() {
        let rows = wrap_spans(vec![Span::raw("ééééé"), Span::raw("漢字")], 3);
        let texts: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
        assert_eq!(texts, vec!["ééé", "éé", "漢", "字"]);
    }
}
