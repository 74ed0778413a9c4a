//! Expressions against times worked out by hand, including DST changes.

use super::cron::{Field, Schedule};
use crate::util::zone::Zone;
use chrono::{DateTime, NaiveDateTime, Utc};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("test time").with_timezone(&Utc)
}

fn runs(expr: &str, zone: Zone, from: &str, count: usize) -> Vec<String> {
    let schedule = Schedule::parse(expr).expect("valid expression");
    schedule.runs_after(at(from), zone).take(count).map(|t| t.format("%Y-%m-%dT%H:%MZ").to_string()).collect()
}

const UTC: Zone = Zone::UTC;

fn berlin() -> Zone {
    Zone::named("Europe/Berlin").unwrap()
}

fn new_york() -> Zone {
    Zone::named("America/New_York").unwrap()
}

#[test]
fn steps_ranges_lists_and_names() {
    assert_eq!(
        runs("*/15 * * * *", UTC, "2026-03-01T10:07:00Z", 3),
        ["2026-03-01T10:15Z", "2026-03-01T10:30Z", "2026-03-01T10:45Z"]
    );
    assert_eq!(
        runs("10-30/10 9 * * *", UTC, "2026-03-01T00:00:00Z", 4),
        ["2026-03-01T09:10Z", "2026-03-01T09:20Z", "2026-03-01T09:30Z", "2026-03-02T09:10Z"]
    );
    // `5/20` reads as "from 5, every 20".
    assert_eq!(
        runs("5/20 0 * * *", UTC, "2026-03-01T00:00:00Z", 3),
        ["2026-03-01T00:05Z", "2026-03-01T00:25Z", "2026-03-01T00:45Z"]
    );
    // 2026-01-01 is a Thursday; names are case-insensitive.
    assert_eq!(
        runs("0 9 * jan,JUL Mon-fri", UTC, "2026-01-01T12:00:00Z", 2),
        ["2026-01-02T09:00Z", "2026-01-05T09:00Z"]
    );
    assert_eq!(runs("0 9 * AUG *", UTC, "2026-01-01T12:00:00Z", 1), ["2026-08-01T09:00Z"]);
    // 7 is Sunday too; 2026-03-01 is a Sunday.
    assert_eq!(runs("0 2 * * 7", UTC, "2026-02-27T00:00:00Z", 2), ["2026-03-01T02:00Z", "2026-03-08T02:00Z"]);
    assert_eq!(
        runs("0 2 * * 5-7", UTC, "2026-02-26T00:00:00Z", 3),
        ["2026-02-27T02:00Z", "2026-02-28T02:00Z", "2026-03-01T02:00Z"]
    );
    assert_eq!(
        runs("0,30 1,13 * * *", UTC, "2026-03-01T01:00:00Z", 3),
        ["2026-03-01T01:30Z", "2026-03-01T13:00Z", "2026-03-01T13:30Z"]
    );
}

#[test]
fn shorthands_expand_to_their_fields() {
    let pairs = [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ];
    for (short, long) in pairs {
        assert_eq!(runs(short, UTC, "2026-05-17T10:20:00Z", 3), runs(long, UTC, "2026-05-17T10:20:00Z", 3), "{short}");
    }
    let reboot = Schedule::parse("@reboot").unwrap();
    assert!(reboot.is_reboot());
    assert_eq!(reboot.next_after(at("2026-01-01T00:00:00Z"), UTC), None);
}

#[test]
fn day_of_month_or_day_of_week_when_both_are_restricted() {
    // 1st, 15th and every Monday (2026-01-01 is a Thursday).
    assert_eq!(
        runs("0 0 1,15 * 1", UTC, "2025-12-31T12:00:00Z", 5),
        ["2026-01-01T00:00Z", "2026-01-05T00:00Z", "2026-01-12T00:00Z", "2026-01-15T00:00Z", "2026-01-19T00:00Z"]
    );
}

