//! `[[action]]` and `[[runbook]]`: what on-call may run, and the procedures they follow.

use super::Config;
use super::units::HumanDuration;
use super::validate::Problems;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use toml::Spanned;

/// What an action does, which decides how it is confirmed and recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Redeploy,
    Rollback,
    Restore,
    Custom,
}

/// `[[action]]`: a command on-call can fire after confirming it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    pub name: Spanned<String>,
    pub kind: ActionKind,
    pub target: String,
    pub run: Vec<String>,
    #[serde(default)]
    pub dir: Option<PathBuf>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
    #[serde(default)]
    pub verify: Vec<Spanned<String>>,
    /// `low` (confirmed with `y`) or `high` (confirmed by typing the target); default high.
    #[serde(default)]
    pub risk: Option<Spanned<String>>,
    /// How long `verify` checks keep being re-run after a redeploy or rollback (default 5m).
    #[serde(default)]
    pub watch: Option<HumanDuration>,
    #[serde(default)]
    pub backup: Option<String>,
    #[serde(default)]
    pub rollback_with: Option<Spanned<String>>,
    /// Placeholders of `run` whose `--set` value may begin an argument with `-`.
    #[serde(default)]
    pub allow_dash: Vec<Spanned<String>>,
}

/// `[[runbook]]`: a Markdown or TOML runbook file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunbookRef {
    pub path: Spanned<PathBuf>,
}

pub(super) fn validate(config: &Config, problems: &mut Problems, check_names: &HashSet<String>) {
    let action_names = problems.unique_names("action", config.actions.iter().map(|a| &a.name));
    for action in &config.actions {
        if action.run.is_empty() {
            problems.push(action.name.span(), format!("action `{}` has an empty `run`", action.name.get_ref()), None);
        }
        for check in &action.verify {
            problems.reference("check", check, check_names);
        }
        if let Some(other) = &action.rollback_with {
            problems.reference("action", other, &action_names);
        }
        if let Some(risk) = &action.risk
            && !["low", "high"].contains(&risk.get_ref().as_str())
        {
            problems.push(
                risk.span(),
                format!("unknown risk `{}`", risk.get_ref()),
                Some("use \"low\" (confirmed with y) or \"high\" (confirmed by typing the target)"),
            );
        }
        if action.target.trim().is_empty() {
            problems.push(
                action.name.span(),
                format!("action `{}` has an empty `target`", action.name.get_ref()),
                Some("the target is what the operator types to confirm, so it must be a word"),
            );
        }
        let mut placeholders: Vec<String> = Vec::new();
        for name in action.run.iter().flat_map(|arg| crate::action::spec::placeholder_names(arg)) {
            if !placeholders.contains(&name) {
                placeholders.push(name);
            }
        }
        for name in &action.allow_dash {
            if !placeholders.contains(name.get_ref()) {
                let hint = if placeholders.is_empty() {
                    "its `run` has no {placeholder}".to_string()
                } else {
                    format!("its placeholders: {}", placeholders.join(", "))
                };
                problems.push(
                    name.span(),
                    format!("`allow_dash` names `{}`, which is not a placeholder of `run`", name.get_ref()),
                    Some(&hint),
                );
            }
        }
        if action.timeout.is_some_and(|t| t.get().is_zero()) {
            problems.push(action.name.span(), format!("action `{}` has a zero timeout", action.name.get_ref()), None);
        }
    }
    for runbook in &config.runbooks {
        let path = config.resolve(runbook.path.get_ref());
        if !path.is_file() {
            problems.push(runbook.path.span(), format!("runbook {} does not exist", path.display()), None);
        }
    }
}
