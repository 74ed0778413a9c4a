//! The tab's I/O: listing the folders, verifying, reading contents and
//! restoring, all off the UI task, reporting back as `Msg`s.

use super::{BackupsTab, Effect, Msg};
use crate::backup::overview::{SetState, survey};
use crate::backup::{BackupSet, check_and_record, compare, contents, restore};
use crate::ops::confirm::{Confirmed, NewBackup};
use crate::tui::action::Action;
use crate::tui::tabs::{Services, TabMsg};
use std::sync::Arc;
use std::time::Duration;

/// How often the folders are listed again, to notice new and removed backups.
const RESCAN_EVERY: Duration = Duration::from_secs(60);

pub fn start(services: &Services) -> BackupsTab {
    if services.config.backups.is_empty() {
        return BackupsTab::default();
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(watch(services.clone()));
    }
    BackupsTab { configured: true, ..BackupsTab::default() }
}

/// Lists every set now and then; reports only when something changed.
async fn watch(services: Services) {
    let mut last: Option<Arc<Vec<SetState>>> = None;
    let mut interval = tokio::time::interval(RESCAN_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let scan = services.clone();
        let Ok(states) = tokio::task::spawn_blocking(move || list_all(&scan)).await else { return };
        if last.as_ref() != Some(&states) {
            last = Some(states.clone());
            if services.sources.send(Action::Msg(TabMsg::Backups(Msg::Listed(states)))).await.is_err() {
                return;
            }
        }
    }
}

fn list_all(services: &Services) -> Arc<Vec<SetState>> {
    let sets = BackupSet::all(&services.config);
    Arc::new(survey(&sets, services.store.as_ref(), chrono::Utc::now()))
}

fn find_set(services: &Services, name: &str) -> Option<BackupSet> {
    BackupSet::all(&services.config).into_iter().find(|set| set.name == name)
}

/// Runs blocking work off the UI task: on the runtime's blocking pool, or a thread outside one.
fn in_background(work: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn_blocking(work);
        }
        Err(_) => {
            let _ = std::thread::Builder::new().name("backups".into()).spawn(work);
        }
    }
}

/// Reports a result that must arrive (waits for room in the channel; never called on the UI task).
fn deliver(services: &Services, msg: Msg) {
    let _ = services.sources.blocking_send(Action::Msg(TabMsg::Backups(msg)));
}

pub fn execute(effect: Effect, services: &Services) {
    let services = services.clone();
    match effect {
        Effect::Rescan => in_background(move || deliver(&services, Msg::Listed(list_all(&services)))),
        Effect::CancelVerify(cancel) => cancel.cancel(),
        Effect::Verify { generation, jobs, cancel } => in_background(move || {
            for (set_name, entry) in jobs {
                if cancel.is_cancelled() {
                    break;
                }
                let Some(set) = find_set(&services, &set_name) else { continue };
                let mut last_percent = u8::MAX;
                let mut progress = |done: u64, total: u64| {
                    let percent = (done.saturating_mul(100) / total.max(1)).min(100) as u8;
                    if percent != last_percent {
                        last_percent = percent;
                        // Progress may be dropped when the console is busy; results may not.
                        let _ = services.sources.try_send(Action::Msg(TabMsg::Backups(Msg::VerifyProgress {
                            generation,
                            set: set_name.clone(),
                            name: entry.name.clone(),
                            percent,
                        })));
                    }
                };
                progress(0, 1);
                let result = check_and_record(&set, &entry, services.store.as_ref(), &mut progress, &cancel);
                deliver(&services, Msg::Verified { generation, set: set_name, name: entry.name, result });
            }
            deliver(&services, Msg::VerifyDone { generation });
        }),
        Effect::LoadContents { set, name, path } => in_background(move || {
            let result = match find_set(&services, &set) {
                Some(backup_set) => contents::read(backup_set.format, &path, &backup_set.check)
                    .map(Arc::new)
                    .map_err(|failure| failure.to_string()),
                None => Err(format!("the set `{set}` is no longer configured")),
            };
            deliver(&services, Msg::Contents { set, name, result });
        }),
        Effect::Compare { set, name, path } => in_background(move || {
            let result = match find_set(&services, &set) {
                Some(backup_set) => match &backup_set.restore_to {
                    Some(target) => compare::compare(backup_set.format, &path, target, &backup_set.check)
                        .map(Arc::new)
                        .map_err(|failure| failure.to_string()),
                    None => Err(format!("`{set}` has no restore_to to compare with")),
                },
                None => Err(format!("the set `{set}` is no longer configured")),
            };
            deliver(&services, Msg::Compared { set, name, result });
        }),
        Effect::PlanRestore { set, entry } => in_background(move || {
            let result = match find_set(&services, &set) {
                Some(backup_set) => restore::plan(&backup_set, &entry, None, chrono::Utc::now())
                    .map(|mut plan| {
                        restore::preview_overlay(&mut plan);
                        Arc::new(plan)
                    })
                    .map_err(|err| err.to_string()),
                None => Err(format!("the set `{set}` is no longer configured")),
            };
            deliver(&services, Msg::Planned { set, name: entry.name, result });
        }),
        Effect::Restore { confirmed } => in_background(move || {
            let result = run_restore(&services, &confirmed);
            deliver(&services, Msg::Restored { result });
        }),
        Effect::Create { confirmed } => in_background(move || {
            let set = confirmed.what().set.clone();
            let result = match find_set(&services, &set) {
                Some(_) => create_audited(&services, &confirmed),
                None => Err(format!("the set `{set}` is no longer configured")),
            };
            deliver(&services, Msg::Created { set, result });
        }),
        Effect::AuditNotRun { set, target, event, reason } => in_background(move || {
            if let Some(store) = &services.store {
                restore::audit_not_run(store, &services.identity, &set, target.as_deref(), event, &reason);
            }
        }),
    }
}

