//! Runs the real binary in a pseudo-terminal and reads its screen through vt100.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub struct PtySession {
    pub parser: vt100::Parser,
    /// Everything the program wrote, for byte-level assertions.
    pub raw: Vec<u8>,
    pub pid: i32,
    master: Option<Box<dyn MasterPty + Send>>,
    writer: Option<Box<dyn Write + Send>>,
    output: Receiver<Vec<u8>>,
    exited: Receiver<u32>,
    /// Set once the child has been reaped: its pid may then belong to someone else.
    reaped: Arc<AtomicBool>,
    stop_reader: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl PtySession {
    pub fn spawn(args: &[&str], env: &[(&str, &str)], cols: u16, rows: u16) -> PtySession {
        let pty = native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).unwrap();
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_firstwatch"));
        command.args(args);
        command.env("TERM", "xterm-256color");
        command.env("LANG", "C.UTF-8");
        command.env_remove("NO_COLOR");
        command.cwd(std::env::temp_dir());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child: Box<dyn Child + Send + Sync> = pty.slave.spawn_command(command).unwrap();
        drop(pty.slave);
        let pid = child.process_id().unwrap() as i32;
        let (exit_tx, exited) = channel();
        let reaped = Arc::new(AtomicBool::new(false));
        let reaped_by_waiter = reaped.clone();
        std::thread::spawn(move || {
            let status = child.wait().map(|s| s.exit_code()).unwrap_or(u32::MAX);
            reaped_by_waiter.store(true, Ordering::SeqCst);
            let _ = exit_tx.send(status);
        });
        let master = pty.master;
        let writer = master.take_writer().unwrap();
        let mut reader = master.try_clone_reader().unwrap();
        let master_fd = master.as_raw_fd().unwrap();
        let stop_reader = Arc::new(AtomicBool::new(false));
        let stop = stop_reader.clone();
        let (tx, output) = channel();
        let reader_thread = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while !stop.load(Ordering::SeqCst) {
                // Wait for output in slices so the thread can be told to let go of the pty.
                let mut fds = [libc::pollfd { fd: master_fd, events: libc::POLLIN, revents: 0 }];
                // SAFETY: polling one valid fd that the master keeps open until this thread is joined.
                let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, 50) };
                if ready <= 0 {
                    continue;
                }
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        PtySession {
            parser: vt100::Parser::new(rows, cols, 0),
            raw: Vec::new(),
            pid,
            master: Some(master),
            writer: Some(writer),
            output,
            exited,
            reaped,
            stop_reader,
            reader: Some(reader_thread),
        }
    }

    /// Feeds output to the screen until `done` holds or `timeout` passes.
    pub fn wait_for(&mut self, timeout: Duration, done: impl Fn(&vt100::Screen) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(self.parser.screen()) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => {
                    self.parser.process(&bytes);
                    self.raw.extend_from_slice(&bytes);
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return done(self.parser.screen());
                }
            }
        }
    }

    /// Changes the terminal size, as a window resize does (SIGWINCH).
    pub fn resize(&mut self, cols: u16, rows: u16) {
        let size = PtySize { rows, cols, pixel_width: 0, pixel_height: 0 };
        self.master.as_ref().unwrap().resize(size).unwrap();
        self.parser.screen_mut().set_size(rows, cols);
    }

    pub fn contents(&self) -> String {
        self.parser.screen().contents()
    }

    pub fn send(&mut self, keys: &str) {
        let writer = self.writer.as_mut().unwrap();
        writer.write_all(keys.as_bytes()).unwrap();
        writer.flush().unwrap();
    }

    /// Waits for the process to end and for its last output; returns the exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<u32> {
        let code = self.exited.recv_timeout(timeout).ok()?;
        // Drain what it wrote on the way out (the terminal reset).
        while let Ok(bytes) = self.output.recv_timeout(Duration::from_millis(300)) {
            self.parser.process(&bytes);
            self.raw.extend_from_slice(&bytes);
        }
        Some(code)
    }

    /// Closes the master side, as a dropped SSH connection does.
    pub fn close_master(&mut self) {
        self.stop_reader.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.writer = None;
        self.master = None;
    }

    pub fn wait_exit_without_output(&mut self, timeout: Duration) -> Option<u32> {
        self.exited.recv_timeout(timeout).ok()
    }

    pub fn signal(&self, signal: i32) {
        // A reaped pid can already name another process (another test's, even): never signal it.
        if self.reaped.load(Ordering::SeqCst) {
            return;
        }
        // SAFETY: sending a signal to our own child process, not yet reaped.
        unsafe {
            libc::kill(self.pid, signal);
        }
    }

    /// True when the alternate screen was left and the cursor shown again.
    pub fn terminal_restored(&self) -> bool {
        let screen = self.parser.screen();
        !screen.alternate_screen() && !screen.hide_cursor()
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
        self.stop_reader.store(true, Ordering::SeqCst);
    }
}
