//! Drawing the model. Pure functions of `&Model` into a ratatui `Frame`.
//!
//! ```text
//! ┌───────────────────────────────────────────────────────────────┐
//! │ firstwatch │ 1 health  2 calendar  3 gpu  4 logs ...  [demo]  │  tab bar
//! ├───────────────────────────────────────────────────────────────┤
//! │                                                               │
//! │                  the selected tab's body                      │
//! │                                                               │
//! ├───────────────────────────────────────────────────────────────┤
//! │ host │ Mon 14:02 UTC │ no open incident │ error ...  │ ? help │  status line
//! └───────────────────────────────────────────────────────────────┘
//! ```
//! Help and the palette draw over the body; below 80x24 only a notice is drawn.

pub mod help;
mod palette;
mod status;
pub mod tab_bar;

use super::model::{Model, Overlay};
use super::tabs;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Whether a terminal of this size shows the console (else it shows "terminal too small").
pub fn fits(width: u16, height: u16) -> bool {
    width >= MIN_WIDTH && height >= MIN_HEIGHT
}

pub fn render(model: &Model, frame: &mut Frame) {
    draw(model, frame);
    if model.ascii {
        super::ascii::downgrade(frame.buffer_mut());
    }
}

fn draw(model: &Model, frame: &mut Frame) {
    let area = frame.area();
    frame.render_widget(Block::new().style(model.theme.base()), area);
    if !fits(area.width, area.height) {
        render_too_small(model, frame, area);
        return;
    }
    let [bar, body, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    tab_bar::render(model, frame, bar);
    tabs::render(model, frame, body);
    status::render(model, frame, status);
    match &model.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => help::render(model, *scroll, frame, body),
        Overlay::Palette(palette) => palette::render(model, palette, frame, body),
        Overlay::Silence(dialog) => super::silence::render_dialog(model, dialog, frame, body),
        Overlay::Silences(list) => super::silence::render_list(model, list, frame, body),
    }
}

fn render_too_small(model: &Model, frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::styled("terminal too small", model.theme.warn()),
        Line::raw(format!("need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}", area.width, area.height)),
        Line::styled("enlarge the window, or press q to quit", model.theme.muted()),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).style(model.theme.base()), area);
}

/// A rectangle of `width` x `height` cells centred in `area`, clamped to it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height }
}
