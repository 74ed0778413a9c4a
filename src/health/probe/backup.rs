//! Backup checks: `[[check]] backup = "SET"` judges a backup set the way
//! `firstwatch backups list` does (see [`crate::backup::assess`]): the age of its
//! newest good backup against `warn_after` / `critical_after`, a newest backup
//! that is empty, cut short or known corrupt, and older corrupt ones. Stored
//! verification results are read from the store; the listing runs on the blocking pool.

use super::{Observed, ProbeError};
use crate::backup::BackupSet;
use crate::backup::assess::{self, Limits};
use crate::backup::overview::survey_for_check;
use crate::config::{CheckConfig, Config};
use crate::health::Level;
use crate::health::condition::{Observation, Value};
use crate::store::Store;
use std::sync::{Arc, Mutex};

/// What a backup check needs: the set, its limits, and the store with verification results.
#[derive(Clone)]
pub struct BackupCheck {
    pub set: BackupSet,
    pub limits: Limits,
    store: Arc<Mutex<StoreLink>>,
}

/// The store is opened on the first run, and again after a failure, not at config load.
enum StoreLink {
    Closed(Box<Config>),
    Open(Store),
    Absent,
}

impl std::fmt::Debug for BackupCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupCheck").field("set", &self.set.name).field("limits", &self.limits).finish()
    }
}

impl BackupCheck {
    /// For a check with `backup = "SET"`; `Err` names a set the config lacks.
    pub fn from_config(check: &CheckConfig, config: &Config) -> Result<Option<BackupCheck>, String> {
        let Some(name) = &check.backup else { return Ok(None) };
        let set = config
            .backups
            .iter()
            .find(|set| set.name.get_ref() == name.get_ref())
            .and_then(|set| BackupSet::from_config(config, set))
            .ok_or_else(|| format!("no backup set named `{}`", name.get_ref()))?;
        let limits =
            Limits::for_set(set.every, check.warn_after.map(|d| d.get()), check.critical_after.map(|d| d.get()));
        Ok(Some(BackupCheck { set, limits, store: Arc::new(Mutex::new(StoreLink::Closed(Box::new(config.clone())))) }))
    }

    /// A check on `set` without a store (stored verification results are then unknown).
    pub fn without_store(set: BackupSet, limits: Limits) -> BackupCheck {
        BackupCheck { set, limits, store: Arc::new(Mutex::new(StoreLink::Absent)) }
    }

    fn store(&self) -> Option<Store> {
        let mut link = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let StoreLink::Closed(config) = &*link {
            let store = Store::for_config(config).ok()?;
            *link = StoreLink::Open(store);
        }
        match &*link {
            StoreLink::Open(store) => Some(store.clone()),
            StoreLink::Closed(_) | StoreLink::Absent => None,
        }
    }

    /// Judges the set now (blocking: lists a folder and reads the store).
    pub fn run(&self, now: chrono::DateTime<chrono::Utc>) -> Observed {
        let store = self.store();
        let state = survey_for_check(&self.set, store.as_ref(), now);
        let verdict = assess::assess(&state, self.limits, now);
        let age = state.last_good().map(|good| crate::backup::listing::age(now, good.entry.created).as_secs());
        let message = verdict.message();
        Observed {
            observation: Observation { value: age.map(|a| Value::Number(a as f64)), ..Observation::default() },
            threshold: (verdict.level != Level::Ok).then(|| (verdict.level, message.clone())),
            summary: message,
            response: None,
        }
    }
}

pub async fn probe(check: &BackupCheck) -> Result<Observed, ProbeError> {
    let check = check.clone();
    tokio::task::spawn_blocking(move || check.run(chrono::Utc::now()))
        .await
        .map_err(|_| ProbeError::CannotRun("the backup listing thread failed".into()))
}
