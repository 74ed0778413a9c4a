//! One check run on demand: how an action verifies its target afterwards.

use super::{CheckSpec, Level, Prober};
use crate::config::Config;

/// The outcome of one run of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub healthy: bool,
    /// One line for people: "status 200, 35 ms" or what failed.
    pub summary: String,
}

/// Runs the check named `name` once, right now, honouring its timeout and conditions.
///
/// Debouncing does not apply: an action wants to know how the target is now.
pub async fn run_check_once(config: &Config, name: &str) -> Result<Verdict, String> {
    let names: Vec<String> = config.checks.iter().map(|c| c.name.get_ref().clone()).collect();
    let check = config
        .checks
        .iter()
        .find(|c| c.name.get_ref() == name)
        .ok_or_else(|| format!("cannot verify with check `{name}`: no such check in the config"))?;
    let spec = CheckSpec::from_config(check, config, &names).map_err(|err| format!("check `{name}`: {err}"))?;
    let outcome = Prober::new().run(&spec).await;
    let latency = outcome.latency.map(super::condition::format_latency).unwrap_or_default();
    let summary = match outcome.level {
        Level::Ok => format!("{} in {latency}", outcome.message),
        level => format!("{}: {} (after {latency})", level.as_str(), outcome.message),
    };
    Ok(Verdict { healthy: outcome.level == Level::Ok, summary })
}
