//! One iteration of the loop, phase by phase: libuv's `uv_run` (`src/unix/core.c`, libuv ≥ 1.46).
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

use super::handles::HandleId;
use super::{EventLoop, Pending, RunMode};
use crate::trace::{Phase, TraceEvent};

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
    pub fn run(&mut self, mode: RunMode) -> bool {
        assert!(
            !self.running,
            "EventLoop::run was called from inside one of the loop's own callbacks; \
             the loop is not reentrant (nor is libuv's uv_run)"
        );
        self.running = true;
        let alive = super::process::repair_on_unwind(
            self,
            &mut (),
            |lp, ()| lp.run_loop(mode),
            |lp, ()| lp.running = false,
        );
        self.running = false;
        alive
    }

    fn run_loop(&mut self, mode: RunMode) -> bool {
        self.stalled = false;
        if self.stack.is_empty() {
            // Code that ran before `run`, outside any callback, is this program's main script:
            // the ticks and microtasks it queued run now, as Node runs them after the script.
            self.checkpoint();
        }
        let mut alive = self.is_alive();
        if !alive {
            self.update_time();
        }
        if mode == RunMode::Default && alive && !self.stop_flag {
            self.update_time();
            self.run_timers();
        }
        while alive && !self.stop_flag {
            self.iterate(mode);
            alive = self.is_alive();
            if mode != RunMode::Default {
                break;
            }
        }
        self.stop_flag = false;
        self.trace.record(|| TraceEvent::RunReturned(alive));
        alive
    }

    /// One iteration in [`RunMode::Once`]: waits in poll only when there was nothing to do at
    /// once. Returns whether the loop is still alive.
    pub fn run_once(&mut self) -> bool {
        self.run(RunMode::Once)
    }

    /// One iteration: one call per phase, in libuv's order.
    fn iterate(&mut self, mode: RunMode) {
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
    pub fn is_alive(&self) -> bool {
        self.liveness
            .is_alive(!self.pending.is_empty(), !self.closing.is_empty())
    }

    /// How long the poll phase may wait (`uv__backend_timeout`): `Some(0)` when there is
    /// something to do at once, `None` to wait until woken, else the time to the next timer.
    pub fn backend_timeout(&self) -> Option<u64> {
        // TODO: when may the poll phase sleep, and for how long?.
        // Some(0) when the loop must not sleep: it was stopped, nothing keeps it alive,
        // or callbacks are pending, idle handles are active, or handles are closing.
        // Otherwise the wait until the next timer: None when there is no timer (wait
        // until woken), Some(0) for one already due.
        // Example: a timer due in 30 ms and nothing else to do: Some(30); the same with
        // an immediate queued (an active idle handle): Some(0).
        todo!("when may the poll phase sleep, and for how long?")
    }

    /// Pending phase: callbacks deferred from the last poll, as a snapshot — ones deferred
    /// while it runs wait for the next drain (`uv__run_pending`).
    fn run_pending(&mut self) {
        self.enter_phase(Phase::Pending);
        for entry in std::mem::take(&mut self.pending) {
            match entry {
                Pending::Callback(name, callback) => {
                    self.invoke(callback, name);
                    self.checkpoint();
                }
                Pending::Fed(watch) => self.run_fed(watch), // with its checkpoint
            }
        }
    }

    fn run_idle(&mut self) {
        self.enter_phase(Phase::Idle);
        let snapshot = self.idle.clone();
        self.run_watchers(&snapshot, |lp| &lp.idle);
    }

    fn run_prepare(&mut self) {
        self.enter_phase(Phase::Prepare);
        let snapshot = self.prepare.clone();
        self.run_watchers(&snapshot, |lp| &lp.prepare);
    }

    fn run_check(&mut self) {
        self.enter_phase(Phase::Check);
        let snapshot = self.check.clone();
        self.run_watchers(&snapshot, |lp| &lp.check);
    }

    /// Runs the idle, prepare or check handles that were started when the phase began, newest
    /// first (libuv inserts at the head of the list). One stopped by an earlier callback is
    /// skipped; one started during the phase waits for the next iteration.
    fn run_watchers(
        &mut self,
        snapshot: &[(HandleId, u64)],
        list: impl Fn(&EventLoop) -> &Vec<(HandleId, u64)>,
    ) {
        for entry in snapshot.iter().rev() {
            if list(self).contains(entry) {
                self.run_handle(entry.0);
            }
        }
    }

    /// Poll phase. Once the loop watches a file descriptor it has a poller, and the wait
    /// happens in the kernel ([`poll_kernel`](Self::poll_kernel), chapter 8). A loop that
    /// never watched one has no I/O but the thread pool's: with jobs in flight, it waits for a
    /// worker's wake-up (at most `timeout`), then runs the finished jobs' callbacks. With
    /// nothing in flight it only waits for time to pass: with a manual clock by jumping to the
    /// deadline, with the system clock by sleeping. A wait with no deadline and nothing in
    /// flight could never end, so the run stops instead of hanging.
    fn poll_io(&mut self, timeout: Option<u64>) {
        self.enter_phase(Phase::Poll);
        self.trace.record(|| TraceEvent::PollWait(timeout));
        if self.io.is_some() {
            self.poll_kernel(timeout); // chapter 8: wait in the kernel
            return;
        }
        if self.work_in_flight() > 0 {
            self.wait_for_pool(timeout);
            self.update_time();
            self.run_completions();
            return;
        }
        match timeout {
            Some(0) => {}
            Some(ms) => {
                let deadline = self.now.saturating_add(ms);
                if !self.clock.jump_to(deadline) {
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
            }
            None => {
                self.trace.record(|| TraceEvent::Stalled);
                self.stalled = true;
                self.stop_flag = true;
            }
        }
        self.update_time();
    }

    /// Closing phase: close callbacks, newest `close` first (`uv__run_closing_handles`).
    /// Handles closed by these callbacks wait for the next iteration.
    fn run_closing(&mut self) {
        self.enter_phase(Phase::Closing);
        let closing = std::mem::take(&mut self.closing);
        for id in closing.into_iter().rev() {
            self.finish_close(id);
        }
    }

    /// Timers phase (`uv__run_timers`, libuv ≥ 1.48): collect the timers due now, then run them;
    /// a repeating one is re-armed before its callback.
    fn run_timers(&mut self) {
        self.enter_phase(Phase::Timers);
        self.uv_timers.collect_due(self.now);
        while let Some(timer) = self.uv_timers.pop_ready(self.now) {
            let handle = *self
                .uv_timers
                .payload(timer)
                .expect("a ready timer is live");
            let active = self.uv_timers.is_active(timer);
            self.set_active(handle, active);
            self.run_handle(handle);
        }
    }
}
