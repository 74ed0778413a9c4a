//! The loop that owns the terminal.
//!
//! It `select!`s over signals, terminal input, a bounded channel of actions
//! from sources, a once-a-second clock, and a frame deadline that exists only
//! while the model is dirty. Nothing changed means nothing drawn and no bytes
//! written; frames are capped at the configured rate.

use super::action::Action;
use super::effect::Effect;
use super::model::Model;
use super::terminal::{self, Term};
use super::{input, update, view};
use crossterm::event::EventStream;
use futures::StreamExt;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

/// How the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(&'static str),
    TerminalLost(String),
}

pub struct Options {
    pub frame_rate: u32,
    /// Wrap frames in synchronized output (`settings.sync_output`).
    pub sync_output: bool,
    /// Where tab effects are carried out.
    pub services: super::tabs::Services,
    /// Debug builds: panic in a background thread after the first frame (end-to-end test hook).
    pub panic_after_first_frame: bool,
}

/// Most actions taken from the source channel per wake-up, so input stays responsive during a flood.
const SOURCE_BATCH: usize = 512;

pub async fn run(mut model: Model, mut sources: mpsc::Receiver<Action>, options: Options) -> std::io::Result<Exit> {
    terminal::install_panic_hook();
    let mut term = terminal::enter(options.sync_output)?;
    if model.mouse {
        terminal::set_mouse(true)?;
    }
    let exit = event_loop(&mut model, &mut term, &mut sources, &options).await;
    terminal::restore();
    exit
}

async fn event_loop(
    model: &mut Model,
    term: &mut Term,
    sources: &mut mpsc::Receiver<Action>,
    options: &Options,
) -> std::io::Result<Exit> {
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let frame_gap = Duration::from_secs(1) / options.frame_rate.max(1);
    let mut next_frame = Instant::now();
    let mut batch = Vec::with_capacity(SOURCE_BATCH);
    let mut sources_open = true;
    let mut first_frame_drawn = false;
    let size = term.size()?;
    apply(model, term, options, Action::Resize(size.width, size.height))?;
    apply(model, term, options, Action::Tick(chrono::Utc::now()))?;

    while model.running {
        let frame_due = model.dirty;
        tokio::select! {
            biased;
            _ = hangup.recv() => return Ok(Exit::Signal("SIGHUP")),
            _ = terminate.recv() => return Ok(Exit::Signal("SIGTERM")),
            _ = interrupt.recv() => return Ok(Exit::Signal("SIGINT")),
            event = events.next() => match event {
                Some(Ok(event)) => {
                    if let Some(action) = input::event_to_action(model, event) {
                        apply(model, term, options, action)?;
                    }
                }
                // Read errors or end of input mean the terminal is gone; spinning on them helps nobody.
                Some(Err(err)) => return Ok(Exit::TerminalLost(err.to_string())),
                None => return Ok(Exit::TerminalLost("end of terminal input".into())),
            },
            received = sources.recv_many(&mut batch, SOURCE_BATCH), if sources_open => {
                if received == 0 {
                    sources_open = false;
                }
                for action in batch.drain(..) {
                    apply(model, term, options, action)?;
                }
            }
            _ = clock.tick() => {
                if terminal::is_hung_up() {
                    return Ok(Exit::TerminalLost("the terminal hung up".into()));
                }
                apply(model, term, options, Action::Tick(chrono::Utc::now()))?;
            }
            _ = tokio::time::sleep_until(next_frame), if frame_due => {
                if let Err(err) = term.draw(|frame| view::render(model, frame)) {
                    return Ok(Exit::TerminalLost(err.to_string()));
                }
                model.dirty = false;
                // Input is read and folded one event at a time in this task, so every key
                // folded after this was read after the frame reached the terminal.
                apply(model, term, options, Action::FrameDrawn)?;
                next_frame = Instant::now() + frame_gap;
                if !first_frame_drawn {
                    first_frame_drawn = true;
                    if options.panic_after_first_frame {
                        debug_panic(model, term, options)?;
                    }
                }
            }
        }
    }
    Ok(Exit::Quit)
}

/// Folds one action into the model and carries out the effects it asks for.
fn apply(model: &mut Model, term: &mut Term, options: &Options, action: Action) -> std::io::Result<()> {
    for effect in update(model, action, std::time::Instant::now()) {
        match effect {
            Effect::Tab(effect) => super::tabs::execute(effect, &options.services),
            Effect::Silence(effect) => super::silence::execute(effect, &options.services),
            Effect::Suspend => {
                terminal::suspend(term)?;
                if model.mouse {
                    terminal::set_mouse(true)?;
                }
                model.dirty = true;
            }
            Effect::Raw(bytes) => term.backend_mut().write_raw(bytes.as_bytes())?,
            Effect::Mouse(on) => terminal::set_mouse(on)?,
            #[cfg(debug_assertions)]
            Effect::PanicInThread => {
                let _ = std::thread::Builder::new()
                    .name("debug-panic".into())
                    .spawn(|| panic!("deliberate panic requested by FIRSTWATCH_DEBUG_PANIC"));
            }
        }
    }
    Ok(())
}

#[cfg(debug_assertions)]
fn debug_panic(model: &mut Model, term: &mut Term, options: &Options) -> std::io::Result<()> {
    apply(model, term, options, Action::DebugPanic)
}

#[cfg(not(debug_assertions))]
fn debug_panic(_model: &mut Model, _term: &mut Term, _options: &Options) -> std::io::Result<()> {
    Ok(())
}
