//! A view over followed sources: per-source ring buffers, the filtered list
//! in arrival order, follow/paused scrolling and search. No terminal here;
//! the tab draws what this holds and the benches drive it directly.

use super::filter::{Filter, Pattern};
use super::follow::{Marker, SourceState};
use super::level::Level;
use super::parse::Parsed;
use super::store::LineStore;
use crate::util::budget::Budget;
use std::collections::VecDeque;
use std::sync::Arc;

pub use super::store::LogLine;

/// Bytes charged per buffered line for its place in the list of shown lines:
/// an 8-byte reference, twice over for the list's spare room.
const SHOWN_BYTES_PER_LINE: usize = 16;

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
    /// Older lines let go to keep every source within the memory budget
    /// (not counting those beyond its own `buffer_lines`).
    pub budget_dropped: u64,
    lines: LineStore,
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
            budget_dropped: 0,
            lines: LineStore::new(0, capacity),
            last_level: None,
        }
    }

    fn get(&self, index: u64) -> Option<LogLine<'_>> {
        self.lines.get(index)
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Bytes its lines take: text, records, and their place in the shown list.
    pub fn memory(&self) -> usize {
        self.lines.heap_bytes() + self.lines.len() * SHOWN_BYTES_PER_LINE
    }

    /// Whether its rate or error count will still change as time passes.
    pub fn active(&self) -> bool {
        self.this_second > 0 || self.errors_last_minute > 0 || self.rate.iter().any(|r| *r > 0)
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// A shown line: its source (high 16 bits) and its index in that source (low
/// 48 bits: nine years of one source at a million lines a second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineRef(u64);

const INDEX_BITS: u32 = 48;

impl LineRef {
    fn new(source: u16, index: u64) -> LineRef {
        LineRef((u64::from(source) << INDEX_BITS) | (index & ((1 << INDEX_BITS) - 1)))
    }

    fn source(self) -> usize {
        (self.0 >> INDEX_BITS) as usize
    }

    fn index(self) -> u64 {
        self.0 & ((1 << INDEX_BITS) - 1)
    }
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
    /// Most bytes every source's lines may take together: what the console's
    /// budget leaves after its fixed windows.
    budget: Arc<Budget>,
    /// What they take now: the sum of [`SourceView::memory`].
    used: usize,
}

impl LogView {
    pub fn new(mut sources: Vec<SourceView>) -> LogView {
        for (source, view) in sources.iter_mut().enumerate() {
            view.lines.set_source(source as u16);
        }
        let filter = Filter { hidden: vec![false; sources.len()], ..Filter::default() };
        let used = sources.iter().map(SourceView::memory).sum();
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
            budget: Arc::new(Budget::default()),
            used,
        }
    }

    /// Sets a memory budget of its own, dropping old lines at once if over it.
    pub fn set_budget(&mut self, bytes: u64) {
        self.share_budget(Budget::new(bytes));
    }

    /// Takes what the console's budget (`settings.memory_budget`) leaves after
    /// its fixed windows, dropping old lines at once if over it.
    pub fn share_budget(&mut self, budget: Arc<Budget>) {
        self.budget = budget;
        self.enforce_budget();
        self.end_batch();
    }

    /// Bytes the lines may take now.
    pub fn budget(&self) -> usize {
        self.budget.for_logs()
    }

    /// Bytes the buffered lines take, as the budget counts them.
    pub fn memory(&self) -> usize {
        self.used
    }

    /// Adds a parsed line of `source`, keeping how it was written when it is shown otherwise.
    pub fn push_parsed(&mut self, source: usize, parsed: Parsed) {
        self.add(source, parsed.level, &parsed.text, parsed.written.as_deref(), false);
    }

    /// Adds a line of `source` shown as written (or a marker).
    pub fn push(&mut self, source: usize, level: Option<Level>, text: String, marker: bool) {
        self.add(source, level, &text, None, marker);
    }

    /// Indented lines without a level of their own (stack traces) take the
    /// level of the line before them.
    fn add(&mut self, source: usize, level: Option<Level>, text: &str, written: Option<&str>, marker: bool) {
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
        let before = view.memory();
        if view.lines.is_full() {
            self.drop_oldest(source);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let view = &mut self.sources[source];
        let index = view.lines.next_index();
        view.lines.push(seq, level, marker, text, written);
        self.used = self.used - before + view.memory();
        if let Some(line) = self.sources[source].lines.back()
            && self.shows(&line)
        {
            if self.search.as_ref().is_some_and(|pattern| line.texts().matches(pattern)) {
                self.matches += 1;
            }
            self.filtered.push(LineRef::new(source as u16, index));
        }
        if self.used > self.budget() {
            self.enforce_budget();
        }
    }

    /// Drops the oldest line of `source`, keeping the match count right; the
    /// caller accounts for the memory.
    fn drop_oldest(&mut self, source: usize) {
        let view = &self.sources[source];
        if view.lines.front().is_some_and(|gone| self.counts_as_match(&gone)) {
            self.matches -= 1;
        }
        self.sources[source].lines.pop_front();
        self.evicted = true;
    }

    /// While over the budget, the source holding the most bytes lets go of its
    /// oldest lines, a chunk of text at a time (so the memory is really freed).
    fn enforce_budget(&mut self) {
        let limit = self.budget();
        while self.used > limit {
            let busiest = (0..self.sources.len())
                .filter(|&s| !self.sources[s].is_empty())
                .max_by_key(|&s| self.sources[s].memory());
            let Some(source) = busiest else { break };
            let before = self.sources[source].memory();
            let lines = self.sources[source].lines.oldest_chunk_lines();
            for _ in 0..lines {
                self.drop_oldest(source);
            }
            let view = &mut self.sources[source];
            view.budget_dropped += lines as u64;
            self.used = self.used - before + view.memory();
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

    /// Drops shown entries whose lines are gone; call after a batch.
    pub fn end_batch(&mut self) {
        if self.evicted {
            self.evicted = false;
            let sources = &self.sources;
            self.filtered.retain(|r| sources[r.source()].get(r.index()).is_some());
            // Lines dropped for the budget give back the list's room as well.
            let len = self.filtered.len();
            if self.filtered.capacity() > 2 * len {
                self.filtered.shrink_to(len + len / 2);
            }
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
        // Each source is already in arrival order: filter them one by one, then merge.
        let mut runs: Vec<Vec<(u64, LineRef)>> = Vec::with_capacity(self.sources.len());
        for (source, view) in self.sources.iter().enumerate() {
            let run = view
                .lines
                .iter()
                .filter(|(_, line)| self.shows(line))
                .map(|(index, line)| (line.seq, LineRef::new(source as u16, index)))
                .collect();
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
    pub fn get(&self, i: usize) -> Option<LogLine<'_>> {
        let r = self.filtered.get(i)?;
        self.sources.get(r.source())?.get(r.index())
    }

    /// The arrival number of the `i`th shown line.
    fn seq(&self, i: usize) -> Option<u64> {
        let r = self.filtered.get(i)?;
        self.sources.get(r.source())?.lines.seq(r.index())
    }

    /// Where the line with `seq` is (`Ok`) or would be (`Err`) among the shown lines.
    fn position(&self, seq: u64) -> Result<usize, usize> {
        let sources = &self.sources;
        self.filtered.binary_search_by_key(&seq, |r| sources[r.source()].lines.seq(r.index()).unwrap_or(0))
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
            Scroll::Held { seq } => Some(match self.position(seq) {
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
        match self.seq(index) {
            Some(seq) if index + 1 < self.filtered.len() => self.scroll = Scroll::Held { seq },
            _ => self.scroll = Scroll::Follow,
        }
    }

    /// Moves back (towards older lines); this leaves follow mode.
    pub fn scroll_up(&mut self, lines: usize) {
        if let Some(bottom) = self.bottom()
            && let Some(seq) = self.seq(bottom.saturating_sub(lines))
        {
            // Held even at the very end, so new lines do not move the screen.
            self.scroll = Scroll::Held { seq };
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
        if !self.filtered.is_empty()
            && let Some(seq) = self.seq(page.saturating_sub(1).min(self.filtered.len() - 1))
        {
            self.scroll = Scroll::Held { seq };
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
            Some(seq) => match self.position(seq) {
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
        self.current_match = self.seq(index);
        // Keep the match in the middle of the screen where possible.
        let bottom = (index + page / 2).min(self.filtered.len() - 1);
        if let Some(seq) = self.seq(bottom) {
            self.scroll = Scroll::Held { seq };
        }
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
fn merge_runs(mut runs: Vec<Vec<(u64, LineRef)>>) -> Vec<LineRef> {
    runs.retain(|run| !run.is_empty());
    if runs.len() <= 1 {
        return runs.pop().unwrap_or_default().into_iter().map(|(_, r)| r).collect();
    }
    let total = runs.iter().map(Vec::len).sum();
    let mut merged = Vec::with_capacity(total);
    let mut heads = vec![0usize; runs.len()];
    while merged.len() < total {
        // A handful of sources: a linear scan for the smallest head beats a heap.
        let mut best: Option<(usize, u64)> = None;
        for (run, head) in heads.iter().enumerate() {
            if let Some((seq, _)) = runs[run].get(*head)
                && best.is_none_or(|(_, best_seq)| *seq < best_seq)
            {
                best = Some((run, *seq));
            }
        }
        let Some((run, _)) = best else { break };
        merged.push(runs[run][heads[run]].1);
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
        (0..view.len()).map(|i| view.get(i).unwrap().text.to_string()).collect()
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
        assert!(view.sources.iter().all(|s| s.budget_dropped == 0), "buffer_lines drops are not budget drops");
    }

    /// A 100-byte line numbered `n`.
    fn hundred_bytes(n: u64) -> String {
        format!("{n:08} {}", "x".repeat(91))
    }

    fn recounted_matches(view: &LogView) -> usize {
        let pattern = view.search().unwrap();
        (0..view.len()).filter(|i| view.get(*i).unwrap().texts().matches(pattern)).count()
    }

    #[test]
    fn the_budget_bounds_all_sources_together() {
        let sources = (0..3).map(|i| SourceView::new(format!("s{i}"), 10_000_000, vec![])).collect();
        let mut view = LogView::new(sources);
        view.set_budget(1 << 20);
        view.set_search(Pattern::new("7 x"));
        for n in 0..60_000u64 {
            // One source writes three lines for each of the others' one.
            let source = [0, 0, 0, 1, 2][(n % 5) as usize];
            view.push(source, None, hundred_bytes(n), false);
            assert!(view.memory() <= view.budget(), "line {n}: {} bytes", view.memory());
            if n % 1000 == 999 {
                view.end_batch();
            }
        }
        view.end_batch();
        let counted: usize = view.sources.iter().map(SourceView::memory).sum();
        assert_eq!(view.memory(), counted, "the running total matches the sources");
        assert!(view.memory() > view.budget() / 2, "the budget is used, not emptied");
        assert!(view.sources[0].budget_dropped > 0);
        assert_eq!(view.len(), view.buffered(), "dropped lines left the shown list");
        assert_eq!(view.match_count(), recounted_matches(&view), "dropped matches are no longer counted");
    }

    #[test]
    fn lines_take_what_the_fixed_windows_leave_of_a_shared_budget() {
        let budget = Budget::new(4 << 20);
        let mut view = LogView::new(vec![SourceView::new("flood", 10_000_000, vec![])]);
        view.share_budget(budget.clone());
        let mut n = 0u64;
        // Writes `lines` more lines and answers the last one.
        let mut fill = |view: &mut LogView, lines: u64| {
            for _ in 0..lines {
                view.push(0, None, hundred_bytes(n), false);
                n += 1;
            }
            view.end_batch();
            hundred_bytes(n - 1)
        };
        fill(&mut view, 60_000);
        assert!(view.memory() > 3 << 20, "the whole budget is used: {}", view.memory());
        // The history of the checks and the run pane start: the lines give way.
        let windows = budget.reserve(3 << 20);
        let newest = fill(&mut view, 1);
        assert!(view.memory() <= 1 << 20, "{} bytes beside 3 MiB of windows", view.memory());
        assert_eq!(texts(&view).last(), Some(&newest), "the newest line stays");
        drop(windows);
        fill(&mut view, 30_000);
        assert!(view.memory() > 3 << 20, "room given back is used again: {}", view.memory());
    }

    #[test]
    fn over_the_budget_the_source_holding_most_loses_its_oldest_lines() {
        let sources = vec![SourceView::new("flood", 10_000_000, vec![]), SourceView::new("quiet", 100_000, vec![])];
        let mut view = LogView::new(sources);
        view.set_budget(1 << 20);
        for n in 0..100 {
            view.push(1, None, format!("quiet {n}"), false);
        }
        let flood = 30_000u64;
        for n in 0..flood {
            view.push(0, None, hundred_bytes(n), false);
        }
        view.end_batch();
        let (flood_view, quiet) = (&view.sources[0], &view.sources[1]);
        assert_eq!(quiet.len(), 100, "the quiet source keeps every line");
        assert_eq!(quiet.budget_dropped, 0);
        assert_eq!(flood_view.budget_dropped + flood_view.len() as u64, flood);
        assert!(flood_view.budget_dropped > 0);
        // What is left of the flood is its newest lines, in order, up to the last one.
        let kept: Vec<String> = texts(&view).into_iter().filter(|t| !t.starts_with("quiet")).collect();
        let first = flood - kept.len() as u64;
        assert_eq!(kept.first(), Some(&hundred_bytes(first)));
        assert_eq!(kept.last(), Some(&hundred_bytes(flood - 1)));
        assert_eq!(texts(&view)[0], "quiet 0", "the merged view still starts with the oldest quiet line");
    }

    #[test]
    fn a_smaller_budget_applies_at_once() {
        let mut view = view_with(&[], 100_000);
        for n in 0..20_000 {
            view.push(0, None, hundred_bytes(n), false);
        }
        view.end_batch();
        assert_eq!(view.sources[0].budget_dropped, 0, "the default budget holds 20,000 short lines");
        view.set_budget(1 << 20);
        assert!(view.memory() <= 1 << 20);
        assert!(view.sources[0].budget_dropped > 0);
        assert_eq!(view.len(), view.buffered());
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
