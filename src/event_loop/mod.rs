//! The event loop: libuv's `uv_run` with Node's timers and immediates on top.
//!
//! [`EventLoop`] owns everything a program schedules. Callbacks are boxed closures kept in the
//! loop's [`Heap`]; timers, queues and handles hold only keys. To run a callback the loop takes
//! it out of the heap, calls it with `&mut EventLoop` — so it can schedule more work — and puts
//! it back afterwards only if it fires again and its key is still live (the callback may have
//! cleared or closed itself). That take/call/put-back lives in one place, `EventLoop::invoke`.
//!
//! One iteration (`phases.rs`) visits the phases in libuv's order; after every callback that
//! Node would run through `MakeCallback` the loop reaches a *checkpoint*, which drains
//! `process.nextTick` and the microtask queue ([`microtasks`](crate::microtasks)).
//!
//! ```
//! use eventloop::clock::ManualClock;
//! use eventloop::event_loop::{EventLoop, RunMode};
//! use std::{cell::RefCell, rc::Rc};
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let mut lp = EventLoop::with_clock(ManualClock::new());
//! let l = log.clone();
//! lp.set_timeout(move |_| l.borrow_mut().push("timeout after 100 ms"), 100);
//! let l = log.clone();
//! lp.set_immediate(move |_| l.borrow_mut().push("immediate"));
//! lp.run(RunMode::Default);
//! assert_eq!(*log.borrow(), ["immediate", "timeout after 100 ms"]);
//! assert_eq!(lp.now(), 100); // the manual clock jumped straight to the deadline
//! ```

mod handles;
mod immediates;
mod io_watch;
mod node_timers;
#[cfg_attr(feature = "learn-phases", path = "../../exercises/phases.rs")]
mod phases;
mod process;
mod traced;
mod work;

use std::any::Any;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::heap::{Heap, Key};
use crate::microtasks::{Job, Microtasks, Rejection};
use crate::promise::{Handled, Job as ReactionJob};
use crate::refs::Liveness;
use crate::stack::{CallStack, DEFAULT_STACK_LIMIT};
use crate::threadpool::{Completions, ThreadPool};
use crate::timers::{TimerHeap, TimerLists};
use crate::trace::{Phase, Trace, TraceEvent};

pub use handles::{HandleError, HandleId, HandleKind};
pub use immediates::Immediate;
pub use io_watch::FdWatch;
pub use node_timers::{Delay, Timeout, Warning};
pub use process::{ExitCode, Uncaught};
pub use work::WorkRequest;

use handles::Handle;
use immediates::ImmediateQueue;

/// How long [`EventLoop::run`] goes on (`uv_run_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Iterate until nothing keeps the loop alive, or [`EventLoop::stop`] is called.
    Default,
    /// One iteration; wait in poll only if there was nothing to do right away.
    Once,
    /// One iteration that never waits.
    NoWait,
}

// ANCHOR: callback
/// A callback in the loop's heap.
enum Callback {
    /// Runs once and is gone (a timeout, an immediate, a close callback).
    Once(Box<dyn FnOnce(&mut EventLoop)>),
    /// Runs every time its handle fires (an interval, an idle/check/timer handle).
    Repeat(RepeatCallback),
}
// ANCHOR_END: callback

type RepeatCallback = Box<dyn FnMut(&mut EventLoop)>;

/// A queued tick or microtask. It runs exactly once and can never be cancelled, so unlike a
/// timer or an immediate it needs no key in the callback heap: the queue owns it.
pub(super) enum Task {
    /// A closure, boxed.
    Once(Box<dyn FnOnce(&mut EventLoop)>),
    /// A promise reaction made by `then`: it lives in the node of the promise it will
    /// settle, so queueing it allocates nothing (see `promise::Job`).
    Reaction(Rc<dyn ReactionJob>),
}

