//! The logs tab: every `[[log]]` followed at once, merged by arrival or one
//! source at a time, with follow mode, search, filter, level floor and wrap.
//!
//! The engine (`crate::logs`) follows and parses on its own threads; `bridge`
//! batches what it reads into `Msg::Batch`es; this module folds them into a
//! `LogView` and handles keys; `view` draws it.

mod bridge;
mod copy;
mod view;

use super::{Services, TabCtx, ViewCtx};
use crate::logs::fields::FieldFilter;
use crate::logs::filter::{Filter, Pattern};
use crate::logs::follow::{Marker, SourceState};
use crate::logs::level::Level;
use crate::logs::parse::Parsed;
use crate::logs::source::SourceSpec;
use crate::logs::view::{LogView, SourceView};
use crate::tui::action::Action;
use crate::util::budget::Budget;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use serde::Deserialize;
use std::cell::Cell;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct LogsTab {
    /// `None` when no `[[log]]` is configured.
    view: Option<LogView>,
    /// Where each source reads from, for the header.
    origins: Vec<String>,
    prompt: Option<Prompt>,
    wrap: bool,
    /// The source the header cursor is on (for `x` hide and `s` only-this).
    cursor: usize,
    /// The engine could not be started at all.
    failure: Option<String>,
    /// Every source has shown its tail once.
    caught_up: bool,
    /// Rows the last frame had for lines, so paging moves by a screen.
    page: Cell<usize>,
}

#[derive(Debug, Clone, PartialEq)]
struct Prompt {
    kind: PromptKind,
    text: String,
    /// Why enter did not apply it (a field filter that does not parse).
    error: Option<String>,
    /// The text filter as it was when the prompt opened: the filter is previewed
    /// while it is typed, and esc puts this one back.
    before: Option<Filter>,
}

impl Prompt {
    fn new(kind: PromptKind, text: String) -> Prompt {
        Prompt { kind, text, error: None, before: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PromptKind {
    Search,
    Filter,
    Fields,
}

/// What this tab's sources report.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Batch(Arc<Batch>),
}

/// Lines and state changes read since the last batch, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    pub items: Vec<Item>,
    /// Lines thrown away because the console did not take batches fast enough.
    pub dropped: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `written` is the line as written when `text` shows it otherwise (see `Parsed`).
    Line {
        source: usize,
        level: Option<Level>,
        text: String,
        written: Option<String>,
    },
    Marker {
        source: usize,
        marker: Marker,
    },
    State {
        source: usize,
        state: SourceState,
    },
    CaughtUp,
}

/// What keys can be bound to in `[keys.logs]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    Search,
    NextMatch,
    PreviousMatch,
    Filter,
    FieldFilter,
    InvertFilter,
    ClearFilter,
    CycleLevel,
    TogglePause,
    ToggleWrap,
    OnlySource,
    HideSource,
}

impl Command {
    pub const ALL: &'static [Command] = &[
        Command::Search,
        Command::NextMatch,
        Command::PreviousMatch,
        Command::Filter,
        Command::FieldFilter,
        Command::InvertFilter,
        Command::ClearFilter,
        Command::CycleLevel,
        Command::TogglePause,
        Command::ToggleWrap,
        Command::OnlySource,
        Command::HideSource,
    ];

    pub fn describe(&self) -> String {
        match self {
            Command::Search => "search (regex or text) and highlight matches",
            Command::NextMatch => "next search match",
            Command::PreviousMatch => "previous search match",
            Command::Filter => "keep only lines matching a regex or text",
            Command::FieldFilter => "keep JSON lines whose fields match (where)",
            Command::InvertFilter => "hide the text filter's matches instead",
            Command::ClearFilter => "clear the filters, level floor and search",
            Command::CycleLevel => "level floor: all, debug, info, warn, error",
            Command::TogglePause => "pause or resume following",
            Command::ToggleWrap => "wrap long lines",
            Command::OnlySource => "show only the source under the cursor, or all merged",
            Command::HideSource => "hide or show the source under the cursor",
        }
        .to_string()
    }
}

/// Work this tab asks the runtime for. Everything it does runs on its own threads.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {}

pub fn default_keys() -> Vec<(&'static str, Command)> {
    vec![
        ("/", Command::Search),
        ("n", Command::NextMatch),
        ("N", Command::PreviousMatch),
        ("&", Command::Filter),
        ("f", Command::FieldFilter),
        ("-", Command::InvertFilter),
        ("c", Command::ClearFilter),
        ("L", Command::CycleLevel),
        ("space", Command::TogglePause),
        ("p", Command::TogglePause),
        ("w", Command::ToggleWrap),
        ("s", Command::OnlySource),
        ("x", Command::HideSource),
    ]
}

