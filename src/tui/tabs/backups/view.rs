//! Drawing the backups tab.
//!
//! Wide (120 columns and more), list and details side by side:
//! ```text
//! ┌ backups ──────────────────────────────────────────┬ app_db_20261128_030000.db.gz ┐
//! │ ! app db (sqlite-gz) · last good 1d14h · 1 missed │ status  ok                    │
//! │   ✓ ok        2026-11-28 03:00  1d14h  12.5 KiB   │ tables                        │
//! │   ✗ corrupt   2026-11-27 03:00  2d14h   6.2 KiB   │   users      120 rows         │
//! │ ✓ weekly config (dir) · last good 3d17h · fresh   │                               │
//! ├───────────────────────────────────────────────────┴───────────────────────────────┤
//! │ v verify · V verify all · enter contents · r restore          verifying 3/12 43%  │
//! └───────────────────────────────────────────────────────────────────────────────────┘
//! ```
//! Narrow (80 columns), the details pane goes under the list. The restore
//! dialog draws over both. Every state is a word or a symbol as well as a colour.

use super::dialog::{RestoreDialog, Stage};
use super::{BackupsTab, Command, PaneState, Row};
use crate::backup::overview::{BackupState, SetState};
use crate::backup::{Status, human_age, human_bytes, listing};
use crate::tui::action::Action;
use crate::tui::keymap::Mode;
use crate::tui::tab::TabId;
use crate::tui::tabs::{TabCommand, ViewCtx};
use crate::tui::view::centered;
use crate::util::sanitize::sanitize_str;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// Below this width the details pane goes under the list.
const WIDE: u16 = 110;

pub(super) fn render(tab: &BackupsTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.border())
        .title(Span::styled(" backups ", theme.accent()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if !tab.configured {
        render_not_configured(view, frame, inner);
        return;
    }
    let [main, footer] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(inner);
    let (list_area, pane_area) = if main.width >= WIDE {
        let [list, pane] = Layout::horizontal([Constraint::Min(76), Constraint::Percentage(35)]).areas(main);
        (list, pane)
    } else {
        let pane_height = (main.height / 3).clamp(5, 9);
        let [list, pane] = Layout::vertical([Constraint::Min(3), Constraint::Length(pane_height)]).areas(main);
        (list, pane)
    };
    render_list(tab, view, frame, list_area);
    render_pane(tab, view, frame, pane_area);
    render_footer(tab, view, frame, footer);
    if let Some(dialog) = &tab.dialog {
        render_dialog(dialog, view, frame, area);
    }
}

fn render_not_configured(view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let text = vec![
        Line::styled("No backup sets are configured.", theme.warn()),
        Line::raw(""),
        Line::styled("Add a [[backup]] section with name, dir, pattern and format,", theme.muted()),
        Line::styled("e.g. pattern = \"app_db_%Y%m%d_%H%M%S.db.gz\", format = \"sqlite-gz\".", theme.muted()),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).centered(), centered(area, 70, 5));
}

/// The symbol and style of a set's verdict (as `backups list` judges it): readable without colour.
fn freshness_mark(set: &SetState, view: &ViewCtx) -> (&'static str, Style) {
    use crate::backup::assess::{Limits, assess};
    use crate::health::Level;
    let theme = view.theme;
    match assess(set, Limits::for_set(set.every, None, None), view.wall).level {
        Level::Ok if set.every.is_none() => ("·", theme.accent()),
        Level::Ok => ("✓", theme.ok()),
        Level::Warning => ("!", theme.warn()),
        Level::Unknown | Level::Critical => ("✗", theme.crit()),
    }
}

fn status_style(status: &Status, view: &ViewCtx) -> Style {
    match status {
        Status::Ok(_) => view.theme.ok(),
        Status::Corrupt(_) => view.theme.crit(),
        Status::Verifying(_) => view.theme.accent(),
        Status::Changed => view.theme.warn(),
        Status::Unverified => view.theme.muted(),
    }
}

