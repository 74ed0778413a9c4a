//! A view over followed sources: per-source ring buffers, the filtered list
//! in arrival order, follow/paused scrolling and search. No terminal here;
//! the tab draws what this holds and the benches drive it directly.

use super::filter::{Filter, LineText, Pattern};
use super::follow::{Marker, SourceState};
use super::level::Level;
use super::parse::Parsed;
use std::collections::VecDeque;

/// A line as kept in memory: its text is already sanitised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Arrival order across all sources.
    pub seq: u64,
    pub source: u16,
    pub level: Option<Level>,
    pub text: String,
    /// The line as written, when `text` shows it otherwise (JSON as `key=value`):
    /// searched and read by field filters, never drawn.
    pub written: Option<Box<str>>,
    /// A rotation/truncation/restart notice rather than a line of the log.
    pub marker: bool,
}

impl LogLine {
    /// Its text as written and as shown.
    pub fn texts(&self) -> LineText<'_> {
        LineText { written: self.written.as_deref().unwrap_or(&self.text), shown: &self.text }
    }
}

/// A theme role for highlight rules; the tab maps it to a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Ok,
    Warn,
    Crit,
    Accent,
    Muted,
    Info,
}

impl Role {
    pub fn parse(name: &str) -> Option<Role> {
        Some(match name {
            "ok" => Role::Ok,
            "warn" => Role::Warn,
            "crit" => Role::Crit,
            "accent" => Role::Accent,
            "muted" => Role::Muted,
            "info" => Role::Info,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Highlight {
    pub pattern: Pattern,
    pub role: Role,
}

/// Seconds of line counts kept for the rate sparkline.
pub const RATE_SECONDS: usize = 60;

#[derive(Debug)]
pub struct SourceView {
    pub name: String,
    pub state: Option<SourceState>,
    pub last_marker: Option<Marker>,
    pub markers: u64,
    pub highlights: Vec<Highlight>,
    /// Lines received in each of the last seconds, oldest first.
    pub rate: VecDeque<u64>,
    /// Lines at ERROR or above in the last minute.
    pub errors_last_minute: u64,
    error_seconds: VecDeque<u64>,
    this_second: u64,
    errors_this_second: u64,
    ring: VecDeque<LogLine>,
    /// Per-source index of the ring's first line.
    first_index: u64,
    capacity: usize,
    last_level: Option<Level>,
}

impl SourceView {
    pub fn new(name: impl Into<String>, capacity: usize, highlights: Vec<Highlight>) -> SourceView {
        SourceView {
            name: name.into(),
            state: None,
            last_marker: None,
            markers: 0,
            highlights,
            rate: VecDeque::from(vec![0; RATE_SECONDS]),
            errors_last_minute: 0,
            error_seconds: VecDeque::from(vec![0; RATE_SECONDS]),
            this_second: 0,
            errors_this_second: 0,
            ring: VecDeque::new(),
            first_index: 0,
            capacity: capacity.max(1),
            last_level: None,
        }
    }

    fn get(&self, index: u64) -> Option<&LogLine> {
        index.checked_sub(self.first_index).and_then(|offset| self.ring.get(offset as usize))
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether its rate or error count will still change as time passes.
    pub fn active(&self) -> bool {
        self.this_second > 0 || self.errors_last_minute > 0 || self.rate.iter().any(|r| *r > 0)
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineRef {
    seq: u64,
    source: u16,
    index: u64,
}

/// Where the view is: glued to the newest line, or held with `seq` as its last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Follow,
    Held { seq: u64 },
}

#[derive(Debug)]
pub struct LogView {
    pub sources: Vec<SourceView>,
    filtered: Vec<LineRef>,
    filter: Filter,
    /// One source at a time, or all merged.
    focus: Option<usize>,
    scroll: Scroll,
    search: Option<Pattern>,
    /// The line the last search jump landed on.
    current_match: Option<u64>,
    /// Shown lines matching the search, kept up to date as lines come and go.
    matches: usize,
    /// Which match (1-based, oldest first) `n`/`N` last moved to, for "match 3/80".
    match_position: Option<usize>,
    /// Lines that never reached the view because it could not keep up.
    pub dropped: u64,
    next_seq: u64,
    evicted: bool,
}

impl LogView {
    pub fn new(sources: Vec<SourceView>) -> LogView {
        let filter = Filter { hidden: vec![false; sources.len()], ..Filter::default() };
        LogView {
            sources,
            filtered: Vec::new(),
            filter,
            focus: None,
            scroll: Scroll::Follow,
            search: None,
            current_match: None,
            matches: 0,
            match_position: None,
            dropped: 0,
            next_seq: 0,
            evicted: false,
        }
    }

    /// Adds a parsed line of `source`, keeping how it was written when it is shown otherwise.
    pub fn push_parsed(&mut self, source: usize, parsed: Parsed) {
        self.add(source, parsed.level, parsed.text, parsed.written.map(String::into_boxed_str), false);
    }

    /// Adds a line of `source` shown as written (or a marker).
    pub fn push(&mut self, source: usize, level: Option<Level>, text: String, marker: bool) {
        self.add(source, level, text, None, marker);
    }

    /// Indented lines without a level of their own (stack traces) take the
    /// level of the line before them.
    fn add(&mut self, source: usize, level: Option<Level>, text: String, written: Option<Box<str>>, marker: bool) {
        let Some(view) = self.sources.get_mut(source) else { return };
        let level = match level {
            Some(level) => {
                view.last_level = Some(level);
                Some(level)
            }
            None if !marker && text.starts_with(char::is_whitespace) => view.last_level,
            None => {
                view.last_level = None;
                None
            }
        };
        if !marker {
            view.this_second += 1;
            if level.is_some_and(|l| l >= Level::Error) {
                view.errors_this_second += 1;
                view.errors_last_minute += 1;
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let index = view.first_index + view.ring.len() as u64;
        let full = view.ring.len() == view.capacity;
        let gone = if full { view.ring.pop_front() } else { None };
        if full {
            view.first_index += 1;
            self.evicted = true;
        }
        if let Some(gone) = gone
            && self.counts_as_match(&gone)
        {
            self.matches -= 1;
        }
        let view = &mut self.sources[source];
        view.ring.push_back(LogLine { seq, source: source as u16, level, text, written, marker });
        let Some(line) = self.sources[source].ring.back() else { return };
        if self.shows(line) {
            let found = self.search.as_ref().is_some_and(|pattern| line.texts().matches(pattern));
            self.filtered.push(LineRef { seq, source: source as u16, index });
            if found {
                self.matches += 1;
            }
        }
    }

    fn counts_as_match(&self, line: &LogLine) -> bool {
        self.search.as_ref().is_some_and(|pattern| self.shows(line) && line.texts().matches(pattern))
    }

    fn count_matches(&mut self) {
        self.matches = match &self.search {
            None => 0,
            Some(pattern) => {
                (0..self.filtered.len()).filter(|i| self.get(*i).is_some_and(|l| l.texts().matches(pattern))).count()
            }
        };
    }

    /// A rotation or truncation, kept as a line so it shows where it happened.
    pub fn mark(&mut self, source: usize, marker: Marker) {
        let Some(view) = self.sources.get_mut(source) else { return };
        view.last_marker = Some(marker);
        view.markers += 1;
        let text = format!("── {}: {} ──", view.name, marker.describe());
        self.push(source, None, text, true);
    }

    pub fn set_state(&mut self, source: usize, state: SourceState) {
        if let Some(view) = self.sources.get_mut(source) {
            view.state = Some(state);
        }
    }

    /// Drops filtered entries whose lines the rings let go; call after a batch.
    pub fn end_batch(&mut self) {
        if self.evicted {
            self.evicted = false;
            let sources = &self.sources;
            self.filtered.retain(|r| sources[r.source as usize].get(r.index).is_some());
        }
    }

    /// Once a second: moves the rate windows on.
    pub fn tick(&mut self) {
        for view in &mut self.sources {
            view.rate.pop_front();
            view.rate.push_back(std::mem::take(&mut view.this_second));
            let expired = view.error_seconds.pop_front().unwrap_or(0);
            view.error_seconds.push_back(std::mem::take(&mut view.errors_this_second));
            view.errors_last_minute = view.errors_last_minute.saturating_sub(expired);
        }
    }

    fn shows(&self, line: &LogLine) -> bool {
        let source = line.source as usize;
        self.focus.is_none_or(|focus| focus == source)
            && self.filter.keeps(source, line.level, line.texts(), line.marker)
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    pub fn focus(&self) -> Option<usize> {
        self.focus
    }

    /// Replaces the filter and rebuilds the list of shown lines.
    pub fn set_filter(&mut self, mut filter: Filter) {
        filter.hidden.resize(self.sources.len(), false);
        self.filter = filter;
        self.refilter();
    }

    /// One source alone, or all merged (`None`).
    pub fn set_focus(&mut self, focus: Option<usize>) {
        self.focus = focus.filter(|f| *f < self.sources.len());
        self.refilter();
    }

    /// Merged view, then each source alone, then merged again.
    pub fn cycle_focus(&mut self) {
        self.focus = match self.focus {
            None if !self.sources.is_empty() => Some(0),
            Some(i) if i + 1 < self.sources.len() => Some(i + 1),
            _ => None,
        };
        self.refilter();
    }

    pub fn refilter(&mut self) {
        // Each ring is already in arrival order: filter them one by one, then merge.
        let mut runs: Vec<Vec<LineRef>> = Vec::with_capacity(self.sources.len());
        for (source, view) in self.sources.iter().enumerate() {
            let mut run = Vec::new();
            for (offset, line) in view.ring.iter().enumerate() {
                if self.shows(line) {
                    run.push(LineRef { seq: line.seq, source: source as u16, index: view.first_index + offset as u64 });
                }
            }
            runs.push(run);
        }
        self.filtered = merge_runs(runs);
        self.count_matches();
    }

    /// How many lines the filter keeps.
    pub fn len(&self) -> usize {
        self.filtered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.filtered.is_empty()
    }

    /// The `i`th shown line, oldest first.
    pub fn get(&self, i: usize) -> Option<&LogLine> {
        let r = self.filtered.get(i)?;
        self.sources.get(r.source as usize)?.get(r.index)
    }

    /// Lines buffered in all sources.
    pub fn buffered(&self) -> usize {
        self.sources.iter().map(SourceView::len).sum()
    }

    pub fn scroll(&self) -> Scroll {
        self.scroll
    }

    pub fn following(&self) -> bool {
        self.scroll == Scroll::Follow
    }

    /// The index of the last line on screen.
    pub fn bottom(&self) -> Option<usize> {
        let last = self.filtered.len().checked_sub(1)?;
        match self.scroll {
            Scroll::Follow => Some(last),
            Scroll::Held { seq } => Some(match self.filtered.binary_search_by_key(&seq, |r| r.seq) {
                Ok(i) => i,
                Err(i) => i.saturating_sub(1),
            }),
        }
    }

    /// Lines after the screen's last line while scrolled back.
    pub fn pending(&self) -> usize {
        match (self.scroll, self.bottom()) {
            (Scroll::Held { .. }, Some(bottom)) => self.filtered.len() - 1 - bottom,
            _ => 0,
        }
    }

    fn hold_at(&mut self, index: usize) {
        match self.filtered.get(index) {
            Some(r) if index + 1 < self.filtered.len() => self.scroll = Scroll::Held { seq: r.seq },
            _ => self.scroll = Scroll::Follow,
        }
    }

    /// Moves back (towards older lines); this leaves follow mode.
    pub fn scroll_up(&mut self, lines: usize) {
        if let Some(bottom) = self.bottom() {
            let target = bottom.saturating_sub(lines);
            // Held even at the very end, so new lines do not move the screen.
            self.scroll = Scroll::Held { seq: self.filtered[target].seq };
        }
    }

    /// Moves forward; reaching the newest line resumes following.
    pub fn scroll_down(&mut self, lines: usize) {
        if let Some(bottom) = self.bottom() {
            self.hold_at(bottom + lines);
        }
    }

    /// Shows the oldest lines: `page` is the screen height.
    pub fn top(&mut self, page: usize) {
        if !self.filtered.is_empty() {
            let index = page.saturating_sub(1).min(self.filtered.len() - 1);
            self.scroll = Scroll::Held { seq: self.filtered[index].seq };
        }
    }

    /// Freezes the screen where it is (pause), or resumes following.
    pub fn toggle_pause(&mut self) {
        match self.scroll {
            Scroll::Follow => self.scroll_up(0),
            Scroll::Held { .. } => self.follow(),
        }
    }

    pub fn follow(&mut self) {
        self.scroll = Scroll::Follow;
    }

    pub fn search(&self) -> Option<&Pattern> {
        self.search.as_ref()
    }

    pub fn current_match(&self) -> Option<u64> {
        self.current_match
    }

    pub fn set_search(&mut self, pattern: Option<Pattern>) {
        self.search = pattern;
        self.current_match = None;
        self.match_position = None;
        self.count_matches();
    }

    /// Jumps to the next (`forward`) or previous match from the current one
    /// (or from the screen's last line). Returns false when there is none.
    pub fn find(&mut self, forward: bool, page: usize) -> bool {
        let Some(pattern) = &self.search else { return false };
        let from = match self.current_match {
            Some(seq) => match self.filtered.binary_search_by_key(&seq, |r| r.seq) {
                Ok(i) | Err(i) => i,
            },
            None => self.bottom().map_or(0, |b| if forward { b.saturating_sub(page) } else { b + 1 }),
        };
        let hit = |i: &usize| self.get(*i).is_some_and(|line| line.texts().matches(pattern));
        let found = if forward {
            let start = if self.current_match.is_some() { from + 1 } else { from };
            (start..self.filtered.len()).find(hit)
        } else {
            (0..from.min(self.filtered.len())).rev().find(hit)
        };
        let Some(index) = found else { return false };
        // Counted once per jump, not per frame: the matches above this one.
        let position = (0..index).filter(hit).count() + 1;
        self.match_position = Some(position);
        self.current_match = Some(self.filtered[index].seq);
        // Keep the match in the middle of the screen where possible.
        let bottom = (index + page / 2).min(self.filtered.len() - 1);
        self.scroll = Scroll::Held { seq: self.filtered[bottom].seq };
        true
    }

    /// How many shown lines match the search.
    pub fn match_count(&self) -> usize {
        self.matches
    }

    /// The current match's place among them, once `n`/`N` has moved to one.
    pub fn match_position(&self) -> Option<usize> {
        self.match_position.filter(|_| self.current_match.is_some())
    }
}

/// Merges runs that are each sorted by `seq` into one sorted list.
fn merge_runs(mut runs: Vec<Vec<LineRef>>) -> Vec<LineRef> {
    runs.retain(|run| !run.is_empty());
    if runs.len() <= 1 {
        return runs.pop().unwrap_or_default();
    }
    let total = runs.iter().map(Vec::len).sum();
    let mut merged = Vec::with_capacity(total);
    let mut heads = vec![0usize; runs.len()];
    while merged.len() < total {
        // A handful of sources: a linear scan for the smallest head beats a heap.
        let mut best: Option<(usize, u64)> = None;
        for (run, head) in heads.iter().enumerate() {
            if let Some(line) = runs[run].get(*head)
                && best.is_none_or(|(_, seq)| line.seq < seq)
            {
                best = Some((run, line.seq));
            }
        }
        let Some((run, _)) = best else { break };
        merged.push(runs[run][heads[run]]);
        heads[run] += 1;
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view_with(lines: &[(usize, &str)], capacity: usize) -> LogView {
        let sources = vec![SourceView::new("a", capacity, vec![]), SourceView::new("b", capacity, vec![])];
        let mut view = LogView::new(sources);
        for (source, text) in lines {
            view.push(*source, super::super::level::detect(text), text.to_string(), false);
        }
        view.end_batch();
        view
    }

    fn texts(view: &LogView) -> Vec<String> {
        (0..view.len()).map(|i| view.get(i).unwrap().text.clone()).collect()
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_of_each_source() {
        let mut view = view_with(&[], 3);
        for n in 0..10 {
            view.push(0, None, format!("a{n}"), false);
            view.push(1, None, format!("b{n}"), false);
        }
        view.end_batch();
        assert_eq!(texts(&view), vec!["a7", "b7", "a8", "b8", "a9", "b9"]);
        assert_eq!(view.buffered(), 6);
        view.set_search(Pattern::new("a"));
        assert_eq!(view.match_count(), 3);
        view.push(1, None, "b10".into(), false);
        view.push(0, None, "a10".into(), false);
        assert_eq!(view.match_count(), 3, "an evicted match is no longer counted");
    }

    #[test]
    fn filters_rebuild_the_merged_list_in_arrival_order() {
        let mut view = view_with(&[(0, "INFO one"), (1, "ERROR two"), (0, "  at trace"), (1, "WARN three")], 10);
        view.set_filter(Filter { floor: Some(Level::Warn), ..Filter::default() });
        assert_eq!(texts(&view), vec!["ERROR two", "WARN three"]);
        view.set_filter(Filter { pattern: Pattern::new("t[wh]"), ..Filter::default() });
        assert_eq!(texts(&view), vec!["ERROR two", "WARN three"]);
        view.set_filter(Filter::default());
        view.cycle_focus();
        assert_eq!(texts(&view), vec!["INFO one", "  at trace"]);
        assert_eq!(view.get(1).unwrap().level, Some(Level::Info), "indented lines inherit the level");
    }

    #[test]
    fn scrolling_up_holds_the_screen_and_counts_new_lines() {
        let mut view = view_with(&[(0, "1"), (0, "2"), (0, "3")], 10);
        view.scroll_up(1);
        assert_eq!(view.bottom(), Some(1));
        view.push(0, None, "4".into(), false);
        view.push(0, None, "5".into(), false);
        assert_eq!(view.bottom(), Some(1), "new lines do not move a held screen");
        assert_eq!(view.pending(), 3);
        view.scroll_down(10);
        assert!(view.following());
        assert_eq!(view.pending(), 0);
    }

    #[test]
    fn search_walks_matches_forwards_and_backwards() {
        let mut view = view_with(&[(0, "x timeout 1"), (0, "ok"), (1, "x timeout 2"), (0, "ok"), (0, "timeout 3")], 10);
        view.set_search(Pattern::new("timeout"));
        assert_eq!(view.match_count(), 3);
        assert!(view.find(false, 2));
        assert_eq!(view.current_match(), Some(4));
        assert!(view.find(false, 2));
        assert_eq!(view.current_match(), Some(2));
        assert!(view.find(false, 2));
        assert_eq!(view.current_match(), Some(0));
        assert!(!view.find(false, 2), "nothing before the first match");
        assert!(view.find(true, 2));
        assert_eq!(view.current_match(), Some(2));
        assert!(!view.following());
        view.push(0, None, "late timeout".into(), false);
        assert_eq!(view.match_count(), 4, "counted as lines arrive");
    }
}
