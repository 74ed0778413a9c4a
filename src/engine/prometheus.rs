//! The Prometheus HTTP API (`/api/v1/...`), as Prometheus, Thanos, Mimir and
//! VictoriaMetrics all serve it.

use super::Labels;
use super::client::{Engine, EngineError, Problem};
use super::value::parse_value;
use serde::Deserialize;

/// One series' value at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
    /// Seconds since the epoch.
    pub at: f64,
}

/// One series' value at one instant, with only the labels `M` reads: the
/// others are skipped as they are parsed, which keeps a fleet-wide answer small.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedSample<M> {
    pub labels: M,
    pub value: f64,
}

/// One series over a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(f64, f64)>,
}

/// A scrape target as `/api/v1/targets` reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub scrape_pool: String,
    #[serde(default)]
    pub scrape_url: String,
    /// "up", "down" or "unknown".
    pub health: String,
    #[serde(default)]
    pub last_error: String,
    #[serde(default)]
    pub last_scrape: Option<String>,
}

impl Target {
    pub fn is_down(&self) -> bool {
        self.health == "down"
    }

    /// `job/instance`, how people name a target.
    pub fn name(&self) -> String {
        let job = self.labels.get("job").map_or(self.scrape_pool.as_str(), String::as_str);
        match self.labels.get("instance") {
            Some(instance) => format!("{job}/{instance}"),
            None => format!("{job}/{}", self.scrape_url),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RuleGroup {
    pub name: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub query: String,
    /// Alerting rules: "inactive", "pending" or "firing".
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// An alert as Prometheus itself holds it (pending ones included, unlike Alertmanager).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleAlert {
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    pub state: String,
    #[serde(default)]
    pub active_at: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    data: Option<T>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Vector(Vec<RawSample>),
    Matrix(Vec<RawSeries>),
    Scalar(RawPoint),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct RawSample {
    #[serde(default)]
    metric: Labels,
    /// Absent for native histograms, which a check cannot compare.
    #[serde(default)]
    value: Option<RawPoint>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum TypedData<'a, M> {
    Vector(#[serde(borrow)] Vec<TypedRaw<'a, M>>),
    Matrix(serde::de::IgnoredAny),
    Scalar(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct TypedRaw<'a, M> {
    metric: M,
    #[serde(default, borrow)]
    value: Option<BorrowedPoint<'a>>,
}

/// `[time, "value"]` with the value borrowed from the answer.
#[derive(Deserialize)]
struct BorrowedPoint<'a>(#[allow(dead_code)] f64, #[serde(borrow)] std::borrow::Cow<'a, str>);

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    values: Vec<RawPoint>,
}

#[derive(Deserialize)]
struct RawPoint(f64, String);

#[derive(Deserialize)]
struct TargetsData {
    #[serde(rename = "activeTargets", default)]
    active: Vec<Target>,
}

#[derive(Deserialize)]
struct RulesData {
    #[serde(default)]
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct AlertsData {
    #[serde(default)]
    alerts: Vec<RuleAlert>,
}

/// Evaluates `promql` now (or at `at`, seconds since the epoch): one sample per series.
pub async fn query(engine: &Engine, promql: &str, at: Option<f64>) -> Result<Vec<Sample>, EngineError> {
    let time = at.map(|t| format!("{t:.3}"));
    let mut params = vec![("query", promql)];
    if let Some(time) = &time {
        params.push(("time", time));
    }
    let data: QueryData = unwrap(engine, engine.get("/api/v1/query", &params).await?)?;
    let samples = match data {
        QueryData::Vector(raw) => {
            check_series(engine, raw.len())?;
            raw.into_iter()
                .filter_map(|s| {
                    let RawPoint(at, value) = s.value?;
                    Some(Sample { labels: s.metric, value: parse_value(&value)?, at })
                })
                .collect()
        }
        QueryData::Scalar(RawPoint(at, value)) => {
            vec![Sample { labels: Labels::new(), value: parse_value(&value).unwrap_or(f64::NAN), at }]
        }
        QueryData::Matrix(_) | QueryData::String(_) => {
            return Err(engine.error(Problem::Api(
                "the query must give an instant vector or a scalar, not a range or a string".into(),
            )));
        }
    };
    Ok(samples)
}

/// An instant query's answer as it came, to be decoded by `vector` with labels
/// borrowed from it: a fleet-wide answer then costs no allocation per label.
pub struct Answer {
    bytes: Vec<u8>,
    content_type: String,
}

impl Answer {
    /// A recorded answer body (to replay one).
    pub fn recorded(bytes: Vec<u8>) -> Answer {
        Answer { bytes, content_type: "application/json".into() }
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The instant vector, keeping of each series only the labels `M` reads (the
    /// others are skipped unparsed); samples whose value is not a number are left out.
    pub fn vector<'a, M: Deserialize<'a>>(&'a self, max_series: usize) -> Result<Vec<TypedSample<M>>, Problem> {
        let envelope: Envelope<TypedData<'a, M>> = serde_json::from_slice(&self.bytes)
            .map_err(|err| super::client::not_json(&self.bytes, &self.content_type, &err))?;
        if envelope.status != "success" {
            let message = envelope.error.unwrap_or_else(|| format!("status {}", envelope.status));
            return Err(Problem::Api(crate::util::sanitize::sanitize_str(&message)));
        }
        match envelope.data.ok_or_else(|| Problem::Api("a successful answer without data".into()))? {
            TypedData::Vector(raw) => {
                if raw.len() > max_series {
                    return Err(Problem::TooManySeries { found: raw.len(), limit: max_series });
                }
                Ok(raw
                    .into_iter()
                    .filter_map(|s| {
                        let value = parse_value(&s.value?.1)?;
                        Some(TypedSample { labels: s.metric, value })
                    })
                    .collect())
            }
            _ => Err(Problem::Api("the query must give an instant vector".into())),
        }
    }
}

/// Evaluates `promql` now and returns the answer undecoded (see `Answer::vector`).
pub async fn query_answer(engine: &Engine, promql: &str) -> Result<Answer, EngineError> {
    let (bytes, content_type) = engine.get_body("/api/v1/query", &[("query", promql)]).await?;
    Ok(Answer { bytes, content_type })
}

/// Evaluates `promql` over `[start, end]` every `step` seconds: one series per label set.
pub async fn query_range(
    engine: &Engine,
    promql: &str,
    start: f64,
    end: f64,
    step: f64,
) -> Result<Vec<Series>, EngineError> {
    let (start, end, step) = (format!("{start:.3}"), format!("{end:.3}"), format!("{step:.3}"));
    let params = [("query", promql), ("start", start.as_str()), ("end", end.as_str()), ("step", step.as_str())];
    let data: QueryData = unwrap(engine, engine.get("/api/v1/query_range", &params).await?)?;
    match data {
        QueryData::Matrix(raw) => {
            check_series(engine, raw.len())?;
            Ok(raw
                .into_iter()
                .map(|s| Series {
                    labels: s.metric,
                    points: s.values.into_iter().filter_map(|RawPoint(t, v)| Some((t, parse_value(&v)?))).collect(),
                })
                .collect())
        }
        _ => Err(engine.error(Problem::Api("a range query did not return a matrix".into()))),
    }
}

/// Every active scrape target with its health and last error.
pub async fn targets(engine: &Engine) -> Result<Vec<Target>, EngineError> {
    let data: TargetsData = unwrap(engine, engine.get("/api/v1/targets", &[("state", "active")]).await?)?;
    Ok(data.active)
}

pub async fn rules(engine: &Engine) -> Result<Vec<RuleGroup>, EngineError> {
    let data: RulesData = unwrap(engine, engine.get("/api/v1/rules", &[]).await?)?;
    Ok(data.groups)
}

pub async fn alerts(engine: &Engine) -> Result<Vec<RuleAlert>, EngineError> {
    let data: AlertsData = unwrap(engine, engine.get("/api/v1/alerts", &[]).await?)?;
    Ok(data.alerts)
}

fn unwrap<T>(engine: &Engine, envelope: Envelope<T>) -> Result<T, EngineError> {
    if envelope.status != "success" {
        let message = envelope.error.unwrap_or_else(|| format!("status {}", envelope.status));
        return Err(engine.error(Problem::Api(crate::util::sanitize::sanitize_str(&message))));
    }
    envelope.data.ok_or_else(|| engine.error(Problem::Api("a successful answer without data".into())))
}

fn check_series(engine: &Engine, found: usize) -> Result<(), EngineError> {
    let limit = engine.max_series();
    if found > limit {
        return Err(engine.error(Problem::TooManySeries { found, limit }));
    }
    Ok(())
}

/// The labels that tell series of one result apart, in order, for naming rows:
/// a label with the same value in every series (the job, `__name__`) says nothing.
pub fn distinguishing_labels<'a>(series: impl IntoIterator<Item = &'a Labels> + Clone) -> Vec<String> {
    let mut keys: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for labels in series.clone() {
        keys.extend(labels.keys().map(String::as_str));
    }
    let mut all = series.into_iter();
    let Some(first) = all.next() else { return Vec::new() };
    let rest: Vec<&Labels> = all.collect();
    keys.into_iter()
        .filter(|key| rest.iter().any(|labels| labels.get(*key) != first.get(*key)))
        .map(str::to_string)
        .collect()
}

/// The fewest of [`distinguishing_labels`] that still tell every series apart, for short
/// row names: a label implied by the others (a GPU's UUID beside its host and index) is
/// dropped, the longest values first, so `{Hostname="gpu-a",gpu="0"}` is what remains.
pub fn naming_labels<'a>(series: impl IntoIterator<Item = &'a Labels> + Clone) -> Vec<String> {
    let all: Vec<&Labels> = series.into_iter().collect();
    let mut keys = distinguishing_labels(all.iter().copied());
    let mut by_length: Vec<(usize, String)> = keys
        .iter()
        .map(|key| (all.iter().map(|l| l.get(key).map_or(0, String::len)).sum::<usize>(), key.clone()))
        .collect();
    by_length.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (_, key) in by_length {
        let rest: Vec<&String> = keys.iter().filter(|k| **k != key).collect();
        let mut seen = std::collections::HashSet::with_capacity(all.len());
        let unique = all.iter().all(|labels| seen.insert(rest.iter().map(|k| labels.get(*k)).collect::<Vec<_>>()));
        if unique {
            keys.retain(|k| *k != key);
        }
    }
    keys
}

/// `name{a="1",b="2"}` with just `keys` (or the bare name when there are none).
pub fn row_name(name: &str, labels: &Labels, keys: &[String]) -> String {
    let shown: Vec<String> = keys
        .iter()
        .filter_map(|key| {
            labels.get(key).map(|value| format!("{key}=\"{}\"", crate::util::sanitize::sanitize_str(value)))
        })
        .collect();
    if shown.is_empty() { name.to_string() } else { format!("{name}{{{}}}", shown.join(",")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn rows_are_named_by_the_labels_that_differ() {
        let a = labels(&[("__name__", "x"), ("Hostname", "gpu-a"), ("gpu", "0"), ("job", "dcgm")]);
        let b = labels(&[("__name__", "x"), ("Hostname", "gpu-a"), ("gpu", "1"), ("job", "dcgm")]);
        let c = labels(&[("__name__", "x"), ("Hostname", "gpu-b"), ("gpu", "0"), ("job", "dcgm")]);
        let keys = distinguishing_labels([&a, &b, &c]);
        assert_eq!(keys, vec!["Hostname".to_string(), "gpu".to_string()]);
        assert_eq!(row_name("gpu memory", &b, &keys), "gpu memory{Hostname=\"gpu-a\",gpu=\"1\"}");
        assert_eq!(row_name("one", &a, &distinguishing_labels([&a])), "one");
    }

    #[test]
    fn naming_labels_drop_those_the_others_imply() {
        let gpu = |host: &str, index: &str, uuid: &str| {
            labels(&[("Hostname", host), ("gpu", index), ("UUID", uuid), ("device", &format!("nvidia{index}"))])
        };
        let series = [
            gpu("gpu-a", "0", "GPU-0000-aaaa"),
            gpu("gpu-a", "1", "GPU-0000-bbbb"),
            gpu("gpu-b", "0", "GPU-0000-cccc"),
            gpu("gpu-b", "1", "GPU-0000-dddd"),
        ];
        assert_eq!(distinguishing_labels(&series).len(), 4);
        assert_eq!(naming_labels(&series), vec!["Hostname".to_string(), "gpu".to_string()]);
        assert_eq!(naming_labels(&series[..1]), Vec::<String>::new());
        // One host: its GPUs are told apart by their index alone.
        assert_eq!(naming_labels(&series[..2]), vec!["gpu".to_string()]);
    }

    #[test]
    fn a_vector_answer_decodes_with_special_values() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"i":"a"},"value":[1700000000.5,"NaN"]},
            {"metric":{"i":"b"},"value":[1700000000.5,"+Inf"]}]}}"#;
        let envelope: Envelope<QueryData> = serde_json::from_str(body).unwrap();
        let Some(QueryData::Vector(raw)) = envelope.data else { panic!("not a vector") };
        let values: Vec<f64> = raw.iter().map(|s| parse_value(&s.value.as_ref().unwrap().1).unwrap()).collect();
        assert!(values[0].is_nan());
        assert_eq!(values[1], f64::INFINITY);
    }
}
