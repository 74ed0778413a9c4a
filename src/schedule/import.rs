//! What really runs on the host: crontabs and systemd timers, read so users
//! see them on the calendar without retyping them.

use super::cron::Schedule;
use super::plan::{Origin, Task, Timing};
use crate::util::sanitize::sanitize_str;
use crate::util::zone::Zone;
use chrono::{DateTime, Utc};
use std::path::Path;
use std::process::Command;

/// Imported tasks and what could not be read (shown, not fatal).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    pub tasks: Vec<Task>,
    pub notes: Vec<String>,
}

/// One job line of a crontab.
#[derive(Debug, Clone, PartialEq)]
pub struct CrontabLine {
    pub line: usize,
    pub schedule: Schedule,
    pub user: Option<String>,
    pub command: String,
}

/// Parses a crontab. `with_user` is for `/etc/crontab` and `/etc/cron.d`, whose sixth field is the user.
/// Returns the jobs and a note for each line that is not one.
pub fn parse_crontab(text: &str, with_user: bool) -> (Vec<CrontabLine>, Vec<String>) {
    let mut jobs = Vec::new();
    let mut problems = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || is_environment(line) {
            continue;
        }
        let (expression, rest) = if line.starts_with('@') { split_words(line, 1) } else { split_words(line, 5) };
        let (user, command) = if with_user {
            let (user, command) = split_words(rest.trim_start(), 1);
            (Some(user.trim().to_string()), command)
        } else {
            (None, rest)
        };
        let command = command.trim();
        match Schedule::parse(expression) {
            Ok(schedule) if !command.is_empty() => jobs.push(CrontabLine {
                line: index + 1,
                schedule,
                user: user.filter(|u| !u.is_empty()),
                command: command.to_string(),
            }),
            Ok(_) => problems.push(format!("line {}: no command", index + 1)),
            Err(err) => problems.push(format!("line {}: {err}", index + 1)),
        }
    }
    (jobs, problems)
}

/// `NAME=value` lines set the environment of later jobs.
fn is_environment(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    let name_end = line.find('=').unwrap_or(usize::MAX);
    name_end < line.len() && !first.starts_with('@') && !first.starts_with('*') && {
        let name = line[..name_end].trim();
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }
}

/// Splits off the first `count` whitespace-separated words; returns (those words, the rest).
fn split_words(text: &str, count: usize) -> (&str, &str) {
    let mut seen = 0;
    let mut in_word = false;
    for (index, ch) in text.char_indices() {
        if ch.is_whitespace() {
            if in_word {
                seen += 1;
                in_word = false;
                if seen == count {
                    return (&text[..index], &text[index..]);
                }
            }
        } else {
            in_word = true;
        }
    }
    (text, "")
}

/// The config task a crontab line records into, if it is wrapped by `firstwatch schedule wrap NAME --`.
pub fn wrapped_task_name(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let at = words.windows(2).position(|pair| pair[0] == "schedule" && pair[1] == "wrap")?;
    // The name may be quoted and hold spaces: re-read it from the text after "wrap".
    let after_wrap =
        command.split_once(&format!("{} {}", words[at], words[at + 1])).map(|(_, rest)| rest.trim_start())?;
    let name = match after_wrap.chars().next()? {
        quote @ ('"' | '\'') => after_wrap[1..].split(quote).next()?,
        _ => after_wrap.split_whitespace().next()?,
    };
    (!name.is_empty() && name != "--").then(|| name.to_string())
}

/// Turns crontab lines into tasks, named after their command.
pub fn crontab_tasks(lines: Vec<CrontabLine>, origin: &Origin, zone: Zone) -> Vec<Task> {
    lines
        .into_iter()
        .filter(|line| !line.schedule.is_reboot())
        .map(|line| {
            let command = sanitize_str(&line.command);
            let name = wrapped_task_name(&command).unwrap_or_else(|| short_name(&command, &origin.label(), line.line));
            Task {
                name,
                timing: Timing::Cron(line.schedule),
                zone,
                argv: Vec::new(),
                dir: None,
                env: Default::default(),
                command: Some(command),
                user: line.user,
                expected: None,
                description: None,
                origin: origin.clone(),
            }
        })
        .collect()
}

