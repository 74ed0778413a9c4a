//! The alerts of every Alertmanager as firstwatch shows them: grouped as
//! Alertmanager groups them, worst first, severity read from the `severity`
//! label. UI-free: `firstwatch alerts` and the health tab's alerts section both
//! read through here, so they agree on order, severity and exit code.
//!
//! Every string that arrives from an engine is sanitised once, on the way in
//! ([`AlertView::from_api`]); the label values as sent are kept aside only when
//! sanitising changed them, so a silence can still match them exactly.
//!
//! Severity (case-insensitive):
//!
//! | `severity` label | counts as |
//! |---|---|
//! | `critical`, `crit`, `page`, `error`, `fatal`, `emergency`, `alert` | critical |
//! | `warning`, `warn` | warning |
//! | `info`, `informational`, `notice`, `none` | info (shown, never alarming) |
//! | missing, or any other value | no severity: counts as a warning |

use super::alertmanager::{self, Alert, AlertGroup};
use super::{Engine, Labels};
use crate::config::{Config, EngineKind};
use crate::util::sanitize::sanitize_str;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;

/// What an alert's `severity` label means to firstwatch; ordered worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    /// No `severity` label, or a value firstwatch does not know: treated as a warning.
    None,
    Info,
}

impl Severity {
    pub fn from_label(label: Option<&str>) -> Severity {
        let Some(label) = label else { return Severity::None };
        match label.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" | "page" | "error" | "fatal" | "emergency" | "alert" => Severity::Critical,
            "warning" | "warn" => Severity::Warning,
            "info" | "informational" | "notice" | "none" => Severity::Info,
            _ => Severity::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::None => "none",
            Severity::Info => "info",
        }
    }

    /// The shape drawn for it, so it reads without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Severity::Critical => "✗",
            Severity::Warning | Severity::None => "▲",
            Severity::Info => "i",
        }
    }

    /// Whether an active alert of this severity makes `firstwatch alerts` exit non-zero.
    pub fn alarms(self) -> bool {
        self != Severity::Info
    }

    /// The incident level `i` suggests for an alert of this severity.
    pub fn incident_severity(self) -> crate::incident::record::Severity {
        use crate::incident::record::Severity as P;
        match self {
            // P0 (complete outage) is a person's call, never an alert's.
            Severity::Critical => P::P1,
            Severity::Warning | Severity::None => P::P2,
            Severity::Info => P::P3,
        }
    }
}

/// Alertmanager's state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Active,
    /// Received, not yet through silences and inhibitions (also any state this version does not know).
    Unprocessed,
    /// Silenced or inhibited.
    Suppressed,
}

impl State {
    pub fn parse(text: &str) -> State {
        match text {
            "active" => State::Active,
            "suppressed" => State::Suppressed,
            _ => State::Unprocessed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Unprocessed => "unprocessed",
            State::Suppressed => "suppressed",
        }
    }
}

/// One alert of one Alertmanager, every string already safe to draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertView {
    /// The engine's name in the config.
    pub engine: String,
    /// The `alertname` label.
    pub name: String,
    pub severity: Severity,
    /// The `severity` label as written (sanitised), if there is one.
    pub severity_label: Option<String>,
    pub state: State,
    pub labels: Labels,
    /// Annotation values keep their line breaks; each line is sanitised.
    pub annotations: Labels,
    pub starts_at: DateTime<Utc>,
    pub fingerprint: String,
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
    pub generator_url: Option<String>,
    pub receivers: Vec<String>,
    /// The labels exactly as the engine sent them, kept only when sanitising changed one.
    #[serde(skip)]
    raw_labels: Option<Labels>,
}