fn render_list(tab: &BackupsTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let rows = tab.rows();
    let height = area.height as usize;
    let offset = if tab.selected >= height { tab.selected + 1 - height } else { 0 };
    tab.hits.set(crate::tui::tabs::ListHits { rows: area, first: offset });
    let mut lines = Vec::with_capacity(height);
    for (index, row) in rows.iter().enumerate().skip(offset).take(height) {
        let mut line = match *row {
            Row::Set(s) => set_line(&tab.sets[s], view),
            Row::Backup(s, b) => backup_line(tab, &tab.sets[s], &tab.sets[s].backups[b], view, area.width),
        };
        if index == tab.selected && !tab.contents.focused {
            line = line.style(view.theme.selection());
        }
        lines.push(line);
    }
    if rows.is_empty() {
        lines.push(Line::styled("listing backup folders…", view.theme.muted()));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn set_line<'a>(set: &SetState, view: &ViewCtx) -> Line<'a> {
    let (mark, style) = freshness_mark(set, view);
    Line::from(vec![
        Span::styled(format!("{mark} "), style),
        Span::styled(sanitize_str(&set.name), view.theme.accent()),
        Span::styled(format!(" ({}) ", set.format), view.theme.muted()),
        Span::styled(sanitize_str(&set.headline(view.wall)), style),
    ])
}

fn backup_line<'a>(tab: &BackupsTab, set: &SetState, backup: &BackupState, view: &ViewCtx, width: u16) -> Line<'a> {
    // Full dates and file counts once there is room for them beside the name.
    let wide = width >= 96;
    let status = tab.status_of(&set.name, backup);
    let local = backup.entry.created.with_timezone(&view.zone);
    let date = if wide { local.format("%Y-%m-%d %H:%M") } else { local.format("%m-%d %H:%M") }.to_string();
    let age = human_age(listing::age(view.wall, backup.entry.created));
    let label = match &status {
        Status::Corrupt(_) => "corrupt".to_string(),
        Status::Changed => "changed".to_string(),
        Status::Verifying(percent) => format!("verify {percent}%"),
        other => other.label(),
    };
    // A flaw seen by the quick look outranks "unverified": an empty newest backup must not look fine.
    let (symbol, label, style) = match (&backup.flaw, &status) {
        (Some(flaw), Status::Unverified | Status::Changed) => {
            ("✗", crate::backup::overview::flaw_word(flaw).to_string(), view.theme.crit())
        }
        _ => (status.symbol(), label, status_style(&status, view)),
    };
    let mut spans = vec![
        Span::raw("  "),
        Span::styled(format!("{symbol} {label:<10}"), style),
        Span::raw(format!(" {date} {age:>6} {:>9}", human_bytes(backup.entry.size_bytes))),
    ];
    if wide {
        let files = backup.files().map_or("-".to_string(), |f| f.to_string());
        spans.push(Span::styled(format!(" {files:>5}"), view.theme.muted()));
    }
    let prune = if backup.entry.prune { " [prune]" } else { "" };
    // The name gives way before the retention marker does.
    let used: usize = spans.iter().map(|s| s.width()).sum::<usize>() + 2 + prune.len();
    let room = (width as usize).saturating_sub(used).max(8);
    spans.push(Span::raw(format!("  {}", fit(&sanitize_str(&backup.entry.name), room))));
    spans.push(Span::styled(prune, view.theme.muted()));
    Line::from(spans)
}

/// Cuts `text` to `room` columns, marking the cut with `…`.
fn fit(text: &str, room: usize) -> String {
    crate::util::width::truncate(text, room)
}

fn render_pane(tab: &BackupsTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let title = match tab.selected_row() {
        Some(Row::Backup(s, b)) => sanitize_str(&tab.sets[s].backups[b].entry.name),
        Some(Row::Set(s)) => sanitize_str(&tab.sets[s].name),
        None => "details".into(),
    };
    let border = if tab.contents.focused { theme.accent() } else { theme.border() };
    let block = Block::new()
        .borders(Borders::TOP | Borders::LEFT)
        .border_style(border)
        .title(Span::styled(format!(" {} ", crate::util::sanitize::truncate_marked(&title, 60)), theme.accent()));
    let lines = match tab.selected_row() {
        Some(Row::Backup(s, b)) => backup_details(tab, &tab.sets[s], &tab.sets[s].backups[b], view),
        Some(Row::Set(s)) => set_details(&tab.sets[s], view),
        None => Vec::new(),
    };
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).scroll((tab.contents.scroll, 0)),
        area,
    );
}

