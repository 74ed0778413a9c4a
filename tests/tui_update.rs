//! `update()` driven with actions: no terminal, no runtime.

mod support;

use chrono::TimeZone;
use firstwatch::tui::model::Overlay;
use firstwatch::tui::tab::TabId;
use firstwatch::tui::{Action, Effect, update};
use std::time::Instant;

fn apply(model: &mut firstwatch::tui::Model, actions: &[Action]) -> Vec<Effect> {
    actions.iter().flat_map(|a| update(model, a.clone(), Instant::now())).collect()
}

#[test]
fn tabs_switch_by_number_and_wrap_with_tab_keys() {
    let mut model = support::model("default-dark");
    apply(&mut model, &[Action::SelectTab(TabId::Gpu)]);
    assert_eq!(model.tab, TabId::Gpu);
    apply(&mut model, &[Action::NextTab, Action::NextTab, Action::NextTab, Action::NextTab]);
    assert_eq!(model.tab, TabId::Health, "next from the last tab wraps to the first");
    apply(&mut model, &[Action::PreviousTab]);
    assert_eq!(model.tab, TabId::Incident);
}

#[test]
fn help_opens_closes_and_owns_the_keyboard() {
    let mut model = support::model("default-dark");
    apply(&mut model, &[Action::ToggleHelp]);
    assert_eq!(model.overlay, Overlay::Help { scroll: 0 });
    apply(&mut model, &[Action::SelectTab(TabId::Logs), Action::Down, Action::Down, Action::Up]);
    assert_eq!(model.tab, TabId::Health, "tab keys do nothing while help is open");
    assert_eq!(model.overlay, Overlay::Help { scroll: 1 });
    apply(&mut model, &[Action::Close]);
    assert_eq!(model.overlay, Overlay::None);
    assert!(model.running);
}

#[test]
fn palette_fuzzy_matches_and_runs_the_chosen_action() {
    let mut model = support::model("default-dark");
    apply(&mut model, &[Action::OpenPalette]);
    for c in "bkup".chars() {
        apply(&mut model, &[Action::Input(c)]);
    }
    let Overlay::Palette(palette) = &model.overlay else { panic!("palette should be open") };
    assert_eq!(palette.chosen(), Some(&Action::SelectTab(TabId::Backups)), "matches: {:?}", palette.matches);
    apply(&mut model, &[Action::Select]);
    assert_eq!(model.overlay, Overlay::None);
    assert_eq!(model.tab, TabId::Backups);
}

#[test]
fn palette_with_no_match_selects_nothing_and_escape_closes() {
    let mut model = support::model("default-dark");
    apply(&mut model, &[Action::OpenPalette, Action::Input('z'), Action::Input('z'), Action::Input('q')]);
    let Overlay::Palette(palette) = &model.overlay else { panic!("palette should be open") };
    assert!(palette.matches.is_empty());
    apply(&mut model, &[Action::Select]);
    assert_eq!(model.overlay, Overlay::None);
    assert!(model.running, "selecting nothing must not quit or do anything else");
}

#[test]
fn quit_from_the_palette_and_from_a_key() {
    let mut model = support::model("default-dark");
    apply(&mut model, &[Action::OpenPalette]);
    "quit".chars().for_each(|c| {
        apply(&mut model, &[Action::Input(c)]);
    });
    apply(&mut model, &[Action::Select]);
    assert!(!model.running);
    let mut model = support::model("default-dark");
    apply(&mut model, &[Action::Quit]);
    assert!(!model.running);
}

#[test]
fn suspend_is_an_effect_not_a_state_change() {
    let mut model = support::model("default-dark");
    assert_eq!(apply(&mut model, &[Action::Suspend]), vec![Effect::Suspend]);
    assert!(model.running);
}

#[test]
fn the_clock_only_dirties_the_model_when_the_minute_changes() {
    let mut model = support::model("default-dark");
    let at = |s| chrono::Utc.with_ymd_and_hms(2026, 11, 23, 3, 7, s).unwrap();
    apply(&mut model, &[Action::Tick(at(0))]);
    model.dirty = false;
    apply(&mut model, &[Action::Tick(at(30)), Action::Tick(at(59))]);
    assert!(!model.dirty, "seconds passing inside a minute must not cause a redraw");
    apply(&mut model, &[Action::Tick(at(0) + chrono::Duration::minutes(1))]);
    assert!(model.dirty);
    assert_eq!(model.status.clock, "Mon 03:08 UTC");
}

#[test]
fn a_drawn_frame_does_not_ask_for_another() {
    // The runtime folds `FrameDrawn` after every draw; were it to dirty the model, an idle console would redraw forever.
    let mut model = support::model("default-dark");
    for tab in TabId::ALL {
        apply(&mut model, &[Action::SelectTab(tab)]);
        model.dirty = false;
        assert!(apply(&mut model, &[Action::FrameDrawn]).is_empty());
        assert!(!model.dirty, "{tab:?}");
    }
}

#[test]
fn errors_are_sanitised_for_the_status_line() {
    let mut model = support::model("default-dark");
    apply(&mut model, &[Action::Error("boom\u{1b}]0;owned\u{7}\u{1b}[2J!".into())]);
    assert_eq!(model.status.last_error.as_deref(), Some("boom!"));
    apply(&mut model, &[Action::Close]);
    assert_eq!(model.status.last_error, None);
}
