//! Backup sets: listing, verifying, browsing and restoring.

pub mod cli;
