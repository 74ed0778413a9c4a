//! An `[[action]]` resolved for running: paths made absolute, defaults filled in.

use crate::config::{ActionConfig, ActionKind, Config};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How long a command may run when its action sets no `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long verification keeps watching after a redeploy or rollback, by default.
pub const DEFAULT_WATCH: Duration = Duration::from_secs(300);

/// How an action is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Confirmed by pressing `y`: nothing is lost if it runs by mistake.
    Low,
    /// Confirmed by typing the target's name.
    High,
}

/// One action, ready to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionSpec {
    pub name: String,
    pub kind: &'static str,
    pub target: String,
    pub argv: Vec<String>,
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
    #[serde(serialize_with = "seconds")]
    pub timeout: Duration,
    pub verify: Vec<String>,
    #[serde(serialize_with = "seconds")]
    pub watch: Duration,
    pub risk: Risk,
    pub rollback_with: Option<String>,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

impl ActionSpec {
    pub fn from_config(config: &Config, action: &ActionConfig) -> ActionSpec {
        let kind = match action.kind {
            ActionKind::Redeploy => "redeploy",
            ActionKind::Rollback => "rollback",
            ActionKind::Restore => "restore",
            ActionKind::Custom => "custom",
        };
        let risk = match action.risk.as_ref().map(|r| r.get_ref().as_str()) {
            Some("low") => Risk::Low,
            _ => Risk::High,
        };
        ActionSpec {
            name: action.name.get_ref().clone(),
            kind,
            target: action.target.clone(),
            argv: action.run.clone(),
            dir: action.dir.as_deref().map(|d| config.resolve(d)).unwrap_or_else(|| config.base_dir().to_path_buf()),
            env: action.env.clone(),
            timeout: action.timeout.map(|t| t.get()).unwrap_or(DEFAULT_TIMEOUT),
            verify: action.verify.iter().map(|v| v.get_ref().clone()).collect(),
            watch: action.watch.map(|w| w.get()).unwrap_or(DEFAULT_WATCH),
            risk,
            rollback_with: action.rollback_with.as_ref().map(|r| r.get_ref().clone()),
        }
    }

    /// Every configured action, in file order.
    pub fn all(config: &Config) -> Vec<ActionSpec> {
        config.actions.iter().map(|a| ActionSpec::from_config(config, a)).collect()
    }

    pub fn find(config: &Config, name: &str) -> Option<ActionSpec> {
        config.actions.iter().find(|a| a.name.get_ref() == name).map(|a| ActionSpec::from_config(config, a))
    }

    /// Redeploys and rollbacks re-run their checks afterwards to see whether the service came back.
    pub fn verifies(&self) -> bool {
        matches!(self.kind, "redeploy" | "rollback") && !self.verify.is_empty()
    }

    /// What the operator must type to confirm.
    pub fn confirmation_word(&self) -> &str {
        match self.risk {
            Risk::Low => "y",
            Risk::High => &self.target,
        }
    }

    /// The argv as one line for people, each argument quoted when it would be ambiguous.
    pub fn argv_line(&self) -> String {
        self.argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
    }
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain { arg.to_string() } else { format!("'{}'", arg.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_with_spaces_or_semicolons_are_shown_quoted() {
        assert_eq!(quote("deploy"), "deploy");
        assert_eq!(quote("x; touch PWNED"), "'x; touch PWNED'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }
}
