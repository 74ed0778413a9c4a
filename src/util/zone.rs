//! Time zones from the host's own tz database (`/usr/share/zoneinfo`), read
//! the first time a name is asked for.
//!
//! A config names one or two zones; compiling every zone's tables into the
//! binary cost about 1 MB of it. The host's files are also the ones its cron and
//! systemd timers follow, so a schedule's next run agrees with theirs after a
//! tzdata update without rebuilding firstwatch.

use chrono::{FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use tz::LocalTimeType;

/// Where the tz database is looked for when `TZDIR` does not say.
const ZONE_DIRS: [&str; 3] = ["/usr/share/zoneinfo", "/share/zoneinfo", "/etc/zoneinfo"];

/// A named time zone. Copy, like an offset: each zone is read once and kept
/// for the life of the process (a config names a handful).
#[derive(Clone, Copy)]
pub struct Zone(&'static Loaded);

struct Loaded {
    name: String,
    /// `None` for UTC, which needs no file.
    rules: Option<tz::TimeZone>,
    /// The file's transitions as spans, searched in one step either way (the
    /// future past the file's last transition goes through `rules`).
    spans: Vec<Span>,
}

/// From `from` (UTC seconds) to the next span's start, the clock is `offset`
/// ahead of UTC and the local time type is `rules`' type number `kind`.
#[derive(Clone, Copy)]
struct Span {
    from: i64,
    offset: i64,
    kind: usize,
}

impl Span {
    /// Where this span starts on the local clock.
    fn local_from(&self) -> i64 {
        self.from.saturating_add(self.offset)
    }
}

/// The transitions of `rules` as spans; none for a zone with leap seconds,
/// whose transition times are not plain UTC seconds.
fn spans_of(rules: &tz::TimeZone) -> Vec<Span> {
    let zone = rules.as_ref();
    if !zone.leap_seconds().is_empty() {
        return Vec::new();
    }
    let types = zone.local_time_types();
    let first = Span { from: i64::MIN, offset: types.first().map_or(0, |t| i64::from(t.ut_offset())), kind: 0 };
    let mut spans = vec![first];
    spans.extend(zone.transitions().iter().filter_map(|transition| {
        let kind = transition.local_time_type_index();
        let offset = i64::from(types.get(kind)?.ut_offset());
        Some(Span { from: transition.unix_leap_time(), offset, kind })
    }));
    spans
}

static UTC: Loaded = Loaded { name: String::new(), rules: None, spans: Vec::new() };
static UTC_TYPE: LocalTimeType = LocalTimeType::utc();

impl Zone {
    /// Coordinated Universal Time.
    pub const UTC: Zone = Zone(&UTC);

    /// The zone with this IANA name (`Europe/Berlin`), from the host's tz database.
    pub fn named(name: &str) -> Result<Zone, UnknownZone> {
        if name == "UTC" {
            return Ok(Zone::UTC);
        }
        static LOADED: OnceLock<Mutex<HashMap<String, Zone>>> = OnceLock::new();
        let mut loaded = LOADED.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(zone) = loaded.get(name) {
            return Ok(*zone);
        }
        let rules = read(name)?;
        let spans = spans_of(&rules);
        let zone = Zone(Box::leak(Box::new(Loaded { name: name.to_string(), rules: Some(rules), spans })));
        loaded.insert(name.to_string(), zone);
        Ok(zone)
    }

    pub fn name(&self) -> &str {
        if self.is_utc() { "UTC" } else { &self.0.name }
    }

    pub fn is_utc(&self) -> bool {
        self.0.rules.is_none()
    }

    /// The local time type in force at `unix` seconds.
    fn type_at(&self, unix: i64) -> &'static LocalTimeType {
        if let Some(span) = self.span_at(unix) {
            return self.kind(span.kind);
        }
        match &self.0.rules {
            // Past the table's range (no rule for the far future): the last type known.
            Some(rules) => rules.find_local_time_type(unix).unwrap_or_else(|_| fallback_type(rules)),
            None => &UTC_TYPE,
        }
    }

    /// The span holding `unix`, while the file's transitions reach that far.
    fn span_at(&self, unix: i64) -> Option<&'static Span> {
        let spans = &self.0.spans;
        let last = spans.last()?;
        if unix >= last.from {
            return None;
        }
        let index = spans.partition_point(|span| span.from <= unix);
        spans.get(index.checked_sub(1)?)
    }

    fn kind(&self, index: usize) -> &'static LocalTimeType {
        let types = self.0.rules.as_ref().map_or(&[][..], |rules| rules.as_ref().local_time_types());
        types.get(index).unwrap_or(&UTC_TYPE)
    }

    /// `local` (seconds on the local clock) mapped through the spans: one
    /// search, then the span found and the one before it are the candidates.
    /// `None` past the file's last transition.
    fn map_local(&self, local: i64) -> Option<MappedLocalTime<ZoneOffset>> {
        let spans = &self.0.spans;
        let last = spans.last()?;
        // A day of margin: near the end of the table, the rule-based way decides.
        if local >= last.local_from().saturating_sub(86_400) {
            return None;
        }
        let index = spans.partition_point(|span| span.local_from() <= local).checked_sub(1)?;
        let offset = |span: &Span| ZoneOffset { zone: *self, kind: self.kind(span.kind) };
        let here = &spans[index];
        let here_fits = spans.get(index + 1).is_none_or(|next| local < next.from + here.offset);
        let before = index.checked_sub(1).map(|i| &spans[i]).filter(|before| local < here.from + before.offset);
        Some(match (before, here_fits) {
            (Some(before), true) => MappedLocalTime::Ambiguous(offset(before), offset(here)),
            (Some(before), false) => MappedLocalTime::Single(offset(before)),
            (None, true) => MappedLocalTime::Single(offset(here)),
            (None, false) => MappedLocalTime::None,
        })
    }

    /// `local` mapped without the spans: the offsets in force a day either
    /// side are the candidates (every zone's transitions are further apart).
    fn map_local_by_guess(&self, local: i64) -> MappedLocalTime<ZoneOffset> {
        // The instant `local` names under the offset in force at `guess`, if that offset holds there.
        let fit = |guess: i64| {
            let offset = i64::from(self.type_at(guess).ut_offset());
            let found = self.offset_at(local - offset);
            (i64::from(found.kind.ut_offset()) == offset).then_some((local - offset, found))
        };
        match (fit(local - 86_400), fit(local + 86_400)) {
            (None, None) => MappedLocalTime::None,
            (Some((_, only)), None) | (None, Some((_, only))) => MappedLocalTime::Single(only),
            (Some((at, one)), Some((other_at, _))) if at == other_at => MappedLocalTime::Single(one),
            (Some((at, one)), Some((other_at, other))) => {
                if at < other_at {
                    MappedLocalTime::Ambiguous(one, other)
                } else {
                    MappedLocalTime::Ambiguous(other, one)
                }
            }
        }
    }

    fn offset_at(&self, unix: i64) -> ZoneOffset {
        ZoneOffset { zone: *self, kind: self.type_at(unix) }
    }
}

