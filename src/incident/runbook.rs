//! Runbooks: phases of steps, read from Markdown checklists or TOML.
//!
//! Markdown, because teams keep runbooks in git already:
//!
//! ```markdown
//! # Service down
//! ## Triage (0-15 min)            <- a phase; "(0-15 min)" sets its deadline
//! - [ ] Redeploy {action: redeploy api}
//!   Detail lines are indented under the step.
//! - [ ] Verify {check: api}
//! - [ ] Pick a severity {severity}
//! - [ ] Tell the stakeholders {notify}   <- the host's notify action, if any
//! ```
//!
//! A phase deadline is the last number of a trailing `(A-B min)`, `(N min)`
//! or `(N h)`, or an explicit `{deadline: 15m}` on the heading.

use crate::config::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Runbook {
    /// How it is referred to: the file name without extension.
    pub name: String,
    pub title: String,
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub title: String,
    /// Time from the incident's start by which the phase should be done.
    pub deadline: Option<Duration>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub text: String,
    pub detail: String,
    pub kind: StepKind,
    /// Marked `{notify}`: linked to the host's notify action when it has one
    /// (see [`load_all`]); a manual step otherwise.
    pub notify: bool,
}

/// What ticking a step involves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Manual,
    /// Pick the incident's severity.
    Severity,
    /// Run the named action.
    Action(String),
    /// Look at the named health check.
    Check(String),
    /// Write a note.
    Note,
}

impl Runbook {
    /// Each step with its key (`phase.step`, 1-based), in order.
    pub fn steps(&self) -> impl Iterator<Item = (String, &Phase, &Step)> {
        self.phases.iter().enumerate().flat_map(|(p, phase)| {
            phase.steps.iter().enumerate().map(move |(s, step)| (format!("{}.{}", p + 1, s + 1), phase, step))
        })
    }

    /// Points every manual `{notify}` step at the notify action `action`.
    pub fn link_notify(&mut self, action: &str) {
        for step in self.phases.iter_mut().flat_map(|p| p.steps.iter_mut()) {
            if step.notify && step.kind == StepKind::Manual {
                step.kind = StepKind::Action(action.to_string());
            }
        }
    }

    /// A runbook by its name (the id) or its title, either in any case; the name wins.
    pub fn find<'a>(runbooks: &'a [Runbook], wanted: &str) -> Option<&'a Runbook> {
        let wanted = wanted.trim();
        runbooks
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(wanted))
            .or_else(|| runbooks.iter().find(|r| r.title.eq_ignore_ascii_case(wanted)))
    }

    pub fn step_count(&self) -> usize {
        self.phases.iter().map(|p| p.steps.len()).sum()
    }
}

/// A problem in a runbook file, with its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct RunbookError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Built-in runbooks, written for the common emergencies.
const BUILT_IN: &[(&str, &str)] = &[
    ("first-15-minutes.md", include_str!("../../assets/runbooks/first-15-minutes.md")),
    ("service-down.md", include_str!("../../assets/runbooks/service-down.md")),
    ("data-corruption.md", include_str!("../../assets/runbooks/data-corruption.md")),
    ("general-outage.toml", include_str!("../../assets/runbooks/general-outage.toml")),
];

pub fn built_in() -> Vec<Runbook> {
    BUILT_IN.iter().filter_map(|(file, text)| parse(file, text).ok()).collect()
}

/// The configured runbooks first (they may replace a built-in of the same name), then the built-ins.
/// Files that do not parse are reported, not dropped silently.
pub fn load_all(config: &crate::config::Config) -> (Vec<Runbook>, Vec<RunbookError>) {
    let mut runbooks = Vec::new();
    let mut problems = Vec::new();
    for reference in &config.runbooks {
        match load_file(&config.resolve(reference.path.get_ref())) {
            Ok(runbook) => runbooks.push(runbook),
            Err(err) => problems.push(err),
        }
    }
    for runbook in built_in() {
        if !runbooks.iter().any(|r: &Runbook| r.name == runbook.name) {
            runbooks.push(runbook);
        }
    }
    if let Some(action) = crate::action::ActionSpec::first_notify(config) {
        for runbook in &mut runbooks {
            runbook.link_notify(&action);
        }
    }
    (runbooks, problems)
}

