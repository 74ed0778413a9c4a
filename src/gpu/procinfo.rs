//! Names and owners of the processes NVML lists by pid, read from /proc.

use crate::util::sanitize::sanitize_str;

/// The longest process name kept; /proc/PID/cmdline can be huge.
const MAX_NAME: usize = 64;

/// The command name of `pid`, sanitised: the program from its command line,
/// else `comm`, else "?" when the process is gone or hidden from us.
pub fn process_name(pid: u32) -> String {
    let from_cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok().and_then(|bytes| {
        let first = bytes.split(|b| *b == 0).next().filter(|arg| !arg.is_empty())?;
        let text = String::from_utf8_lossy(first);
        let program = text.rsplit('/').next().unwrap_or(&text).to_string();
        Some(program)
    });
    let name = from_cmdline
        .or_else(|| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok().map(|c| c.trim_end().to_string()))
        .unwrap_or_else(|| "?".to_string());
    clean_name(&name)
}

/// Makes an untrusted process name safe and short enough for a table cell.
pub fn clean_name(name: &str) -> String {
    let clean = sanitize_str(name);
    crate::util::width::truncate(&clean, MAX_NAME)
}

/// The login name owning `pid`, or its uid when it has no name, or "?".
pub fn process_user(pid: u32) -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(format!("/proc/{pid}")) else { return "?".to_string() };
    let uid = meta.uid();
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => sanitize_str(&user.name),
        _ => uid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_has_a_name_and_an_owner() {
        let pid = std::process::id();
        let name = process_name(pid);
        assert!(!name.is_empty() && name != "?", "{name}");
        assert_ne!(process_user(pid), "?");
    }

    #[test]
    fn a_gone_process_is_a_question_mark() {
        assert_eq!(process_name(u32::MAX - 1), "?");
        assert_eq!(process_user(u32::MAX - 1), "?");
    }

    #[test]
    fn hostile_names_are_made_inert_and_short() {
        let clean = clean_name("evil\u{1b}]0;owned\u{7}name");
        assert!(!clean.contains('\u{1b}') && !clean.contains('\u{7}'), "{clean:?}");
        let long = clean_name(&"x".repeat(500));
        assert_eq!(long.chars().count(), MAX_NAME);
        assert!(long.ends_with('…'));
    }
}
