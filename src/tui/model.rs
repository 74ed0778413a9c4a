//! Everything the screen shows, in one value. Only `update()` changes it.

use super::keymap::{Keymap, Mode};
use super::palette::Palette;
use super::tab::TabId;
use super::tabs::{TabCtx, Tabs};
use crate::theme::Theme;
use crate::util::zone::Zone;

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
    /// Every tab's own state.
    pub tabs: Tabs,
    /// Wall-clock time of the last tick, for "3 min ago" and T+ clocks.
    pub wall: chrono::DateTime<chrono::Utc>,
    /// Actions are hidden and refused.
    pub read_only: bool,
    /// What one tab notices that another records (see [`Evidence`]).
    pub evidence: Evidence,
    /// Draw with ASCII only (a non-UTF-8 locale, or `--ascii`).
    pub ascii: bool,
    /// `y` may write the clipboard (`settings.clipboard`).
    pub clipboard: bool,
    /// The terminal reports the mouse (`settings.mouse`, toggled with `M`).
    pub mouse: bool,
    /// Themes the palette can switch to, loaded and fitted to the terminal at start.
    pub themes: Vec<crate::theme::Theme>,
    /// Who is at the keyboard, as `user@host`: a new silence's `created_by`.
    pub operator: String,
    /// The last nonce given to an overlay whose background work answers later.
    pub next_nonce: u64,
}

/// What tabs pass to the incident timeline: the newest error lines of the
/// followed logs, attached when a runbook step is ticked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    recent_errors: std::collections::VecDeque<String>,
}

impl Evidence {
    /// How many error lines are kept; a tick's evidence should fit on a screen.
    pub const KEPT: usize = 3;

    pub fn note_error(&mut self, line: String) {
        if self.recent_errors.len() == Self::KEPT {
            self.recent_errors.pop_front();
        }
        self.recent_errors.push_back(line);
    }

    /// Oldest first.
    pub fn recent_errors(&self) -> impl Iterator<Item = &str> {
        self.recent_errors.iter().map(String::as_str)
    }
}

/// What is drawn over the current tab.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    None,
    Help {
        scroll: u16,
    },
    Palette(Palette),
    /// The silence dialog (a draft, then its confirmation).
    Silence(Box<crate::tui::silence::SilenceDialog>),
    /// Every silence with its time left.
    Silences(Box<crate::tui::silence::SilencesOverlay>),
}

/// The bottom line, visible on every tab.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub host: String,
    pub zone: Zone,
    /// The clock as shown (minute resolution, so an idle screen stays still).
    pub clock: String,
    pub incident: Option<String>,
    /// The maintenance window in force, if any.
    pub window: Option<String>,
    pub last_error: Option<String>,
    /// The health checks in one phrase, kept up to date by the health tab.
    pub health: Option<HealthSummary>,
    /// A GPU over a threshold, kept up to date by the gpu tab.
    pub gpu: Option<HealthSummary>,
    /// The most overdue backup set, kept up to date by the backups tab.
    pub backups: Option<HealthSummary>,
    /// A short answer to the last global command ("copied ..."), and until when it shows.
    pub notice: Option<(String, chrono::DateTime<chrono::Utc>)>,
}

/// What the status line says about the health checks on every tab.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthSummary {
    pub text: String,
    /// Something is critical (outside a maintenance window): drawn as an alarm.
    pub critical: bool,
}

impl Model {
    /// A short answer to a global command on the status line, gone after a few seconds.
    pub fn say(&mut self, text: &str) {
        /// How long a notice stays.
        const NOTICE_FOR: chrono::TimeDelta = chrono::TimeDelta::seconds(5);
        self.status.notice = Some((text.to_string(), self.wall + NOTICE_FOR));
    }

    pub fn new(keymap: Keymap, theme: Theme, host: String, zone: Zone) -> Model {
        Model {
            tab: TabId::Health,
            overlay: Overlay::None,
            status: Status {
                host,
                zone,
                clock: String::new(),
                incident: None,
                window: None,
                last_error: None,
                health: None,
                gpu: None,
                backups: None,
                notice: None,
            },
            keymap,
            theme,
            size: (80, 24),
            running: true,
            dirty: true,
            environment: None,
            tabs: Tabs::default(),
            wall: chrono::DateTime::UNIX_EPOCH,
            read_only: false,
            evidence: Evidence::default(),
            ascii: false,
            clipboard: true,
            mouse: false,
            themes: Vec::new(),
            operator: String::new(),
            next_nonce: 0,
        }
    }

    /// Splits the model so a tab can change its own state and the status line together.
    pub fn tab_parts(&mut self) -> (&mut Tabs, TabCtx<'_>) {
        let zone = self.status.zone;
        let ctx = TabCtx {
            status: &mut self.status,
            evidence: &mut self.evidence,
            wall: self.wall,
            zone,
            read_only: self.read_only,
        };
        (&mut self.tabs, ctx)
    }

    /// Which key table applies now.
    pub fn mode(&self) -> Mode {
        match self.overlay {
            Overlay::Help { .. } => Mode::Help,
            Overlay::Palette(_) => Mode::Palette,
            // They take every key as typed; only ctrl-c is looked up, and means what it means everywhere.
            Overlay::Silence(_) | Overlay::Silences(_) => Mode::Global,
            Overlay::None => Mode::Tab(self.tab),
        }
    }

    /// Modes where unbound printable keys are typed as text.
    pub fn takes_text(&self) -> bool {
        matches!(self.overlay, Overlay::Palette(_))
    }

    /// A tab prompt (filter, confirmation, notes) is open and gets keys as typed.
    pub fn tab_captures_keys(&self) -> bool {
        matches!(self.overlay, Overlay::None) && self.tabs.captures_keys(self.tab)
    }

    /// An overlay with its own keys (the silence dialog and list) is open and gets keys as typed.
    pub fn overlay_captures_keys(&self) -> bool {
        matches!(self.overlay, Overlay::Silence(_) | Overlay::Silences(_))
    }
}
