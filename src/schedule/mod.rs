//! Scheduled tasks and maintenance windows: cron evaluation, next runs, past outcomes.

pub mod cli;
pub mod cron;
mod cron_days;
mod describe;
pub mod flags;
pub mod history;
pub mod import;
pub mod plan;
pub mod runner;

pub use cron::{CronError, Field, Schedule};
pub use history::{How, NewRun, Outcome, RunRecord};
pub use plan::{Due, Origin, Plan, Span, Task, Timing, Window};

#[cfg(test)]
mod cron_days_tests;
#[cfg(test)]
mod cron_tests;
#[cfg(test)]
mod engine_tests;
