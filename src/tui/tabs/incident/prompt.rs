//! The tab's dialogs, each with its own key handling: opening an incident,
//! confirming an action, and the multi-line note editor.
//!
//! The confirmation dialog is the only road to a [`Confirmed`] token in the
//! console. It fixes the action (argv, target, directory) when it opens, so a
//! config or store refresh behind it cannot change what is confirmed; it
//! ignores keys until a frame showing it has been drawn (`Action::FrameDrawn`,
//! sent by the runtime after each draw), so keys typed before anyone could see
//! it cannot answer it while every key typed after is taken; pasted text never
//! reaches it (a paste is an `Action::Paste`, and tab prompts only receive key
//! events); and Enter with nothing typed cancels.

use crate::action::{ActionSpec, Confirmed, Refusal, Risk, confirm};
use crate::incident::record::Severity;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

/// The longest title or confirmation that is typed.
const MAX_TYPED: usize = 200;

pub enum Prompt {
    Open(OpenForm),
    Confirm(Box<ConfirmDialog>),
    Editor(Box<Editor>),
}

/// `n`: a new incident.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenForm {
    pub title: String,
    pub severity: Severity,
    /// 0 = no runbook, `i + 1` = the tab's runbook `i`.
    pub runbook: usize,
}

pub enum FormOutcome {
    Pending,
    Cancelled,
    Submit,
}

impl OpenForm {
    /// Title typed; up/down change severity; left/right pick the runbook.
    pub fn on_key(&mut self, key: KeyEvent, runbooks: usize) -> FormOutcome {
        let plain = !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancelled,
            KeyCode::Enter if !self.title.trim().is_empty() => return FormOutcome::Submit,
            KeyCode::Backspace => {
                self.title.pop();
            }
            KeyCode::Up => self.severity = step(Severity::ALL, self.severity, -1),
            KeyCode::Down => self.severity = step(Severity::ALL, self.severity, 1),
            KeyCode::Left => self.runbook = (self.runbook + runbooks) % (runbooks + 1),
            KeyCode::Right => self.runbook = (self.runbook + 1) % (runbooks + 1),
            KeyCode::Char(c) if plain && self.title.chars().count() < MAX_TYPED => self.title.push(c),
            _ => {}
        }
        FormOutcome::Pending
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
        match confirm::check(&self.spec, typed, self.dry_run, read_only) {
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
        Editor { purpose, area }
    }

    /// ctrl-s saves; esc saves a note or skip but cancels closing, which must be deliberate.
    pub fn on_key(&mut self, key: KeyEvent) -> EditorOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => self.save(),
            KeyCode::Esc if self.purpose == EditorPurpose::Close => EditorOutcome::Cancelled,
            KeyCode::Esc => self.save(),
            _ => {
                self.area.input(key);
                EditorOutcome::Pending
            }
        }
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
