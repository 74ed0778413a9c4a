//! `L`, `W` and `#` against dates worked out by hand, and a property test that
//! checks every run against a separate, naive reading of the expression.
//!
//! The 2026 calendar used below: 1 January is a Thursday, 1 February and
//! 1 March are Sundays, 1 April a Wednesday, 1 May a Friday, 1 June a Monday,
//! 1 July a Wednesday, 1 August a Saturday, 1 November a Sunday.

use super::cron::{Field, Schedule};
use crate::util::zone::Zone;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("test time").with_timezone(&Utc)
}

fn runs(expr: &str, zone: Zone, from: &str, count: usize) -> Vec<String> {
    let schedule = Schedule::parse(expr).unwrap_or_else(|err| panic!("{expr}: {err}"));
    schedule.runs_after(at(from), zone).take(count).map(|t| t.format("%Y-%m-%dT%H:%MZ").to_string()).collect()
}

fn days(expr: &str, from: &str, count: usize) -> Vec<String> {
    runs(expr, Zone::UTC, from, count).iter().map(|run| run[..10].to_string()).collect()
}

#[test]
fn nth_weekday_of_the_month() {
    assert_eq!(
        runs("0 9 * * 1#1", Zone::UTC, "2026-01-01T00:00:00Z", 3),
        ["2026-01-05T09:00Z", "2026-02-02T09:00Z", "2026-03-02T09:00Z"]
    );
    assert_eq!(days("0 9 * * 1#1", "2026-03-02T09:00:00Z", 3), ["2026-04-06", "2026-05-04", "2026-06-01"]);
    // The first Sunday, written three ways.
    for expr in ["0 3 * * 0#1", "0 3 * * 7#1", "0 3 * * sun#1"] {
        assert_eq!(days(expr, "2026-01-01T00:00:00Z", 4), ["2026-01-04", "2026-02-01", "2026-03-01", "2026-04-05"]);
    }
    assert_eq!(days("0 9 * * MON#2", "2026-01-01T00:00:00Z", 3), ["2026-01-12", "2026-02-09", "2026-03-09"]);
    // A fifth Monday only in months that have one.
    assert_eq!(days("0 0 * * 1#5", "2026-01-01T00:00:00Z", 3), ["2026-03-30", "2026-06-29", "2026-08-31"]);
    // Two in one field.
    assert_eq!(
        days("0 9 * * 1#1,1#3", "2026-01-01T00:00:00Z", 4),
        ["2026-01-05", "2026-01-19", "2026-02-02", "2026-02-16"]
    );
    // With a month restriction: 1 January 2027 is a Friday.
    assert_eq!(days("0 9 * 1,7 1#1", "2026-01-01T00:00:00Z", 3), ["2026-01-05", "2026-07-06", "2027-01-04"]);
}

#[test]
fn last_weekday_of_the_month() {
    assert_eq!(
        days("0 18 * * 5L", "2026-01-01T00:00:00Z", 5),
        ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24", "2026-05-29"]
    );
    assert_eq!(days("0 18 * * friL", "2026-01-01T00:00:00Z", 1), ["2026-01-30"]);
    // Last Saturday or last Sunday.
    assert_eq!(
        days("0 0 * * 0L,6L", "2026-01-01T00:00:00Z", 4),
        ["2026-01-25", "2026-01-31", "2026-02-22", "2026-02-28"]
    );
}

#[test]
fn last_day_of_the_month() {
    assert_eq!(
        runs("0 23 L * *", Zone::UTC, "2026-01-01T00:00:00Z", 4),
        ["2026-01-31T23:00Z", "2026-02-28T23:00Z", "2026-03-31T23:00Z", "2026-04-30T23:00Z"]
    );
    assert_eq!(days("0 23 L 2 *", "2027-03-01T00:00:00Z", 2), ["2028-02-29", "2029-02-28"]);
    assert_eq!(
        days("0 0 L,15 * *", "2026-01-01T00:00:00Z", 4),
        ["2026-01-15", "2026-01-31", "2026-02-15", "2026-02-28"]
    );
    assert_eq!(days("0 0 l * *", "2026-04-01T00:00:00Z", 1), ["2026-04-30"]);
}

