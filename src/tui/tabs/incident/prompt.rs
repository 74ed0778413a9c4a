//! The tab's dialogs, each with its own key handling: opening an incident,
//! picking the severity, confirming an action, the multi-line note editor,
//! a yes/no question and a step's full text.
//!
//! They share one grammar: esc cancels (asking first when typed text would be
//! lost), ctrl-s saves, and so does enter where the input is a single line.
//!
//! The confirmation dialog is the only road to a [`Confirmed`] token in the
//! console. It fixes the action (argv, target, directory) when it opens, so a
//! config or store refresh behind it cannot change what is confirmed; it
//! ignores keys until a frame showing it has been drawn (`Action::FrameDrawn`,
//! sent by the runtime after each draw), so keys typed before anyone could see
//! it cannot answer it while every key typed after is taken; pasted text never
//! reaches it (a paste is an `Action::Paste`, and tab prompts only receive key
//! events); and Enter with nothing typed cancels.

use crate::action::{ActionSpec, Confirmed, Refusal, Risk};
use crate::incident::record::Severity;
use crate::ops::confirm;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

/// The longest title or confirmation that is typed.
const MAX_TYPED: usize = 200;

pub enum Prompt {
    Open(OpenForm),
    Severity(SeverityPicker),
    Milestone(super::milestones::MilestonePicker),
    Confirm(Box<ConfirmDialog>),
    Editor(Box<Editor>),
    Ask(Question),
    /// A step's full text, links and evidence (by step key).
    Step(String),
}

/// `n`, or `i` on a check: a new incident.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenForm {
    pub title: String,
    pub severity: Severity,
    /// 0 = no runbook, `i + 1` = the tab's runbook `i`.
    pub runbook: usize,
    /// What the check said when `i` was pressed: the new incident's first note.
    pub evidence: Option<String>,
    /// The title was typed here (not only prefilled), so esc asks before dropping it.
    pub edited: bool,
    /// esc was pressed once over typed text: the next esc (or y) discards it.
    pub discard_asked: bool,
}

pub enum FormOutcome {
    Pending,
    Cancelled,
    Submit,
}

impl OpenForm {
    pub fn new(title: String, severity: Severity, runbook: usize, evidence: Option<String>) -> OpenForm {
        OpenForm { title, severity, runbook, evidence, edited: false, discard_asked: false }
    }

    /// Title typed; up/down change severity; left/right pick the runbook.
    pub fn on_key(&mut self, key: KeyEvent, runbooks: usize) -> FormOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let plain = !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if self.discard_asked {
            self.discard_asked = false;
            match key.code {
                KeyCode::Esc | KeyCode::Char('y') => return FormOutcome::Cancelled,
                KeyCode::Char('n') => return FormOutcome::Pending,
                _ => {}
            }
        }
        match key.code {
            KeyCode::Esc if self.edited && !self.title.trim().is_empty() => self.discard_asked = true,
            KeyCode::Esc => return FormOutcome::Cancelled,
            KeyCode::Enter if !self.title.trim().is_empty() => return FormOutcome::Submit,
            KeyCode::Char('s') if ctrl && !self.title.trim().is_empty() => return FormOutcome::Submit,
            KeyCode::Backspace => {
                self.edited = true;
                self.title.pop();
            }
            KeyCode::Up => self.severity = step(Severity::ALL, self.severity, -1),
            KeyCode::Down => self.severity = step(Severity::ALL, self.severity, 1),
            KeyCode::Left => self.runbook = (self.runbook + runbooks) % (runbooks + 1),
            KeyCode::Right => self.runbook = (self.runbook + 1) % (runbooks + 1),
            KeyCode::Char(c) if plain && self.title.chars().count() < MAX_TYPED => {
                self.edited = true;
                self.title.push(c);
            }
            _ => {}
        }
        FormOutcome::Pending
    }
}

/// `S`, or ticking a step bound to the severity: one of P0-P3, the current one selected.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityPicker {
    pub current: Severity,
    pub selected: Severity,
    /// The runbook step ticked when the choice is saved.
    pub step: Option<String>,
}

pub enum PickOutcome {
    Pending,
    Cancelled,
    Chosen(Severity),
}

impl SeverityPicker {
    pub fn new(current: Severity, step: Option<String>) -> SeverityPicker {
        SeverityPicker { current, selected: current, step }
    }

    /// up/down (or k/j) move, 0-3 jump, enter or ctrl-s choose, esc cancels.
    pub fn on_key(&mut self, key: KeyEvent) -> PickOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return PickOutcome::Cancelled,
            KeyCode::Enter => return PickOutcome::Chosen(self.selected),
            KeyCode::Char('s') if ctrl => return PickOutcome::Chosen(self.selected),
            KeyCode::Up | KeyCode::Char('k') => self.selected = step(Severity::ALL, self.selected, -1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = step(Severity::ALL, self.selected, 1),
            KeyCode::Char(c @ '0'..='3') => {
                self.selected = Severity::ALL[c as usize - '0' as usize];
            }
            _ => {}
        }
        PickOutcome::Pending
    }
}

