//! Five-field cron expressions, evaluated the way Vixie cron and cronie
//! evaluate them, plus the day items `L`, `W` and `#` that monthly
//! maintenance needs ("the first Monday"; see `cron_days`).
//!
//! Written here rather than taken from a crate because the semantics that
//! matter to on-call people are cron(8)'s own and few libraries follow them
//! exactly: a field that starts with `*` counts as unrestricted for the
//! day-of-month/day-of-week OR rule (cronie's `DOM_STAR`/`DOW_STAR`), and
//! daylight-saving changes treat fixed-time jobs differently from jobs with a
//! wildcard or step in the minute or hour field. Errors name the bad field.

use super::cron_days::{self, SpecialDays};
use crate::util::zone::Zone;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use std::collections::VecDeque;
use std::fmt;

/// The five fields, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Field {
    const ALL: [Field; 5] = [Field::Minute, Field::Hour, Field::DayOfMonth, Field::Month, Field::DayOfWeek];

    fn range(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            // 7 is accepted as a second Sunday and folded onto 0.
            Field::DayOfWeek => (0, 7),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
            Field::DayOfWeek => &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
            _ => &[],
        }
    }

    fn first_name_value(self) -> u32 {
        if self == Field::Month { 1 } else { 0 }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        })
    }
}

/// Why an expression was refused, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct CronError {
    /// The field at fault, if the problem is inside one.
    pub field: Option<Field>,
    /// Byte offset of the bad part inside the expression.
    pub offset: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl CronError {
    fn whole(message: impl Into<String>, hint: &str) -> CronError {
        CronError { field: None, offset: 0, message: message.into(), hint: Some(hint.to_string()) }
    }

    fn render(&self) -> String {
        match self.field {
            Some(field) => format!("{field} field: {}", self.message),
            None => self.message.clone(),
        }
    }
}

const FIELD_HINT: &str = "five fields: minute hour day-of-month month day-of-week, e.g. \"30 2 * * 1\"";

/// A parsed expression, ready to be evaluated in any time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    text: String,
    reboot: bool,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// `L`, `LW`, `15W`, `1#1`, `5L`: days named by their place in the month.
    special: SpecialDays,
    /// The day-of-month field starts with `*`.
    days_star: bool,
    /// The day-of-week field starts with `*`.
    weekdays_star: bool,
    /// A wildcard or step in the minute or hour field: such jobs follow the
    /// wall clock through DST changes instead of being moved or deduplicated.
    follows_wall_clock: bool,
    fields: [String; 5],
}

impl std::str::FromStr for Schedule {
    type Err = CronError;
    fn from_str(text: &str) -> Result<Schedule, CronError> {
        Schedule::parse(text)
    }
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, CronError> {
        let trimmed = text.trim();
        let lead = text.len() - text.trim_start().len();
        if let Some(name) = trimmed.strip_prefix('@') {
            let expanded = match name.to_ascii_lowercase().as_str() {
                "reboot" => return Ok(Schedule::reboot(trimmed)),
                "yearly" | "annually" => "0 0 1 1 *",
                "monthly" => "0 0 1 * *",
                "weekly" => "0 0 * * 0",
                "daily" | "midnight" => "0 0 * * *",
                "hourly" => "0 * * * *",
                _ => {
                    return Err(CronError {
                        field: None,
                        offset: lead,
                        message: format!("unknown shorthand `{trimmed}`"),
                        hint: Some("use @hourly, @daily, @weekly, @monthly, @yearly, @annually or @reboot".into()),
                    });
                }
            };
            let mut schedule = Schedule::parse(expanded)?;
            schedule.text = trimmed.to_string();
            return Ok(schedule);
        }
        let parts = split_fields(text);
        if parts.len() != 5 {
            return Err(CronError::whole(
                format!("expected 5 fields, found {} in `{trimmed}`", parts.len()),
                if parts.len() == 6 {
                    "seconds and year fields are not part of classic cron; drop the extra field"
                } else {
                    FIELD_HINT
                },
            ));
        }
        let mut masks = [0u64; 5];
        let mut special = SpecialDays::default();
        for (index, field) in Field::ALL.iter().enumerate() {
            let (offset, part) = parts[index];
            masks[index] = parse_field(*field, part, offset, &mut special)?;
        }
        // Sunday is both 0 and 7.
        if masks[4] & (1 << 7) != 0 {
            masks[4] = (masks[4] | 1) & !(1 << 7);
        }
        let starts_star = |index: usize| parts[index].1.starts_with('*');
        let wall = |index: usize| parts[index].1.contains('*') || parts[index].1.contains('/');
        let schedule = Schedule {
            text: trimmed.to_string(),
            reboot: false,
            minutes: masks[0],
            hours: masks[1],
            days: masks[2],
            months: masks[3],
            weekdays: masks[4],
            special,
            days_star: starts_star(2),
            weekdays_star: starts_star(4),
            follows_wall_clock: wall(0) || wall(1),
            fields: std::array::from_fn(|index| parts[index].1.to_string()),
        };
        if schedule.first_match_from(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default().into(), 2400).is_none() {
            return Err(CronError::whole(
                format!("`{trimmed}` never matches a real date"),
                "check the day-of-month against the month (there is no 30 February or 31 April)",
            ));
        }
        Ok(schedule)
    }

