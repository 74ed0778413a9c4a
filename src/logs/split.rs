//! Cutting a byte stream into lines with a length cap.
//!
//! A log can hold a 64 MiB line with no newline; the splitter keeps at most
//! `cap` bytes of a line and only counts the rest, so memory stays bounded.

/// One line as read: its bytes (without the newline, cut at the cap) and how many bytes were cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    pub bytes: Vec<u8>,
    pub cut: u64,
}

#[derive(Debug)]
pub struct LineSplitter {
    cap: usize,
    partial: Vec<u8>,
    cut: u64,
}

impl LineSplitter {
    pub fn new(cap: usize) -> LineSplitter {
        LineSplitter { cap: cap.max(1), partial: Vec::new(), cut: 0 }
    }

    /// Splits `chunk`, calling `emit` for every line it completes; the tail waits for more.
    pub fn feed(&mut self, chunk: &[u8], mut emit: impl FnMut(RawLine)) {
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', chunk) {
            self.keep(&chunk[start..newline]);
            emit(self.take());
            start = newline + 1;
        }
        self.keep(&chunk[start..]);
    }

    /// Splits `chunk` like [`feed`](Self::feed), appending the lines it
    /// completes to `out`, each ending in a newline. Where no line can be
    /// longer than the cap (the chunk is shorter than it), the lines are copied
    /// in one piece without being looked at one by one.
    pub fn feed_raw(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let Some(last) = memchr::memrchr(b'\n', chunk) else {
            self.keep(chunk);
            return;
        };
        let (mut whole, rest) = chunk.split_at(last + 1);
        if self.has_partial() {
            // The first newline ends a line begun in an earlier chunk.
            let end = memchr::memchr(b'\n', whole).unwrap_or(last);
            self.keep(&whole[..end]);
            out.extend_from_slice(&self.partial);
            out.push(b'\n');
            self.reset();
            whole = &whole[end + 1..];
        }
        if whole.len() <= self.cap {
            out.extend_from_slice(whole);
        } else {
            // Copy runs of lines, cutting only those over the cap.
            let (mut run, mut start) = (0, 0);
            for newline in memchr::memchr_iter(b'\n', whole) {
                if newline - start > self.cap {
                    out.extend_from_slice(&whole[run..start + self.cap]);
                    out.push(b'\n');
                    run = newline + 1;
                }
                start = newline + 1;
            }
            out.extend_from_slice(&whole[run..]);
        }
        self.keep(rest);
    }

    /// Whether bytes of an unfinished line are waiting.
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty() || self.cut > 0
    }

    /// Emits the unfinished line, if any (end of input, or the file was rotated).
    pub fn flush(&mut self) -> Option<RawLine> {
        self.has_partial().then(|| self.take())
    }

    /// Forgets an unfinished line.
    pub fn reset(&mut self) {
        self.partial.clear();
        self.cut = 0;
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = self.cap.saturating_sub(self.partial.len());
        let kept = bytes.len().min(room);
        self.partial.extend_from_slice(&bytes[..kept]);
        self.cut += (bytes.len() - kept) as u64;
    }

    fn take(&mut self) -> RawLine {
        let line = RawLine { bytes: std::mem::take(&mut self.partial), cut: self.cut };
        self.cut = 0;
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(cap: usize, chunks: &[&[u8]]) -> (Vec<RawLine>, LineSplitter) {
        let mut splitter = LineSplitter::new(cap);
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk, |line| lines.push(line));
        }
        (lines, splitter)
    }

    #[test]
    fn lines_across_chunks_join_and_the_tail_waits() {
        let (lines, mut splitter) = split(100, &[b"one\ntw", b"o\nthr"]);
        let texts: Vec<&[u8]> = lines.iter().map(|l| l.bytes.as_slice()).collect();
        assert_eq!(texts, vec![&b"one"[..], b"two"]);
        assert_eq!(splitter.flush().unwrap().bytes, b"thr");
        assert!(splitter.flush().is_none());
    }

    /// What `feed` makes of `chunks`, each line followed by a newline.
    fn joined(cap: usize, chunks: &[&[u8]]) -> Vec<u8> {
        let (lines, _) = split(cap, chunks);
        lines.iter().flat_map(|line| line.bytes.iter().copied().chain([b'\n'])).collect()
    }

    #[test]
    fn raw_feeding_gives_the_same_bytes_as_line_by_line() {
        let long = [b'y'; 300];
        let cases: Vec<Vec<&[u8]>> = vec![
            vec![b"one\ntwo\nthr", b"ee\nfour", b"\n"],
            vec![b"no newline yet", b" still none", b" done\nnext\n"],
            vec![&long, b"\nshort\n", &long, &long, b"\n"],
            vec![b"a\n", &long, b"\nb\n", b"\n\n"],
            vec![b"", b"\n", b"x"],
        ];
        for cap in [4, 100, 1000] {
            for chunks in &cases {
                let mut splitter = LineSplitter::new(cap);
                let mut out = Vec::new();
                for chunk in chunks {
                    splitter.feed_raw(chunk, &mut out);
                }
                assert_eq!(out, joined(cap, chunks), "cap {cap}, {chunks:?}");
                let (_, mut reference) = split(cap, chunks);
                assert_eq!(splitter.flush(), reference.flush(), "the unfinished line waits in both");
            }
        }
    }

    #[test]
    fn a_long_line_is_cut_and_the_cut_is_counted() {
        let big = vec![b'x'; 1_000_000];
        let (lines, _) = split(64 * 1024, &[&big, &big, b"\nnext\n"]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].bytes.len(), 64 * 1024);
        assert_eq!(lines[0].cut, 2_000_000 - 64 * 1024);
        assert_eq!(lines[1], RawLine { bytes: b"next".to_vec(), cut: 0 });
    }
}
