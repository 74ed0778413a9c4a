//! The six tab bodies and the contract they share.
//!
//! Each tab lives in its own module (`health`, `calendar`, ...) and offers the
//! same shape, so this file only dispatches:
//!
//! - a state struct (`HealthTab` ...) that is `Default` (nothing configured)
//!   and built for real by `start(&Services)`, which may spawn the tab's
//!   engine and forward its events as `Action::Msg(TabMsg::Health(..))`;
//! - `Msg`: what its sources report; `Command`: what keys can be bound to in
//!   `[keys.<tab>]` (kebab-case, with `describe()` and `ALL`); `Effect`: work
//!   it asks for, carried out by `execute(effect, &Services)`, never in update;
//! - `default_keys()`, `on_msg`, `on_command`, `on_nav` (shared movement keys;
//!   `None` means "not mine", so e.g. esc falls through to the global meaning),
//!   `captures_keys`/`on_key` for prompts that need raw keys, `on_tick`
//!   (returns whether the view changed), `render`, and (only the incident tab
//!   so far) `on_frame_drawn` for prompts that must not take keys typed before
//!   they were on screen.

pub mod backups;
pub mod calendar;
pub mod gpu;
pub mod health;
pub mod incident;
pub mod logs;
mod placeholder;

use super::action::Action;
use super::keymap::Keymap;
use super::model::{Evidence, Model, Status};
use super::tab::TabId;
use crate::config::Config;
use crate::store::Store;
use crate::theme::Theme;
use crate::util::budget::Budget;
use crate::util::identity::Identity;
use crate::util::zone::Zone;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::sync::Arc;
use tokio::sync::mpsc;

pub use placeholder::render as render_not_built;

/// What tabs need from the outside world: the config, the store, and the
/// channel through which their background work reports back.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    /// `None` only where no store could be opened (then history is not kept).
    pub store: Option<Store>,
    pub sources: mpsc::Sender<Action>,
    /// `--read-only` or `settings.read_only`: every action is hidden.
    pub read_only: bool,
    pub identity: Identity,
    /// `settings.memory_budget`: the fixed windows reserve from it, log lines take the rest.
    pub budget: Arc<Budget>,
}

impl Services {
    /// Services with no config and nowhere to report, for tests and snapshots.
    pub fn detached() -> (Services, mpsc::Receiver<Action>) {
        let (sources, receiver) = mpsc::channel(1024);
        let services = Services {
            config: Arc::new(Config::default()),
            store: None,
            sources,
            read_only: false,
            identity: Identity::current(),
            budget: Arc::new(Budget::default()),
        };
        (services, receiver)
    }
}

/// What a tab may touch while it handles an action besides its own state.
pub struct TabCtx<'a> {
    pub status: &'a mut Status,
    /// Shared notes between tabs, such as recent log errors for the incident timeline.
    pub evidence: &'a mut Evidence,
    /// Wall-clock time of the last tick.
    pub wall: chrono::DateTime<chrono::Utc>,
    pub zone: Zone,
    pub read_only: bool,
}

/// What a tab may read while it draws.
pub struct ViewCtx<'a> {
    pub theme: &'a Theme,
    pub keymap: &'a Keymap,
    pub wall: chrono::DateTime<chrono::Utc>,
    pub zone: Zone,
    pub read_only: bool,
}

/// Where a tab last drew its list, so a mouse click can be turned into a row:
/// the rows' area, and the position in the list of the area's first row.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ListHits {
    pub rows: Rect,
    pub first: usize,
}

impl ListHits {
    /// The list position under a click at (`x`, `y`), if the click is on a row.
    pub fn position_at(&self, x: u16, y: u16) -> Option<usize> {
        let inside = (self.rows.x..self.rows.right()).contains(&x) && (self.rows.y..self.rows.bottom()).contains(&y);
        inside.then(|| self.first + usize::from(y - self.rows.y))
    }
}

