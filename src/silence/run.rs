//! Creating and expiring confirmed silences: one request each, one outcome row
//! each. Called by the supervisor that carries the operation (see
//! `ops::supervisor`), after its start row is on record.

use super::log::Log;
use super::plan::{matchers_text, short_id};
use super::{ConfirmedBatch, ConfirmedExpiry};
use crate::engine::Engine;
use crate::engine::alertmanager;
use crate::incident::record::EventKind;
use serde::{Deserialize, Serialize};

/// What an operation came to, kept on its `operations` row for the front end that follows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Ids of the silences created.
    #[serde(default)]
    pub created: Vec<String>,
    /// Ids of the silences expired.
    #[serde(default)]
    pub expired: Vec<String>,
    /// What failed, one line each (naming the engine).
    #[serde(default)]
    pub errors: Vec<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// "created 2, 1 failed" and the like, for the operations row.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.created.is_empty() {
            parts.push(format!("created {}", self.created.join(", ")));
        }
        if !self.expired.is_empty() {
            parts.push(format!("expired {}", self.expired.join(", ")));
        }
        if !self.errors.is_empty() {
            parts.push(format!("failed: {}", self.errors.join("; ")));
        }
        if parts.is_empty() { "nothing to do".into() } else { parts.join("; ") }
    }
}

/// What happens as it goes, for the operation's output file.
#[derive(Debug, Clone, PartialEq)]
pub enum Said {
    /// A silence's id (created or expired): the output a script reads.
    Id(String),
    Note(String),
    Error(String),
}

/// Creates every silence of the confirmed batch, in order; a failure does not stop the rest.
pub async fn create(engine: &Engine, confirmed: &ConfirmedBatch, log: &Log, mut say: impl FnMut(Said)) -> Outcome {
    let mut outcome = Outcome::default();
    for silence in confirmed.batch().silences() {
        let what = format!(
            "{} from {} to {}",
            matchers_text(&silence.matchers),
            silence.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            silence.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        match alertmanager::create_silence(engine, silence).await {
            Ok(id) => {
                let id = crate::util::sanitize::sanitize_str(&id);
                // The silence exists either way; a row the log cannot take is reported with the outcome.
                if let Err(err) = log.audit("succeeded", format!("silence {id}: {what}")) {
                    outcome
                        .errors
                        .push(format!("silence {id} was created but the audit log could not record it: {err}"));
                }
                log.timeline(
                    EventKind::ActionOutcome,
                    &format!("silence {} created on {}: {what}", short_id(&id), log.engine),
                );
                say(Said::Note(format!("created silence {id}: {what}")));
                say(Said::Id(id.clone()));
                outcome.created.push(id);
            }
            Err(err) => {
                let why = crate::util::sanitize::sanitize_str(&err.to_string());
                let _ = log.audit("failed", format!("{what}: {why}"));
                log.timeline(EventKind::ActionOutcome, &format!("silence on {} failed: {why}", log.engine));
                say(Said::Error(why.clone()));
                outcome.errors.push(why);
            }
        }
    }
    outcome
}

/// Expires the confirmed silence.
pub async fn expire(engine: &Engine, confirmed: &ConfirmedExpiry, log: &Log, mut say: impl FnMut(Said)) -> Outcome {
    let expiry = confirmed.expiry();
    let mut outcome = Outcome::default();
    match alertmanager::expire_silence(engine, &expiry.id).await {
        Ok(()) => {
            if let Err(err) = log.audit("succeeded", format!("silence {} expired: {}", expiry.id, expiry.summary)) {
                outcome.errors.push(format!("the silence was expired but the audit log could not record it: {err}"));
            }
            log.timeline(
                EventKind::ActionOutcome,
                &format!("silence {} on {} expired: {}", expiry.short_id(), log.engine, expiry.summary),
            );
            say(Said::Note(format!("expired silence {}", expiry.id)));
            say(Said::Id(expiry.id.clone()));
            outcome.expired.push(expiry.id.clone());
        }
        Err(err) => {
            let why = crate::util::sanitize::sanitize_str(&err.to_string());
            let _ = log.audit("failed", format!("silence {}: {why}", expiry.id));
            log.timeline(
                EventKind::ActionOutcome,
                &format!("expiring silence {} on {} failed: {why}", expiry.short_id(), log.engine),
            );
            say(Said::Error(why.clone()));
            outcome.errors.push(why);
        }
    }
    outcome
}
