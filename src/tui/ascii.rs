//! ASCII mode: the console for terminals and locales that cannot show Unicode.
//!
//! Views draw as usual; the finished frame is then rewritten cell by cell, so no
//! view needs to know. Box drawing becomes `+ - |`, gauges and sparklines a ramp
//! of ASCII marks, and state symbols a letter; the state words beside them stay,
//! so nothing is read from a symbol alone. Anything without a stand-in becomes
//! `?`, so not one byte above 0x7f reaches the terminal.

use ratatui::buffer::Buffer;
use unicode_width::UnicodeWidthStr;

/// Rewrites every cell of a drawn frame to ASCII.
pub fn downgrade(buffer: &mut Buffer) {
    let width = buffer.area.width as usize;
    let cells = &mut buffer.content;
    let mut index = 0;
    while index < cells.len() {
        let symbol = cells[index].symbol();
        if symbol.is_ascii() {
            index += 1;
            continue;
        }
        let wide = symbol.width() > 1;
        let stand_in = stand_in(symbol);
        cells[index].set_symbol(stand_in);
        // A wide character covered two cells; the second, left empty by ratatui,
        // must now be drawn too or it would keep whatever was there before.
        let at_row_end = (index + 1) % width == 0;
        if wide && !at_row_end && index + 1 < cells.len() {
            cells[index + 1].set_symbol(" ");
            index += 1;
        }
        index += 1;
    }
}

/// The ASCII drawn in place of one cell's symbol.
pub fn stand_in(symbol: &str) -> &'static str {
    let Some(first) = symbol.chars().next() else { return " " };
    match first {
        // Box drawing: lines and corners.
        '─' | '━' | '═' | '╌' | '┄' | '╍' | '┅' => "-",
        '│' | '┃' | '║' | '╎' | '┆' | '╏' | '┇' | '▏' | '▕' => "|",
        '\u{2500}'..='\u{257f}' => "+",
        // Gauges and sparklines: a ramp from low to full.
        '▁' | '▂' => ".",
        '▃' | '▄' => ":",
        '▅' | '▆' => "=",
        '▇' | '█' | '▓' => "#",
        '▒' => "%",
        '░' => "-",
        '\u{2580}'..='\u{259f}' => "#",
        // States; the word beside each stays.
        '✓' | '✔' => "v",
        '✗' | '✘' | '×' => "x",
        '⚠' => "!",
        '●' | '◉' => "*",
        '○' | '◌' => "o",
        '▶' | '▸' | '›' | '»' | '→' | '⇒' => ">",
        '◀' | '◂' | '‹' | '«' | '←' => "<",
        '↑' | '▲' => "^",
        '↓' | '▼' => "v",
        '↳' => ">",
        '↻' => "@",
        '⏸' => "=",
        '✎' => "*",
        '·' | '•' => ".",
        '…' => "~",
        '—' | '–' => "-",
        '°' => "o",
        '≠' => "#",
        '±' => "+",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    #[test]
    fn nothing_above_0x7f_survives_and_wide_characters_leave_no_hole() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 12, 2));
        buffer.set_string(0, 0, "┌─✓ ok 漢字┐", ratatui::style::Style::new());
        buffer.set_string(0, 1, "▁▃▅▇█ ·é…", ratatui::style::Style::new());
        downgrade(&mut buffer);
        let rows: Vec<String> =
            (0..2).map(|y| (0..12).map(|x| buffer[(x, y)].symbol().to_string()).collect::<String>()).collect();
        assert!(rows.iter().all(|row| row.is_ascii()), "{rows:?}");
        assert_eq!(rows[0], "+-v ok ? ? +");
        assert_eq!(rows[1], ".:=## .?~   ");
    }

    #[test]
    fn ascii_text_is_left_alone() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 10, 1));
        buffer.set_string(0, 0, "api 200 OK", ratatui::style::Style::new());
        let before = buffer.clone();
        downgrade(&mut buffer);
        assert_eq!(buffer, before);
    }
}
