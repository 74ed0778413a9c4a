//! Screens rendered into a `TestBackend` with a fixed clock and host.
//! Theme snapshots keep the styles (Buffer's Debug form), so a theme change
//! or a view taking a literal colour shows up in review.

mod support;

use firstwatch::tui::tab::TabId;
use firstwatch::tui::{Action, Model, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;

fn draw(model: &Model, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(model, frame)).unwrap();
    terminal
}

#[test]
fn every_theme_at_both_sizes() {
    for theme in ["default-dark", "light", "high-contrast", "solarized-dark", "no-color"] {
        for (width, height) in [(80, 24), (120, 40)] {
            let model = support::model(theme);
            let terminal = draw(&model, width, height);
            insta::assert_debug_snapshot!(format!("frame_{theme}_{width}x{height}"), terminal.backend().buffer());
        }
    }
}

#[test]
fn help_overlay_lists_the_keymap() {
    let mut model = support::model("default-dark");
    update(&mut model, Action::SelectTab(TabId::Logs), Instant::now());
    update(&mut model, Action::ToggleHelp, Instant::now());
    let terminal = draw(&model, 80, 24);
    insta::assert_snapshot!("help_80x24", terminal.backend());
}

#[test]
fn palette_overlay_with_a_query() {
    let mut model = support::model("default-dark");
    for action in [Action::OpenPalette, Action::Input('t'), Action::Input('a'), Action::Input('b')] {
        update(&mut model, action, Instant::now());
    }
    let terminal = draw(&model, 120, 40);
    insta::assert_snapshot!("palette_120x40", terminal.backend());
}

#[test]
fn too_small_terminal_says_so_instead_of_drawing_a_broken_layout() {
    let model = support::model("default-dark");
    let terminal = draw(&model, 60, 20);
    let text = format!("{}", terminal.backend());
    assert!(text.contains("terminal too small"), "{text}");
    assert!(text.contains("need 80x24, have 60x20"), "{text}");
    assert!(!text.contains("health"), "no tab bar below the minimum size");
}

#[test]
fn no_color_theme_uses_no_colours_at_all() {
    let model = support::model("no-color");
    let terminal = draw(&model, 80, 24);
    for cell in terminal.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "cell {:?} has a colour", cell.symbol());
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "cell {:?} has a colour", cell.symbol());
    }
}

#[test]
fn a_crowded_status_line_keeps_what_is_most_urgent_at_80_columns() {
    use firstwatch::tui::model::HealthSummary;
    let mut model = support::model("no-color");
    let alert = |text: &str| Some(HealthSummary { text: text.into(), critical: false });
    model.status.incident = Some("P1 orders failing T+12m".into());
    model.status.health = alert("✗2 payments");
    model.status.gpu = alert("GPU 2 WARN mem");
    model.status.backups = alert("backup app db: 1 missed");
    update(&mut model, Action::Error("no open incident to note it on".into()), Instant::now());
    let status_line = |model: &Model, width: u16, height: u16| {
        format!("{}", draw(model, width, height).backend()).lines().last().unwrap().to_string()
    };

    // With room to spare, everything is there, in its usual order.
    let wide = status_line(&model, 200, 40);
    let at = |text: &str| wide.find(text).unwrap_or_else(|| panic!("{text} missing: {wide}"));
    assert!(at("INCIDENT") < at("✗2 payments") && at("GPU 2") < at("backup app db") && at("backup") < at("error:"));
    assert!(wide.contains(": commands"), "{wide}");

    let narrow = status_line(&model, 80, 24);
    assert!(narrow.contains("error: no open incident"), "{narrow}");
    assert!(narrow.contains("? help"), "{narrow}");
    assert!(!narrow.contains("backup app db"), "the least urgent gives way: {narrow}");

    // Once the error is dismissed the incident comes back, and with a little more room the failing checks.
    update(&mut model, Action::Close, Instant::now());
    let narrow = status_line(&model, 80, 24);
    assert!(narrow.contains("INCIDENT P1 orders failing T+12m"), "{narrow}");
    let medium = status_line(&model, 100, 30);
    assert!(medium.contains("INCIDENT P1 orders failing T+12m │ ✗2 payments"), "{medium}");
}
