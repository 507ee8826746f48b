//! Wake-ups that do not come from the loop's own sources (chapter 10): a task woken by another
//! thread, or by code that had no `&mut EventLoop` at hand when it woke it.
//!
//! The loop knows nothing of tasks. A service that can be woken that way (the `task` module)
//! installs itself as the loop's [`WakeSource`], and the loop asks it three questions in two
//! places: at every checkpoint, whether work is waiting that must become microtasks now; in the
//! poll phase, whether another thread may still wake the loop (then waiting for the pool's
//! wake-up is not a hang, and the loop must not call the run stalled), and — once woken — to
//! turn what arrived into microtasks. Other threads reach the loop through the thread pool's
//! existing wake-up ([`Completions`]'s `uv_async`-like bit and eventfd), so a cross-thread wake
//! costs no descriptor of its own.

use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

use super::EventLoop;
use crate::threadpool::Completions;

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
    /// The service itself, to be downcast by its owner.
    fn as_any(self: Rc<Self>) -> Rc<dyn Any>;
}

impl EventLoop {
    /// The installed wake source, if any.
    pub(crate) fn wake_source(&self) -> Option<Rc<dyn WakeSource>> {
        self.wake_source.clone()
    }

    /// Installs the loop's wake source (once: the `task` module's state).
    pub(crate) fn set_wake_source(&mut self, source: Rc<dyn WakeSource>) {
        self.wake_source = Some(source);
    }

    /// The queue and wake-up the thread pool's workers use: another thread that sends on its
    /// wake-up wakes this loop wherever it waits (condition variable or eventfd).
    pub(crate) fn pool_wakeup(&self) -> Arc<Completions> {
        self.completions.clone()
    }

    /// Runs `f` in a frame named `name` — a callback boundary, where a panic becomes the
    /// program's uncaught error ([`EventLoop::on_uncaught_exception`]).
    pub(crate) fn run_in_frame(&mut self, name: &'static str, f: impl FnOnce(&mut EventLoop)) {
        self.call_in_frame(name, f);
    }

    /// Queues the tasks woken since the last microtask was queued, ahead of the next one.
    #[inline]
    pub(super) fn flush_woken_tasks(&mut self) {
        if let Some(source) = &self.wake_source
            && source.has_woken()
        {
            let source = source.clone();
            source.queue_woken(self);
        }
    }

    /// Queues a task's entry: a microtask in a frame named `task`, held by the task itself.
    /// The caller (the wake source) has queued the tasks woken before it.
    pub(crate) fn queue_task_entry(&mut self, entry: Rc<dyn crate::promise::Job>) {
        self.microtasks
            .queue_microtask(("task", super::Task::Reaction(entry)));
    }

    /// True when the checkpoint must dispatch the wake source.
    #[inline]
    pub(super) fn local_wakes_waiting(&self) -> bool {
        self.wake_source.as_ref().is_some_and(|s| s.has_local())
    }

    /// Dispatches the wake source, when something local waits (the checkpoint's case: what
    /// other threads sent waits for the poll phase, which takes the inbox's lock once).
    pub(super) fn dispatch_wakes(&mut self) {
        if let Some(source) = &self.wake_source
            && source.has_local()
        {
            let source = source.clone();
            source.dispatch(self);
        }
    }

    /// Another thread may still wake the loop through the wake source.
    pub(super) fn may_wake_remotely(&self) -> bool {
        self.wake_source.as_ref().is_some_and(|s| s.may_wake())
    }

    /// After the poll phase waited: clears the pool's wake-up bit when no job can be behind it
    /// (with jobs in flight, `run_completions` cleared it), so the next send notifies again,
    /// then dispatches what other threads sent.
    pub(super) fn dispatch_remote_wakes(&mut self) {
        if self.wake_source.is_none() {
            return;
        }
        if self.in_flight.is_empty() {
            self.completions.wakeup().take();
        }
        if let Some(source) = self.wake_source.clone() {
            source.dispatch(self);
        }
        self.checkpoint(); // as after any callback of the poll phase
    }

    /// The poll phase of a loop without a poller, when a wake source exists: waits for the
    /// pool's wake-up (at most `timeout`; on a manual clock a deadline is jumped to, since a
    /// wake from another thread, unlike a job's completion, may never come), then runs the
    /// completions and the wakes. Returns false, having done nothing, when the wake source
    /// cannot be woken from elsewhere and no job is in flight: the ordinary poll phase then
    /// decides.
    pub(super) fn poll_wake_source(&mut self, timeout: Option<u64>) -> bool {
        if self.wake_source.is_none() {
            return false;
        }
        let pending = self.completions.wakeup().is_pending();
        if self.work_in_flight() > 0 {
            if !pending {
                self.wait_for_pool(timeout);
            }
        } else if pending || timeout == Some(0) {
            // something arrived already, or nothing may wait
        } else if let Some(ms) = timeout {
            let deadline = self.now.saturating_add(ms);
            if !self.clock.jump_to(deadline) {
                self.completions
                    .wakeup()
                    .wait(Some(std::time::Duration::from_millis(ms)));
            }
        } else if self.may_wake_remotely() {
            self.completions.wakeup().wait(None);
        } else {
            return false; // nothing can wake it: the caller stalls
        }
        self.update_time();
        self.run_completions();
        self.dispatch_remote_wakes();
        true
    }
}
