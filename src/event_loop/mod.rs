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
//! The module is split by concept, one file each:
//! - `phases.rs`: [`run`](EventLoop::run) and `run_once`, one method per phase (chapter 4);
//! - `invoke.rs`: running a callback, and the frame where a panic becomes an uncaught error;
//! - `phase_queue.rs`: the queue a phase runs in passes, so a panic loses nothing;
//! - `checkpoint.rs`: `nextTick`, microtasks and the checkpoint between callbacks (chapter 5);
//! - `handles.rs`, `immediates.rs`, `node_timers.rs`: handles, `setImmediate`, `setTimeout`;
//! - `work.rs`, `io_watch.rs`: the loop's side of the thread pool and of kernel I/O;
//! - `process.rs`, `listeners.rs`: `run_main`, exit codes, uncaught errors, process events;
//! - `state.rs`: the typed state slots services and embedders keep on the loop;
//! - `loop_id.rs`: the loop's identity, which every id it hands out carries;
//! - `builder.rs`: building a loop, and whether it reports callbacks' panics itself;
//! - `traced.rs`: switching tracing on, the helpers every trace point goes through (chapter 12).
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

mod builder;
mod checkpoint;
mod handles;
#[cfg_attr(feature = "learn-immediates", path = "../../exercises/immediates.rs")]
mod immediates;
mod invoke;
mod io_watch;
mod listeners;
mod loop_id;
mod node_timers;
mod phase_queue;
#[cfg_attr(feature = "learn-phases", path = "../../exercises/phases.rs")]
mod phases;
mod process;
mod ref_handle;
mod state;
mod traced;
pub mod uv;
mod wake_source;
mod work;

use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::clock::Clock;
use crate::heap::{Heap, Key};
use crate::microtasks::{Handled, Microtasks, Rejection};
use crate::refs::Liveness;
use crate::stack::CallStack;
use crate::threadpool::{Completion, Completions, ThreadPool};
use crate::timers::{TimerHeap, TimerLists};
use crate::trace::{Queue, Trace};

pub use builder::{BuildError, Builder, MIN_STACK_LIMIT};
pub use handles::{
    AnyHandle, Check, HandleError, HandleId, HandleKind, Idle, Prepare, Startable, Timer,
};
pub use immediates::Immediate;
pub(crate) use invoke::WatchHandler;
pub use io_watch::FdWatch;
pub use loop_id::LoopId;
pub(crate) use loop_id::LoopKey;
pub use node_timers::{Delay, Timeout, Warning};
pub use process::{ExitCode, Uncaught};
pub use ref_handle::Ref;
pub(crate) use wake_source::{LocalWakes, WakeSource};
pub use work::WorkRequest;

use checkpoint::Task;
use handles::Handle;
use immediates::ImmediateQueue;
use invoke::{Callback, Input};
use phase_queue::PhaseQueue;

/// How long [`EventLoop::run`] goes on (`uv_run_mode`).
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// lp.set_immediate(|lp| drop(lp.set_immediate(|_| {})));
/// assert!(lp.run(RunMode::NoWait)); // one iteration, work left
/// assert!(!lp.run(RunMode::Once)); // the second immediate ran: nothing left
/// assert!(!lp.run(RunMode::Default));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Iterate until nothing keeps the loop alive, or [`EventLoop::stop`] is called.
    Default,
    /// One iteration; wait in poll only if there was nothing to do right away.
    Once,
    /// One iteration that never waits.
    NoWait,
}

