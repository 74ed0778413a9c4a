//! Windows, the plan, the store round trip, the runner with real child processes, and host imports.

use super::history::{self, How, NewRun};
use super::import::{parse_crontab, parse_systemd_timers, wrapped_task_name};
use super::plan::{Plan, Timing};
use super::runner::{Echo, TaskCommand, run_and_record};
use crate::store::Store;
use crate::util::identity::Identity;
use crate::util::zone::Zone;
use chrono::{DateTime, Utc};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn plan(text: &str) -> Plan {
    Plan::from_config(&crate::config::load_str(text, std::path::Path::new("t.toml")).expect("valid"))
}

#[test]
fn windows_are_active_from_start_to_end() {
    let plan = plan("[[window]]\nname = \"weekly\"\ncron = \"0 3 * * 0\"\nduration = \"2h\"\n");
    let window = &plan.windows[0];
    // Sunday 29 November 2026.
    assert_eq!(window.active_at(at("2026-11-29T02:59:59Z")), None);
    let span = window.active_at(at("2026-11-29T03:00:00Z")).expect("active at its start");
    assert_eq!((span.start, span.end), (at("2026-11-29T03:00:00Z"), at("2026-11-29T05:00:00Z")));
    assert!(window.active_at(at("2026-11-29T04:59:59Z")).is_some());
    assert_eq!(window.active_at(at("2026-11-29T05:00:00Z")), None, "the end is exclusive");
    let next = window.next_after(at("2026-11-29T05:00:00Z")).unwrap();
    assert_eq!(next.start, at("2026-12-06T03:00:00Z"));
    assert_eq!(plan.active_window(at("2026-11-29T04:00:00Z")).map(|(w, _)| w.name.as_str()), Some("weekly"));
    // A window that started yesterday and runs past midnight overlaps today.
    let late = super::plan::Window { length: chrono::Duration::hours(3), ..window.clone() };
    assert_eq!(late.spans(at("2026-11-29T04:30:00Z"), at("2026-11-29T12:00:00Z")).len(), 1);
}

#[test]
fn windows_in_their_own_zone_cross_dst() {
    let plan = plan("[[window]]\nname = \"w\"\ncron = \"30 2 * * *\"\ntz = \"Europe/Berlin\"\nduration = \"1h\"\n");
    // 02:30 does not exist on 29 March 2026 in Berlin: the window opens at the jump (01:00Z).
    let span = plan.windows[0].next_after(at("2026-03-28T12:00:00Z")).unwrap();
    assert_eq!(span.start, at("2026-03-29T01:00:00Z"));
}

#[test]
fn the_agenda_is_in_time_order_with_task_zones() {
    let plan = plan(
        "[[task]]\nname = \"a\"\ncron = \"0 9 * * *\"\ntz = \"Europe/Berlin\"\n\
         [[task]]\nname = \"b\"\ncron = \"30 7 * * *\"\n",
    );
    let due = plan.agenda(at("2026-11-30T00:00:00Z"), at("2026-12-01T00:00:00Z"), 100);
    let names: Vec<(&str, String)> =
        due.iter().map(|d| (plan.tasks[d.task].name.as_str(), d.at.format("%H:%M").to_string())).collect();
    assert_eq!(names, [("b", "07:30".to_string()), ("a", "08:00".to_string())]);
}

#[test]
fn runs_round_trip_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let run = NewRun {
        task: "database backup".into(),
        started: at("2026-11-28T03:00:02Z"),
        ended: None,
        exit_code: None,
        output_tail: None,
        how: How::Wrap,
        user: "cron".into(),
        host: "db1".into(),
    };
    let id = store.call(move |c| history::insert(c, &run)).unwrap();
    let started = store.call(move |c| history::get(c, id)).unwrap().unwrap();
    assert_eq!(started.outcome(), super::Outcome::Running);
    store
        .call(move |c| history::finish(c, id, at("2026-11-28T03:01:16Z"), 1, Some("No space left on device")))
        .unwrap();
    let done = store.call(move |c| history::get(c, id)).unwrap().unwrap();
    assert_eq!(done.outcome(), super::Outcome::Failed);
    assert_eq!(done.exit_code, Some(1));
    assert_eq!(done.duration(), Some(std::time::Duration::from_secs(74)));
    assert_eq!(done.output_tail.as_deref(), Some("No space left on device"));
    assert_eq!(done.how, How::Wrap);
    let since = store.call(|c| history::runs_since(c, at("2026-11-28T00:00:00Z"), 10)).unwrap();
    assert_eq!(since, vec![done.clone()]);
    assert!(store.call(|c| history::runs_since(c, at("2026-11-29T00:00:00Z"), 10)).unwrap().is_empty());
    // Reopening (a second process, or after a crash) sees the same row.
    drop(store);
    let again = Store::open_in(dir.path()).unwrap();
    assert_eq!(again.call(|c| history::last_runs(c, "database backup", 5)).unwrap(), vec![done]);
}

