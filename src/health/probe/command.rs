//! Command checks: a real child process started as every firstwatch child is
//! (util::child: argv, no shell, its own process group), with captured and
//! capped output. On timeout the whole group is killed, so a script's
//! children do not outlive it.

use super::{Observed, ProbeError};
use crate::health::condition::{Observation, Value};
use crate::health::spec::CheckSpec;
use crate::util::sanitize::sanitize_str;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Output kept per stream; the rest is read and dropped so the child never blocks on a full pipe.
const OUTPUT_CAP: usize = 16 * 1024;

pub async fn probe(spec: &CheckSpec, argv: &[String]) -> Result<Observed, ProbeError> {
    let Some(mut command) = crate::util::child::async_command(argv) else {
        return Err(ProbeError::CannotRun("the command is empty".into()));
    };
    let program = &argv[0];
    command.current_dir(&spec.base_dir).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|err| ProbeError::CannotRun(format!("cannot run `{}`: {err}", sanitize_str(program))))?;
    // A check past its timeout is abandoned at once: no grace for a probe.
    let mut guard = crate::util::child::GroupGuard::new(crate::util::child::group_of(child.id()), Duration::ZERO);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let run = async {
        let (out, err, status) = tokio::join!(read_capped(stdout), read_capped(stderr), child.wait());
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(spec.timeout, run).await {
        Ok(done) => done,
        Err(_) => {
            drop(guard);
            return Err(ProbeError::Failed(format!(
                "`{}` ran past its timeout of {} and was killed",
                sanitize_str(program),
                crate::health::condition::format_latency(spec.timeout)
            )));
        }
    };
    guard.disarm();
    let status = status.map_err(|err| ProbeError::CannotRun(format!("lost the child process: {err}")))?;
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    });
    let stdout = String::from_utf8_lossy(&out).into_owned();
    let stderr = String::from_utf8_lossy(&err).into_owned();
    let first_line = |text: &str| text.lines().find(|l| !l.trim().is_empty()).map(|l| sanitize_str(l.trim()));
    let summary = match (code, first_line(&stdout), first_line(&stderr)) {
        (0, Some(line), _) => line,
        (0, None, _) => "exit 0".to_string(),
        (_, _, Some(line)) | (_, Some(line), None) => line,
        (_, None, None) => "no output".to_string(),
    };
    Ok(Observed {
        observation: Observation {
            value: Some(Value::from_text(&stdout)),
            body: Some(stdout),
            exit: Some(code),
            ..Observation::default()
        },
        response: None,
        summary,
        threshold: None,
    })
}

async fn read_capped(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let Some(mut pipe) = pipe else { return Vec::new() };
    let mut kept = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = OUTPUT_CAP.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
            }
        }
    }
}