impl AlertView {
    pub fn from_api(engine: &str, alert: &Alert) -> AlertView {
        let labels: Labels = alert.labels.iter().map(|(k, v)| (sanitize_str(k), sanitize_str(v))).collect();
        let annotations = alert.annotations.iter().map(|(k, v)| (sanitize_str(k), keep_lines(v))).collect();
        let raw_labels = (labels != alert.labels).then(|| alert.labels.clone());
        let severity_label = labels.get("severity").cloned();
        AlertView {
            engine: sanitize_str(engine),
            name: labels.get("alertname").cloned().unwrap_or_default(),
            severity: Severity::from_label(alert.severity()),
            severity_label,
            state: State::parse(&alert.status.state),
            annotations,
            starts_at: alert.starts_at,
            fingerprint: sanitize_str(&alert.fingerprint),
            silenced_by: alert.status.silenced_by.iter().map(|s| sanitize_str(s)).collect(),
            inhibited_by: alert.status.inhibited_by.iter().map(|s| sanitize_str(s)).collect(),
            generator_url: alert.generator_url.as_deref().map(sanitize_str),
            receivers: alert.receivers.iter().map(|r| sanitize_str(&r.name)).collect(),
            labels,
            raw_labels,
        }
    }

    /// The labels as the engine sent them, for matchers that must match them exactly.
    pub fn raw_labels(&self) -> &Labels {
        self.raw_labels.as_ref().unwrap_or(&self.labels)
    }

    /// Whether it is active (neither silenced, inhibited nor unprocessed) and alarming.
    pub fn alarming(&self) -> bool {
        self.state == State::Active && self.severity.alarms()
    }

    /// The first line of its `summary` annotation (else `description`, `message`), flattened.
    pub fn summary(&self) -> String {
        ["summary", "description", "message"]
            .iter()
            .find_map(|key| self.annotations.get(*key).filter(|v| !v.trim().is_empty()))
            .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// What may name its runbook, best first: the `runbook` annotation, then the last
    /// path segment of `runbook` or `runbook_url` (without an extension such as `.md`).
    pub fn runbook_hints(&self) -> Vec<String> {
        let mut hints = Vec::new();
        for key in ["runbook", "runbook_url"] {
            let Some(value) = self.annotations.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) else { continue };
            if key == "runbook" {
                hints.push(value.to_string());
            }
            if let Some(segment) = last_path_segment(value) {
                hints.push(segment.to_string());
                if let Some((stem, _)) = segment.rsplit_once('.').filter(|(stem, _)| !stem.is_empty()) {
                    hints.push(stem.to_string());
                }
            }
        }
        hints.dedup();
        hints
    }

    /// Position in a list ordered worst first: active before the rest, then by
    /// severity, then the oldest first, then by name.
    fn rank(&self) -> (bool, Severity, DateTime<Utc>, &str) {
        (self.state != State::Active, self.severity, self.starts_at, &self.name)
    }
}

/// `https://wiki/runbooks/api-down?x#y` → `api-down`.
fn last_path_segment(value: &str) -> Option<&str> {
    let path = value.split(['?', '#']).next().unwrap_or(value);
    let path = path.split_once("://").map_or(path, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    path.trim_end_matches('/').rsplit('/').next().filter(|s| !s.is_empty() && *s != value.trim())
}

/// Sanitises each line on its own, so multi-line annotations keep their shape.
fn keep_lines(text: &str) -> String {
    text.lines().map(|line| sanitize_str(line.trim_end_matches('\r'))).collect::<Vec<_>>().join("\n")
}

/// One notification group: its labels, its receiver and its alerts, worst first.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub engine: String,
    pub labels: Labels,
    pub receiver: String,
    pub alerts: Vec<Arc<AlertView>>,
}

impl GroupView {
    pub fn from_api(engine: &str, group: &AlertGroup) -> GroupView {
        let mut alerts: Vec<Arc<AlertView>> =
            group.alerts.iter().map(|alert| Arc::new(AlertView::from_api(engine, alert))).collect();
        alerts.sort_by(|a, b| a.rank().cmp(&b.rank()));
        GroupView {
            engine: sanitize_str(engine),
            labels: group.labels.iter().map(|(k, v)| (sanitize_str(k), sanitize_str(v))).collect(),
            receiver: sanitize_str(&group.receiver.name),
            alerts,
        }
    }

    /// `alertname="ApiDown", job="api"`, or `(all alerts)` for a group by nothing.
    pub fn labels_text(&self) -> String {
        if self.labels.is_empty() {
            return "(all alerts)".into();
        }
        self.labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect::<Vec<_>>().join(", ")
    }

    /// Where the group stands among others: its worst alert's place.
    fn rank(&self) -> (u8, &Labels) {
        (self.alerts.iter().map(|alert| place(alert.state, alert.severity)).min().unwrap_or(u8::MAX), &self.labels)
    }
}

