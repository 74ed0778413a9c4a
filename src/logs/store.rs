//! One source's lines, stored compactly: their text in a few large chunks and
//! a 24-byte record per line that points into them.
//!
//! ```text
//! records  [seq+flags │ chunk │ offset │ text len │ written len] [...] [...]   oldest first
//!                        │        │
//! chunks   ┌─────────────▼────────▼──────────────┐┌──────────────────┐
//!          │ line 0 │ line 1 (shown│written) │ … ││ line 540 │ …     │        64 KiB each
//!          └─────────────────────────────────────┘└──────────────────┘
//! ```
//!
//! A line never spans two chunks, so its text is always one `&str`. The oldest
//! chunk is freed once none of its lines is left. The record list grows with
//! the lines held, up to the source's `buffer_lines`: that setting is a
//! ceiling, not a reservation.

use super::level::Level;
use std::collections::VecDeque;

/// Text bytes per chunk; a longer line gets a chunk of its own size.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// The record list's first allocation, in lines.
const MIN_RECORDS: usize = 64;

/// A line as kept in memory, borrowed from its source's store. Its text is
/// already sanitised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// Arrival order across all sources.
    pub seq: u64,
    pub source: u16,
    pub level: Option<Level>,
    pub text: &'a str,
    /// The line as written, when `text` shows it otherwise (JSON as `key=value`):
    /// searched and read by field filters, never drawn.
    pub written: Option<&'a str>,
    /// A rotation/truncation/restart notice rather than a line of the log.
    pub marker: bool,
}

impl<'a> LogLine<'a> {
    /// Its text as written and as shown.
    pub fn texts(&self) -> super::filter::LineText<'a> {
        super::filter::LineText { written: self.written.unwrap_or(self.text), shown: self.text }
    }
}

// `Record::tagged` holds the sequence number in its low bits and these above it.
const SEQ_BITS: u32 = 56;
const SEQ_MASK: u64 = (1 << SEQ_BITS) - 1;
const LEVEL_SHIFT: u32 = SEQ_BITS;
const LEVEL_MASK: u64 = 0b111;
const HAS_WRITTEN: u64 = 1 << 62;
const MARKER: u64 = 1 << 63;

#[derive(Debug, Clone, Copy)]
struct Record {
    /// The sequence number (56 bits: centuries at a million lines a second),
    /// the level (3 bits, 0 for none), whether a written text follows, and the marker flag.
    tagged: u64,
    /// The chunk holding the text, numbered from the source's first chunk (wrapping).
    chunk: u32,
    offset: u32,
    text_len: u32,
    /// The written text's length; it follows the shown text in the chunk.
    written_len: u32,
}

impl Record {
    fn seq(self) -> u64 {
        self.tagged & SEQ_MASK
    }

    fn level(self) -> Option<Level> {
        let code = (self.tagged >> LEVEL_SHIFT) & LEVEL_MASK;
        code.checked_sub(1).and_then(|i| Level::ALL.get(i as usize)).copied()
    }
}

fn level_code(level: Option<Level>) -> u64 {
    level.and_then(|l| Level::ALL.iter().position(|x| *x == l)).map_or(0, |i| i as u64 + 1)
}

