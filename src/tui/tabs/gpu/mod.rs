//! The gpu tab: one block of gauges per GPU, their history, and the process
//! table of the selected one; for a fleet read from a Prometheus engine, its
//! hosts with a summary line each and one line per GPU (`fleet`). The engine
//! (`crate::gpu::engine`) samples on its own thread and sends a new state
//! only when something shown has changed.

mod copy;
mod fleet;
mod fleet_view;
mod parts;
mod view;

use super::{Services, TabCtx, TabMsg, ViewCtx};
use crate::gpu::engine::{self, Delivery, EngineOptions};
use crate::gpu::{GpuProcess, GpuState};
use crate::tui::action::Action;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::mpsc::error::TrySendError;

#[derive(Debug, Default)]
pub struct GpuTab {
    /// The newest state from the engine; `None` before the first one.
    state: Option<Arc<GpuState>>,
    /// Whether an engine was started (a default tab has none).
    started: bool,
    /// Position in `state.gpus` of the selected GPU.
    selected: usize,
    pane: Pane,
    sort: ProcessSort,
    /// Selected row of the process table.
    process_row: usize,
    /// The host list, when the state is a fleet's.
    fleet: fleet::Fleet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Gpus,
    Processes,
}

/// The order of the process table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessSort {
    #[default]
    Memory,
    Pid,
    Name,
    User,
}

impl ProcessSort {
    fn next(self) -> ProcessSort {
        match self {
            ProcessSort::Memory => ProcessSort::Pid,
            ProcessSort::Pid => ProcessSort::Name,
            ProcessSort::Name => ProcessSort::User,
            ProcessSort::User => ProcessSort::Memory,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProcessSort::Memory => "memory",
            ProcessSort::Pid => "pid",
            ProcessSort::Name => "name",
            ProcessSort::User => "user",
        }
    }

    /// Sorts in place: memory largest first, the others ascending.
    pub fn apply(self, list: &mut [GpuProcess]) {
        match self {
            ProcessSort::Memory => list.sort_by(|a, b| b.memory.cmp(&a.memory).then(a.pid.cmp(&b.pid))),
            ProcessSort::Pid => list.sort_by_key(|p| p.pid),
            ProcessSort::Name => list.sort_by(|a, b| a.name.cmp(&b.name).then(a.pid.cmp(&b.pid))),
            ProcessSort::User => list.sort_by(|a, b| a.user.cmp(&b.user).then(a.pid.cmp(&b.pid))),
        }
    }
}

/// What this tab's sources report.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// A new picture of the GPUs; sent only when something shown changed.
    State(Arc<GpuState>),
}

/// What keys can be bound to in `[keys.gpu]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// Open or close the process table of the selected GPU.
    Processes,
    /// Sort the process table by the next column.
    Sort,
    /// Note the selected GPU or process on the open incident's timeline.
    Note,
    /// Fold every host of a fleet to its summary line, or unfold them.
    Fold,
}

impl Command {
    pub const ALL: &'static [Command] = &[Command::Processes, Command::Sort, Command::Note, Command::Fold];

    pub fn describe(&self) -> String {
        match self {
            Command::Processes => "show or hide the selected GPU's processes".into(),
            Command::Sort => {
                "sort processes by memory, pid, name or user; a fleet's hosts worst first or in name order".into()
            }
            Command::Note => "note the selected GPU or process (pid, user, memory) on the open incident".into(),
            Command::Fold => "fold every host of a fleet to its summary line, or unfold them all".into(),
        }
    }
}

/// Work this tab asks the runtime for; sampling itself runs by itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Add a line about a GPU or one of its processes to the open incident's timeline.
    Note(String),
}

pub fn default_keys() -> Vec<(&'static str, Command)> {
    vec![("p", Command::Processes), ("s", Command::Sort), ("n", Command::Note), ("f", Command::Fold)]
}

/// Starts sampling (NVML, or the simulation of `[gpu] simulate`) on the current runtime.
pub fn start(services: &Services) -> GpuTab {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return GpuTab::default() };
    let source = crate::gpu::source_for(&services.config);
    let options = EngineOptions::from_config(&services.config);
    let sender = services.sources.clone();
    runtime.spawn(engine::run(source, options, move |state| {
        match sender.try_send(Action::Msg(TabMsg::Gpu(Msg::State(state)))) {
            Ok(()) => Delivery::Sent,
            Err(TrySendError::Full(_)) => Delivery::Busy,
            Err(TrySendError::Closed(_)) => Delivery::Closed,
        }
    }));
    GpuTab { started: true, ..GpuTab::default() }
}

