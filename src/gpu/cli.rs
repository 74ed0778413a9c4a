//! `firstwatch gpu`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct GpuArgs {}

pub fn run(_config: Config, _args: GpuArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch gpu: not built yet");
    ExitCode::from(2)
}
