//! `console.log` for programs and tests: print a line, and note it in the loop's trace.
//!
//! A Node program prints with `console.log`; its Rust port prints with [`log`], so the port
//! reads like the JavaScript. Each line is also noted in the trace of the loop being traced
//! on this thread, if any ([`crate::trace::output`]), so the visualizer shows what was
//! printed when.
//!
//! A test wants the lines, not the terminal: a [`Console`] made with [`Console::capture`]
//! keeps them, in order, to compare with what Node printed.
//!
//! ```
//! use eventloop::prelude::*;
//!
//! let console = Console::capture();
//! let mut lp = EventLoop::new();
//! let c = console.clone();
//! lp.run_main(move |lp| {
//!     let c2 = c.clone();
//!     lp.set_timeout(move |_| c2.log("timeout"), 0);
//!     c.log(format!("main {}", 1));
//! })
//! .unwrap();
//! assert_eq!(console.lines(), ["main 1", "timeout"]);
//! ```

use std::cell::RefCell;
use std::fmt::Display;
use std::rc::Rc;

/// Prints `line` on standard output, as `console.log(line)`, and notes it in the trace.
///
/// ```
/// eventloop::console::log(format!("{} + {} = {}", 1, 2, 1 + 2));
/// ```
pub fn log(line: impl Display) {
    let line = line.to_string();
    println!("{line}");
    crate::trace::output(line);
}

/// Prints `line` on standard error, as `console.error(line)`, and notes it in the trace.
///
/// ```
/// eventloop::console::error("something went wrong");
/// ```
pub fn error(line: impl Display) {
    let line = line.to_string();
    eprintln!("{line}");
    crate::trace::output(line);
}

/// A console that a program can hand around: it prints, or it keeps what it is given.
/// Clones share one record.
///
/// ```
/// use eventloop::console::Console;
///
/// let console = Console::capture();
/// console.log("one");
/// console.clone().log(2);
/// assert_eq!(console.take(), ["one", "2"]);
/// assert!(console.lines().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Console {
    /// `None` prints; `Some` keeps the lines.
    kept: Option<Rc<RefCell<Vec<String>>>>,
}

impl Console {
    /// A console that prints each line on standard output (the default).
    ///
    /// ```
    /// eventloop::console::Console::stdout().log("hello");
    /// ```
    pub fn stdout() -> Console {
        Console { kept: None }
    }

    /// A console that keeps each line instead of printing it, for [`lines`](Self::lines).
    ///
    /// ```
    /// let console = eventloop::console::Console::capture();
    /// console.log("kept");
    /// assert_eq!(console.lines(), ["kept"]);
    /// ```
    pub fn capture() -> Console {
        Console {
            kept: Some(Rc::default()),
        }
    }

    /// `console.log(line)`: prints or keeps `line`, and notes it in the trace.
    ///
    /// ```
    /// let console = eventloop::console::Console::capture();
    /// console.log(format!("{} items", 3));
    /// assert_eq!(console.lines(), ["3 items"]);
    /// ```
    pub fn log(&self, line: impl Display) {
        match &self.kept {
            None => log(line),
            Some(kept) => {
                let line = line.to_string();
                crate::trace::output(line.as_str());
                kept.borrow_mut().push(line);
            }
        }
    }

    /// The lines kept so far (none for a console that prints).
    ///
    /// ```
    /// let console = eventloop::console::Console::stdout();
    /// console.log("printed, not kept");
    /// assert!(console.lines().is_empty());
    /// ```
    pub fn lines(&self) -> Vec<String> {
        self.kept
            .as_ref()
            .map(|kept| kept.borrow().clone())
            .unwrap_or_default()
    }

    /// The lines kept so far, leaving none.
    ///
    /// ```
    /// let console = eventloop::console::Console::capture();
    /// console.log("a");
    /// assert_eq!(console.take(), ["a"]);
    /// assert_eq!(console.take(), Vec::<String>::new());
    /// ```
    pub fn take(&self) -> Vec<String> {
        self.kept
            .as_ref()
            .map(|kept| std::mem::take(&mut *kept.borrow_mut()))
            .unwrap_or_default()
    }
}
