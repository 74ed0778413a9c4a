//! A silence before anyone confirms it: what it matches, when it starts and
//! ends, how many of the alerts firing now it would silence, and whether it
//! may be created at all (a comment is required; matchers that would silence
//! everything are refused unless forced).

use crate::engine::alertmanager::{Alert, NewSilence};
use crate::engine::matcher::{Matcher, all_match, too_broad};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest silence accepted: longer ones hide alerts nobody will remember.
pub const LONGEST: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// What the operator asked for, before it is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub engine: String,
    pub matchers: Vec<Matcher>,
    /// `None`: now.
    pub starts_at: Option<DateTime<Utc>>,
    pub duration: std::time::Duration,
    pub comment: String,
    /// Create it even if its matchers would silence everything.
    pub force: bool,
}

/// What the alerts firing now say about a draft's matchers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// Alerts firing on the engine (active, suppressed or unprocessed).
    pub firing: usize,
    /// Of those, the ones the matchers match.
    pub matching: usize,
    /// Of the matching ones, the active ones (no silence or inhibition holds them): what it silences now.
    pub newly: usize,
    /// Of the matching ones, those a silence or an inhibition already holds.
    pub suppressed: usize,
}

/// Alertmanager's state of an alert that notifies: neither silenced, inhibited nor still unprocessed.
const ACTIVE: &str = "active";

impl Reach {
    pub fn of(matchers: &[Matcher], alerts: &[Alert]) -> Reach {
        let matched: Vec<&Alert> = alerts.iter().filter(|alert| all_match(matchers, &alert.labels)).collect();
        let in_state = |state: &str| matched.iter().filter(|alert| alert.status.state == state).count();
        Reach {
            firing: alerts.len(),
            matching: matched.len(),
            newly: in_state(ACTIVE),
            suppressed: in_state("suppressed"),
        }
    }

    /// "would silence 3 active alerts now (of 12 firing; 1 more already suppressed)".
    pub fn describe(&self) -> String {
        let plural = if self.newly == 1 { "" } else { "s" };
        let mut text = format!("would silence {} active alert{plural} now (of {} firing", self.newly, self.firing);
        if self.suppressed > 0 {
            text.push_str(&format!("; {} more already suppressed", self.suppressed));
        }
        let unprocessed = self.matching - self.newly - self.suppressed;
        if unprocessed > 0 {
            text.push_str(&format!("; {unprocessed} more not yet processed"));
        }
        text.push(')');
        text
    }
}

/// A draft with its times fixed and its reach counted: what the operator is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub engine: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub comment: String,
    pub force: bool,
    /// `Err`: the alerts could not be read, and why (the silence may still be created).
    pub reach: Result<Reach, String>,
    /// Why these matchers would silence far more than meant (see [`too_broad`]).
    pub broad: Option<String>,
}

impl Draft {
    /// Fixes the times (relative to `now`) and counts what the matchers reach among `alerts`.
    pub fn preview(&self, alerts: Result<&[Alert], String>, now: DateTime<Utc>) -> Preview {
        let starts_at = self.starts_at.unwrap_or(now);
        let ends_at = starts_at + chrono::Duration::from_std(self.duration).unwrap_or(chrono::Duration::zero());
        let (reach, broad) = match alerts {
            Ok(alerts) => {
                // "Everything" is every alert that notifies now; suppressed ones are silent already.
                let labels: Vec<&crate::engine::Labels> =
                    alerts.iter().filter(|alert| alert.status.state == ACTIVE).map(|alert| &alert.labels).collect();
                (Ok(Reach::of(&self.matchers, alerts)), too_broad(&self.matchers, &labels))
            }
            Err(why) => (Err(why), too_broad(&self.matchers, &[])),
        };
        Preview {
            engine: self.engine.clone(),
            matchers: self.matchers.clone(),
            starts_at,
            ends_at,
            comment: self.comment.trim().to_string(),
            force: self.force,
            reach,
            broad,
        }
    }
}