/// Where an alert (or its group) stands in the list: active criticals, then
/// engines that could not be read (they may hide criticals), then the other
/// active alerts, then unprocessed, then suppressed ones.
fn place(state: State, severity: Severity) -> u8 {
    let severity = match severity {
        Severity::Critical => 0,
        Severity::Warning => 2,
        Severity::None => 3,
        Severity::Info => 4,
    };
    match state {
        State::Active => severity,
        State::Unprocessed => 10 + severity,
        State::Suppressed => 20 + severity,
    }
}

const UNREADABLE_PLACE: u8 = 1;

/// What one Alertmanager answered: its groups, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineAlerts {
    pub engine: String,
    pub read: Result<Vec<GroupView>, String>,
    /// When the answer (or the failure) came.
    pub at: DateTime<Utc>,
}

impl EngineAlerts {
    /// Every alert once (an alert routed to several groups appears in each).
    pub fn alerts(&self) -> Vec<&Arc<AlertView>> {
        let mut seen = std::collections::HashSet::new();
        let groups = self.read.as_deref().unwrap_or_default();
        groups.iter().flat_map(|g| &g.alerts).filter(|a| seen.insert(a.fingerprint.as_str())).collect()
    }
}

/// Reads one Alertmanager's groups, within its timeout.
pub async fn read(engine: &Engine) -> EngineAlerts {
    let read = match alertmanager::groups(engine).await {
        Ok(groups) => Ok(groups.iter().map(|group| GroupView::from_api(engine.name(), group)).collect()),
        Err(err) => Err(err.to_string()),
    };
    EngineAlerts { engine: sanitize_str(engine.name()), read, at: Utc::now() }
}

/// Reads every engine in parallel; each is bounded by its own timeout.
pub async fn read_all(engines: &[Arc<Engine>]) -> Vec<EngineAlerts> {
    futures::future::join_all(engines.iter().map(|engine| read(engine))).await
}

/// The Alertmanagers of the config (or the one named): those that could be built,
/// and, as unreadable results, those that could not (an unreadable CA file).
pub fn alertmanagers(config: &Config, name: Option<&str>) -> Result<(Vec<Arc<Engine>>, Vec<EngineAlerts>), String> {
    let wanted: Vec<_> = match name {
        Some(name) => match config.engines.iter().find(|e| e.name.get_ref() == name) {
            Some(engine) if engine.kind == EngineKind::Alertmanager => vec![engine],
            Some(engine) => {
                return Err(format!("engine `{name}` is {}, not alertmanager", engine.kind.as_str()));
            }
            None => {
                let known: Vec<&str> = config
                    .engines
                    .iter()
                    .filter(|e| e.kind == EngineKind::Alertmanager)
                    .map(|e| e.name.get_ref().as_str())
                    .collect();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                return Err(format!("no engine named `{name}`; alertmanager engines: {known}"));
            }
        },
        None => config.engines.iter().filter(|e| e.kind == EngineKind::Alertmanager).collect(),
    };
    if wanted.is_empty() {
        return Err("no alertmanager engine is configured; add one:\n  [[engine]]\n  name = \"am\"\n  \
                    kind = \"alertmanager\"\n  url = \"http://alertmanager:9093\""
            .into());
    }
    let mut built = Vec::new();
    let mut failed = Vec::new();
    for engine in wanted {
        match Engine::new(engine, config.base_dir()) {
            Ok(engine) => built.push(Arc::new(engine)),
            Err(problem) => failed.push(EngineAlerts {
                engine: sanitize_str(engine.name.get_ref()),
                read: Err(format!("engine `{}` cannot be used: {problem}", engine.name.get_ref())),
                at: Utc::now(),
            }),
        }
    }
    Ok((built, failed))
}

/// One entry of the alerts list, in display order.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    Group(&'a GroupView),
    /// An engine that could not be read, and why (its error names it).
    Unreadable {
        engine: &'a str,
        error: &'a str,
    },
}

