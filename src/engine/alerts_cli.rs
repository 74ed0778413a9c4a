//! `firstwatch alerts`: the alerts of every Alertmanager, headless, for cron,
//! CI and Nagios. The health tab's alerts section, as a table or JSON.

use super::alerts::{self, AlertView, EngineAlerts, Entry, GroupView};
use crate::cli::Global;
use crate::config::Config;
use crate::util::width::{truncate, width};
use chrono::{DateTime, Utc};
use std::process::ExitCode;

/// Exit codes, the severity mapping and what counts, under `firstwatch alerts --help`.
const AFTER_HELP: &str = "\
Every Alertmanager [[engine]] (or the one named) is read in parallel, each
within its own timeout; one that cannot be read is named on stderr and the
others still print. Alerts are listed as Alertmanager groups them, worst first.

Severity comes from the alert's `severity` label (any case):
  critical, crit, page, error, fatal, emergency, alert   critical
  warning, warn                                          warning
  info, informational, notice, none                      info (never counts)
  missing or anything else                               no severity: counts as a warning
Only active alerts count: suppressed (silenced or inhibited) and unprocessed
ones are listed but never change the exit code.

Exit codes follow the Nagios order of `firstwatch check`:
  0  nothing active (or only info alerts)
  1  the worst active alert is a warning or has no severity
  2  a critical alert is active (also: the config could not be loaded)
  3  an engine could not be read, --engine names no Alertmanager, or none is configured
Critical outranks could-not-read, which outranks warning.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct AlertsArgs {
    /// Read only this Alertmanager engine (its `name` in the config).
    #[arg(long, value_name = "NAME")]
    pub engine: Option<String>,
    /// Print a JSON array, one object per alert: name, severity (critical|warning|info|none),
    /// severity_label, state (active|suppressed|unprocessed), labels, annotations, starts_at,
    /// fingerprint, engine, silenced_by, inhibited_by, generator_url, receivers, group.
    #[arg(long)]
    pub json: bool,
}

pub const EXIT_UNREADABLE: u8 = 3;

pub fn run(config: Config, args: AlertsArgs, _global: &Global) -> ExitCode {
    let (engines, unbuilt) = match alerts::alertmanagers(&config, args.engine.as_deref()) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("firstwatch alerts: {message}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("firstwatch alerts: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let mut results = unbuilt;
    results.extend(runtime.block_on(alerts::read_all(&engines)));
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    for result in &results {
        if let Err(error) = &result.read {
            eprintln!("firstwatch alerts: {error}");
        }
    }
    if args.json {
        println!("{}", to_json(&results));
    } else {
        print!("{}", to_table(&results, Utc::now()));
    }
    ExitCode::from(alerts::exit_code(&results))
}

/// One object per alert (an alert in several groups once, with its first group), worst first.
pub fn to_json(results: &[EngineAlerts]) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::new();
    for entry in alerts::entries(results) {
        let Entry::Group(group) = entry else { continue };
        for alert in &group.alerts {
            if seen.insert((alert.engine.as_str(), alert.fingerprint.as_str())) {
                rows.push(alert_json(alert, group));
            }
        }
    }
    serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into())
}

fn alert_json(alert: &AlertView, group: &GroupView) -> serde_json::Value {
    serde_json::json!({
        "name": alert.name,
        "severity": alert.severity,
        "severity_label": alert.severity_label,
        "state": alert.state,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at.to_rfc3339(),
        "fingerprint": alert.fingerprint,
        "engine": alert.engine,
        "silenced_by": alert.silenced_by,
        "inhibited_by": alert.inhibited_by,
        "generator_url": alert.generator_url,
        "receivers": alert.receivers,
        "group": group.labels,
    })
}

/// Groups as headings, their alerts beneath, worst first:
///
/// ```text
/// am › alertname="ApiDown", job="api" (team-api)
///   ✗ critical  ApiDown   active       12m  api is down
/// ```
pub fn to_table(results: &[EngineAlerts], now: DateTime<Utc>) -> String {
    let entries = alerts::entries(results);
    let all = || entries.iter().filter_map(|e| if let Entry::Group(g) = e { Some(g) } else { None });
    let name_width = all().flat_map(|g| &g.alerts).map(|a| width(&a.name)).max().unwrap_or(4).clamp(4, 32);
    let mut out = String::new();
    let total = results.iter().map(|r| r.alerts().len()).sum::<usize>();
    let readable = results.iter().filter(|r| r.read.is_ok()).count();
    if total == 0 && readable > 0 {
        let names: Vec<&str> = results.iter().filter(|r| r.read.is_ok()).map(|r| r.engine.as_str()).collect();
        out.push_str(&format!("no alerts ({})\n", names.join(", ")));
    }
    for entry in &entries {
        match entry {
            Entry::Group(group) => {
                out.push_str(&format!("{} › {} ({})\n", group.engine, group.labels_text(), group.receiver));
                for alert in &group.alerts {
                    out.push_str(&format!("  {}\n", row(alert, name_width, now)));
                }
            }
            Entry::Unreadable { engine, error } => {
                out.push_str(&format!("{engine} › ? unknown: {error}\n"));
            }
        }
    }
    out
}

