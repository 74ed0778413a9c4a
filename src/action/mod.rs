//! Confirmed actions (redeploy, restore, rollback) and the audit log they write.
//!
//! - `spec`: an `[[action]]` resolved for running;
//! - `confirm`: the only way to a [`confirm::Confirmed`] token (typed target or `y`);
//! - `runner`: the child process (own group, timeout, cancel, bounded output);
//! - `lock`: one operator per target on the host;
//! - `execute`: audit, lock, run, record, verify.

pub mod audit_cli;
pub mod cli;
pub mod confirm;
pub mod execute;
pub mod lock;
pub mod runner;
pub mod spec;

pub use confirm::{Confirmed, Refusal};
pub use execute::{ActionContext, Attempt, Progress, Verification};
pub use runner::{CancelSignal, Canceller, Ending, cancel_pair};
pub use spec::{ActionSpec, Risk};
