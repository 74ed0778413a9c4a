//! Making untrusted text safe for the terminal.
//!
//! Log lines, HTTP bodies and command output can carry escape sequences that
//! retitle the window, write the clipboard (OSC 52), move the cursor or clear
//! the screen. Everything that reaches a view goes through [`sanitize`]:
//! control characters become visible placeholders, bidi overrides are dropped,
//! tabs expand, invalid UTF-8 becomes U+FFFD, and sequences whose width terminals
//! disagree about are made unambiguous (see [`super::width`]).

use super::width::{Unambiguous, char_width, unambiguous};

/// Tab stops every this many columns.
const TAB_WIDTH: usize = 4;

/// Returns `bytes` as printable text with no control characters at all.
pub fn sanitize(bytes: &[u8]) -> String {
    sanitize_str(&String::from_utf8_lossy(bytes))
}

/// Whether `bytes` are all printable ASCII (space to `~`), which
/// [`sanitize`] leaves as they are.
pub fn is_printable_ascii(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| (b' '..=b'~').contains(b))
}

/// Like [`sanitize`] for text that is already UTF-8.
pub fn sanitize_str(text: &str) -> String {
    // Most log text is printable ASCII, which passes unchanged.
    if is_printable_ascii(text.as_bytes()) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut column = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\t' => {
                let spaces = TAB_WIDTH - column % TAB_WIDTH;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            '\u{1b}' => {
                skip_escape_sequence(&mut chars);
            }
            '\u{9b}' => {
                // 8-bit CSI: same as ESC [.
                skip_csi_body(&mut chars);
            }
            c if is_bidi_control(c) => {}
            c if c.is_control() => {
                // Show C0 controls as their Unicode "control picture" so they are visible but inert.
                let shown = match c as u32 {
                    code @ 0..=0x1f => char::from_u32(0x2400 + code).unwrap_or('\u{fffd}'),
                    0x7f => '\u{2421}',
                    _ => '\u{fffd}',
                };
                out.push(shown);
                column += 1;
            }
            c => {
                if let Unambiguous::Keep(c) = unambiguous(c) {
                    out.push(c);
                    column += char_width(c);
                }
            }
        }
    }
    out
}

/// Drops one escape sequence whose ESC was already consumed: CSI (`ESC [ ... final`),
/// OSC/DCS/APC/PM/SOS strings (terminated by BEL or ST), or a two-character escape.
fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi_body(chars);
        }
        Some(']' | 'P' | '_' | '^' | 'X') => {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

fn skip_csi_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// Characters that reorder text and can make a line display differently from what it says.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut.
pub fn truncate_marked(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} [… {} bytes cut]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_sequences_leave_no_escape_or_bell() {
        let line = b"A\x1b]0;PWNED\x07\x1b]52;c;cm0=\x07\x1b[2JFAKE";
        let clean = sanitize(line);
        assert_eq!(clean, "AFAKE");
        assert!(!clean.contains('\u{1b}') && !clean.contains('\u{7}'));
    }

    #[test]
    fn controls_become_visible_and_bidi_is_dropped() {
        assert_eq!(sanitize_str("a\u{0}b\rc"), "a\u{2400}b\u{240d}c");
        assert_eq!(sanitize_str("safe\u{202e}txt.exe"), "safetxt.exe");
        assert_eq!(sanitize_str("\u{9b}31mred"), "red");
        assert_eq!(sanitize_str("a\tb"), "a   b");
    }

    #[test]
    fn printable_ascii_passes_unchanged_and_its_neighbours_do_not() {
        let printable: String = (b' '..=b'~').map(char::from).collect();
        assert_eq!(sanitize_str(&printable), printable);
        assert_eq!(sanitize_str("ok\u{7f}"), "ok\u{2421}");
        assert_eq!(sanitize_str("ok\u{1f}"), "ok\u{241f}");
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        assert_eq!(sanitize(b"ok \xff\xfe end"), "ok \u{fffd}\u{fffd} end");
    }

    #[test]
    fn unterminated_osc_swallows_the_rest_instead_of_leaking() {
        assert_eq!(sanitize(b"x\x1b]52;c;AAAA"), "x");
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        let cut = truncate_marked("ééééé", 3);
        assert!(cut.starts_with('é') && cut.contains("bytes cut"), "{cut}");
    }
}
