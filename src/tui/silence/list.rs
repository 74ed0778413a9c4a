//! The silences overlay: every silence of every Alertmanager with its time
//! left; `x` (or `d`) expires the selected one after its id is typed, `r`
//! reads them again, esc closes.

use super::Effect;
use crate::ops::confirm;
use crate::silence::list::{Listed, Listing};
use crate::silence::plan::{EXPIRE, Expiry};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq)]
pub struct ExpireConfirm {
    pub expiry: Expiry,
    pub typed: String,
    /// Keys are ignored until a frame showing the question has been drawn.
    pub armed: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SilencesOverlay {
    pub nonce: u64,
    pub loading: bool,
    pub rows: Vec<Listed>,
    /// Engines that could not be read.
    pub errors: Vec<String>,
    pub selected: usize,
    pub confirm: Option<ExpireConfirm>,
    /// The last thing done here ("expired 0f9e11aa").
    pub notice: Option<String>,
}

impl SilencesOverlay {
    pub fn new(nonce: u64) -> SilencesOverlay {
        SilencesOverlay {
            nonce,
            loading: true,
            rows: Vec::new(),
            errors: Vec::new(),
            selected: 0,
            confirm: None,
            notice: None,
        }
    }

    /// A fresh listing; the selection stays on the same silence where it can.
    pub fn listed(&mut self, listing: Listing) {
        let kept = self.rows.get(self.selected).map(|row| row.silence.id.clone());
        self.rows = listing.rows;
        self.errors = listing.errors;
        self.loading = false;
        self.selected = kept
            .and_then(|id| self.rows.iter().position(|row| row.silence.id == id))
            .unwrap_or(self.selected)
            .min(self.rows.len().saturating_sub(1));
    }

    pub fn arm(&mut self) {
        if let Some(confirm) = &mut self.confirm {
            confirm.armed = true;
        }
    }

    /// Keys for the list; `None` closes the overlay.
    pub fn on_key(&mut self, key: KeyEvent, read_only: bool) -> Option<Vec<Effect>> {
        if self.confirm.is_some() {
            return Some(self.on_confirm_key(key, read_only));
        }
        let last = self.rows.len().saturating_sub(1);
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return None,
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            KeyCode::Char('r') => {
                self.loading = true;
                return Some(vec![Effect::List { nonce: self.nonce }]);
            }
            KeyCode::Char('x' | 'd') => return Some(self.ask_expire(read_only)),
            _ => {}
        }
        Some(Vec::new())
    }

    fn ask_expire(&mut self, read_only: bool) -> Vec<Effect> {
        let Some(row) = self.rows.get(self.selected) else {
            self.notice = Some("no silence selected".into());
            return Vec::new();
        };
        if row.silence.status.state == "expired" {
            self.notice = Some("that silence is already expired".into());
            return Vec::new();
        }
        let expiry = Expiry::of(&row.engine, &row.silence);
        let engine = row.engine.clone();
        if read_only {
            let why = crate::action::Refusal::ReadOnly.to_string();
            self.notice = Some(why.clone());
            return vec![Effect::Refused { what: EXPIRE.into(), engine, why: format!("silence {}: {why}", expiry.id) }];
        }
        let detail = format!("from the console: silence {}", expiry.id);
        self.confirm = Some(ExpireConfirm { expiry, typed: String::new(), armed: false, error: None });
        vec![Effect::Audit { what: EXPIRE.into(), engine, event: "request", detail }]
    }

    fn on_confirm_key(&mut self, key: KeyEvent, read_only: bool) -> Vec<Effect> {
        let Some(confirm) = self.confirm.as_mut() else { return Vec::new() };
        if !confirm.armed {
            return Vec::new();
        }
        let cancel = |overlay: &mut SilencesOverlay, why: &str| {
            let Some(confirm) = overlay.confirm.take() else { return Vec::new() };
            overlay.notice = Some(format!("silence {} stays", confirm.expiry.short_id()));
            vec![Effect::Audit {
                what: EXPIRE.into(),
                engine: confirm.expiry.engine.clone(),
                event: "cancelled",
                detail: format!("silence {}: {why}", confirm.expiry.id),
            }]
        };
        if key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
            return Vec::new();
        }
        match key.code {
            KeyCode::Esc => cancel(self, "cancelled in the dialog"),
            KeyCode::Enter if confirm.typed.trim().is_empty() => cancel(self, "nothing typed in the dialog"),
            KeyCode::Enter => {
                let typed = std::mem::take(&mut confirm.typed);
                match confirm::check(&confirm.expiry, &typed, read_only) {
                    Ok(confirmed) => {
                        self.notice = Some(format!("expiring {} …", confirm.expiry.short_id()));
                        self.confirm = None;
                        vec![Effect::Expire { nonce: self.nonce, confirmed: Box::new(confirmed) }]
                    }
                    Err(refusal) => {
                        confirm.error = Some(refusal.to_string());
                        vec![Effect::Refused {
                            what: EXPIRE.into(),
                            engine: confirm.expiry.engine.clone(),
                            why: format!("silence {}: {refusal}", confirm.expiry.id),
                        }]
                    }
                }
            }
            KeyCode::Backspace => {
                confirm.typed.pop();
                Vec::new()
            }
            KeyCode::Char(c) if confirm.typed.chars().count() < 64 => {
                confirm.typed.push(c);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
