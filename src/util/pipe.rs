//! A closed stdout is a normal end, as it is for coreutils.
//!
//! Rust ignores SIGPIPE, so `println!` into a pipe whose reader left (`| head`)
//! panics with "failed printing to stdout: Broken pipe". Restoring the default
//! SIGPIPE action for the whole process would also kill a front end that writes a
//! job to a supervisor which has just died, so instead only that one panic is
//! turned into the ending the shell expects: death by SIGPIPE (status 141), silent.

use std::panic::PanicHookInfo;

/// Installs the hook; every other panic goes to the hook that was there before.
pub fn end_quietly_on_closed_stdout() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_closed_pipe(info) {
            die_of_sigpipe();
        }
        previous(info);
    }));
}

/// The standard library's message for a print into a closed pipe.
fn is_closed_pipe(info: &PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    message.starts_with("failed printing to std") && message.contains("Broken pipe")
}

fn die_of_sigpipe() -> ! {
    // SAFETY: resetting a signal to its default and raising it is async-signal-safe
    // and touches no Rust state; _exit is the fallback if the signal is blocked.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
        libc::_exit(141)
    }
}
