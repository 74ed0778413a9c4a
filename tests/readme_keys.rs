//! The README's key table and the `?` overlay name the same global keys, and the
//! overlay scrolls no further than its last line.

mod support;

use firstwatch::tui::keymap::{Keymap, Mode};
use firstwatch::tui::{Action, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::BTreeSet;
use std::time::Instant;

/// Keys in the first column of the README's "## Keys" table, as the keymap spells them.
fn readme_keys() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split_once("\n## Keys\n").expect("README has a Keys section").1;
    let section = section.split("\n## ").next().unwrap();
    let mut keys = BTreeSet::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let first_column = line.trim_start_matches('|').split('|').next().unwrap();
        for key in first_column.split('`').skip(1).step_by(2) {
            let spelled = match key {
                "↓" => "down",
                "↑" => "up",
                "←" => "left",
                "→" => "right",
                other => other,
            };
            keys.insert(spelled.to_string());
        }
        if first_column.contains("`1`..`6`") {
            keys.extend(["2", "3", "4", "5"].map(String::from));
        }
    }
    keys
}

/// Keys the `?` overlay lists under "everywhere".
fn help_keys() -> BTreeSet<String> {
    Keymap::defaults()
        .bindings(Mode::Global)
        .into_iter()
        .flat_map(|(keys, _)| keys.split(", ").map(String::from).collect::<Vec<_>>())
        .collect()
}

#[test]
fn the_readme_and_the_help_overlay_list_the_same_global_keys() {
    let readme = readme_keys();
    let help = help_keys();
    let missing_from_help: Vec<_> = readme.difference(&help).collect();
    let missing_from_readme: Vec<_> = help.difference(&readme).collect();
    assert!(missing_from_help.is_empty(), "the README lists keys `?` does not: {missing_from_help:?}");
    assert!(missing_from_readme.is_empty(), "`?` lists keys the README does not: {missing_from_readme:?}");
}

#[test]
fn every_global_key_is_drawn_in_the_overlay() {
    let mut model = support::model("default-dark");
    model.size = (120, 60);
    update(&mut model, Action::ToggleHelp, Instant::now());
    let mut terminal = Terminal::new(TestBackend::new(120, 60)).unwrap();
    terminal.draw(|frame| view::render(&model, frame)).unwrap();
    let screen = format!("{}", terminal.backend());
    for (keys, _) in Keymap::defaults().bindings(Mode::Global) {
        assert!(screen.contains(&keys), "`{keys}` is not on the help screen:\n{screen}");
    }
}

#[test]
fn the_overlay_stops_at_its_last_line() {
    let mut model = support::model("default-dark");
    model.size = (80, 24);
    update(&mut model, Action::ToggleHelp, Instant::now());
    for _ in 0..500 {
        update(&mut model, Action::Down, Instant::now());
    }
    let end = view::help::max_scroll(&model);
    assert!(end > 0, "at 80x24 the overlay has more lines than room");
    assert_eq!(model.overlay, firstwatch::tui::model::Overlay::Help { scroll: end });
    update(&mut model, Action::Up, Instant::now());
    assert_eq!(model.overlay, firstwatch::tui::model::Overlay::Help { scroll: end - 1 }, "one k moves at once");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    update(&mut model, Action::Down, Instant::now());
    terminal.draw(|frame| view::render(&model, frame)).unwrap();
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains("suspend to the shell"), "the last binding is on screen at the end:\n{screen}");
}
