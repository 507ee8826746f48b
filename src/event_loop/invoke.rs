//! Running a callback: the one place that takes a closure out of the loop's heap, calls it in
//! a named frame, and puts a repeating one back (DESIGN §2). Every phase runs its callbacks
//! through [`EventLoop::invoke`]; [`EventLoop::call_in_frame`] is the boundary where a panic
//! becomes JavaScript's uncaught exception.

use std::rc::{Rc, Weak};

use super::{EventLoop, process, work};
use crate::heap::Key;
use crate::sys::Event;
use crate::trace::TraceEvent;

// ANCHOR: callback
/// A callback in the loop's heap.
pub(super) enum Callback {
    /// Runs once and is gone (a timeout, an immediate, a close callback).
    Once(Box<dyn FnOnce(&mut EventLoop)>),
    /// Runs every time its handle fires (an interval, an idle/check/timer handle).
    Repeat(Box<dyn FnMut(&mut EventLoop)>),
    /// Runs every time its descriptor is ready, with what it is ready for (chapter 8).
    Ready(ReadyCallback),
    /// The same, for a watcher whose state is shared with its owner (a TCP stream's socket):
    /// the slot holds a weak share of it, so an event reaches it with no closure in between,
    /// and nothing is taken out or put back.
    Shared(Weak<dyn WatchHandler>),
    /// Runs once its thread-pool job is done, with the job's outcome (chapter 7).
    Done(work::AfterWork),
}

/// A descriptor watcher's callback.
pub(super) type ReadyCallback = Box<dyn FnMut(&mut EventLoop, Event)>;

/// A descriptor watcher's shared state, run with what its descriptor is ready for.
pub(crate) trait WatchHandler {
    /// The descriptor is ready for `event`. `self` is a strong share taken for the call:
    /// drop it before running code that may close the owner, so the owner goes when it
    /// would have gone without it.
    fn ready(self: Rc<Self>, lp: &mut EventLoop, event: Event);
}

/// What [`EventLoop::invoke`] hands the callback, besides the loop (a `Ready` callback gets
/// what its descriptor is ready for from [`EventLoop::invoke_ready`]).
pub(super) enum Input {
    /// Nothing: a `Once` or `Repeat` callback.
    None,
    /// The job's value, or why there is none: a `Done` callback.
    Done(work::Outcome),
}
// ANCHOR_END: callback

impl EventLoop {
    // ANCHOR: call_in_frame
    /// Runs `f` inside a frame named `name`, recording it in the trace. This is the boundary
    /// where a panic becomes JavaScript's uncaught exception (see
    /// [`on_uncaught_exception`](Self::on_uncaught_exception)): whatever happens, the frame is
    /// popped again, so the stack is never left dirty.
    pub(super) fn call_in_frame(&mut self, name: &'static str, f: impl FnOnce(&mut EventLoop)) {
        self.enter_frame(name);
        let outcome = process::catch_panic(|| f(self));
        self.end_call(name, outcome);
    }

    /// Ends a call begun with [`enter_frame`](Self::enter_frame): a panic caught in it is an
    /// uncaught exception, which may unwind further after popping the frame.
    pub(super) fn end_call(&mut self, name: &'static str, outcome: Result<(), process::Panic>) {
        if let Err(panic) = outcome {
            self.uncaught_panic(panic);
        }
        self.leave_frame(name);
    }
    // ANCHOR_END: call_in_frame

    /// Pushes a callback's frame and records that it started.
    pub(super) fn enter_frame(&mut self, name: &'static str) {
        self.stack
            .push(name)
            .expect("the builder keeps the limit above the loop's own nesting");
        self.note(|| TraceEvent::CallbackStarted(name));
    }

    /// Records that a callback finished and pops its frame.
    pub(super) fn leave_frame(&mut self, name: &'static str) {
        self.note(|| TraceEvent::CallbackFinished(name));
        self.stack.pop();
    }

    /// Stores a closure in the loop's heap.
    pub(super) fn store(&mut self, callback: Callback) -> Key {
        self.callbacks.insert(Some(callback))
    }

    /// Frees a closure that will not run.
    pub(super) fn discard(&mut self, key: Key) {
        self.callbacks.remove(key);
    }

    // ANCHOR: invoke
    /// Takes the callback `key` out of the heap and runs it with `input` in a frame named
    /// `name`; every callback of every phase runs through here. One that fires again goes back
    /// into its slot right after the call — before a panic goes on to the embedder, so a
    /// handle or watcher never loses its callback — unless it was cleared while it ran.
    pub(super) fn invoke(&mut self, key: Key, name: &'static str, input: Input) {
        let Some(callback) = self.callbacks.get_mut(key).and_then(Option::take) else {
            return; // cleared, or already running further up the stack
        };
        self.enter_frame(name);
        let outcome = match (callback, input) {
            (Callback::Once(f), Input::None) => {
                self.callbacks.remove(key);
                process::catch_panic(|| f(self))
            }
            (Callback::Done(f), Input::Done(outcome)) => {
                self.callbacks.remove(key);
                process::catch_panic(|| f(self, outcome))
            }
            (Callback::Repeat(mut f), Input::None) => {
                let outcome = process::catch_panic(|| f(self));
                self.put_back(key, Callback::Repeat(f));
                outcome
            }
            _ => unreachable!("each kind of callback is invoked with its own input"),
        };
        self.end_call(name, outcome);
    }

    /// [`invoke`](Self::invoke) for a descriptor's watcher, with what it is ready for: the same
    /// steps — taken out, run in its frame inside the panic boundary, put back before a panic
    /// goes on — in a method of its own, as the poll phase runs one for every ready event.
    pub(super) fn invoke_ready(&mut self, key: Key, name: &'static str, event: Event) {
        let slot = match self.callbacks.get_mut(key) {
            Some(slot @ Some(Callback::Ready(_))) => slot,
            Some(Some(Callback::Shared(handler))) => {
                // Nothing leaves the slot: a panic has nothing to put back.
                let handler = handler.upgrade();
                self.enter_frame(name);
                let outcome = process::catch_panic(|| {
                    if let Some(handler) = handler {
                        handler.ready(self, event);
                    }
                });
                self.end_call(name, outcome);
                return;
            }
            _ => return, // cleared, or already running further up the stack
        };
        let Some(Callback::Ready(mut f)) = slot.take() else {
            unreachable!("matched just above")
        };
        self.enter_frame(name);
        let outcome = process::catch_panic(|| f(self, event));
        self.put_back(key, Callback::Ready(f));
        self.end_call(name, outcome);
    }

    /// Returns a repeating callback to its slot, unless it was cleared while it ran.
    pub(super) fn put_back(&mut self, key: Key, callback: Callback) {
        if let Some(slot @ None) = self.callbacks.get_mut(key) {
            *slot = Some(callback);
        }
    }
    // ANCHOR_END: invoke
}