    fn reboot(text: &str) -> Schedule {
        Schedule {
            text: text.to_string(),
            reboot: true,
            minutes: 0,
            hours: 0,
            days: 0,
            months: 0,
            weekdays: 0,
            special: SpecialDays::default(),
            days_star: true,
            weekdays_star: true,
            follows_wall_clock: false,
            fields: Default::default(),
        }
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `@reboot`: runs at start-up, so it has no place on a calendar.
    pub fn is_reboot(&self) -> bool {
        self.reboot
    }

    /// Whether DST changes leave this job on the wall clock (wildcard or step in minute/hour).
    pub fn follows_wall_clock(&self) -> bool {
        self.follows_wall_clock
    }

    /// Whether the expression matches this local wall-clock minute.
    pub fn matches_local(&self, local: NaiveDateTime) -> bool {
        !self.reboot
            && bit(self.months, local.month())
            && self.day_matches(local.date())
            && bit(self.hours, local.hour())
            && bit(self.minutes, local.minute())
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let dom = bit(self.days, date.day()) || self.special.day_of_month_matches(date);
        let dow = bit(self.weekdays, date.weekday().num_days_from_sunday()) || self.special.day_of_week_matches(date);
        // cronie: a field starting with `*` makes the pair an AND; otherwise either may match.
        if self.days_star || self.weekdays_star { dom && dow } else { dom || dow }
    }

    /// The first matching local minute at or after `from` (whole minutes), up to the end of `last_year`.
    fn first_match_from(&self, from: NaiveDateTime, last_year: i32) -> Option<NaiveDateTime> {
        if self.reboot {
            return None;
        }
        let mut t = from.with_second(0)?.with_nanosecond(0)?;
        loop {
            if t.year() > last_year {
                return None;
            }
            let date = t.date();
            if !bit(self.months, t.month()) {
                t = match next_bit(self.months, t.month() + 1, 12) {
                    Some(month) => NaiveDate::from_ymd_opt(t.year(), month, 1)?,
                    None => NaiveDate::from_ymd_opt(t.year() + 1, lowest_bit(self.months)?, 1)?,
                }
                .into();
                continue;
            }
            if !self.day_matches(date) {
                t = date.succ_opt()?.into();
                continue;
            }
            if !bit(self.hours, t.hour()) {
                t = match next_bit(self.hours, t.hour() + 1, 23) {
                    Some(hour) => date.and_hms_opt(hour, 0, 0)?,
                    None => date.succ_opt()?.into(),
                };
                continue;
            }
            if !bit(self.minutes, t.minute()) {
                t = match next_bit(self.minutes, t.minute() + 1, 59) {
                    Some(minute) => date.and_hms_opt(t.hour(), minute, 0)?,
                    None if t.hour() == 23 => date.succ_opt()?.into(),
                    None => date.and_hms_opt(t.hour() + 1, 0, 0)?,
                };
                continue;
            }
            return Some(t);
        }
    }

    /// Every run strictly after `after`, in `zone`, in increasing order.
    pub fn runs_after(&self, after: DateTime<Utc>, zone: Zone) -> Runs<'_> {
        // Start a little before `after` on the local clock: after a backward
        // jump, local times earlier than `after`'s can still be later instants.
        let local = after.with_timezone(&zone).naive_local() - Duration::hours(LOOKBACK_HOURS);
        Runs {
            schedule: self,
            zone,
            after,
            cursor: Some(local),
            last_year: local.year() + SEARCH_YEARS,
            lookahead: None,
            repeats: VecDeque::new(),
            last: None,
            steady: None,
            previous_local: None,
        }
    }

