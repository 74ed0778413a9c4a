//! One verdict for a backup set, in the levels of a health check: what a
//! `[[check]] backup = "SET"`, `firstwatch backups list|verify` (exit codes) and
//! the status line all say.
//!
//! - could not read the folder: unknown;
//! - no backups, no good backup, or a newest backup that is empty, cut short or
//!   known corrupt: critical;
//! - the newest good backup older than `critical_after` (default twice `every`): critical;
//!   older than `warn_after` (default `every` plus a grace of a quarter of it, at most 1 h): warning;
//! - older backups known corrupt: warning.
//!
//! A good backup is not empty, not visibly cut short, not known corrupt, and verified
//! good when the set has `require_verified = true`.

use super::human_age;
use super::listing::{self, Freshness};
use super::overview::{BackupState, SetState, flaw_word};
use super::records::Status;
use crate::health::Level;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The ages at which a set's newest good backup warns and turns critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub warn_after: Option<Duration>,
    pub critical_after: Option<Duration>,
}

impl Limits {
    /// The defaults for a set backed up `every` (none without a cadence), with overrides.
    pub fn for_set(every: Option<Duration>, warn_after: Option<Duration>, critical_after: Option<Duration>) -> Limits {
        let every = every.filter(|e| !e.is_zero());
        Limits {
            warn_after: warn_after.or_else(|| every.map(|e| e + grace(e))),
            critical_after: critical_after.or_else(|| every.map(|e| e * 2)),
        }
    }
}

/// A backup that runs a little late is not yet a missed one (the same grace as [`Freshness`]).
fn grace(every: Duration) -> Duration {
    (every / 4).min(Duration::from_secs(3600))
}

/// A set's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub level: Level,
    /// Why it is not ok, worst first: "newest backup app_db_1.db.gz is empty (0 bytes)".
    pub problems: Vec<String>,
    /// The facts behind it: newest backup, its age, the last verification.
    pub facts: String,
    /// A few words for the status line: "2 corrupt · 1 missed".
    pub short: String,
}

impl Assessment {
    /// One line: the problems, then the facts.
    pub fn message(&self) -> String {
        if self.problems.is_empty() {
            self.facts.clone()
        } else {
            format!("{} — {}", self.problems.join("; "), self.facts)
        }
    }
}

/// Judges `set` as of `now` against `limits`.
pub fn assess(set: &SetState, limits: Limits, now: DateTime<Utc>) -> Assessment {
    if let Some(error) = &set.error {
        return Assessment {
            level: Level::Unknown,
            problems: vec![format!("cannot read the set: {error}")],
            facts: format!("folder {}", set.dir.display()),
            short: "cannot read".into(),
        };
    }
    let Some(newest) = set.backups.first() else {
        return Assessment {
            level: Level::Critical,
            problems: vec![format!("no backups in {}", set.dir.display())],
            facts: format!("pattern matched nothing in {}", set.dir.display()),
            short: "no backups".into(),
        };
    };
    let mut level = Level::Ok;
    let mut problems = Vec::new();
    let mut short = Vec::new();
    let mut raise = |to: Level, problem: String, words: String| {
        level = level.max(to);
        problems.push(problem);
        short.push(words);
    };
    let name = crate::util::sanitize::sanitize_str(&newest.entry.name);
    if let Some(flaw) = &newest.flaw {
        raise(
            Level::Critical,
            format!("newest backup {name} is {}", flaw.describe()),
            format!("newest {}", flaw_word(flaw)),
        );
    } else if let Status::Corrupt(reason) = newest.status() {
        raise(Level::Critical, format!("newest backup {name} is corrupt: {reason}"), "newest corrupt".into());
    }
    let good = set.last_good();
    match good {
        None => raise(Level::Critical, "no good backup".into(), "no good backup".into()),
        Some(good) => {
            let age = listing::age(now, good.entry.created);
            let shown = human_age(age);
            if let Some(limit) = limits.critical_after.filter(|&limit| age > limit) {
                raise(
                    Level::Critical,
                    format!("newest good backup is {shown} old (critical after {})", human_age(limit)),
                    missed_words(age, set.every, "overdue"),
                );
            } else if let Some(limit) = limits.warn_after.filter(|&limit| age > limit) {
                raise(
                    Level::Warning,
                    format!("newest good backup is {shown} old (warning after {})", human_age(limit)),
                    missed_words(age, set.every, "late"),
                );
            }
        }
    }
    let older_corrupt = set.backups.iter().skip(1).filter(|b| b.status().is_corrupt()).count();
    if older_corrupt > 0 {
        let plural = if older_corrupt == 1 { "backup is" } else { "backups are" };
        raise(Level::Warning, format!("{older_corrupt} older {plural} corrupt"), String::new());
    }
    let corrupt = set.corrupt_count();
    // The status line counts every corrupt backup, the newest included, once.
    short.retain(|w| !w.is_empty() && w != "newest corrupt");
    if corrupt > 0 {
        short.insert(0, format!("{corrupt} corrupt"));
    }
    Assessment { level, problems, facts: facts(set, newest, good, limits, now), short: short.join(" · ") }
}