pub fn execute(effect: Effect, services: &Services) {
    match effect {
        Effect::Note(text) => {
            let Some(store) = services.store.clone() else { return };
            let (sources, identity) = (services.sources.clone(), services.identity.clone());
            tokio::task::spawn_blocking(move || {
                use crate::incident::record::{self, EventKind};
                let reply = match record::open_incident_id(&store) {
                    Ok(Some(id)) => match record::add_event(&store, id, EventKind::Note, None, &text, &identity) {
                        Ok(_) => Action::SelectTab(crate::tui::tab::TabId::Incident),
                        Err(err) => Action::Error(format!("could not add the note: {err}")),
                    },
                    Ok(None) => {
                        Action::Error("no open incident to note it on: open one first (n on the incident tab)".into())
                    }
                    Err(err) => Action::Error(format!("could not read the incident: {err}")),
                };
                let _ = sources.try_send(reply);
            });
        }
    }
}

impl GpuTab {
    /// A tab showing `state`, as if the engine had sent it (for tests, benches and snapshots).
    pub fn with_state(state: GpuState) -> GpuTab {
        let mut tab = GpuTab { started: true, ..GpuTab::default() };
        if state.fleet.is_some() {
            tab.fleet.rebuild(&state);
        }
        tab.state = Some(Arc::new(state));
        tab
    }

    pub fn state(&self) -> Option<&GpuState> {
        self.state.as_deref()
    }

    pub fn selected(&self) -> usize {
        self.selected
    }

    pub fn pane(&self) -> Pane {
        self.pane
    }

    pub fn sort(&self) -> ProcessSort {
        self.sort
    }

    /// The fleet's state, when the GPUs are a fleet's.
    fn fleet_state(&self) -> Option<&Arc<GpuState>> {
        self.state.as_ref().filter(|s| s.fleet.is_some())
    }

    /// The order of a fleet's hosts.
    pub fn host_order(&self) -> crate::gpu::fleet::HostOrder {
        self.fleet.order
    }

