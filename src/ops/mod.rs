//! One road for every operation that changes the world.
//!
//! A front end (the console or a CLI command) confirms an operation, builds a
//! [`Job`] from the confirmation token and [`launch`]es a supervisor: a
//! small firstwatch process in a session of its own that takes the target's
//! lock, writes the audit start row, runs the command in its own process
//! group, writes exactly one outcome row, and watches the service afterwards
//! when the action asks. The front end only shows progress by following the
//! operation's output file; killing it, hanging up its terminal or losing
//! SSH leaves the operation running to its end. Any firstwatch can list,
//! follow and cancel running operations; the next one to start marks runs
//! whose supervisor died as abandoned ([`recover`]).
//!
//! - `confirm`: the only way to a confirmation token, for every kind of operation;
//! - `job`: what is handed over, built only from a confirmation;
//! - `launch`: starting a supervisor and reading its handshake;
//! - `front`: a front end's part: launch, follow, learn the outcome, detach on signals;
//! - `supervisor`: the supervisor process itself;
//! - `output`: the output file, its liveness lock and following it;
//! - `record`: the `operations` table;
//! - `recover`: abandoned runs;
//! - `cli`: `firstwatch ops list|follow|cancel`.

pub mod cancel;
pub mod cli;
pub mod confirm;
pub mod front;
pub mod job;
pub mod launch;
pub mod output;
pub mod record;
pub mod recover;
pub mod supervisor;

pub use front::{Followed, launch_and_follow, stop_signal};
pub use job::Job;
pub use launch::{Launched, launch, set_supervisor_program};
pub use output::{Line, follow, supervisor_alive};
pub use recover::recover;
