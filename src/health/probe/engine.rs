//! Checks that ask a Prometheus-compatible engine: `promql` (one result per
//! returned series, each judged by the check's conditions on `value`) and
//! `targets` (one result per scrape target that is down, with its last error).
//!
//! One request per run, whatever the number of series. An engine that cannot
//! be read (down, refusing the credentials, slow, answering something other than
//! its API's JSON) makes the check unknown, with the engine named.

use super::failure_level;
use crate::engine::prometheus::{self, naming_labels, row_name};
use crate::engine::{EngineError, Labels, format_value};
use crate::health::condition::{Observation, Value, format_latency};
use crate::health::outcome::{Level, Outcome, SeriesResult};
use crate::health::spec::{CheckSpec, EngineCheck};
use crate::util::sanitize::sanitize_str;
use std::time::{Duration, Instant};

/// Runs the check once, within its timeout (by default the engine's own).
pub async fn run(spec: &CheckSpec, check: &EngineCheck) -> Outcome {
    let started = Instant::now();
    let work = async {
        match &spec.target {
            crate::config::CheckTarget::Targets(_) => targets(spec, check).await,
            crate::config::CheckTarget::Promql(query) => promql(spec, check, query).await,
            other => Ok(Outcome::new(Level::Unknown, format!("a {} check does not ask an engine", other.kind()))),
        }
    };
    let mut outcome = match tokio::time::timeout(spec.timeout, work).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(err)) => Outcome::new(Level::Unknown, err.to_string()),
        Err(_) => Outcome::new(
            Level::Unknown,
            format!("engine `{}`: no answer within {}", check.engine.name(), format_latency(spec.timeout)),
        ),
    };
    outcome.latency.get_or_insert(started.elapsed());
    outcome
}

async fn promql(spec: &CheckSpec, check: &EngineCheck, query: &str) -> Result<Outcome, EngineError> {
    let started = Instant::now();
    let samples = prometheus::query(&check.engine, query, None).await?;
    let latency = started.elapsed();
    let keys = naming_labels(samples.iter().map(|s| &s.labels));
    let mut series: Vec<SeriesResult> = samples
        .into_iter()
        .map(|sample| {
            let names = (row_name(&spec.name, &sample.labels, &keys), short_name(&spec.name, &sample.labels, &keys));
            judge_series(spec, names, sample.labels, sample.value, latency)
        })
        .collect();
    series.sort_by(|a, b| a.name.cmp(&b.name));
    if series.is_empty() {
        let mut outcome = if check.expect_series {
            Outcome::new(failure_level(spec.severity), "no series (expect_series = true)")
        } else {
            Outcome::new(Level::Ok, "no series")
        };
        outcome.latency = Some(latency);
        return Ok(outcome);
    }
    Ok(summarise(series, "series", latency))
}

/// Judges one series' value against the check's conditions.
fn judge_series(
    spec: &CheckSpec,
    (name, short): (String, String),
    labels: Labels,
    value: f64,
    latency: Duration,
) -> SeriesResult {
    let observation =
        Observation { value: Some(Value::Number(value)), latency: Some(latency), ..Observation::default() };
    let mut failed = Vec::new();
    let mut messages = Vec::new();
    for (index, condition) in spec.conditions.iter().enumerate() {
        if let Err(failure) = condition.evaluate(&observation) {
            failed.push(index);
            messages.push(failure.message);
        }
    }
    let (level, message) = if messages.is_empty() {
        (Level::Ok, format!("value {}", format_value(value)))
    } else {
        (failure_level(spec.severity), sanitize_str(&messages.join("; ")))
    };
    SeriesResult {
        name: sanitize_str(&name),
        short: sanitize_str(&short),
        labels,
        value: Some(value),
        level,
        message,
        failed,
    }
}