#[test]
fn nearest_weekday_never_leaves_the_month() {
    // 31 January is a Saturday, 28 February a Saturday, 31 May a Sunday.
    assert_eq!(
        days("0 0 LW * *", "2026-01-01T00:00:00Z", 5),
        ["2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30", "2026-05-29"]
    );
    // The 15th: Thursday in January; Sunday in February, March and November (on to Monday);
    // Saturday in August (back to Friday).
    assert_eq!(
        days("0 0 15W * *", "2026-01-01T00:00:00Z", 4),
        ["2026-01-15", "2026-02-16", "2026-03-16", "2026-04-15"]
    );
    assert_eq!(days("0 0 15W * *", "2026-08-01T00:00:00Z", 1), ["2026-08-14"]);
    assert_eq!(days("0 0 15W * *", "2026-11-01T00:00:00Z", 1), ["2026-11-16"]);
    // A Saturday 1st goes on to Monday the 3rd, not back into July.
    assert_eq!(days("0 0 1W * *", "2026-07-02T00:00:00Z", 1), ["2026-08-03"]);
    assert_eq!(days("0 0 1W * *", "2025-12-31T12:00:00Z", 3), ["2026-01-01", "2026-02-02", "2026-03-02"]);
    // A Sunday 31st goes back to Friday the 29th, not on into June; no 31st, no run.
    assert_eq!(
        days("0 0 31W * *", "2026-01-01T00:00:00Z", 5),
        ["2026-01-30", "2026-03-31", "2026-05-29", "2026-07-31", "2026-08-31"]
    );
}

#[test]
fn special_days_follow_the_day_of_month_or_day_of_week_rule() {
    // Both restricted: day 1 or the first Monday.
    assert_eq!(
        days("0 0 1 * 1#1", "2025-12-31T12:00:00Z", 6),
        ["2026-01-01", "2026-01-05", "2026-02-01", "2026-02-02", "2026-03-01", "2026-03-02"]
    );
    // The last day or the last Friday.
    assert_eq!(days("0 0 L * 5L", "2026-01-01T00:00:00Z", 4), ["2026-01-30", "2026-01-31", "2026-02-27", "2026-02-28"]);
    // A field starting with `*` makes it an AND: odd days that are the last Friday.
    assert_eq!(days("0 0 */2 * 5L", "2026-01-01T00:00:00Z", 3), ["2026-02-27", "2026-03-27", "2026-05-29"]);
}

#[test]
fn special_days_keep_the_daylight_saving_rules() {
    let berlin = Zone::named("Europe/Berlin").unwrap();
    // The last Sunday of March 2026 is the 29th, when 02:00 becomes 03:00 at 01:00Z:
    // a fixed-time job runs right after the jump; the last Sunday of April is the 26th (CEST).
    assert_eq!(runs("30 2 * * 0L", berlin, "2026-03-01T00:00:00Z", 2), ["2026-03-29T01:00Z", "2026-04-26T00:30Z"]);
}

#[test]
fn bad_special_days_name_the_field_and_say_why() {
    let cases: &[(&str, Field, &str)] = &[
        ("0 0 * * 1#6", Field::DayOfWeek, "not a 6th"),
        ("0 0 * * 1#0", Field::DayOfWeek, "not a 0th"),
        ("0 0 * * 1#x", Field::DayOfWeek, "not a number"),
        ("0 0 * * 9#1", Field::DayOfWeek, "outside 0-7"),
        ("0 0 * * 8L", Field::DayOfWeek, "outside 0-7"),
        ("0 0 * * L", Field::DayOfWeek, "alone"),
        ("0 0 * * 1-5#1", Field::DayOfWeek, "range or step"),
        ("0 0 32W * *", Field::DayOfMonth, "outside 1-31"),
        ("0 0 W * *", Field::DayOfMonth, "needs a day number"),
        ("0 0 L-2 * *", Field::DayOfMonth, "range or step"),
        ("0 0 */2W * *", Field::DayOfMonth, "range or step"),
        ("0 0 LX * *", Field::DayOfMonth, "not a day"),
    ];
    for (expr, field, needle) in cases {
        let err = Schedule::parse(expr).expect_err(expr);
        assert_eq!(err.field, Some(*field), "{expr}: {err}");
        assert!(err.to_string().contains(needle), "{expr}: {err}");
        assert!(err.hint.is_some(), "{expr}: a hint says what is allowed");
    }
    let err = Schedule::parse("0 0 1,LX * *").unwrap_err();
    assert_eq!(err.offset, 6, "the offset points at the bad item");
    // A month without the day never runs; a whole year without it is refused.
    assert!(Schedule::parse("0 0 30W 2 *").unwrap_err().to_string().contains("never matches"));
}