fn fallback_type(rules: &'static tz::TimeZone) -> &'static LocalTimeType {
    rules.as_ref().local_time_types().last().unwrap_or(&UTC_TYPE)
}

/// Reads `name` from the tz database; only plain zone names, never a path out of it.
fn read(name: &str) -> Result<tz::TimeZone, UnknownZone> {
    let plain = !name.is_empty()
        && !name.starts_with('/')
        && name.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b));
    if !plain {
        return Err(UnknownZone { name: name.to_string(), no_database: false });
    }
    let tzdir = std::env::var("TZDIR").ok().filter(|dir| !dir.is_empty());
    let dirs: Vec<&str> = tzdir.as_deref().into_iter().chain(ZONE_DIRS).collect();
    let settings = tz::timezone::TimeZoneSettings::new(&dirs, |path| Ok(std::fs::read(path)?));
    // The leading colon: a file of the database or nothing, never a POSIX TZ rule string.
    settings.parse_posix_tz(&format!(":{name}")).map_err(|_| UnknownZone {
        name: name.to_string(),
        no_database: !dirs.iter().any(|dir| std::path::Path::new(dir).join("UTC").exists()),
    })
}

/// A zone name the host's tz database does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownZone {
    pub name: String,
    /// No tz database was found at all (a minimal container).
    pub no_database: bool,
}

impl UnknownZone {
    /// What to do about it, for a config diagnostic.
    pub fn hint(&self) -> &'static str {
        if self.no_database {
            "this host has no tz database (/usr/share/zoneinfo): install it (Debian: apt-get install tzdata), \
             set TZDIR, or use \"UTC\""
        } else {
            "use an IANA name such as \"UTC\" or \"Europe/Berlin\""
        }
    }
}

impl fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown time zone `{}`", self.name)
    }
}

impl std::error::Error for UnknownZone {}

impl FromStr for Zone {
    type Err = UnknownZone;

    fn from_str(name: &str) -> Result<Zone, UnknownZone> {
        Zone::named(name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        std::ptr::eq(self.0, other.0) || self.name() == other.name()
    }
}

impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The offset a zone has at one instant, with its abbreviation (`CET`, `CEST`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ZoneOffset {
    zone: Zone,
    kind: &'static LocalTimeType,
}

impl Offset for ZoneOffset {
    fn fix(&self) -> FixedOffset {
        FixedOffset::east_opt(self.kind.ut_offset()).unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero"))
    }
}

impl fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind.time_zone_designation() {
            "" if self.kind.ut_offset() == 0 => f.write_str("UTC"),
            "" => write!(f, "{}", self.fix()),
            abbreviation => f.write_str(abbreviation),
        }
    }
}

impl fmt::Debug for ZoneOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} ({})", self.fix())
    }
}

impl TimeZone for Zone {
    type Offset = ZoneOffset;