    /// The next run strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>, zone: Zone) -> Option<DateTime<Utc>> {
        self.runs_after(after, zone).next()
    }

    /// The expression in words, e.g. "At 02:00 on Monday".
    pub fn describe(&self) -> String {
        super::describe::describe(self)
    }

    pub(super) fn field_text(&self, field: Field) -> &str {
        &self.fields[field as usize]
    }

    pub(super) fn mask(&self, field: Field) -> u64 {
        match field {
            Field::Minute => self.minutes,
            Field::Hour => self.hours,
            Field::DayOfMonth => self.days,
            Field::Month => self.months,
            Field::DayOfWeek => self.weekdays,
        }
    }

    pub(super) fn special_days(&self) -> &SpecialDays {
        &self.special
    }

    pub(super) fn day_fields_or(&self) -> bool {
        !(self.days_star || self.weekdays_star)
    }
}

/// A backward DST jump never exceeds this on any zone in the tz database.
const LOOKBACK_HOURS: i64 = 3;
/// How far ahead a search goes before giving up (an expression that matches
/// only 29 February on one weekday recurs within this).
const SEARCH_YEARS: i32 = 60;

/// Iterator over run instants; see [`Schedule::runs_after`].
pub struct Runs<'a> {
    schedule: &'a Schedule,
    zone: Zone,
    after: DateTime<Utc>,
    cursor: Option<NaiveDateTime>,
    last_year: i32,
    /// The next instant from the local-clock scan, held while repeats are drained.
    lookahead: Option<DateTime<Utc>>,
    /// Second occurrences of repeated local times (wall-clock jobs only), in order.
    repeats: VecDeque<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    /// A local span known to have one fixed offset: `(from, to, offset)`.
    steady: Option<(NaiveDateTime, NaiveDateTime, Duration)>,
    previous_local: Option<NaiveDateTime>,
}

impl Iterator for Runs<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        loop {
            if self.lookahead.is_none() {
                self.lookahead = self.scan();
            }
            let take_repeat = match (self.lookahead, self.repeats.front()) {
                (Some(ahead), Some(repeat)) => *repeat < ahead,
                (None, Some(_)) => true,
                (_, None) => false,
            };
            let candidate = if take_repeat { self.repeats.pop_front() } else { self.lookahead.take() }?;
            if candidate <= self.after || self.last.is_some_and(|last| candidate <= last) {
                continue;
            }
            self.last = Some(candidate);
            return Some(candidate);
        }
    }
}

/// Local times closer together than this share a looked-up offset (see `Runs::steady`).
const STEADY_HOURS: i64 = 12;

impl Runs<'_> {
    /// For frequent jobs, checks whether the offset is the same twelve hours
    /// on; if so, no transition lies between (no zone changes its offset
    /// twice within twelve hours), so later local times in that span convert
    /// with plain arithmetic instead of a zone lookup each.
    fn note_steady_offset(&mut self, local: NaiveDateTime, offset_secs: i32) {
        let frequent = self.previous_local.is_some_and(|previous| local - previous < Duration::hours(STEADY_HOURS));
        self.previous_local = Some(local);
        if !frequent {
            return;
        }
        let probe = local + Duration::hours(STEADY_HOURS);
        if let chrono::LocalResult::Single(at) = self.zone.from_local_datetime(&probe)
            && at.offset().fix().local_minus_utc() == offset_secs
        {
            self.steady = Some((local, probe, Duration::seconds(i64::from(offset_secs))));
        }
    }

    /// The earliest instant of the next matching local minute, applying cron(8)'s DST rules.
    fn scan(&mut self) -> Option<DateTime<Utc>> {
        loop {
            let local = self.schedule.first_match_from(self.cursor?, self.last_year)?;
            self.cursor = Some(local + Duration::minutes(1));
            if self.zone.is_utc() {
                return Some(local.and_utc());
            }
            if let Some((low, high, offset)) = self.steady
                && local >= low
                && local <= high
            {
                return Some((local - offset).and_utc());
            }
            match self.zone.from_local_datetime(&local) {
                chrono::LocalResult::Single(at) => {
                    self.note_steady_offset(local, at.offset().fix().local_minus_utc());
                    return Some(at.with_timezone(&Utc));
                }
                chrono::LocalResult::Ambiguous(first, second) => {
                    // The clock went back: fixed-time jobs run once, wall-clock jobs run in both passes.
                    let (early, late) = if first < second { (first, second) } else { (second, first) };
                    if self.schedule.follows_wall_clock {
                        self.repeats.push_back(late.with_timezone(&Utc));
                    }
                    return Some(early.with_timezone(&Utc));
                }
                chrono::LocalResult::None => {
                    // The clock jumped forward over this minute: fixed-time jobs run right after the jump.
                    if !self.schedule.follows_wall_clock
                        && let Some(after_jump) = end_of_gap(self.zone, local)
                    {
                        return Some(after_jump);
                    }
                }
            }
        }
    }
}