/// "1 missed" / "3 missed" where there is a cadence, else `fallback`.
fn missed_words(age: Duration, every: Option<Duration>, fallback: &str) -> String {
    match Freshness::of(Some(age), every) {
        Freshness::Missed(n) => Freshness::Missed(n).describe(),
        _ => fallback.into(),
    }
}

/// "newest app_db_2.db.gz 3h old, 4.2 MiB · last good the same · verified ok 2h ago · warn after 1d1h, critical after 2d".
fn facts(
    set: &SetState,
    newest: &BackupState,
    good: Option<&BackupState>,
    limits: Limits,
    now: DateTime<Utc>,
) -> String {
    let sanitize = crate::util::sanitize::sanitize_str;
    let mut parts = vec![format!(
        "newest {} {} old, {}",
        sanitize(&newest.entry.name),
        human_age(listing::age(now, newest.entry.created)),
        super::human_bytes(newest.entry.size_bytes)
    )];
    match good {
        Some(good) if good.entry.name == newest.entry.name => {}
        Some(good) => parts.push(format!(
            "last good {} {} old",
            sanitize(&good.entry.name),
            human_age(listing::age(now, good.entry.created))
        )),
        None => {}
    }
    let last_check =
        set.backups.iter().filter_map(|b| b.last.as_ref().map(|l| (b, l))).max_by_key(|(_, l)| l.verified_at);
    parts.push(match last_check {
        None => "never verified".into(),
        Some((backup, last)) => {
            let verdict = if last.ok { "ok" } else { "corrupt" };
            let which = if backup.entry.name == newest.entry.name {
                "newest".to_string()
            } else {
                sanitize(&backup.entry.name)
            };
            format!("last verified {} ago ({which}: {verdict})", human_age(listing::age(now, last.verified_at)))
        }
    });
    if set.require_verified {
        parts.push("only verified backups count".into());
    }
    match (limits.warn_after, limits.critical_after) {
        (Some(warn), Some(critical)) => {
            parts.push(format!("warning after {}, critical after {}", human_age(warn), human_age(critical)))
        }
        (Some(warn), None) => parts.push(format!("warning after {}", human_age(warn))),
        (None, Some(critical)) => parts.push(format!("critical after {}", human_age(critical))),
        (None, None) => parts.push("no cadence (every) to judge age by".into()),
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::inspect::Flaw;
    use crate::backup::listing::BackupEntry;
    use crate::backup::records::Verification;
    use crate::config::BackupFormat;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn backup(name: &str, hours_ago: i64, size: u64) -> BackupState {
        let created = now() - chrono::Duration::hours(hours_ago);
        let entry = BackupEntry {
            name: name.into(),
            path: name.into(),
            created,
            modified: created,
            size_bytes: size,
            files: None,
            prune: false,
        };
        BackupState { entry, last: None, flaw: None }
    }

    fn verified(mut state: BackupState, ok: bool) -> BackupState {
        state.last = Some(Verification {
            ok,
            detail: if ok { "integrity ok".into() } else { "the gzip data ends early (truncated?)".into() },
            files: None,
            checksum: None,
            size_bytes: state.entry.size_bytes,
            modified: state.entry.modified,
            verified_at: now() - chrono::Duration::hours(1),
            duration_ms: 5,
        });
        state
    }

    fn set(backups: Vec<BackupState>) -> SetState {
        SetState {
            name: "app db".into(),
            format: BackupFormat::SqliteGz,
            dir: "backups".into(),
            every: Some(Duration::from_secs(86_400)),
            restore_to: None,
            backups,
            error: None,
            can_create: false,
            require_verified: false,
        }
    }

    fn daily() -> Limits {
        Limits::for_set(Some(Duration::from_secs(86_400)), None, None)
    }

    #[test]
    fn age_warns_past_every_and_a_grace_and_is_critical_past_twice_every() {
        let cases =
            [(24, Level::Ok), (25, Level::Ok), (26, Level::Warning), (48, Level::Warning), (49, Level::Critical)];
        for (hours, expected) in cases {
            let verdict = assess(&set(vec![backup("b", hours, 10)]), daily(), now());
            assert_eq!(verdict.level, expected, "{hours}h: {}", verdict.message());
        }
        let late = assess(&set(vec![backup("b", 26, 10)]), daily(), now());
        assert_eq!(late.short, "1 missed");
        assert!(late.message().contains("newest b 1d02h old, 10 B · never verified"), "{}", late.message());
    }

    #[test]
    fn an_empty_newest_backup_is_critical_and_the_one_before_it_is_judged_for_age() {
        let mut empty = backup("new", 1, 0);
        empty.flaw = Some(Flaw::Empty("0 bytes".into()));
        let verdict = assess(&set(vec![empty, backup("old", 30, 10)]), daily(), now());
        assert_eq!(verdict.level, Level::Critical);
        assert_eq!(verdict.short, "newest empty · 1 missed");
        assert_eq!(verdict.problems[0], "newest backup new is empty (0 bytes)");
        assert!(verdict.facts.contains("last good old 1d06h old"), "{}", verdict.facts);
    }

    #[test]
    fn corrupt_backups_are_counted_once_each() {
        let backups =
            vec![verified(backup("a", 1, 10), false), verified(backup("b", 25, 10), false), backup("c", 50, 10)];
        let verdict = assess(&set(backups), daily(), now());
        assert_eq!(verdict.level, Level::Critical);
        assert_eq!(verdict.short, "2 corrupt · 2 missed");
        assert!(verdict.problems.contains(&"1 older backup is corrupt".to_string()), "{:?}", verdict.problems);
        assert!(verdict.facts.contains("last verified 1h ago"), "{}", verdict.facts);
    }

    #[test]
    fn require_verified_skips_unverified_backups() {
        let mut state = set(vec![backup("new", 1, 10), verified(backup("old", 30, 10), true)]);
        state.require_verified = true;
        let verdict = assess(&state, daily(), now());
        assert_eq!(verdict.level, Level::Warning, "{}", verdict.message());
        assert!(verdict.facts.contains("last good old 1d06h old"), "{}", verdict.facts);
        state.backups.pop();
        assert_eq!(assess(&state, daily(), now()).problems, ["no good backup"]);
    }

    #[test]
    fn no_cadence_means_no_age_judgement_but_nothing_at_all_is_critical() {
        let mut state = set(vec![backup("b", 24 * 40, 10)]);
        state.every = None;
        let verdict = assess(&state, Limits::for_set(None, None, None), now());
        assert_eq!(verdict.level, Level::Ok);
        assert!(verdict.facts.contains("no cadence"), "{}", verdict.facts);
        assert_eq!(assess(&set(Vec::new()), daily(), now()).level, Level::Critical);
        let mut unreadable = set(Vec::new());
        unreadable.error = Some("folder backups does not exist".into());
        assert_eq!(assess(&unreadable, daily(), now()).level, Level::Unknown);
    }
}
