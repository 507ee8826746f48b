//! The waker's state machine: how a woken task is queued exactly once, polled by one thread at
//! a time, and never lost (chapter 10).
//!
//! Every task has a [`Header`], shared through an `Arc` by the task and by every
//! [`Waker`](std::task::Waker) made for it, so a waker can travel to any thread. The header
//! holds one atomic state word:
//!
//! ```text
//!            wake                    entry runs              poll: Pending
//!   idle ───────────▶ scheduled ─────────────────▶ running ─────────────────▶ idle
//!     ▲                                             │  │ wake
//!     │                                             │  ▼
//!     │                                             │ running+notified ──────▶ scheduled (queued again)
//!     │                                             │          poll: Pending
//!     └─────────── (never: done is final) ◀─────────┘ poll: Ready ──▶ done
//! ```
//!
//! - A wake of an *idle* task makes it *scheduled* and queues one entry; a wake of a task that is
//!   already scheduled does nothing, so a task is never queued twice.
//! - A wake of a *running* task (a future that woke itself, or another thread's wake arriving
//!   mid-poll) only sets *notified*: the poll in progress queues the task again when it returns
//!   `Pending`, so the wake is not lost, and the task is never polled twice at once.
//! - A wake of a *done* task does nothing.
//!
//! Where the entry goes depends on the thread that wakes: on the loop's own thread it becomes a
//! microtask ([`Inbox::send`] hands it to the loop's task state); from any other thread it is
//! pushed on the inbox, and the loop is woken through the thread pool's wake-up to pick it up.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

use super::tasks::{TaskKey, local_tasks};
use crate::threadpool::Completions;

/// A queue entry will poll the task.
pub(crate) const SCHEDULED: u8 = 1;
/// The task is being polled now.
pub(crate) const RUNNING: u8 = 2;
/// Woken while running: queue it again when the poll returns.
pub(crate) const NOTIFIED: u8 = 4;
/// Finished, aborted or panicked: wakes do nothing any more.
pub(crate) const DONE: u8 = 8;
/// [`JoinHandle::abort`](super::JoinHandle::abort) was called: the next entry drops the future.
pub(crate) const ABORT: u8 = 16;

// ANCHOR: header
/// What a task shares with its wakers. `Send + Sync`, as [`std::task::Waker`] requires.
/// `repr(C)`: the state and the key, which every wake and entry reads, side by side in one
/// 16-byte slot of the allocation, which never straddles two cache lines.
#[repr(C)]
pub(crate) struct Header {
    /// # Invariant
    /// `SCHEDULED` is set exactly while one queue entry for the task exists, and `RUNNING`
    /// exactly while the loop thread polls it.
    pub(crate) state: AtomicU8,
    /// The task's key in its loop's task table.
    pub(crate) key: TaskKey,
    /// Where wakes go.
    pub(crate) inbox: Arc<Inbox>,
}
// ANCHOR_END: header

/// A loop's inbox for wakes from other threads: the woken tasks' keys, and the loop's
/// wake-up (the thread pool's, which also writes the eventfd the loop's poller watches).
pub(crate) struct Inbox {
    pub(crate) woken: Mutex<Vec<TaskKey>>,
    pub(crate) wakeup: Arc<Completions>,
}