fn set_details<'a>(set: &SetState, view: &ViewCtx) -> Vec<Line<'a>> {
    let theme = view.theme;
    let corrupt = set.backups.iter().filter(|b| b.status().is_corrupt()).count();
    let prune = set.backups.iter().filter(|b| b.entry.prune).count();
    let mut lines = vec![
        Line::raw(format!("folder  {}", sanitize_str(&set.dir.display().to_string()))),
        Line::raw(format!("format  {}", set.format)),
        Line::raw(format!("every   {}", set.every.map_or("not set".into(), human_age))),
        Line::raw(format!(
            "restore {}",
            set.restore_to.as_ref().map_or("not set (restore_to)".into(), |p| sanitize_str(&p.display().to_string()))
        )),
        Line::raw(format!("{} backups · {corrupt} corrupt · {prune} past retention", set.backups.len())),
    ];
    if let Some(error) = &set.error {
        lines.insert(0, Line::styled(format!("✗ {}", sanitize_str(error)), theme.crit()));
    }
    lines.push(Line::styled("v verifies every backup of this set", theme.muted()));
    lines
}

fn backup_details<'a>(tab: &BackupsTab, set: &SetState, backup: &BackupState, view: &ViewCtx) -> Vec<Line<'a>> {
    let theme = view.theme;
    let status = tab.status_of(&set.name, backup);
    let mut lines = vec![Line::from(vec![
        Span::raw("status  "),
        Span::styled(format!("{} {}", status.symbol(), sanitize_str(&status.label())), status_style(&status, view)),
    ])];
    let last = tab.fresh_results.get(&(set.name.clone(), backup.entry.name.clone())).or(backup.last.as_ref());
    if let Some(files) = backup.files() {
        lines.push(Line::raw(format!("files   {files} · {}", human_bytes(backup.entry.size_bytes))));
    }
    if let Some(last) = last {
        let at = last.verified_at.with_timezone(&view.zone).format("%Y-%m-%d %H:%M");
        lines.push(Line::styled(format!("checked {at} in {} ms", last.duration_ms), theme.muted()));
        if last.ok {
            lines.push(Line::styled(sanitize_str(&last.detail), theme.muted()));
        }
    }
    lines.push(Line::styled(sanitize_str(&backup.entry.path.display().to_string()), theme.muted()));
    let own = tab.contents.key.as_ref().is_some_and(|(s, n)| s == &set.name && n == &backup.entry.name);
    let state = if own { &tab.contents.state } else { &PaneState::Empty };
    match state {
        PaneState::Empty => {
            let hint = key_hint(view, Action::Select, "enter");
            lines.push(Line::styled(format!("{hint}: look inside"), theme.muted()));
        }
        PaneState::Loading => lines.push(Line::styled("reading…", theme.accent())),
        PaneState::Failed(reason) => {
            lines.push(Line::styled(format!("✗ cannot read: {}", sanitize_str(reason)), theme.crit()));
        }
        PaneState::Compared(comparison) => {
            lines.push(Line::styled(format!("against the target now: {}", comparison.summary()), theme.accent()));
            for table in &comparison.tables {
                let show = |rows: Option<i64>| rows.map_or("-".to_string(), |r| r.to_string());
                let mark = if table.backup_rows == table.target_rows { " " } else { "≠" };
                let style = if mark == " " { theme.base() } else { theme.warn() };
                lines.push(Line::styled(
                    format!(
                        "{mark} {:<14} {:>8} -> {:>8}",
                        table.name,
                        show(table.backup_rows),
                        show(table.target_rows)
                    ),
                    style,
                ));
            }
            for (word, list) in [
                ("+ now only", &comparison.added),
                ("- backup only", &comparison.removed),
                ("~ changed", &comparison.changed),
            ] {
                for path in list.iter() {
                    lines.push(Line::raw(format!("{word:<13} {path}")));
                }
            }
            if comparison.more > 0 {
                lines.push(Line::styled(format!("… and {} more", comparison.more), theme.muted()));
            }
        }
        PaneState::Ready(contents) => {
            if !contents.tables.is_empty() {
                lines.push(Line::styled("tables", theme.accent()));
                for table in &contents.tables {
                    lines.push(Line::raw(format!("  {:<16} {:>8} rows", table.name, table.rows)));
                }
            }
            if let Some(manifest) = &contents.manifest {
                lines.push(Line::styled("manifest", theme.accent()));
                lines.extend(manifest.lines().map(|l| Line::raw(format!("  {l}"))));
            }
            if !contents.entries.is_empty() {
                lines.push(Line::styled(format!("entries ({})", contents.entries.len()), theme.accent()));
                for entry in &contents.entries {
                    lines.push(Line::raw(format!(
                        "  {:<4} {:04o} {:>9}  {}",
                        entry.kind,
                        entry.mode,
                        human_bytes(entry.size),
                        entry.path
                    )));
                }
                if contents.more_entries > 0 {
                    lines.push(Line::styled(format!("  … and {} more", contents.more_entries), theme.muted()));
                }
            }
        }
    }
    lines
}

