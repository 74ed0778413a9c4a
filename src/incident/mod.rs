//! Incidents and runbooks: the open incident, its checklist, timeline and post-mortem.

pub mod cli;
