//! Wake-ups that do not come from the loop's own sources (chapter 10): a task woken by another
//! thread, or by code that had no `&mut EventLoop` at hand when it woke it.
//!
//! The loop knows nothing of tasks. A service that can be woken that way (the `task` module)
//! installs itself as the loop's [`WakeSource`], and the loop asks it what waits in two
//! places: at every checkpoint, whether work is waiting that must become microtasks now; in the
//! poll phase, whether another thread may still wake the loop (then waiting for the pool's
//! wake-up is not a hang, and the loop must not call the run stalled), and — once woken — to
//! turn what arrived into microtasks. Other threads reach the loop through the thread pool's
//! existing wake-up ([`Completions`]'s `uv_async`-like bit and eventfd), so a cross-thread wake
//! costs no descriptor of its own.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::EventLoop;
use super::checkpoint::Task;
use crate::microtasks::SharedJob;
use crate::threadpool::Completions;
use crate::trace::Queue;

/// A service that wakes the loop from outside its callbacks.
pub(crate) trait WakeSource {
    /// Something was queued by code that had no `&mut EventLoop`: the next checkpoint must
    /// call [`dispatch`](Self::dispatch).
    fn has_local(&self) -> bool;
    /// Another thread may still send a wake-up through this source. Asked only when the poll
    /// phase would otherwise wait forever with nothing able to wake it.
    fn may_wake(&self) -> bool;
    /// Tasks woken on the loop thread by code without the loop at hand wait to be queued: the
    /// loop calls [`queue_woken`](Self::queue_woken) before it queues any other microtask.
    fn has_woken(&self) -> bool;
    /// Queues the microtasks of the tasks woken so far, in the order they were woken, so each
    /// sits where the wake happened — ahead of every microtask queued after it.
    fn queue_woken(&self, lp: &mut EventLoop);
    /// Turns what was queued — locally or by other threads — into microtasks.
    fn dispatch(&self, lp: &mut EventLoop);
}

/// A flag the wake source raises whenever it queues something local (a command, a task woken
/// by code without the loop at hand), so the checkpoint — which runs after every callback —
/// asks the source what waits only when something may: one load instead of a call through the
/// trait for every question. It may be raised when nothing waits any more (the commands of a
/// poll ran right after it); it is never lowered while something does.
#[derive(Clone, Default)]
pub(crate) struct LocalWakes(Rc<Cell<bool>>);

impl LocalWakes {
    /// Something local was queued: the next checkpoint asks the source.
    #[inline]
    pub(crate) fn raise(&self) {
        self.0.set(true);
    }

    /// Raised: the source may have something local (the checkpoint's cheap first test).
    #[inline]
    pub(super) fn is_raised(&self) -> bool {
        self.0.get()
    }
}

impl EventLoop {
    /// The flag the wake source raises when it queues something local (see [`LocalWakes`]).
    pub(crate) fn local_wakes(&self) -> LocalWakes {
        self.jobs.local_wakes.clone()
    }

    /// Installs the loop's wake source (once: the `task` module's state).
    pub(crate) fn set_wake_source(&mut self, source: Rc<dyn WakeSource>) {
        self.jobs.wake_source = Some(source);
    }

    /// The queue and wake-up the thread pool's workers use: another thread that sends on its
    /// wake-up wakes this loop wherever it waits (condition variable or eventfd).
    pub(crate) fn pool_wakeup(&self) -> Arc<Completions> {
        self.work.completions.clone()
    }

    /// Runs `f` in a frame named `name` — a callback boundary, where a panic becomes the
    /// program's uncaught error ([`EventLoop::on_uncaught_exception`]).
    pub(crate) fn run_in_frame(&mut self, name: &'static str, f: impl FnOnce(&mut EventLoop)) {
        self.call_in_frame(name, f);
    }

