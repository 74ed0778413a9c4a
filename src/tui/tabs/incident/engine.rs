//! The tab's background work: polling the store's incident revision, and
//! carrying out effects (store writes, audit rows, action runs, exports).

use super::{Effect, HostOperation, Msg};
use crate::action::execute::ActionContext;
use crate::action::runner;
use crate::incident::record;
use crate::ops::{self, Job};
use crate::store::Store;
use crate::tui::action::Action;
use crate::tui::tabs::{Services, TabMsg};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the store's revision counter is read: one cheap query, so
/// another instance's tick shows up here within a second.
const POLL: Duration = Duration::from_secs(1);

fn wrap(msg: Msg) -> Action {
    Action::Msg(TabMsg::Incident(msg))
}

/// Watches the store for incident changes, and for operations running on the
/// host, from any process.
pub fn watch(store: Store, sources: mpsc::Sender<Action>) {
    tokio::spawn(async move {
        let mut seen: Option<i64> = None;
        let mut operations: Vec<HostOperation> = Vec::new();
        let mut clock = tokio::time::interval(POLL);
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while !sources.is_closed() {
            clock.tick().await;
            let reader = store.clone();
            if let Ok(Ok(running)) = tokio::task::spawn_blocking(move || running_operations(&reader)).await
                && running != operations
            {
                operations = running.clone();
                let _ = sources.send(wrap(Msg::Operations(running))).await;
            }
            let reader = store.clone();
            match tokio::task::spawn_blocking(move || record::revision(&reader)).await {
                Ok(Ok(revision)) if seen != Some(revision) => {
                    seen = Some(revision);
                    load_and_send(&store, &sources).await;
                }
                Ok(Ok(_)) => {}
                Ok(Err(err)) => {
                    seen = None;
                    let _ = sources.try_send(wrap(Msg::StoreError(err.to_string())));
                }
                Err(_) => break,
            }
        }
    });
}

/// Operations whose supervisor is still at work, as the actions pane lists them.
fn running_operations(store: &Store) -> Result<Vec<HostOperation>, crate::store::StoreError> {
    let rows = ops::record::open(store)?;
    Ok(rows
        .into_iter()
        .filter(|row| !row.state.is_final() || row.verification.as_deref() == Some("watching"))
        .map(|row| {
            let place = row.tty.clone().or(row.ssh_client.clone()).map(|t| format!(" ({t})")).unwrap_or_default();
            HostOperation {
                id: row.id,
                name: crate::util::sanitize::sanitize_str(&row.name),
                target: crate::util::sanitize::sanitize_str(&row.target),
                who: crate::util::sanitize::sanitize_str(&format!("{}@{}{place}", row.user, row.host)),
                started: chrono::DateTime::parse_from_rfc3339(&row.started).ok().map(|t| t.to_utc()),
                watching: row.state.is_final(),
                output: row.output,
            }
        })
        .collect())
}

async fn load_and_send(store: &Store, sources: &mpsc::Sender<Action>) {
    let reader = store.clone();
    let msg = match tokio::task::spawn_blocking(move || record::current(&reader)).await {
        Ok(Ok(record)) => Msg::Loaded(record.map(Arc::new)),
        Ok(Err(err)) => Msg::StoreError(err.to_string()),
        Err(err) => Msg::StoreError(err.to_string()),
    };
    let _ = sources.send(wrap(msg)).await;
}

fn context(services: &Services) -> ActionContext {
    ActionContext {
        config: services.config.clone(),
        store: services.store.clone(),
        who: services.identity.clone(),
        grace: runner::GRACE,
        superseded: None,
    }
}

