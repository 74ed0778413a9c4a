//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod engines;
pub mod pty;

use firstwatch::theme::Theme;
use firstwatch::tui::Model;
use firstwatch::tui::keymap::Keymap;

/// A model with a fixed host and clock, so screens are stable.
pub fn model(theme: &str) -> Model {
    let theme = if theme == "no-color" { Theme::no_color() } else { Theme::built_in(theme) };
    let mut model = Model::new(Keymap::defaults(), theme, "demo-host".into(), firstwatch::util::zone::Zone::UTC);
    model.status.clock = "Mon 03:07 UTC".into();
    model
}