#[test]
fn a_real_child_is_run_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let who = Identity { user: "ana".into(), host: "db1".into(), ssh_client: None, tty: None };
    let argv: Vec<String> = ["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"].map(String::from).to_vec();
    let finished = run_and_record(Some(&store), "job", &TaskCommand::here(&argv), How::Run, &who, Echo::Quiet);
    assert_eq!(finished.exit_code, 3);
    assert!(finished.output_tail.contains("to-stdout") && finished.output_tail.contains("to-stderr"));
    let id = finished.id.expect("recorded");
    let row = store.call(move |c| history::get(c, id)).unwrap().unwrap();
    assert_eq!((row.exit_code, row.user.as_str()), (Some(3), "ana"));
    assert!(row.ended.is_some());
    // Killed by a signal: 128 + 9.
    let killed: Vec<String> = ["sh", "-c", "kill -9 $$"].map(String::from).to_vec();
    assert_eq!(
        run_and_record(Some(&store), "job", &TaskCommand::here(&killed), How::Run, &who, Echo::Quiet).exit_code,
        137
    );
    // A program that does not exist is a recorded failure, not a panic.
    let missing = vec!["/nonexistent/program".to_string()];
    let finished = run_and_record(Some(&store), "job", &TaskCommand::here(&missing), How::Run, &who, Echo::Quiet);
    assert_eq!(finished.exit_code, 127);
    assert!(finished.output_tail.contains("cannot start"));
    // Only the tail of a long output is kept.
    let chatty: Vec<String> =
        ["sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done"].map(String::from).to_vec();
    let finished = run_and_record(None, "job", &TaskCommand::here(&chatty), How::Run, &who, Echo::Quiet);
    assert!(finished.output_tail.len() <= history::OUTPUT_TAIL_BYTES);
    assert!(finished.output_tail.trim_end().ends_with("line 2999"));
}

#[test]
fn crontabs_parse_with_comments_environment_shorthands_and_users() {
    let user = include_str!("../../tests/fixtures/schedule/user.crontab");
    let (jobs, problems) = parse_crontab(user, false);
    let summary: Vec<(usize, &str, &str)> =
        jobs.iter().map(|j| (j.line, j.schedule.text(), j.command.as_str())).collect();
    assert_eq!(
        summary,
        [
            (5, "*/15 * * * *", "/usr/local/bin/health-check >> /tmp/api-health-check.log 2>&1"),
            (6, "@daily", "/usr/local/bin/rotate-logs"),
            (7, "@reboot", "/usr/local/bin/warm-cache"),
            (8, "0 3 * * *", "firstwatch schedule wrap \"database backup\" -- /usr/local/bin/backup --gzip"),
        ]
    );
    assert_eq!(problems, ["line 10: minute field: `61` is outside 0-59"]);
    let system = include_str!("../../tests/fixtures/schedule/etc.crontab");
    let (jobs, problems) = parse_crontab(system, true);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(jobs.len(), 3);
    assert_eq!(jobs[0].user.as_deref(), Some("root"));
    assert_eq!(jobs[0].command, "cd / && run-parts --report /etc/cron.hourly");
    assert_eq!(jobs[2].user.as_deref(), Some("postgres"));
    assert_eq!(jobs[2].schedule.text(), "@weekly");
    // Imported tasks drop @reboot and take the wrapped task's name.
    let tasks = super::import::crontab_tasks(parse_crontab(user, false).0, &super::Origin::UserCrontab, Zone::UTC);
    let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["health-check (crontab:5)", "rotate-logs (crontab:6)", "database backup"]);
    let system_tasks = super::import::crontab_tasks(
        parse_crontab(system, true).0,
        &super::Origin::SystemCrontab("/etc/crontab".into()),
        Zone::UTC,
    );
    let names: Vec<&str> = system_tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["cron.hourly (crontab:6)", "anacron (crontab:7)", "vacuum-all (crontab:8)"]);
    assert_eq!(wrapped_task_name("firstwatch schedule wrap nightly -- x"), Some("nightly".into()));
}

#[test]
fn systemd_timers_import_from_captured_output() {
    let json = include_str!("../../tests/fixtures/schedule/list-timers.json");
    let tasks = parse_systemd_timers(json).unwrap();
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[0].name, "logrotate");
    assert_eq!(tasks[0].command.as_deref(), Some("logrotate.service"));
    match &tasks[0].timing {
        Timing::Timer { next, last } => {
            assert_eq!(*next, Some(at("2026-11-30T00:00:00Z")));
            assert_eq!(*last, Some(at("2026-11-29T00:00:03Z")));
        }
        other => panic!("{other:?}"),
    }
    // A timer that never ran and has no next elapse.
    assert_eq!(tasks[2].timing, Timing::Timer { next: None, last: None });
    assert!(parse_systemd_timers("not json").is_err());
}
