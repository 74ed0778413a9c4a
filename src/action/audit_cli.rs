//! `firstwatch audit`: the headless twin. Not built yet.

use crate::cli::Global;
use crate::config::Config;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {}

pub fn run(_config: Config, _args: AuditArgs, _global: &Global) -> ExitCode {
    eprintln!("firstwatch audit: not built yet");
    ExitCode::from(2)
}