#[test]
fn a_field_starting_with_a_star_makes_the_day_rule_an_and() {
    // Days 1, 8, 15, 22, 29 that are also Mondays: in 2026 only June has them.
    assert_eq!(
        runs("0 0 */7 * 1", UTC, "2026-01-01T00:00:00Z", 6),
        [
            "2026-06-01T00:00Z",
            "2026-06-08T00:00Z",
            "2026-06-15T00:00Z",
            "2026-06-22T00:00Z",
            "2026-06-29T00:00Z",
            "2027-02-01T00:00Z"
        ]
    );
    // `*` in day-of-week leaves the day-of-month alone.
    assert_eq!(runs("0 0 13 * *", UTC, "2026-01-01T00:00:00Z", 2), ["2026-01-13T00:00Z", "2026-02-13T00:00Z"]);
    // Friday the 13th through a starred step in day-of-week: `*/5` is Sunday and Friday.
    assert_eq!(runs("0 0 13 * */5", UTC, "2026-01-01T00:00:00Z", 2), ["2026-02-13T00:00Z", "2026-03-13T00:00Z"]);
}

#[test]
fn month_ends_and_leap_days() {
    assert_eq!(
        runs("0 0 31 * *", UTC, "2026-01-31T00:00:00Z", 4),
        ["2026-03-31T00:00Z", "2026-05-31T00:00Z", "2026-07-31T00:00Z", "2026-08-31T00:00Z"]
    );
    assert_eq!(runs("0 0 29 2 *", UTC, "2026-01-01T00:00:00Z", 2), ["2028-02-29T00:00Z", "2032-02-29T00:00Z"]);
    // 2100 is not a leap year.
    assert_eq!(runs("0 0 29 2 *", UTC, "2097-01-01T00:00:00Z", 1), ["2104-02-29T00:00Z"]);
    assert_eq!(runs("59 23 28-29 2 *", UTC, "2028-02-28T23:59:00Z", 1), ["2028-02-29T23:59Z"]);
    // Year end.
    assert_eq!(runs("0 0 1 1 *", UTC, "2026-12-31T23:59:59Z", 1), ["2027-01-01T00:00Z"]);
}

#[test]
fn runs_are_strictly_after_the_start() {
    assert_eq!(runs("0 3 * * *", UTC, "2026-01-01T03:00:00Z", 1), ["2026-01-02T03:00Z"]);
    assert_eq!(runs("0 3 * * *", UTC, "2026-01-01T02:59:59Z", 1), ["2026-01-01T03:00Z"]);
}

#[test]
fn spring_forward_fixed_jobs_run_right_after_the_jump() {
    // Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00Z.
    assert_eq!(runs("30 2 * * *", berlin(), "2026-03-28T12:00:00Z", 2), ["2026-03-29T01:00Z", "2026-03-30T00:30Z"]);
    // Two skipped times and the first real one collapse into one run.
    assert_eq!(
        runs("0,30 2,3 * * *", berlin(), "2026-03-28T23:00:00Z", 3),
        ["2026-03-29T01:00Z", "2026-03-29T01:30Z", "2026-03-30T00:00Z"]
    );
    // New York, 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00Z.
    assert_eq!(runs("0 2 * * *", new_york(), "2026-03-07T12:00:00Z", 2), ["2026-03-08T07:00Z", "2026-03-09T06:00Z"]);
}

#[test]
fn spring_forward_wall_clock_jobs_skip_the_missing_hour() {
    assert_eq!(
        runs("*/30 * * * *", berlin(), "2026-03-29T00:15:00Z", 3),
        ["2026-03-29T00:30Z", "2026-03-29T01:00Z", "2026-03-29T01:30Z"]
    );
    assert_eq!(runs("30 * * * *", new_york(), "2026-03-08T06:00:00Z", 2), ["2026-03-08T06:30Z", "2026-03-08T07:30Z"]);
}