pub fn load_file(path: &Path) -> Result<Runbook, RunbookError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| RunbookError {
        file: shown.clone(),
        line: 0,
        column: 0,
        message: err.to_string(),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| RunbookError {
        file: shown.clone(),
        line: 1,
        column: 1,
        message: "not valid UTF-8".into(),
    })?;
    parse(&shown, &text)
}

/// Parses by extension: `.toml` is TOML, anything else Markdown.
pub fn parse(file: &str, text: &str) -> Result<Runbook, RunbookError> {
    let name = Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| file.into());
    let runbook =
        if file.ends_with(".toml") { parse_toml(file, &name, text)? } else { parse_markdown(file, &name, text)? };
    if runbook.step_count() == 0 {
        return Err(RunbookError { file: file.into(), line: 1, column: 1, message: "the runbook has no steps".into() });
    }
    Ok(runbook)
}

fn parse_markdown(file: &str, name: &str, text: &str) -> Result<Runbook, RunbookError> {
    let error = |line: usize, column: usize, message: String| RunbookError { file: file.into(), line, column, message };
    let mut title = None;
    let mut phases: Vec<Phase> = Vec::new();
    let mut in_step = false;
    let mut fence = false;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_end();
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        if let Some(heading) = line.strip_prefix("# ") {
            title.get_or_insert_with(|| clean(heading));
            in_step = false;
        } else if let Some(heading) = line.strip_prefix("## ").or_else(|| line.strip_prefix("### ")) {
            let (heading, markers) = markers(heading).map_err(|(col, msg)| error(number, col + 4, msg))?;
            let mut deadline = deadline_from_heading(&heading);
            for (key, value, column) in markers {
                match key.as_str() {
                    "deadline" => {
                        let parsed = value.parse::<HumanDuration>().map_err(|msg| error(number, column + 4, msg))?;
                        deadline = Some(parsed.get());
                    }
                    other => {
                        return Err(error(
                            number,
                            column + 4,
                            format!("unknown heading marker `{other}`; use {{deadline: 15m}}"),
                        ));
                    }
                }
            }
            phases.push(Phase { title: clean(&heading), deadline, steps: Vec::new() });
            in_step = false;
        } else if let Some((rest, column)) = checkbox(line) {
            let (text, markers) = markers(rest).map_err(|(col, msg)| error(number, column + col, msg))?;
            let mut kind = StepKind::Manual;
            let mut notify = false;
            for (key, value, col) in markers {
                if key == "notify" {
                    notify = true;
                    continue;
                }
                kind = match (key.as_str(), value.is_empty()) {
                    ("action", false) => StepKind::Action(value),
                    ("check", false) => StepKind::Check(value),
                    ("severity", _) => StepKind::Severity,
                    ("note", _) => StepKind::Note,
                    ("action" | "check", true) => {
                        return Err(error(number, column + col, format!("`{{{key}: NAME}}` needs a name")));
                    }
                    (other, _) => {
                        return Err(error(
                            number,
                            column + col,
                            format!(
                                "unknown step marker `{other}`; use {{action: NAME}}, {{check: NAME}}, {{severity}}, {{note}} or {{notify}}"
                            ),
                        ));
                    }
                };
            }
            if text.trim().is_empty() {
                return Err(error(number, column, "a step needs some text".into()));
            }
            if phases.is_empty() {
                phases.push(Phase { title: "Steps".into(), deadline: None, steps: Vec::new() });
            }
            if let Some(phase) = phases.last_mut() {
                phase.steps.push(Step { text: clean(&text), detail: String::new(), kind, notify });
            }
            in_step = true;
        } else if let Some(column) = malformed_checkbox(line) {
            return Err(error(number, column, "a step is written `- [ ] text` (space inside the brackets)".into()));
        } else if in_step && raw.starts_with([' ', '\t']) && !line.trim().is_empty() {
            if let Some(step) = phases.last_mut().and_then(|p| p.steps.last_mut()) {
                if !step.detail.is_empty() {
                    step.detail.push('\n');
                }
                step.detail.push_str(&clean(line.trim()));
            }
        } else if !line.trim().is_empty() {
            in_step = false;
        }
    }
    phases.retain(|p| !p.steps.is_empty());
    Ok(Runbook { name: name.into(), title: title.unwrap_or_else(|| name.into()), phases })
}

