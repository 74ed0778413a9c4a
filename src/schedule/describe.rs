//! Cron expressions in words: "At 02:00 on Monday", "Every 15 minutes",
//! "On the first Monday of the month at 09:00".

use super::cron::{Field, Schedule};
use super::cron_days::ordinal;

const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(super) fn describe(schedule: &Schedule) -> String {
    if schedule.is_reboot() {
        return "At system start-up (not on the calendar)".into();
    }
    if schedule.special_days().any_day_of_month() || schedule.special_days().any_day_of_week() {
        return describe_special(schedule);
    }
    let mut text = time_part(schedule);
    let days = schedule.field_text(Field::DayOfMonth) != "*";
    let weekdays = schedule.field_text(Field::DayOfWeek) != "*";
    let day_text = list(schedule, Field::DayOfMonth, |v| v.to_string());
    let weekday_text = list(schedule, Field::DayOfWeek, |v| WEEKDAYS[v as usize % 7].to_string());
    match (days, weekdays) {
        (false, false) => {}
        (true, false) => text.push_str(&format!(" on day {day_text} of the month")),
        (false, true) => text.push_str(&format!(" on {weekday_text}")),
        (true, true) if schedule.day_fields_or() => {
            text.push_str(&format!(" on day {day_text} of the month or on {weekday_text}"))
        }
        (true, true) => text.push_str(&format!(" on day {day_text} of the month if it is {weekday_text}")),
    }
    if schedule.field_text(Field::Month) != "*" {
        text.push_str(&format!(" in {}", list(schedule, Field::Month, |v| MONTHS[(v as usize + 11) % 12].to_string())));
    }
    if !days && !weekdays && schedule.field_text(Field::Month) == "*" && single(schedule, Field::Hour).is_some() {
        text.push_str(" every day");
    }
    text
}

/// Days named by their place in the month lead the sentence: "On the last day of the month at 23:00".
fn describe_special(schedule: &Schedule) -> String {
    let special = schedule.special_days();
    let mut dom: Vec<String> = Vec::new();
    if schedule.mask(Field::DayOfMonth) != 0 {
        dom.push(format!("day {}", list(schedule, Field::DayOfMonth, |v| v.to_string())));
    }
    for n in 1..=31u32 {
        if special.nearest_weekday & (1u64 << n) != 0 {
            dom.push(format!("the weekday nearest day {n}"));
        }
    }
    if special.last_weekday {
        dom.push("the last weekday".into());
    }
    if special.last_day {
        dom.push("the last day".into());
    }
    let mut dow: Vec<String> = Vec::new();
    let mut dow_special = false;
    if schedule.mask(Field::DayOfWeek) != 0 && schedule.field_text(Field::DayOfWeek) != "*" {
        dow.push(list(schedule, Field::DayOfWeek, |v| WEEKDAYS[v as usize % 7].to_string()));
    }
    for (day, name) in WEEKDAYS.iter().enumerate() {
        for n in 1..=5u32 {
            if special.nth[day] & (1u8 << n) != 0 {
                dow.push(format!("the {} {name}", ordinal(n)));
                dow_special = true;
            }
        }
        if special.last_of & (1u8 << day) != 0 {
            dow.push(format!("the last {name}"));
            dow_special = true;
        }
    }
    let restricted_dom = schedule.field_text(Field::DayOfMonth) != "*";
    let dom_text = (restricted_dom && !dom.is_empty()).then(|| format!("{} of the month", dom.join(" or ")));
    let dow_text = (!dow.is_empty()).then(|| {
        let joined = dow.join(" or ");
        if dow_special { format!("{joined} of the month") } else { joined }
    });
    let days = match (dom_text, dow_text) {
        (Some(dom), Some(dow)) if schedule.day_fields_or() => format!("{dom} or on {dow}"),
        (Some(dom), Some(dow)) => format!("{dom} if it is {dow}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => "every day".into(),
    };
    let mut text = format!("On {days}");
    if schedule.field_text(Field::Month) != "*" {
        text.push_str(&format!(" in {}", list(schedule, Field::Month, |v| MONTHS[(v as usize + 11) % 12].to_string())));
    }
    let time = time_part(schedule);
    match time.strip_prefix("At ") {
        Some(rest) => format!("{text} at {rest}"),
        None => {
            let mut chars = time.chars();
            let lowered: String = chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default();
            format!("{text}, {lowered}")
        }
    }
}

fn time_part(schedule: &Schedule) -> String {
    let minute_text = schedule.field_text(Field::Minute);
    let hour_text = schedule.field_text(Field::Hour);
    match (single(schedule, Field::Minute), single(schedule, Field::Hour)) {
        (Some(minute), Some(hour)) => format!("At {hour:02}:{minute:02}"),
        (Some(minute), None) if hour_text == "*" => format!("At minute {minute} of every hour"),
        (Some(minute), None) => {
            format!("At minute {minute} past hour {}", list(schedule, Field::Hour, |v| v.to_string()))
        }
        (None, _) if minute_text == "*" && hour_text == "*" => "Every minute".into(),
        (None, _) => {
            let minutes = match minute_text.strip_prefix("*/") {
                Some(step) => format!("Every {step} minutes"),
                None if minute_text == "*" => "Every minute".into(),
                None => format!("At minutes {}", list(schedule, Field::Minute, |v| v.to_string())),
            };
            if hour_text == "*" {
                minutes
            } else {
                format!("{minutes} past hour {}", list(schedule, Field::Hour, |v| v.to_string()))
            }
        }
    }
}

fn single(schedule: &Schedule, field: Field) -> Option<u32> {
    let mask = schedule.mask(field);
    (mask.count_ones() == 1).then(|| mask.trailing_zeros())
}

/// The values of a field as a short list with ranges: "1-5, 10 and 20".
fn list(schedule: &Schedule, field: Field, name: impl Fn(u32) -> String) -> String {
    let mask = schedule.mask(field);
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for value in 0..64u32 {
        if mask & (1u64 << value) == 0 {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == value => *end = value,
            _ => runs.push((value, value)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(start, end)| match end - start {
            0 => name(start),
            1 => format!("{} and {}", name(start), name(end)),
            _ => format!("{} through {}", name(start), name(end)),
        })
        .collect();
    match parts.len() {
        0 => String::new(),
        1 => parts[0].clone(),
        n if n > 6 => schedule.field_text(field).to_string(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}