#[test]
fn fall_back_fixed_jobs_run_once() {
    // Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00Z; 02:30 happens twice.
    assert_eq!(runs("30 2 * * *", berlin(), "2026-10-24T12:00:00Z", 2), ["2026-10-25T00:30Z", "2026-10-26T01:30Z"]);
    // Starting inside the second pass: the first 02:30 already happened.
    assert_eq!(runs("30 2 * * *", berlin(), "2026-10-25T01:10:00Z", 1), ["2026-10-26T01:30Z"]);
    // New York, 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00Z.
    assert_eq!(runs("30 1 * * *", new_york(), "2026-10-31T12:00:00Z", 2), ["2026-11-01T05:30Z", "2026-11-02T06:30Z"]);
}

#[test]
fn fall_back_wall_clock_jobs_run_in_both_passes() {
    assert_eq!(
        runs("*/30 * * * *", berlin(), "2026-10-24T23:45:00Z", 5),
        ["2026-10-25T00:00Z", "2026-10-25T00:30Z", "2026-10-25T01:00Z", "2026-10-25T01:30Z", "2026-10-25T02:00Z"]
    );
    // Starting late in the first pass still finds the whole second pass.
    assert_eq!(runs("*/30 * * * *", berlin(), "2026-10-25T00:50:00Z", 2), ["2026-10-25T01:00Z", "2026-10-25T01:30Z"]);
    assert_eq!(
        runs("15 * * * *", new_york(), "2026-11-01T04:00:00Z", 4),
        ["2026-11-01T04:15Z", "2026-11-01T05:15Z", "2026-11-01T06:15Z", "2026-11-01T07:15Z"]
    );
}

#[test]
fn bad_expressions_name_the_field() {
    let cases: &[(&str, Option<Field>, &str)] = &[
        ("*/0 * * * *", Some(Field::Minute), "step of zero"),
        ("61 * * * *", Some(Field::Minute), "outside 0-59"),
        ("0 24 * * *", Some(Field::Hour), "outside 0-23"),
        ("0 0 32 * *", Some(Field::DayOfMonth), "outside 1-31"),
        ("0 0 0 * *", Some(Field::DayOfMonth), "outside 1-31"),
        ("0 0 * 13 *", Some(Field::Month), "outside 1-12"),
        ("0 0 * * 8", Some(Field::DayOfWeek), "outside 0-7"),
        ("0 0 * * funday", Some(Field::DayOfWeek), "not a number or name"),
        ("5-1 * * * *", Some(Field::Minute), "backwards"),
        ("1,,2 * * * *", Some(Field::Minute), "empty list item"),
        ("*/x * * * *", Some(Field::Minute), "not a number"),
        ("0 0 30 2 *", None, "never matches"),
        ("* * * *", None, "expected 5 fields"),
        ("0 * * * * *", None, "expected 5 fields"),
        ("", None, "expected 5 fields"),
        ("@fortnightly", None, "unknown shorthand"),
    ];
    for (expr, field, needle) in cases {
        let err = Schedule::parse(expr).expect_err(expr);
        assert_eq!(err.field, *field, "{expr}: {err}");
        assert!(err.to_string().contains(needle), "{expr}: {err}");
    }
    let err = Schedule::parse("0 0 32 * *").unwrap_err();
    assert_eq!(err.offset, 4, "the offset points at the day-of-month field");
}

#[test]
fn descriptions_read_like_sentences() {
    let cases = [
        ("0 2 * * 1", "At 02:00 on Monday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 3 * * *", "At 03:00 every day"),
        ("0 * * * *", "At minute 0 of every hour"),
        ("0 9 1 * *", "At 09:00 on day 1 of the month"),
        ("0 9 * * 1-5", "At 09:00 on Monday through Friday"),
        ("0 0 1 1,7 *", "At 00:00 on day 1 of the month in January and July"),
        ("@reboot", "At system start-up (not on the calendar)"),
    ];
    for (expr, words) in cases {
        assert_eq!(Schedule::parse(expr).unwrap().describe(), words, "{expr}");
    }
}

