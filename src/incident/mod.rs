//! Incidents and runbooks: the open incident, its checklist, timeline and post-mortem.
//!
//! - `record`: incidents and their timeline in the shared store;
//! - `runbook`: Markdown and TOML runbooks, and the built-in ones;
//! - `checklist`: which steps are ticked, folded from the timeline;
//! - `timeline`: people's entries apart from machines', checks folded;
//! - `milestone`: acknowledged, mitigated, root cause, fix, resolved;
//! - `notify`: what a notify action tells the stakeholders;
//! - `export`: the post-mortem draft.

pub mod checklist;
pub mod cli;
pub mod export;
pub mod milestone;
pub mod notify;
pub mod record;
pub mod runbook;
pub mod timeline;
