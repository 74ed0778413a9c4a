//! The engines users already run for a fleet: Prometheus-compatible servers
//! (metrics, scrape targets, rules) and Alertmanager (alerts, silences).
//! firstwatch grows no agent of its own; it reads these over their HTTP APIs.
//!
//! UI-free: the health tab, the GPU tab and the headless commands all call
//! these clients. Every request is bounded by the engine's timeout, a body
//! cap and (for queries) a series cap, and every failure names the engine.

pub mod alertmanager;
pub mod alerts;
pub mod alerts_cli;
mod client;
pub mod matcher;
pub mod poll;
pub mod prometheus;
mod server_name;
mod value;

pub use client::{Engine, EngineError, Problem};
pub use value::{format_value, parse_value};

use crate::config::{Config, EngineKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Label sets as both APIs send them; sorted, so rows and names are stable.
pub type Labels = BTreeMap<String, String>;

/// Every configured engine, built once and shared (their HTTP clients keep connections).
#[derive(Clone, Default)]
pub struct Engines {
    list: Vec<Arc<Engine>>,
}

impl Engines {
    /// Builds every `[[engine]]`; one that cannot be built (an unreadable CA file)
    /// is left out and reported, so the others still work.
    pub fn from_config(config: &Config) -> (Engines, Vec<String>) {
        let mut list = Vec::new();
        let mut problems = Vec::new();
        for engine in &config.engines {
            match Engine::new(engine, config.base_dir()) {
                Ok(built) => list.push(Arc::new(built)),
                Err(problem) => problems.push(format!("engine `{}` cannot be used: {problem}", engine.name.get_ref())),
            }
        }
        (Engines { list }, problems)
    }

    pub fn new(list: Vec<Engine>) -> Engines {
        Engines { list: list.into_iter().map(Arc::new).collect() }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn all(&self) -> &[Arc<Engine>] {
        &self.list
    }

    pub fn of_kind(&self, kind: EngineKind) -> impl Iterator<Item = &Arc<Engine>> {
        self.list.iter().filter(move |e| e.kind() == kind)
    }

    /// The engine named `name`, or with `None` the only one of `kind`; the error says which and why not.
    pub fn pick(&self, name: Option<&str>, kind: EngineKind) -> Result<Arc<Engine>, String> {
        match name {
            Some(name) => match self.list.iter().find(|e| e.name() == name) {
                Some(engine) if engine.kind() == kind => Ok(engine.clone()),
                Some(engine) => Err(format!("engine `{name}` is {}, not {}", engine.kind().as_str(), kind.as_str())),
                None => Err(format!("no engine named `{name}`; known: {}", self.names())),
            },
            None => {
                let of_kind: Vec<&Arc<Engine>> = self.of_kind(kind).collect();
                match of_kind.as_slice() {
                    [only] => Ok((*only).clone()),
                    [] => Err(format!(
                        "no {} engine is configured ([[engine]] kind = \"{}\")",
                        kind.as_str(),
                        kind.as_str()
                    )),
                    _ => Err(format!("several {} engines are configured; name one with --engine", kind.as_str())),
                }
            }
        }
    }

    fn names(&self) -> String {
        if self.list.is_empty() {
            return "none".into();
        }
        self.list.iter().map(|e| e.name()).collect::<Vec<_>>().join(", ")
    }
}
