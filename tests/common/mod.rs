//! Helpers shared by the chapter tests.
#![allow(dead_code)] // each test file uses a different subset

use std::cell::RefCell;
use std::rc::Rc;

use eventloop::clock::ManualClock;
use eventloop::event_loop::EventLoop;

/// A shared, ordered record of what happened.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.borrow_mut())
    }

    /// A callback that records `entry`.
    pub fn cb(&self, entry: impl Into<String>) -> impl FnOnce(&mut EventLoop) + 'static {
        let log = self.clone();
        let entry = entry.into();
        move |_| log.push(entry)
    }

    /// A callback that records `entry` with the loop time: `"entry@12"`.
    pub fn at(&self, entry: impl Into<String>) -> impl FnMut(&mut EventLoop) + 'static {
        let log = self.clone();
        let entry = entry.into();
        move |lp| log.push(format!("{entry}@{}", lp.now()))
    }
}

/// A loop on a manual clock at 0 ms, and the clock.
pub fn manual_loop() -> (EventLoop, ManualClock) {
    let clock = ManualClock::new();
    (EventLoop::with_clock(clock.clone()), clock)
}

/// A cell to hand an id to a callback created before the id exists.
pub fn slot<T: Copy>() -> Rc<std::cell::Cell<Option<T>>> {
    Rc::new(std::cell::Cell::new(None))
}
