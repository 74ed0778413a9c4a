//! `firstwatch incident`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct IncidentArgs {}

pub fn run(_config: Config, _args: IncidentArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch incident: not built yet");
    ExitCode::from(2)
}
