//! Calendar days that classic cron cannot name, for monthly maintenance:
//! `L` (the last day of the month), `LW` (its last weekday) and `15W` (the
//! weekday nearest the 15th) in the day-of-month field; `1#1` (the first
//! Monday) and `5L` (the last Friday) in the day-of-week field.
//!
//! These items sit in a field's list next to plain values and take part in
//! cronie's day-of-month/day-of-week rule like any other value: a field that
//! holds one is restricted (it does not start with `*`).

use chrono::{Datelike, NaiveDate, Weekday};

/// The special items of the two day fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpecialDays {
    /// `L`: the last day of the month.
    pub last_day: bool,
    /// `LW`: the last weekday (Monday to Friday) of the month.
    pub last_weekday: bool,
    /// `NW`: bit N set for "the weekday nearest day N", never leaving the month.
    pub nearest_weekday: u64,
    /// `D#N`: for weekday D (0 = Sunday), bit N set for its Nth occurrence in the month (1-5).
    pub nth: [u8; 7],
    /// `DL`: bit D set for the last such weekday of the month.
    pub last_of: u8,
}

impl SpecialDays {
    pub fn any_day_of_month(&self) -> bool {
        self.last_day || self.last_weekday || self.nearest_weekday != 0
    }

    pub fn any_day_of_week(&self) -> bool {
        self.last_of != 0 || self.nth.iter().any(|n| *n != 0)
    }

    /// Whether a special day-of-month item names `date`.
    pub fn day_of_month_matches(&self, date: NaiveDate) -> bool {
        if !self.any_day_of_month() {
            return false;
        }
        let day = date.day();
        let last = days_in_month(date);
        if self.last_day && day == last {
            return true;
        }
        if self.last_weekday && day == nearest_weekday(date, last) {
            return true;
        }
        // The weekday nearest N is at most two days from N.
        (day.saturating_sub(2).max(1)..=(day + 2).min(last))
            .any(|n| self.nearest_weekday & (1u64 << n) != 0 && nearest_weekday(date, n) == day)
    }

    /// Whether a special day-of-week item names `date`.
    pub fn day_of_week_matches(&self, date: NaiveDate) -> bool {
        if !self.any_day_of_week() {
            return false;
        }
        let weekday = date.weekday().num_days_from_sunday() as usize;
        let occurrence = (date.day() - 1) / 7 + 1;
        if self.nth[weekday] & (1u8 << occurrence) != 0 {
            return true;
        }
        self.last_of & (1u8 << weekday) != 0 && date.day() + 7 > days_in_month(date)
    }
}

/// The number of days in `date`'s month.
pub fn days_in_month(date: NaiveDate) -> u32 {
    let (year, month) = if date.month() == 12 { (date.year() + 1, 1) } else { (date.year(), date.month() + 1) };
    NaiveDate::from_ymd_opt(year, month, 1).and_then(|first| first.pred_opt()).map_or(28, |last| last.day())
}

/// The day of the weekday nearest day `n` of `date`'s month, never crossing
/// into another month: a Saturday goes back to Friday unless it is the 1st
/// (then on to Monday the 3rd); a Sunday goes on to Monday unless it is the
/// last day (then back to Friday).
fn nearest_weekday(date: NaiveDate, n: u32) -> u32 {
    let Some(day) = date.with_day(n) else { return 0 };
    match day.weekday() {
        Weekday::Sat if n == 1 => 3,
        Weekday::Sat => n - 1,
        Weekday::Sun if n == days_in_month(date) => n - 2,
        Weekday::Sun => n + 1,
        _ => n,
    }
}

/// Why a special item was refused, with a hint.
pub type ItemError = (String, Option<String>);

const STANDS_ALONE: &str = "`L`, `W` and `#` items stand alone in a list, e.g. \"1,15,L\"; no ranges or steps";

/// Takes a day-of-month item if it is `L`, `LW` or `NW`; `Ok(false)` when it is a plain item.
pub(super) fn day_of_month_item(item: &str, special: &mut SpecialDays) -> Result<bool, ItemError> {
    let upper = item.to_ascii_uppercase();
    if !upper.contains(['L', 'W']) {
        return Ok(false);
    }
    if upper.contains(['-', '/', '*']) {
        return Err((format!("`{item}` mixes a special day with a range or step"), Some(STANDS_ALONE.into())));
    }
    match upper.as_str() {
        "L" => special.last_day = true,
        "LW" | "WL" => special.last_weekday = true,
        _ => {
            let Some(number) = upper.strip_suffix('W') else {
                return Err((
                    format!("`{item}` is not a day"),
                    Some(
                        "L is the last day of the month, LW its last weekday, 15W the weekday nearest the 15th".into(),
                    ),
                ));
            };
            let day: u32 = number.parse().map_err(|_| {
                (
                    format!("`{item}` needs a day number before W"),
                    Some("write it like 15W: the weekday nearest the 15th".into()),
                )
            })?;
            if !(1..=31).contains(&day) {
                return Err((
                    format!("`{item}`: day {day} is outside 1-31"),
                    Some("write it like 15W: the weekday nearest the 15th".into()),
                ));
            }
            special.nearest_weekday |= 1u64 << day;
        }
    }
    Ok(true)
}

/// Takes a day-of-week item if it is `D#N` or `DL`; `Ok(false)` when it is a plain item.
/// `weekday` reads a number or name (0-7, SUN-SAT).
pub(super) fn day_of_week_item(
    item: &str,
    special: &mut SpecialDays,
    weekday: impl Fn(&str) -> Result<u32, String>,
) -> Result<bool, ItemError> {
    let hint = || Some("5L is the last Friday of the month, 1#1 the first Monday, MON#2 the second Monday".to_string());
    let (day_text, nth) = if let Some((day, n)) = item.split_once('#') {
        let n: u8 = n.parse().map_err(|_| (format!("`{item}`: `{n}` after # is not a number"), hint()))?;
        if !(1..=5).contains(&n) {
            return Err((format!("`{item}`: a month has a 1st to a 5th of each weekday, not a {n}th"), hint()));
        }
        (day, Some(n))
    } else if item.len() > 1 && (item.ends_with('L') || item.ends_with('l')) {
        (&item[..item.len() - 1], None)
    } else if item.eq_ignore_ascii_case("L") {
        return Err(("`L` alone does not name a day of the week".into(), hint()));
    } else {
        return Ok(false);
    };
    if day_text.contains(['-', '/', '*', ',']) {
        return Err((format!("`{item}` mixes a special day with a range or step"), Some(STANDS_ALONE.into())));
    }
    let day = weekday(day_text).map_err(|message| (format!("`{item}`: {message}"), hint()))? as usize % 7;
    match nth {
        Some(n) => special.nth[day] |= 1u8 << n,
        None => special.last_of |= 1u8 << day,
    }
    Ok(true)
}

/// English ordinals for the describer.
pub(super) fn ordinal(n: u32) -> &'static str {
    match n {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        5 => "fifth",
        _ => "last",
    }
}
