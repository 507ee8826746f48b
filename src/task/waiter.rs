//! Who waits for a future of the loop: the task that polled it, or a waker from elsewhere.
//!
//! The loop's own futures (a promise, a join handle, a timer) are completed by a callback that
//! has the loop at hand, so they can queue the waiting task's entry at once, in the same
//! microtask queue as everything else, instead of going through a [`Waker`] and the task
//! table's mailbox. They can only do that for the task whose own context polled them; a
//! future polled by a combinator with a waker of its own is woken through that waker.

use std::rc::{Rc, Weak};
use std::task::{Context, Waker};

use super::tasks::{Runnable, resume_task, wake_task, with_scope};
use crate::event_loop::EventLoop;

/// The waiter of a future of the loop.
#[derive(Default)]
pub(crate) enum Waiter {
    /// Nobody polled it yet.
    #[default]
    Nobody,
    /// The task whose own context polled it (weak: a finished task is not kept alive by
    /// what it waited for).
    Task(Weak<dyn Runnable>),
    /// Any other waker.
    Foreign(Waker),
}

impl Waiter {
    /// Whoever polled with `cx`.
    #[inline]
    pub(crate) fn of(cx: &Context<'_>) -> Waiter {
        with_scope(|scope| match scope {
            Some(scope) if scope.owns(cx.waker()) => Waiter::Task(Rc::downgrade(&scope.task)),
            _ => Waiter::Foreign(cx.waker().clone()),
        })
    }

    /// Wakes the waiter: its task's entry is queued now, one microtask hop away.
    #[inline]
    pub(crate) fn wake(self, lp: &mut EventLoop) {
        match self {
            Waiter::Nobody => {}
            Waiter::Task(task) => {
                if let Some(task) = task.upgrade() {
                    wake_task(lp, task);
                }
            }
            Waiter::Foreign(waker) => waker.wake(),
        }
    }

    /// Polls the waiting task now: the caller is a microtask that is itself the hop (a promise
    /// reaction). A foreign waker can only be woken.
    pub(crate) fn resume(self, lp: &mut EventLoop) {
        match self {
            Waiter::Nobody => {}
            Waiter::Task(task) => {
                if let Some(task) = task.upgrade() {
                    resume_task(lp, task);
                }
            }
            Waiter::Foreign(waker) => waker.wake(),
        }
    }
}
