//! Silences in the console: the silence dialog (a draft from an alert's labels,
//! edited, counted against the firing alerts, confirmed by typing the engine's
//! name) and the silences overlay (every silence with its time left; expire
//! one by typing its id). Both are overlays over any tab, opened by
//! [`Action::OpenSilences`](crate::tui::Action::OpenSilences) and
//! [`Action::SilenceAlert`](crate::tui::Action::SilenceAlert) (see [`silence_alert`]).
//!
//! What they do goes the road every operation goes (`crate::silence`): the
//! confirmation token, a supervisor job, audit rows and timeline lines. The
//! update functions here are pure; [`execute`] does the I/O and reports back
//! through `Action::Silence(Msg)`, tagged with the overlay's nonce so a late
//! answer never lands in a newer overlay.

pub mod dialog;
pub mod list;
mod view;

pub use dialog::{Seed, SilenceDialog};
pub use list::SilencesOverlay;
pub use view::{render_dialog, render_list};

use super::action::Action;
use super::model::{Model, Overlay};
use crate::engine::Labels;
use crate::engine::alertmanager::{self, Alert};
use crate::silence::list::Listing;
use crate::silence::log::Log;
use crate::silence::run::Outcome;
use crate::silence::{ConfirmedBatch, ConfirmedExpiry};
use crate::tui::tabs::Services;
use crate::util::sanitize::sanitize_str;
use crossterm::event::KeyEvent;
use std::sync::Arc;

/// What the overlays' background work reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Alerts {
        nonce: u64,
        result: Result<Arc<Vec<Alert>>, String>,
    },
    /// The new silence's id, or why none was made.
    Created {
        nonce: u64,
        result: Result<String, String>,
    },
    Listed {
        nonce: u64,
        listing: Listing,
    },
    Expired {
        nonce: u64,
        result: Result<String, String>,
    },
    /// Something to say on the status line (an audit row that could not be written).
    Notice(String),
}

/// Work the overlays ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Read the engine's alerts, to count what a draft would silence.
    FetchAlerts {
        nonce: u64,
        engine: String,
    },
    /// An audit row (request, cancelled) for operation `what` on `engine`.
    Audit {
        what: String,
        engine: String,
        event: &'static str,
        detail: String,
    },
    /// A refusal: its audit row and its line on the open incident's timeline.
    Refused {
        what: String,
        engine: String,
        why: String,
    },
    Create {
        nonce: u64,
        confirmed: Box<ConfirmedBatch>,
    },
    List {
        nonce: u64,
    },
    Expire {
        nonce: u64,
        confirmed: Box<ConfirmedExpiry>,
    },
}

/// The action that opens the silence dialog for an alert: its engine and labels, matchers prefilled.
pub fn silence_alert(engine: &str, labels: &Labels) -> Action {
    Action::SilenceAlert(Box::new(Seed { engine: engine.to_string(), labels: labels.clone() }))
}

fn next_nonce(model: &mut Model) -> u64 {
    model.next_nonce += 1;
    model.next_nonce
}

/// Opens the dialog for `seed` (refused in a read-only session, which is audited).
pub fn open_dialog(model: &mut Model, seed: Seed) -> Vec<Effect> {
    if model.read_only {
        model.say("read-only session: silences cannot be created");
        let why = crate::action::Refusal::ReadOnly.to_string();
        return vec![Effect::Refused { what: crate::silence::plan::ADD.into(), engine: seed.engine, why }];
    }
    let nonce = next_nonce(model);
    let created_by =
        if model.operator.is_empty() { format!("firstwatch@{}", model.status.host) } else { model.operator.clone() };
    let engine = seed.engine.clone();
    model.overlay = Overlay::Silence(Box::new(SilenceDialog::new(nonce, &seed, created_by)));
    vec![Effect::FetchAlerts { nonce, engine }]
}

/// Opens the silences overlay and reads every Alertmanager's silences.
pub fn open_list(model: &mut Model) -> Vec<Effect> {
    let nonce = next_nonce(model);
    model.overlay = Overlay::Silences(Box::new(SilencesOverlay::new(nonce)));
    vec![Effect::List { nonce }]
}

