//! One series of a `promql` check over time, for the detail pane's sparkline:
//! a single `query_range` asked when a row is looked at, never for every
//! series on every refresh.

use crate::engine::prometheus::{self, Series};
use crate::engine::{Engine, EngineError, Labels, Problem};
use std::time::Duration;

/// Points a sparkline is drawn from (one per step over the window).
pub const POINTS: u32 = 120;

/// The window a series row's sparkline covers: as many check intervals as the
/// latency sparkline holds runs, at least 10 minutes and at most a day.
pub fn window(every: Duration) -> Duration {
    (every * POINTS).clamp(Duration::from_secs(600), Duration::from_secs(86_400))
}

/// The step between two points of [`window`].
pub fn step(window: Duration) -> Duration {
    (window / POINTS).max(Duration::from_secs(1))
}

/// `promql` narrowed to the one series with `labels`: the expression `and on(...)` a
/// vector made of those labels, so the engine sends back that series alone.
/// `None` when a label name cannot be written in PromQL's `on(...)`.
pub fn narrowed(promql: &str, labels: &Labels) -> Option<String> {
    let keys: Vec<&String> = labels.keys().filter(|k| k.as_str() != "__name__").collect();
    if keys.is_empty() {
        return Some(promql.to_string());
    }
    if !keys.iter().all(|k| is_label_name(k)) {
        return None;
    }
    let mut selector = "vector(1)".to_string();
    for key in &keys {
        let value = labels.get(*key).map_or("", String::as_str);
        // label_replace expands `$1` in its replacement; `$$` is a plain dollar.
        selector = format!("label_replace({selector}, \"{key}\", {}, \"\", \"\")", quoted(&value.replace('$', "$$")));
    }
    let on: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    Some(format!("({promql}) and on({}) {selector}", on.join(", ")))
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A PromQL string literal.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The series with `labels` of `promql` over the `window` that ends at `end`
/// (seconds since the epoch): its points, oldest first (NaN and infinities kept).
pub async fn range(
    engine: &Engine,
    promql: &str,
    labels: &Labels,
    end: f64,
    window: Duration,
) -> Result<Vec<(f64, f64)>, EngineError> {
    let query = narrowed(promql, labels);
    let start = end - window.as_secs_f64();
    let step = step(window).as_secs_f64();
    let found = prometheus::query_range(engine, query.as_deref().unwrap_or(promql), start, end, step).await?;
    let same = |series: &Series| {
        let mine = labels.iter().filter(|(k, _)| k.as_str() != "__name__");
        let theirs = series.labels.iter().filter(|(k, _)| k.as_str() != "__name__");
        mine.eq(theirs)
    };
    match found.iter().position(same) {
        Some(index) => Ok(found.into_iter().nth(index).map(|s| s.points).unwrap_or_default()),
        // The series has no history in the window (it is new, or the query's labels moved on).
        None if found.is_empty() => Ok(Vec::new()),
        None => Err(EngineError {
            engine: engine.name().to_string(),
            problem: Problem::Api("the range query did not return this series".into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_narrowed_by_all_its_labels_but_its_name() {
        let labels: Labels = [("__name__", "x"), ("gpu", "0"), ("Hostname", "a\"b$1")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            narrowed("up", &labels).unwrap(),
            r#"(up) and on(Hostname, gpu) label_replace(label_replace(vector(1), "Hostname", "a\"b$$1", "", ""), "gpu", "0", "", "")"#
        );
        assert_eq!(narrowed("vector(1)", &Labels::new()).unwrap(), "vector(1)");
        let odd: Labels = [("a.b".to_string(), "1".to_string())].into_iter().collect();
        assert_eq!(narrowed("up", &odd), None);
        assert_eq!(window(Duration::from_secs(30)), Duration::from_secs(3600));
        assert_eq!(step(Duration::from_secs(3600)), Duration::from_secs(30));
        assert_eq!(window(Duration::from_secs(1)), Duration::from_secs(600));
    }
}
