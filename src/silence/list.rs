//! Every silence of every Alertmanager (or one), in the order people read them:
//! active first, then pending, then expired; each with its time left.

use crate::config::EngineKind;
use crate::config::units::format_duration;
use crate::engine::Engines;
use crate::engine::alertmanager::{self, Silence};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One silence and the engine that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub engine: String,
    pub silence: Silence,
}

/// The silences read, and the engines that could not be read (each error names its engine).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub rows: Vec<Listed>,
    pub errors: Vec<String>,
}

/// Reads the silences of `only` (an Alertmanager's name) or of every Alertmanager, at once.
/// `Err` when `only` names no Alertmanager.
pub async fn list(engines: &Engines, only: Option<&str>) -> Result<Listing, String> {
    let picked = match only {
        Some(name) => vec![engines.pick(Some(name), EngineKind::Alertmanager)?],
        None => engines.of_kind(EngineKind::Alertmanager).cloned().collect(),
    };
    let answers = futures::future::join_all(picked.iter().map(|engine| alertmanager::silences(engine))).await;
    let mut listing = Listing::default();
    for (engine, answer) in picked.iter().zip(answers) {
        match answer {
            Ok(silences) => listing
                .rows
                .extend(silences.into_iter().map(|silence| Listed { engine: engine.name().to_string(), silence })),
            Err(err) => listing.errors.push(crate::util::sanitize::sanitize_str(&err.to_string())),
        }
    }
    sort(&mut listing.rows);
    Ok(listing)
}

/// Active, then pending, then expired; the soonest to change first (the latest expired first).
pub fn sort(rows: &mut [Listed]) {
    rows.sort_by(|a, b| {
        let (ra, rb) = (rank(&a.silence.status.state), rank(&b.silence.status.state));
        ra.cmp(&rb).then_with(|| match ra {
            0 => a.silence.ends_at.cmp(&b.silence.ends_at),
            1 => a.silence.starts_at.cmp(&b.silence.starts_at),
            _ => b.silence.ends_at.cmp(&a.silence.ends_at),
        })
    });
}

fn rank(state: &str) -> u8 {
    match state {
        "active" => 0,
        "pending" => 1,
        _ => 2,
    }
}

/// "1h59m left", "starts in 3h00m", "ended 2h00m ago".
pub fn time_left(silence: &Silence, now: DateTime<Utc>) -> String {
    let span = |from: DateTime<Utc>, to: DateTime<Utc>| format_duration((to - from).to_std().unwrap_or_default());
    match silence.status.state.as_str() {
        "active" => format!("{} left", span(now, silence.ends_at)),
        "pending" => format!("starts in {}", span(now, silence.starts_at)),
        _ => format!("ended {} ago", span(silence.ends_at, now)),
    }
}

/// A silence as `firstwatch silence list --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonRow {
    pub id: String,
    pub engine: String,
    /// active, pending or expired.
    pub state: String,
    /// Each matcher as written: `alertname="DiskFull"`.
    pub matchers: Vec<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub comment: String,
}

impl JsonRow {
    pub fn of(listed: &Listed) -> JsonRow {
        let silence = &listed.silence;
        JsonRow {
            id: silence.id.clone(),
            engine: listed.engine.clone(),
            state: silence.status.state.clone(),
            matchers: silence.matchers.iter().map(matcher_text).collect(),
            starts_at: silence.starts_at,
            ends_at: silence.ends_at,
            created_by: silence.created_by.clone(),
            comment: silence.comment.clone(),
        }
    }
}

/// A matcher as written; one the API sent that does not parse is shown with a `?`.
pub fn matcher_text(api: &crate::engine::matcher::ApiMatcher) -> String {
    crate::engine::matcher::Matcher::from_api(api)
        .map_or_else(|_| format!("{}?{}", api.name, api.value), |matcher| matcher.to_string())
}

/// Whether the silence's matchers are exactly `matchers` (in any order).
pub fn same_matchers(silence: &Silence, matchers: &[crate::engine::matcher::Matcher]) -> bool {
    let mut theirs: Vec<String> = silence.matchers.iter().map(matcher_text).collect();
    let mut ours: Vec<String> = matchers.iter().map(ToString::to_string).collect();
    theirs.sort();
    ours.sort();
    theirs == ours
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::alertmanager::SilenceStatus;

    fn silence(id: &str, state: &str, hours: i64) -> Listed {
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(1000);
        Listed {
            engine: "am".into(),
            silence: Silence {
                id: id.into(),
                matchers: vec![crate::engine::matcher::Matcher::parse("job=\"api\"").unwrap().to_api()],
                starts_at: now + chrono::Duration::hours(hours - 2),
                ends_at: now + chrono::Duration::hours(hours),
                created_by: "ana@h".into(),
                comment: "c".into(),
                status: SilenceStatus { state: state.into() },
            },
        }
    }

    #[test]
    fn active_come_first_and_time_left_reads_by_state() {
        let mut rows = vec![
            silence("e", "expired", -5),
            silence("p", "pending", 5),
            silence("a2", "active", 2),
            silence("a1", "active", 1),
        ];
        sort(&mut rows);
        let ids: Vec<&str> = rows.iter().map(|r| r.silence.id.as_str()).collect();
        assert_eq!(ids, ["a1", "a2", "p", "e"]);
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(1000);
        assert_eq!(time_left(&rows[0].silence, now), "1h00m left");
        assert_eq!(time_left(&rows[2].silence, now), "starts in 3h00m");
        assert_eq!(time_left(&rows[3].silence, now), "ended 5h00m ago");
        let json = JsonRow::of(&rows[0]);
        assert_eq!(json.matchers, vec!["job=\"api\"".to_string()]);
        assert_eq!(json.state, "active");
    }
}
