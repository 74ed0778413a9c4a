//! The silence dialog: a draft (engine, matchers prefilled from an alert's
//! labels, duration, comment) edited in place, with the count of firing alerts
//! it would silence kept up to date as the matchers change; then the typed
//! confirmation (the engine's name) like every other operation.
//!
//! Keys while editing: tab/shift-tab or ↓/↑ move between fields, typing edits
//! the field, ctrl-n adds a matcher, ctrl-d drops the one under the cursor,
//! ctrl-f forces a broad silence, enter (or ctrl-s) goes on to confirm, esc
//! cancels. The confirmation ignores keys until a frame showing it was drawn,
//! and pasted text never reaches it (pastes are not key events).

use super::Effect;
use crate::engine::Labels;
use crate::engine::alertmanager::Alert;
use crate::engine::matcher::Matcher;
use crate::ops::confirm;
use crate::silence::plan::{self, Batch, Draft, Preview};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::Arc;

/// The longest text typed into one field.
const MAX_TYPED: usize = 200;
/// The duration a new silence gets unless changed.
pub const DEFAULT_DURATION: &str = "2h";

/// What the dialog opens with: the engine and the labels to match.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    pub engine: String,
    pub labels: Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Matcher(usize),
    Duration,
    Comment,
}

/// The alerts of the engine, read when the dialog opens.
#[derive(Debug, Clone, PartialEq)]
pub enum Alerts {
    Loading,
    Loaded(Arc<Vec<Alert>>),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Edit,
    /// The checked silence, waiting for the engine's name.
    Confirm {
        batch: Box<Batch>,
        typed: String,
        /// Keys are ignored until a frame showing the question has been drawn.
        armed: bool,
        error: Option<String>,
    },
    /// Handed to a supervisor; waiting for its outcome.
    Sending,
    /// The silence's id, or why it failed.
    Done(Result<String, String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SilenceDialog {
    pub nonce: u64,
    pub engine: String,
    pub matchers: Vec<String>,
    pub duration: String,
    pub comment: String,
    pub force: bool,
    pub focus: Field,
    pub alerts: Alerts,
    pub stage: Stage,
    /// Why the last enter did not go on.
    pub error: Option<String>,
    /// Who the silence is created by (user@host).
    pub created_by: String,
}

/// What a key did to the dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pending(Vec<Effect>),
    /// Close the dialog (with these last effects).
    Close(Vec<Effect>),
}

impl SilenceDialog {
    /// A draft for `seed`: one equality matcher per label, sorted by name, alertname first.
    pub fn new(nonce: u64, seed: &Seed, created_by: String) -> SilenceDialog {
        let mut labels: Vec<(&String, &String)> = seed.labels.iter().collect();
        labels.sort_by_key(|(name, _)| (name.as_str() != "alertname", name.as_str()));
        let mut matchers: Vec<String> = labels
            .into_iter()
            .filter_map(|(name, value)| Matcher::new(name, crate::engine::matcher::MatchOp::Equal, value).ok())
            .map(|m| m.to_string())
            .collect();
        if matchers.is_empty() {
            matchers.push(String::new());
        }
        SilenceDialog {
            nonce,
            engine: seed.engine.clone(),
            matchers,
            duration: DEFAULT_DURATION.into(),
            comment: String::new(),
            force: false,
            focus: Field::Matcher(0),
            alerts: Alerts::Loading,
            stage: Stage::Edit,
            error: None,
            created_by,
        }
    }

    fn fields(&self) -> Vec<Field> {
        let mut fields: Vec<Field> = (0..self.matchers.len()).map(Field::Matcher).collect();
        fields.extend([Field::Duration, Field::Comment]);
        fields
    }

    fn move_focus(&mut self, by: isize) {
        let fields = self.fields();
        let at = fields.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let len = fields.len() as isize;
        self.focus = fields[((at + by).rem_euclid(len)) as usize];
    }

    fn field_mut(&mut self) -> Option<&mut String> {
        match self.focus {
            Field::Matcher(i) => self.matchers.get_mut(i),
            Field::Duration => Some(&mut self.duration),
            Field::Comment => Some(&mut self.comment),
        }
    }