/// A small deterministic generator, so the property test needs no extra crate.
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

/// True when `at` is the first instant after a forward jump that swallowed a matching minute.
fn is_shifted_out_of_a_gap(schedule: &Schedule, at: DateTime<Utc>, zone: Zone) -> bool {
    use chrono::TimeZone;
    let before = (at - chrono::Duration::seconds(1)).with_timezone(&zone).naive_local();
    let landed: NaiveDateTime = at.with_timezone(&zone).naive_local();
    let mut probe = before + chrono::Duration::seconds(1);
    while probe < landed {
        if zone.from_local_datetime(&probe).single().is_none() && schedule.matches_local(probe) {
            return true;
        }
        probe += chrono::Duration::minutes(1);
    }
    false
}

#[test]
fn property_parsing_never_panics_and_runs_match_and_increase() {
    let mut rng = Lcg(0x5eed);
    let minutes = ["*", "*/7", "0", "30", "0-10/5", "59", "15,45", "5/20", "61", "*/0", "a", ""];
    let hours = ["*", "2", "*/3", "1-3", "23", "0,12", "24", "2-1"];
    let days = ["*", "1", "31", "29", "*/7", "1-7", "15,30", "32", "L"];
    let months = ["*", "2", "feb", "JAN-MAR", "*/2", "12", "13"];
    let weekdays = ["*", "1", "mon-fri", "0,6", "7", "*/3", "8", "sun"];
    let zones = [UTC, berlin(), new_york(), Zone::named("Australia/Lord_Howe").unwrap()];
    let mut valid = 0;
    for _ in 0..600 {
        let expr = format!(
            "{} {} {} {} {}",
            rng.pick(&minutes),
            rng.pick(&hours),
            rng.pick(&days),
            rng.pick(&months),
            rng.pick(&weekdays)
        );
        let Ok(schedule) = Schedule::parse(&expr) else { continue };
        valid += 1;
        let zone = zones[rng.next() as usize % zones.len()];
        let start = at("2026-01-01T00:00:00Z") + chrono::Duration::minutes((rng.next() % 600_000) as i64);
        let mut previous = start;
        for run in schedule.runs_after(start, zone).take(40) {
            assert!(run > previous, "{expr} in {zone}: {run} does not follow {previous}");
            let local = run.with_timezone(&zone).naive_local();
            assert!(
                schedule.matches_local(local) || is_shifted_out_of_a_gap(&schedule, run, zone),
                "{expr} in {zone}: {run} ({local} local) does not match"
            );
            previous = run;
        }
    }
    assert!(valid > 100, "the generator should produce enough valid expressions, got {valid}");
    // Arbitrary bytes never panic either.
    for _ in 0..2000 {
        let length = rng.next() % 24;
        let text: String = (0..length).map(|_| (b' ' + (rng.next() % 95) as u8) as char).collect();
        let _ = Schedule::parse(&text);
    }
}

#[test]
fn a_year_of_frequent_runs_loses_the_spring_hour_and_repeats_the_autumn_hour() {
    // 365 days x 144 runs, minus the six of the skipped hour, plus the six of the repeated one.
    let schedule = Schedule::parse("*/10 * * * *").unwrap();
    let runs: Vec<_> = schedule
        .runs_after(at("2025-12-31T22:59:59Z"), berlin())
        .take_while(|t| *t < at("2026-12-31T23:00:00Z"))
        .collect();
    assert_eq!(runs.len(), 365 * 144);
    assert!(runs.windows(2).all(|pair| pair[1] - pair[0] == chrono::Duration::minutes(10)), "one every 10 minutes");
    // A daily job keeps one run a day through both changes.
    let daily = Schedule::parse("30 2 * * *").unwrap();
    let count =
        daily.runs_after(at("2025-12-31T22:59:59Z"), berlin()).take_while(|t| *t < at("2026-12-31T23:00:00Z")).count();
    assert_eq!(count, 365);
}
