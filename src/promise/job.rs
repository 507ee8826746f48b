//! The two traits the event loop calls promises through, whatever their value types: a
//! reaction that runs from the microtask queue ([`Job`]), and a rejected promise whose
//! handling the loop checks after the drain ([`Handled`]). They depend on nothing else in
//! `promise`, so the loop can hold them without knowing what a promise is.

use std::rc::Rc;

use crate::event_loop::EventLoop;

/// A reaction that runs from the microtask queue. The queue holds the node itself.
pub(crate) trait Job {
    /// Calls the handler with the outcome, then settles the node's promise with the result.
    fn run(self: Rc<Self>, lp: &mut EventLoop);
}

/// What the loop's unhandled-rejection tracking asks of a rejected promise, whatever its value
/// type: has a reaction been attached since? The loop keeps the promise until its next report,
/// so a promise that is never rejected costs nothing extra.
pub(crate) trait Handled {
    /// True once a reaction was attached.
    fn handled(&self) -> bool;
}
