//! firstwatch: a keyboard-driven terminal ops console for on-call engineers.
//!
//! The engine modules know nothing about the terminal; the `tui` module and
//! the CLI in `main.rs` are two faces over the same engine.

pub mod action;
pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod gpu;
pub mod health;
pub mod incident;
pub mod logs;
pub mod ops;
pub mod schedule;
pub mod silence;
pub mod store;
pub mod theme;
pub mod tui;
pub mod util;
