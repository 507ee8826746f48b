//! The loop's side of tracing (chapter 12): switching it on, noting what the program printed,
//! and the one helper every place that records an event goes through.

use super::EventLoop;
use crate::trace::TraceEvent;

impl EventLoop {
    /// `console.log` for a program on this loop: prints `line` to stdout and, when the loop
    /// is traced, records it at the loop's time, so a replay shows what was printed when.
    pub fn log(&self, line: impl Into<String>) {
        let line = line.into();
        println!("{line}");
        self.note(move || TraceEvent::Output(line));
    }

    // ANCHOR: note
    /// Records the event `event()` makes, at the loop's cached time, when tracing is on.
    /// Off, this is one branch and `event` is never called: nothing is built or copied.
    #[inline]
    pub(super) fn note(&self, event: impl FnOnce() -> TraceEvent) {
        self.trace.record(self.now, event);
    }
    // ANCHOR_END: note
}
