//! Entering and leaving the full-screen terminal, from anywhere.
//!
//! `restore()` is safe to call from any thread, any number of times, even in
//! a panic: it writes the reset sequences straight to fd 1 without taking
//! the stdout lock (another thread may hold it mid-frame).

use super::quiet::QuietBackend;
use crossterm::event::EnableBracketedPaste;
use crossterm::execute;
use crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, enable_raw_mode};
use ratatui::Terminal;
use std::io::{self, BufWriter, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};

/// Frames are assembled in this buffer and leave in one write (a frame of a
/// full 200x60 screen of changes is about 40 KiB).
pub type Term = Terminal<QuietBackend<BufWriter<Stdout>>>;

const FRAME_BUFFER: usize = 64 * 1024;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// A synchronized update ended (a panic may strike mid-frame), mouse reports
/// off, bracketed paste off, alternate screen off, cursor on, attributes reset.
const RESET: &[u8] = b"\x1b[?2026l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1049l\x1b[?25h\x1b[0m";

/// Raw mode, alternate screen, bracketed paste (so pastes can be told from typing), hidden cursor.
/// `sync_output`: wrap each frame in synchronized output.
pub fn enter(sync_output: bool) -> io::Result<Term> {
    ACTIVE.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste, crossterm::cursor::Hide, Clear(ClearType::All))?;
    // `enter` hid the cursor, so the backend starts knowing it is hidden.
    let writer = BufWriter::with_capacity(FRAME_BUFFER, io::stdout());
    Terminal::new(QuietBackend::new(writer, true).with_sync_output(sync_output))
}

/// Mouse reporting on or off; off by default so the terminal's own copy and paste work.
pub fn set_mouse(on: bool) -> io::Result<()> {
    if on {
        execute!(io::stdout(), crossterm::event::EnableMouseCapture)
    } else {
        execute!(io::stdout(), crossterm::event::DisableMouseCapture)
    }
}

/// Undoes [`enter`]. Does nothing if the terminal was not entered.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = crossterm::terminal::disable_raw_mode();
    // SAFETY: writing a static buffer to fd 1; a failed write (terminal gone) is fine to ignore.
    unsafe {
        libc::write(1, RESET.as_ptr().cast(), RESET.len());
    }
}

/// Restores the terminal before any panic message, in any thread, then exits
/// with status 101 without running destructors that could write to the screen.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        restore();
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
        eprintln!("firstwatch crashed in thread '{thread}'{location}: {message}");
        eprintln!("the terminal has been restored; please report this with the line above");
        // SAFETY: _exit ends the process at once; nothing else must run after a panic.
        unsafe { libc::_exit(101) }
    }));
}

/// True when the terminal on stdin has hung up (the SSH connection or pty went away).
pub fn is_hung_up() -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let stdin = io::stdin();
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) => fds[0].revents().is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLNVAL)),
        Err(_) => true,
    }
}

/// Gives the terminal back to the shell and stops the process until `fg`.
pub fn suspend(terminal: &mut Term) -> io::Result<()> {
    restore();
    // SIGTSTP to our process group, as the shell's job control expects.
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(0), nix::sys::signal::Signal::SIGTSTP);
    // Execution continues here after SIGCONT.
    ACTIVE.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste, crossterm::cursor::Hide)?;
    full_redraw(terminal)
}

/// Clears the screen and forgets what was drawn, so the next frame is drawn whole.
/// (`Terminal::clear` would ask the terminal for the cursor position: a round
/// trip on a slow link, and a hang on terminals that never answer.)
pub fn full_redraw(terminal: &mut Term) -> io::Result<()> {
    let size = terminal.size()?;
    terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))
}
