//! What watch mode's events are, and where the keyboard's come from: a key-reader thread,
//! and the terminal's raw mode that lets keys arrive one at a time. Saves come from
//! [`super::files`].

use std::io::{self, BufRead};
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::thread;

use crossterm::event::{self as term_event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal;

use crate::cargo_test::TestRun;

/// Everything the watch loop reacts to.
pub enum Event {
    /// A file in `exercises/` was written, created, renamed or removed.
    Saved(PathBuf),
    /// The exercise folder could not be read.
    WatchFailed(String),
    /// The learner pressed a key.
    Key(Key),
    /// Stdin ended: only saves can wake the loop now.
    InputClosed,
    /// The terminal changed size.
    Resized,
    /// Test run `id` ended; `hash` is the exercise file's hash when it started.
    Finished {
        /// Which run.
        id: u64,
        /// The hash of the exercise file the run tested.
        hash: Option<u64>,
        /// What cargo printed, or why it could not run.
        result: io::Result<TestRun>,
    },
}

/// The keys watch mode knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `h`: show or hide the hints.
    Hint,
    /// `n`: on to the next exercise, once this one is solved.
    Next,
    /// `r`: run the tests again.
    Rerun,
    /// `q`, Esc or Ctrl-C.
    Quit,
}

impl Key {
    fn from_char(c: char) -> Option<Key> {
        match c.to_ascii_lowercase() {
            'h' => Some(Key::Hint),
            'n' => Some(Key::Next),
            'r' => Some(Key::Rerun),
            'q' => Some(Key::Quit),
            _ => None,
        }
    }
}

/// Reads keys on a thread: single key presses on a terminal in raw mode, or lines (`q` and
/// Enter) when stdin is a pipe or a file.
pub fn read_keys(tx: Sender<Event>, interactive: bool) {
    thread::spawn(move || {
        if interactive {
            loop {
                let event = match term_event::read() {
                    Ok(term_event::Event::Key(key)) if key.kind == KeyEventKind::Press => {
                        let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL)
                            && key.code == KeyCode::Char('c');
                        match key.code {
                            _ if ctrl_c => Event::Key(Key::Quit),
                            KeyCode::Esc => Event::Key(Key::Quit),
                            KeyCode::Char(c) => match Key::from_char(c) {
                                Some(k) => Event::Key(k),
                                None => continue,
                            },
                            _ => continue,
                        }
                    }
                    Ok(term_event::Event::Resize(..)) => Event::Resized,
                    Ok(_) => continue,
                    Err(_) => Event::InputClosed,
                };
                let closed = matches!(event, Event::InputClosed);
                if tx.send(event).is_err() || closed {
                    return;
                }
            }
        } else {
            for line in io::stdin().lock().lines().map_while(Result::ok) {
                if let Some(key) = line.trim().chars().next().and_then(Key::from_char)
                    && tx.send(Event::Key(key)).is_err()
                {
                    return;
                }
            }
            let _ = tx.send(Event::InputClosed);
        }
    });
}

/// Raw mode while it lives: keys arrive one by one, unechoed. Dropping it, or a panic,
/// restores the terminal.
pub struct RawMode;

impl RawMode {
    /// Switches raw mode on, and makes a panic switch it off before printing.
    pub fn enable() -> io::Result<RawMode> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = terminal::disable_raw_mode();
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_letters_in_either_case() {
        assert_eq!(Key::from_char('h'), Some(Key::Hint));
        assert_eq!(Key::from_char('N'), Some(Key::Next));
        assert_eq!(Key::from_char('r'), Some(Key::Rerun));
        assert_eq!(Key::from_char('q'), Some(Key::Quit));
        assert_eq!(Key::from_char('x'), None);
    }
}
