//! `firstwatch schedule`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {}

pub fn run(_config: Config, _args: ScheduleArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch schedule: not built yet");
    ExitCode::from(2)
}
