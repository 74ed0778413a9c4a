//! A front end's whole part in an operation: launch it, show its output, learn how it ended.

use super::job::Job;
use super::output::{Line, follow};
use super::record::{self, OperationRow};
use crate::store::Store;
use std::future::Future;

/// How following an operation ended.
#[derive(Debug)]
pub enum Followed {
    /// The supervisor is done; its row (`None` if it could not be read).
    Ended(Option<Box<OperationRow>>),
    /// `stop` came first (Ctrl-C, a hang-up): the operation goes on without us.
    Detached { id: i64, supervisor: u32 },
}

/// Launches `job` and follows its output into `on_line` until it ends or `stop` resolves.
/// `Err` means nothing ran (busy target, audit log unwritable...), with the reason.
pub async fn launch_and_follow(
    job: Job,
    store: &Store,
    on_line: impl FnMut(Line),
    stop: impl Future<Output = ()>,
) -> Result<Followed, String> {
    let who = job.who.clone();
    let launched = tokio::task::spawn_blocking(move || super::launch(&job)).await.map_err(|err| err.to_string())??;
    let super::Launched { id, output, mut supervisor } = launched;
    let pid = supervisor.id();
    tokio::select! {
        followed = follow(&output, on_line) => {
            followed.map_err(|err| format!("cannot follow operation #{id}: {err}"))?;
        }
        () = stop => return Ok(Followed::Detached { id, supervisor: pid }),
    }
    // Reaped here, so a finished supervisor never lingers as a zombie.
    let _ = tokio::task::spawn_blocking(move || supervisor.wait()).await;
    let reader = store.clone();
    let row = tokio::task::spawn_blocking(move || {
        // A supervisor that died without finishing its record is recorded as abandoned now.
        if record::get(&reader, id).ok().flatten().is_some_and(|row| !row.done) {
            let _ = super::recover(&reader, &who);
        }
        record::get(&reader, id)
    })
    .await;
    Ok(Followed::Ended(row.ok().and_then(|row| row.ok().flatten()).map(Box::new)))
}

/// Resolves on the first Ctrl-C, hang-up or SIGTERM: what ends a front end, never its operation.
pub async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut hangup), Ok(mut terminate)) = (signal(SignalKind::hangup()), signal(SignalKind::terminate())) else {
        // Without those handlers, Ctrl-C still detaches (and the other signals end us as they would anyway).
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = hangup.recv() => {}
        _ = terminate.recv() => {}
    }
}
