//! Asking the operator on the terminal, where only what is typed after the
//! question counts: keys typed ahead (`db⏎` while a command was starting)
//! must never confirm anything.

use std::io::{BufRead, Write};

/// Asks `question` on stderr and reads one line from stdin, after discarding
/// whatever was typed before the question appeared.
///
/// `Ok(None)`: stdin ended. `Err`: the type-ahead could not be discarded, so
/// nothing was asked (a caller refuses rather than risk an old answer).
pub fn ask(question: &str) -> Result<Option<String>, String> {
    nix::sys::termios::tcflush(std::io::stdin(), nix::sys::termios::FlushArg::TCIFLUSH)
        .map_err(|err| format!("cannot discard keys typed ahead: {err}"))?;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => Ok(None),
        Ok(_) => Ok(Some(line)),
    }
}
