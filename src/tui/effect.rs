//! Work that `update()` asks the runtime to do; it never does I/O itself.

use super::tabs::TabEffect;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Work for one tab's background machinery; see `tabs::execute`.
    Tab(TabEffect),
    /// Work for the silence overlays; see `silence::execute`.
    Silence(super::silence::Effect),
    /// Give the terminal back to the shell until `fg`.
    Suspend,
    /// Write this to the terminal as it is: an OSC 52 clipboard sequence.
    Raw(String),
    /// Ask the terminal to report the mouse, or to stop.
    Mouse(bool),
    /// Debug builds only: panic on a background thread to prove the terminal is restored.
    #[cfg(debug_assertions)]
    PanicInThread,
}
