//! How firstwatch starts every child process (actions, command checks, log
//! commands) and how it stops one, so all of them share the same guarantees:
//! argv without a shell, stdin closed, a process group of its own, SIGKILL
//! when the thread that started it dies (Linux's parent-death signal), and
//! stopping always aimed at the whole group, so a grandchild started with `&`
//! never outlives its command.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A command for `argv` set up the one way firstwatch runs programs; the
/// caller adds its folder, environment and where output goes.
/// `None` for an empty argv.
pub fn command(argv: &[String]) -> Option<Command> {
    let (program, args) = argv.split_first()?;
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    own_group(&mut command);
    Some(command)
}

/// The same for tokio's process API (it wraps a std command).
pub fn async_command(argv: &[String]) -> Option<tokio::process::Command> {
    let mut command = tokio::process::Command::from(command(argv)?);
    command.kill_on_drop(true);
    Some(command)
}

fn own_group(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The process group a started child leads (its pid), if it can be named.
pub fn group_of(pid: Option<u32>) -> Option<i32> {
    pid.and_then(|pid| i32::try_from(pid).ok()).filter(|pid| *pid > 0)
}

/// Sends `signal` to the whole group; false once the group is gone.
pub fn signal_group(group: i32, signal: Signal) -> bool {
    killpg(Pid::from_raw(group), signal).is_ok()
}

/// Whether any member of the group still runs.
pub fn group_alive(group: i32) -> bool {
    killpg(Pid::from_raw(group), None::<Signal>).is_ok()
}

/// How many members of the group still run. Zombies do not count: a member
/// that ended but was not yet reaped (its parent is gone and nothing reaps
/// orphans here) runs nothing. Without /proc, 1 while the group can be signalled.
pub fn group_members(group: i32) -> usize {
    if !group_alive(group) {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else { return 1 };
    let group = group.to_string();
    entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit())))
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            // After the command name (which may hold anything): state, parent, group.
            let mut fields = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace();
            let state = fields.next();
            let in_group = fields.nth(1) == Some(group.as_str());
            in_group && state != Some("Z")
        })
        .count()
}

/// Stops a child's whole group when dropped, unless disarmed after it ended on
/// its own: SIGTERM, up to `grace` for it to go, then SIGKILL. Dropping happens
/// when a run is abandoned (a timeout, a console quitting), never on the happy path.
pub struct GroupGuard {
    group: Option<i32>,
    grace: Duration,
}

impl GroupGuard {
    pub fn new(group: Option<i32>, grace: Duration) -> GroupGuard {
        GroupGuard { group, grace }
    }

    /// The child ended by itself; nothing is left to stop.
    pub fn disarm(&mut self) {
        self.group = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let Some(group) = self.group.take() else { return };
        if !signal_group(group, Signal::SIGTERM) {
            return;
        }
        // Blocking, but short and only while a run is being abandoned.
        let step = Duration::from_millis(20);
        let mut waited = Duration::ZERO;
        while waited < self.grace {
            if !group_alive(group) {
                return;
            }
            std::thread::sleep(step);
            waited += step;
        }
        signal_group(group, Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_stops_the_whole_group_grandchildren_included() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild");
        let script = format!("sleep 1000 & echo $! > {}; wait", pidfile.display());
        let argv = ["sh".to_string(), "-c".to_string(), script];
        let mut child = command(&argv).unwrap().spawn().unwrap();
        let group = group_of(Some(child.id())).unwrap();
        // The shell writes the pid once the grandchild runs.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let grandchild = loop {
            assert!(std::time::Instant::now() < deadline, "the shell never wrote the grandchild's pid");
            if let Ok(text) = std::fs::read_to_string(&pidfile)
                && text.ends_with('\n')
            {
                break text.trim().parse::<i32>().unwrap();
            }
            std::thread::yield_now();
        };
        drop(GroupGuard::new(Some(group), Duration::from_secs(1)));
        child.wait().unwrap();
        // The grandchild was in the group: SIGTERM reached it too (it may linger as an unreaped zombie).
        let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let running = state.split(") ").nth(1).is_some_and(|rest| !rest.starts_with('Z'));
        assert!(!running, "grandchild {grandchild} still runs: {state}");
    }

    #[test]
    fn a_group_of_one_unreaped_zombie_has_no_members_left() {
        let argv = ["true".to_string()];
        let mut child = command(&argv).unwrap().spawn().unwrap();
        let group = group_of(Some(child.id())).unwrap();
        // Not reaped yet: it ends and stays a zombie until we wait for it.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while group_members(group) > 0 {
            assert!(std::time::Instant::now() < deadline, "`true` never ended");
            std::thread::yield_now();
        }
        assert!(group_alive(group), "a zombie still answers signals, so that alone cannot say the group ended");
        child.wait().unwrap();
        assert!(!group_alive(group));
    }

    #[test]
    fn an_empty_argv_is_no_command() {
        assert!(command(&[]).is_none());
    }
}
