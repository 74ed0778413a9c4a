//! The restore confirmation: shows what will be replaced and where the old
//! target goes, and runs only once the set's name is typed exactly.
//!
//! ```text
//! ┌ restore "app db" ──────────────────────────────────────────┐
//! │ backup   app_db_20261128_030000.db.gz                      │
//! │          2026-11-28 03:00 · 1d14h old · 12.5 KiB · ok      │
//! │ replaces /srv/app/data/app.db (60.0 KiB, 2026-11-29 17:22) │
//! │ keeps it /srv/app/data/app.db.before-restore-20261129T…    │
//! │                                                            │
//! │ type the set name to confirm: app d_                       │
//! │ enter restore · esc cancel                                 │
//! └────────────────────────────────────────────────────────────┘
//! ```

use crate::backup::restore::{Outcome, Plan};
use crate::backup::{BackupEntry, Status};
use crate::ops::confirm::{self, Confirmable, Confirmed, Refusal};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug)]
pub(super) struct RestoreDialog {
    pub set: String,
    pub name: String,
    pub entry: BackupEntry,
    pub status: Status,
    pub stage: Stage,
    pub typed: String,
    /// The user chose to restore a backup that failed verification.
    pub force: bool,
    /// A hint after a premature enter.
    pub hint: Option<&'static str>,
    /// How far a running restore has read its backup.
    pub progress: Option<u8>,
    /// Keys count only once the dialog has been on screen: what was typed
    /// before it was drawn (type-ahead over a slow link) is not read as an answer.
    pub armed: bool,
}

#[derive(Debug)]
pub(super) enum Stage {
    Planning,
    /// The plan could not be made (no target, wrong kind): nothing can run.
    Impossible(String),
    Ready(Arc<Plan>),
    Running(Arc<Plan>),
    Done(Result<Arc<Outcome>, String>),
}

/// What a key did to the dialog.
pub(super) enum Reply {
    Stay,
    /// Closed after a finished restore or an impossible plan (nothing to audit).
    Close,
    /// Closed before running: an audit row says so.
    Cancelled {
        target: Option<PathBuf>,
    },
    Run(Arc<Confirmed<Plan>>),
}

impl RestoreDialog {
    pub fn new(set: String, entry: BackupEntry, status: Status) -> RestoreDialog {
        RestoreDialog {
            name: entry.name.clone(),
            set,
            entry,
            status,
            stage: Stage::Planning,
            typed: String::new(),
            force: false,
            hint: None,
            progress: None,
            armed: false,
        }
    }

    pub fn planned(&mut self, result: Result<Arc<Plan>, String>) {
        if matches!(self.stage, Stage::Planning) {
            self.stage = match result {
                Ok(plan) => Stage::Ready(plan),
                Err(reason) => Stage::Impossible(reason),
            };
        }
    }

    pub fn finished(&mut self, result: Result<Arc<Outcome>, String>) {
        self.stage = Stage::Done(result);
    }

    /// Whether what is typed so far would confirm the planned restore.
    pub fn confirmed(&self) -> bool {
        matches!(&self.stage, Stage::Ready(plan) if plan.word().accepts(&self.typed))
    }

    /// Whether a corrupt backup still needs the explicit force.
    pub fn blocked_by_corruption(&self) -> bool {
        self.status.is_corrupt() && !self.force
    }

    pub fn on_key(&mut self, key: KeyEvent, read_only: bool) -> Reply {
        if !self.armed {
            return Reply::Stay;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match &self.stage {
            Stage::Running(_) => return Reply::Stay,
            Stage::Done(_) | Stage::Impossible(_) => {
                return if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                    Reply::Close
                } else {
                    Reply::Stay
                };
            }
            Stage::Planning | Stage::Ready(_) => {}
        }
        self.hint = None;
        match key.code {
            KeyCode::Esc => {
                let target = match &self.stage {
                    Stage::Ready(plan) => Some(plan.target.clone()),
                    _ => None,
                };
                return Reply::Cancelled { target };
            }
            KeyCode::Char('f') if ctrl => self.force = !self.force,
            KeyCode::Char('u') if ctrl => self.typed.clear(),
            KeyCode::Backspace => {
                self.typed.pop();
            }
            KeyCode::Char(c)
                if !ctrl
                    && !key.modifiers.contains(KeyModifiers::ALT)
                    && !c.is_control()
                    && self.typed.chars().count() < 200 =>
            {
                self.typed.push(c);
            }
            KeyCode::Enter => {
                let Stage::Ready(plan) = &self.stage else {
                    self.hint = Some("still working out what would be replaced…");
                    return Reply::Stay;
                };
                let mut plan = (**plan).clone();
                plan.forced = self.status.is_corrupt() && self.force;
                match confirm::check(&plan, &self.typed, read_only) {
                    Err(Refusal::ReadOnly) => self.hint = Some("read-only: restores are disabled"),
                    Err(_) => self.hint = Some("type the set name exactly to confirm"),
                    Ok(_) if self.blocked_by_corruption() => {
                        self.hint = Some("this backup failed verification: ctrl-f to restore it anyway");
                    }
                    Ok(confirmed) => {
                        self.stage = Stage::Running(Arc::new(plan));
                        return Reply::Run(Arc::new(confirmed));
                    }
                }
            }
            _ => {}
        }
        Reply::Stay
    }
}