impl Header {
    // ANCHOR: schedule_solution
    /// A wake: marks the task scheduled and returns true when the caller must queue an entry
    /// for it; returns false when no entry is needed (it is queued already, or done) or when it
    /// is running (then it is marked notified, and the poll in progress queues it again).
    pub(crate) fn schedule(&self) -> bool {
        // exercise: a wake queues an idle task once, and never loses a wake during a poll
        // contract: true exactly when this wake made an idle task scheduled (SCHEDULED added): the
        // contract: caller must queue one entry for it. false, with nothing changed, for a task
        // contract: already scheduled, notified or done; false for a running task, which is marked
        // contract: NOTIFIED instead (the poll in progress queues it again). Other threads may
        // contract: change the state meanwhile: the change must be one atomic step from the state
        // contract: it was decided on.
        // contract: Example: idle: true, state SCHEDULED; woken again: false, no second entry;
        // contract: RUNNING: false, state RUNNING | NOTIFIED.
        // nudge: Which states need an entry, which need only a mark, and which nothing? What if
        // nudge: another thread changes the word between your load and your store?
        // hint: Load the state and loop on compare_exchange: DONE, SCHEDULED or NOTIFIED set means
        // hint: there is nothing to do (false). RUNNING set: add NOTIFIED (false). Otherwise the
        // hint: task is idle: add SCHEDULED, and true tells the caller to queue it.
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & (DONE | SCHEDULED | NOTIFIED) != 0 {
                return false;
            }
            let (next, queue) = if state & RUNNING != 0 {
                (state | NOTIFIED, false)
            } else {
                (state | SCHEDULED, true)
            };
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return queue,
                Err(actual) => state = actual,
            }
        }
        // end exercise
    }
    // ANCHOR_END: schedule_solution

    // ANCHOR: start_solution
    /// An entry runs: scheduled becomes running, and true says the entry may poll the task.
    /// False for an entry that must do nothing: the task is not scheduled (a stale entry) or
    /// is done.
    pub(crate) fn start(&self) -> bool {
        // exercise: an entry may poll only a task that is scheduled and not done
        // contract: true, with SCHEDULED replaced by RUNNING in one atomic step, when the task is
        // contract: scheduled and not done: this entry may poll it. false, with nothing changed,
        // contract: otherwise (an entry for a task that finished or was never scheduled).
        // contract: Example: SCHEDULED: true, state RUNNING; DONE | SCHEDULED: false.
        // nudge: One entry, one poll: what must the word say for this entry to be the one that
        // nudge: polls?
        // hint: If SCHEDULED is clear or DONE is set, return false. Otherwise replace SCHEDULED by
        // hint: RUNNING in one compare_exchange (other threads may add bits meanwhile: loop).
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & SCHEDULED == 0 || state & DONE != 0 {
                return false;
            }
            let next = (state & !SCHEDULED) | RUNNING;
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
        // end exercise
    }
    // ANCHOR_END: start_solution

    // ANCHOR: finish_poll_solution
    /// A poll returned. `ready`: the task is done for good. Otherwise it goes back to idle —
    /// unless it was woken while running: then it is scheduled again and true tells the caller
    /// to queue a new entry.
    pub(crate) fn finish_poll(&self, ready: bool) -> bool {
        // exercise: after a poll, the task is done, idle, or queued again if woken meanwhile
        // contract: After a Ready poll the task is DONE for good (false). After a Pending poll it
        // contract: is not RUNNING any more; if it was woken during the poll (NOTIFIED), that mark
        // contract: is gone, it is SCHEDULED again and the result is true (the caller queues one
        // contract: entry); else it is idle (false). A wake arriving meanwhile from another thread
        // contract: is never lost.
        // contract: Example: RUNNING | NOTIFIED, Pending: true, state SCHEDULED; RUNNING, Pending:
        // contract: false, state idle (0).
        // nudge: Where does a wake that came during the poll show up, and what does it owe the task
        // nudge: now?
        // hint: Ready: store DONE, return false. Pending: loop on compare_exchange clearing
        // hint: RUNNING; if NOTIFIED was set, clear it too, set SCHEDULED, and return true.
        if ready {
            self.state.store(DONE, Ordering::Release);
            return false;
        }
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let notified = state & NOTIFIED != 0;
            let mut next = state & !(RUNNING | NOTIFIED);
            if notified {
                next |= SCHEDULED;
            }
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return notified,
                Err(actual) => state = actual,
            }
        }
        // end exercise
    }
    // ANCHOR_END: finish_poll_solution

    /// A poll returned: [`finish_poll`](Self::finish_poll), except when the poll is pending and
    /// woke its own task ([`Polled::Again`]), whose wake is applied by
    /// [`requeue_after_poll`](Self::requeue_after_poll). True: the caller queues an entry.
    ///
    /// [`Polled::Again`]: super::tasks::Polled::Again
    #[inline]
    pub(crate) fn end_poll(&self, ready: bool, woke_itself: bool) -> bool {
        if ready || !woke_itself {
            return self.finish_poll(ready);
        }
        self.requeue_after_poll();
        true
    }

    /// A poll that woke its own task returned `Pending` ([`Polled::Again`]): running becomes
    /// scheduled in one atomic step (a mark that another thread's wake left meanwhile is
    /// answered by the same entry), and the caller queues the entry. The same as the poll's
    /// own `schedule` followed by `finish_poll`, with one atomic step instead of two.
    ///
    /// [`Polled::Again`]: super::tasks::Polled::Again
    #[inline]
    fn requeue_after_poll(&self) {
        let requeued = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some((state & !(RUNNING | NOTIFIED)) | SCHEDULED)
            });
        debug_assert!(
            requeued.is_ok_and(|state| state & RUNNING != 0),
            "only a running task"
        );
    }

    /// The running task is polled again at once, in place of the entry a wake would queue:
    /// a wake from another thread that marked it notified meanwhile is answered by that poll.
    #[inline]
    pub(crate) fn answer_notified(&self) {
        if self.state.load(Ordering::Acquire) & NOTIFIED != 0 {
            self.state.fetch_and(!NOTIFIED, Ordering::AcqRel);
        }
    }

    /// Marks the task done without a poll (aborted before it ran, or its loop is gone).
    pub(crate) fn set_done(&self) {
        self.state.store(DONE, Ordering::Release);
    }

    /// True once [`ABORT`] was set.
    pub(crate) fn abort_requested(&self) -> bool {
        self.state.load(Ordering::Acquire) & ABORT != 0
    }

    /// True once the task finished.
    pub(crate) fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) & DONE != 0
    }

    /// Asks for the task to be dropped at its next entry, and wakes it so that entry exists.
    pub(crate) fn request_abort(self: &Arc<Self>) {
        let state = self.state.fetch_or(ABORT, Ordering::AcqRel);
        if state & DONE == 0 {
            self.wake_by_ref();
        }
    }
}

