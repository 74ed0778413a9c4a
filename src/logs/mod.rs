//! Following logs: tail, rotation, filters and highlighting.
//!
//! `follow` reads files by name through rotation, `command` runs a program and
//! reads its output, `parse` makes lines safe and finds their level, `view`
//! keeps them in bounded rings with filters and search. The logs tab and
//! `firstwatch logs` are two faces of these.

pub mod cli;
pub mod command;
pub mod fields;
pub mod filter;
pub mod follow;
pub mod level;
pub mod parse;
pub mod source;
pub mod split;
pub mod store;
pub mod tail;
pub mod view;
pub mod wake;
