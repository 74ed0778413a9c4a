//! Xid errors: the NVIDIA driver reports GPU faults to the kernel log, as
//! `NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.`
//! — what people find with `dmesg | grep Xid`. A gpu = "xid" check reads the
//! kernel log (`/dev/kmsg`, one record per read, never blocking) and is critical
//! while a report lies within `[gpu] xid_window`.

use super::{Observed, ProbeError};
use crate::health::condition::{Observation, Value};
use crate::health::outcome::Level;
use crate::util::sanitize::sanitize_str;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// The kernel log is bounded (a few MiB at most); a file standing in for it is read this far.
const READ_LIMIT: usize = 16 << 20;

/// One Xid report found in the window.
#[derive(Debug, Clone, PartialEq)]
struct Report {
    age: Duration,
    text: String,
}

/// Blocking: call it off the async runtime.
pub fn probe(path: &Path, window: Duration) -> Result<Observed, ProbeError> {
    let log = read_log(path)?;
    let now = uptime()?;
    let mut untimed = 0;
    let mut reports = Vec::new();
    for line in log.lines() {
        match parse(line, now) {
            Some(report) if report.age <= window => reports.push(report),
            Some(_) => {}
            None if line.contains("NVRM: Xid") => untimed += 1,
            None => {}
        }
    }
    // A syslog file (kern.log) has no kernel timestamps: saying "none" would be a false all-clear.
    if reports.is_empty() && untimed > 0 {
        return Err(ProbeError::CannotRun(format!(
            "{} holds {untimed} Xid line(s) without kernel timestamps; point [gpu] kernel_log at /dev/kmsg",
            path.display()
        )));
    }
    let window_text = crate::config::units::format_duration(window);
    let mut observed = Observed {
        observation: Observation { value: Some(Value::Number(reports.len() as f64)), ..Observation::default() },
        ..Observed::default()
    };
    match reports.iter().min_by_key(|r| r.age) {
        None => observed.summary = format!("no Xid report in the kernel log within {window_text}"),
        Some(newest) => {
            let message = format!(
                "{} ({} ago; {} Xid report{} within {window_text})",
                newest.text,
                crate::config::units::format_duration(Duration::from_secs(newest.age.as_secs())),
                reports.len(),
                if reports.len() == 1 { "" } else { "s" }
            );
            observed.summary = message.clone();
            observed.threshold = Some((Level::Critical, message));
        }
    }
    Ok(observed)
}

/// Every record of the log, without ever blocking (a FIFO or an empty device ends the read).
fn read_log(path: &Path) -> Result<String, ProbeError> {
    let cannot = |err: std::io::Error| {
        let hint = if err.kind() == ErrorKind::PermissionDenied {
            " (the kernel log needs root, CAP_SYSLOG or kernel.dmesg_restrict = 0)"
        } else {
            ""
        };
        ProbeError::CannotRun(format!("could not read the kernel log {}: {err}{hint}", path.display()))
    };
    let mut file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(cannot)?;
    let mut text = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    while text.len() < READ_LIMIT {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&buffer[..n]),
            Err(err) if err.kind() == ErrorKind::WouldBlock => break,
            // /dev/kmsg: the record was overwritten while we read; carry on with the next.
            Err(err) if err.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(cannot(err)),
        }
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// Seconds since boot, the clock of the kernel log's timestamps.
fn uptime() -> Result<Duration, ProbeError> {
    let text = std::fs::read_to_string("/proc/uptime")
        .map_err(|err| ProbeError::CannotRun(format!("could not read /proc/uptime: {err}")))?;
    text.split_whitespace()
        .next()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .ok_or_else(|| ProbeError::CannotRun("could not read /proc/uptime".into()))
}

/// A kmsg record, `PRIORITY,SEQUENCE,MICROSECONDS,FLAGS;MESSAGE`, that reports an Xid.
fn parse(line: &str, now: Duration) -> Option<Report> {
    let (head, message) = line.split_once(';')?;
    let micros: u64 = head.split(',').nth(2)?.parse().ok()?;
    let at = message.find("NVRM: Xid")?;
    let text = sanitize_str(message[at + "NVRM: ".len()..].trim());
    Some(Report { age: now.saturating_sub(Duration::from_micros(micros)), text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_by_their_timestamp_and_other_lines_ignored() {
        let now = Duration::from_secs(10_000);
        let xid =
            "4,812,9400000000,-;NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.";
        let report = parse(xid, now).unwrap();
        assert_eq!(report.age, Duration::from_secs(600));
        assert_eq!(report.text, "Xid (PCI:0000:3b:00): 79, pid=1234, name=python3, GPU has fallen off the bus.");
        assert_eq!(parse("6,813,9500000000,-;usb 1-1: new device", now), None);
        assert_eq!(parse(" SUBSYSTEM=pci", now), None);
        assert_eq!(parse("garbage;NVRM: Xid", now), None);
    }
}
