//! The Alertmanager v2 API: alerts, their groups, silences and status.

use super::Labels;
use super::client::{Engine, EngineError, Problem};
use super::matcher::{ApiMatcher, Matcher};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub fingerprint: String,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    pub starts_at: DateTime<Utc>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    pub status: AlertStatus,
    #[serde(default)]
    pub receivers: Vec<Receiver>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertStatus {
    /// "active", "suppressed" (silenced or inhibited) or "unprocessed".
    pub state: String,
    #[serde(default)]
    pub silenced_by: Vec<String>,
    #[serde(default)]
    pub inhibited_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Receiver {
    pub name: String,
}

impl Alert {
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    pub fn severity(&self) -> Option<&str> {
        self.labels.get("severity").map(String::as_str)
    }
}

/// Alerts as Alertmanager groups them for notification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AlertGroup {
    #[serde(default)]
    pub labels: Labels,
    pub receiver: Receiver,
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<ApiMatcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
    pub status: SilenceStatus,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SilenceStatus {
    /// "active", "pending" or "expired".
    pub state: String,
}

impl Silence {
    pub fn matchers_text(&self) -> String {
        self.matchers
            .iter()
            .map(|m| Matcher::from_api(m).map_or_else(|_| format!("{}?{}", m.name, m.value), |m| m.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A silence to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

/// Alerts, filtered as the API filters them (all three flags true gives every alert).
pub async fn alerts(engine: &Engine) -> Result<Vec<Alert>, EngineError> {
    engine
        .get(
            "/api/v2/alerts",
            &[("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true")],
        )
        .await
}

pub async fn groups(engine: &Engine) -> Result<Vec<AlertGroup>, EngineError> {
    engine.get("/api/v2/alerts/groups", &[("silenced", "true"), ("inhibited", "true")]).await
}

pub async fn silences(engine: &Engine) -> Result<Vec<Silence>, EngineError> {
    engine.get("/api/v2/silences", &[]).await
}

pub async fn silence(engine: &Engine, id: &str) -> Result<Silence, EngineError> {
    engine.get(&format!("/api/v2/silence/{}", path_segment(id)), &[]).await
}

/// Creates a silence and returns its id.
pub async fn create_silence(engine: &Engine, silence: &NewSilence) -> Result<String, EngineError> {
    let body = serde_json::json!({
        "matchers": silence.matchers.iter().map(Matcher::to_api).collect::<Vec<_>>(),
        "startsAt": silence.starts_at.to_rfc3339(),
        "endsAt": silence.ends_at.to_rfc3339(),
        "createdBy": silence.created_by,
        "comment": silence.comment,
    });
    let created: Created = engine.send(Method::POST, "/api/v2/silences", Some(&body)).await?;
    Ok(created.silence_id)
}

/// Expires a silence now (Alertmanager keeps it, expired, for its retention).
pub async fn expire_silence(engine: &Engine, id: &str) -> Result<(), EngineError> {
    let path = format!("/api/v2/silence/{}", path_segment(id));
    let (bytes, content_type) = engine.body(Method::DELETE, &path, &[]).await?;
    expired(&bytes, &content_type).map_err(|problem| engine.error(problem))
}

/// Alertmanager answers a DELETE with 200 and an empty body (some versions, JSON);
/// anything else, such as a login proxy's page, did not reach it and expired nothing.
fn expired(bytes: &[u8], content_type: &str) -> Result<(), Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|err| super::client::not_json(bytes, content_type, &err))
}

/// The server's status: version, uptime and cluster, for the engine's health.
pub async fn status(engine: &Engine) -> Result<serde_json::Value, EngineError> {
    engine.get("/api/v2/status", &[]).await
}

/// Ids are UUIDs; anything else is escaped so it cannot change the path.
fn path_segment(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_decodes_as_alertmanager_sends_it() {
        let body = r#"[{"annotations":{"summary":"api down","runbook":"api-outage"},
            "endsAt":"2026-12-05T18:00:00.000Z","fingerprint":"3b1a","receivers":[{"name":"null"}],
            "startsAt":"2026-12-05T17:00:00.000Z","status":{"inhibitedBy":[],"silencedBy":["abc"],"state":"suppressed"},
            "updatedAt":"2026-12-05T17:00:01.000Z","generatorURL":"http://prom/graph","labels":{"alertname":"ApiDown","severity":"critical"}}]"#;
        let alerts: Vec<Alert> = serde_json::from_str(body).unwrap();
        assert_eq!(alerts[0].name(), "ApiDown");
        assert_eq!(alerts[0].severity(), Some("critical"));
        assert_eq!(alerts[0].status.silenced_by, vec!["abc".to_string()]);
        assert_eq!(alerts[0].annotations["runbook"], "api-outage");
    }

    #[test]
    fn an_expiry_is_answered_by_nothing_or_json_and_a_page_is_not_one() {
        assert_eq!(expired(b"", ""), Ok(()));
        assert_eq!(expired(b"null\n", "application/json"), Ok(()));
        let page = expired(b"<html>Sign in</html>", "text/html").unwrap_err();
        assert_eq!(page, Problem::NotJson("text/html: <html>Sign in</html>".into()));
    }

    #[test]
    fn a_silence_id_cannot_walk_the_path() {
        assert_eq!(path_segment("../../status?x=1"), "statusx1");
        assert_eq!(path_segment("0f9e-11"), "0f9e-11");
    }
}