impl Preview {
    pub fn duration(&self) -> std::time::Duration {
        (self.ends_at - self.starts_at).to_std().unwrap_or_default()
    }

    pub fn matchers_text(&self) -> String {
        matchers_text(&self.matchers)
    }

    /// Why it may not be created as it stands, or `None`. Every answer here is a refusal the log keeps.
    pub fn problem(&self, now: DateTime<Utc>) -> Option<String> {
        if self.matchers.is_empty() {
            return Some("a silence needs at least one matcher".into());
        }
        if self.comment.is_empty() {
            return Some("a comment is required: say why, for whoever finds the alert silenced".into());
        }
        if self.ends_at <= self.starts_at {
            return Some("the silence ends before it starts; give a duration".into());
        }
        if self.ends_at <= now {
            return Some("the silence would already be over".into());
        }
        if self.duration() > LONGEST {
            return Some(format!(
                "{} is longer than the longest silence, {}",
                crate::config::units::format_duration(self.duration()),
                crate::config::units::format_duration(LONGEST)
            ));
        }
        match &self.broad {
            Some(why) if !self.force => Some(format!("too broad: {why}; narrow the matchers or force it")),
            _ => None,
        }
    }

    /// One line for the audit log and the timeline: matchers, times, reach and comment.
    pub fn summary(&self) -> String {
        let reach = match &self.reach {
            Ok(reach) => reach.describe(),
            Err(why) => format!("alerts not counted: {why}"),
        };
        let forced = match (&self.broad, self.force) {
            (Some(why), true) => format!("; FORCED although {why}"),
            _ => String::new(),
        };
        format!(
            "{} from {} to {} ({}); {reach}{forced}; comment: {}",
            self.matchers_text(),
            self.starts_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            crate::config::units::format_duration(self.duration()),
            self.comment
        )
    }

    /// The checked request, ready for confirmation; `Err` is [`Preview::problem`]'s answer.
    pub fn checked(&self, created_by: &str, now: DateTime<Utc>) -> Result<Batch, String> {
        if let Some(problem) = self.problem(now) {
            return Err(problem);
        }
        let silence = NewSilence {
            matchers: self.matchers.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            created_by: created_by.to_string(),
            comment: self.comment.clone(),
        };
        Ok(Batch { engine: self.engine.clone(), silences: vec![silence], what: ADD.into(), summary: self.summary() })
    }
}

/// The audit log's name for creating a silence by hand.
pub const ADD: &str = "silence";
/// ... for the silences the maintenance windows ask for.
pub const SCHEDULED: &str = "schedule silences";
/// ... for expiring one.
pub const EXPIRE: &str = "expire silence";

/// Silences to create on one engine, checked and waiting for the operator's
/// confirmation. Only [`Preview::checked`] and the window planner build one.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    engine: String,
    silences: Vec<NewSilence>,
    /// [`ADD`] or [`SCHEDULED`]: the operation's name in the audit log and `ops list`.
    what: String,
    summary: String,
}

impl Batch {
    pub(super) fn scheduled(engine: &str, silences: Vec<NewSilence>, summary: String) -> Batch {
        Batch { engine: engine.to_string(), silences, what: SCHEDULED.into(), summary }
    }

    pub fn engine(&self) -> &str {
        &self.engine
    }

    pub fn silences(&self) -> &[NewSilence] {
        &self.silences
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    /// What was shown to the operator, in one line.
    pub fn summary(&self) -> &str {
        &self.summary
    }
}

/// A [`Batch`] on the wire to a supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireBatch {
    engine: String,
    what: String,
    summary: String,
    silences: Vec<WireSilence>,
}

impl Batch {
    pub fn wire(&self) -> WireBatch {
        WireBatch {
            engine: self.engine.clone(),
            what: self.what.clone(),
            summary: self.summary.clone(),
            silences: self.silences.iter().map(WireSilence::of).collect(),
        }
    }
}