#[test]
fn special_days_in_words() {
    let cases = [
        ("0 9 * * 1#1", "On the first Monday of the month at 09:00"),
        ("0 3 * * SUN#1", "On the first Sunday of the month at 03:00"),
        ("0 9 * * 1#1,1#3", "On the first Monday or the third Monday of the month at 09:00"),
        ("0 18 * * 5L", "On the last Friday of the month at 18:00"),
        ("0 23 L * *", "On the last day of the month at 23:00"),
        ("0 0 LW * *", "On the last weekday of the month at 00:00"),
        ("0 0 15W * *", "On the weekday nearest day 15 of the month at 00:00"),
        ("0 0 1,L * *", "On day 1 or the last day of the month at 00:00"),
        ("*/15 * L * *", "On the last day of the month, every 15 minutes"),
        ("0 0 1 * 1#1", "On day 1 of the month or on the first Monday of the month at 00:00"),
        ("0 9 * 1,7 1#1", "On the first Monday of the month in January and July at 09:00"),
        ("0 * L * *", "On the last day of the month at minute 0 of every hour"),
    ];
    for (expr, words) in cases {
        assert_eq!(Schedule::parse(expr).unwrap().describe(), words, "{expr}");
    }
}

/// A naive reading of the expressions the property test generates, written
/// without the evaluator's masks or shortcuts: it counts weekdays and looks
/// for the nearest weekday by walking the month.
struct Oracle {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    months: Vec<u32>,
    dom: Vec<String>,
    dow: Vec<String>,
    dom_star: bool,
    dow_star: bool,
}

const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MONTH_NAMES: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

fn number(text: &str, names: &[&str], first: u32) -> u32 {
    let lower = text.to_ascii_lowercase();
    match names.iter().position(|name| *name == lower) {
        Some(index) => index as u32 + first,
        None => text.parse().expect("generated values are numbers or names"),
    }
}

fn values(text: &str, low: u32, high: u32, names: &[&str], first: u32) -> Vec<u32> {
    let mut all = Vec::new();
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, step.parse::<usize>().expect("step")),
            None => (item, 1),
        };
        let (from, to) = match range.split_once('-') {
            _ if range == "*" => (low, high),
            Some((a, b)) => (number(a, names, first), number(b, names, first)),
            None => {
                let single = number(range, names, first);
                (single, single)
            }
        };
        all.extend((from..=to).step_by(step));
    }
    all
}

