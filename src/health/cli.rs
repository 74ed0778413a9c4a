//! `firstwatch check`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn run(_config: Config, _args: CheckArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch check: not built yet");
    ExitCode::from(2)
}