/// An entry of the pending queue.
pub(super) enum Pending {
    /// A deferred callback, stored in the callback heap.
    Callback(&'static str, Key),
    /// A watcher fed with a writable event (`uv__io_feed`): no allocation, no closure.
    Fed(FdWatch),
}

// ANCHOR: event_loop
/// A single-threaded event loop: libuv's phases, Node's timers and immediates.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new(); // built, given work, run (a program uses run_main)
/// lp.set_timeout(|lp| lp.set_exit_code(2), 5);
/// assert!(!lp.run(RunMode::Default)); // ran until nothing kept it alive
/// assert_eq!(lp.exit_code(), 2);
/// ```
pub struct EventLoop {
    /// Which loop this is: every id it hands out carries it.
    id: LoopId,
    clock: Box<dyn Clock>,
    /// The cached loop time in ms (`loop->time`), refreshed only where `uv_run` does.
    now: u64,
    stack: CallStack,
    /// Every closure the program scheduled, by key.
    callbacks: Heap<Option<Callback>>,
    /// Every handle: idle, prepare, check and timer handles, Node's own ones included.
    handles: Heap<Handle>,
    /// What the pending, idle, prepare, check and closing phases run.
    queues: PhaseQueues,
    /// libuv's timer heap, and Node's timeouts on top of one libuv timer.
    timers: Timers,
    immediates: ImmediateQueue,
    /// What a checkpoint drains, and the rejections it reports.
    jobs: Jobs,
    /// Active ref'd handles and requests in flight: what keeps the loop alive.
    liveness: Liveness,
    status: RunStatus,
    /// The process: listeners, exit code, uncaught errors.
    process: process::Process,
    /// The loop's side of the thread pool (chapter 7).
    work: WorkQueues,
    /// The loop's side of kernel I/O (chapter 8).
    io: IoWatchers,
    /// What services and embedders keep on the loop, one value per type (`net`'s sockets, an
    /// embedder's state).
    states: state::States,
    trace: Trace,
}
// ANCHOR_END: event_loop

/// What each phase that is not a timer runs.
#[derive(Default)]
struct PhaseQueues {
    /// Callbacks deferred to the pending phase, in the order they were deferred.
    pending: PhaseQueue<Pending>,
    /// Started idle/prepare/check handles (their keys: ids carry the loop, lists need not)
    /// with their start numbers, in start order (each phase runs them newest first).
    idle: Vec<(Key, u64)>,
    prepare: Vec<(Key, u64)>,
    check: Vec<(Key, u64)>,
    /// The last start number given out.
    start_seq: u64,
    /// Handles waiting for the closing phase, in `close` order (they run newest first).
    closing: PhaseQueue<Key>,
}

/// The loop's timers: libuv's, and Node's.
struct Timers {
    /// libuv's timer heap; the payload is the key of the timer's handle.
    uv: TimerHeap<Key>,
    /// Node's timeouts, by delay, multiplexed onto one libuv timer handle.
    node: TimerLists<Key>,
    /// That handle (`timer_handle` in Node's `Environment`).
    node_handle: HandleId,
}

/// The checkpoint's queues (chapter 5).
struct Jobs {
    /// `process.nextTick` and the microtask queue: (frame name, callback).
    microtasks: Microtasks<(&'static str, Task)>,
    /// Promises rejected with no reaction yet; reported after the next drain if still so.
    rejections: Vec<(Rc<dyn Handled>, Rejection)>,
    /// Unhandled rejections nobody listened for.
    unhandled: Vec<Rejection>,
    /// Tasks woken from other threads, or by code without the loop at hand (chapter 10):
    /// the checkpoint and the poll phase ask it what waits. A trait the loop defines, so the
    /// loop knows nothing of tasks.
    wake_source: Option<Rc<dyn WakeSource>>,
    /// Raised by the wake source when it queues something local (see [`LocalWakes`]).
    local_wakes: LocalWakes,
}

/// The loop's side of the thread pool: the pool its jobs run on, the queue their outcomes come
/// back on, and the callbacks waiting for them.
struct WorkQueues {
    pool: ThreadPool,
    /// Where workers put finished jobs (`loop->wq`), with the wake-up they send.
    completions: Arc<Completions>,
    /// Jobs whose callbacks have not run: each one's frame name and callback key.
    in_flight: work::InFlight,
    /// Finished jobs taken from `completions`, whose callbacks have not run yet.
    done: VecDeque<Completion>,
}

/// The loop's side of kernel I/O.
#[derive(Default)]
struct IoWatchers {
    /// The poller, created when the loop watches its first descriptor.
    /// Each watcher's name, callback and ref flags are its payload there: the event that
    /// reaches a watcher finds them in the same slot, with no second look-up.
    poller: Option<crate::io::Io<io_watch::IoEntry>>,
}

/// Where `run` stands.
#[derive(Default)]
struct RunStatus {
    /// [`EventLoop::stop`] was called: `run` returns after this iteration.
    stop: bool,
    /// The last poll would have waited forever with nothing able to wake it.
    stalled: bool,
    /// Inside `run`: it is not reentrant.
    running: bool,
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("now", &self.now)
            .field("handles", &self.handles.len())
            .field("liveness", &self.liveness)
            .field("timeouts", &self.timers.node.len())
            .field("immediates", &self.immediates.len())
            .field("stack", &self.stack)
            .finish()
    }
}

impl EventLoop {
    /// The cached loop time in milliseconds (`uv_now`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::clock::ManualClock;
    ///
    /// let mut lp = EventLoop::with_clock(ManualClock::starting_at(7));
    /// lp.run(RunMode::NoWait); // each iteration caches the time once
    /// assert_eq!(lp.now(), 7);
    /// ```
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Re-reads the clock into the cached loop time (`uv_update_time`).
    pub(crate) fn update_time(&mut self) {
        self.now = self.clock.now_ms();
    }

