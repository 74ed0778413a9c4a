//! A supervisor carrying silence operations: create a confirmed batch, or expire one.
//!
//! Like an action: the start is audited before anything is sent (nothing is
//! sent if it cannot be), the operation gets its row, each request its
//! outcome row, and the front end learns the ids from the row's result.

use super::Handshake;
use crate::config::{Config, EngineKind};
use crate::engine::Engines;
use crate::incident::record::EventKind;
use crate::ops::confirm;
use crate::ops::job::Job;
use crate::ops::output::OutputWriter;
use crate::ops::record::{self, NewOperation, State};
use crate::silence::log::Log;
use crate::silence::plan::{Batch, EXPIRE, Expiry};
use crate::silence::run::{self, Said};
use crate::store::Store;

pub(super) enum Work {
    Create(Batch),
    Expire(Expiry),
}

impl Work {
    fn engine(&self) -> &str {
        match self {
            Work::Create(batch) => batch.engine(),
            Work::Expire(expiry) => &expiry.engine,
        }
    }

    fn what(&self) -> &str {
        match self {
            Work::Create(batch) => batch.what(),
            Work::Expire(_) => EXPIRE,
        }
    }

    fn summary(&self) -> String {
        match self {
            Work::Create(batch) => batch.summary().to_string(),
            Work::Expire(expiry) => format!("silence {}: {}", expiry.id, expiry.summary),
        }
    }
}

pub(super) async fn run(
    job: &Job,
    config: &Config,
    work: Work,
    store: Store,
    output: &mut OutputWriter,
    handshake: &mut Handshake,
) -> i32 {
    let log = Log::new(&store, &job.who, work.what(), work.engine());
    let (engines, _) = Engines::from_config(config);
    let engine = match engines.pick(Some(work.engine()), EngineKind::Alertmanager) {
        Ok(engine) => engine,
        Err(why) => {
            log.refused(&why);
            handshake.refuse(&why);
            return 3;
        }
    };
    let summary = work.summary();
    // Nothing is sent unless its start is on record.
    if let Err(err) = log.audit("start", summary.clone()) {
        handshake.refuse(&format!("not started: the audit log cannot be written ({err})"));
        return 3;
    }
    log.timeline(EventKind::Action, &format!("{} on {}: {summary}", work.what(), work.engine()));
    let new = NewOperation {
        kind: match work {
            Work::Create(_) => "silence".into(),
            Work::Expire(_) => "expire-silence".into(),
        },
        name: match &work {
            Work::Create(_) => work.what().to_string(),
            Work::Expire(expiry) => format!("{EXPIRE} {}", expiry.short_id()),
        },
        target: work.engine().to_string(),
        argv: None,
        supervisor_pid: std::process::id(),
        output: output.path().to_path_buf(),
        incident_id: crate::incident::record::open_incident_id(&store).ok().flatten(),
    };
    let id = match record::insert(&store, new, &job.who) {
        Ok(id) => id,
        Err(err) => {
            // The start row gets its outcome: nothing was sent.
            let why = super::not_recorded(err);
            log.refused(&why);
            handshake.refuse(&why);
            return 3;
        }
    };
    handshake.started(id, output.path());
    output.note(&format!("{} on {} ({})", work.what(), engine.name(), engine.url()));
    let say = |said: Said| match said {
        Said::Id(id) => output.stdout(&id),
        Said::Note(text) => output.note(&text),
        Said::Error(text) => output.stderr(&text),
    };
    let outcome = match work {
        Work::Create(batch) => run::create(&engine, &confirm::relayed(&batch), &log, say).await,
        Work::Expire(expiry) => run::expire(&engine, &confirm::relayed(&expiry), &log, say).await,
    };
    let (state, exit) = if outcome.ok() { (State::Ok, 0) } else { (State::Failed, 1) };
    let _ = record::finish(&store, id, state, exit, &outcome.describe());
    if let Ok(json) = serde_json::to_string(&outcome) {
        let _ = record::set_result(&store, id, &json);
    }
    let _ = record::mark_done(&store, id);
    exit
}
