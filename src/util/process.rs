//! Other processes on this host, as /proc and kill(2) tell of them.

/// True while `pid` names a live process (one we may not signal still counts).
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(errno) => errno == nix::errno::Errno::EPERM,
    }
}

/// When `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat);
/// with the pid, it names one process even after the number is reused.
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn we_are_alive_and_a_pid_beyond_the_range_is_not() {
        assert!(super::alive(std::process::id()));
        assert!(!super::alive(u32::MAX - 1));
        assert!(!super::alive(u32::MAX));
    }

    #[test]
    fn a_start_time_is_read_and_stays_the_same() {
        let ours = super::start_ticks(std::process::id()).expect("our own start time");
        assert_eq!(super::start_ticks(std::process::id()), Some(ours));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let theirs = super::start_ticks(child.id());
        child.wait().unwrap();
        assert!(theirs.is_some_and(|t| t >= ours), "a later process starts no earlier: {theirs:?} vs {ours}");
        assert_eq!(super::start_ticks(u32::MAX), None);
    }
}
