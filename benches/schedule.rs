//! Cron evaluation and the calendar frame.
//!
//! Goals: the next 1,000 runs of each of 1,000 expressions in under 100 ms
//! in total; the calendar tab's frame with a month full of runs in under 1 ms.
//! Days named by their place in the month (`L`, `W`, `#`) are measured too:
//! the next 120 runs (ten years of a monthly task) of 100 such expressions.

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use firstwatch::schedule::{How, Plan, RunRecord, Schedule, Task, Timing};
use firstwatch::theme::Theme;
use firstwatch::tui::keymap::Keymap;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::tabs::TabMsg;
use firstwatch::tui::tabs::calendar::{CalendarTab, Msg};
use firstwatch::tui::{Action, Model, update, view};
use firstwatch::util::zone::Zone;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

/// A thousand varied expressions: frequent, fixed, weekly, monthly, with names and both day fields.
fn expressions() -> Vec<String> {
    let minutes = ["*/5", "*/15", "0", "30", "0,30", "10-50/20", "7"];
    let hours = ["*", "2", "*/3", "9-17", "0,12", "1"];
    let days = ["*", "*", "1", "1-7", "15,28", "*/10"];
    let months = ["*", "*", "*", "jan,apr,jul,oct", "*/2"];
    let weekdays = ["*", "*", "1", "mon-fri", "0,6", "3"];
    (0..1000)
        .map(|i| {
            format!(
                "{} {} {} {} {}",
                minutes[i % minutes.len()],
                hours[(i / 7) % hours.len()],
                days[(i / 3) % days.len()],
                months[(i / 11) % months.len()],
                weekdays[(i / 5) % weekdays.len()]
            )
        })
        .collect()
}

fn next_runs(c: &mut Criterion) {
    let zones = [Zone::UTC, Zone::named("Europe/Berlin").unwrap(), Zone::named("America/New_York").unwrap()];
    let schedules: Vec<(Schedule, Zone)> = expressions()
        .iter()
        .enumerate()
        .map(|(i, text)| (Schedule::parse(text).expect("bench expressions are valid"), zones[i % zones.len()]))
        .collect();
    let from = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
    let mut group = c.benchmark_group("cron");
    group.sample_size(10);
    group.bench_function("next 1000 runs of 1000 expressions", |b| {
        b.iter(|| {
            let mut total = 0usize;
            for (schedule, zone) in &schedules {
                total += schedule.runs_after(black_box(from), *zone).take(1000).count();
            }
            // A few expressions (e.g. Mondays that are the 1st, 11th, 21st or 31st of four months)
            // fire less than 1000 times within the 60-year search horizon.
            assert!(total > 950_000, "{total}");
            total
        })
    });
    let monthly = [
        "0 9 * * 1#1",
        "0 3 * * 0#1",
        "0 18 * * 5L",
        "0 23 L * *",
        "0 0 LW * *",
        "0 0 15W * *",
        "30 2 * * 0L",
        "0 9 1 * 1#1",
        "0 9 * 1,4,7,10 1#2",
        "0 0 1W,L * *",
    ];
    let special: Vec<(Schedule, Zone)> = (0..100)
        .map(|i| (Schedule::parse(monthly[i % monthly.len()]).expect("valid"), zones[i % zones.len()]))
        .collect();
    group.bench_function("next 120 runs of 100 L/W/# expressions", |b| {
        b.iter(|| {
            let total: usize = special
                .iter()
                .map(|(schedule, zone)| schedule.runs_after(black_box(from), *zone).take(120).count())
                .sum();
            assert_eq!(total, 12_000);
            total
        })
    });
    group.bench_function("parse 1000 expressions", |b| {
        let texts = expressions();
        b.iter(|| texts.iter().filter(|t| Schedule::parse(black_box(t)).is_ok()).count())
    });
    group.finish();
}

fn calendar_frame(c: &mut Criterion) {
    let now = DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().with_timezone(&Utc);
    let mut plan = Plan::default();
    for (i, text) in
        ["*/5 * * * *", "*/15 * * * *", "0 * * * *", "0 3 * * *", "0 2 * * 1", "30 9 * * 1-5"].iter().enumerate()
    {
        plan.tasks.push(Task {
            name: format!("task {i}"),
            timing: Timing::Cron(Schedule::parse(text).unwrap()),
            zone: Zone::UTC,
            argv: Vec::new(),
            dir: None,
            env: Default::default(),
            command: None,
            user: None,
            expected: Some(std::time::Duration::from_secs(60)),
            description: None,
            origin: firstwatch::schedule::Origin::Config,
        });
    }
    // A recorded run for every scheduled time of the month so far, some failed.
    let start = now - Duration::days(19);
    let mut runs = Vec::new();
    for task in &plan.tasks {
        for at in task.runs_between(start, now, 100_000) {
            let id = runs.len() as i64;
            runs.push(RunRecord {
                id,
                task: task.name.clone(),
                started: at,
                ended: Some(at + Duration::seconds(30)),
                exit_code: Some(if id % 97 == 0 { 1 } else { 0 }),
                output_tail: None,
                how: How::Wrap,
                user: "cron".into(),
                host: "bench".into(),
            });
        }
    }
    let runs = Arc::new(runs);
    let mut model = Model::new(Keymap::defaults(), Theme::built_in("default-dark"), "bench-host".into(), Zone::UTC);
    model.tabs.calendar = CalendarTab::with_plan(plan, Zone::UTC);
    update(&mut model, Action::Tick(now), Instant::now());
    update(&mut model, Action::Msg(TabMsg::Calendar(Msg::History(Arc::clone(&runs)))), Instant::now());
    update(&mut model, Action::SelectTab(TabId::Calendar), Instant::now());
    c.bench_function("calendar tab frame 120x40, month full of runs", |b| {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        b.iter(|| {
            terminal.clear().unwrap();
            terminal.draw(|frame| view::render(black_box(&model), frame)).unwrap();
        })
    });
    c.bench_function("calendar rebuild after new runs (month marks + agenda)", |b| {
        b.iter(|| update(&mut model, Action::Msg(TabMsg::Calendar(Msg::History(Arc::clone(&runs)))), Instant::now()))
    });
}

criterion_group!(benches, next_runs, calendar_frame);
criterion_main!(benches);