    /// The matchers that parse, and the first problem with the others.
    pub fn parsed(&self) -> (Vec<Matcher>, Option<String>) {
        let mut parsed = Vec::new();
        let mut problem = None;
        for text in self.matchers.iter().filter(|t| !t.trim().is_empty()) {
            match Matcher::parse(text) {
                Ok(matcher) => parsed.push(matcher),
                Err(why) => {
                    problem.get_or_insert(why);
                }
            }
        }
        (parsed, problem)
    }

    /// The draft as it stands, or why it cannot be read (a matcher or the duration does not parse).
    pub fn draft(&self) -> Result<Draft, String> {
        let (matchers, problem) = self.parsed();
        if let Some(problem) = problem {
            return Err(format!("matcher {problem}"));
        }
        let duration = self
            .duration
            .parse::<crate::config::units::HumanDuration>()
            .map_err(|why| format!("duration: {why}"))?
            .get();
        Ok(Draft {
            engine: self.engine.clone(),
            matchers,
            starts_at: None,
            duration,
            comment: self.comment.clone(),
            force: self.force,
        })
    }

    /// The preview at `now`: times, reach among the alerts read, broadness.
    pub fn preview(&self, now: DateTime<Utc>) -> Result<Preview, String> {
        let draft = self.draft()?;
        let alerts = match &self.alerts {
            Alerts::Loaded(alerts) => Ok(alerts.as_slice()),
            Alerts::Loading => Err("still reading the alerts".to_string()),
            Alerts::Failed(why) => Err(why.clone()),
        };
        Ok(draft.preview(alerts, now))
    }

    pub fn arm(&mut self) {
        if let Stage::Confirm { armed, .. } = &mut self.stage {
            *armed = true;
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, now: DateTime<Utc>, read_only: bool) -> Outcome {
        match &self.stage {
            Stage::Edit => self.on_edit_key(key, now, read_only),
            Stage::Confirm { .. } => self.on_confirm_key(key, read_only),
            // The request goes on under its supervisor whatever happens here.
            Stage::Sending if key.code == KeyCode::Esc => Outcome::Close(Vec::new()),
            Stage::Sending => Outcome::Pending(Vec::new()),
            Stage::Done(_) if matches!(key.code, KeyCode::Esc | KeyCode::Enter) => Outcome::Close(Vec::new()),
            Stage::Done(_) => Outcome::Pending(Vec::new()),
        }
    }

    fn on_edit_key(&mut self, key: KeyEvent, now: DateTime<Utc>, read_only: bool) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let plain = !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match key.code {
            KeyCode::Esc => return Outcome::Close(Vec::new()),
            KeyCode::Enter => return self.submit(now, read_only),
            KeyCode::Char('s') if ctrl => return self.submit(now, read_only),
            KeyCode::Tab | KeyCode::Down => self.move_focus(1),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(-1),
            KeyCode::Char('n') if ctrl => {
                let at = match self.focus {
                    Field::Matcher(i) => i + 1,
                    _ => self.matchers.len(),
                };
                self.matchers.insert(at, String::new());
                self.focus = Field::Matcher(at);
            }
            KeyCode::Char('d') if ctrl => {
                if let Field::Matcher(i) = self.focus
                    && self.matchers.len() > 1
                {
                    self.matchers.remove(i);
                    self.focus = Field::Matcher(i.min(self.matchers.len() - 1));
                } else if let Field::Matcher(i) = self.focus {
                    self.matchers[i].clear();
                }
            }
            KeyCode::Char('f') if ctrl => self.force = !self.force,
            KeyCode::Backspace => {
                if let Some(field) = self.field_mut() {
                    field.pop();
                }
            }
            KeyCode::Char(c) if plain => {
                if let Some(field) = self.field_mut()
                    && field.chars().count() < MAX_TYPED
                {
                    field.push(c);
                }
            }
            _ => {}
        }
        self.error = None;
        Outcome::Pending(Vec::new())
    }

