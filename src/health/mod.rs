//! Live checks: HTTP, TCP, command, SQLite, system and disk, with conditions,
//! debouncing, history and uptime. Nothing here knows about the terminal;
//! the health tab and `firstwatch check` both drive this engine.

pub mod cli;
pub mod condition;
pub mod engine;
pub mod history;
pub mod once;
pub mod outcome;
pub mod probe;
pub mod series;
pub mod spec;
pub mod store;
pub mod tracker;
pub mod view;

pub use engine::EngineHandle;
pub use outcome::{Level, Outcome, Response, SeriesResult};
pub use probe::Prober;
pub use spec::CheckSpec;
pub use view::{CheckView, Status};