fn month_days(date: NaiveDate) -> Vec<NaiveDate> {
    (1..=31).filter_map(|day| date.with_day(day)).collect()
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

impl Oracle {
    fn new(expr: &str) -> Oracle {
        let fields: Vec<&str> = expr.split(' ').collect();
        Oracle {
            minutes: values(fields[0], 0, 59, &[], 0),
            hours: values(fields[1], 0, 23, &[], 0),
            months: values(fields[3], 1, 12, &MONTH_NAMES, 1),
            dom: fields[2].split(',').map(str::to_string).collect(),
            dow: fields[4].split(',').map(str::to_string).collect(),
            dom_star: fields[2].starts_with('*'),
            dow_star: fields[4].starts_with('*'),
        }
    }

    fn dom_item(item: &str, date: NaiveDate) -> bool {
        let days = month_days(date);
        let last = *days.last().expect("a month has days");
        match item {
            "L" => date == last,
            "LW" => Some(&date) == days.iter().rev().find(|d| is_weekday(**d)),
            _ if item.ends_with('W') => {
                let n: u32 = item.trim_end_matches('W').parse().expect("day");
                n <= last.day()
                    && days.iter().filter(|d| is_weekday(**d)).min_by_key(|d| (d.day() as i64 - n as i64).abs())
                        == Some(&date)
            }
            _ => values(item, 1, 31, &[], 0).contains(&date.day()),
        }
    }

    fn dow_item(item: &str, date: NaiveDate) -> bool {
        let same_weekday: Vec<NaiveDate> =
            month_days(date).into_iter().filter(|d| d.weekday() == date.weekday()).collect();
        let today = date.weekday().num_days_from_sunday();
        if let Some((day, n)) = item.split_once('#') {
            let n: usize = n.parse().expect("nth");
            return number(day, &DAY_NAMES, 0) % 7 == today && same_weekday.get(n - 1) == Some(&date);
        }
        if let Some(day) = item.strip_suffix('L').filter(|d| !d.is_empty()) {
            return number(day, &DAY_NAMES, 0) % 7 == today && same_weekday.last() == Some(&date);
        }
        values(item, 0, 6, &DAY_NAMES, 0).iter().any(|v| v % 7 == today)
    }

    fn day(&self, date: NaiveDate) -> bool {
        if !self.months.contains(&date.month()) {
            return false;
        }
        let dom = self.dom.iter().any(|item| Oracle::dom_item(item, date));
        let dow = self.dow.iter().any(|item| Oracle::dow_item(item, date));
        if self.dom_star || self.dow_star { dom && dow } else { dom || dow }
    }

    /// Every matching minute of `date`, in order.
    fn minutes_of(&self, date: NaiveDate) -> Vec<DateTime<Utc>> {
        if !self.day(date) {
            return Vec::new();
        }
        let mut all: Vec<DateTime<Utc>> = self
            .hours
            .iter()
            .flat_map(|h| self.minutes.iter().filter_map(move |m| date.and_hms_opt(*h, *m, 0)))
            .map(|local| local.and_utc())
            .collect();
        all.sort();
        all
    }
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() as usize % items.len()]
    }
}

#[test]
fn property_every_run_matches_and_none_is_skipped() {
    let minutes = ["0", "30", "*/20", "5,50", "0-10/5"];
    let hours = ["9", "*/6", "1-3", "23", "0"];
    let doms = ["*", "L", "LW", "15W", "1W", "31W", "1,L", "13", "*/10", "28-31", "30W,2W"];
    let months = ["*", "2", "1-6", "*/3", "feb,nov", "8"];
    let dows = ["*", "1#1", "0#1", "5L", "1#5", "1-5", "1#2,3#3", "6", "0L,6L", "MON", "sun#1"];
    let mut rng = Lcg(0xca1e_da7e);
    let mut checked = 0;
    for _ in 0..400 {
        let expr = format!(
            "{} {} {} {} {}",
            rng.pick(&minutes),
            rng.pick(&hours),
            rng.pick(&doms),
            rng.pick(&months),
            rng.pick(&dows)
        );
        let schedule = match Schedule::parse(&expr) {
            Ok(schedule) => schedule,
            // `31W` in February and November only: refused, rightly.
            Err(err) if err.to_string().contains("never matches") => continue,
            Err(err) => panic!("{expr}: {err}"),
        };
        let oracle = Oracle::new(&expr);
        let start = at("2026-01-01T00:00:00Z") + Duration::minutes((rng.next() % 2_500_000) as i64);
        let mut previous = start;
        for run in schedule.runs_after(start, Zone::UTC).take(6) {
            assert!(run > previous, "{expr}: {run} does not follow {previous}");
            assert_eq!(run.second(), 0, "{expr}: whole minutes");
            assert!(oracle.minutes_of(run.date_naive()).contains(&run), "{expr}: {run} does not satisfy it");
            // Nothing matching lies strictly between the previous run (or the start) and this one.
            let mut date = previous.date_naive();
            while date <= run.date_naive() {
                if let Some(missed) = oracle.minutes_of(date).into_iter().find(|t| *t > previous && *t < run) {
                    panic!("{expr}: {missed} matches but was skipped between {previous} and {run}");
                }
                date = date.succ_opt().expect("date");
            }
            previous = run;
            checked += 1;
        }
        // In a zone with daylight saving, every run still falls on a matching local day
        // (a job moved out of a skipped hour stays on its day).
        let zone = Zone::named("America/New_York").unwrap();
        for run in schedule.runs_after(start, zone).take(4) {
            let local = run.with_timezone(&zone).date_naive();
            assert!(oracle.day(local), "{expr} in New York: {run} falls on {local}, which does not match");
        }
    }
    assert!(checked > 2000, "enough runs were checked: {checked}");
}