impl Inbox {
    // ANCHOR: send_solution
    /// Queues an entry for the task `key`, which a wake just scheduled: on the loop's own
    /// thread as a microtask (through the loop's task state, found by this inbox); from any
    /// other thread on the inbox, then the loop's wake-up is sent so a loop asleep in its
    /// poll phase wakes and picks it up.
    pub(crate) fn send(self: &Arc<Self>, key: TaskKey) {
        // exercise: queue the entry: here as a microtask, from another thread through the inbox
        // contract: The task's entry is queued where its loop will run it: on the loop's own thread
        // contract: as a microtask of its task state, at once; from any other thread on the inbox
        // contract: (self.woken), and the loop is woken only after the key is there, so the woken
        // contract: loop finds it.
        // contract: Example: a wake from a pool thread: woken holds the key, then the loop's
        // contract: wake-up is sent.
        // nudge: Who may touch the loop's task state, and from which thread? In which order must
        // nudge: the other thread leave the key and ring the bell?
        // hint: local_tasks(self) finds the loop's task state when this thread runs the loop: then
        // hint: call its queue_entry(key). Otherwise push key on self.woken (a Mutex), and only
        // hint: then send self.wakeup.wakeup(), so the loop finds the key when it wakes.
        if let Some(tasks) = local_tasks(self) {
            tasks.queue_entry(key);
            return;
        }
        self.woken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(key);
        self.wakeup.wakeup().send();
        // end exercise
    }
    // ANCHOR_END: send_solution
}

impl Wake for Header {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    // ANCHOR: wake
    /// `Waker::wake`: schedule, and queue an entry if the task was idle.
    fn wake_by_ref(self: &Arc<Self>) {
        if self.schedule() {
            self.inbox.send(self.key);
        }
    }
    // ANCHOR_END: wake
}