/// Every tab's state.
#[derive(Default)]
pub struct Tabs {
    pub health: health::HealthTab,
    pub calendar: calendar::CalendarTab,
    pub gpu: gpu::GpuTab,
    pub logs: logs::LogsTab,
    pub backups: backups::BackupsTab,
    pub incident: incident::IncidentTab,
}

/// A source event for one tab.
#[derive(Debug, Clone, PartialEq)]
pub enum TabMsg {
    Health(health::Msg),
    Calendar(calendar::Msg),
    Gpu(gpu::Msg),
    Logs(logs::Msg),
    Backups(backups::Msg),
    Incident(incident::Msg),
}

/// A bindable command of one tab.
#[derive(Debug, Clone, PartialEq)]
pub enum TabCommand {
    Health(health::Command),
    Calendar(calendar::Command),
    Gpu(gpu::Command),
    Logs(logs::Command),
    Backups(backups::Command),
    Incident(incident::Command),
}

/// Work one tab asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum TabEffect {
    Health(health::Effect),
    Calendar(calendar::Effect),
    Gpu(gpu::Effect),
    Logs(logs::Effect),
    Backups(backups::Effect),
    Incident(incident::Effect),
}

fn wrap<E>(effects: Vec<E>, into: fn(E) -> TabEffect) -> Vec<TabEffect> {
    effects.into_iter().map(into).collect()
}

impl Tabs {
    /// A left click at (`x`, `y`) on the visible tab: lists select the row under it.
    pub fn on_click(&mut self, tab: TabId, x: u16, y: u16) -> bool {
        match tab {
            TabId::Health => self.health.click(x, y),
            TabId::Backups => self.backups.click(x, y),
            TabId::Calendar => self.calendar.click(x, y),
            // The GPU, logs and incident panes move with keys only.
            _ => false,
        }
    }

    /// The visible tab's selected item as text for the clipboard (`y`).
    pub fn copy(&self, tab: TabId) -> Option<super::clipboard::Copied> {
        match tab {
            TabId::Health => self.health.copy(),
            TabId::Calendar => self.calendar.copy(),
            TabId::Gpu => self.gpu.copy(),
            TabId::Logs => self.logs.copy(),
            TabId::Backups => self.backups.copy(),
            TabId::Incident => self.incident.copy(),
        }
    }

    /// Starts every tab's engine on the current tokio runtime.
    pub fn start(services: &Services) -> Tabs {
        Tabs {
            health: health::start(services),
            calendar: calendar::start(services),
            gpu: gpu::start(services),
            logs: logs::start(services),
            backups: backups::start(services),
            incident: incident::start(services),
        }
    }

    pub fn on_msg(&mut self, msg: TabMsg, ctx: &mut TabCtx) -> Vec<TabEffect> {
        match msg {
            TabMsg::Health(msg) => wrap(self.health.on_msg(msg, ctx), TabEffect::Health),
            TabMsg::Calendar(msg) => wrap(self.calendar.on_msg(msg, ctx), TabEffect::Calendar),
            TabMsg::Gpu(msg) => wrap(self.gpu.on_msg(msg, ctx), TabEffect::Gpu),
            TabMsg::Logs(msg) => wrap(self.logs.on_msg(msg, ctx), TabEffect::Logs),
            TabMsg::Backups(msg) => wrap(self.backups.on_msg(msg, ctx), TabEffect::Backups),
            TabMsg::Incident(msg) => wrap(self.incident.on_msg(msg, ctx), TabEffect::Incident),
        }
    }

    pub fn on_command(&mut self, command: TabCommand, ctx: &mut TabCtx) -> Vec<TabEffect> {
        match command {
            TabCommand::Health(c) => wrap(self.health.on_command(c, ctx), TabEffect::Health),
            TabCommand::Calendar(c) => wrap(self.calendar.on_command(c, ctx), TabEffect::Calendar),
            TabCommand::Gpu(c) => wrap(self.gpu.on_command(c, ctx), TabEffect::Gpu),
            TabCommand::Logs(c) => wrap(self.logs.on_command(c, ctx), TabEffect::Logs),
            TabCommand::Backups(c) => wrap(self.backups.on_command(c, ctx), TabEffect::Backups),
            TabCommand::Incident(c) => wrap(self.incident.on_command(c, ctx), TabEffect::Incident),
        }
    }