    /// The call stack, as the running callback sees it.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.set_immediate(|lp| assert_eq!(lp.stack().top(), Some("setImmediate")));
    /// lp.run(RunMode::Default);
    /// assert!(lp.stack().is_empty());
    /// ```
    pub fn stack(&self) -> &CallStack {
        &self.stack
    }

    /// True when the last run ended because the poll phase would have waited forever, with
    /// nothing able to wake it (see [`TraceEvent::Stalled`](crate::trace::TraceEvent::Stalled)).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.run(RunMode::Default);
    /// assert!(!lp.stalled()); // it ended because nothing was left, not stuck
    /// ```
    pub fn stalled(&self) -> bool {
        self.status.stalled
    }

    /// Asks [`run`](Self::run) to return after the current iteration (`uv_stop`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let forever = lp.set_interval(|lp| lp.stop(), 1);
    /// assert!(lp.run(RunMode::Default)); // stopped with the interval still alive
    /// lp.clear_interval(forever);
    /// ```
    pub fn stop(&mut self) {
        self.status.stop = true;
    }

    /// Handles that are active and ref'd: what keeps the loop alive, with requests.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let t = lp.set_timeout(|_| {}, 10);
    /// assert_eq!(lp.active_handles(), 1); // Node's one timer handle, ref'd
    /// t.unref(&mut lp);
    /// assert_eq!(lp.active_handles(), 0);
    /// ```
    pub fn active_handles(&self) -> usize {
        self.liveness.active_handles()
    }

    /// Requests in flight.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.queue_work(|| (), |_, _| {});
    /// assert_eq!(lp.active_requests(), 1);
    /// lp.run(RunMode::Default);
    /// assert_eq!(lp.active_requests(), 0);
    /// ```
    pub fn active_requests(&self) -> usize {
        self.liveness.active_requests()
    }

    /// Defers `callback` to the pending phase: it runs at the start of the next iteration,
    /// or in one of the drains right after poll. A deferred callback keeps the loop alive.
    pub(crate) fn queue_pending(
        &mut self,
        name: &'static str,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) {
        let key = self.store(Callback::Once(Box::new(callback)));
        self.queues.pending.push(Pending::Callback(name, key));
        self.note_queued(Queue::Pending, name, Some(key));
    }

    /// Runs `watch`'s callback in the pending phase as if its descriptor had become writable
    /// (libuv's `uv__io_feed`, with which a stream reports writes that finished at once).
    /// The caller feeds a watcher at most once per pending phase; a watcher removed before
    /// then is skipped.
    pub(crate) fn feed_fd(&mut self, watch: FdWatch) {
        self.queues.pending.push(Pending::Fed(watch));
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
}
