//! Following logs: tail, rotation, filters and highlighting.

pub mod cli;