    /// Movement and selection keys for the visible tab; `None` when it has no use for them.
    pub fn on_nav(&mut self, tab: TabId, action: &Action, ctx: &mut TabCtx) -> Option<Vec<TabEffect>> {
        Some(match tab {
            TabId::Health => wrap(self.health.on_nav(action, ctx)?, TabEffect::Health),
            TabId::Calendar => wrap(self.calendar.on_nav(action, ctx)?, TabEffect::Calendar),
            TabId::Gpu => wrap(self.gpu.on_nav(action, ctx)?, TabEffect::Gpu),
            TabId::Logs => wrap(self.logs.on_nav(action, ctx)?, TabEffect::Logs),
            TabId::Backups => wrap(self.backups.on_nav(action, ctx)?, TabEffect::Backups),
            TabId::Incident => wrap(self.incident.on_nav(action, ctx)?, TabEffect::Incident),
        })
    }

    /// Whether the visible tab has a prompt open that wants every key as typed.
    pub fn captures_keys(&self, tab: TabId) -> bool {
        match tab {
            TabId::Health => self.health.captures_keys(),
            TabId::Calendar => self.calendar.captures_keys(),
            TabId::Gpu => self.gpu.captures_keys(),
            TabId::Logs => self.logs.captures_keys(),
            TabId::Backups => self.backups.captures_keys(),
            TabId::Incident => self.incident.captures_keys(),
        }
    }

    pub fn on_key(&mut self, tab: TabId, key: KeyEvent, ctx: &mut TabCtx) -> Vec<TabEffect> {
        match tab {
            TabId::Health => wrap(self.health.on_key(key, ctx), TabEffect::Health),
            TabId::Calendar => wrap(self.calendar.on_key(key, ctx), TabEffect::Calendar),
            TabId::Gpu => wrap(self.gpu.on_key(key, ctx), TabEffect::Gpu),
            TabId::Logs => wrap(self.logs.on_key(key, ctx), TabEffect::Logs),
            TabId::Backups => wrap(self.backups.on_key(key, ctx), TabEffect::Backups),
            TabId::Incident => wrap(self.incident.on_key(key, ctx), TabEffect::Incident),
        }
    }

    /// A frame showing `visible` (with no overlay over it) has been drawn.
    pub fn on_frame_drawn(&mut self, visible: TabId) {
        match visible {
            TabId::Incident => self.incident.on_frame_drawn(),
            TabId::Backups => self.backups.on_frame_drawn(),
            TabId::Calendar => self.calendar.on_frame_drawn(),
            _ => {}
        }
    }

    /// Once a second; true when some tab's view changed (the visible one or the status line).
    pub fn on_tick(&mut self, visible: TabId, ctx: &mut TabCtx) -> bool {
        let mut changed = false;
        for tab in TabId::ALL {
            let tab_changed = match tab {
                TabId::Health => self.health.on_tick(ctx),
                TabId::Calendar => self.calendar.on_tick(ctx),
                TabId::Gpu => self.gpu.on_tick(ctx),
                TabId::Logs => self.logs.on_tick(ctx),
                TabId::Backups => self.backups.on_tick(ctx),
                TabId::Incident => self.incident.on_tick(ctx),
            };
            changed |= tab_changed && tab == visible;
        }
        changed
    }
}