/// An action while one of the overlays is open.
pub fn on_action(model: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit => {
            model.running = false;
            Vec::new()
        }
        Action::Key(key) => on_key(model, key),
        // A paste may fill a field while editing; it never answers a confirmation.
        Action::Paste(text) => {
            if let Overlay::Silence(dialog) = &mut model.overlay
                && dialog.stage == dialog::Stage::Edit
            {
                for c in text.chars().filter(|c| !c.is_control()) {
                    let key = KeyEvent::new(crossterm::event::KeyCode::Char(c), crossterm::event::KeyModifiers::NONE);
                    dialog.on_key(key, model.wall, model.read_only);
                }
            }
            Vec::new()
        }
        Action::Close => {
            model.overlay = Overlay::None;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let (wall, read_only) = (model.wall, model.read_only);
    match &mut model.overlay {
        Overlay::Silence(dialog) => match dialog.on_key(key, wall, read_only) {
            dialog::Outcome::Pending(effects) => effects,
            dialog::Outcome::Close(effects) => {
                model.overlay = Overlay::None;
                effects
            }
        },
        Overlay::Silences(list) => match list.on_key(key, read_only) {
            Some(effects) => effects,
            None => {
                model.overlay = Overlay::None;
                Vec::new()
            }
        },
        _ => Vec::new(),
    }
}

/// A frame showing the overlay was drawn: a confirmation on it may now take keys.
pub fn on_frame_drawn(model: &mut Model) {
    match &mut model.overlay {
        Overlay::Silence(dialog) => dialog.arm(),
        Overlay::Silences(list) => list.arm(),
        _ => {}
    }
}

/// A report from the background work; answers for an overlay that has gone are dropped.
pub fn on_msg(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match (msg, &mut model.overlay) {
        (Msg::Alerts { nonce, result }, Overlay::Silence(dialog)) if dialog.nonce == nonce => {
            dialog.alerts = match result {
                Ok(alerts) => dialog::Alerts::Loaded(alerts),
                Err(why) => dialog::Alerts::Failed(why),
            };
        }
        (Msg::Created { nonce, result }, Overlay::Silence(dialog)) if dialog.nonce == nonce => {
            dialog.stage = dialog::Stage::Done(result);
        }
        (Msg::Created { result, .. }, _) => match result {
            Ok(id) => model.say(&format!("silence {} created", crate::silence::plan::short_id(&id))),
            Err(why) => model.say(&format!("silence not created: {why}")),
        },
        (Msg::Listed { nonce, listing }, Overlay::Silences(list)) if list.nonce == nonce => list.listed(listing),
        (Msg::Expired { nonce, result }, Overlay::Silences(list)) if list.nonce == nonce => {
            list.notice = Some(match result {
                Ok(id) => format!("✓ expired {}", crate::silence::plan::short_id(&id)),
                Err(why) => format!("✗ not expired: {why}"),
            });
            list.loading = true;
            return vec![Effect::List { nonce }];
        }
        (Msg::Notice(text), _) => model.say(&text),
        _ => {}
    }
    Vec::new()
}

/// Carries out an effect: spawns its work, which reports back as `Action::Silence`.
pub fn execute(effect: Effect, services: &Services) {
    let sources = services.sources.clone();
    let report = move |msg: Msg| {
        let sources = sources.clone();
        async move {
            // The console may be quitting; nothing is waiting for the answer then.
            let _ = sources.send(Action::Silence(msg)).await;
        }
    };
    let engines = || crate::engine::Engines::from_config(&services.config).0;
    match effect {
        Effect::FetchAlerts { nonce, engine } => {
            let engines = engines();
            tokio::spawn(async move {
                let result = match engines.pick(Some(&engine), crate::config::EngineKind::Alertmanager) {
                    Ok(engine) => {
                        alertmanager::alerts(&engine).await.map(Arc::new).map_err(|err| sanitize_str(&err.to_string()))
                    }
                    Err(why) => Err(why),
                };
                report(Msg::Alerts { nonce, result }).await;
            });
        }
        Effect::List { nonce } => {
            let engines = engines();
            tokio::spawn(async move {
                let listing = crate::silence::list::list(&engines, None).await.unwrap_or_default();
                report(Msg::Listed { nonce, listing }).await;
            });
        }
        Effect::Audit { what, engine, event, detail } => {
            let Some(log) = log_for(services, &what, &engine) else {
                tokio::spawn(report(Msg::Notice("audit log not written: no store".into())));
                return;
            };
            let sources = services.sources.clone();
            in_order(move || {
                if let Err(err) = log.audit(event, detail) {
                    // Said on the status line when there is room; the console may be quitting.
                    let _ = sources.try_send(Action::Silence(Msg::Notice(format!("audit log not written: {err}"))));
                }
            });
        }
        Effect::Refused { what, engine, why } => {
            if let Some(log) = log_for(services, &what, &engine) {
                in_order(move || log.refused(&why));
            }
        }
        Effect::Create { nonce, confirmed } => {
            let batch = confirmed.batch().clone();
            let summary = batch.summary().to_string();
            let job = services.store.as_ref().map(|store| {
                crate::ops::Job::silences(
                    &confirmed,
                    &services.config,
                    store.path().to_path_buf(),
                    services.identity.clone(),
                )
            });
            let confirmed_row = confirm_in_order(log_for(services, batch.what(), batch.engine()), summary);
            let store = services.store.clone();
            tokio::spawn(async move {
                let result = match (job, store) {
                    (Some(job), Some(store)) => run_confirmed(job, confirmed_row, store).await,
                    _ => Err("no store to write the audit log to, so nothing was sent".into()),
                };
                let result = result
                    .and_then(|outcome| outcome.created.first().cloned().ok_or_else(|| outcome.errors.join("; ")));
                report(Msg::Created { nonce, result }).await;
            });
        }
        Effect::Expire { nonce, confirmed } => {
            let expiry = confirmed.expiry().clone();
            let summary = format!("silence {}: {}", expiry.id, expiry.summary);
            let job = services.store.as_ref().map(|store| {
                crate::ops::Job::expire_silence(
                    &confirmed,
                    &services.config,
                    store.path().to_path_buf(),
                    services.identity.clone(),
                )
            });
            let confirmed_row =
                confirm_in_order(log_for(services, crate::silence::plan::EXPIRE, &expiry.engine), summary);
            let store = services.store.clone();
            tokio::spawn(async move {
                let result = match (job, store) {
                    (Some(job), Some(store)) => run_confirmed(job, confirmed_row, store).await,
                    _ => Err("no store to write the audit log to, so nothing was sent".into()),
                };
                let result = result
                    .and_then(|outcome| outcome.expired.first().cloned().ok_or_else(|| outcome.errors.join("; ")));
                report(Msg::Expired { nonce, result }).await;
            });
        }
    }
}

/// Runs the overlays' audit and timeline writes one after another on a thread of their own, in
/// the order they were asked for, so a request's row always comes before its confirmation's.
fn in_order(write: impl FnOnce() + Send + 'static) {
    type Write = Box<dyn FnOnce() + Send>;
    static WRITER: std::sync::OnceLock<Option<std::sync::mpsc::SyncSender<Write>>> = std::sync::OnceLock::new();
    let writer = WRITER.get_or_init(|| {
        // People type these one at a time; 256 waiting writes means the store is stuck.
        let (sender, writes) = std::sync::mpsc::sync_channel::<Write>(256);
        let spawned = std::thread::Builder::new().name("silence-log".into()).spawn(move || {
            for write in writes {
                write();
            }
        });
        spawned.ok().map(|_| sender)
    });
    let write: Write = Box::new(write);
    let refused = match writer {
        Some(sender) => sender.try_send(write).err().map(|err| match err {
            std::sync::mpsc::TrySendError::Full(write) | std::sync::mpsc::TrySendError::Disconnected(write) => write,
        }),
        None => Some(write),
    };
    // No writer thread, or a full queue: written now on a blocking thread rather than lost.
    if let Some(write) = refused {
        tokio::task::spawn_blocking(write);
    }
}

fn log_for(services: &Services, what: &str, engine: &str) -> Option<Log> {
    services.store.as_ref().map(|store| Log::new(store, &services.identity, what, engine))
}

type Written = tokio::sync::oneshot::Receiver<Result<(), String>>;

/// Queues the `confirmed` row behind the rows asked for before it; the receiver says whether it was written.
fn confirm_in_order(log: Option<Log>, summary: String) -> Written {
    let (done, written) = tokio::sync::oneshot::channel();
    match log {
        Some(log) => in_order(move || {
            // The waiting task may be gone (the console quit): then nothing is launched either way.
            let _ = done.send(log.audit("confirmed", summary).map_err(|err| err.to_string()));
        }),
        None => {
            let _ = done.send(Err("no store to write the audit log to".into()));
        }
    }
    written
}

/// Once its confirmation is on record, hands the job to a supervisor and waits for its outcome.
async fn run_confirmed(
    job: crate::ops::Job,
    confirmed_row: Written,
    store: crate::store::Store,
) -> Result<Outcome, String> {
    match confirmed_row.await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return Err(format!("refused: the audit log cannot be written ({err})")),
        Err(_) => return Err("refused: the audit log writer is gone".into()),
    }
    // Quitting the console stops only this wait: the supervisor carries the request to its end.
    match crate::ops::launch_and_follow(job, &store, |_| {}, std::future::pending()).await {
        Ok(crate::ops::Followed::Ended(Some(row))) => {
            match row.result.as_deref().map(serde_json::from_str::<Outcome>) {
                Some(Ok(outcome)) => Ok(outcome),
                _ => Err(row.detail.unwrap_or_else(|| "the operation ended without an outcome".into())),
            }
        }
        Ok(crate::ops::Followed::Ended(None)) => Err("the operation ended but its record cannot be read".into()),
        Ok(crate::ops::Followed::Detached { id, .. }) => Err(format!("operation #{id} goes on")),
        Err(why) => Err(format!("refused: {why}")),
    }
}
