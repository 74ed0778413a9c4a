//! Turning terminal events into actions through the keymap.

use super::action::Action;
use super::keymap::KeyChord;
use super::model::Model;
use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

pub fn event_to_action(model: &Model, event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            // ctrl-c always means what the keymap says, even inside a prompt.
            let is_ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
            if (model.tab_captures_keys() || model.overlay_captures_keys()) && !is_ctrl_c {
                return Some(Action::Key(key));
            }
            let chord = KeyChord::from_event(&key)?;
            if let Some(action) = model.keymap.lookup(model.mode(), &chord) {
                return Some(action.clone());
            }
            match key.code {
                KeyCode::Char(c)
                    if model.takes_text() && !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
                {
                    Some(Action::Input(c))
                }
                _ => None,
            }
        }
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Mouse(mouse) if model.mouse => mouse_action(model, mouse),
        Event::Resize(width, height) => Some(Action::Resize(width, height)),
        _ => None,
    }
}

/// With the mouse on (`settings.mouse` or `M`): the wheel moves like `j`/`k`, and a
/// click on the tab bar switches tab. Overlays and prompts keep the keyboard's rules.
fn mouse_action(model: &Model, mouse: MouseEvent) -> Option<Action> {
    if model.tab_captures_keys() || model.overlay != super::model::Overlay::None {
        return None;
    }
    match mouse.kind {
        MouseEventKind::ScrollDown => Some(Action::Down),
        MouseEventKind::ScrollUp => Some(Action::Up),
        MouseEventKind::Down(MouseButton::Left) if mouse.row == 0 => {
            super::view::tab_bar::tab_at(mouse.column).map(Action::SelectTab)
        }
        MouseEventKind::Down(MouseButton::Left) => Some(Action::Click { x: mouse.column, y: mouse.row }),
        _ => None,
    }
}
