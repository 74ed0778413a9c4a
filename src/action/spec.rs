//! An `[[action]]` resolved for running: paths made absolute, defaults filled in.

use crate::config::{ActionConfig, ActionKind, Config};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How long a command may run when its action sets no `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long verification keeps watching after a redeploy or rollback, by default.
pub const DEFAULT_WATCH: Duration = Duration::from_secs(300);

/// How an action is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Confirmed by pressing `y`: nothing is lost if it runs by mistake.
    Low,
    /// Confirmed by typing the target's name.
    High,
}

/// One action, ready to run. It travels to the operation's supervisor as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec {
    pub name: String,
    /// Not read back from JSON (a `&'static str` cannot borrow from it); see [`ActionSpec::set_kind`].
    #[serde(skip_deserializing)]
    pub kind: &'static str,
    pub target: String,
    pub argv: Vec<String>,
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub timeout: Duration,
    pub verify: Vec<String>,
    #[serde(serialize_with = "seconds", deserialize_with = "from_seconds")]
    pub watch: Duration,
    pub risk: Risk,
    pub rollback_with: Option<String>,
    /// Run automatically, under the same confirmation, when the watch after this action fails.
    pub on_failed_verify: Option<String>,
    /// For a restore: the backup set it restores from.
    pub backup: Option<String>,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

fn from_seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    Duration::try_from_secs_f64(seconds).map_err(serde::de::Error::custom)
}

/// The kinds an action can have, as the names the rest of the code compares against.
const KINDS: [&str; 4] = ["redeploy", "rollback", "restore", "custom"];

impl ActionSpec {
    /// Sets the kind from its name, as a spec read back from JSON needs; unknown names are refused.
    pub fn set_kind(&mut self, name: &str) -> Result<(), String> {
        self.kind =
            KINDS.into_iter().find(|kind| *kind == name).ok_or_else(|| format!("unknown action kind `{name}`"))?;
        Ok(())
    }

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
            on_failed_verify: action.on_failed_verify.as_ref().map(|r| r.get_ref().clone()),
            backup: action.backup.clone(),
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

    /// What a confirmation says about the watch: `api, db for 5 min afterwards; ...`.
    pub fn watch_summary(&self) -> Option<String> {
        self.verifies().then(|| {
            format!(
                "{} for {} afterwards; one failing round fails it",
                self.verify.join(", "),
                super::watch::span(self.watch)
            )
        })
    }

    /// What a confirmation says about `on_failed_verify` (after "if verification
    /// fails"), so that one confirmation covers both: "runs `roll back orders` (./rollback.sh)".
    /// `actions` are the configured ones, to show the follow-up's command.
    pub fn follow_up_summary(&self, actions: &[ActionSpec]) -> Option<String> {
        let name = self.on_failed_verify.as_ref().filter(|_| self.verifies())?;
        let follow_up = actions.iter().find(|a| &a.name == name);
        let argv = follow_up.map(|f| format!(" ({})", f.argv_line())).unwrap_or_default();
        Some(format!("runs `{name}`{argv}"))
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

impl ActionSpec {
    /// The `{name}` placeholders its argv uses, in order of first use.
    pub fn placeholders(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for arg in &self.argv {
            for name in placeholder_names(arg) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// The action with its placeholders filled. Each value lands inside its own
    /// argument, so spaces or `;` in a value never make a new argument.
    pub fn fill(&self, values: &BTreeMap<String, String>) -> Result<ActionSpec, String> {
        let wanted = self.placeholders();
        if let Some(unknown) = values.keys().find(|k| !wanted.contains(k)) {
            let known =
                if wanted.is_empty() { "it takes none".to_string() } else { format!("it takes {}", wanted.join(", ")) };
            return Err(format!("`{}` has no placeholder `{{{unknown}}}`; {known}", self.name));
        }
        if let Some(missing) = wanted.iter().find(|w| !values.contains_key(*w)) {
            return Err(format!("`{}` needs a value for `{{{missing}}}`: pass --set {missing}=VALUE", self.name));
        }
        if let Some((key, _)) = values.iter().find(|(_, v)| v.chars().any(char::is_control)) {
            return Err(format!("the value for `{key}` contains a control character"));
        }
        let mut filled = self.clone();
        for arg in &mut filled.argv {
            for (key, value) in values {
                *arg = arg.replace(&format!("{{{key}}}"), value);
            }
        }
        Ok(filled)
    }
}

/// `{name}` spans in one argument; names are letters, digits, `_` and `-`.
fn placeholder_names(arg: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    names.push(name.to_string());
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain { arg.to_string() } else { format!("'{}'", arg.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_single_arguments_and_missing_ones_are_named() {
        let spec = ActionSpec {
            name: "restore db".into(),
            kind: "restore",
            target: "db".into(),
            argv: vec!["restore".into(), "--from={backup}".into(), "{backup}".into(), "{x y}".into()],
            dir: ".".into(),
            env: Default::default(),
            timeout: DEFAULT_TIMEOUT,
            verify: vec![],
            watch: DEFAULT_WATCH,
            risk: Risk::High,
            rollback_with: None,
            on_failed_verify: None,
            backup: None,
        };
        assert_eq!(spec.placeholders(), ["backup"]);
        let values = BTreeMap::from([("backup".to_string(), "a b; rm -rf /".to_string())]);
        let filled = spec.fill(&values).unwrap();
        assert_eq!(filled.argv, ["restore", "--from=a b; rm -rf /", "a b; rm -rf /", "{x y}"]);
        assert!(spec.fill(&BTreeMap::new()).unwrap_err().contains("--set backup=VALUE"));
        let extra = BTreeMap::from([("backup".to_string(), "b".to_string()), ("nope".to_string(), "v".to_string())]);
        assert!(spec.fill(&extra).unwrap_err().contains("no placeholder `{nope}`"));
        let control = BTreeMap::from([("backup".to_string(), "a\nb".to_string())]);
        assert!(spec.fill(&control).is_err());
    }

    #[test]
    fn arguments_with_spaces_or_semicolons_are_shown_quoted() {
        assert_eq!(quote("deploy"), "deploy");
        assert_eq!(quote("x; touch PWNED"), "'x; touch PWNED'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }
}