/// A yes/no question before something that cannot be taken back.
#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    /// Closing while `open` of `total` steps are neither done nor skipped.
    CloseWithOpenSteps { open: usize, total: usize },
}

/// y answers yes; n and esc answer no; other keys are ignored.
pub fn answer(key: KeyEvent) -> Option<bool> {
    match key.code {
        KeyCode::Char('y' | 'Y') => Some(true),
        KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(false),
        _ => None,
    }
}

fn step(all: [Severity; 4], current: Severity, by: i32) -> Severity {
    let index = all.iter().position(|s| *s == current).unwrap_or(0) as i32;
    all[(index + by).clamp(0, 3) as usize]
}

/// Asks for the typed target (or `y`) before an action runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog {
    pub nonce: u64,
    /// Fixed when the dialog opens.
    pub spec: ActionSpec,
    pub host: String,
    pub typed: String,
    pub dry_run: bool,
    /// Keys are ignored until a frame showing the dialog has been drawn.
    pub armed: bool,
    /// Why the last answer was refused.
    pub error: Option<String>,
    /// What runs if the watch fails (`on_failed_verify`), fixed when it opens like the spec.
    pub follow_up: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmOutcome {
    Pending,
    Cancelled,
    Refused(Refusal),
    Confirmed(Box<Confirmed>),
}

impl ConfirmDialog {
    pub fn new(nonce: u64, spec: ActionSpec, host: String) -> ConfirmDialog {
        ConfirmDialog {
            nonce,
            spec,
            host,
            typed: String::new(),
            dry_run: false,
            armed: false,
            error: None,
            follow_up: None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, read_only: bool) -> ConfirmOutcome {
        if !self.armed {
            return ConfirmOutcome::Pending;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Esc => return ConfirmOutcome::Cancelled,
            KeyCode::Char('d') if ctrl => self.dry_run = !self.dry_run,
            _ if ctrl || alt => {}
            KeyCode::Backspace => {
                self.typed.pop();
            }
            KeyCode::Enter if self.typed.trim().is_empty() => return ConfirmOutcome::Cancelled,
            KeyCode::Enter => {
                let typed = std::mem::take(&mut self.typed);
                return self.answer(&typed, read_only);
            }
            KeyCode::Char(c) if self.spec.risk == Risk::Low => {
                if c.eq_ignore_ascii_case(&'y') {
                    return self.answer("y", read_only);
                }
                if c.eq_ignore_ascii_case(&'n') {
                    return ConfirmOutcome::Cancelled;
                }
            }
            KeyCode::Char(c) if self.typed.chars().count() < MAX_TYPED => self.typed.push(c),
            _ => {}
        }
        ConfirmOutcome::Pending
    }

    fn answer(&mut self, typed: &str, read_only: bool) -> ConfirmOutcome {
        match confirm::check(&self.spec, typed, read_only).map(|c| c.dry_if(self.dry_run)) {
            Ok(confirmed) => ConfirmOutcome::Confirmed(Box::new(confirmed)),
            Err(refusal) => {
                self.error = Some(refusal.to_string());
                ConfirmOutcome::Refused(refusal)
            }
        }
    }
}

/// What an editor's text is for.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorPurpose {
    Note { step: Option<String> },
    Skip { step: String },
    Close,
}

pub struct Editor {
    pub purpose: EditorPurpose,
    pub area: TextArea<'static>,
    /// Saving also ticks the note's step (a step bound to writing a note).
    pub ticks_step: bool,
    /// esc was pressed over typed text: the next esc (or y) discards it.
    pub discard_asked: bool,
}

pub enum EditorOutcome {
    Pending,
    Cancelled,
    Save(String),
}

impl Editor {
    pub fn new(purpose: EditorPurpose) -> Editor {
        let mut area = TextArea::default();
        area.set_placeholder_text(match &purpose {
            EditorPurpose::Note { .. } => "what you found, did or decided",
            EditorPurpose::Skip { .. } => "why this step is skipped",
            EditorPurpose::Close => "what fixed it",
        });
        Editor { purpose, area, ticks_step: false, discard_asked: false }
    }

    /// ctrl-s saves; esc cancels, asking first when something was written.
    pub fn on_key(&mut self, key: KeyEvent) -> EditorOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.discard_asked {
            self.discard_asked = false;
            match key.code {
                KeyCode::Esc | KeyCode::Char('y') => return EditorOutcome::Cancelled,
                KeyCode::Char('n') => return EditorOutcome::Pending,
                _ => {}
            }
        }
        match key.code {
            KeyCode::Char('s') if ctrl => self.save(),
            KeyCode::Esc if self.has_text() => {
                self.discard_asked = true;
                EditorOutcome::Pending
            }
            KeyCode::Esc => EditorOutcome::Cancelled,
            _ => {
                self.area.input(key);
                EditorOutcome::Pending
            }
        }
    }

    fn has_text(&self) -> bool {
        self.area.lines().iter().any(|line| !line.trim().is_empty())
    }

    fn save(&self) -> EditorOutcome {
        let text = self.area.lines().join("\n").trim().to_string();
        if text.is_empty() && self.purpose != EditorPurpose::Close {
            EditorOutcome::Cancelled
        } else {
            EditorOutcome::Save(text)
        }
    }
}
