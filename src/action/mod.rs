//! Confirmed actions (redeploy, restore, rollback) and the audit log they write.
//!
//! - `spec`: an `[[action]]` resolved for running;
//! - `confirm`: the only way to a [`confirm::Confirmed`] token (typed target or `y`);
//! - `runner`: the child process (own group, timeout, cancel, bounded output);
//! - `lock`: one operator per target on the host;
//! - `notify`: a notify action's POST to its webhook, in place of a command;
//! - `watch`: the post-change watch (every check, every interval, the whole window);
//! - `execute`: audit, lock, run, record, watch, and the declared follow-up.

pub mod audit_cli;
pub mod cli;
pub mod confirm;
pub mod execute;
pub mod lock;
pub mod notify;
pub mod runner;
pub mod spec;
pub mod watch;

pub use confirm::{Confirmed, Refusal};
pub use execute::{ActionContext, Attempt, Progress, Verification};
pub use runner::{CancelSignal, Canceller, Ending, cancel_pair};
pub use spec::{ActionSpec, Risk};
pub use watch::{WatchEnd, WatchPlan, WatchRound};
