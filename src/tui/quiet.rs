//! A backend that writes nothing when nothing changed, and whole frames at once.
//!
//! ratatui hides the cursor after every frame, even when it is hidden
//! already, and resets colours after every draw, even an empty one; over
//! SSH that is two dozen bytes per frame for nothing. This wrapper
//! remembers the cursor's state and only sends what changes it.
//!
//! A frame that does change is wrapped in synchronized output (DEC mode 2026):
//! a terminal that knows it shows the frame whole instead of tearing it on a slow
//! link; one that does not ignores the two sequences. They ride in the same
//! buffered write as the frame, so they cost no extra write.

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Write};

/// Begin and end of a synchronized update.
pub const SYNC_BEGIN: &[u8] = b"\x1b[?2026h";
pub const SYNC_END: &[u8] = b"\x1b[?2026l";

pub struct QuietBackend<W: Write> {
    inner: CrosstermBackend<W>,
    cursor_hidden: bool,
    /// Whether frames are wrapped in synchronized output (`settings.sync_output`).
    sync_output: bool,
    /// A frame has begun a synchronized update that the next flush ends.
    in_update: bool,
}

impl<W: Write> QuietBackend<W> {
    /// `cursor_hidden`: whether the terminal's cursor is hidden already.
    pub fn new(writer: W, cursor_hidden: bool) -> Self {
        QuietBackend { inner: CrosstermBackend::new(writer), cursor_hidden, sync_output: true, in_update: false }
    }

    /// Writes bytes that are not part of a frame (a clipboard sequence) at once.
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)?;
        Backend::flush(&mut self.inner)
    }

    /// Turns synchronized output on or off (on by default).
    pub fn with_sync_output(mut self, on: bool) -> Self {
        self.sync_output = on;
        self
    }
}

impl<W: Write> Backend for QuietBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        // The crossterm backend ends every draw with colour resets, even an empty one.
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        if self.sync_output && !self.in_update {
            self.inner.write_all(SYNC_BEGIN)?;
            self.in_update = true;
        }
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if !self.cursor_hidden {
            self.inner.hide_cursor()?;
            self.cursor_hidden = true;
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden {
            self.inner.show_cursor()?;
            self.cursor_hidden = false;
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.in_update) {
            self.inner.write_all(SYNC_END)?;
        }
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::widgets::Paragraph;

    use std::cell::RefCell;
    use std::rc::Rc;

    /// Counts what reaches the "terminal".
    #[derive(Clone, Default)]
    struct Wire(Rc<RefCell<Vec<u8>>>, Rc<std::cell::Cell<usize>>);

    impl Write for Wire {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.1.set(self.1.get() + 1);
            self.0.borrow_mut().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_unchanged_frame_writes_nothing() {
        let wire = Wire::default();
        let sent = || wire.0.borrow().len();
        let mut terminal = Terminal::with_options(
            QuietBackend::new(wire.clone(), true),
            ratatui::TerminalOptions { viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 20, 2)) },
        )
        .unwrap();
        terminal.draw(|frame| frame.render_widget(Paragraph::new("steady"), frame.area())).unwrap();
        let after_first = sent();
        assert!(after_first > 0, "the first frame is drawn");
        terminal.draw(|frame| frame.render_widget(Paragraph::new("steady"), frame.area())).unwrap();
        assert_eq!(sent(), after_first, "a repeated frame adds no bytes");
        terminal.draw(|frame| frame.render_widget(Paragraph::new("changed"), frame.area())).unwrap();
        assert!(sent() > after_first, "a change is written");
    }

    /// Counts writes too, to show the markers need no write of their own.
    fn terminal_on(wire: &Wire, sync: bool) -> Terminal<QuietBackend<io::BufWriter<Wire>>> {
        let backend =
            QuietBackend::new(io::BufWriter::with_capacity(64 * 1024, wire.clone()), true).with_sync_output(sync);
        Terminal::with_options(
            backend,
            ratatui::TerminalOptions { viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 20, 2)) },
        )
        .unwrap()
    }

    #[test]
    fn a_changed_frame_is_one_synchronized_update() {
        let wire = Wire::default();
        let mut terminal = terminal_on(&wire, true);
        terminal.draw(|frame| frame.render_widget(Paragraph::new("first"), frame.area())).unwrap();
        let first = wire.0.borrow().clone();
        assert!(first.starts_with(SYNC_BEGIN), "{:?}", String::from_utf8_lossy(&first));
        assert!(first.ends_with(SYNC_END), "{:?}", String::from_utf8_lossy(&first));
        assert_eq!(wire.1.get(), 1, "markers and frame leave in one write");
        terminal.draw(|frame| frame.render_widget(Paragraph::new("first"), frame.area())).unwrap();
        assert_eq!(wire.0.borrow().len(), first.len(), "an unchanged frame sends not even the markers");
        terminal.draw(|frame| frame.render_widget(Paragraph::new("second"), frame.area())).unwrap();
        let second = wire.0.borrow()[first.len()..].to_vec();
        assert!(second.starts_with(SYNC_BEGIN) && second.ends_with(SYNC_END));
        assert_eq!(wire.1.get(), 2);
    }

    #[test]
    fn sync_output_can_be_turned_off() {
        let wire = Wire::default();
        let mut terminal = terminal_on(&wire, false);
        terminal.draw(|frame| frame.render_widget(Paragraph::new("first"), frame.area())).unwrap();
        let bytes = wire.0.borrow().clone();
        assert!(!bytes.is_empty());
        assert!(!bytes.windows(SYNC_BEGIN.len()).any(|w| w == SYNC_BEGIN || w == SYNC_END));
    }
}