    fn gpu_count(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.gpus.len())
    }

    fn process_count(&self) -> usize {
        self.state
            .as_ref()
            .and_then(|s| s.gpus.get(self.selected))
            .and_then(|g| g.sample.as_ref())
            .and_then(|s| s.processes.value())
            .map_or(0, Vec::len)
    }

    pub fn on_msg(&mut self, msg: Msg, ctx: &mut TabCtx) -> Vec<Effect> {
        match msg {
            Msg::State(state) => {
                // Threshold crossings reach the status line on every tab, like a failing check.
                ctx.status.gpu = state.alert().map(|(level, text)| crate::tui::model::HealthSummary {
                    text,
                    critical: level == crate::gpu::thresholds::Level::Crit,
                });
                if state.fleet.is_some() {
                    self.fleet.rebuild(&state);
                }
                self.state = Some(state);
                self.selected = self.selected.min(self.gpu_count().saturating_sub(1));
                self.process_row = self.process_row.min(self.process_count().saturating_sub(1));
                if self.gpu_count() == 0 {
                    self.pane = Pane::Gpus;
                }
            }
        }
        Vec::new()
    }

    pub fn on_command(&mut self, command: Command, ctx: &mut TabCtx) -> Vec<Effect> {
        if let Some(state) = self.fleet_state().cloned() {
            match command {
                Command::Sort => self.fleet.next_order(&state),
                Command::Fold => self.fleet.toggle_all(&state),
                Command::Note => return self.note().map(Effect::Note).into_iter().collect(),
                Command::Processes => {
                    ctx.status.notice = Some((
                        "the DCGM exporter's metrics carry no process list; run firstwatch on that host".into(),
                        ctx.wall + chrono::TimeDelta::seconds(5),
                    ));
                }
            }
            return Vec::new();
        }
        match command {
            Command::Fold => {}
            Command::Processes => self.toggle_processes(),
            Command::Sort => self.sort = self.sort.next(),
            Command::Note => return self.note().map(Effect::Note).into_iter().collect(),
        }
        Vec::new()
    }

    /// One line for the incident timeline about the selection: the process in the
    /// process table, otherwise the GPU and its worst threshold.
    fn note(&self) -> Option<String> {
        let state = self.state.as_ref()?;
        if state.fleet.is_some() {
            return self.fleet_note(state);
        }
        let gpu = state.gpus.get(self.selected)?;
        let sample = gpu.sample.as_ref()?;
        let heading = format!("gpu: GPU {} {}", gpu.index, gpu.name());
        if self.pane == Pane::Processes {
            let mut processes = sample.processes.value()?.clone();
            self.sort.apply(&mut processes);
            let process = processes.get(self.process_row)?;
            let memory = process.memory.map(|bytes| format!(", {:.1} GiB", bytes as f64 / (1u64 << 30) as f64));
            return Some(format!(
                "{heading}: pid {} {} (user {}{})",
                process.pid,
                process.name,
                process.user,
                memory.unwrap_or_default()
            ));
        }
        let levels = state.levels(gpu);
        Some(if levels.worst() > crate::gpu::thresholds::Level::Ok {
            let words = [levels.memory.word(), levels.temperature.word(), levels.power.word()];
            format!(
                "{heading}: {} (memory {}, temperature {}, power {})",
                levels.worst().word(),
                words[0],
                words[1],
                words[2]
            )
        } else {
            format!("{heading}: within thresholds")
        })
    }

    /// The note for a fleet's selected host (its summary) or GPU (its state and last Xid).
    fn fleet_note(&self, state: &GpuState) -> Option<String> {
        let engine = state.fleet.as_deref().unwrap_or("?");
        match self.fleet.selected()? {
            fleet::Row::Host(host) => {
                let host = self.fleet.hosts.get(host)?;
                Some(format!("gpu: {} ({engine}): {}", host.host, fleet_view::host_facts(host)))
            }
            fleet::Row::Gpu { gpu, .. } => {
                let entry = state.gpus.get(gpu)?;
                let level = state.level(entry);
                let levels = state.levels(entry);
                let mut text = format!("gpu: {} {} ({engine}): {}", entry.label(), entry.name(), level.word());
                if level > crate::gpu::thresholds::Level::Ok {
                    text.push_str(&format!(
                        " (memory {}, temperature {}, power {})",
                        levels.memory.word(),
                        levels.temperature.word(),
                        levels.power.word()
                    ));
                }
                if let Some(xid) = entry.sample.as_ref().and_then(|s| s.xid.get()).and_then(crate::gpu::xid::describe) {
                    text.push_str(&format!(", last {xid}"));
                }
                Some(text)
            }
        }
    }

    fn toggle_processes(&mut self) {
        self.pane = match self.pane {
            Pane::Gpus if self.gpu_count() > 0 => Pane::Processes,
            _ => Pane::Gpus,
        };
        self.process_row = 0;
    }

    fn select_gpu(&mut self, position: usize) {
        let last = self.gpu_count().saturating_sub(1);
        let position = position.min(last);
        if position != self.selected {
            self.selected = position;
            self.process_row = 0;
        }
    }

    pub fn on_nav(&mut self, action: &Action, _ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        if let Some(state) = self.fleet_state().cloned() {
            let fleet = &mut self.fleet;
            match action {
                Action::Up => fleet.up(&state, 1),
                Action::Down => fleet.down(&state, 1),
                Action::PageUp => fleet.up(&state, fleet.page_size()),
                Action::PageDown => fleet.down(&state, fleet.page_size()),
                Action::Top => fleet.go(&state, 0),
                Action::Bottom => fleet.go(&state, usize::MAX),
                Action::Left => fleet.next_host(&state, false),
                Action::Right => fleet.next_host(&state, true),
                Action::Select => fleet.toggle_host(&state),
                _ => return None,
            }
            return Some(Vec::new());
        }
        let gpu = self.selected;
        match (self.pane, action) {
            (_, Action::Select) if self.gpu_count() > 0 => self.toggle_processes(),
            (Pane::Processes, Action::Close) => self.pane = Pane::Gpus,
            (Pane::Gpus, Action::Up | Action::Left) => self.select_gpu(gpu.saturating_sub(1)),
            (Pane::Gpus, Action::Down | Action::Right) => self.select_gpu(gpu + 1),
            (_, Action::Top) if self.pane == Pane::Gpus => self.select_gpu(0),
            (_, Action::Bottom) if self.pane == Pane::Gpus => self.select_gpu(usize::MAX),
            (Pane::Processes, Action::Left) => self.select_gpu(gpu.saturating_sub(1)),
            (Pane::Processes, Action::Right) => self.select_gpu(gpu + 1),
            (Pane::Processes, Action::Up) => self.process_row = self.process_row.saturating_sub(1),
            (Pane::Processes, Action::Down) => {
                self.process_row = (self.process_row + 1).min(self.process_count().saturating_sub(1))
            }
            (Pane::Processes, Action::Top) => self.process_row = 0,
            (Pane::Processes, Action::Bottom) => self.process_row = self.process_count().saturating_sub(1),
            _ => return None,
        }
        Some(Vec::new())
    }

    pub fn captures_keys(&self) -> bool {
        false
    }

    pub fn on_key(&mut self, _key: KeyEvent, _ctx: &mut TabCtx) -> Vec<Effect> {
        Vec::new()
    }

    /// Nothing on this tab moves with the clock: times shown are absolute.
    pub fn on_tick(&mut self, _ctx: &mut TabCtx) -> bool {
        false
    }

    pub fn render(&self, view: &ViewCtx, frame: &mut Frame, area: Rect) {
        view::render(self, view, frame, area);
    }
}
