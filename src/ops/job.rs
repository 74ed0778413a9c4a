//! What a front end hands a supervisor: one confirmed operation and whose it is.
//!
//! A [`Job`] can only be built from a confirmation token (`ops::confirm`), so
//! the supervisor runs nothing the operator did not confirm.

use super::confirm::{Confirmed, NewBackup, Prune, TaskRun};
use crate::action::ActionSpec;
use crate::backup::restore::Plan;
use crate::config::Config;
use crate::silence::{ConfirmedBatch, ConfirmedExpiry};
use crate::util::identity::Identity;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// One confirmed operation, ready to hand to a supervisor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub(super) body: Body,
    /// The config the operation came from (verification reads its checks).
    pub(super) config_path: Option<PathBuf>,
    /// The store: audit log, operations table, and (beside it) locks and output files.
    pub(super) store_path: PathBuf,
    /// The operator who confirmed it, recorded on every row the supervisor writes.
    pub(super) who: Identity,
    /// Time between SIGTERM and SIGKILL when stopping the command.
    pub(super) grace_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Body {
    /// An `[[action]]` with its placeholders filled, and the `on_failed_verify`
    /// action as the operator was shown it.
    Action { action: Box<WireSpec>, follow_up: Option<Box<WireSpec>> },
    /// A confirmed restore: the supervisor plans it again from the config (the same
    /// set, backup file and target the operator was shown) and carries it out.
    Restore { set: String, backup: PathBuf, to: PathBuf, forced: bool, force_open: bool },
    /// Confirmed silences to create on one Alertmanager (one by hand, or a window's).
    Silence { batch: Box<crate::silence::plan::WireBatch> },
    /// A confirmed silence to expire.
    ExpireSilence { expiry: Box<crate::silence::plan::Expiry> },
    /// A confirmed prune: exactly the backups the operator was shown, those the
    /// set's retention rule still marks when the supervisor looks again.
    Prune { set: String, backups: Vec<PathBuf> },
    /// A new backup of a set's `source`.
    CreateBackup { set: String },
    /// A scheduled task run now by an operator (the calendar's run-now).
    RunTask { task: String },
}

/// An [`ActionSpec`] on the wire: its kind is a `&'static str` that JSON cannot
/// lend, so the name travels beside it and is matched back on arrival.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct WireSpec {
    spec: ActionSpec,
    kind: String,
}

impl WireSpec {
    fn of(spec: &ActionSpec) -> WireSpec {
        WireSpec { spec: spec.clone(), kind: spec.kind.to_string() }
    }

    pub(super) fn into_spec(self) -> Result<ActionSpec, String> {
        let mut spec = self.spec;
        spec.set_kind(&self.kind)?;
        Ok(spec)
    }
}

impl Job {
    /// The job for a confirmed action of `config`. Dry runs never reach a supervisor.
    pub fn action(
        confirmed: &Confirmed<ActionSpec>,
        config: &Config,
        store_path: PathBuf,
        who: Identity,
        grace: Duration,
    ) -> Job {
        let follow_up = confirmed.spec().on_failed_verify.as_deref().and_then(|name| ActionSpec::find(config, name));
        Job {
            body: Body::Action {
                action: Box::new(WireSpec::of(confirmed.spec())),
                follow_up: follow_up.as_ref().map(|spec| Box::new(WireSpec::of(spec))),
            },
            config_path: config.path.clone(),
            store_path,
            who,
            grace_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The job for a restore the operator confirmed (at the prompt or in the dialog).
    pub fn restore(confirmed: &Confirmed<Plan>, config: &Config, store_path: PathBuf, who: Identity) -> Job {
        let plan = confirmed.what();
        Job {
            body: Body::Restore {
                set: plan.set.clone(),
                backup: plan.backup.path.clone(),
                to: plan.target.clone(),
                forced: plan.forced,
                force_open: plan.force_open,
            },
            config_path: config.path.clone(),
            store_path,
            who,
            grace_ms: 0,
        }
    }

    /// The job for a prune of the backups the operator confirmed.
    pub fn prune(confirmed: &Confirmed<Prune>, config: &Config, store_path: PathBuf, who: Identity) -> Job {
        let Prune { set, backups } = confirmed.what().clone();
        Job::plain(Body::Prune { set, backups }, config, store_path, who)
    }

    /// The job for making a backup of a set now.
    pub fn create_backup(confirmed: &Confirmed<NewBackup>, config: &Config, store_path: PathBuf, who: Identity) -> Job {
        Job::plain(Body::CreateBackup { set: confirmed.what().set.clone() }, config, store_path, who)
    }

    /// The job for running a task now, outside its schedule.
    pub fn run_task(confirmed: &Confirmed<TaskRun>, config: &Config, store_path: PathBuf, who: Identity) -> Job {
        Job::plain(Body::RunTask { task: confirmed.what().task.clone() }, config, store_path, who)
    }

    fn plain(body: Body, config: &Config, store_path: PathBuf, who: Identity) -> Job {
        Job { body, config_path: config.path.clone(), store_path, who, grace_ms: 0 }
    }
}

impl Job {
    /// The job for silences the operator confirmed. One request each, but on the same road as
    /// every other change: its row in `ops list`, a start and an outcome in the audit log, and
    /// a request in flight when the terminal goes away still ends and is recorded.
    pub fn silences(confirmed: &ConfirmedBatch, config: &Config, store_path: PathBuf, who: Identity) -> Job {
        Job::plain(Body::Silence { batch: Box::new(confirmed.batch().wire()) }, config, store_path, who)
    }

    /// The job for a silence the operator confirmed expiring.
    pub fn expire_silence(confirmed: &ConfirmedExpiry, config: &Config, store_path: PathBuf, who: Identity) -> Job {
        Job::plain(Body::ExpireSilence { expiry: Box::new(confirmed.expiry().clone()) }, config, store_path, who)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reaches_its_supervisor_unchanged() {
        let config = crate::config::load_str(
            "[[action]]\nname = \"deploy\"\nkind = \"redeploy\"\ntarget = \"web\"\nrun = [\"deploy\", \"{rev}\"]\n\
             allow_dash = [\"rev\"]\ntimeout = \"90s\"\nverify = [\"web\"]\non_failed_verify = \"undo\"\n\
             [[action]]\nname = \"undo\"\nkind = \"rollback\"\ntarget = \"web\"\nrun = [\"undo\"]\n\
             [[check]]\nname = \"web\"\ntcp = \"127.0.0.1:9\"\n",
            std::path::Path::new("/srv/fw.toml"),
        )
        .unwrap();
        let spec = ActionSpec::find(&config, "deploy").unwrap();
        let values = std::collections::BTreeMap::from([("rev".to_string(), "-1".to_string())]);
        let spec = spec.fill(&values).unwrap();
        let confirmed = crate::ops::confirm::by_flag(&spec, false).unwrap();
        let job =
            Job::action(&confirmed, &config, "/srv/data/firstwatch.db".into(), Identity::default(), Duration::ZERO);
        let back: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        let Body::Action { action, follow_up } = back.body else { panic!("an action job") };
        assert_eq!(action.into_spec().unwrap(), spec);
        assert_eq!(follow_up.unwrap().into_spec().unwrap(), ActionSpec::find(&config, "undo").unwrap());
        assert_eq!(back.config_path.as_deref(), Some(std::path::Path::new("/srv/fw.toml")));
    }
}