/// `- [ ] text` or `* [x] text`: the text after the box and its column (1-based).
fn checkbox(line: &str) -> Option<(&str, usize)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let rest = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* "))?;
    let rest = rest.strip_prefix("[ ] ").or_else(|| rest.strip_prefix("[x] ")).or_else(|| rest.strip_prefix("[X] "))?;
    Some((rest, indent + 7))
}

fn malformed_checkbox(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* "))?;
    (rest.starts_with("[]") || rest.starts_with("[ ]") && !rest.starts_with("[ ] "))
        .then_some(line.len() - trimmed.len() + 3)
}

type Markers = Vec<(String, String, usize)>;

/// Splits `{key: value}` markers off a line; returns the text without them.
fn markers(text: &str) -> Result<(String, Markers), (usize, String)> {
    let mut plain = String::new();
    let mut found = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find('{') {
        plain.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Err((offset + open + 1, "`{` is not closed; markers look like {action: NAME}".into()));
        };
        let inner = &rest[open + 1..open + close];
        let (key, value) = inner.split_once(':').unwrap_or((inner, ""));
        found.push((key.trim().to_ascii_lowercase(), value.trim().to_string(), offset + open + 1));
        offset += open + close + 1;
        rest = &rest[open + close + 1..];
    }
    plain.push_str(rest);
    Ok((plain.trim().to_string(), found))
}

/// `Triage (0-15 min)` -> 15 minutes; `Fix (1 h)` -> one hour.
fn deadline_from_heading(heading: &str) -> Option<Duration> {
    let inner = heading.trim_end().strip_suffix(')')?;
    let inner = &inner[inner.rfind('(')? + 1..];
    let (number, unit) = inner.trim().rsplit_once(' ').unwrap_or((inner, ""));
    let last = number.rsplit('-').next()?.trim().parse::<u64>().ok()?;
    let unit_seconds = match unit.trim() {
        "min" | "mins" | "m" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        _ => return None,
    };
    Some(Duration::from_secs(last * unit_seconds))
}

