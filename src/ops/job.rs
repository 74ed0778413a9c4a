//! What a front end hands a supervisor: one confirmed operation and whose it is.
//!
//! A [`Job`] can only be built from a confirmation token, so the supervisor
//! runs nothing the operator did not confirm.

use crate::action::{ActionSpec, Confirmed};
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
    /// An `[[action]]` with its placeholders filled (`kind` carries the spec's kind).
    Action { spec: ActionSpec, kind: String },
}

impl Job {
    /// The job for a confirmed action. Dry runs never reach a supervisor.
    pub fn action(
        confirmed: &Confirmed,
        config_path: Option<PathBuf>,
        store_path: PathBuf,
        who: Identity,
        grace: Duration,
    ) -> Job {
        Job {
            body: Body::Action { spec: confirmed.spec().clone(), kind: confirmed.spec().kind.to_string() },
            config_path,
            store_path,
            who,
            grace_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The target whose lock the operation takes.
    pub fn target(&self) -> &str {
        match &self.body {
            Body::Action { spec, .. } => &spec.target,
        }
    }

    pub fn name(&self) -> &str {
        match &self.body {
            Body::Action { spec, .. } => &spec.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reaches_its_supervisor_unchanged() {
        let config = crate::config::load_str(
            "[[action]]\nname = \"deploy\"\nkind = \"redeploy\"\ntarget = \"web\"\nrun = [\"deploy\", \"{rev}\"]\n\
             allow_dash = [\"rev\"]\ntimeout = \"90s\"\n",
            std::path::Path::new("/srv/fw.toml"),
        )
        .unwrap();
        let spec = ActionSpec::find(&config, "deploy").unwrap();
        let values = std::collections::BTreeMap::from([("rev".to_string(), "-1".to_string())]);
        let spec = spec.fill(&values).unwrap();
        let confirmed = crate::action::confirm::by_flag(&spec, false, false).unwrap();
        let job = Job::action(&confirmed, None, "/srv/data/firstwatch.db".into(), Identity::default(), Duration::ZERO);
        let back: Job = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        let Body::Action { spec: mut read, kind } = back.body;
        read.set_kind(&kind).unwrap();
        assert_eq!(read, spec);
    }
}
