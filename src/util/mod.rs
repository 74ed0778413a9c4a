//! Small pieces shared by several modules.

pub mod budget;
pub mod child;
pub mod identity;
pub mod malloc;
pub mod perms;
pub mod pipe;
pub mod process;
pub mod prompt;
pub mod sanitize;
pub mod width;
pub mod zone;