    fn from_offset(offset: &ZoneOffset) -> Zone {
        offset.zone
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<ZoneOffset> {
        self.offset_from_local_datetime(&local.and_time(chrono::NaiveTime::MIN))
    }

    /// The offsets under which `local` is a real instant: one, two where the
    /// clock went back over it, none where it jumped forward over it.
    ///
    /// The candidates are the offsets in force a day either side; every zone's
    /// transitions are further apart than that.
    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<ZoneOffset> {
        if self.is_utc() {
            return MappedLocalTime::Single(self.offset_at(0));
        }
        let wall = local.and_utc().timestamp();
        self.map_local(wall).unwrap_or_else(|| self.map_local_by_guess(wall))
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> ZoneOffset {
        self.offset_from_utc_datetime(&utc.and_time(chrono::NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> ZoneOffset {
        self.offset_at(utc.and_utc().timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn berlin_has_its_summer_and_winter_offsets_and_names() {
        let berlin = Zone::named("Europe/Berlin").unwrap();
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap().with_timezone(&berlin);
        let summer = Utc.with_ymd_and_hms(2026, 7, 15, 12, 0, 0).unwrap().with_timezone(&berlin);
        assert_eq!(winter.format("%H:%M %Z").to_string(), "13:00 CET");
        assert_eq!(summer.format("%H:%M %Z").to_string(), "14:00 CEST");
        // Far past the last transition in the file: the file's rule for the future still applies.
        let later = Utc.with_ymd_and_hms(2090, 7, 15, 12, 0, 0).unwrap().with_timezone(&berlin);
        assert_eq!(later.format("%H:%M %Z").to_string(), "14:00 CEST");
        assert!(std::ptr::eq(berlin.0, Zone::named("Europe/Berlin").unwrap().0), "read once");
    }

    #[test]
    fn local_times_in_a_gap_or_an_overlap_map_as_the_clock_did() {
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        // 2026-03-29 02:30 never happened; 2026-10-25 02:30 happened twice.
        assert!(matches!(berlin.from_local_datetime(&local("2026-03-29 02:30")), MappedLocalTime::None));
        let MappedLocalTime::Ambiguous(first, second) = berlin.from_local_datetime(&local("2026-10-25 02:30")) else {
            panic!("the hour after the clock went back is ambiguous");
        };
        assert_eq!(first.with_timezone(&Utc).to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(second.with_timezone(&Utc).to_rfc3339(), "2026-10-25T01:30:00+00:00");
        let plain = berlin.from_local_datetime(&local("2026-06-01 09:00")).single().unwrap();
        assert_eq!(plain.with_timezone(&Utc).to_rfc3339(), "2026-06-01T07:00:00+00:00");
        // Lord Howe moves by half an hour, New York the other way round.
        let lord_howe = Zone::named("Australia/Lord_Howe").unwrap();
        assert!(matches!(lord_howe.from_local_datetime(&local("2026-10-04 02:15")), MappedLocalTime::None));
        let new_york = Zone::named("America/New_York").unwrap();
        assert!(matches!(new_york.from_local_datetime(&local("2026-11-01 01:30")), MappedLocalTime::Ambiguous(..)));
    }

    #[test]
    fn the_spans_and_the_files_own_lookup_agree_every_hour_for_decades() {
        let start = local("1995-01-01 00:15").and_utc().timestamp();
        for name in ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Europe/London", "Pacific/Apia"] {
            let zone = Zone::named(name).unwrap();
            let rules = zone.0.rules.as_ref().unwrap();
            let mut checked = 0;
            // Hourly steps (at :15, inside Lord Howe's half-hour gap too) from 1995 to the end of the file's table, where the spans stop.
            for at in (start..).step_by(3600).take_while(|at| zone.span_at(*at).is_some()) {
                assert_eq!(zone.type_at(at), rules.find_local_time_type(at).unwrap(), "{name} at {at}");
                let spans = zone.map_local(at).map(|mapped| format!("{mapped:?}"));
                if let Some(spans) = spans {
                    assert_eq!(spans, format!("{:?}", zone.map_local_by_guess(at)), "{name}, local {at}");
                    checked += 1;
                }
            }
            assert!(checked > 150_000, "{name}: {checked} local times compared");
        }
    }

    #[test]
    fn utc_needs_no_database_and_bad_names_never_leave_it() {
        assert!(Zone::named("UTC").unwrap().is_utc());
        let at = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap().with_timezone(&Zone::UTC);
        assert_eq!(at.format("%H:%M %Z").to_string(), "12:00 UTC");
        for bad in ["", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "Europe/../UTC", "EST5EDT,M3.2.0"] {
            let err = Zone::named(bad).unwrap_err();
            assert_eq!(err.to_string(), format!("unknown time zone `{bad}`"));
        }
        assert_ne!(Zone::named("Europe/Berlin").unwrap(), Zone::UTC);
        // A host without the database is told how to get one, not to pick another name.
        let missing = UnknownZone { name: "Europe/Berlin".into(), no_database: true };
        assert!(missing.hint().contains("tzdata") && missing.hint().contains("TZDIR"), "{}", missing.hint());
        assert!(Zone::named("Mars/Olympus_Mons").unwrap_err().hint().contains("IANA"));
    }
}
