//! A backend that writes nothing when nothing changed.
//!
//! ratatui hides the cursor after every frame, even when it is hidden
//! already, and resets colours after every draw, even an empty one; over
//! SSH that is two dozen bytes per frame for nothing. This wrapper
//! remembers the cursor's state and only sends what changes it.

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{self, Write};

pub struct QuietBackend<W: Write> {
    inner: CrosstermBackend<W>,
    cursor_hidden: bool,
}

impl<W: Write> QuietBackend<W> {
    /// `cursor_hidden`: whether the terminal's cursor is hidden already.
    pub fn new(writer: W, cursor_hidden: bool) -> Self {
        QuietBackend { inner: CrosstermBackend::new(writer), cursor_hidden }
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
    struct Wire(Rc<RefCell<Vec<u8>>>);

    impl Write for Wire {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
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
}
