//! The logs tab. Not built yet: it draws a plain notice and ignores keys.

use super::{Services, TabCtx, ViewCtx};
use crate::tui::action::Action;
use crate::tui::tab::TabId;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use serde::Deserialize;

#[derive(Debug, Default)]
pub struct LogsTab {}

/// What this tab's sources report.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {}

/// What keys can be bound to in `[keys.logs]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {}

impl Command {
    pub const ALL: &'static [Command] = &[];

    pub fn describe(&self) -> String {
        match *self {}
    }
}

/// Work this tab asks the runtime for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {}

pub fn default_keys() -> Vec<(&'static str, Command)> {
    Vec::new()
}

pub fn start(_services: &Services) -> LogsTab {
    LogsTab::default()
}

pub fn execute(effect: Effect, _services: &Services) {
    match effect {}
}

impl LogsTab {
    pub fn on_msg(&mut self, msg: Msg, _ctx: &mut TabCtx) -> Vec<Effect> {
        match msg {}
    }

    pub fn on_command(&mut self, command: Command, _ctx: &mut TabCtx) -> Vec<Effect> {
        match command {}
    }

    pub fn on_nav(&mut self, _action: &Action, _ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        None
    }

    pub fn captures_keys(&self) -> bool {
        false
    }

    pub fn on_key(&mut self, _key: KeyEvent, _ctx: &mut TabCtx) -> Vec<Effect> {
        Vec::new()
    }

    pub fn on_tick(&mut self, _ctx: &mut TabCtx) -> bool {
        false
    }

    pub fn render(&self, view: &ViewCtx, frame: &mut Frame, area: Rect) {
        super::render_not_built(view, TabId::Logs, frame, area);
    }
}