/// At most `u32::MAX` bytes of `text`, cut at a character boundary. Lines are
/// capped far below this (`max_line_bytes`); this only keeps the lengths honest.
fn clamp(text: &str) -> &str {
    let mut end = text.len().min(u32::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[derive(Debug)]
pub struct LineStore {
    source: u16,
    records: VecDeque<Record>,
    chunks: VecDeque<String>,
    /// The number of `chunks[0]`.
    first_chunk: u32,
    /// Per-source index of `records[0]`: indexes stay valid as old lines go.
    first_index: u64,
    /// The capacity of every chunk together.
    chunk_bytes: usize,
    /// Most lines held (`buffer_lines`).
    limit: usize,
}

impl LineStore {
    pub fn new(source: u16, limit: usize) -> LineStore {
        LineStore {
            source,
            records: VecDeque::new(),
            chunks: VecDeque::new(),
            first_chunk: 0,
            first_index: 0,
            chunk_bytes: 0,
            limit: limit.max(1),
        }
    }

    /// The source id its lines report (the view numbers its sources).
    pub fn set_source(&mut self, source: u16) {
        self.source = source;
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether the next line pushes the oldest out.
    pub fn is_full(&self) -> bool {
        self.records.len() >= self.limit
    }

    /// The index the next line will get.
    pub fn next_index(&self) -> u64 {
        self.first_index + self.records.len() as u64
    }

    /// Bytes allocated for the lines: chunks and records, spare room included.
    pub fn heap_bytes(&self) -> usize {
        self.chunk_bytes + self.records.capacity() * std::mem::size_of::<Record>()
    }

    pub fn get(&self, index: u64) -> Option<LogLine<'_>> {
        let offset = index.checked_sub(self.first_index)?;
        self.line(*self.records.get(usize::try_from(offset).ok()?)?)
    }

    pub fn seq(&self, index: u64) -> Option<u64> {
        let offset = index.checked_sub(self.first_index)?;
        self.records.get(usize::try_from(offset).ok()?).map(|r| r.seq())
    }

    pub fn front(&self) -> Option<LogLine<'_>> {
        self.records.front().and_then(|r| self.line(*r))
    }

    pub fn back(&self) -> Option<LogLine<'_>> {
        self.records.back().and_then(|r| self.line(*r))
    }

    /// Every line with its index, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (u64, LogLine<'_>)> + '_ {
        self.records.iter().zip(self.first_index..).filter_map(|(r, index)| Some((index, self.line(*r)?)))
    }

    fn line(&self, record: Record) -> Option<LogLine<'_>> {
        let chunk = self.chunks.get(record.chunk.wrapping_sub(self.first_chunk) as usize)?;
        let start = record.offset as usize;
        let middle = start + record.text_len as usize;
        let text = chunk.get(start..middle)?;
        let written = if record.tagged & HAS_WRITTEN != 0 {
            Some(chunk.get(middle..middle + record.written_len as usize)?)
        } else {
            None
        };
        Some(LogLine {
            seq: record.seq(),
            source: self.source,
            level: record.level(),
            text,
            written,
            marker: record.tagged & MARKER != 0,
        })
    }

    /// Adds a line; the caller makes room first when the store [`is_full`](Self::is_full).
    pub fn push(&mut self, seq: u64, level: Option<Level>, marker: bool, text: &str, written: Option<&str>) {
        let text = clamp(text);
        let written = written.map(clamp);
        let need = text.len() + written.map_or(0, str::len);
        let fits = self.chunks.back().is_some_and(|chunk| chunk.capacity() - chunk.len() >= need);
        if !fits {
            let chunk = String::with_capacity(need.max(CHUNK_BYTES));
            self.chunk_bytes += chunk.capacity();
            self.chunks.push_back(chunk);
        }
        let number = self.first_chunk.wrapping_add(self.chunks.len() as u32 - 1);
        let Some(chunk) = self.chunks.back_mut() else { return };
        // Offsets fit in u32: a chunk is CHUNK_BYTES or one clamped line long.
        let offset = chunk.len() as u32;
        chunk.push_str(text);
        chunk.push_str(written.unwrap_or(""));
        if self.records.len() == self.records.capacity() {
            // Doubling, but never past the limit: a quiet source keeps a small list.
            let len = self.records.len();
            let target = (len * 2).max(MIN_RECORDS).min(self.limit).max(len + 1);
            self.records.reserve_exact(target - len);
        }
        let mut tagged = (seq & SEQ_MASK) | (level_code(level) << LEVEL_SHIFT);
        if written.is_some() {
            tagged |= HAS_WRITTEN;
        }
        if marker {
            tagged |= MARKER;
        }
        self.records.push_back(Record {
            tagged,
            chunk: number,
            offset,
            text_len: text.len() as u32,
            written_len: written.map_or(0, |w| w.len() as u32),
        });
    }

    /// Drops the oldest line, and the chunks no remaining line uses.
    pub fn pop_front(&mut self) -> bool {
        if self.records.pop_front().is_none() {
            return false;
        }
        self.first_index += 1;
        let unused = match self.records.front() {
            Some(oldest) => oldest.chunk.wrapping_sub(self.first_chunk) as usize,
            None => self.chunks.len(),
        };
        for _ in 0..unused {
            if let Some(chunk) = self.chunks.pop_front() {
                self.chunk_bytes -= chunk.capacity();
                self.first_chunk = self.first_chunk.wrapping_add(1);
            }
        }
        // Lines dropped for the budget give their records' room back too.
        let len = self.records.len();
        if self.records.capacity() > 2 * len + MIN_RECORDS {
            self.records.shrink_to(len + len / 2);
        }
        true
    }

    /// How many of the oldest lines share the oldest chunk: dropping them frees it.
    pub fn oldest_chunk_lines(&self) -> usize {
        let Some(first) = self.records.front().map(|r| r.chunk) else { return 0 };
        self.records.iter().take_while(|r| r.chunk == first).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_as_pushed_with_their_flags() {
        let mut store = LineStore::new(3, 100);
        store.push(7, Some(Level::Warn), false, "shown", Some("{\"written\":1}"));
        store.push(8, None, true, "── rotated ──", None);
        store.push(9, Some(Level::Fatal), false, "", Some(""));
        let lines: Vec<LogLine> = store.iter().map(|(_, line)| line).collect();
        assert_eq!(lines[0].seq, 7);
        assert_eq!(lines[0].source, 3);
        assert_eq!(lines[0].level, Some(Level::Warn));
        assert_eq!((lines[0].text, lines[0].written), ("shown", Some("{\"written\":1}")));
        assert!(!lines[0].marker && lines[1].marker);
        assert_eq!((lines[1].level, lines[1].written), (None, None));
        assert_eq!((lines[2].text, lines[2].written, lines[2].level), ("", Some(""), Some(Level::Fatal)));
    }

    #[test]
    fn a_chunk_is_freed_when_its_last_line_goes() {
        let mut store = LineStore::new(0, 1_000_000);
        let line = "x".repeat(1000);
        // 65 lines of 1000 bytes fill one 64 KiB chunk and start a second.
        for seq in 0..66 {
            store.push(seq, None, false, &line, None);
        }
        assert_eq!(store.chunk_bytes, 2 * CHUNK_BYTES);
        assert_eq!(store.oldest_chunk_lines(), 65);
        for _ in 0..64 {
            store.pop_front();
        }
        assert_eq!(store.chunk_bytes, 2 * CHUNK_BYTES, "one line still uses the first chunk");
        store.pop_front();
        assert_eq!(store.chunk_bytes, CHUNK_BYTES);
        assert_eq!(store.get(65).map(|l| l.seq), Some(65));
        assert_eq!(store.get(64), None, "gone lines are gone");
        store.pop_front();
        assert_eq!(store.heap_bytes(), store.records.capacity() * std::mem::size_of::<Record>());
        assert_eq!(store.chunk_bytes, 0, "an empty store holds no text");
    }

    #[test]
    fn a_line_longer_than_a_chunk_gets_its_own() {
        let mut store = LineStore::new(0, 10);
        let long = "é".repeat(CHUNK_BYTES);
        store.push(0, None, false, "short", None);
        store.push(1, None, false, &long, None);
        store.push(2, None, false, "after", None);
        assert_eq!(store.get(1).map(|l| l.text.len()), Some(2 * CHUNK_BYTES));
        assert_eq!(store.get(2).map(|l| l.text), Some("after"));
        assert_eq!(store.chunk_bytes, CHUNK_BYTES + 2 * CHUNK_BYTES + CHUNK_BYTES);
    }

    #[test]
    fn records_grow_to_the_limit_and_no_further() {
        let mut store = LineStore::new(0, 100);
        assert_eq!(store.heap_bytes(), 0, "nothing is reserved up front");
        for seq in 0..100 {
            store.push(seq, None, false, "line", None);
        }
        assert!(store.is_full());
        assert_eq!(store.records.capacity(), 100);
        assert_eq!(std::mem::size_of::<Record>(), 24);
    }
}
