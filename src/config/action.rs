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
    /// Tells the stakeholders about the open incident through a webhook.
    Notify,
}

/// How a notify action's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// `{"text": "..."}`, which Slack and most chat webhooks take.
    #[default]
    Slack,
    /// The incident itself as JSON, for a receiver of your own.
    Json,
}

/// `[[action]]`: a command on-call can fire after confirming it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    pub name: Spanned<String>,
    pub kind: ActionKind,
    /// What the operator types to confirm; a notify action defaults to `stakeholders`.
    #[serde(default)]
    pub target: String,
    /// The command (argv, no shell); a notify action has none.
    #[serde(default)]
    pub run: Vec<String>,
    /// A notify action's address, POSTed to; `${VAR}` comes from the environment when sending.
    #[serde(default)]
    pub webhook: Option<Spanned<String>>,
    /// A notify action's body: `slack` (default) or `json`.
    #[serde(default)]
    pub format: Option<NotifyFormat>,
    /// A notify action's request headers; `${VAR}` in a value comes from the environment
    /// when sending and is never shown or recorded.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
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
    /// Another action run automatically, under this action's confirmation, when the
    /// watch after it fails (a check fails inside the `watch` window).
    #[serde(default)]
    pub on_failed_verify: Option<Spanned<String>>,
}

/// `on_failed_verify` names another existing action that can run on its own, and
/// the action it sits on is one that is watched, or it would never fire.
fn validate_follow_up(
    config: &Config,
    problems: &mut Problems,
    action: &ActionConfig,
    other: &Spanned<String>,
    action_names: &HashSet<String>,
) {
    let name = action.name.get_ref();
    if other.get_ref() == name {
        problems.push(
            other.span(),
            format!("action `{name}` names itself in `on_failed_verify`"),
            Some("name the action that undoes this one, e.g. its rollback"),
        );
        return;
    }
    if !action_names.contains(other.get_ref()) {
        problems.reference("action", other, action_names);
        return;
    }
    if let Some(follow_up) = config.actions.iter().find(|a| a.name.get_ref() == other.get_ref()) {
        let wanted = crate::action::ActionSpec::from_config(config, follow_up).placeholders();
        if !wanted.is_empty() {
            let wanted: Vec<String> = wanted.iter().map(|w| format!("{{{w}}}")).collect();
            problems.push(
                other.span(),
                format!(
                    "`{}` needs {} filled in, so it cannot run by itself after a failed verification",
                    other.get_ref(),
                    wanted.join(", ")
                ),
                Some("on_failed_verify runs the named action as it is; give it a command without placeholders"),
            );
        }
    }
    let watched = matches!(action.kind, ActionKind::Redeploy | ActionKind::Rollback) && !action.verify.is_empty();
    if !watched {
        problems.push(
            other.span(),
            format!("`on_failed_verify` on `{name}` would never run: only redeploy and rollback actions with `verify` checks are watched"),
            Some("add `verify = [\"CHECK\"]` to a redeploy or rollback, or remove `on_failed_verify`"),
        );
    }
}

