//! Confirmed actions (redeploy, restore, rollback) and the audit log they write.
//!
//! - `spec`: an `[[action]]` resolved for running;
//! - `runner`: the child process (own group, timeout, cancel, bounded output);
//! - `lock`: one operator per target on the host;
//! - `notify`: a notify action's POST to its webhook, in place of a command;
//! - `watch`: the post-change watch (every check, every interval, the whole window);
//! - `execute`: audit, lock, run, record, watch, and the declared follow-up.

pub mod audit_cli;
pub mod cli;
pub mod execute;
pub mod lock;
pub mod notify;
pub mod runner;
pub mod spec;
pub mod watch;

pub use crate::ops::confirm::Refusal;

/// Permission to run an action: only `ops::confirm` makes one (typed target or `y`, or `--yes`).
pub type Confirmed = crate::ops::confirm::Confirmed<ActionSpec>;

impl Confirmed {
    pub fn spec(&self) -> &ActionSpec {
        self.what()
    }
}
pub use execute::{ActionContext, Attempt, Progress, Verification};
pub use runner::{CancelSignal, Canceller, Ending, cancel_pair};
pub use spec::{ActionSpec, Risk};
pub use watch::{WatchEnd, WatchPlan, WatchRound};
