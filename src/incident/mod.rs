//! Incidents and runbooks: the open incident, its checklist, timeline and post-mortem.
//!
//! - `record`: incidents and their timeline in the shared store;
//! - `runbook`: Markdown and TOML runbooks, and the built-in ones;
//! - `checklist`: which steps are ticked, folded from the timeline;
//! - `export`: the post-mortem draft.

pub mod checklist;
pub mod cli;
pub mod export;
pub mod record;
pub mod runbook;