/// The instant the clock lands on after skipping over `local`.
fn end_of_gap(zone: Zone, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let mut probe = local;
    for _ in 0..(24 * 60) {
        probe += Duration::minutes(1);
        if let Some(at) = zone.from_local_datetime(&probe).earliest() {
            return Some(at.with_timezone(&Utc));
        }
    }
    None
}

fn bit(mask: u64, value: u32) -> bool {
    value < 64 && mask & (1u64 << value) != 0
}

fn next_bit(mask: u64, from: u32, max: u32) -> Option<u32> {
    if from > max {
        return None;
    }
    let shifted = mask >> from;
    if shifted == 0 {
        return None;
    }
    let found = from + shifted.trailing_zeros();
    (found <= max).then_some(found)
}

fn lowest_bit(mask: u64) -> Option<u32> {
    (mask != 0).then(|| mask.trailing_zeros())
}

/// Splits on whitespace, keeping each field's byte offset.
fn split_fields(text: &str) -> Vec<(usize, &str)> {
    let mut fields = Vec::new();
    let mut start = None;
    for (index, ch) in text.char_indices() {
        match (ch.is_whitespace(), start) {
            (true, Some(begin)) => {
                fields.push((begin, &text[begin..index]));
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    if let Some(begin) = start {
        fields.push((begin, &text[begin..]));
    }
    fields
}

fn parse_field(field: Field, text: &str, offset: usize, special: &mut SpecialDays) -> Result<u64, CronError> {
    let mut mask = 0u64;
    let mut item_offset = offset;
    for item in text.split(',') {
        let taken = match field {
            Field::DayOfMonth => cron_days::day_of_month_item(item, special),
            Field::DayOfWeek => cron_days::day_of_week_item(item, special, |text| value(field, text)),
            _ => Ok(false),
        }
        .map_err(|(message, hint)| CronError { field: Some(field), offset: item_offset, message, hint })?;
        if !taken {
            mask |= parse_item(field, item, item_offset)?;
        }
        item_offset += item.len() + 1;
    }
    Ok(mask)
}

fn parse_item(field: Field, item: &str, offset: usize) -> Result<u64, CronError> {
    let error = |message: String, hint: Option<String>| CronError { field: Some(field), offset, message, hint };
    let (min, max) = field.range();
    if item.is_empty() {
        return Err(error("empty list item".into(), Some("write lists like \"1,15,30\" without spaces".into())));
    }
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step: u32 =
                step.parse().map_err(|_| error(format!("step `{step}` in `{item}` is not a number"), None))?;
            if step == 0 {
                return Err(error(format!("step of zero in `{item}`"), Some("a step must be 1 or more".into())));
            }
            (range, Some(step))
        }
        None => (item, None),
    };
    let (low, high) = if range == "*" {
        (min, if field == Field::DayOfWeek { 6 } else { max })
    } else if let Some((low, high)) = range.split_once('-') {
        let low = value(field, low).map_err(|m| error(m, value_hint(field)))?;
        let high = value(field, high).map_err(|m| error(m, value_hint(field)))?;
        if low > high {
            return Err(error(format!("range `{range}` runs backwards"), Some("write the smaller value first".into())));
        }
        (low, high)
    } else {
        let single = value(field, range).map_err(|m| error(m, value_hint(field)))?;
        // `5/15` means "from 5 to the end, every 15", as cronie reads it.
        (single, if step.is_some() { max } else { single })
    };
    let step = step.unwrap_or(1);
    let mut mask = 0u64;
    let mut v = low;
    while v <= high {
        mask |= 1u64 << v;
        v += step;
    }
    Ok(mask)
}

fn value(field: Field, text: &str) -> Result<u32, String> {
    let (min, max) = field.range();
    if let Ok(number) = text.parse::<u32>() {
        if number < min || number > max {
            return Err(format!("`{number}` is outside {min}-{max}"));
        }
        return Ok(number);
    }
    let lower = text.to_ascii_lowercase();
    match field.names().iter().position(|name| *name == lower) {
        Some(index) => Ok(index as u32 + field.first_name_value()),
        None if text.is_empty() => Err("a range is missing a value".into()),
        None => Err(format!("`{text}` is not a number or name")),
    }
}

fn value_hint(field: Field) -> Option<String> {
    let (min, max) = field.range();
    Some(match field {
        Field::Month => "months are 1-12 or JAN-DEC".into(),
        Field::DayOfWeek => "days of the week are 0-7 (0 and 7 are Sunday) or SUN-SAT".into(),
        _ => format!("{field} values are {min}-{max}"),
    })
}
