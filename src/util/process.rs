//! Other processes on this host, as /proc and kill(2) tell of them.

/// True while `pid` names a live process (one we may not signal still counts).
pub fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(errno) => errno == nix::errno::Errno::EPERM,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn we_are_alive_and_a_pid_beyond_the_range_is_not() {
        assert!(super::alive(std::process::id()));
        assert!(!super::alive(u32::MAX - 1));
        assert!(!super::alive(u32::MAX));
    }
}