pub fn execute(effect: Effect, services: &Services) {
    let sources = services.sources.clone();
    let Some(store) = services.store.clone() else {
        let _ = sources.try_send(wrap(Msg::Notice("no store is open: nothing can be recorded".into())));
        return;
    };
    let who = services.identity.clone();
    match effect {
        Effect::Refresh => {
            tokio::spawn(async move { load_and_send(&store, &sources).await });
        }
        Effect::Open { title, severity, runbook, evidence } => write(store, sources, move |s| {
            let incident = record::open(s, &title, severity, runbook.as_deref(), &who)?;
            if let Some(evidence) = evidence {
                record::add_event(s, incident.id, record::EventKind::Note, None, &evidence, &who)?;
            }
            Ok(format!("incident #{} opened", incident.id))
        }),
        Effect::AddEvent { incident, kind, step, text } => write(store, sources, move |s| {
            record::add_event(s, incident, kind, step.as_deref(), &text, &who).map(|_| String::new())
        }),
        Effect::SetSeverity { incident, severity } => write(store, sources, move |s| {
            record::set_severity(s, incident, severity, &who).map(|()| format!("severity is now {}", severity.label()))
        }),
        Effect::Close { incident, resolution } => write(store, sources, move |s| {
            record::close(s, incident, &resolution, &who).map(|()| format!("incident #{incident} closed"))
        }),
        Effect::Audit { event, action, detail } => {
            let context = context(services);
            tokio::spawn(async move {
                if let Err(err) = context.audit(event, Some(&action), detail).await {
                    let _ = sources.try_send(wrap(Msg::Notice(format!("audit log not written: {err}"))));
                }
            });
        }
        Effect::Run { nonce, confirmed, cancel } if confirmed.dry_run() => {
            let context = context(services);
            tokio::spawn(async move {
                let attempt = context.run(*confirmed, cancel, |_| {}).await;
                let _ = sources.send(wrap(Msg::Finished { nonce, outcome: attempt.describe(), failed: false })).await;
                load_and_send(&store, &sources).await;
            });
        }
        Effect::Run { nonce, confirmed, cancel } => {
            let job = Job::action(&confirmed, &services.config, store.path().to_path_buf(), who, runner::GRACE);
            tokio::spawn(async move {
                let msg = match tokio::task::spawn_blocking(move || ops::launch(&job)).await {
                    Ok(Ok(launched)) => follow_operation(launched, nonce, cancel, &store, &sources).await,
                    Ok(Err(why)) => Msg::Finished { nonce, outcome: format!("refused: {why}"), failed: true },
                    Err(err) => Msg::Finished { nonce, outcome: format!("refused: {err}"), failed: true },
                };
                let _ = sources.send(wrap(msg)).await;
                load_and_send(&store, &sources).await;
            });
        }
        Effect::Cancel(canceller) => canceller.cancel(),
        Effect::Follow { nonce, id, output } => {
            tokio::spawn(async move {
                let msg = follow_existing(id, &output, nonce, &store, &sources).await;
                let _ = sources.send(wrap(msg)).await;
            });
        }
        Effect::CancelOperation { confirmed } => {
            tokio::spawn(async move {
                let notice = tokio::task::spawn_blocking(move || cancel_operation(&store, &who, &confirmed))
                    .await
                    .unwrap_or_else(|err| err.to_string());
                let _ = sources.send(wrap(Msg::Notice(notice))).await;
            });
        }
        Effect::RunCheck { incident, step, check } => {
            let config = services.config.clone();
            tokio::spawn(async move {
                let verdict = match crate::health::once::run_check_once(&config, &check).await {
                    Ok(verdict) if verdict.healthy => format!("check {check}: healthy: {}", verdict.summary),
                    Ok(verdict) => format!("check {check}: FAILING: {}", verdict.summary),
                    Err(why) => format!("check {check}: could not run: {why}"),
                };
                let verdict = crate::util::sanitize::sanitize_str(&verdict);
                if let Some(incident) = incident {
                    let writer = store.clone();
                    let text = verdict.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        record::add_event(&writer, incident, record::EventKind::Verify, Some(&step), &text, &who)
                    })
                    .await;
                }
                let _ = sources.send(wrap(Msg::Notice(verdict))).await;
                load_and_send(&store, &sources).await;
            });
        }
        Effect::Export { incident } => {
            let config = services.config.clone();
            write(store, sources, move |s| {
                let record = record::get(s, incident)?;
                let runbook =
                    record.incident.runbook.as_deref().and_then(|n| crate::incident::cli::find_runbook(&config, n));
                let text = crate::incident::export::post_mortem(&record, runbook.as_ref(), chrono::Utc::now());
                let dir = s.path().parent().map(|p| p.join("post-mortems")).unwrap_or_else(std::env::temp_dir);
                let path = dir.join(format!("incident-{incident}-{}.md", chrono::Utc::now().format("%Y%m%d-%H%M%S")));
                let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text));
                Ok(match written {
                    Ok(()) => format!("post-mortem written to {}", path.display()),
                    Err(err) => format!("cannot write {}: {err}", path.display()),
                })
            })
        }
    }
}

