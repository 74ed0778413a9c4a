//! Between the engine's threads and the console: parses lines off the UI
//! thread and hands them over in batches without ever blocking.
//!
//! The console's channel is bounded. When it is full, lines wait here; when
//! too many wait, the oldest are dropped and counted, so a flood shows as
//! "N dropped" instead of stalling the follower or growing memory.

use super::{Batch, Item, Msg};
use crate::logs::follow::{FollowEvent, FollowOptions};
use crate::logs::source::{self, SourceSpec};
use crate::logs::split::RawLine;
use crate::tui::action::Action;
use crate::tui::tabs::TabMsg;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Sender;
use tokio::sync::mpsc::error::TrySendError;

/// How long lines may wait to be batched: short enough to feel live.
const BATCH_WINDOW: Duration = Duration::from_millis(40);
const BATCH_MAX: usize = 4096;
/// Lines held back while the console is busy, before the oldest are dropped.
const MAX_WAITING: usize = 50_000;

pub fn spawn(specs: Vec<SourceSpec>, console: Sender<Action>) -> std::io::Result<()> {
    let (out, events) = sync_channel(256);
    let running = source::start(&specs, FollowOptions::default(), true, out)?;
    std::thread::Builder::new().name("log-bridge".into()).spawn(move || {
        // The sources live as long as this thread: it ends when the console goes away.
        let _running = running;
        let mut waiting: VecDeque<Item> = VecDeque::new();
        let mut dropped = 0u64;
        let mut since: Option<Instant> = None;
        loop {
            let timeout = since.map_or(Duration::from_secs(3600), |t| BATCH_WINDOW.saturating_sub(t.elapsed()));
            match events.recv_timeout(timeout) {
                Ok(event) => {
                    since.get_or_insert_with(Instant::now);
                    add(&specs, event, &mut waiting);
                    while waiting.len() > MAX_WAITING {
                        // Drop the oldest line, never a state change or marker.
                        match waiting.iter().position(|item| matches!(item, Item::Line { .. })) {
                            Some(at) => {
                                waiting.remove(at);
                                dropped += 1;
                            }
                            None => break,
                        }
                    }
                    if waiting.len() < BATCH_MAX && since.is_some_and(|t| t.elapsed() < BATCH_WINDOW) {
                        continue;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if waiting.is_empty() {
                since = None;
                continue;
            }
            let take = waiting.len().min(BATCH_MAX);
            let batch = Batch { items: waiting.drain(..take).collect(), dropped };
            match console.try_send(Action::Msg(TabMsg::Logs(Msg::Batch(Arc::new(batch))))) {
                Ok(()) => {
                    dropped = 0;
                    since = if waiting.is_empty() { None } else { Some(Instant::now()) };
                }
                Err(TrySendError::Full(Action::Msg(TabMsg::Logs(Msg::Batch(batch))))) => {
                    // Put them back in front and try again after the next window.
                    let batch = Arc::try_unwrap(batch).unwrap_or_else(|shared| (*shared).clone());
                    for item in batch.items.into_iter().rev() {
                        waiting.push_front(item);
                    }
                    since = Some(Instant::now());
                }
                Err(_) => return,
            }
        }
    })?;
    Ok(())
}

fn add(specs: &[SourceSpec], event: FollowEvent, waiting: &mut VecDeque<Item>) {
    match event {
        FollowEvent::Lines { source, lines } => {
            let Some(spec) = specs.get(source) else { return };
            for line in lines {
                let parsed = spec.parser.parse(&line);
                waiting.push_back(Item::Line {
                    source,
                    level: parsed.level,
                    text: parsed.text,
                    written: parsed.written,
                });
            }
        }
        FollowEvent::Raw { source, bytes } => {
            // The console follows with lines; a block of them is split the same way.
            let whole = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
            let lines = whole.split(|b| *b == b'\n').map(|line| RawLine { bytes: line.to_vec(), cut: 0 }).collect();
            add(specs, FollowEvent::Lines { source, lines }, waiting);
        }
        FollowEvent::Marker { source, marker } => waiting.push_back(Item::Marker { source, marker }),
        FollowEvent::State { source, state } => waiting.push_back(Item::State { source, state }),
        FollowEvent::CaughtUp => waiting.push_back(Item::CaughtUp),
    }
}