    /// Queues a task's entry: a microtask in a frame named `task`, held by the task itself,
    /// behind the tasks woken before it by code without the loop at hand.
    pub(crate) fn queue_task_entry(&mut self, entry: Rc<dyn SharedJob<EventLoop>>) {
        self.flush_woken_tasks();
        self.jobs
            .microtasks
            .queue_microtask(("task", Task::Reaction(entry)));
        self.note_queued(Queue::Microtasks, "task", None);
    }

    /// Queues the tasks woken since the last microtask was queued, ahead of the next one.
    /// The flag's test is inlined into every caller; asking the source is a call of its own,
    /// so the common case (nothing woken that way) saves and restores no registers for it.
    #[inline]
    pub(super) fn flush_woken_tasks(&mut self) {
        if self.jobs.local_wakes.0.get() {
            self.queue_woken_tasks();
        }
    }

    /// [`flush_woken_tasks`](Self::flush_woken_tasks) once the flag is raised.
    #[inline(never)]
    fn queue_woken_tasks(&mut self) {
        if let Some(source) = &self.jobs.wake_source
            && source.has_woken()
        {
            let source = source.clone();
            source.queue_woken(self);
        }
    }

    /// True when the checkpoint must dispatch the wake source.
    #[inline]
    pub(super) fn local_wakes_waiting(&self) -> bool {
        self.jobs.local_wakes.0.get() && self.ask_local_wakes()
    }

    /// Asks the wake source whether something local waits, and lowers the flag if nothing
    /// does (only the loop's thread queues local work, so nothing can arrive in between).
    #[inline(never)]
    fn ask_local_wakes(&self) -> bool {
        let waiting = self
            .jobs
            .wake_source
            .as_ref()
            .is_some_and(|s| s.has_local());
        if !waiting {
            self.jobs.local_wakes.0.set(false);
        }
        waiting
    }

    /// Dispatches the wake source, when something local waits (the checkpoint's case: what
    /// other threads sent waits for the poll phase, which takes the inbox's lock once).
    #[inline]
    pub(super) fn dispatch_wakes(&mut self) {
        if self.local_wakes_waiting() {
            self.dispatch_local_wakes();
        }
    }

    /// Dispatches the wake source: something local waits.
    #[inline(never)]
    fn dispatch_local_wakes(&mut self) {
        if let Some(source) = &self.jobs.wake_source {
            let source = source.clone();
            source.dispatch(self);
        }
    }

    /// The poll phase when no watcher and no pool job can end the wait, but a task may be
    /// woken from another thread: waits for the pool's wake-up, at most `timeout` on the
    /// system clock. Returns false, having waited for nothing, when nothing can send one or
    /// when time alone must pass (a manual clock jumps: a wake from another thread, unlike a
    /// job's completion, may never come); the caller then lets time pass.
    pub(super) fn wait_for_remote_wake(&mut self, timeout: Option<u64>) -> bool {
        let Some(source) = &self.jobs.wake_source else {
            return false;
        };
        let wakeup = self.work.completions.wakeup();
        if wakeup.is_pending() {
            return true; // something arrived already
        }
        match timeout {
            Some(0) => false,
            Some(_) if self.clock.is_manual() => false,
            Some(ms) => {
                wakeup.wait(Some(Duration::from_millis(ms)));
                true
            }
            None if source.may_wake() => {
                wakeup.wait(None);
                true
            }
            None => false, // nothing can wake it: the caller stalls
        }
    }

    /// After the poll phase waited: clears the pool's wake-up bit when no job can be behind it
    /// (with jobs in flight, `run_completions` cleared it), so the next send notifies again,
    /// then dispatches what other threads sent, with a checkpoint, as after any callback of
    /// the poll phase.
    pub(super) fn dispatch_remote_wakes(&mut self) {
        let Some(source) = self.jobs.wake_source.clone() else {
            return;
        };
        if self.work.in_flight.is_empty() {
            self.work.completions.wakeup().take();
        }
        source.dispatch(self);
        self.checkpoint();
    }
}