/// Shows a launched operation's output in the pane until its supervisor ends;
/// `cancel` asks the supervisor to stop the command. Quitting the console only
/// stops the following: the operation goes on.
async fn follow_operation(
    launched: ops::Launched,
    nonce: u64,
    mut cancel: runner::CancelSignal,
    store: &Store,
    sources: &mpsc::Sender<Action>,
) -> Msg {
    let ops::Launched { id, output, mut supervisor } = launched;
    let _ = sources.send(wrap(Msg::Launched { nonce, id })).await;
    let pid = supervisor.id();
    // Reaped off the runtime, so a finished supervisor never lingers as a zombie.
    std::thread::spawn(move || supervisor.wait());
    let lines = sources.clone();
    let mut following_up = false;
    let follow = ops::follow(&output, move |line| {
        let msg = match line {
            ops::Line::Stdout(text) | ops::Line::Stderr(text) => Msg::Output { nonce, line: text },
            // The pane already opens with the first command line; a follow-up's is shown like a command's.
            ops::Line::Running(_) if !following_up => return,
            ops::Line::Running(argv) => Msg::Output { nonce, line: format!("$ {argv}") },
            ops::Line::FollowUp(name) => {
                following_up = true;
                Msg::FollowUp { nonce, name }
            }
            ops::Line::Note(text) => Msg::Progress { nonce, text },
            ops::Line::Percent(_) => return,
        };
        // A flood of output drops lines from the pane, never stalls the console; the file keeps them all.
        let _ = lines.try_send(wrap(msg));
    });
    tokio::pin!(follow);
    let mut cancelled = false;
    let followed = loop {
        tokio::select! {
            followed = &mut follow => break followed,
            () = cancel.fired(), if !cancelled => {
                cancelled = true;
                // Only while it still holds its output file's lock (its pid may be reused once it is
                // reaped), and never 0 or negative: those would signal the console's own process group.
                if let Ok(pid) = i32::try_from(pid)
                    && pid > 0
                    && ops::supervisor_alive(&output)
                {
                    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
                }
            }
        }
    };
    if let Err(err) = followed {
        return Msg::Finished { nonce, outcome: format!("cannot follow operation #{id}: {err}"), failed: true };
    }
    let reader = store.clone();
    match tokio::task::spawn_blocking(move || ops::record::get(&reader, id)).await {
        Ok(Ok(Some(row))) => {
            // The exit code the command line would give: the command's own, 4 when the watch failed.
            let failed = row.exit != Some(0);
            Msg::Finished { nonce, outcome: ops::cli::ending(&row), failed }
        }
        _ => {
            Msg::Finished { nonce, outcome: format!("operation #{id} ended; its record cannot be read"), failed: true }
        }
    }
}

/// Shows an operation started elsewhere until its supervisor lets go of its output.
async fn follow_existing(
    id: i64,
    output: &std::path::Path,
    nonce: u64,
    store: &Store,
    sources: &mpsc::Sender<Action>,
) -> Msg {
    let lines = sources.clone();
    let followed = ops::follow(output, move |line| {
        let msg = match line {
            ops::Line::Stdout(text) | ops::Line::Stderr(text) => Msg::Output { nonce, line: text },
            ops::Line::Running(argv) => Msg::Output { nonce, line: format!("$ {argv}") },
            ops::Line::FollowUp(name) => Msg::FollowUp { nonce, name },
            ops::Line::Note(text) => Msg::Progress { nonce, text },
            ops::Line::Percent(_) => return,
        };
        let _ = lines.try_send(wrap(msg));
    })
    .await;
    if let Err(err) = followed {
        return Msg::Finished { nonce, outcome: format!("cannot follow operation #{id}: {err}"), failed: true };
    }
    let reader = store.clone();
    match tokio::task::spawn_blocking(move || ops::record::get(&reader, id)).await {
        Ok(Ok(Some(row))) => Msg::Finished { nonce, failed: row.exit != Some(0), outcome: ops::cli::ending(&row) },
        _ => {
            Msg::Finished { nonce, outcome: format!("operation #{id} ended; its record cannot be read"), failed: true }
        }
    }
}

/// The console's cancel of an operation it did not start: audited like `ops cancel`.
fn cancel_operation(
    store: &Store,
    who: &crate::util::identity::Identity,
    confirmed: &ops::confirm::Confirmed<ops::confirm::Cancel>,
) -> String {
    let id = confirmed.what().id;
    let row = match ops::record::get(store, id) {
        Ok(Some(row)) => row,
        Ok(None) => return format!("no operation #{id}"),
        Err(err) => return format!("cannot read operation #{id}: {err}"),
    };
    if let Err(err) = ops::cancel::audit(store, who, &row, "cancel-request", "from the console") {
        return format!("refused: the audit log cannot be written: {err}");
    }
    match ops::cancel::signal(store, who, confirmed, &row) {
        Ok(_) => format!("cancelling operation #{id}; its outcome follows in the pane"),
        Err(why) => why.to_string(),
    }
}

/// Runs a store write off the UI thread, then reports the answer and the fresh incident.
fn write<F>(store: Store, sources: mpsc::Sender<Action>, work: F)
where
    F: FnOnce(&Store) -> Result<String, record::IncidentError> + Send + 'static,
{
    tokio::spawn(async move {
        let writer = store.clone();
        let notice = match tokio::task::spawn_blocking(move || work(&writer)).await {
            Ok(Ok(text)) => text,
            Ok(Err(err)) => err.to_string(),
            Err(err) => err.to_string(),
        };
        if !notice.is_empty() {
            let _ = sources.send(wrap(Msg::Notice(notice))).await;
        }
        load_and_send(&store, &sources).await;
    });
}
