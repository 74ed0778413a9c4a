//! Copying out of the console over SSH, with OSC 52.
//!
//! The terminal on the operator's own machine owns the clipboard; a program on a
//! remote host can only ask it through an escape sequence: `ESC ] 52 ; c ; BASE64
//! BEL`. Most terminals honour it (tmux with `set -g set-clipboard on`), and one
//! that does not ignores it. Nothing is read back: firstwatch never asks for the
//! clipboard's contents.

use base64::Engine;

/// What `y` copies from the visible tab, and a word for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub what: &'static str,
    pub text: String,
}

/// Terminals cap what one sequence may carry (xterm and tmux take about 100 KB
/// of base64); a longer copy is cut, and the status line says so.
pub const MAX_COPY_BYTES: usize = 64 * 1024;

/// The escape sequence that puts `text` on the clipboard, and whether it was cut.
pub fn osc52(text: &str) -> (String, bool) {
    let mut end = text.len().min(MAX_COPY_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(&text.as_bytes()[..end]);
    (format!("\x1b]52;c;{encoded}\x07"), end < text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_carries_the_text_in_base64() {
        let (sequence, cut) = osc52("redeploy api");
        assert_eq!(sequence, "\x1b]52;c;cmVkZXBsb3kgYXBp\x07");
        assert!(!cut);
    }

    #[test]
    fn a_long_copy_is_cut_on_a_character_boundary() {
        let text = "é".repeat(MAX_COPY_BYTES);
        let (sequence, cut) = osc52(&text);
        assert!(cut);
        let payload = sequence.trim_start_matches("\x1b]52;c;").trim_end_matches('\x07');
        let decoded = base64::engine::general_purpose::STANDARD.decode(payload).unwrap();
        assert_eq!(decoded.len(), MAX_COPY_BYTES);
        assert!(String::from_utf8(decoded).is_ok());
    }
}
