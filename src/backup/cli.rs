//! `firstwatch backups`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BackupsArgs {}

pub fn run(_config: Config, _args: BackupsArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch backups: not built yet");
    ExitCode::from(2)
}
