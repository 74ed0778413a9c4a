//! Scheduled tasks and maintenance windows: cron evaluation, next runs, past outcomes.

pub mod cli;
pub mod cron;
mod describe;

pub use cron::{CronError, Field, Schedule};

#[cfg(test)]
mod cron_tests;
