//! One iteration of the loop, phase by phase: libuv's `uv_run` (`src/unix/core.c`) as of
//! libuv 1.48 — the phase order of 1.45, without prelude timers for a stopped or dead loop
//! (1.46), the pending drains after poll of 1.44.2, and the timers pass of 1.48 (collect the
//! due timers, then run them). Node 20 ships libuv 1.46, without that pass; its own timer code
//! gives the same guarantee for `setTimeout` and `setInterval`.
//!
//! ```text
//! pending → idle → prepare → poll (+ up to 8 pending drains) → check → closing → timers
//! ```
//!
//! Timers run at the *end* of each iteration (since libuv 1.45), plus once before the first
//! iteration in [`RunMode::Default`], which makes the familiar picture that starts with timers.

// EXERCISE `phases` (chapter 4): One iteration of uv_run, phase by phase.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn phases`.
// Generated from src/event_loop/phases.rs; `cargo learn reset phases` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use super::{EventLoop, Input, Pending, RunMode};
use crate::heap::Key;
use crate::trace::{Phase, Queue, TraceEvent};

/// How many times the pending queue is drained again right after poll (libuv ≥ 1.44.2).
const PENDING_DRAINS_AFTER_POLL: usize = 8;

impl EventLoop {
    /// Runs the loop (`uv_run`). Returns whether it is still alive: `true` only when stopped
    /// with work left, or after one `Once`/`NoWait` iteration that left work.
    ///
    /// # Panics
    /// When called from inside one of this loop's own callbacks: the loop is not reentrant
    /// (nor is libuv's `uv_run`). Inside [`run_main`](Self::run_main) that panic is the
    /// program's uncaught error.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.set_immediate(|lp| drop(lp.set_immediate(|_| {})));
    /// assert!(lp.run(RunMode::NoWait)); // one iteration: the second immediate is left
    /// assert!(!lp.run(RunMode::Default)); // run until nothing is left
    /// ```
    pub fn run(&mut self, mode: RunMode) -> bool {
        assert!(
            !self.status.running,
            "EventLoop::run was called from inside one of the loop's own callbacks; \
             the loop is not reentrant (nor is libuv's uv_run)"
        );
        self.status.running = true;
        let alive = super::process::repair_on_unwind(
            self,
            &mut (),
            |lp, ()| lp.run_loop(mode),
            |lp, ()| {
                // As if `run` had returned: the next one starts afresh.
                lp.status.running = false;
                lp.status.stop = false;
            },
        );
        self.status.running = false;
        alive
    }

    fn run_loop(&mut self, mode: RunMode) -> bool {
        self.status.stalled = false;
        if self.stack.is_empty() {
            // Code that ran before `run`, outside any callback, is this program's main script:
            // the ticks and microtasks it queued run now, as Node runs them after the script.
            self.checkpoint();
        }
        let mut alive = self.is_alive();
        self.note_alive(alive);
        if !alive {
            self.update_time();
        }
        if mode == RunMode::Default && alive && !self.status.stop {
            self.update_time();
            self.run_timers();
        }
        while alive && !self.status.stop {
            self.run_once(mode);
            alive = self.is_alive();
            self.note_alive_after_iteration(alive, mode);
            if mode != RunMode::Default {
                break;
            }
        }
        self.status.stop = false;
        self.note(|| TraceEvent::RunReturned(alive));
        alive
    }

    /// One iteration, the body of `uv_run`'s loop: one call per phase, in libuv's order. `mode`
    /// decides whether the poll phase may wait.
    fn run_once(&mut self, mode: RunMode) {
        // TODO: visit the phases of one iteration in libuv's order.
        // One iteration has visited every phase once, in libuv's order: pending, idle,
        // prepare, poll, then up to PENDING_DRAINS_AFTER_POLL more pending drains while
        // callbacks were deferred, check, closing, and the timers after updating the
        // time. The poll waits as backend_timeout says in Default mode, and in Once mode
        // only if nothing was pending or idle when the iteration began; otherwise it only
        // looks (Some(0)).
        // Example: with an immediate queued and a timer due, the immediate's check phase
        // runs before the timers phase of the same iteration.
        todo!("visit the phases of one iteration in libuv's order")
    }

    /// Whether anything keeps the loop running (`uv__loop_alive`): an active, ref'd handle, a
    /// request in flight, a deferred callback, or a handle that is closing.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// assert!(!lp.is_alive());
    /// let t = lp.set_timeout(|_| {}, 1);
    /// assert!(lp.is_alive());
    /// t.unref(&mut lp);
    /// assert!(!lp.is_alive()); // an unref'd timer does not count
    /// ```
    pub fn is_alive(&self) -> bool {
        self.liveness.is_alive(
            !self.queues.pending.is_empty(),
            !self.queues.closing.is_empty(),
        )
    }

    /// How long the poll phase may wait (`uv__backend_timeout`): `Some(0)` when there is
    /// something to do at once, `None` to wait until woken, else the time to the next timer.
    pub(crate) fn backend_timeout(&self) -> Option<u64> {
        // TODO: when may the poll phase sleep, and for how long?.
        // Some(0) when the loop must not sleep: it was stopped, nothing keeps it alive,
        // or callbacks are pending, idle handles are active, or handles are closing.
        // Otherwise the wait until the next timer: None when there is no timer (wait
        // until woken), Some(0) for one already due.
        // Example: a timer due in 30 ms and nothing else to do: Some(30); the same with
        // an immediate queued (an active idle handle): Some(0).
        todo!("when may the poll phase sleep, and for how long?")
    }

