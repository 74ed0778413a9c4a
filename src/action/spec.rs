//! An `[[action]]` resolved for running: paths made absolute, defaults filled in.

use crate::config::{ActionConfig, ActionKind, Config, NotifyFormat};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How long a command may run when its action sets no `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// How long verification keeps watching after a redeploy or rollback, by default.
pub const DEFAULT_WATCH: Duration = Duration::from_secs(300);
/// How long a notify action waits for its webhook when it sets no `timeout`.
pub const DEFAULT_NOTIFY_TIMEOUT: Duration = Duration::from_secs(15);
/// What a notify action's operator types to confirm when it names no target.
pub const NOTIFY_TARGET: &str = "stakeholders";

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
    /// Placeholders whose value may begin an argument with `-` (an option).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_dash: Vec<String>,
    /// For a notify action: where and how it sends (it has no argv).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifySpec>,
}

/// A notify action's webhook. Values are kept as written: `${VAR}` is filled
/// in only when sending, so a secret is never in a job, an audit row or a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifySpec {
    pub webhook: String,
    pub format: NotifyFormat,
    pub headers: BTreeMap<String, String>,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

fn from_seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    Duration::try_from_secs_f64(seconds).map_err(serde::de::Error::custom)
}

/// The kinds an action can have, as the names the rest of the code compares against.
const KINDS: [&str; 5] = ["redeploy", "rollback", "restore", "custom", "notify"];

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
            ActionKind::Notify => "notify",
        };
        let notify = (action.kind == ActionKind::Notify).then(|| NotifySpec {
            webhook: action.webhook.as_ref().map(|w| w.get_ref().clone()).unwrap_or_default(),
            format: action.format.unwrap_or_default(),
            headers: action.headers.clone(),
        });
        let target = match action.target.trim() {
            "" if notify.is_some() => NOTIFY_TARGET.to_string(),
            _ => action.target.clone(),
        };
        let default_timeout = if notify.is_some() { DEFAULT_NOTIFY_TIMEOUT } else { DEFAULT_TIMEOUT };
        let risk = match action.risk.as_ref().map(|r| r.get_ref().as_str()) {
            Some("low") => Risk::Low,
            _ => Risk::High,
        };
        ActionSpec {
            name: action.name.get_ref().clone(),
            kind,
            target,
            argv: action.run.clone(),
            dir: action.dir.as_deref().map(|d| config.resolve(d)).unwrap_or_else(|| config.base_dir().to_path_buf()),
            env: action.env.clone(),
            timeout: action.timeout.map(|t| t.get()).unwrap_or(default_timeout),
            verify: action.verify.iter().map(|v| v.get_ref().clone()).collect(),
            watch: action.watch.map(|w| w.get()).unwrap_or(DEFAULT_WATCH),
            risk,
            rollback_with: action.rollback_with.as_ref().map(|r| r.get_ref().clone()),
            on_failed_verify: action.on_failed_verify.as_ref().map(|r| r.get_ref().clone()),
            backup: action.backup.clone(),
            allow_dash: action.allow_dash.iter().map(|name| name.get_ref().clone()).collect(),
            notify,
        }
    }

    /// The first configured notify action, which runbooks' `{notify}` steps link to.
    pub fn first_notify(config: &Config) -> Option<String> {
        config.actions.iter().find(|a| a.kind == ActionKind::Notify).map(|a| a.name.get_ref().clone())
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

    /// The argv as one line for people, each argument quoted when it would be ambiguous;
    /// for a notify action, the request (the address as written, header names only).
    pub fn argv_line(&self) -> String {
        if let Some(notify) = &self.notify {
            let format = match notify.format {
                NotifyFormat::Slack => "slack text",
                NotifyFormat::Json => "incident JSON",
            };
            let headers: Vec<&str> = notify.headers.keys().map(String::as_str).collect();
            let headers = if headers.is_empty() { String::new() } else { format!(", headers {}", headers.join(", ")) };
            return format!("POST {} ({format}{headers})", notify.webhook);
        }
        argv_line(&self.argv)
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
    /// argument, so spaces or `;` in a value never make a new argument; each
    /// argument is expanded in one pass, so a value that looks like `{other}`
    /// stays as typed; and a value may not begin an argument with `-` (turning
    /// it into an option such as `-rf`) unless the action lists its
    /// placeholder in `allow_dash`.
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
            let (expanded, leader) = expand(arg, values);
            if let Some(name) = leader
                && expanded.starts_with('-')
                && !self.allow_dash.iter().any(|allowed| allowed == name)
            {
                return Err(format!(
                    "the value for `{name}` would start the argument `{}` with `-`, so the command could read it as \
                     an option; `{}` does not allow that (add \"{name}\" to its `allow_dash` if it should)",
                    quote(&expanded),
                    self.name
                ));
            }
            *arg = expanded;
        }
        Ok(filled)
    }
}

/// The `{name}` spans of one argument, in order: (start, end, name), `end` past the `}`.
fn placeholder_spans(arg: &str) -> Vec<(usize, usize, &str)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(open) = arg[from..].find('{').map(|i| from + i) {
        let Some(close) = arg[open + 1..].find('}').map(|i| open + 1 + i) else { break };
        let name = &arg[open + 1..close];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            spans.push((open, close + 1, name));
        }
        from = close + 1;
    }
    spans
}

/// Fills one argument in a single left-to-right pass: text from values is never
/// looked at again. Also says which placeholder's value begins the result, if one does.
fn expand<'a>(arg: &'a str, values: &BTreeMap<String, String>) -> (String, Option<&'a str>) {
    let mut out = String::with_capacity(arg.len());
    let mut leader = None;
    let mut copied = 0;
    for (start, end, name) in placeholder_spans(arg) {
        out.push_str(&arg[copied..start]);
        match values.get(name) {
            Some(value) => {
                if out.is_empty() && !value.is_empty() {
                    leader = Some(name);
                }
                out.push_str(value);
            }
            None => out.push_str(&arg[start..end]),
        }
        copied = end;
    }
    out.push_str(&arg[copied..]);
    (out, leader)
}

/// `{name}` placeholders in one argument; names are letters, digits, `_` and `-`.
fn placeholder_names(arg: &str) -> Vec<String> {
    placeholder_spans(arg).into_iter().map(|(_, _, name)| name.to_string()).collect()
}

/// An argv as one line for people, each argument quoted when it would be ambiguous.
pub fn argv_line(argv: &[String]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

fn quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c));
    if plain { arg.to_string() } else { format!("'{}'", arg.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(argv: &[&str], allow_dash: &[&str]) -> ActionSpec {
        ActionSpec {
            name: "restore db".into(),
            kind: "restore",
            target: "db".into(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
            dir: ".".into(),
            env: Default::default(),
            timeout: DEFAULT_TIMEOUT,
            verify: vec![],
            watch: DEFAULT_WATCH,
            risk: Risk::High,
            rollback_with: None,
            on_failed_verify: None,
            backup: None,
            allow_dash: allow_dash.iter().map(|a| a.to_string()).collect(),
            notify: None,
        }
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn placeholders_fill_single_arguments_and_missing_ones_are_named() {
        let spec = spec(&["restore", "--from={backup}", "{backup}", "{x y}"], &[]);
        assert_eq!(spec.placeholders(), ["backup"]);
        let filled = spec.fill(&values(&[("backup", "a b; rm -rf /")])).unwrap();
        assert_eq!(filled.argv, ["restore", "--from=a b; rm -rf /", "a b; rm -rf /", "{x y}"]);
        assert!(spec.fill(&BTreeMap::new()).unwrap_err().contains("--set backup=VALUE"));
        let extra = values(&[("backup", "b"), ("nope", "v")]);
        assert!(spec.fill(&extra).unwrap_err().contains("no placeholder `{nope}`"));
        assert!(spec.fill(&values(&[("backup", "a\nb")])).is_err());
    }

    #[test]
    fn a_value_is_inserted_once_and_never_expanded_again() {
        let spec = spec(&["{a}", "x{b}y", "{a}{b}", "{b}-{a}"], &[]);
        // Whichever key is filled first, a value that names another placeholder stays as typed.
        let filled = spec.fill(&values(&[("a", "{b}"), ("b", "X")])).unwrap();
        assert_eq!(filled.argv, ["{b}", "xXy", "{b}X", "X-{b}"]);
        let filled = spec.fill(&values(&[("a", "Y"), ("b", "{a}")])).unwrap();
        assert_eq!(filled.argv, ["Y", "x{a}y", "Y{a}", "{a}-Y"]);
        // A value holding its own name does not loop or grow.
        let filled = spec.fill(&values(&[("a", "{a}{a}"), ("b", "")])).unwrap();
        assert_eq!(filled.argv, ["{a}{a}", "xy", "{a}{a}", "-{a}{a}"]);
    }

    #[test]
    fn a_value_that_would_start_an_argument_with_a_dash_is_refused_unless_allowed() {
        let rm = spec(&["rm", "{path}"], &[]);
        let err = rm.fill(&values(&[("path", "-rf")])).unwrap_err();
        assert!(err.contains("`path`") && err.contains("allow_dash") && err.contains("-rf"), "{err}");
        assert_eq!(rm.fill(&values(&[("path", "./-rf")])).unwrap().argv, ["rm", "./-rf"]);
        assert_eq!(rm.fill(&values(&[("path", "a-b")])).unwrap().argv, ["rm", "a-b"]);

        // Starting with the placeholder is enough, and an empty value before it does not hide the dash.
        let joined = spec(&["{path}.bak", "{pre}{path}"], &[]);
        assert!(joined.fill(&values(&[("path", "-x"), ("pre", "p")])).is_err());
        let err = spec(&["{pre}{path}"], &[]).fill(&values(&[("pre", ""), ("path", "--force")])).unwrap_err();
        assert!(err.contains("`path`"), "{err}");

        // A dash inside the argument, or one the config wrote itself, is the config's own choice.
        let inside = spec(&["--from={path}", "x{path}", "-{path}"], &[]);
        assert_eq!(inside.fill(&values(&[("path", "-y")])).unwrap().argv, ["--from=-y", "x-y", "--y"]);

        let allowed = spec(&["ls", "{flags}", "{dir}"], &["flags"]);
        assert_eq!(allowed.fill(&values(&[("flags", "-la"), ("dir", "srv")])).unwrap().argv, ["ls", "-la", "srv"]);
        assert!(allowed.fill(&values(&[("flags", "-la"), ("dir", "-R")])).unwrap_err().contains("`dir`"));
    }

    #[test]
    fn arguments_with_spaces_or_semicolons_are_shown_quoted() {
        assert_eq!(quote("deploy"), "deploy");
        assert_eq!(quote("x; touch PWNED"), "'x; touch PWNED'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }
}
