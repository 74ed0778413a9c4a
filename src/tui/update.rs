//! `update(model, action, now) -> effects`: the only place the model changes.
//! Pure: no I/O, no clock reads, no spawning.

use super::action::Action;
use super::effect::Effect;
use super::model::{Model, Overlay};
use super::palette::Palette;
use super::silence;
use super::tab::TabId;
use super::tabs::{TabEffect, health};
use crate::util::sanitize::sanitize_str;
use std::time::Instant;

pub fn update(model: &mut Model, action: Action, now: Instant) -> Vec<Effect> {
    match action {
        Action::Tick(wall) => {
            model.wall = wall;
            let clock = format_clock(wall, model.status.zone);
            if clock != model.status.clock {
                model.status.clock = clock;
                model.dirty = true;
            }
            if model.status.notice.as_ref().is_some_and(|(_, until)| wall >= *until) {
                model.status.notice = None;
                model.dirty = true;
            }
            let visible = model.tab;
            let (tabs, mut ctx) = model.tab_parts();
            if tabs.on_tick(visible, &mut ctx) {
                model.dirty = true;
            }
            Vec::new()
        }
        Action::Msg(msg) => {
            let (tabs, mut ctx) = model.tab_parts();
            let effects = tabs.on_msg(msg, &mut ctx);
            // Sources report often; only what they change is redrawn, and tabs say nothing changed by ignoring it.
            model.dirty = true;
            effects.into_iter().map(Effect::Tab).collect()
        }
        Action::Resize(width, height) => {
            model.size = (width, height);
            model.dirty = true;
            Vec::new()
        }
        // Changes nothing on screen, so it must not ask for another frame.
        Action::FrameDrawn => {
            // A frame that said "terminal too small" showed nothing of the tab.
            if model.overlay == Overlay::None && crate::tui::view::fits(model.size.0, model.size.1) {
                model.tabs.on_frame_drawn(model.tab);
            } else if crate::tui::view::fits(model.size.0, model.size.1) {
                silence::on_frame_drawn(model);
            }
            Vec::new()
        }
        Action::Silence(msg) => {
            model.dirty = true;
            silence::on_msg(model, msg).into_iter().map(Effect::Silence).collect()
        }
        Action::Error(message) => {
            model.status.last_error = Some(sanitize_str(&message));
            model.dirty = true;
            Vec::new()
        }
        action => {
            let effects = match &model.overlay {
                Overlay::Help { .. } => update_help(model, action),
                Overlay::Palette(_) => update_palette(model, action, now),
                Overlay::Silence(_) | Overlay::Silences(_) => {
                    silence::on_action(model, action).into_iter().map(Effect::Silence).collect()
                }
                Overlay::None => update_normal(model, action, now),
            };
            model.dirty = true;
            effects
        }
    }
}

fn update_normal(model: &mut Model, action: Action, _now: Instant) -> Vec<Effect> {
    if let Action::Key(key) = action {
        let tab = model.tab;
        let (tabs, mut ctx) = model.tab_parts();
        return tabs.on_key(tab, key, &mut ctx).into_iter().map(Effect::Tab).collect();
    }
    if let Action::Tab(command) = action {
        let (tabs, mut ctx) = model.tab_parts();
        let effects = tabs.on_command(command, &mut ctx);
        // `z` on an alert opens the silence dialog over the tab.
        let (silences, effects): (Vec<TabEffect>, Vec<TabEffect>) = effects
            .into_iter()
            .partition(|effect| matches!(effect, TabEffect::Health(health::Effect::SilenceAlert { .. })));
        let mut out = Vec::new();
        for effect in silences {
            if let TabEffect::Health(health::Effect::SilenceAlert { engine, labels }) = effect {
                let seed = silence::Seed { engine, labels };
                out.extend(silence::open_dialog(model, seed).into_iter().map(Effect::Silence));
            }
        }
        out.extend(hand_over_declarations(model, effects).into_iter().map(Effect::Tab));
        return out;
    }
    if is_navigation(&action) {
        let tab = model.tab;
        let (tabs, mut ctx) = model.tab_parts();
        if let Some(effects) = tabs.on_nav(tab, &action, &mut ctx) {
            return effects.into_iter().map(Effect::Tab).collect();
        }
    }
    match action {
        Action::Quit => model.running = false,
        Action::Suspend => return vec![Effect::Suspend],
        Action::Copy => return copy_selection(model),
        Action::Click { x, y } => {
            let tab = model.tab;
            model.tabs.on_click(tab, x, y);
        }
        Action::ToggleMouse => {
            model.mouse = !model.mouse;
            let word = if model.mouse { "mouse on: click tabs, wheel scrolls (M turns it off)" } else { "mouse off" };
            model.say(word);
            return vec![Effect::Mouse(model.mouse)];
        }
        Action::ToggleHelp => model.overlay = Overlay::Help { scroll: 0 },
        Action::OpenSilences => return silence::open_list(model).into_iter().map(Effect::Silence).collect(),
        Action::SilenceAlert(seed) => {
            return silence::open_dialog(model, *seed).into_iter().map(Effect::Silence).collect();
        }
        Action::OpenPalette => {
            let palette =
                Palette::new(&model.keymap, model.mode()).with_themes(model.themes.iter().map(|t| t.name.as_str()));
            model.overlay = Overlay::Palette(palette);
        }
        Action::SetTheme(name) => match model.themes.iter().find(|theme| theme.name == name).cloned() {
            Some(theme) => {
                model.theme = theme;
                model.say(&format!("theme {name} (for this session)"));
            }
            None => model.say(&format!("no theme named {name}")),
        },
        Action::NextTab => model.tab = model.tab.next(),
        Action::PreviousTab => model.tab = model.tab.previous(),
        Action::SelectTab(tab) => model.tab = tab,
        Action::Close => model.status.last_error = None,
        #[cfg(debug_assertions)]
        Action::DebugPanic => return vec![Effect::PanicInThread],
        // Movement keys belong to the tabs; tabs that are not built yet ignore them.
        _ => {}
    }
    Vec::new()
}