fn clean(text: &str) -> String {
    crate::util::sanitize::sanitize_str(text.trim())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlRunbook {
    title: String,
    #[serde(rename = "phase", default)]
    phases: Vec<TomlPhase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlPhase {
    title: String,
    #[serde(default)]
    deadline: Option<HumanDuration>,
    #[serde(rename = "step", default)]
    steps: Vec<TomlStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlStep {
    text: String,
    #[serde(default)]
    kind: Option<toml::Spanned<String>>,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    check: Option<String>,
}

fn parse_toml(file: &str, name: &str, text: &str) -> Result<Runbook, RunbookError> {
    let at = |span: Option<std::ops::Range<usize>>, message: String| {
        let (line, column) = span.map(|s| crate::config::line_col(text, s.start)).unwrap_or((1, 1));
        RunbookError { file: file.into(), line, column, message }
    };
    let parsed: TomlRunbook = toml::from_str(text).map_err(|err| at(err.span(), err.message().to_string()))?;
    let mut phases = Vec::new();
    for phase in parsed.phases {
        let mut steps = Vec::new();
        for step in phase.steps {
            let kind_name = step.kind.as_ref().map(|k| k.get_ref().as_str()).unwrap_or(if step.action.is_some() {
                "action"
            } else if step.check.is_some() {
                "check"
            } else {
                "manual"
            });
            let missing =
                |what: &str| at(step.kind.as_ref().map(|k| k.span()), format!("a `{kind_name}` step needs `{what}`"));
            let kind = match kind_name {
                "manual" | "notify" => StepKind::Manual,
                "severity" => StepKind::Severity,
                "note" => StepKind::Note,
                "action" => StepKind::Action(step.action.clone().ok_or_else(|| missing("action"))?),
                "check" => StepKind::Check(step.check.clone().ok_or_else(|| missing("check"))?),
                other => {
                    return Err(at(
                        step.kind.as_ref().map(|k| k.span()),
                        format!("unknown step kind `{other}`; use manual, severity, action, check, note or notify"),
                    ));
                }
            };
            let notify = kind_name == "notify";
            steps.push(Step { text: clean(&step.text), detail: clean_lines(&step.detail), kind, notify });
        }
        phases.push(Phase { title: clean(&phase.title), deadline: phase.deadline.map(|d| d.get()), steps });
    }
    phases.retain(|p| !p.steps.is_empty());
    Ok(Runbook { name: name.into(), title: clean(&parsed.title), phases })
}

fn clean_lines(text: &str) -> String {
    text.trim().lines().map(clean).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_phases_deadlines_markers_and_details() {
        let text = "# Orders down\n\nIntro text.\n\n## Triage (0-15 min)\n- [ ] Redeploy {action: redeploy orders}\n  Runs the deploy.\n  Twice if needed.\n- [ ] Look at the check {check: orders}\n## Fix {deadline: 1h}\n* [x] Pick severity {severity}\n";
        let runbook = parse("orders.md", text).unwrap();
        assert_eq!(runbook.name, "orders");
        assert_eq!(runbook.title, "Orders down");
        assert_eq!(runbook.phases.len(), 2);
        assert_eq!(runbook.phases[0].title, "Triage (0-15 min)");
        assert_eq!(runbook.phases[0].deadline, Some(Duration::from_secs(900)));
        assert_eq!(runbook.phases[1].deadline, Some(Duration::from_secs(3600)));
        let step = &runbook.phases[0].steps[0];
        assert_eq!(step.text, "Redeploy");
        assert_eq!(step.kind, StepKind::Action("redeploy orders".into()));
        assert_eq!(step.detail, "Runs the deploy.\nTwice if needed.");
        assert_eq!(runbook.phases[0].steps[1].kind, StepKind::Check("orders".into()));
        assert_eq!(runbook.phases[1].steps[0].kind, StepKind::Severity);
        let keys: Vec<String> = runbook.steps().map(|(k, _, _)| k).collect();
        assert_eq!(keys, ["1.1", "1.2", "2.1"]);
    }

    #[test]
    fn malformed_markdown_names_the_line() {
        let err = parse("x.md", "# X\n## A\n- [ ] fine\n- [ ] bad {acton: y}\n").unwrap_err();
        assert_eq!(err.line, 4, "{err}");
        assert!(err.message.contains("unknown step marker `acton`"), "{err}");
        let err = parse("x.md", "# X\n- [] no space\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("x.md", "# X\n- [ ] open {action: y\n").unwrap_err();
        assert!(err.message.contains("not closed"), "{err}");
        let err = parse("x.md", "# Only a title\n").unwrap_err();
        assert!(err.message.contains("no steps"));
    }

    #[test]
    fn toml_runbooks_and_their_errors() {
        let text = "title = \"T\"\n[[phase]]\ntitle = \"Assess\"\ndeadline = \"15m\"\n[[phase.step]]\ntext = \"Redeploy\"\naction = \"redeploy api\"\n[[phase.step]]\ntext = \"Severity\"\nkind = \"severity\"\n";
        let runbook = parse("t.toml", text).unwrap();
        assert_eq!(runbook.phases[0].deadline, Some(Duration::from_secs(900)));
        assert_eq!(runbook.phases[0].steps[0].kind, StepKind::Action("redeploy api".into()));
        assert_eq!(runbook.phases[0].steps[1].kind, StepKind::Severity);
        let err = parse(
            "t.toml",
            "title = \"T\"\n[[phase]]\ntitle = \"A\"\n[[phase.step]]\ntext = \"x\"\nkind = \"magic\"\n",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (6, 8), "{err}");
        assert!(err.message.contains("unknown step kind `magic`"));
        let err = parse("t.toml", "title = \"T\"\n[[phase]]\ntitel = \"A\"\n").unwrap_err();
        assert_eq!(err.line, 3, "{err}");
    }

    #[test]
    fn every_built_in_runbook_parses() {
        for (file, text) in BUILT_IN {
            let runbook = parse(file, text).unwrap_or_else(|err| panic!("{err}"));
            assert!(runbook.step_count() >= 4, "{file}");
        }
        assert_eq!(built_in().len(), BUILT_IN.len());
    }
}