/// Every group of every engine and every engine that could not be read, worst
/// first; ties keep the engines' config order.
pub fn entries(results: &[impl AsRef<EngineAlerts>]) -> Vec<Entry<'_>> {
    let mut ranked: Vec<(u8, usize, Entry)> = Vec::new();
    for (index, result) in results.iter().enumerate() {
        let result = result.as_ref();
        match &result.read {
            Ok(groups) => ranked.extend(groups.iter().map(|g| (g.rank().0, index, Entry::Group(g)))),
            Err(error) => ranked.push((UNREADABLE_PLACE, index, Entry::Unreadable { engine: &result.engine, error })),
        }
    }
    ranked.sort_by(|a, b| (a.0, a.1, labels_of(&a.2)).cmp(&(b.0, b.1, labels_of(&b.2))));
    ranked.into_iter().map(|(_, _, entry)| entry).collect()
}

fn labels_of<'a>(entry: &Entry<'a>) -> Option<&'a Labels> {
    match entry {
        Entry::Group(group) => Some(&group.labels),
        Entry::Unreadable { .. } => None,
    }
}

impl AsRef<EngineAlerts> for EngineAlerts {
    fn as_ref(&self) -> &EngineAlerts {
        self
    }
}

/// The exit code of `firstwatch alerts`, in the Nagios order of `firstwatch check`:
/// 2 a critical is active; else 3 an engine could not be read; else 1 an active
/// alert is a warning or has no severity; else 0 (info alerts and suppressed or
/// unprocessed ones never count).
pub fn exit_code(results: &[impl AsRef<EngineAlerts>]) -> u8 {
    let results: Vec<&EngineAlerts> = results.iter().map(AsRef::as_ref).collect();
    let worst =
        results.iter().flat_map(|r| r.alerts()).filter(|alert| alert.alarming()).map(|alert| alert.severity).min();
    let unreadable = results.iter().any(|r| r.read.is_err());
    match worst {
        Some(Severity::Critical) => 2,
        _ if unreadable => 3,
        Some(_) => 1,
        None => 0,
    }
}

