//! Confirmed actions (redeploy, restore, rollback) and the audit log they write.

pub mod audit_cli;
pub mod cli;
