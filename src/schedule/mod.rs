//! Scheduled tasks and maintenance windows: cron evaluation, next runs, past outcomes.

pub mod cli;
