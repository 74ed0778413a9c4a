//! The only way to permission to create or expire a silence: the operator
//! typed the engine's name (to create) or the silence's id (to expire), or a
//! script said `--yes`. The tokens can only be made here, and a supervisor job
//! for a silence can only be built from one (see `ops::Job`).

use super::plan::{Batch, Expiry};
use crate::action::Refusal;

/// Proof that an operator confirmed creating `batch`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmedBatch {
    batch: Batch,
}

impl ConfirmedBatch {
    pub fn batch(&self) -> &Batch {
        &self.batch
    }
}

/// Proof that an operator confirmed expiring a silence.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmedExpiry {
    expiry: Expiry,
}

impl ConfirmedExpiry {
    pub fn expiry(&self) -> &Expiry {
        &self.expiry
    }
}

/// Checks the typed word against the engine's name (exact, surrounding blanks forgiven).
pub fn create(batch: &Batch, typed: &str, read_only: bool) -> Result<ConfirmedBatch, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    let typed = typed.trim();
    if typed == batch.engine() {
        Ok(ConfirmedBatch { batch: batch.clone() })
    } else {
        Err(Refusal::Mismatch {
            typed: crate::util::sanitize::sanitize_str(typed),
            expected: batch.engine().to_string(),
        })
    }
}

/// Checks the typed word against the silence's id: the whole id, or its first 8 characters.
pub fn expire(expiry: &Expiry, typed: &str, read_only: bool) -> Result<ConfirmedExpiry, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    let typed = typed.trim();
    if typed == expiry.id || typed == expiry.short_id() {
        Ok(ConfirmedExpiry { expiry: expiry.clone() })
    } else {
        Err(Refusal::Mismatch {
            typed: crate::util::sanitize::sanitize_str(typed),
            expected: expiry.short_id().to_string(),
        })
    }
}

/// For a script that said `--yes`.
pub fn create_by_flag(batch: &Batch, read_only: bool) -> Result<ConfirmedBatch, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    Ok(ConfirmedBatch { batch: batch.clone() })
}

pub fn expire_by_flag(expiry: &Expiry, read_only: bool) -> Result<ConfirmedExpiry, Refusal> {
    if read_only {
        return Err(Refusal::ReadOnly);
    }
    Ok(ConfirmedExpiry { expiry: expiry.clone() })
}

/// The tokens a supervisor holds for the job its front end handed it (see `action::confirm::relayed`).
pub(crate) fn relayed_batch(batch: Batch) -> ConfirmedBatch {
    ConfirmedBatch { batch }
}

pub(crate) fn relayed_expiry(expiry: Expiry) -> ConfirmedExpiry {
    ConfirmedExpiry { expiry }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::silence::plan::Draft;

    fn batch() -> Batch {
        let now = chrono::Utc::now();
        let draft = Draft {
            engine: "am".into(),
            matchers: vec![crate::engine::matcher::Matcher::parse("alertname=\"A\"").unwrap()],
            starts_at: None,
            duration: std::time::Duration::from_secs(60),
            comment: "why".into(),
            force: false,
        };
        draft.preview(Ok(&[]), now).checked("a@b", now).unwrap()
    }

    #[test]
    fn creating_needs_the_engine_name_and_expiring_the_id() {
        assert!(create(&batch(), " am ", false).is_ok());
        for wrong in ["", "y", "yes", "AM", "am2"] {
            assert!(matches!(create(&batch(), wrong, false), Err(Refusal::Mismatch { .. })), "{wrong}");
        }
        assert_eq!(create(&batch(), "am", true).unwrap_err(), Refusal::ReadOnly);
        assert_eq!(create_by_flag(&batch(), true).unwrap_err(), Refusal::ReadOnly);

        let expiry = Expiry { engine: "am".into(), id: "0f9e11aa-2b3c-4d5e".into(), summary: String::new() };
        assert!(expire(&expiry, "0f9e11aa", false).is_ok());
        assert!(expire(&expiry, "0f9e11aa-2b3c-4d5e", false).is_ok());
        for wrong in ["0f9e11a", "0f9e", "y", "am"] {
            assert!(expire(&expiry, wrong, false).is_err(), "{wrong}");
        }
        assert_eq!(expire_by_flag(&expiry, true).unwrap_err(), Refusal::ReadOnly);
    }
}
