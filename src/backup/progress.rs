//! Progress reporting and cancellation for long reads (verification, restore).

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag another thread sets to stop a verification or restore at the next read.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for Cancel {
    fn eq(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Where a long read reports how far it got: bytes read of the total.
pub trait Progress {
    fn report(&mut self, done: u64, total: u64);
}

impl<F: FnMut(u64, u64)> Progress for F {
    fn report(&mut self, done: u64, total: u64) {
        self(done, total)
    }
}

/// Ignores progress.
pub fn silent() -> impl Progress {
    |_: u64, _: u64| {}
}

/// The error a cancelled read returns; callers recognise it with [`is_cancelled`].
/// Not `Interrupted`: readers retry that kind, which would spin forever.
pub fn cancelled_error() -> io::Error {
    io::Error::other(CANCELLED)
}

const CANCELLED: &str = "cancelled";

pub fn is_cancelled(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Other && err.to_string() == CANCELLED
}

/// Reads through to `inner`, reporting progress about every MiB and stopping when cancelled.
pub struct Tracked<'a, R> {
    inner: R,
    done: u64,
    total: u64,
    last_report: u64,
    progress: &'a mut dyn Progress,
    cancel: &'a Cancel,
}

const REPORT_EVERY: u64 = 1 << 20;

impl<'a, R: Read> Tracked<'a, R> {
    pub fn new(inner: R, total: u64, progress: &'a mut dyn Progress, cancel: &'a Cancel) -> Self {
        Tracked { inner, done: 0, total, last_report: 0, progress, cancel }
    }
}

impl<R: Read> Read for Tracked<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(cancelled_error());
        }
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if self.done - self.last_report >= REPORT_EVERY || (n == 0 && self.done != self.last_report) {
            self.last_report = self.done;
            self.progress.report(self.done, self.total);
        }
        Ok(n)
    }
}

/// A writer that only counts, refusing to grow past `limit` (a gzip bomb stops here).
pub struct Capped<W> {
    pub inner: W,
    pub written: u64,
    pub limit: u64,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written + buf.len() as u64 > self.limit {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, TOO_LARGE));
        }
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const TOO_LARGE: &str = "unpacked size limit reached";

pub fn is_too_large(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::FileTooLarge && err.to_string() == TOO_LARGE
}