fn key_hint(view: &ViewCtx, action: Action, fallback: &str) -> String {
    view.keymap.key_for(Mode::Tab(TabId::Backups), &action).unwrap_or_else(|| fallback.to_string())
}

fn command_hint(view: &ViewCtx, command: Command, fallback: &str) -> String {
    key_hint(view, Action::Tab(TabCommand::Backups(command)), fallback)
}

fn render_footer(tab: &BackupsTab, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let line = if let Some(pending) = &tab.pending_create {
        let question = format!("back up {} now? y = yes · any other key = no", sanitize_str(&pending.set));
        Line::styled(question, theme.warn())
    } else if let Some(job) = &tab.job {
        let current = job
            .current
            .as_ref()
            .map(|(_, name, percent)| format!(" · {} {percent}%", sanitize_str(name)))
            .unwrap_or_default();
        let cancel = command_hint(view, Command::CancelVerify, "x");
        Line::styled(format!("… verifying {}/{}{current} · {cancel} cancels", job.done + 1, job.total), theme.accent())
    } else if let Some(notice) = &tab.notice {
        let style = if notice.contains("CORRUPT") || notice.contains("failed") { theme.crit() } else { theme.ok() };
        Line::styled(sanitize_str(notice), style)
    } else {
        let mut parts = vec![
            format!("{} verify", command_hint(view, Command::Verify, "v")),
            format!("{} all", command_hint(view, Command::VerifyAll, "V")),
            format!("{} contents", key_hint(view, Action::Select, "enter")),
        ];
        parts.push(format!("{} compare", command_hint(view, Command::Compare, "c")));
        if !view.read_only {
            parts.push(format!("{} restore", command_hint(view, Command::Restore, "r")));
            if tab.selected_set().is_some_and(|set| set.can_create) {
                parts.push(format!("{} backup now", command_hint(view, Command::Create, "b")));
            }
        }
        Line::styled(parts.join(" · "), theme.muted())
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn render_dialog(dialog: &RestoreDialog, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let box_area = centered(area, 78, 16);
    frame.render_widget(Clear, box_area);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.warn())
        .style(theme.base())
        .title(Span::styled(format!(" restore \"{}\" ", sanitize_str(&dialog.set)), theme.warn()));
    let entry = &dialog.entry;
    let created = entry.created.with_timezone(&view.zone).format("%Y-%m-%d %H:%M");
    let mut lines = vec![
        Line::raw(format!("backup   {}", sanitize_str(&dialog.name))),
        Line::styled(
            format!(
                "         {created} · {} old · {} · {}",
                human_age(listing::age(view.wall, entry.created)),
                human_bytes(entry.size_bytes),
                sanitize_str(&dialog.status.label())
            ),
            theme.muted(),
        ),
    ];
    match &dialog.stage {
        Stage::Planning => lines.push(Line::styled("working out what would be replaced…", theme.muted())),
        Stage::Impossible(reason) => {
            lines.push(Line::styled(format!("✗ cannot restore: {}", sanitize_str(reason)), theme.crit()));
            lines.push(Line::styled("esc closes", theme.muted()));
        }
        Stage::Ready(plan) | Stage::Running(plan) => {
            let target = sanitize_str(&plan.target.display().to_string());
            match &plan.current {
                Some(current) => {
                    let modified = current
                        .modified
                        .map(|m| m.with_timezone(&view.zone).format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    let size = if current.is_dir { "a folder".into() } else { human_bytes(current.size_bytes) };
                    let overlay = plan.mode == crate::config::RestoreMode::Overlay;
                    lines.push(Line::styled(
                        format!("{} {target}", if overlay { "overlays" } else { "replaces" }),
                        theme.warn(),
                    ));
                    lines.push(Line::styled(format!("         now {size}, modified {modified}"), theme.muted()));
                    if overlay {
                        overlay_lines(plan, &mut lines, theme);
                    } else {
                        if current.is_dir {
                            lines.push(Line::raw("mode     replace: the whole folder is swapped"));
                        }
                        lines.push(Line::raw(format!("keeps it {}", sanitize_str(&plan.aside.display().to_string()))));
                    }
                }
                None => lines.push(Line::raw(format!("creates  {target} (nothing is there now)"))),
            }
        }
        Stage::Done(_) => {}
    }
    lines.push(Line::raw(""));
    match &dialog.stage {
        Stage::Planning | Stage::Ready(_) => {
            match &dialog.status {
                Status::Corrupt(reason) => {
                    lines.push(Line::styled(
                        format!("✗ this backup FAILED verification: {}", sanitize_str(reason)),
                        theme.crit(),
                    ));
                    lines.push(if dialog.force {
                        Line::styled("forced: it will be restored anyway (ctrl-f undoes)", theme.warn())
                    } else {
                        Line::styled("ctrl-f: restore it anyway", theme.muted())
                    });
                }
                Status::Unverified | Status::Changed => lines.push(Line::styled(
                    "? not verified yet: the restore checks it before replacing anything",
                    theme.warn(),
                )),
                _ => {}
            }
            let mark = if dialog.confirmed() { " ✓" } else { "" };
            lines.push(Line::from(vec![
                Span::raw("type the set name to confirm: "),
                Span::styled(format!("{}▏", sanitize_str(&dialog.typed)), theme.accent()),
                Span::styled(mark, theme.ok()),
            ]));
            if let Some(hint) = dialog.hint {
                lines.push(Line::styled(hint, theme.warn()));
            }
            lines.push(Line::styled("enter restores · esc cancels", theme.muted()));
        }
        Stage::Running(_) => {
            let done = dialog.progress.map(|p| format!(" {p}%")).unwrap_or_default();
            lines.push(Line::styled(
                format!("restoring…{done} the target is replaced only once the new copy is complete and checked"),
                theme.accent(),
            ));
        }
        Stage::Done(Ok(outcome)) => {
            lines.push(Line::styled(
                format!("✓ restored in {:.1}s: {}", outcome.duration.as_secs_f64(), sanitize_str(&outcome.check)),
                theme.ok(),
            ));
            if let Some(aside) = &outcome.aside {
                let label = outcome.kept_label().replace("previous target kept at", "previous kept at");
                lines.push(Line::raw(format!("{label} {}", sanitize_str(&aside.display().to_string()))));
            }
            lines.push(Line::styled("enter closes", theme.muted()));
        }
        Stage::Done(Err(reason)) => {
            lines.push(Line::styled(format!("✗ restore failed: {}", sanitize_str(reason)), theme.crit()));
            lines.push(Line::styled("enter closes", theme.muted()));
        }
        Stage::Impossible(_) => {}
    }
    frame.render_widget(Paragraph::new(lines).block(block).wrap(Wrap { trim: false }), box_area);
}

/// An overlay's mode and the paths it sets aside (the first few, then a count).
fn overlay_lines(plan: &crate::backup::restore::Plan, lines: &mut Vec<Line<'_>>, theme: &crate::theme::Theme) {
    const LISTED: usize = 5;
    lines.push(Line::raw("mode     overlay: files the backup lacks stay as they are"));
    match &plan.overlay {
        Some(Ok(preview)) if preview.replaced.is_empty() => {
            lines.push(Line::raw(format!("sets aside nothing ({} new files)", preview.added)));
        }
        Some(Ok(preview)) => {
            lines.push(Line::raw(format!(
                "sets aside {} replaced under {}",
                preview.replaced.len(),
                sanitize_str(&plan.aside.display().to_string())
            )));
            for path in preview.replaced.iter().take(LISTED) {
                lines.push(Line::styled(format!("  {}", sanitize_str(&path.display().to_string())), theme.muted()));
            }
            if preview.replaced.len() > LISTED {
                lines.push(Line::styled(format!("  … and {} more", preview.replaced.len() - LISTED), theme.muted()));
            }
        }
        Some(Err(why)) => {
            lines.push(Line::styled(format!("cannot list what it replaces: {}", sanitize_str(why)), theme.crit()))
        }
        None => {}
    }
}