/// An entry of the pending queue.
pub(super) enum Pending {
    /// A deferred callback, stored in the callback heap.
    Callback(&'static str, Key),
    /// A watcher fed with a writable event (`uv__io_feed`): no allocation, no closure.
    Fed(FdWatch),
}

/// A process event listener (`process.on(…)`), receiving the event.
pub(super) type Listener<E> = Box<dyn FnMut(&mut EventLoop, &E)>;

// ANCHOR: event_loop
/// A single-threaded event loop: libuv's phases, Node's timers and immediates.
pub struct EventLoop {
    clock: Box<dyn Clock>,
    /// The cached loop time in ms (`loop->time`), refreshed only where `uv_run` does.
    now: u64,
    stack: CallStack,
    /// Every closure the program scheduled, by key.
    callbacks: Heap<Option<Callback>>,
    /// Every handle: idle, prepare, check and timer handles, Node's own ones included.
    handles: Heap<Handle>,
    /// Started idle/prepare/check handles, in start order (they run newest first).
    idle: Vec<(HandleId, u64)>,
    prepare: Vec<(HandleId, u64)>,
    check: Vec<(HandleId, u64)>,
    /// Handles waiting for the closing phase, in `close` order (they run newest first).
    closing: Vec<HandleId>,
    /// What runs in the pending phase, in the order it was deferred.
    pending: Vec<Pending>,
    /// libuv's timer heap; the payload is the timer's handle.
    uv_timers: TimerHeap<HandleId>,
    /// Node's timeouts, multiplexed onto one libuv timer handle.
    node_timers: TimerLists<Key>,
    node_timer_handle: HandleId,
    immediates: ImmediateQueue,
    /// `process.nextTick` and the microtask queue: (frame name, callback).
    microtasks: Microtasks<(&'static str, Task)>,
    /// Active ref'd handles and requests in flight: what keeps the loop alive.
    liveness: Liveness,
    stop_flag: bool,
    /// The last poll would have waited forever with nothing able to wake it.
    stalled: bool,
    /// Inside `run`: it is not reentrant.
    running: bool,
    start_seq: u64,
    warning_listeners: Vec<Listener<Warning>>,
    /// Promises rejected with no reaction yet; reported after the next drain if still so.
    pending_rejections: Vec<(Rc<dyn Handled>, Rejection)>,
    rejection_listeners: Vec<Listener<Rejection>>,
    /// The process: `beforeExit`/`exit` listeners, exit code, uncaught errors.
    process: process::Process,
    /// Unhandled rejections nobody listened for.
    unhandled: Vec<Rejection>,
    /// The node of the last promise reaction that finished unobserved, kept for the next
    /// `then` of the same type (see `promise::Job`).
    spare_reaction: Option<Rc<dyn Any>>,
    /// The thread pool this loop's jobs run on, the queue their outcomes come back on, and
    /// the callbacks waiting for them.
    pool: ThreadPool,
    completions: Arc<Completions>,
    in_flight: work::InFlight,
    /// The poller and its watchers, once the loop watched a descriptor (chapter 8).
    io: Option<crate::io::Io<Key>>,
    io_entries: Heap<io_watch::IoEntry>,
    /// The TCP layer's state (chapter 9), created on first use. The loop never looks
    /// inside; it holds it so that a callback, which gets `&mut EventLoop`, reaches every
    /// socket without `Rc<RefCell<…>>` (libuv's loop struct carries its streams' state, such
    /// as `emfile_fd`, the same way).
    net: Option<Box<crate::net::Net>>,
    trace: Trace,
}
// ANCHOR_END: event_loop

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("now", &self.now)
            .field("handles", &self.handles.len())
            .field("liveness", &self.liveness)
            .field("timeouts", &self.node_timers.len())
            .field("immediates", &self.immediates.len())
            .field("stack", &self.stack)
            .finish()
    }
}

/// The fewest frames a loop's stack may hold: the loop nests its own frames a few deep
/// (`main`, `processTimers` → `setTimeout`, `nextTick`, `uncaughtException`, …).
pub const MIN_STACK_LIMIT: usize = 8;

/// Why an [`EventLoop`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The stack limit is below [`MIN_STACK_LIMIT`].
    StackLimitTooSmall(usize),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::StackLimitTooSmall(limit) => write!(
                f,
                "a stack limit of {limit} is too small: the loop itself nests up to \
                 {MIN_STACK_LIMIT} frames"
            ),
        }
    }
}

impl std::error::Error for BuildError {}

