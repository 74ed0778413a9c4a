//! The front end's side: start a supervisor for a job and learn whether it started.

use super::job::Job;
use super::supervisor::SUPERVISE_ARG;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// A supervisor that has locked its target, audited the start and is running the job.
#[derive(Debug)]
pub struct Launched {
    /// The operation's row in the store.
    pub id: i64,
    pub output: PathBuf,
    /// The supervisor process: wait on it to reap it, or leave it to outlive us.
    pub supervisor: Child,
}

static PROGRAM: OnceLock<PathBuf> = OnceLock::new();

/// Which executable runs supervisors: this one, unless a test embedding the library says otherwise.
pub fn set_supervisor_program(path: PathBuf) {
    let _ = PROGRAM.set(path);
}

fn program() -> Result<PathBuf, String> {
    match PROGRAM.get() {
        Some(path) => Ok(path.clone()),
        None => std::env::current_exe().map_err(|err| format!("cannot find the firstwatch executable: {err}")),
    }
}

/// Starts a supervisor for `job` and waits for its handshake.
///
/// `Err` means nothing ran: the target was busy, the audit log could not be
/// written, or the supervisor could not start; the text says which.
pub fn launch(job: &Job) -> Result<Launched, String> {
    let text = serde_json::to_string(job).map_err(|err| format!("cannot describe the job: {err}"))?;
    let mut command = Command::new(program()?);
    command.arg(SUPERVISE_ARG).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe. A session of its own: no controlling
    // terminal, so closing ours (or losing SSH) sends it no hang-up.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut supervisor = command.spawn().map_err(|err| format!("cannot start a supervisor: {err}"))?;
    let written = supervisor.stdin.take().map(|mut stdin| stdin.write_all(text.as_bytes()));
    if let Some(Err(err)) = written {
        let _ = supervisor.wait();
        return Err(format!("cannot hand the job to its supervisor: {err}"));
    }
    let mut line = String::new();
    if let Some(stdout) = supervisor.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    let line = line.trim_end();
    if let Some(rest) = line.strip_prefix("started ") {
        let (id, output) = rest.split_once(' ').unwrap_or((rest, ""));
        return Ok(Launched { id: id.parse().unwrap_or(0), output: PathBuf::from(output), supervisor });
    }
    // Refused or broken: the supervisor is ending; reap it.
    let _ = supervisor.wait();
    match line.strip_prefix("refused ") {
        Some(why) => Err(why.to_string()),
        None => Err("the supervisor ended without starting the operation (see `firstwatch audit`)".into()),
    }
}