impl WireBatch {
    pub fn into_batch(self) -> Result<Batch, String> {
        let silences = self.silences.into_iter().map(WireSilence::into_silence).collect::<Result<Vec<_>, _>>()?;
        Ok(Batch { engine: self.engine, silences, what: self.what, summary: self.summary })
    }
}

/// A silence that the operator asked to expire, as it was when shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expiry {
    pub engine: String,
    pub id: String,
    /// One line: matchers, state, creator and comment, as shown when asked.
    pub summary: String,
}

impl Expiry {
    pub fn of(engine: &str, silence: &crate::engine::alertmanager::Silence) -> Expiry {
        Expiry {
            engine: engine.to_string(),
            id: silence.id.clone(),
            summary: crate::util::sanitize::sanitize_str(&format!(
                "{} ({}, until {}) by {}: {}",
                silence.matchers_text(),
                silence.status.state,
                silence.ends_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                silence.created_by,
                silence.comment
            )),
        }
    }

    /// The word a person types to confirm: the id's first 8 characters (the whole id is accepted too).
    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }
}

/// The first 8 characters of a silence id, as lists show it.
pub fn short_id(id: &str) -> &str {
    id.char_indices().nth(8).map_or(id, |(at, _)| &id[..at])
}

pub fn matchers_text(matchers: &[Matcher]) -> String {
    matchers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// A silence on the wire to a supervisor (matchers as the API takes them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireSilence {
    matchers: Vec<crate::engine::matcher::ApiMatcher>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_by: String,
    comment: String,
}

impl WireSilence {
    pub fn of(silence: &NewSilence) -> WireSilence {
        WireSilence {
            matchers: silence.matchers.iter().map(Matcher::to_api).collect(),
            starts_at: silence.starts_at,
            ends_at: silence.ends_at,
            created_by: silence.created_by.clone(),
            comment: silence.comment.clone(),
        }
    }

    pub fn into_silence(self) -> Result<NewSilence, String> {
        let matchers = self.matchers.iter().map(Matcher::from_api).collect::<Result<Vec<_>, _>>()?;
        Ok(NewSilence {
            matchers,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            created_by: self.created_by,
            comment: self.comment,
        })
    }
}

