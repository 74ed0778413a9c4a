//! `firstwatch logs`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {}

pub fn run(_config: Config, _args: LogsArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch logs: not built yet");
    ExitCode::from(2)
}
