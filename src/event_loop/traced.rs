//! The loop's side of tracing (chapter 12): switching it on, the helpers every trace point
//! goes through, and noting what the program printed.
//!
//! Every trace point in the loop is a call to [`note`](EventLoop::note) (or one of the helpers
//! below, which call it): one branch when tracing is off, and the event is never built.

use super::{EventLoop, RunMode};
use crate::heap::Key;
use crate::trace::{Phase, PollNote, Queue, QueueLengths, TraceEvent};

impl EventLoop {
    // ANCHOR: note
    /// Records the event `event()` makes, at the loop's cached time, when tracing is on.
    /// Off, this is one branch and `event` is never called: nothing is built or copied.
    #[inline]
    pub(super) fn note(&self, event: impl FnOnce() -> TraceEvent) {
        self.trace.record(self.now, event);
    }
    // ANCHOR_END: note

    /// Notes that a callback joined `queue`, queued by the frame running now. Queueing is
    /// a hot path (a `nextTick` chain queues millions): the branch stays here, the rest is out
    /// of line.
    #[inline]
    pub(super) fn note_queued(&self, queue: Queue, name: &'static str, key: Option<Key>) {
        if self.trace.is_enabled() {
            self.record_queued(queue, name, key);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_queued(&self, queue: Queue, name: &'static str, key: Option<Key>) {
        let (at, key, by) = (self.now, key.map(Key::to_bits), self.stack.top());
        if !self.trace.queued_short(at, queue, name, key, by) {
            self.record_queued_long(queue, name, key);
        }
    }

    #[inline(never)]
    fn record_queued_long(&self, queue: Queue, name: &'static str, key: Option<u64>) {
        self.trace
            .queued(self.now, queue, name, key, self.stack.top());
    }

    /// Notes that the entry `key` (or, with none, the oldest) left `queue`.
    #[inline]
    pub(super) fn note_unqueued(&self, queue: Queue, key: Option<Key>) {
        if self.trace.is_enabled() {
            self.record_unqueued(queue, key);
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn record_unqueued(&self, queue: Queue, key: Option<Key>) {
        let key = key.map(Key::to_bits);
        if !self.trace.unqueued_short(self.now, queue, key) {
            self.record_unqueued_long(queue, key);
        }
    }

    #[inline(never)]
    fn record_unqueued_long(&self, queue: Queue, key: Option<u64>) {
        self.trace.unqueued(self.now, queue, key);
    }

    // ANCHOR: note_phase
    /// A phase begins: noted with the length of every queue. The phase before it ends here
    /// too: the recorder writes its `PhaseEnd` first, so a phase costs one branch, not two.
    #[inline]
    pub(super) fn enter_phase(&self, phase: Phase) {
        if self.trace.is_enabled() {
            self.note_phase(phase);
        }
    }

    /// Notes a phase the cheapest way that will do: the short way (no call at all), else with
    /// the queues counted, else the long way. Each fallback is the function's last act, so it
    /// is a jump, and the short way's function saves no registers for it.
    #[cold]
    #[inline(never)]
    fn note_phase(&self, phase: Phase) {
        if self.trace.alive_due() {
            self.note_alive_and_phase(phase);
        } else if !self
            .trace
            .phase_short(self.now, phase, || self.queue_lengths())
        {
            self.note_phase_counted(phase);
        }
    }

    /// A phase begins after something that may have changed a queue: the queues are counted,
    /// and when none changed, the phase still goes the short way (a busy loop's callbacks
    /// mostly leave the lengths as they found them: an immediate runs, and queues the next).
    #[inline(never)]
    fn note_phase_counted(&self, phase: Phase) {
        if !self
            .trace
            .phase_counted_short(self.now, phase, self.queue_lengths())
        {
            self.note_phase_long(phase);
        }
    }

    #[inline(never)]
    fn note_phase_long(&self, phase: Phase) {
        self.trace.phase(self.now, phase, || self.queue_lengths());
    }
    // ANCHOR_END: note_phase

    /// The loop's decision to go on, which waited for this phase, and the phase.
    #[inline(never)]
    fn note_alive_and_phase(&self, phase: Phase) {
        let kept_by = (
            self.liveness.active_handles(),
            self.liveness.active_requests(),
        );
        let lengths = || self.queue_lengths();
        if !self
            .trace
            .alive_then_phase_short(self.now, kept_by, phase, lengths)
        {
            self.trace
                .alive_then_phase(self.now, kept_by, phase, || self.queue_lengths());
        }
    }

    /// Notes the loop's decision whether it is alive, taken after an iteration of a run in
    /// `mode`. When it goes on into another iteration, the decision is written with that
    /// iteration's first phase: nothing happens between the two, and one call does for both.
    #[inline]
    pub(super) fn note_alive_after_iteration(&self, alive: bool, mode: RunMode) {
        if self.trace.is_enabled() {
            if alive && mode == RunMode::Default && !self.status.stop {
                self.trace.alive_goes_on();
            } else {
                self.record_alive(alive);
            }
        }
    }

    /// Notes what keeps the loop alive, and the decision `alive` taken from it.
    #[inline]
    pub(super) fn note_alive(&self, alive: bool) {
        if self.trace.is_enabled() {
            self.record_alive(alive);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_alive(&self, alive: bool) {
        self.note(|| TraceEvent::Alive {
            handles: self.liveness.active_handles(),
            requests: self.liveness.active_requests(),
            alive,
        });
    }

    /// Notes the poll phase once its wait is over (see [`Trace::poll`]): it began, and waited
    /// `timeout`, at `began`; the kernel reported `ready` descriptors, if it was asked.
    #[inline]
    pub(super) fn note_poll(&self, began: u64, timeout: Option<u64>, ready: Option<usize>) {
        if self.trace.is_enabled() {
            self.record_poll(began, timeout, ready);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_poll(&self, began: u64, timeout: Option<u64>, ready: Option<usize>) {
        let poll = PollNote {
            began,
            timeout,
            ready,
            stalled: self.status.stalled,
            woke: self.now,
            events: self.io.poller.as_ref().map_or(0, |io| io.undispatched())
                + usize::from(self.work.completions.wakeup().is_pending()),
        };
        if !self.trace.poll_short(&poll, || self.queue_lengths()) {
            self.trace.poll(&poll, || self.queue_lengths());
        }
    }

    /// A wait of the poll phase cut short by a panic (a failed `epoll_wait`, a pool with no
    /// worker left): the phase and its wait, so the trace's tail shows where the loop was.
    #[cold]
    #[inline(never)]
    pub(super) fn note_poll_cut_short(&self, timeout: Option<u64>) {
        self.trace
            .phase(self.now, Phase::Poll, || self.queue_lengths());
        self.note(|| TraceEvent::PollWait(timeout));
    }

    /// How many entries each queue holds now.
    fn queue_lengths(&self) -> QueueLengths {
        QueueLengths {
            timers: self.timers.node.len() + self.user_timers(),
            immediates: self.immediates.len(),
            ticks: self.jobs.microtasks.ticks(),
            microtasks: self.jobs.microtasks.microtasks(),
            pending: self.queues.pending.len(),
            closing: self.queues.closing.len(),
            pool: self.work.in_flight.len(),
        }
    }

    /// Started libuv timer handles other than the one Node's timeouts share.
    fn user_timers(&self) -> usize {
        let node = self
            .handle_key(self.timers.node_handle)
            .and_then(|key| self.handles.get(key))
            .and_then(|h| h.timer)
            .is_some_and(|t| self.timers.uv.is_active(t));
        self.timers.uv.len().saturating_sub(usize::from(node))
    }

    /// Starts recording [`TraceEvent`]s in memory, for [`take_trace`](Self::take_trace).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.enable_trace();
    /// lp.set_immediate(|_| {});
    /// lp.run(RunMode::Default);
    /// assert!(!lp.take_trace().is_empty());
    /// ```
    pub fn enable_trace(&mut self) {
        self.trace.enable();
        self.work.completions.trace_runs();
    }

    /// Takes the events kept in memory so far (see [`enable_trace`](Self::enable_trace)).
    ///
    /// ```
    /// use eventloop::prelude::*;
    /// use eventloop::trace::TraceEvent;
    ///
    /// let mut lp = EventLoop::builder().trace_in_memory().build().unwrap();
    /// lp.log("hello");
    /// assert!(lp.take_trace().contains(&TraceEvent::Output("hello".into())));
    /// assert!(lp.take_trace().is_empty()); // taken
    /// ```
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.take()
    }

    /// Flushes the trace's writer, if the loop has one; reports the first error met while
    /// writing it. (Dropping the loop flushes too, but can only print such an error.)
    ///
    /// # Errors
    /// The writer's first error.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let lp = EventLoop::new(); // no trace: nothing to flush
    /// assert!(lp.finish_trace().is_ok());
    /// ```
    pub fn finish_trace(&self) -> std::io::Result<()> {
        self.trace.finish()
    }

    /// `console.log` for a program on this loop: prints `line` to stdout and, when the loop
    /// is traced, records it at the loop's time, so a replay shows what was printed when.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.set_immediate(|lp| lp.log("printed, and noted in the trace if there is one"));
    /// lp.run(RunMode::Default);
    /// ```
    pub fn log(&self, line: impl Into<String>) {
        let line = line.into();
        println!("{line}");
        self.note(move || TraceEvent::Output(line));
    }
}