fn run_restore(services: &Services, confirmed: &Confirmed<restore::Plan>) -> Result<Arc<restore::Outcome>, String> {
    let plan = confirmed.what();
    let Some(store) = &services.store else {
        return Err("no store is open, so the restore cannot be audited; nothing was changed".into());
    };
    if services.read_only {
        let target = Some(plan.target.as_path());
        restore::audit_not_run(store, &services.identity, &plan.set, target, "restore-refused", "read-only mode");
        return Err("read-only: restores are disabled".into());
    }
    // The restore runs under a supervisor of its own, so quitting the console (or losing SSH)
    // does not stop it half-way; this thread only follows it.
    let job =
        crate::ops::Job::restore(confirmed, &services.config, store.path().to_path_buf(), services.identity.clone());
    let on_line = |line: crate::ops::Line| {
        if let crate::ops::Line::Percent(percent) = line {
            let _ = services.sources.try_send(Action::Msg(TabMsg::Backups(Msg::RestoreProgress { percent })));
        }
    };
    match follow_blocking(job, store, on_line)? {
        crate::ops::Followed::Ended(Some(row)) => {
            let result: Option<Result<restore::Outcome, String>> =
                row.result.as_deref().and_then(|json| serde_json::from_str(json).ok());
            match result {
                Some(result) => result.map(Arc::new),
                None => Err(row.detail.unwrap_or_else(|| format!("operation #{} {}", row.id, row.state.as_str()))),
            }
        }
        crate::ops::Followed::Ended(None) => Err("the restore ended but its record cannot be read".into()),
        crate::ops::Followed::Detached { id, .. } => Err(format!("operation #{id} goes on without this console")),
    }
}

/// Launches `job` under a supervisor and follows it from this (worker) thread.
fn follow_blocking(
    job: crate::ops::Job,
    store: &crate::store::Store,
    on_line: impl FnMut(crate::ops::Line),
) -> Result<crate::ops::Followed, String> {
    let follow = crate::ops::launch_and_follow(job, store, on_line, std::future::pending());
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime.block_on(follow),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| err.to_string())?
            .block_on(follow),
    }
}

/// A new backup, made under a supervisor like every operation (quitting the console does not cut it short).
fn create_audited(services: &Services, confirmed: &Confirmed<NewBackup>) -> Result<String, String> {
    if services.read_only {
        return Err("read-only: creating backups is disabled".into());
    }
    let Some(store) = &services.store else {
        return Err("no store is open, so the backup cannot be audited; nothing was made".into());
    };
    let job = crate::ops::Job::create_backup(
        confirmed,
        &services.config,
        store.path().to_path_buf(),
        services.identity.clone(),
    );
    let mut made = Vec::new();
    let on_line = |line: crate::ops::Line| {
        if let crate::ops::Line::Stdout(text) = line {
            made.push(text);
        }
    };
    match follow_blocking(job, store, on_line)? {
        crate::ops::Followed::Ended(Some(row)) if row.state == crate::ops::record::State::Ok => {
            Ok(made.last().map(|l| l.trim().to_string()).unwrap_or_else(|| row.detail.unwrap_or_default()))
        }
        crate::ops::Followed::Ended(Some(row)) => Err(row.detail.unwrap_or_else(|| row.state.as_str().to_string())),
        crate::ops::Followed::Ended(None) => Err("the backup ended but its record cannot be read".into()),
        crate::ops::Followed::Detached { id, .. } => Err(format!("operation #{id} goes on without this console")),
    }
}
