//! One width for every piece of text that reaches a cell.
//!
//! Terminals count a character's width code point by code point (wcwidth), while
//! Unicode's newer rules widen some sequences as a whole: `☁️` (a narrow symbol
//! plus VS16) is 2 cells to a width table and 1 to tmux; a skin-toned `👍🏽` is 2
//! to one and 4 to the other. When the two disagree, every cell after the
//! sequence lands one off and a shorter redraw leaves stale cells behind.
//!
//! So untrusted text is first made unambiguous ([`unambiguous`], applied by the
//! sanitiser): presentation selectors, joiners, zero-width spaces and emoji
//! modifiers are dropped and flags become their two letters. What is left has
//! one width everywhere: the sum of its characters' widths, [`width`].

use unicode_width::UnicodeWidthChar;

/// Cells one character takes; zero for combining marks and controls.
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Cells `text` takes once it is unambiguous.
pub fn width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// What an ambiguous character becomes: dropped, a letter, or itself.
pub enum Unambiguous {
    Drop,
    Keep(char),
}

/// The terminal-safe form of one character.
pub fn unambiguous(c: char) -> Unambiguous {
    match c {
        // Variation selectors (text/emoji presentation), and their supplement.
        '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}' => Unambiguous::Drop,
        // Zero-width space, non-joiner, joiner; word joiner and invisible operators; BOM.
        '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' => Unambiguous::Drop,
        // Emoji skin-tone modifiers and tag characters (subdivision flags).
        '\u{1f3fb}'..='\u{1f3ff}' | '\u{e0000}'..='\u{e007f}' => Unambiguous::Drop,
        // Regional indicators: a flag is drawn as its country code.
        '\u{1f1e6}'..='\u{1f1ff}' => Unambiguous::Keep(char::from(b'A' + (c as u32 - 0x1f1e6) as u8)),
        c => Unambiguous::Keep(c),
    }
}

/// `text` cut to at most `max` cells, ending in `…` when cut; never splits a
/// wide character (a cut that would is one cell shorter).
pub fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    let room = max.saturating_sub(1);
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::sanitize::sanitize_str;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    /// Where ratatui's buffer ends a string: the width it believes the text has.
    fn ratatui_width(text: &str) -> usize {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 200, 1));
        let (x, _) = buffer.set_stringn(0, 0, text, 200, Style::new());
        usize::from(x)
    }

    #[test]
    fn sanitised_text_has_the_same_width_for_ratatui_and_a_wcwidth_terminal() {
        // Widths a code-point terminal (tmux 3.3, xterm) gives the sanitised text.
        let cases = [
            ("⛅️ wrangler", "⛅ wrangler", 11),
            ("☁️ cloud", "☁ cloud", 7),
            ("❤️", "❤", 1),
            ("👨‍👩‍👧", "👨👩👧", 6),
            ("👍🏽 ok", "👍 ok", 5),
            ("🇩🇪 flag", "DE flag", 7),
            ("漢字", "漢字", 4),
            ("cafe\u{301}", "cafe\u{301}", 4),
            ("a\u{200b}b\u{2060}c\u{feff}", "abc", 3),
        ];
        for (raw, clean, cells) in cases {
            let sanitised = sanitize_str(raw);
            assert_eq!(sanitised, clean, "{raw:?}");
            assert_eq!(width(&sanitised), cells, "{raw:?}");
            assert_eq!(ratatui_width(&sanitised), cells, "{raw:?}: ratatui disagrees");
        }
    }

    #[test]
    fn truncation_counts_cells_and_never_splits_a_wide_character() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("漢字漢字", 5), "漢字…");
        assert_eq!(truncate("漢字漢字", 4), "漢…");
        assert_eq!(width(&truncate("漢字漢字", 4)), 3);
        assert_eq!(truncate("anything", 0), "");
    }
}
