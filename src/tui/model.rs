//! Everything the screen shows, in one value. Only `update()` changes it.

use super::keymap::{Keymap, Mode};
use super::palette::Palette;
use super::tab::TabId;
use crate::theme::Theme;

pub struct Model {
    pub tab: TabId,
    pub overlay: Overlay,
    pub status: Status,
    pub keymap: Keymap,
    pub theme: Theme,
    /// Terminal size in cells, as last reported.
    pub size: (u16, u16),
    /// False once the user asked to quit; the runtime then restores the terminal and exits.
    pub running: bool,
    /// Set by every change that should be drawn; cleared by the runtime after drawing.
    pub dirty: bool,
    /// Shown in the tab bar, e.g. "demo", so nobody mistakes the demo for production.
    pub environment: Option<String>,
}

/// What is drawn over the current tab.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Help { scroll: u16 },
    Palette(Palette),
}

/// The bottom line, visible on every tab.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub host: String,
    pub zone: chrono_tz::Tz,
    /// The clock as shown (minute resolution, so an idle screen stays still).
    pub clock: String,
    pub incident: Option<String>,
    pub last_error: Option<String>,
}

impl Model {
    pub fn new(keymap: Keymap, theme: Theme, host: String, zone: chrono_tz::Tz) -> Model {
        Model {
            tab: TabId::Health,
            overlay: Overlay::None,
            status: Status { host, zone, clock: String::new(), incident: None, last_error: None },
            keymap,
            theme,
            size: (80, 24),
            running: true,
            dirty: true,
            environment: None,
        }
    }

    /// Which key table applies now.
    pub fn mode(&self) -> Mode {
        match self.overlay {
            Overlay::Help { .. } => Mode::Help,
            Overlay::Palette(_) => Mode::Palette,
            Overlay::None => Mode::Tab(self.tab),
        }
    }

    /// Modes where unbound printable keys are typed as text.
    pub fn takes_text(&self) -> bool {
        matches!(self.overlay, Overlay::Palette(_))
    }
}
