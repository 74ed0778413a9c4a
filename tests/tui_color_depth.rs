//! Frames drawn at each colour depth use only the colours that depth has.

mod support;

use firstwatch::theme::{ColorDepth, Theme, reduce};
use firstwatch::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

fn frame_at(theme: &str, depth: ColorDepth) -> ratatui::buffer::Buffer {
    let mut model = support::model(theme);
    model.theme = reduce(&Theme::built_in(theme), depth);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal.draw(|frame| view::render(&model, frame)).unwrap();
    terminal.backend().buffer().clone()
}

#[test]
fn every_cell_of_every_theme_fits_the_terminal_palette() {
    for theme in ["default-dark", "light", "high-contrast", "solarized-dark"] {
        for depth in [ColorDepth::Ansi256, ColorDepth::Ansi16] {
            let buffer = frame_at(theme, depth);
            for cell in buffer.content() {
                for color in [cell.fg, cell.bg] {
                    let fits = match color {
                        Color::Rgb(..) => false,
                        Color::Indexed(_) => depth == ColorDepth::Ansi256,
                        _ => true,
                    };
                    assert!(fits, "{theme} at {depth:?}: {color:?} in cell {:?}", cell.symbol());
                }
            }
        }
    }
}

#[test]
fn sixteen_colours_keep_the_frame_text_and_change_only_colours() {
    let full = frame_at("default-dark", ColorDepth::TrueColor);
    let sixteen = frame_at("default-dark", ColorDepth::Ansi16);
    let symbols =
        |buffer: &ratatui::buffer::Buffer| buffer.content().iter().map(|c| c.symbol().to_string()).collect::<String>();
    assert_eq!(symbols(&full), symbols(&sixteen));
    insta::assert_debug_snapshot!("frame_default_dark_16_colours", sixteen);
}