/// `name{v1,v2}`: the row's name with label values only, for tables too narrow for the keys.
fn short_name(name: &str, labels: &Labels, keys: &[String]) -> String {
    let values: Vec<&str> = keys.iter().filter_map(|key| labels.get(key).map(String::as_str)).collect();
    if values.is_empty() { name.to_string() } else { format!("{name}{{{}}}", values.join(",")) }
}

/// The check as a whole: the worst of its series, and a message naming the worst one.
fn summarise(series: Vec<SeriesResult>, noun: &str, latency: Duration) -> Outcome {
    let worst = series.iter().map(|s| s.level).max().unwrap_or(Level::Ok);
    let failing = series.iter().filter(|s| s.level != Level::Ok).count();
    let message = match series.iter().find(|s| s.level == worst) {
        Some(only) if series.len() == 1 => only.message.clone(),
        Some(first) if failing > 0 => {
            format!("{failing} of {} {noun} failing; {}: {}", series.len(), first.name, first.message)
        }
        _ => format!("{} {noun} ok", series.len()),
    };
    let mut outcome = Outcome::new(worst, message);
    let mut failed: Vec<usize> = series.iter().flat_map(|s| s.failed.iter().copied()).collect();
    failed.sort_unstable();
    failed.dedup();
    outcome.failed = failed;
    outcome.latency = Some(latency);
    outcome.series = series;
    outcome
}

async fn targets(spec: &CheckSpec, check: &EngineCheck) -> Result<Outcome, EngineError> {
    let started = Instant::now();
    let all = prometheus::targets(&check.engine).await?;
    let latency = started.elapsed();
    let down: Vec<&prometheus::Target> = all.iter().filter(|t| t.is_down()).collect();
    let mut keys = vec!["job".to_string(), "instance".to_string()];
    for key in naming_labels(down.iter().map(|t| &t.labels)) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let level = failure_level(spec.severity);
    let mut series: Vec<SeriesResult> = down
        .iter()
        .map(|target| {
            let mut labels = target.labels.clone();
            if !labels.contains_key("instance") {
                labels.insert("instance".into(), target.scrape_url.clone());
            }
            if !labels.contains_key("job") {
                labels.insert("job".into(), target.scrape_pool.clone());
            }
            let error = target.last_error.trim();
            SeriesResult {
                name: sanitize_str(&row_name(&spec.name, &labels, &keys)),
                short: sanitize_str(&short_name(&spec.name, &labels, &keys)),
                message: if error.is_empty() { "down".into() } else { sanitize_str(&format!("down: {error}")) },
                labels,
                value: None,
                level,
                failed: Vec::new(),
            }
        })
        .collect();
    series.sort_by(|a, b| a.name.cmp(&b.name));
    // Only latency means anything for a targets check; it judges the check as a whole.
    let observation = Observation { latency: Some(latency), ..Observation::default() };
    let mut failed = Vec::new();
    let mut messages = Vec::new();
    for (index, condition) in spec.conditions.iter().enumerate() {
        if let Err(failure) = condition.evaluate(&observation) {
            failed.push(index);
            messages.push(failure.message);
        }
    }
    let up = all.iter().filter(|t| t.health == "up").count();
    let unscraped = all.len() - up - down.len();
    let mut outcome = if series.is_empty() {
        let extra = if unscraped > 0 { format!(", {unscraped} not scraped yet") } else { String::new() };
        let mut outcome = Outcome::new(Level::Ok, format!("{up} target{} up{extra}", plural(up)));
        outcome.latency = Some(latency);
        outcome
    } else {
        let total = all.len();
        let mut outcome = summarise(series, "targets", latency);
        if let Some(first) = outcome.series.first() {
            outcome.message =
                format!("{} of {total} targets down; {}: {}", outcome.series.len(), first.name, first.message);
        }
        outcome
    };
    if !messages.is_empty() {
        outcome.level = outcome.level.max(level);
        outcome.message = sanitize_str(&format!("{}; {}", messages.join("; "), outcome.message));
        outcome.failed = failed;
    }
    Ok(outcome)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