    /// Pending phase: callbacks deferred from the last poll, in one pass — ones deferred
    /// while it runs wait for the next (`uv__run_pending`).
    fn run_pending(&mut self) {
        self.enter_phase(Phase::Pending);
        self.queues.pending.begin_pass(false);
        while let Some(entry) = self.queues.pending.next() {
            match entry {
                Pending::Callback(name, callback) => {
                    self.note_unqueued(Queue::Pending, Some(callback));
                    self.invoke(callback, name, Input::None);
                    self.checkpoint();
                }
                Pending::Fed(watch) => self.run_fed(watch), // with its checkpoint
            }
        }
    }

    fn run_idle(&mut self) {
        self.enter_phase(Phase::Idle);
        self.run_handles(|lp| &lp.queues.idle);
    }

    fn run_prepare(&mut self) {
        self.enter_phase(Phase::Prepare);
        self.run_handles(|lp| &lp.queues.prepare);
    }

    fn run_check(&mut self) {
        self.enter_phase(Phase::Check);
        self.run_handles(|lp| &lp.queues.check);
    }

    /// Runs the idle, prepare or check handles that were started when the phase began, newest
    /// first (libuv inserts at the head of the list). One stopped by an earlier callback is
    /// skipped; one started during the phase waits for the next iteration. The list is in
    /// start order, so the walk goes down from the newest start the phase may run: it reads
    /// the loop's list afresh at each step and copies nothing.
    fn run_handles(&mut self, list: impl Fn(&EventLoop) -> &Vec<(Key, u64)>) {
        let mut below = self.queues.start_seq + 1; // started later than this: next iteration
        loop {
            let handles = list(self);
            let older = handles.partition_point(|&(_, seq)| seq < below);
            let Some(&(handle, seq)) = older.checked_sub(1).map(|i| &handles[i]) else {
                return;
            };
            below = seq;
            self.run_handle(handle);
        }
    }

    /// Poll phase: waits up to `timeout` ms (`None`: until something happens), then runs what
    /// became ready — the watchers of ready descriptors, then the thread pool's finished jobs —
    /// each callback followed by a checkpoint (`uv__io_poll`, `uv__work_done`).
    ///
    /// Whether anything could end the wait is decided here, once: an active descriptor
    /// watcher (chapter 8) or a job in flight (chapter 7). Then the loop waits for it — in the
    /// kernel once it has a poller, else for a worker's wake-up. If nothing could, only time
    /// can pass: a manual clock jumps to the deadline, the system clock is slept on, and a
    /// wait with no deadline, which could never end, stops the run instead of hanging. Work a
    /// panic cut short in an earlier poll phase is ready already: the phase does not wait.
    fn poll_io(&mut self, timeout: Option<u64>) {
        let timeout = if self.left_over_from_poll() {
            Some(0)
        } else {
            timeout
        };
        let began = self.now;
        let mut ready = None;
        if self.can_be_woken() {
            if self.io.poller.is_some() {
                ready = self.poll_kernel(timeout); // chapter 8: wait in the kernel
            } else {
                self.wait_for_pool(timeout); // chapter 7: wait for a worker
            }
        } else if !self.wait_for_remote_wake(timeout) {
            self.let_time_pass(timeout);
        }
        self.update_time(); // libuv refreshes the time after every wait
        // The phase, its wait and what ended it, in the trace: noted now, in one go.
        self.note_poll(began, timeout, ready);
        self.run_ready_watchers();
        self.run_completions();
        self.dispatch_remote_wakes(); // chapter 10: tasks woken by other threads
    }

    /// Whether anything registered could end a wait in the poll phase: an active descriptor
    /// watcher, ref'd or not, or a thread-pool job whose callback has not run.
    fn can_be_woken(&self) -> bool {
        self.io
            .poller
            .as_ref()
            .is_some_and(|io| io.active_watchers() > 0)
            || !self.work.in_flight.is_empty()
    }

    /// True when an earlier poll phase left ready events or finished jobs undelivered (a
    /// callback's panic went on to the embedder before their turn).
    fn left_over_from_poll(&self) -> bool {
        !self.work.done.is_empty()
            || self
                .io
                .poller
                .as_ref()
                .is_some_and(|io| io.undispatched() > 0)
    }

    /// The poll phase with nothing that could wake it: time passes, and nothing else can
    /// happen. A manual clock jumps to the deadline; the system clock is slept on; with no
    /// deadline the run stops ([`TraceEvent::Stalled`]) rather than wait forever.
    fn let_time_pass(&mut self, timeout: Option<u64>) {
        match timeout {
            Some(0) => {}
            Some(ms) => {
                let deadline = self.now.saturating_add(ms);
                if !self.clock.jump_to(deadline) {
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
            }
            None => {
                self.status.stalled = true; // the trace's `Stalled`: see `note_poll`
                self.status.stop = true;
            }
        }
    }

    /// Closing phase: close callbacks, newest `close` first (`uv__run_closing_handles`).
    /// Handles closed by these callbacks wait for the next iteration.
    fn run_closing(&mut self) {
        self.enter_phase(Phase::Closing);
        self.queues.closing.begin_pass(true);
        while let Some(handle) = self.queues.closing.next() {
            self.finish_close(handle);
        }
    }

    /// Timers phase (`uv__run_timers`, libuv ≥ 1.48): collect the timers due now, then run them;
    /// a repeating one is re-armed before its callback.
    fn run_timers(&mut self) {
        self.enter_phase(Phase::Timers);
        self.timers.uv.collect_due(self.now);
        while let Some(timer) = self.timers.uv.pop_ready(self.now) {
            let handle = *self
                .timers
                .uv
                .payload(timer)
                .expect("a ready timer is live");
            let active = self.timers.uv.is_active(timer);
            self.set_active_at(handle, active);
            self.run_handle(handle);
        }
    }
}
