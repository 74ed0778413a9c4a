//! `firstwatch action`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ActionArgs {}

pub fn run(_config: Config, _args: ActionArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch action: not built yet");
    ExitCode::from(2)
}
