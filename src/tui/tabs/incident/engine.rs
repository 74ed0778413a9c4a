//! The tab's background work: polling the store's incident revision, and
//! carrying out effects (store writes, audit rows, action runs, exports).

use super::{Effect, Msg};
use crate::action::execute::{ActionContext, Attempt, Progress};
use crate::action::runner;
use crate::incident::record;
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

/// Watches the store for incident changes from any process on the host.
pub fn watch(store: Store, sources: mpsc::Sender<Action>) {
    tokio::spawn(async move {
        let mut seen: Option<i64> = None;
        let mut clock = tokio::time::interval(POLL);
        clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while !sources.is_closed() {
            clock.tick().await;
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
        Effect::Open { title, severity, runbook } => write(store, sources, move |s| {
            record::open(s, &title, severity, runbook.as_deref(), &who).map(|i| format!("incident #{} opened", i.id))
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
        Effect::Run { nonce, confirmed, cancel } => {
            let context = context(services);
            tokio::spawn(async move {
                let first = (*confirmed).clone();
                // The pane already opens with the command line.
                let attempt = context.run(*confirmed, cancel.clone(), pane_progress(nonce, &sources, false)).await;
                let mut outcome = attempt.describe();
                let mut failed = match &attempt {
                    Attempt::Refused(_) => true,
                    Attempt::DryRun => false,
                    Attempt::Ran { report, .. } => !report.ending.succeeded() || attempt.verification_failed(),
                };
                // The declared follow-up runs in the same pane, under the same confirmation.
                if let Some(name) = first.spec().on_failed_verify.clone().filter(|_| attempt.verification_failed()) {
                    let _ = sources.send(wrap(Msg::FollowUp { nonce, name: name.clone() })).await;
                    let follow_up = context.run_follow_up(&first, cancel, pane_progress(nonce, &sources, true)).await;
                    outcome = format!("{outcome}; then {name}: {}", follow_up.describe());
                    failed = true;
                }
                let _ = sources.send(wrap(Msg::Finished { nonce, outcome, failed })).await;
                load_and_send(&store, &sources).await;
            });
        }
        Effect::Cancel(canceller) => canceller.cancel(),
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

/// Reports a run's progress into its pane; `show_start` adds the command line
/// (the pane opens with the first command's, so only a follow-up needs it).
fn pane_progress(nonce: u64, sources: &mpsc::Sender<Action>, show_start: bool) -> impl FnMut(Progress) + use<> {
    let sources = sources.clone();
    move |progress: Progress| {
        let msg = match progress {
            Progress::Output(line) => Msg::Output { nonce, line: line.text },
            Progress::Started { argv } if show_start => Msg::Output { nonce, line: format!("$ {argv}") },
            Progress::Started { .. } => return,
            Progress::Finished { ending, duration } => {
                Msg::Progress { nonce, text: format!("{} after {:.1} s", ending.describe(), duration.as_secs_f64()) }
            }
            Progress::Verdict { check, healthy, summary } => {
                let state = match healthy {
                    Some(true) => "healthy",
                    Some(false) => "FAILING",
                    None => "cannot verify",
                };
                Msg::Progress { nonce, text: format!("verify {check}: {state}: {summary}") }
            }
        };
        // A flood of output drops lines from the pane, never stalls the console; the record keeps the tail.
        let _ = sources.try_send(wrap(msg));
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