impl TabCommand {
    /// Parses a `[keys.<tab>]` value as one of that tab's own commands.
    pub fn parse(tab: TabId, value: toml::Value) -> Option<TabCommand> {
        use serde::Deserialize;
        match tab {
            TabId::Health => health::Command::deserialize(value).ok().map(TabCommand::Health),
            TabId::Calendar => calendar::Command::deserialize(value).ok().map(TabCommand::Calendar),
            TabId::Gpu => gpu::Command::deserialize(value).ok().map(TabCommand::Gpu),
            TabId::Logs => logs::Command::deserialize(value).ok().map(TabCommand::Logs),
            TabId::Backups => backups::Command::deserialize(value).ok().map(TabCommand::Backups),
            TabId::Incident => incident::Command::deserialize(value).ok().map(TabCommand::Incident),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TabCommand::Health(c) => c.describe(),
            TabCommand::Calendar(c) => c.describe(),
            TabCommand::Gpu(c) => c.describe(),
            TabCommand::Logs(c) => c.describe(),
            TabCommand::Backups(c) => c.describe(),
            TabCommand::Incident(c) => c.describe(),
        }
    }

    /// Every command of `tab`, for the palette.
    pub fn all(tab: TabId) -> Vec<TabCommand> {
        match tab {
            TabId::Health => health::Command::ALL.iter().cloned().map(TabCommand::Health).collect(),
            TabId::Calendar => calendar::Command::ALL.iter().cloned().map(TabCommand::Calendar).collect(),
            TabId::Gpu => gpu::Command::ALL.iter().cloned().map(TabCommand::Gpu).collect(),
            TabId::Logs => logs::Command::ALL.iter().cloned().map(TabCommand::Logs).collect(),
            TabId::Backups => backups::Command::ALL.iter().cloned().map(TabCommand::Backups).collect(),
            TabId::Incident => incident::Command::ALL.iter().cloned().map(TabCommand::Incident).collect(),
        }
    }
}

/// Each tab's built-in bindings, bound in its own key mode.
pub fn default_keys(tab: TabId) -> Vec<(&'static str, Action)> {
    fn wrap_keys<C>(keys: Vec<(&'static str, C)>, into: fn(C) -> TabCommand) -> Vec<(&'static str, Action)> {
        keys.into_iter().map(|(key, c)| (key, Action::Tab(into(c)))).collect()
    }
    match tab {
        TabId::Health => wrap_keys(health::default_keys(), TabCommand::Health),
        TabId::Calendar => wrap_keys(calendar::default_keys(), TabCommand::Calendar),
        TabId::Gpu => wrap_keys(gpu::default_keys(), TabCommand::Gpu),
        TabId::Logs => wrap_keys(logs::default_keys(), TabCommand::Logs),
        TabId::Backups => wrap_keys(backups::default_keys(), TabCommand::Backups),
        TabId::Incident => wrap_keys(incident::default_keys(), TabCommand::Incident),
    }
}

/// Carries out a tab's effect: spawns its work, which reports back through `services.sources`.
pub fn execute(effect: TabEffect, services: &Services) {
    match effect {
        TabEffect::Health(e) => health::execute(e, services),
        TabEffect::Calendar(e) => calendar::execute(e, services),
        TabEffect::Gpu(e) => gpu::execute(e, services),
        TabEffect::Logs(e) => logs::execute(e, services),
        TabEffect::Backups(e) => backups::execute(e, services),
        TabEffect::Incident(e) => incident::execute(e, services),
    }
}

pub fn render(model: &Model, frame: &mut Frame, area: Rect) {
    let view = ViewCtx {
        theme: &model.theme,
        keymap: &model.keymap,
        wall: model.wall,
        zone: model.status.zone,
        read_only: model.read_only,
    };
    let tabs = &model.tabs;
    match model.tab {
        TabId::Health => tabs.health.render(&view, frame, area),
        TabId::Calendar => tabs.calendar.render(&view, frame, area),
        TabId::Gpu => tabs.gpu.render(&view, frame, area),
        TabId::Logs => tabs.logs.render(&view, frame, area),
        TabId::Backups => tabs.backups.render(&view, frame, area),
        TabId::Incident => tabs.incident.render(&view, frame, area),
    }
}