/// Names a job after the first program path in its command (`test -x /usr/sbin/anacron || ...` is
/// "anacron"), falling back to its first word.
fn short_name(command: &str, origin: &str, line: usize) -> String {
    let words = || command.split_whitespace().map(|w| w.trim_matches(|c| c == '(' || c == ')' || c == ';'));
    let program = words()
        .filter(|word| word.contains('/'))
        .filter_map(|word| word.rsplit('/').next())
        .find(|name| !name.is_empty())
        .or_else(|| words().next())
        .unwrap_or("job");
    format!("{program} ({origin}:{line})")
}

/// Parses `systemctl list-timers --all --output=json`.
pub fn parse_systemd_timers(json: &str) -> Result<Vec<Task>, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|err| format!("systemctl output: {err}"))?;
    let timers = value.as_array().ok_or("systemctl output is not a list of timers")?;
    let micros = |entry: &serde_json::Value, key: &str| -> Option<DateTime<Utc>> {
        entry.get(key)?.as_u64().filter(|v| *v > 0).and_then(|v| DateTime::from_timestamp_micros(v as i64))
    };
    Ok(timers
        .iter()
        .filter_map(|entry| {
            let unit = sanitize_str(entry.get("unit")?.as_str()?);
            let activates = entry.get("activates").and_then(|v| v.as_str()).map(sanitize_str);
            Some(Task {
                name: unit.trim_end_matches(".timer").to_string(),
                timing: Timing::Timer { next: micros(entry, "next"), last: micros(entry, "last") },
                zone: Zone::UTC,
                argv: Vec::new(),
                dir: None,
                env: Default::default(),
                command: activates,
                user: None,
                expected: None,
                description: None,
                origin: Origin::SystemdTimer(unit),
            })
        })
        .collect())
}

/// Reads the user's crontab, `/etc/crontab`, `/etc/cron.d/*` and systemd timers. Blocking.
pub fn load_host(zone: Zone) -> Imported {
    let mut imported = Imported::default();
    match Command::new("crontab").arg("-l").output() {
        Ok(output) if output.status.success() => {
            let (lines, problems) = parse_crontab(&String::from_utf8_lossy(&output.stdout), false);
            imported.tasks.extend(crontab_tasks(lines, &Origin::UserCrontab, zone));
            imported.notes.extend(problems.into_iter().map(|p| format!("crontab -l: {p}")));
        }
        Ok(_) => imported.notes.push("crontab: you have no crontab".into()),
        Err(_) => imported.notes.push("crontab: the crontab command is not installed".into()),
    }
    let mut files = vec![Path::new("/etc/crontab").to_path_buf()];
    if let Ok(entries) = std::fs::read_dir("/etc/cron.d") {
        let mut names: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        names.sort();
        // cron skips names with dots or backup suffixes; so do we.
        files.extend(
            names.into_iter().filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.contains('.') && !n.ends_with('~'))
            }),
        );
    }
    for file in files {
        let label = file.display().to_string();
        match std::fs::read(&file) {
            Ok(bytes) => {
                let (lines, problems) = parse_crontab(&String::from_utf8_lossy(&bytes), true);
                imported.tasks.extend(crontab_tasks(lines, &Origin::SystemCrontab(label.clone()), zone));
                imported.notes.extend(problems.into_iter().map(|p| format!("{label}: {p}")));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => imported.notes.push(format!("{label}: {err}")),
        }
    }
    if Path::new("/run/systemd/system").exists() {
        match Command::new("systemctl").args(["list-timers", "--all", "--output=json", "--no-pager"]).output() {
            Ok(output) if output.status.success() => {
                match parse_systemd_timers(&String::from_utf8_lossy(&output.stdout)) {
                    Ok(tasks) => imported.tasks.extend(tasks),
                    Err(err) => imported.notes.push(format!("systemd timers: {err} (systemd older than 251?)")),
                }
            }
            Ok(output) => imported.notes.push(format!(
                "systemd timers: systemctl failed: {}",
                sanitize_str(String::from_utf8_lossy(&output.stderr).trim())
            )),
            Err(err) => imported.notes.push(format!("systemd timers: cannot run systemctl: {err}")),
        }
    } else {
        imported.notes.push("systemd timers: systemd is not running on this host".into());
    }
    imported
}
