//! Checks that need the whole config: unique names, references that resolve,
//! values that parse. Every problem is collected, not just the first.

use super::Config;
use super::error::Diagnostic;
use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

pub(super) fn validate(config: &Config, source: &str, file: &Path) -> Vec<Diagnostic> {
    let mut problems = Problems { source, file, list: Vec::new() };
    let settings = &config.settings;
    if let Err(unknown) = crate::util::zone::Zone::named(settings.timezone.get_ref()) {
        problems.push(settings.timezone.span(), unknown.to_string(), Some(unknown.hint()));
    }
    if let Some(group) = &settings.shared_group
        && let Err(message) = crate::util::perms::SharedGroup::lookup(group.get_ref())
    {
        problems.push(
            group.span(),
            message,
            Some("create the group and add the on-call engineers to it, or remove shared_group to keep files private"),
        );
    }
    if !(1..=120).contains(&settings.frame_rate) {
        problems.push(0..0, format!("frame_rate {} is outside 1..=120", settings.frame_rate), None);
    }
    let budget = settings.memory_budget.get_ref().0;
    if budget < super::MIN_MEMORY_BUDGET {
        problems.push(
            settings.memory_budget.span(),
            format!("memory_budget of {budget} bytes is below the smallest, 1MiB"),
            Some("write a size such as \"64MiB\""),
        );
    }
    check_history_fits(config, &mut problems);

    let check_names = problems.unique_names("check", config.checks.iter().map(|c| &c.name));
    for check in &config.checks {
        let targets = check.targets();
        if targets.len() != 1 {
            let found: Vec<&str> = targets.iter().map(|t| t.kind()).collect();
            problems.push(
                check.name.span(),
                format!(
                    "check `{}` needs exactly one target, found {}",
                    check.name.get_ref(),
                    if found.is_empty() { "none".to_string() } else { found.join(", ") }
                ),
                Some("set one of http, tcp, command, sqlite, system, disk, tls, backup, gpu, promql or targets"),
            );
        }
        if let Some(what) = &check.system
            && !["cpu", "memory", "swap", "load"].contains(&what.get_ref().as_str())
        {
            problems.push(
                what.span(),
                format!("unknown system check `{}`", what.get_ref()),
                Some("use \"cpu\", \"memory\", \"swap\" or \"load\"; disks use `disk = \"/mount\"`"),
            );
        }
        if let Some(parent) = &check.depends_on {
            if parent.get_ref() == check.name.get_ref() {
                problems.push(parent.span(), "a check cannot depend on itself", None);
            } else {
                problems.reference("check", parent, &check_names);
            }
        }
    }

    super::check::validate(config, &mut problems);
    super::task::validate(config, &mut problems);
    super::log::validate(config, &mut problems);
    super::backup::validate(config, &mut problems);
    super::action::validate(config, &mut problems, &check_names);
    super::gpu::validate(config, &mut problems);
    super::engine::validate(config, &mut problems);
    problems.list
}

pub(super) struct Problems<'a> {
    source: &'a str,
    file: &'a Path,
    list: Vec<Diagnostic>,
}

impl Problems<'_> {
    pub(super) fn push(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<&str>) {
        let mut diagnostic = Diagnostic::at(self.file, self.source, Some(span), message);
        if let Some(hint) = hint {
            diagnostic = diagnostic.with_hint(hint);
        }
        self.list.push(diagnostic);
    }

    /// Reports empty and duplicate names; returns the set of names seen.
    pub(super) fn unique_names<'n>(
        &mut self,
        what: &str,
        names: impl Iterator<Item = &'n Spanned<String>>,
    ) -> HashSet<String> {
        let mut seen = HashSet::new();
        for name in names {
            if name.get_ref().trim().is_empty() {
                self.push(name.span(), format!("{what} name is empty"), None);
            } else if !seen.insert(name.get_ref().clone()) {
                self.push(
                    name.span(),
                    format!("duplicate {what} name `{}`", name.get_ref()),
                    Some("names identify things in the store and on screen, so they must be unique"),
                );
            }
        }
        seen
    }

    pub(super) fn reference(&mut self, what: &str, name: &Spanned<String>, known: &HashSet<String>) {
        if !known.contains(name.get_ref()) {
            let mut choices: Vec<&String> = known.iter().collect();
            choices.sort();
            let hint = if choices.is_empty() {
                format!("no {what} is defined")
            } else {
                format!("known: {}", choices.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
            };
            self.push(name.span(), format!("unknown {what} `{}`", name.get_ref()), Some(&hint));
        }
    }
}

/// Every check's history window at its fullest must fit in `memory_budget`
/// beside the least the log lines keep: refused here rather than overrun later.
fn check_history_fits(config: &Config, problems: &mut Problems) {
    use crate::health::history::History;
    use crate::util::budget::LOGS_FLOOR;
    let budget = config.settings.memory_budget.get_ref().0;
    let history = config.checks.len() * History::MAX_BYTES;
    let needed = (history + LOGS_FLOOR) as u64;
    if budget < super::MIN_MEMORY_BUDGET || budget >= needed {
        return;
    }
    let mib = |bytes: u64| bytes.div_ceil(1024 * 1024);
    let span = match (&config.settings.memory_budget, config.checks.last()) {
        (set, _) if set.span() != (0..0) => set.span(),
        (_, Some(check)) => check.name.span(),
        _ => 0..0,
    };
    problems.push(
        span,
        format!(
            "memory_budget of {} MiB cannot hold the history of {} checks ({} MiB at their fullest) and 1 MiB of log lines",
            mib(budget),
            config.checks.len(),
            mib(history as u64),
        ),
        Some(&format!("set memory_budget = \"{}MiB\" or more in [settings]", mib(needed))),
    );
}