/// Sets up an [`EventLoop`]: its clock, stack limit, thread pool and tracing.
pub struct Builder {
    clock: Box<dyn Clock>,
    stack_limit: usize,
    pool: Option<ThreadPool>,
    trace: crate::trace::Setting,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("stack_limit", &self.stack_limit)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The clock the loop reads (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The deepest the call stack may grow (default: [`DEFAULT_STACK_LIMIT`]).
    pub fn stack_limit(mut self, frames: usize) -> Self {
        self.stack_limit = frames;
        self
    }

    /// The thread pool for this loop's jobs (default: [`ThreadPool::global`], shared by every
    /// loop built without one and sized by `UV_THREADPOOL_SIZE`). A pool of its own, such as
    /// `ThreadPool::with_size(1)`, keeps the loop's jobs apart from every other loop's.
    pub fn thread_pool(mut self, pool: ThreadPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Traces the loop from the start into `writer`, in the JSON lines format of
    /// [`trace::format`](crate::trace::format) (give it a `BufWriter`). The writer is flushed
    /// when the loop is dropped, or by [`EventLoop::finish_trace`], which reports a write error.
    pub fn trace(mut self, writer: impl std::io::Write + 'static) -> Self {
        self.trace = crate::trace::Setting::Sink(Box::new(crate::trace::JsonLines::new(writer)));
        self
    }

    /// Traces the loop from the start into a [`TraceSink`](crate::trace::TraceSink) of your own.
    pub fn trace_sink(mut self, sink: impl crate::trace::TraceSink + 'static) -> Self {
        self.trace = crate::trace::Setting::Sink(Box::new(sink));
        self
    }

    /// Keeps every [`TraceEvent`] in memory from the start, for [`EventLoop::take_trace`].
    pub fn trace_in_memory(mut self) -> Self {
        self.trace = crate::trace::Setting::Memory;
        self
    }

    /// Builds the loop.
    ///
    /// # Errors
    /// [`BuildError::StackLimitTooSmall`] for a stack limit below [`MIN_STACK_LIMIT`].
    pub fn build(self) -> Result<EventLoop, BuildError> {
        if self.stack_limit < MIN_STACK_LIMIT {
            return Err(BuildError::StackLimitTooSmall(self.stack_limit));
        }
        Ok(EventLoop::from_builder(self))
    }
}

impl Default for EventLoop {
    fn default() -> Self {
        Self::new()
    }
}

impl EventLoop {
    /// A loop on the system clock.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default stack limit is large enough")
    }

    /// A loop on `clock`, for example a [`ManualClock`](crate::clock::ManualClock) in tests.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self::builder()
            .clock(clock)
            .build()
            .expect("the default stack limit is large enough")
    }

    /// Starts configuring a loop.
    pub fn builder() -> Builder {
        Builder {
            clock: Box::new(SystemClock::new()),
            stack_limit: DEFAULT_STACK_LIMIT,
            pool: None,
            trace: crate::trace::Setting::Default,
        }
    }

    fn from_builder(builder: Builder) -> Self {
        process::install_quiet_hook();
        let now = builder.clock.now_ms();
        let clock = if builder.clock.is_manual() {
            "manual"
        } else {
            "system"
        };
        let trace = Trace::for_loop(builder.trace, clock);
        let mut lp = EventLoop {
            clock: builder.clock,
            now,
            stack: CallStack::with_limit(builder.stack_limit),
            callbacks: Heap::new(),
            handles: Heap::new(),
            idle: Vec::new(),
            prepare: Vec::new(),
            check: Vec::new(),
            closing: Vec::new(),
            pending: Vec::new(),
            uv_timers: TimerHeap::new(),
            node_timers: TimerLists::new(),
            node_timer_handle: HandleId::PLACEHOLDER,
            immediates: ImmediateQueue::default(),
            microtasks: Microtasks::new(),
            liveness: Liveness::default(),
            stop_flag: false,
            stalled: false,
            running: false,
            start_seq: 0,
            warning_listeners: Vec::new(),
            pending_rejections: Vec::new(),
            rejection_listeners: Vec::new(),
            process: process::Process::default(),
            unhandled: Vec::new(),
            spare_reaction: None,
            pool: builder.pool.unwrap_or_else(ThreadPool::global),
            completions: Arc::new(Completions::new()),
            in_flight: work::InFlight::new(),
            io: None,
            io_entries: Heap::new(),
            net: None,
            trace,
        };
        lp.init_node_handles();
        lp
    }

    /// The cached loop time in milliseconds (`uv_now`).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Re-reads the clock into the cached loop time (`uv_update_time`).
    pub fn update_time(&mut self) {
        self.now = self.clock.now_ms();
    }