/// A notify action POSTs to its `webhook` and runs nothing.
fn validate_notify(problems: &mut Problems, action: &ActionConfig) {
    let name = action.name.get_ref();
    if !action.run.is_empty() {
        problems.push(
            action.name.span(),
            format!("notify action `{name}` has a `run`; it sends to its `webhook` instead"),
            Some("remove `run`"),
        );
    }
    let Some(webhook) = &action.webhook else {
        problems.push(
            action.name.span(),
            format!("notify action `{name}` needs a `webhook`"),
            Some("webhook = \"https://hooks.example.com/...\" (the address is POSTed to)"),
        );
        return;
    };
    let address = webhook.get_ref();
    let scheme_ok = address.starts_with("https://") || address.starts_with("http://");
    // `${VAR}` parts are filled in when sending; the rest must already read as an address.
    let shape = address.replace("${", "x").replace('}', "x");
    if !scheme_ok || reqwest::Url::parse(&shape).is_err() {
        problems.push(
            webhook.span(),
            format!("`{address}` is not an http:// or https:// address"),
            Some("secrets in it may be written ${VAR}"),
        );
    }
    for header in action.headers.keys() {
        if reqwest::header::HeaderName::from_bytes(header.as_bytes()).is_err() {
            problems.push(action.name.span(), format!("`{header}` is not a valid header name"), None);
        }
    }
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
        if action.kind == ActionKind::Notify {
            validate_notify(problems, action);
        } else if action.webhook.is_some() || action.format.is_some() || !action.headers.is_empty() {
            problems.push(
                action.name.span(),
                format!(
                    "action `{}` has `webhook`, `format` or `headers`, which only a notify action takes",
                    action.name.get_ref()
                ),
                Some("set kind = \"notify\", or remove them"),
            );
        }
        if action.run.is_empty() && action.kind != ActionKind::Notify {
            problems.push(action.name.span(), format!("action `{}` has an empty `run`", action.name.get_ref()), None);
        }
        for check in &action.verify {
            problems.reference("check", check, check_names);
        }
        if let Some(other) = &action.rollback_with {
            problems.reference("action", other, &action_names);
        }
        if let Some(other) = &action.on_failed_verify {
            validate_follow_up(config, problems, action, other, &action_names);
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
        if action.target.trim().is_empty() && action.kind != ActionKind::Notify {
            problems.push(
                action.name.span(),
                format!("action `{}` has an empty `target`", action.name.get_ref()),
                Some("the target is what the operator types to confirm, so it must be a word"),
            );
        }
        let placeholders = crate::action::ActionSpec::from_config(config, action).placeholders();
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

#[cfg(test)]
mod tests {
    use crate::config::{ConfigError, load_str};
    use std::path::Path;

    const CHECK: &str = "[[check]]\nname = \"api\"\ntcp = \"127.0.0.1:80\"\n";

    fn problems(actions: &str) -> Vec<String> {
        match load_str(&format!("{CHECK}{actions}"), Path::new("fw.toml")) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid(list)) => list.iter().map(|p| p.to_string()).collect(),
            Err(other) => panic!("{other}"),
        }
    }

    fn redeploy(extra: &str) -> String {
        format!(
            "[[action]]\nname = \"redeploy api\"\nkind = \"redeploy\"\ntarget = \"api\"\nrun = [\"true\"]\n\
             verify = [\"api\"]\n{extra}\n"
        )
    }

    const ROLLBACK: &str =
        "[[action]]\nname = \"roll back api\"\nkind = \"rollback\"\ntarget = \"api\"\nrun = [\"undo\"]\n";

    #[test]
    fn on_failed_verify_naming_an_existing_action_is_carried_into_the_spec() {
        let text = format!("{CHECK}{}{ROLLBACK}", redeploy("on_failed_verify = \"roll back api\""));
        let config = load_str(&text, Path::new("fw.toml")).unwrap_or_else(|e| panic!("{e}"));
        let spec = crate::action::ActionSpec::find(&config, "redeploy api").unwrap();
        assert_eq!(spec.on_failed_verify.as_deref(), Some("roll back api"));
    }

    #[test]
    fn an_unknown_on_failed_verify_is_reported_at_its_line_and_column_with_the_known_names() {
        let all = problems(&format!("{}{ROLLBACK}", redeploy("on_failed_verify = \"roll back apii\"")));
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(all[0].starts_with("fw.toml:10:20: unknown action `roll back apii`"), "{all:?}");
        assert!(all[0].contains("known: redeploy api, roll back api"), "{all:?}");
    }

    #[test]
    fn on_failed_verify_may_not_name_itself_an_action_with_placeholders_or_sit_on_an_unwatched_action() {
        let itself = problems(&redeploy("on_failed_verify = \"redeploy api\""));
        assert!(itself.iter().any(|p| p.contains("fw.toml:10:20") && p.contains("names itself")), "{itself:?}");

        let placeholder = "[[action]]\nname = \"restore api\"\nkind = \"restore\"\ntarget = \"api\"\nrun = [\"restore\", \"{backup}\"]\n";
        let needs_values = problems(&format!("{}{placeholder}", redeploy("on_failed_verify = \"restore api\"")));
        assert!(
            needs_values.iter().any(|p| p.contains("fw.toml:10:20") && p.contains("`restore api` needs {backup}")),
            "{needs_values:?}"
        );

        let custom = "[[action]]\nname = \"poke\"\nkind = \"custom\"\ntarget = \"api\"\nrun = [\"true\"]\n\
                      on_failed_verify = \"roll back api\"\n";
        let never = problems(&format!("{custom}{ROLLBACK}"));
        assert!(never.iter().any(|p| p.contains("fw.toml:9:20") && p.contains("would never run")), "{never:?}");
    }

    #[test]
    fn a_notify_action_gets_its_default_target_and_timeout_and_shows_its_request_without_secrets() {
        let text = format!(
            "{CHECK}[[action]]\nname = \"tell\"\nkind = \"notify\"\nwebhook = \"https://hooks.example.com/${{HOOK}}\"\n\
             headers = {{ Authorization = \"Bearer ${{TOKEN}}\" }}\n"
        );
        let config = load_str(&text, Path::new("fw.toml")).unwrap_or_else(|e| panic!("{e}"));
        let spec = crate::action::ActionSpec::find(&config, "tell").unwrap();
        assert_eq!(spec.target, "stakeholders");
        assert_eq!(spec.timeout, crate::action::spec::DEFAULT_NOTIFY_TIMEOUT);
        assert!(spec.argv.is_empty() && spec.placeholders().is_empty(), "${{VAR}} is not a {{placeholder}}");
        assert_eq!(spec.argv_line(), "POST https://hooks.example.com/${HOOK} (slack text, headers Authorization)");
        assert_eq!(crate::action::ActionSpec::first_notify(&config).as_deref(), Some("tell"));
    }

    #[test]
    fn webhook_keys_on_another_kind_are_refused() {
        let all = problems(&redeploy("webhook = \"https://x.example.com\""));
        assert!(all.iter().any(|p| p.contains("only a notify action takes")), "{all:?}");
    }
}