/// Who a silence is created by: the operator as `user@host`.
pub fn created_by(who: &crate::util::identity::Identity) -> String {
    format!("{}@{}", who.user, who.host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::alertmanager::AlertStatus;

    fn alert(name: &str, state: &str) -> Alert {
        Alert {
            fingerprint: name.into(),
            labels: [("alertname".to_string(), name.to_string()), ("job".to_string(), "api".to_string())].into(),
            annotations: Default::default(),
            starts_at: DateTime::UNIX_EPOCH,
            ends_at: None,
            generator_url: None,
            status: AlertStatus { state: state.into(), silenced_by: vec![], inhibited_by: vec![] },
            receivers: vec![],
        }
    }

    fn draft(matchers: &[&str], comment: &str) -> Draft {
        Draft {
            engine: "am".into(),
            matchers: matchers.iter().map(|m| Matcher::parse(m).unwrap()).collect(),
            starts_at: None,
            duration: std::time::Duration::from_secs(7200),
            comment: comment.into(),
            force: false,
        }
    }

    #[test]
    fn the_preview_counts_what_it_would_silence_now() {
        let alerts = [alert("A", "active"), alert("A", "suppressed"), alert("B", "active")];
        let now = Utc::now();
        let preview = draft(&["alertname=\"A\""], "disk swap").preview(Ok(&alerts), now);
        assert_eq!(preview.reach, Ok(Reach { firing: 3, matching: 2, newly: 1, suppressed: 1 }));
        assert_eq!(preview.ends_at - preview.starts_at, chrono::Duration::hours(2));
        assert_eq!(preview.problem(now), None);
        assert!(
            preview.summary().contains("would silence 1 active alert now (of 3 firing; 1 more already suppressed)")
        );
        let batch = preview.checked("ana@bastion", now).unwrap();
        assert_eq!(batch.silences()[0].created_by, "ana@bastion");
        assert_eq!(batch.what(), ADD);
    }

    #[test]
    fn a_comment_is_required_and_broad_matchers_need_force() {
        let alerts = [alert("A", "active"), alert("B", "active")];
        let now = Utc::now();
        let missing = draft(&["alertname=\"A\""], "   ").preview(Ok(&alerts), now);
        assert!(missing.problem(now).unwrap().contains("comment is required"));
        assert!(missing.checked("ana@h", now).is_err());

        let whole_job = draft(&["job=\"api\""], "deploy").preview(Ok(&alerts), now);
        assert!(whole_job.problem(now).unwrap().contains("all 2 active alerts"));
        let mut forced = draft(&["job=\"api\""], "deploy");
        forced.force = true;
        let forced = forced.preview(Ok(&alerts), now);
        assert_eq!(forced.problem(now), None);
        assert!(forced.summary().contains("FORCED"));

        let regex_only = draft(&["alertname=~\".*\""], "x").preview(Err("engine down".into()), now);
        assert!(regex_only.problem(now).unwrap().contains("no equality"), "checked even without the alerts");
        assert!(regex_only.summary().contains("alerts not counted: engine down"));
    }

    #[test]
    fn only_active_alerts_count_as_what_it_would_silence() {
        let now = Utc::now();
        // One alert notifies; the other two are silenced or not yet processed.
        let alerts = [alert("A", "active"), alert("B", "suppressed"), alert("C", "unprocessed")];
        let whole_job = draft(&["job=\"api\""], "deploy").preview(Ok(&alerts), now);
        assert_eq!(whole_job.reach, Ok(Reach { firing: 3, matching: 3, newly: 1, suppressed: 1 }));
        assert_eq!(whole_job.broad, None, "one active alert is not 'everything'");
        assert!(
            whole_job.summary().contains(
                "would silence 1 active alert now (of 3 firing; 1 more already suppressed; 1 more not yet processed)"
            ),
            "{}",
            whole_job.summary()
        );
        // Two active ones, both matched, beside a suppressed one: that is everything that notifies.
        let alerts = [alert("A", "active"), alert("B", "active"), alert("C", "suppressed")];
        let preview = draft(&["job=\"api\""], "deploy").preview(Ok(&alerts), now);
        assert!(preview.problem(now).unwrap().contains("all 2 active alerts"), "{:?}", preview.broad);
    }

    #[test]
    fn times_are_checked() {
        let now = Utc::now();
        let mut past = draft(&["alertname=\"A\""], "x");
        past.starts_at = Some(now - chrono::Duration::hours(3));
        assert!(past.preview(Ok(&[]), now).problem(now).unwrap().contains("already be over"));
        let mut long = draft(&["alertname=\"A\""], "x");
        long.duration = LONGEST * 2;
        assert!(long.preview(Ok(&[]), now).problem(now).unwrap().contains("longer than"));
    }

    #[test]
    fn a_silence_crosses_to_its_supervisor_unchanged() {
        let now = Utc::now();
        let batch = draft(&["alertname=\"A\"", "env=~\"prod.*\""], "x").preview(Ok(&[]), now).checked("a@b", now);
        let silence = batch.unwrap().silences()[0].clone();
        let wire: WireSilence =
            serde_json::from_str(&serde_json::to_string(&WireSilence::of(&silence)).unwrap()).unwrap();
        assert_eq!(wire.into_silence().unwrap(), silence);
        assert_eq!(short_id("0f9e11aa-2b3c"), "0f9e11aa");
        assert_eq!(short_id("abc"), "abc");
    }
}