/// `y`: the visible tab's selected item, to the operator's clipboard.
fn copy_selection(model: &mut Model) -> Vec<Effect> {
    if !model.clipboard {
        model.say("copying is off (settings.clipboard)");
        return Vec::new();
    }
    let Some(copied) = model.tabs.copy(model.tab) else {
        model.say("nothing selected to copy");
        return Vec::new();
    };
    let (sequence, cut) = super::clipboard::osc52(&copied.text);
    let size = copied.text.chars().count();
    let note = if cut { ", cut to 64 KiB" } else { "" };
    model.say(&format!("copied {} ({size} chars{note})", copied.what));
    vec![Effect::Raw(sequence)]
}

/// `i` on a check or an alert opens the incident tab's own dialog, prefilled, for the operator to
/// confirm; every other effect passes through.
fn hand_over_declarations(model: &mut Model, effects: Vec<TabEffect>) -> Vec<TabEffect> {
    let mut out = Vec::with_capacity(effects.len());
    for effect in effects {
        match effect {
            TabEffect::Health(health::Effect::Declare { check, title, evidence, .. }) => {
                model.tab = TabId::Incident;
                let declared = model.tabs.incident.declare_from_check(&check, title, evidence);
                out.extend(declared.into_iter().map(TabEffect::Incident));
            }
            TabEffect::Health(health::Effect::DeclareAlert { alert, title, evidence, severity, runbooks }) => {
                model.tab = TabId::Incident;
                let declared = model.tabs.incident.declare_from_alert(&alert, title, evidence, severity, &runbooks);
                out.extend(declared.into_iter().map(TabEffect::Incident));
            }
            other => out.push(other),
        }
    }
    out
}

/// Keys shared by all tabs, offered to the visible tab before their global meaning.
fn is_navigation(action: &Action) -> bool {
    matches!(
        action,
        Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Left
            | Action::Right
            | Action::Select
            | Action::Close
    )
}

fn update_help(model: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Close | Action::ToggleHelp => model.overlay = Overlay::None,
        Action::Quit => model.running = false,
        Action::Down => {
            let end = super::view::help::max_scroll(model);
            if let Overlay::Help { scroll } = &mut model.overlay {
                *scroll = scroll.saturating_add(1).min(end);
            }
        }
        Action::Up => {
            if let Overlay::Help { scroll } = &mut model.overlay {
                *scroll = scroll.saturating_sub(1);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn update_palette(model: &mut Model, action: Action, now: Instant) -> Vec<Effect> {
    let Overlay::Palette(palette) = &mut model.overlay else { return Vec::new() };
    match action {
        Action::Close => model.overlay = Overlay::None,
        Action::Input(c) => palette.type_char(c),
        Action::Paste(text) => text.chars().filter(|c| !c.is_control()).for_each(|c| palette.type_char(c)),
        Action::Backspace => palette.backspace(),
        Action::Up => palette.move_selection(-1),
        Action::Down => palette.move_selection(1),
        Action::Select => {
            let chosen = palette.matches.get(palette.selected).cloned();
            model.overlay = Overlay::None;
            if let Some(entry) = chosen {
                // A tab's command runs on its own tab, which is then shown.
                if let Some(tab) = entry.tab {
                    model.tab = tab;
                }
                return update_normal(model, entry.action, now);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The status-line clock: minutes only, so an idle screen changes once a minute.
pub fn format_clock(wall: chrono::DateTime<chrono::Utc>, zone: crate::util::zone::Zone) -> String {
    wall.with_timezone(&zone).format("%a %H:%M %Z").to_string()
}