/// `✗ critical  ApiDown   active       12m  api is down`.
fn row(alert: &AlertView, name_width: usize, now: DateTime<Utc>) -> String {
    let severity = alert.severity_label.as_deref().map_or("-".to_string(), |label| truncate(label, 8));
    let mut summary = alert.summary();
    if !alert.silenced_by.is_empty() {
        summary.push_str(&format!(" (silenced by {})", alert.silenced_by.join(", ")));
    } else if !alert.inhibited_by.is_empty() {
        summary.push_str(&format!(" (inhibited by {})", alert.inhibited_by.join(", ")));
    }
    format!(
        "{} {}  {}  {:<11} {:>6}  {}",
        alert.severity.symbol(),
        pad(&severity, 8),
        pad(&truncate(&alert.name, name_width), name_width),
        alert.state.as_str(),
        alerts::age(alert.starts_at, now),
        summary
    )
    .trim_end()
    .to_string()
}

/// `text` padded with spaces to `columns` terminal columns.
fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::alertmanager::{Alert, AlertGroup, AlertStatus, Receiver};
    use crate::engine::{Labels, alerts::GroupView};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 18, 0, 0).unwrap()
    }

    fn alert(name: &str, severity: &str, state: &str, minutes_ago: i64, silenced_by: &[&str]) -> Alert {
        Alert {
            fingerprint: format!("fp-{name}"),
            labels: Labels::from([("alertname".into(), name.into()), ("severity".into(), severity.into())]),
            annotations: Labels::from([("summary".into(), format!("{name} is\n  down"))]),
            starts_at: now() - chrono::Duration::minutes(minutes_ago),
            ends_at: None,
            generator_url: Some("http://prom/graph".into()),
            status: AlertStatus {
                state: state.into(),
                silenced_by: silenced_by.iter().map(|s| s.to_string()).collect(),
                inhibited_by: Vec::new(),
            },
            receivers: vec![Receiver { name: "team".into() }],
        }
    }

    fn results() -> Vec<EngineAlerts> {
        let api = AlertGroup {
            labels: Labels::from([("job".into(), "api".into())]),
            receiver: Receiver { name: "team-api".into() },
            alerts: vec![
                alert("DiskFull", "warning", "suppressed", 125, &["3b1a"]),
                alert("ApiDown", "critical", "active", 12, &[]),
            ],
        };
        // The same alert routed to a second group.
        let copy = AlertGroup {
            labels: Labels::from([("team".into(), "sre".into())]),
            receiver: Receiver { name: "all".into() },
            alerts: vec![alert("ApiDown", "critical", "active", 12, &[])],
        };
        vec![
            EngineAlerts {
                engine: "am".into(),
                read: Ok(vec![GroupView::from_api("am", &api), GroupView::from_api("am", &copy)]),
                at: now(),
            },
            EngineAlerts { engine: "am-eu".into(), read: Err("engine `am-eu`: unreachable".into()), at: now() },
        ]
    }

    #[test]
    fn the_table_groups_alerts_worst_first_and_names_an_unreadable_engine() {
        let table = to_table(&results(), now());
        let expected = "\
am › job=\"api\" (team-api)
  ✗ critical  ApiDown   active         12m  ApiDown is down
  ▲ warning   DiskFull  suppressed   2h05m  DiskFull is down (silenced by 3b1a)
am › team=\"sre\" (all)
  ✗ critical  ApiDown   active         12m  ApiDown is down
am-eu › ? unknown: engine `am-eu`: unreachable
";
        assert_eq!(table, expected);
    }

    #[test]
    fn json_lists_each_alert_once_with_every_field() {
        let json: Vec<serde_json::Value> = serde_json::from_str(&to_json(&results())).unwrap();
        assert_eq!(json.len(), 2, "{json:?}");
        let first = &json[0];
        assert_eq!(first["name"], "ApiDown");
        assert_eq!(first["severity"], "critical");
        assert_eq!(first["state"], "active");
        assert_eq!(first["engine"], "am");
        assert_eq!(first["fingerprint"], "fp-ApiDown");
        assert_eq!(first["labels"]["severity"], "critical");
        assert_eq!(first["annotations"]["summary"], "ApiDown is\n  down");
        assert_eq!(first["starts_at"], "2026-12-05T17:48:00+00:00");
        assert_eq!(first["group"]["job"], "api");
        assert_eq!(json[1]["silenced_by"][0], "3b1a");
        assert_eq!(json[1]["state"], "suppressed");
    }
}
