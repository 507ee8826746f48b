//! The shape every future of the loop's sources shares: start a request with the loop on the
//! first poll, let the request's callback hand the outcome over and wake the task, and cancel
//! the request if the future is dropped first.
//!
//! A future cannot call the loop while it is polled, so starting and cancelling are commands
//! (see `tasks.rs`): they run right after the poll returns, or at the next checkpoint for a
//! future dropped outside a poll. The callback that completes the request has the loop at
//! hand and queues the waiting task's entry at once.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use super::tasks::{Command, Tasks, scope};
use super::waiter::Waiter;
use crate::event_loop::EventLoop;

/// Undoes a started request: clears a timer, cancels a queued pool job.
pub(crate) type Cancel = Box<dyn FnOnce(&mut EventLoop)>;

/// Starts a request: gets the slot to complete, returns how to cancel it.
pub(crate) type Start<T> = Box<dyn FnOnce(&mut EventLoop, Rc<Slot<T>>) -> Option<Cancel>>;

/// Where a request's callback leaves the outcome for the future.
pub(crate) struct Slot<T> {
    outcome: Cell<Option<T>>,
    waiter: RefCell<Waiter>,
    /// The callback ran (once): nothing is left to cancel.
    completed: Cell<bool>,
    /// The future was dropped: a start still queued must not start anything.
    dropped: Cell<bool>,
    cancel: RefCell<Option<Cancel>>,
}

impl<T> Slot<T> {
    fn new() -> Rc<Slot<T>> {
        Rc::new(Slot {
            outcome: Cell::new(None),
            waiter: RefCell::new(Waiter::Nobody),
            completed: Cell::new(false),
            dropped: Cell::new(false),
            cancel: RefCell::new(None),
        })
    }

    /// The request's callback: leaves `outcome` and queues the waiting task (one hop, as a
    /// promise resolved in this callback would take).
    pub(crate) fn complete(&self, lp: &mut EventLoop, outcome: T) {
        if self.completed.replace(true) || self.dropped.get() {
            return; // a second completion, or nobody left to hand it to
        }
        drop(self.cancel.borrow_mut().take());
        self.outcome.set(Some(outcome));
        std::mem::take(&mut *self.waiter.borrow_mut()).wake(lp);
    }
}

/// A future for one request on the loop.
pub(crate) struct OnLoop<T> {
    name: &'static str,
    start: Option<Start<T>>,
    slot: Rc<Slot<T>>,
    tasks: Weak<Tasks>,
}

impl<T> Unpin for OnLoop<T> {}

impl<T: 'static> OnLoop<T> {
    /// A future that runs `start` with the loop when first polled.
    pub(crate) fn new(name: &'static str, start: Start<T>) -> Self {
        OnLoop {
            name,
            start: Some(start),
            slot: Slot::new(),
            tasks: Weak::new(),
        }
    }
}

impl<T: 'static> Future for OnLoop<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if let Some(outcome) = self.slot.outcome.take() {
            return Poll::Ready(outcome);
        }
        *self.slot.waiter.borrow_mut() = Waiter::of(cx);
        if let Some(start) = self.start.take() {
            let scope = scope().unwrap_or_else(|| {
                panic!(
                    "{} was polled outside a task: await it inside lp.spawn or lp.block_on",
                    self.name
                )
            });
            self.tasks = Rc::downgrade(&scope.tasks());
            let slot = self.slot.clone();
            scope.tasks().push(Command::Call(
                self.name,
                Box::new(move |lp: &mut EventLoop| {
                    if slot.dropped.get() {
                        return;
                    }
                    let cancel = start(lp, slot.clone());
                    if !slot.completed.get() {
                        *slot.cancel.borrow_mut() = cancel;
                    }
                }),
            ));
        }
        Poll::Pending
    }
}

impl<T> Drop for OnLoop<T> {
    fn drop(&mut self) {
        self.slot.dropped.set(true);
        let Some(cancel) = self.slot.cancel.borrow_mut().take() else {
            return; // never started, or finished
        };
        if let Some(tasks) = self.tasks.upgrade() {
            tasks.push(Command::Call("cancel", cancel));
        }
    }
}
