//! The app's vocabulary. Keys map to `Action`s through the keymap, sources
//! report through `Action`s, and `update()` folds them into the model.
//!
//! Bindable actions deserialize from the config's `[keys.<mode>]` tables
//! (`"ctrl-q" = "quit"`, `"F2" = { select-tab = "logs" }`).

use super::tab::TabId;
use super::tabs::{TabCommand, TabMsg};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    // Everywhere.
    Quit,
    Suspend,
    /// Copy the selected item to the clipboard (OSC 52).
    Copy,
    /// Turn mouse reporting on or off.
    ToggleMouse,
    /// Draw with another theme for the rest of the session.
    SetTheme(String),
    /// A left click at a cell of the body (mouse on).
    #[serde(skip)]
    Click {
        x: u16,
        y: u16,
    },
    ToggleHelp,
    OpenPalette,
    /// Every silence of every Alertmanager, with its time left; expire one from there.
    OpenSilences,
    /// The silence dialog for an alert: its engine and labels (see `tui::silence::silence_alert`).
    #[serde(skip)]
    SilenceAlert(Box<super::silence::Seed>),
    /// A report from the silence overlays' background work.
    #[serde(skip)]
    Silence(super::silence::Msg),
    /// Closes the topmost overlay.
    Close,
    NextTab,
    PreviousTab,
    SelectTab(TabId),
    // Moving in lists and panes.
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Left,
    Right,
    Select,
    // Text entry in the palette and other prompts.
    #[serde(skip)]
    Input(char),
    #[serde(skip)]
    Backspace,
    /// Pasted text: prompts ignore it where a paste could confirm something.
    #[serde(skip)]
    Paste(String),
    /// A key sent as typed to a tab prompt that captures the keyboard.
    #[serde(skip)]
    Key(crossterm::event::KeyEvent),
    /// A tab's own command, bound in `[keys.<tab>]`.
    #[serde(skip)]
    Tab(TabCommand),
    /// A report from a tab's background work.
    #[serde(skip)]
    Msg(TabMsg),
    // From the runtime.
    #[serde(skip)]
    Tick(chrono::DateTime<chrono::Utc>),
    #[serde(skip)]
    Resize(u16, u16),
    /// A frame was drawn: whatever it showed has been seen, so keys read from
    /// now on may answer it. The runtime sends it right after each draw.
    #[serde(skip)]
    FrameDrawn,
    /// A source or effect failed; shown in the status line.
    #[serde(skip)]
    Error(String),
    /// A debug-build-only trigger used by the panic end-to-end test.
    #[cfg(debug_assertions)]
    #[serde(skip)]
    DebugPanic,
}

impl Action {
    /// One line for the help overlay and the command palette.
    pub fn describe(&self) -> String {
        match self {
            Action::Quit => "quit firstwatch".into(),
            Action::Suspend => "suspend to the shell (fg to come back)".into(),
            Action::Copy => "copy the selection to your clipboard (OSC 52)".into(),
            Action::ToggleMouse => "mouse on or off (off keeps the terminal's copy and paste)".into(),
            Action::SetTheme(name) => format!("theme: {name} (for this session)"),
            Action::ToggleHelp => "show or hide this help".into(),
            Action::OpenPalette => "open the command palette".into(),
            Action::OpenSilences => "silences: list them with their time left, expire one".into(),
            Action::Close => "close the overlay, or dismiss the last error".into(),
            Action::NextTab => "next tab".into(),
            Action::PreviousTab => "previous tab".into(),
            Action::SelectTab(tab) => format!("go to the {} tab", tab.title()),
            Action::Up => "move up".into(),
            Action::Down => "move down".into(),
            Action::PageUp => "page up".into(),
            Action::PageDown => "page down".into(),
            Action::Top => "go to the top".into(),
            Action::Bottom => "go to the bottom".into(),
            Action::Left => "move left".into(),
            Action::Right => "move right".into(),
            Action::Select => "open or run the selection".into(),
            Action::Tab(command) => command.describe(),
            other => format!("{other:?}"),
        }
    }

    /// Where the action sits in the help overlay: the most needed first.
    pub fn help_rank(&self) -> usize {
        match self {
            Action::Quit => 0,
            Action::ToggleHelp => 1,
            Action::OpenPalette => 2,
            Action::Close => 3,
            Action::NextTab => 4,
            Action::PreviousTab => 5,
            Action::SelectTab(tab) => 6 + tab.index(),
            Action::Up => 20,
            Action::Down => 21,
            Action::Left => 22,
            Action::Right => 23,
            Action::PageUp => 24,
            Action::PageDown => 25,
            Action::Top => 26,
            Action::Bottom => 27,
            Action::Select => 28,
            Action::Tab(_) => 30,
            Action::Copy => 35,
            Action::OpenSilences => 34,
            Action::ToggleMouse => 36,
            Action::Suspend => 40,
            _ => 100,
        }
    }

    /// The global actions offered in the command palette (each tab's commands are added by the palette).
    pub fn palette_entries() -> Vec<Action> {
        let mut entries: Vec<Action> = TabId::ALL.iter().map(|tab| Action::SelectTab(*tab)).collect();
        entries.extend([
            Action::ToggleHelp,
            Action::NextTab,
            Action::PreviousTab,
            Action::OpenSilences,
            Action::Copy,
            Action::ToggleMouse,
            Action::Suspend,
            Action::Quit,
        ]);
        entries
    }
}