    /// Enter while editing: a problem is said (and audited when it is a refusal), else on to confirm.
    fn submit(&mut self, now: DateTime<Utc>, read_only: bool) -> Outcome {
        let preview = match self.preview(now) {
            Ok(preview) => preview,
            // A typo in a field is not an attempt; it is fixed where it is.
            Err(why) => {
                self.error = Some(why);
                return Outcome::Pending(Vec::new());
            }
        };
        let refuse = |dialog: &mut SilenceDialog, why: String| {
            dialog.error = Some(why.clone());
            Outcome::Pending(vec![Effect::Refused { what: plan::ADD.into(), engine: dialog.engine.clone(), why }])
        };
        if read_only {
            return refuse(self, crate::action::Refusal::ReadOnly.to_string());
        }
        match preview.checked(&self.created_by, now) {
            Ok(batch) => {
                let detail = format!("from the console: {}", batch.summary());
                self.stage = Stage::Confirm { batch: Box::new(batch), typed: String::new(), armed: false, error: None };
                self.error = None;
                Outcome::Pending(vec![Effect::Audit {
                    what: plan::ADD.into(),
                    engine: self.engine.clone(),
                    event: "request",
                    detail,
                }])
            }
            Err(why) => refuse(self, why),
        }
    }

    fn on_confirm_key(&mut self, key: KeyEvent, read_only: bool) -> Outcome {
        let Stage::Confirm { batch, typed, armed, error } = &mut self.stage else {
            return Outcome::Pending(Vec::new());
        };
        if !*armed {
            return Outcome::Pending(Vec::new());
        }
        let ctrl_or_alt = key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let back_to_edit = |dialog: &mut SilenceDialog, why: &str| {
            dialog.stage = Stage::Edit;
            Outcome::Pending(vec![Effect::Audit {
                what: plan::ADD.into(),
                engine: dialog.engine.clone(),
                event: "cancelled",
                detail: why.to_string(),
            }])
        };
        match key.code {
            KeyCode::Esc => return back_to_edit(self, "cancelled in the dialog"),
            _ if ctrl_or_alt => {}
            KeyCode::Enter if typed.trim().is_empty() => return back_to_edit(self, "nothing typed in the dialog"),
            KeyCode::Enter => {
                let answer = std::mem::take(typed);
                match confirm::check(&**batch, &answer, read_only) {
                    Ok(confirmed) => {
                        let nonce = self.nonce;
                        self.stage = Stage::Sending;
                        return Outcome::Pending(vec![Effect::Create { nonce, confirmed: Box::new(confirmed) }]);
                    }
                    Err(refusal) => {
                        *error = Some(refusal.to_string());
                        return Outcome::Pending(vec![Effect::Refused {
                            what: plan::ADD.into(),
                            engine: self.engine.clone(),
                            why: refusal.to_string(),
                        }]);
                    }
                }
            }
            KeyCode::Backspace => {
                typed.pop();
            }
            KeyCode::Char(c) if typed.chars().count() < MAX_TYPED => typed.push(c),
            _ => {}
        }
        Outcome::Pending(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn type_text(dialog: &mut SilenceDialog, text: &str) {
        for c in text.chars() {
            dialog.on_key(key(KeyCode::Char(c)), Utc::now(), false);
        }
    }

    fn seed() -> Seed {
        Seed {
            engine: "am".into(),
            labels: [("job", "api"), ("alertname", "ApiDown"), ("severity", "critical")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn matchers_are_prefilled_from_the_labels_alertname_first_and_editable() {
        let mut dialog = SilenceDialog::new(1, &seed(), "ana@h".into());
        assert_eq!(dialog.matchers, ["alertname=\"ApiDown\"", "job=\"api\"", "severity=\"critical\""]);
        assert_eq!(dialog.duration, "2h");
        dialog.on_key(key(KeyCode::Down), Utc::now(), false);
        dialog.on_key(key(KeyCode::Down), Utc::now(), false);
        dialog.on_key(ctrl('d'), Utc::now(), false);
        assert_eq!(
            dialog.matchers,
            ["alertname=\"ApiDown\"", "job=\"api\""],
            "ctrl-d drops the matcher under the cursor"
        );
        dialog.on_key(ctrl('n'), Utc::now(), false);
        type_text(&mut dialog, "env=~\"prod.*\"");
        assert_eq!(dialog.matchers[2], "env=~\"prod.*\"");
        assert_eq!(dialog.parsed().0.len(), 3);
    }
}