/// Starts following every configured log; lines arrive as `Msg::Batch`.
pub fn start(services: &Services) -> LogsTab {
    let specs = SourceSpec::all(&services.config);
    if specs.is_empty() {
        return LogsTab::default();
    }
    let mut tab = LogsTab::for_sources(&specs).sharing(services.budget.clone());
    if let Err(err) = bridge::spawn(specs, services.sources.clone()) {
        tab.failure = Some(format!("cannot start following logs: {err}"));
    }
    tab
}

pub fn execute(effect: Effect, _services: &Services) {
    match effect {}
}

impl LogsTab {
    /// A tab for these sources with nothing read yet (tests and benches feed it batches).
    pub fn for_sources(specs: &[SourceSpec]) -> LogsTab {
        let sources =
            specs.iter().map(|spec| SourceView::new(&spec.name, spec.buffer_lines, spec.highlights.clone())).collect();
        LogsTab {
            view: Some(LogView::new(sources)),
            origins: specs.iter().map(SourceSpec::origin).collect(),
            page: Cell::new(20),
            ..LogsTab::default()
        }
    }

    /// Keeps every source's lines together within `bytes`.
    pub fn with_budget(self, bytes: u64) -> LogsTab {
        self.sharing(Budget::new(bytes))
    }

    /// Keeps every source's lines together within what the console's budget
    /// (`settings.memory_budget`) leaves after its fixed windows.
    pub fn sharing(mut self, budget: Arc<Budget>) -> LogsTab {
        if let Some(view) = &mut self.view {
            view.share_budget(budget);
        }
        self
    }

    pub fn view(&self) -> Option<&LogView> {
        self.view.as_ref()
    }

    pub fn on_msg(&mut self, msg: Msg, ctx: &mut TabCtx) -> Vec<Effect> {
        let Msg::Batch(batch) = msg;
        let batch = Arc::try_unwrap(batch).unwrap_or_else(|shared| (*shared).clone());
        let Some(view) = &mut self.view else { return Vec::new() };
        view.dropped += batch.dropped;
        for item in batch.items {
            match item {
                Item::Line { source, level, text, written } => {
                    // The newest errors go onto the incident timeline when a step is ticked.
                    if level.is_some_and(|l| l >= crate::logs::level::Level::Error)
                        && let Some(name) = view.sources.get(source).map(|s| s.name.as_str())
                    {
                        ctx.evidence.note_error(format!("{name}: {text}"));
                    }
                    view.push_parsed(source, Parsed { level, text, written })
                }
                Item::Marker { source, marker } => view.mark(source, marker),
                Item::State { source, state } => view.set_state(source, state),
                Item::CaughtUp => self.caught_up = true,
            }
        }
        view.end_batch();
        Vec::new()
    }

    pub fn on_command(&mut self, command: Command, _ctx: &mut TabCtx) -> Vec<Effect> {
        let page = self.page.get();
        let Some(view) = &mut self.view else { return Vec::new() };
        match command {
            Command::Search => self.prompt = Some(Prompt::new(PromptKind::Search, String::new())),
            Command::Filter => {
                let text = view.filter().pattern.as_ref().map(|p| p.text.clone()).unwrap_or_default();
                let mut prompt = Prompt::new(PromptKind::Filter, text);
                prompt.before = Some(view.filter().clone());
                self.prompt = Some(prompt);
            }
            Command::FieldFilter => {
                let text = view.filter().fields.as_ref().map(|f| f.text.clone()).unwrap_or_default();
                self.prompt = Some(Prompt::new(PromptKind::Fields, text));
            }
            Command::NextMatch => {
                view.find(true, page);
            }
            Command::PreviousMatch => {
                view.find(false, page);
            }
            Command::InvertFilter => {
                let filter = Filter { invert: !view.filter().invert, ..view.filter().clone() };
                view.set_filter(filter);
            }
            Command::ClearFilter => {
                let hidden = vec![false; view.sources.len()];
                view.set_filter(Filter { hidden, ..Filter::default() });
                view.set_search(None);
            }
            Command::CycleLevel => {
                let filter = Filter { floor: Level::cycle(view.filter().floor), ..view.filter().clone() };
                view.set_filter(filter);
            }
            Command::TogglePause => view.toggle_pause(),
            Command::ToggleWrap => self.wrap = !self.wrap,
            Command::OnlySource => {
                let focus = if view.focus() == Some(self.cursor) { None } else { Some(self.cursor) };
                view.set_focus(focus);
            }
            Command::HideSource => {
                let mut filter = view.filter().clone();
                if let Some(hidden) = filter.hidden.get_mut(self.cursor) {
                    *hidden = !*hidden;
                }
                view.set_filter(filter);
            }
        }
        Vec::new()
    }

