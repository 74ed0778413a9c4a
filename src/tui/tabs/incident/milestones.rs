//! `p`: marking where the incident stands (acknowledged, mitigated, root cause
//! found, fix applied, resolved), the milestones the post-mortem's timeline and
//! duration are read from. The same marks as `firstwatch incident mark`.

use super::dialogs::popup;
use super::{Effect, IncidentTab};
use crate::incident::milestone::Milestone;
use crate::incident::record::EventKind;
use crate::tui::tabs::ViewCtx;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The picker: the milestone under the cursor, and those already marked.
#[derive(Debug, Clone, PartialEq)]
pub struct MilestonePicker {
    pub selected: usize,
    pub reached: Vec<Milestone>,
}

pub enum Picked {
    Pending,
    Cancelled,
    Chosen(Milestone),
}

impl MilestonePicker {
    /// Opens on the first milestone not yet marked.
    pub fn new(reached: Vec<Milestone>) -> MilestonePicker {
        let selected = Milestone::ALL.iter().position(|m| !reached.contains(m)).unwrap_or(Milestone::ALL.len() - 1);
        MilestonePicker { selected, reached }
    }

    /// up/down (or k/j) move, 1-5 jump, enter or ctrl-s mark, esc cancels.
    pub fn on_key(&mut self, key: KeyEvent) -> Picked {
        let last = Milestone::ALL.len() - 1;
        match key.code {
            KeyCode::Esc => return Picked::Cancelled,
            KeyCode::Enter => return Picked::Chosen(Milestone::ALL[self.selected]),
            KeyCode::Char('s') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return Picked::Chosen(Milestone::ALL[self.selected]);
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Char(c @ '1'..='5') => self.selected = c as usize - '1' as usize,
            _ => {}
        }
        Picked::Pending
    }
}

impl IncidentTab {
    /// Opens the picker on the open incident.
    pub(super) fn pick_milestone(&mut self) -> Vec<Effect> {
        let Some(record) = &self.record else { return self.say("no incident is open") };
        let reached = record.events.iter().filter_map(Milestone::of).collect();
        self.prompt = Some(super::prompt::Prompt::Milestone(MilestonePicker::new(reached)));
        Vec::new()
    }

    /// A key while the picker is open: marking writes one timeline entry.
    pub(super) fn on_milestone_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(super::prompt::Prompt::Milestone(picker)) = &mut self.prompt else { return Vec::new() };
        match picker.on_key(key) {
            Picked::Pending => Vec::new(),
            Picked::Cancelled => {
                self.prompt = None;
                Vec::new()
            }
            Picked::Chosen(milestone) => {
                self.prompt = None;
                let Some(incident) = self.open_incident_id() else {
                    return self.say("the incident was closed meanwhile; nothing saved");
                };
                self.notice = Some(format!("marked: {}", milestone.label()));
                let text = milestone.entry_text("");
                vec![Effect::AddEvent { incident, kind: EventKind::Milestone, step: None, text }]
            }
        }
    }
}

/// The five milestones in order, those already marked ticked.
pub(super) fn render(picker: &MilestonePicker, view: &ViewCtx, frame: &mut Frame, area: Rect) {
    let theme = view.theme;
    let inner = popup("mark a milestone".into(), view, frame, area, 56, 9);
    let mut lines: Vec<Line> = Milestone::ALL
        .iter()
        .enumerate()
        .map(|(index, milestone)| {
            let pointer = if index == picker.selected { "▶" } else { " " };
            let mark = if picker.reached.contains(milestone) { "✓ marked (again moves it)" } else { "" };
            let line = Line::from(vec![
                Span::styled(format!("{pointer} {} ", index + 1), theme.muted()),
                Span::styled(format!("{:<18}", milestone.label()), theme.accent()),
                Span::styled(mark, theme.ok()),
            ]);
            if index == picker.selected { line.style(theme.selection()) } else { line }
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled("↑↓ or 1-5 choose · enter/ctrl-s mark · esc cancel", theme.muted()));
    frame.render_widget(Paragraph::new(lines), inner);
}