/// How long ago, compactly: `45s`, `12m`, `3h12m`, `2d04h`.
pub fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - since).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d{:02}h", secs / 86400, secs % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::alertmanager::{AlertStatus, Receiver};
    use chrono::TimeZone;

    pub(crate) fn alert(name: &str, severity: Option<&str>, state: &str, minutes_ago: i64) -> Alert {
        let mut labels = Labels::from([("alertname".to_string(), name.to_string())]);
        if let Some(severity) = severity {
            labels.insert("severity".into(), severity.into());
        }
        Alert {
            fingerprint: format!("fp-{name}"),
            labels,
            annotations: Labels::from([("summary".to_string(), format!("{name} summary"))]),
            starts_at: now() - chrono::Duration::minutes(minutes_ago),
            ends_at: None,
            generator_url: None,
            status: AlertStatus { state: state.into(), silenced_by: Vec::new(), inhibited_by: Vec::new() },
            receivers: vec![Receiver { name: "team".into() }],
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 18, 0, 0).unwrap()
    }

    fn result(engine: &str, groups: Vec<Vec<Alert>>) -> EngineAlerts {
        let groups = groups
            .into_iter()
            .enumerate()
            .map(|(i, alerts)| {
                let group = AlertGroup {
                    labels: Labels::from([("group".to_string(), i.to_string())]),
                    receiver: Receiver { name: "team".into() },
                    alerts,
                };
                GroupView::from_api(engine, &group)
            })
            .collect();
        EngineAlerts { engine: engine.into(), read: Ok(groups), at: now() }
    }

    #[test]
    fn severity_labels_map_as_documented() {
        for (label, expected) in [
            (Some("critical"), Severity::Critical),
            (Some("PAGE"), Severity::Critical),
            (Some("error"), Severity::Critical),
            (Some("warning"), Severity::Warning),
            (Some("Warn"), Severity::Warning),
            (Some("info"), Severity::Info),
            (Some("none"), Severity::Info),
            (Some("major"), Severity::None),
            (None, Severity::None),
        ] {
            assert_eq!(Severity::from_label(label), expected, "{label:?}");
        }
    }

    #[test]
    fn exit_codes_count_only_active_alarming_alerts() {
        let warning = result("am", vec![vec![alert("Disk", Some("warning"), "active", 5)]]);
        let unset = result("am", vec![vec![alert("Odd", None, "active", 5)]]);
        let info = result("am", vec![vec![alert("Watchdog", Some("none"), "active", 5)]]);
        let silenced = result("am", vec![vec![alert("Down", Some("critical"), "suppressed", 5)]]);
        let critical = result("am", vec![vec![alert("Down", Some("critical"), "active", 5)]]);
        let down = EngineAlerts { engine: "am2".into(), read: Err("engine `am2`: unreachable".into()), at: now() };
        assert_eq!(exit_code(std::slice::from_ref(&info)), 0);
        assert_eq!(exit_code(std::slice::from_ref(&silenced)), 0, "a silenced critical does not count");
        assert_eq!(exit_code(std::slice::from_ref(&warning)), 1);
        assert_eq!(exit_code(&[unset]), 1, "no severity counts as a warning");
        assert_eq!(exit_code(std::slice::from_ref(&critical)), 2);
        assert_eq!(exit_code(&[warning.clone(), down.clone()]), 3, "unknown outranks warning");
        assert_eq!(exit_code(&[critical, down.clone()]), 2, "critical outranks unknown");
        assert_eq!(exit_code(&[silenced, down]), 3);
        assert_eq!(exit_code(&Vec::<EngineAlerts>::new()), 0);
    }

    #[test]
    fn groups_and_alerts_come_worst_first_with_unreadable_engines_after_criticals() {
        let am = result(
            "am",
            vec![
                vec![alert("Quiet", Some("info"), "active", 5)],
                vec![alert("Disk", Some("warning"), "active", 50), alert("Down", Some("critical"), "suppressed", 9)],
                vec![alert("Late", Some("warning"), "active", 1), alert("Api", Some("critical"), "active", 2)],
            ],
        );
        let down = EngineAlerts { engine: "am2".into(), read: Err("engine `am2`: unreachable".into()), at: now() };
        let results = vec![am, down];
        let order: Vec<String> = entries(&results)
            .iter()
            .map(|entry| match entry {
                Entry::Group(group) => group.alerts.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join("+"),
                Entry::Unreadable { engine, .. } => format!("?{engine}"),
            })
            .collect();
        assert_eq!(order, ["Api+Late", "?am2", "Disk+Down", "Quiet"]);
    }

    #[test]
    fn hostile_text_is_sanitised_and_the_raw_labels_kept_for_matching() {
        let mut hostile = alert("Evil\u{1b}]52;c;aGk=\u{7}", Some("critical"), "active", 1);
        hostile.annotations.insert("description".into(), "line one\u{1b}[2J\nline two".into());
        let view = AlertView::from_api("am", &hostile);
        assert_eq!(view.name, "Evil");
        assert_eq!(view.annotations["description"], "line one\nline two");
        assert_eq!(view.raw_labels()["alertname"], "Evil\u{1b}]52;c;aGk=\u{7}");
        let plain = AlertView::from_api("am", &alert("Fine", None, "active", 1));
        assert!(plain.raw_labels.is_none(), "nothing kept twice when nothing changed");
    }

    #[test]
    fn runbook_hints_take_the_annotation_and_a_urls_last_segment() {
        let mut with_runbook = alert("A", None, "active", 1);
        with_runbook.annotations.insert("runbook".into(), "Service down".into());
        assert_eq!(AlertView::from_api("am", &with_runbook).runbook_hints(), ["Service down"]);
        let mut with_url = alert("B", None, "active", 1);
        with_url
            .annotations
            .insert("runbook_url".into(), "https://wiki.example/runbooks/service-down.md?x=1#top".into());
        assert_eq!(AlertView::from_api("am", &with_url).runbook_hints(), ["service-down.md", "service-down"]);
        let mut bare_host = alert("C", None, "active", 1);
        bare_host.annotations.insert("runbook_url".into(), "https://wiki.example/".into());
        assert!(AlertView::from_api("am", &bare_host).runbook_hints().is_empty());
    }

    #[test]
    fn ages_are_compact() {
        let at = now();
        assert_eq!(age(at - chrono::Duration::seconds(45), at), "45s");
        assert_eq!(age(at - chrono::Duration::minutes(12), at), "12m");
        assert_eq!(age(at - chrono::Duration::minutes(192), at), "3h12m");
        assert_eq!(age(at + chrono::Duration::minutes(1), at), "0s");
    }
}
