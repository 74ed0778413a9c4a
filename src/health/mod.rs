//! Live checks: HTTP, TCP, command, SQLite, system, disk and TLS, with conditions, history and uptime.

pub mod cli;
pub mod once;