    /// The call stack, as the running callback sees it.
    pub fn stack(&self) -> &CallStack {
        &self.stack
    }

    /// True when the last run ended because the poll phase would have waited forever, with
    /// nothing able to wake it (see [`TraceEvent::Stalled`]).
    pub fn stalled(&self) -> bool {
        self.stalled
    }

    /// Asks [`run`](Self::run) to return after the current iteration (`uv_stop`).
    pub fn stop(&mut self) {
        self.stop_flag = true;
    }

    /// Starts recording [`TraceEvent`]s.
    pub fn enable_trace(&mut self) {
        self.trace.enable();
    }

    /// Takes the events kept in memory so far (see [`enable_trace`](Self::enable_trace)).
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        self.trace.take()
    }

    /// Flushes the trace's writer, if the loop has one; reports the first error met while
    /// writing it. (Dropping the loop flushes too, but can only print such an error.)
    ///
    /// # Errors
    /// The writer's first error.
    pub fn finish_trace(&self) -> std::io::Result<()> {
        self.trace.finish()
    }

    /// Handles that are active and ref'd: what keeps the loop alive, with requests.
    pub fn active_handles(&self) -> usize {
        self.liveness.active_handles()
    }

    /// Requests in flight.
    pub fn active_requests(&self) -> usize {
        self.liveness.active_requests()
    }

    /// Defers `callback` to the pending phase: it runs at the start of the next iteration,
    /// or in one of the drains right after poll. A deferred callback keeps the loop alive.
    pub fn queue_pending(
        &mut self,
        name: &'static str,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) {
        let key = self.store(Callback::Once(Box::new(callback)));
        self.pending.push(Pending::Callback(name, key));
    }

    /// Runs `watch`'s callback in the pending phase as if its descriptor had become writable
    /// (libuv's `uv__io_feed`, with which a stream reports writes that finished at once).
    /// The caller feeds a watcher at most once per pending phase; a watcher removed before
    /// then is skipped.
    pub(crate) fn feed_fd(&mut self, watch: FdWatch) {
        self.pending.push(Pending::Fed(watch));
    }

    /// A request of a service built on the loop has started (`uv__req_register`): `net`'s
    /// writes, connects and shutdowns. Like a thread-pool job, it keeps the loop alive —
    /// even on an unref'd stream — until [`request_finished`](Self::request_finished).
    pub(crate) fn request_started(&mut self) {
        self.liveness.request_started();
    }

    /// A request started with [`request_started`](Self::request_started) is over, just
    /// before its callback runs (`uv__req_unregister`).
    pub(crate) fn request_finished(&mut self) {
        self.liveness.request_finished();
    }

    /// The TCP layer's state, created on first use (see the `net` field).
    #[inline]
    pub(crate) fn net_state(&mut self) -> &mut crate::net::Net {
        self.net.get_or_insert_with(Box::default)
    }

    /// The TCP layer's state, if the loop ever used TCP.
    pub(crate) fn net_state_ref(&self) -> Option<&crate::net::Net> {
        self.net.as_deref()
    }

    /// Listens for process warnings such as `TimeoutOverflowWarning`
    /// (`process.on('warning')`). Warnings are delivered on a tick, after the code that
    /// caused them has finished, as Node emits them. While no listener is registered, a
    /// warning is written to stderr, as Node's default handler writes it.
    pub fn on_warning(&mut self, listener: impl FnMut(&mut EventLoop, &Warning) + 'static) {
        self.warning_listeners.push(Box::new(listener));
    }

    /// `process.emitWarning`: listeners hear of it on a later tick.
    fn emit_warning(&mut self, warning: Warning) {
        self.next_tick(move |lp| lp.deliver_warning(&warning));
    }

    // ANCHOR: next_tick
    /// Runs `callback` at the next checkpoint, before any promise reaction
    /// (`process.nextTick`). Once the process is exiting, the callback is dropped.
    pub fn next_tick(&mut self, callback: impl FnOnce(&mut EventLoop) + 'static) {
        // While exiting, the queue hands the callback back; dropping it frees it.
        let _refused = self
            .microtasks
            .next_tick(("nextTick", Task::Once(Box::new(callback))));
    }

    /// Runs `callback` at the next checkpoint, after the ticks, in one FIFO with promise
    /// reactions (`queueMicrotask`).
    pub fn queue_microtask(&mut self, callback: impl FnOnce(&mut EventLoop) + 'static) {
        self.queue_job("queueMicrotask", callback);
    }
    // ANCHOR_END: next_tick

    /// Queues a microtask running in a frame called `name` (promise reactions use this).
    pub(crate) fn queue_job(
        &mut self,
        name: &'static str,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) {
        self.microtasks
            .queue_microtask((name, Task::Once(Box::new(callback))));
    }

    /// Keeps a spent reaction node for reuse; it replaces (and frees) an older one.
    pub(crate) fn keep_spare_reaction(&mut self, node: Rc<dyn Any>) {
        self.spare_reaction = Some(node);
    }

    /// The spare reaction node, if it is an `N`.
    pub(crate) fn take_spare_reaction<N: 'static>(&mut self) -> Option<Rc<N>> {
        match self.spare_reaction.take()?.downcast::<N>() {
            Ok(node) => Some(node),
            Err(other) => {
                self.spare_reaction = Some(other);
                None
            }
        }
    }

    /// Queues a promise reaction that lives in its derived promise's node.
    pub(crate) fn queue_reaction(&mut self, reaction: Rc<dyn ReactionJob>) {
        self.microtasks
            .queue_microtask(("promiseReaction", Task::Reaction(reaction)));
    }

    // ANCHOR: checkpoint
    /// The checkpoint Node reaches after every callback it runs through `MakeCallback`
    /// (`InternalCallbackScope::Close`), and between two timers or two immediates
    /// (`runNextTicks`): all ticks, then all microtasks, until both queues are empty.
    pub(crate) fn checkpoint(&mut self) {
        if self.microtasks.is_empty() && self.pending_rejections.is_empty() {
            return; // the common case after an I/O callback: nothing was queued
        }
        loop {
            if !self.microtasks.is_empty() {
                self.drain_jobs();
            }
            // `processPromiseRejections`: its listeners may queue more ticks.
            if !self.report_rejections() {
                break;
            }
        }
    }
    // ANCHOR_END: checkpoint

    // ANCHOR: drain_jobs
    /// Drains both queues, each job in its own frame. A drain may run millions of tiny jobs
    /// (a `next_tick` chain), so it has one panic boundary for all of them rather than one per
    /// job: a job that panics unwinds to here with its frame still on the stack, is handled
    /// exactly as [`call_in_frame`](Self::call_in_frame) handles a panic, and the drain
    /// resumes with the next job.
    fn drain_jobs(&mut self) {
        loop {
            let drained = process::catch_panic(|| {
                Microtasks::drain(
                    self,
                    |lp| &mut lp.microtasks,
                    |lp, job| match job {
                        Job::Tick((name, task)) | Job::Microtask((name, task)) => {
                            lp.enter_frame(name);
                            match task {
                                Task::Once(f) => f(lp),
                                Task::Reaction(reaction) => reaction.run(lp),
                            }
                            lp.leave_frame(name);
                        }
                    },
                )
            });
            let Err(panic) = drained else {
                return;
            };
            let name = self.stack.top().unwrap_or("?");
            self.uncaught_panic(panic); // may unwind further, after popping the frame
            self.leave_frame(name);
        }
    }
    // ANCHOR_END: drain_jobs

    fn deliver_warning(&mut self, warning: &Warning) {
        if self.warning_listeners.is_empty() {
            eprintln!("(eventloop) {}: {}", warning.name, warning.message);
            return;
        }
        let mut listeners = std::mem::take(&mut self.warning_listeners);
        self.call_in_frame("emitWarning", |lp| {
            for listener in &mut listeners {
                listener(lp, warning);
            }
        });
        // Listeners added while the others ran go behind them.
        listeners.append(&mut self.warning_listeners);
        self.warning_listeners = listeners;
    }

    /// Remembers a promise rejected while nothing handled it (V8's
    /// `kPromiseRejectWithNoHandler`). If `promise` is still unhandled after the next drain of
    /// the microtask queue, the rejection is reported.
    pub(crate) fn track_rejection(&mut self, promise: Rc<dyn Handled>, reason: Rejection) {
        self.pending_rejections.push((promise, reason));
    }

    /// Listens for promises rejected with no handler by the end of a checkpoint
    /// (`process.on('unhandledRejection')`).
    pub fn on_unhandled_rejection(
        &mut self,
        listener: impl FnMut(&mut EventLoop, &Rejection) + 'static,
    ) {
        self.rejection_listeners.push(Box::new(listener));
    }

    /// Unhandled rejections that no listener heard, oldest first. Node would end the process
    /// with them (its default `--unhandled-rejections=throw`); chapter 6 does the same in
    /// `run_main`.
    pub fn take_unhandled_rejections(&mut self) -> Vec<Rejection> {
        std::mem::take(&mut self.unhandled)
    }

    /// Reports the tracked rejections that are still unhandled; true if any was reported.
    fn report_rejections(&mut self) -> bool {
        if self.pending_rejections.is_empty() {
            return false;
        }
        let mut reported = false;
        for (promise, reason) in std::mem::take(&mut self.pending_rejections) {
            if promise.handled() {
                continue;
            }
            reported = true;
            if self.rejection_listeners.is_empty() {
                self.unhandled_rejection(reason);
                continue;
            }
            let mut listeners = std::mem::take(&mut self.rejection_listeners);
            self.call_in_frame("unhandledRejection", |lp| {
                for listener in &mut listeners {
                    listener(lp, &reason);
                }
            });
            listeners.append(&mut self.rejection_listeners);
            self.rejection_listeners = listeners;
        }
        reported
    }

    // ANCHOR: call_in_frame
    /// Runs `f` inside a frame named `name`, recording it in the trace. This is the boundary
    /// where a panic becomes JavaScript's uncaught exception (see
    /// [`on_uncaught_exception`](Self::on_uncaught_exception)): whatever happens, the frame is
    /// popped again, so the stack is never left dirty.
    fn call_in_frame(&mut self, name: &'static str, f: impl FnOnce(&mut EventLoop)) {
        self.enter_frame(name);
        let outcome = process::catch_panic(|| f(self));
        if let Err(panic) = outcome {
            self.uncaught_panic(panic); // may unwind further, after popping the frame
        }
        self.leave_frame(name);
    }
    // ANCHOR_END: call_in_frame

    /// Pushes a callback's frame and records that it started.
    fn enter_frame(&mut self, name: &'static str) {
        self.stack
            .push(name)
            .expect("the builder keeps the limit above the loop's own nesting");
        self.trace
            .record(self.now, || TraceEvent::CallbackStarted(name));
    }

    /// Records that a callback finished and pops its frame.
    fn leave_frame(&mut self, name: &'static str) {
        self.trace
            .record(self.now, || TraceEvent::CallbackFinished(name));
        self.stack.pop();
    }

    /// Stores a closure in the loop's heap.
    fn store(&mut self, callback: Callback) -> Key {
        self.callbacks.insert(Some(callback))
    }

    /// Frees a closure that will not run.
    fn discard(&mut self, key: Key) {
        self.callbacks.remove(key);
    }

    // ANCHOR: invoke
    /// Takes the callback `key` out of the heap, runs it in a frame named `name`, and puts a
    /// repeating one back if its key is still live (it may have been cleared while it ran).
    fn invoke(&mut self, key: Key, name: &'static str) {
        let Some(callback) = self.callbacks.get_mut(key).and_then(Option::take) else {
            return; // cleared, or already running further up the stack
        };
        match callback {
            Callback::Once(f) => {
                self.callbacks.remove(key);
                self.call_in_frame(name, f);
            }
            Callback::Repeat(f) => {
                // Put back even when a panic goes on to the embedder: an interval or a
                // handle that lost its callback would fire into nothing, forever.
                let mut f = Some(f);
                process::repair_on_unwind(
                    self,
                    &mut f,
                    |lp, f| lp.call_in_frame(name, f.as_mut().expect("taken above")),
                    |lp, f| lp.put_back(key, f.take()),
                );
                self.put_back(key, f);
            }
        }
    }

    /// Returns a repeating callback to its slot, unless it was cleared while it ran.
    fn put_back(&mut self, key: Key, f: Option<RepeatCallback>) {
        if let (Some(f), Some(slot @ None)) = (f, self.callbacks.get_mut(key)) {
            *slot = Some(Callback::Repeat(f));
        }
    }
    // ANCHOR_END: invoke

    fn enter_phase(&mut self, phase: Phase) {
        self.trace.record(self.now, || TraceEvent::Phase(phase));
    }
}
