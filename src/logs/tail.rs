//! Finding where the last N lines of a file begin, reading backwards from
//! its end, so a 1 GB file opens as fast as a small one.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

const BLOCK: u64 = 64 * 1024;

/// How far back the scan goes at most. A file whose last lines are longer than
/// this (a huge line, binary data) starts here, mid-line: the splitter's cap
/// keeps that first piece small.
pub const MAX_SCAN_BYTES: u64 = 64 * 1024 * 1024;

/// The offset where the last `lines` lines of the file's first `end` bytes
/// begin (0 when the file has fewer). A final line without a newline counts.
pub fn start_of_last_lines(file: &mut File, end: u64, lines: usize) -> std::io::Result<u64> {
    if lines == 0 {
        return Ok(end);
    }
    let floor = end.saturating_sub(MAX_SCAN_BYTES);
    let mut position = end;
    let mut buffer = vec![0u8; BLOCK as usize];
    // A newline that ends the file ends the last line; it does not start a new one.
    let mut newlines_needed = lines;
    let mut skip_final_newline = true;
    while position > floor {
        let from = position.saturating_sub(BLOCK).max(floor);
        let length = (position - from) as usize;
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut buffer[..length])?;
        let block = &buffer[..length];
        for at in memchr::memrchr_iter(b'\n', block) {
            let offset = from + at as u64;
            if skip_final_newline && offset + 1 == end {
                skip_final_newline = false;
                continue;
            }
            skip_final_newline = false;
            newlines_needed -= 1;
            if newlines_needed == 0 {
                return Ok(offset + 1);
            }
        }
        skip_final_newline = false;
        position = from;
    }
    Ok(floor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn start(content: &[u8], lines: usize) -> u64 {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        start_of_last_lines(&mut file, content.len() as u64, lines).unwrap()
    }

    #[test]
    fn counts_lines_from_the_end() {
        assert_eq!(start(b"a\nb\nc\n", 2), 2);
        assert_eq!(start(b"a\nb\nc", 2), 2, "an unfinished last line counts");
        assert_eq!(start(b"a\nb\nc\n", 10), 0);
        assert_eq!(start(b"", 3), 0);
        assert_eq!(start(b"a\nb\n", 0), 4);
    }

    #[test]
    fn works_across_block_boundaries() {
        let mut content = Vec::new();
        for n in 0..50_000 {
            content.extend_from_slice(format!("line {n}\n").as_bytes());
        }
        let offset = start(&content, 10_000) as usize;
        assert!(content[offset..].starts_with(b"line 40000\n"));
    }
}
