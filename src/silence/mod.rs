//! Alertmanager silences as confirmed operations, on the same road as actions
//! and restores: typed confirmation, an audit row for every request, refusal,
//! start and outcome, a line on the open incident's timeline, and a supervisor
//! that carries the request (so it shows in `firstwatch ops list`).
//!
//! - `plan`: a draft, its preview (times, reach, broadness) and the checked batch;
//! - `log`: the audit rows and timeline lines;
//! - `run`: creating and expiring, as the supervisor does it;
//! - `list`: every silence with its state and time left;
//! - `windows`: silences for `[[window]] silence = [...]`, planned idempotently;
//! - `cli`: `firstwatch silence add|list|expire`.

pub mod cli;
pub mod list;
pub mod log;
pub mod plan;
pub mod run;
pub mod windows;

pub use plan::{Batch, Draft, Expiry, Preview, Reach};

/// Permission to create these silences: only `ops::confirm` makes one (the engine's name typed, or `--yes`).
pub type ConfirmedBatch = crate::ops::confirm::Confirmed<Batch>;
/// Permission to expire a silence: only `ops::confirm` makes one (its id typed, or `--yes`).
pub type ConfirmedExpiry = crate::ops::confirm::Confirmed<Expiry>;

impl ConfirmedBatch {
    pub fn batch(&self) -> &Batch {
        self.what()
    }
}

impl ConfirmedExpiry {
    pub fn expiry(&self) -> &Expiry {
        self.what()
    }
}