    pub fn on_nav(&mut self, action: &Action, _ctx: &mut TabCtx) -> Option<Vec<Effect>> {
        let page = self.page.get().max(1);
        let view = self.view.as_mut()?;
        match action {
            Action::Up => view.scroll_up(1),
            Action::Down => view.scroll_down(1),
            Action::PageUp => view.scroll_up(page),
            Action::PageDown => view.scroll_down(page),
            Action::Top => view.top(page),
            Action::Bottom => view.follow(),
            Action::Left => self.cursor = self.cursor.saturating_sub(1),
            Action::Right => self.cursor = (self.cursor + 1).min(view.sources.len().saturating_sub(1)),
            // Esc drops the search highlight first; with none it keeps its global meaning.
            Action::Close if view.search().is_some() => view.set_search(None),
            _ => return None,
        }
        Some(Vec::new())
    }

    pub fn captures_keys(&self) -> bool {
        self.prompt.is_some()
    }

    /// Keys typed into the search or filter prompt: enter applies, esc cancels.
    pub fn on_key(&mut self, key: KeyEvent, _ctx: &mut TabCtx) -> Vec<Effect> {
        let Some(prompt) = &mut self.prompt else { return Vec::new() };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if key.code != KeyCode::Enter {
            prompt.error = None;
        }
        let before_text = prompt.text.clone();
        match key.code {
            KeyCode::Esc => return self.cancel_prompt(),
            KeyCode::Char('c') if ctrl => return self.cancel_prompt(),
            KeyCode::Char('u') if ctrl => prompt.text.clear(),
            KeyCode::Char('w') if ctrl => {
                let trimmed = prompt.text.trim_end().len();
                let cut = prompt.text[..trimmed].rfind(' ').map_or(0, |i| i + 1);
                prompt.text.truncate(cut);
            }
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Enter => {
                let (kind, text) = (prompt.kind, prompt.text.clone());
                match self.apply(kind, &text) {
                    Ok(()) => self.prompt = None,
                    // The prompt stays open with the reason, so the text can be fixed.
                    Err(why) => {
                        if let Some(prompt) = &mut self.prompt {
                            prompt.error = Some(why);
                        }
                    }
                }
            }
            KeyCode::Char(c) if !ctrl && prompt.text.len() < 1024 => prompt.text.push(c),
            _ => {}
        }
        // The text filter shows what it keeps while it is typed.
        if let Some(prompt) = &self.prompt
            && prompt.kind == PromptKind::Filter
            && prompt.text != before_text
        {
            let text = prompt.text.clone();
            let _ = self.apply(PromptKind::Filter, &text);
        }
        Vec::new()
    }

    /// Closes the prompt; a previewed text filter goes back to what it was.
    fn cancel_prompt(&mut self) -> Vec<Effect> {
        if let Some(Prompt { before: Some(before), .. }) = self.prompt.take()
            && let Some(view) = &mut self.view
        {
            view.set_filter(before);
        }
        Vec::new()
    }

    fn apply(&mut self, kind: PromptKind, text: &str) -> Result<(), String> {
        let page = self.page.get();
        let Some(view) = &mut self.view else { return Ok(()) };
        match kind {
            PromptKind::Search => {
                view.set_search(Pattern::new(text));
                // Jump to the nearest match above the bottom of the screen, as less does with ?.
                if !view.find(false, page) {
                    view.find(true, page);
                }
            }
            PromptKind::Filter => {
                let filter = Filter { pattern: Pattern::new(text), ..view.filter().clone() };
                view.set_filter(filter);
            }
            PromptKind::Fields => {
                // An empty prompt clears the field filter.
                let fields = match text.trim() {
                    "" => None,
                    _ => Some(FieldFilter::parse(text).map_err(|err| err.summary())?),
                };
                view.set_filter(Filter { fields, ..view.filter().clone() });
            }
        }
        Ok(())
    }

    /// Moves the rate windows on; redraws only while some source is writing.
    pub fn on_tick(&mut self, _ctx: &mut TabCtx) -> bool {
        let Some(view) = &mut self.view else { return false };
        let active = view.sources.iter().any(SourceView::active);
        view.tick();
        active
    }

    pub fn render(&self, ctx: &ViewCtx, frame: &mut Frame, area: Rect) {
        view::render(self, ctx, frame, area);
    }
}
