//! What the loop did, step by step: a record that tests assert on, that the terminal
//! visualizer (`cargo learn viz`) replays, and that the book's player shows.
//!
//! Tracing is off by default. Then every place in the loop that could record an event costs
//! one branch — a test that the loop's [`Trace`] holds no recorder — and the event is never
//! built: [`Trace::record`] takes a closure, called only when a recorder is there.
//!
//! A trace goes to memory ([`EventLoop::take_trace`](crate::event_loop::EventLoop::take_trace)
//! hands back the [`TraceEvent`]s) or to a [`TraceSink`], such as [`JsonLines`], which writes
//! the stable, versioned format that the visualizer and the book read (see [`format`](mod@format)):
//!
//! ```
//! use eventloop::clock::ManualClock;
//! use eventloop::event_loop::EventLoop;
//! use eventloop::trace::{self, TraceEvent};
//!
//! let (_, bytes) = trace::capture_json(|| {
//!     let mut lp = EventLoop::with_clock(ManualClock::new());
//!     lp.run_main(|lp| {
//!         lp.set_timeout(|_| trace::output("timeout"), 0);
//!         trace::output("main");
//!     })
//!     .unwrap();
//! });
//! let recorded = trace::format::read(&bytes[..]).unwrap();
//! assert_eq!(recorded.header.clock, "manual");
//! let printed: Vec<_> = recorded
//!     .events
//!     .iter()
//!     .filter_map(|e| match &e.event {
//!         TraceEvent::Output(line) => Some(line.as_str()),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(printed, ["main", "timeout"]);
//! ```
//!
//! Three ways to switch tracing on: `EventLoop::builder().trace(writer)` (JSON lines) or
//! `.trace_in_memory()` for one loop; [`capture`] for every loop a piece of code builds on this
//! thread (how the visualizer runs a puzzle); and the environment variable [`ENV_VAR`],
//! `EVENTLOOP_TRACE=path`, for every loop of a program or test run, without recompiling.
//!
//! A trace to a file through [`ENV_VAR`] is made in two halves: the loop's thread writes each
//! event in a few bytes into a chunk, and a writer thread of the trace's own writes full chunks
//! out, so the loop pays for recording, not for formatting or for the file (chapter 12, "What
//! it costs, measured"). The file is in the compact [`binary`] encoding (format version 2)
//! unless its path ends in `.jsonl`; [`read`] reads either, and [`to_json_lines`] turns a
//! binary trace into the readable JSON lines.

pub mod binary;
pub mod format;
mod json;
mod record;
mod writer;

use std::fmt;

pub use format::{
    Encoding, FORMAT_NAME, FORMAT_VERSION, FormatError, Header, JSON_LINES_VERSION, JsonLines,
    Recorded, Stamped, read, to_json_lines,
};
pub use record::{ENV_VAR, Trace, TraceSink, capture, capture_json, capture_json_named, output};
pub(crate) use record::{PollNote, Setting};

// ANCHOR: phase
/// The phases of the loop. An iteration (`uv_run`, libuv ≥ 1.45) takes them in the order
/// listed: pending first, timers last — plus, in `RunMode::Default`, one timers phase before
/// the first iteration.
///
/// ```
/// use eventloop::trace::Phase;
///
/// assert_eq!(Phase::ALL[0], Phase::Pending); // an iteration starts with pending callbacks
/// assert_eq!(Phase::Check.to_string(), "check"); // where setImmediate callbacks run
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Callbacks deferred from the previous poll (`uv__run_pending`).
    Pending,
    /// Idle handles (`uv__run_idle`).
    Idle,
    /// Prepare handles (`uv__run_prepare`).
    Prepare,
    /// Waiting for I/O, then running its callbacks (`uv__io_poll`).
    Poll,
    /// Check handles (`uv__run_check`): Node's `setImmediate` callbacks.
    Check,
    /// Close callbacks (`uv__run_closing_handles`).
    Closing,
    /// Expired timers (`uv__run_timers`): at the end of each iteration, and once before the
    /// first in `RunMode::Default`.
    Timers,
}
// ANCHOR_END: phase

impl Phase {
    /// Every phase, in the order of an iteration.
    ///
    /// ```
    /// use eventloop::trace::Phase;
    ///
    /// let order: Vec<&str> = Phase::ALL.iter().map(|p| p.name()).collect();
    /// assert_eq!(order, ["pending", "idle", "prepare", "poll", "check", "closing", "timers"]);
    /// ```
    pub const ALL: [Phase; 7] = [
        Phase::Pending,
        Phase::Idle,
        Phase::Prepare,
        Phase::Poll,
        Phase::Check,
        Phase::Closing,
        Phase::Timers,
    ];

    /// The phase's name in the trace format (`"timers"`, `"check"`, …).
    ///
    /// ```
    /// use eventloop::trace::Phase;
    ///
    /// assert_eq!(Phase::Timers.name(), "timers");
    /// assert_eq!(Phase::Closing.name(), "closing");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Idle => "idle",
            Phase::Prepare => "prepare",
            Phase::Poll => "poll",
            Phase::Check => "check",
            Phase::Closing => "closing",
            Phase::Timers => "timers",
        }
    }

    /// The phase named `name` in the trace format.
    ///
    /// ```
    /// use eventloop::trace::Phase;
    ///
    /// assert_eq!(Phase::from_name("poll"), Some(Phase::Poll));
    /// assert_eq!(Phase::from_name("nextTick"), None); // not a phase: a queue
    /// ```
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The queues a callback waits in before the loop runs it.
///
/// ```
/// use eventloop::trace::Queue;
///
/// assert_eq!(Queue::Ticks.to_string(), "ticks");
/// assert_ne!(Queue::Ticks, Queue::Microtasks); // ticks go first, then microtasks
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// `setTimeout`/`setInterval`, waiting for their time (Node's timer lists).
    Timers,
    /// `setImmediate`, waiting for the check phase.
    Immediates,
    /// `process.nextTick`, waiting for the next checkpoint.
    Ticks,
    /// `queueMicrotask` and promise reactions, behind the ticks.
    Microtasks,
    /// Callbacks deferred to the pending phase.
    Pending,
    /// Close callbacks, waiting for the closing phase.
    Closing,
    /// Thread-pool jobs not yet finished; their callbacks run in the poll phase.
    Pool,
}

impl Queue {
    /// Every queue, in the order the visualizer shows them.
    ///
    /// ```
    /// use eventloop::trace::Queue;
    ///
    /// assert_eq!(Queue::ALL.len(), 7);
    /// assert!(Queue::ALL.iter().all(|&q| Queue::from_name(q.name()) == Some(q)));
    /// ```
    pub const ALL: [Queue; 7] = [
        Queue::Timers,
        Queue::Immediates,
        Queue::Ticks,
        Queue::Microtasks,
        Queue::Pending,
        Queue::Closing,
        Queue::Pool,
    ];

    /// The queue's name in the trace format.
    ///
    /// ```
    /// use eventloop::trace::Queue;
    ///
    /// assert_eq!(Queue::Microtasks.name(), "microtasks");
    /// assert_eq!(Queue::Pool.name(), "pool");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Queue::Timers => "timers",
            Queue::Immediates => "immediates",
            Queue::Ticks => "ticks",
            Queue::Microtasks => "microtasks",
            Queue::Pending => "pending",
            Queue::Closing => "closing",
            Queue::Pool => "pool",
        }
    }

    /// The queue named `name` in the trace format.
    ///
    /// ```
    /// use eventloop::trace::Queue;
    ///
    /// assert_eq!(Queue::from_name("immediates"), Some(Queue::Immediates));
    /// assert_eq!(Queue::from_name("check"), None); // a phase, not a queue
    /// ```
    pub fn from_name(name: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.name() == name)
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How many entries each queue holds, as a phase begins.
///
/// ```
/// use eventloop::trace::{Queue, QueueLengths};
///
/// let lengths = QueueLengths { ticks: 2, timers: 1, ..QueueLengths::default() };
/// assert_eq!(lengths.get(Queue::Ticks), 2);
/// assert_eq!(lengths.get(Queue::Microtasks), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct QueueLengths {
    /// Node timeouts and libuv timer handles waiting for their time.
    pub timers: usize,
    /// Immediates waiting for the check phase.
    pub immediates: usize,
    /// `nextTick` callbacks waiting for the checkpoint.
    pub ticks: usize,
    /// Microtasks waiting behind the ticks.
    pub microtasks: usize,
    /// Callbacks deferred to the pending phase.
    pub pending: usize,
    /// Handles waiting for the closing phase.
    pub closing: usize,
    /// Thread-pool jobs in flight.
    pub pool: usize,
}

impl QueueLengths {
    /// The length of `queue`.
    ///
    /// ```
    /// use eventloop::trace::{Queue, QueueLengths};
    ///
    /// let lengths = QueueLengths { pool: 4, ..QueueLengths::default() };
    /// assert_eq!(lengths.get(Queue::Pool), 4);
    /// assert_eq!(Queue::ALL.iter().map(|&q| lengths.get(q)).sum::<usize>(), 4);
    /// ```
    pub fn get(&self, queue: Queue) -> usize {
        match queue {
            Queue::Timers => self.timers,
            Queue::Immediates => self.immediates,
            Queue::Ticks => self.ticks,
            Queue::Microtasks => self.microtasks,
            Queue::Pending => self.pending,
            Queue::Closing => self.closing,
            Queue::Pool => self.pool,
        }
    }

    /// Sets the length of `queue`.
    ///
    /// ```
    /// use eventloop::trace::{Queue, QueueLengths};
    ///
    /// let mut lengths = QueueLengths::default();
    /// lengths.set(Queue::Immediates, 3);
    /// assert_eq!(lengths.immediates, 3);
    /// ```
    pub fn set(&mut self, queue: Queue, len: usize) {
        *match queue {
            Queue::Timers => &mut self.timers,
            Queue::Immediates => &mut self.immediates,
            Queue::Ticks => &mut self.ticks,
            Queue::Microtasks => &mut self.microtasks,
            Queue::Pending => &mut self.pending,
            Queue::Closing => &mut self.closing,
            Queue::Pool => &mut self.pool,
        } = len;
    }
}

// ANCHOR: trace_event
/// One thing the loop did. `N` is how names are held: `&'static str` as the loop records them
/// (a frame name costs no allocation), `String` when read back from a file.
///
/// ```
/// use eventloop::clock::ManualClock;
/// use eventloop::event_loop::EventLoop;
/// use eventloop::trace::{Phase, TraceEvent};
///
/// let mut lp = EventLoop::builder().clock(ManualClock::new()).trace_in_memory().build().unwrap();
/// lp.run_main(|lp| drop(lp.set_immediate(|_| {}))).unwrap();
/// let events = lp.take_trace();
/// assert!(events.contains(&TraceEvent::Phase(Phase::Check))); // the immediate ran there
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent<N = &'static str> {
    /// The loop entered a phase.
    Phase(Phase),
    /// The loop left the phase it was in. (The loop notes only phase entries; the recorder
    /// writes this when the next phase begins or the loop decides whether it is alive, with
    /// that event's time.)
    PhaseEnd(Phase),
    /// The length of every queue, as a phase begins (written only when one changed since the
    /// last time).
    Queues(QueueLengths),
    /// A callback joined `queue`, to run in a frame called `name`; `by` is the frame that was
    /// running when it was queued (`None`: code outside any callback). `id` tells entries of a
    /// keyed queue apart (timers, immediates, pending, closing, pool): small numbers, in order
    /// of first appearance. Ticks and microtasks have none: they leave in the order they came.
    Queued {
        /// The queue it joined.
        queue: Queue,
        /// The frame its callback will run in.
        name: N,
        /// Which entry, for a keyed queue.
        id: Option<u64>,
        /// The frame that queued it.
        by: Option<N>,
    },
    /// An entry left `queue`: its callback runs next (the following `CallbackStarted`), or it
    /// was cleared. Without an id, the oldest entry left.
    ///
    /// A checkpoint's jobs write none: each `CallbackStarted` of a drain at the depth the
    /// drain began at is a job leaving its queue — the oldest tick when its frame is
    /// `nextTick`, else the oldest microtask. That keeps the loop's tightest loop (a `nextTick`
    /// chain runs millions of jobs in one drain) as cheap as it was before tracing.
    Unqueued {
        /// The queue it left.
        queue: Queue,
        /// Which entry, for a keyed queue.
        id: Option<u64>,
    },
    /// A callback started, in a frame of this name.
    CallbackStarted(N),
    /// That callback returned.
    CallbackFinished(N),
    /// A checkpoint began to drain the ticks and microtasks queued so far.
    Drain {
        /// Ticks waiting.
        ticks: usize,
        /// Microtasks waiting.
        microtasks: usize,
    },
    /// That drain emptied both queues.
    DrainEnd,
    /// The poll phase is about to wait: `Some(ms)`, or `None` for "until woken".
    PollWait(Option<u64>),
    /// The wait is over: it lasted `waited` ms of loop time and returned `events` (ready
    /// descriptors, plus one for the thread pool's wake-up).
    PollWoke {
        /// Loop time spent waiting, in ms (a manual clock jumps: all of it at once).
        waited: u64,
        /// What the wait returned.
        events: usize,
    },
    /// The kernel reported this many ready descriptors (the pool's wake-up not counted).
    PollReady(usize),
    /// The poll phase would have waited forever with nothing that could wake it, so the run
    /// stopped instead of hanging.
    Stalled,
    /// A job went to the thread pool; its callback will run in a frame of this name.
    WorkQueued {
        /// The callback's frame.
        name: N,
        /// The job, numbered like queue entries.
        job: u64,
    },
    /// A pool worker took the job. The loop learns of it with the job's completion, so this
    /// is recorded in the poll phase that collects it, in the order it happened on the workers.
    WorkStarted {
        /// The job.
        job: u64,
        /// The worker that ran it, numbered from 0.
        worker: usize,
    },
    /// The worker finished the job after `ran_us` microseconds of real time.
    WorkFinished {
        /// The job.
        job: u64,
        /// The worker that ran it.
        worker: usize,
        /// How long it ran on the worker, in µs.
        ran_us: u64,
    },
    /// The poll phase took this many finished pool jobs, whose callbacks run next.
    WorkDone(usize),
    /// What keeps the loop alive, and the loop's decision: go on (`alive`) or end the run.
    Alive {
        /// Active, ref'd handles.
        handles: usize,
        /// Requests in flight.
        requests: usize,
        /// `uv__loop_alive`.
        alive: bool,
    },
    /// The loop emptied: `process.on('beforeExit')` listeners run (they may restart it).
    BeforeExit,
    /// The process is exiting with this code: `process.on('exit')` listeners run.
    Exit(i32),
    /// `run` returned; the value says whether the loop was still alive.
    RunReturned(bool),
    /// The program printed a line (see [`output`]).
    Output(String),
}
// ANCHOR_END: trace_event

impl<N> TraceEvent<N> {
    /// The event's name in the trace format (`"phase"`, `"start"`, …).
    ///
    /// ```
    /// use eventloop::trace::{EVENT_KINDS, TraceEvent};
    ///
    /// let event: TraceEvent = TraceEvent::CallbackStarted("setTimeout");
    /// assert_eq!(event.kind(), "start");
    /// assert!(EVENT_KINDS.contains(&event.kind()));
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            TraceEvent::Phase(_) => "phase",
            TraceEvent::PhaseEnd(_) => "phase_end",
            TraceEvent::Queues(_) => "queues",
            TraceEvent::Queued { .. } => "queued",
            TraceEvent::Unqueued { .. } => "unqueued",
            TraceEvent::CallbackStarted(_) => "start",
            TraceEvent::CallbackFinished(_) => "end",
            TraceEvent::Drain { .. } => "drain",
            TraceEvent::DrainEnd => "drain_end",
            TraceEvent::PollWait(_) => "poll_wait",
            TraceEvent::PollWoke { .. } => "poll_woke",
            TraceEvent::PollReady(_) => "poll_ready",
            TraceEvent::Stalled => "stalled",
            TraceEvent::WorkQueued { .. } => "work_queued",
            TraceEvent::WorkStarted { .. } => "work_started",
            TraceEvent::WorkFinished { .. } => "work_finished",
            TraceEvent::WorkDone(_) => "work_done",
            TraceEvent::Alive { .. } => "alive",
            TraceEvent::BeforeExit => "before_exit",
            TraceEvent::Exit(_) => "exit",
            TraceEvent::RunReturned(_) => "run_returned",
            TraceEvent::Output(_) => "output",
        }
    }

    /// The same event with its names turned into `M`s (for example `&'static str` into
    /// `String`, to compare a recorded trace with one read back from a file).
    ///
    /// ```
    /// use eventloop::trace::{TraceEvent, format::parse_event};
    ///
    /// let recorded: TraceEvent = TraceEvent::CallbackStarted("nextTick");
    /// let read = parse_event(r#"{"t":0,"ev":"start","name":"nextTick"}"#).unwrap().event;
    /// assert_eq!(recorded.map_names(String::from), read);
    /// ```
    pub fn map_names<M>(self, mut f: impl FnMut(N) -> M) -> TraceEvent<M> {
        match self {
            TraceEvent::Phase(p) => TraceEvent::Phase(p),
            TraceEvent::PhaseEnd(p) => TraceEvent::PhaseEnd(p),
            TraceEvent::Queues(q) => TraceEvent::Queues(q),
            TraceEvent::Queued {
                queue,
                name,
                id,
                by,
            } => TraceEvent::Queued {
                queue,
                name: f(name),
                id,
                by: by.map(f),
            },
            TraceEvent::Unqueued { queue, id } => TraceEvent::Unqueued { queue, id },
            TraceEvent::CallbackStarted(n) => TraceEvent::CallbackStarted(f(n)),
            TraceEvent::CallbackFinished(n) => TraceEvent::CallbackFinished(f(n)),
            TraceEvent::Drain { ticks, microtasks } => TraceEvent::Drain { ticks, microtasks },
            TraceEvent::DrainEnd => TraceEvent::DrainEnd,
            TraceEvent::PollWait(t) => TraceEvent::PollWait(t),
            TraceEvent::PollWoke { waited, events } => TraceEvent::PollWoke { waited, events },
            TraceEvent::PollReady(n) => TraceEvent::PollReady(n),
            TraceEvent::Stalled => TraceEvent::Stalled,
            TraceEvent::WorkQueued { name, job } => TraceEvent::WorkQueued { name: f(name), job },
            TraceEvent::WorkStarted { job, worker } => TraceEvent::WorkStarted { job, worker },
            TraceEvent::WorkFinished {
                job,
                worker,
                ran_us,
            } => TraceEvent::WorkFinished {
                job,
                worker,
                ran_us,
            },
            TraceEvent::WorkDone(n) => TraceEvent::WorkDone(n),
            TraceEvent::Alive {
                handles,
                requests,
                alive,
            } => TraceEvent::Alive {
                handles,
                requests,
                alive,
            },
            TraceEvent::BeforeExit => TraceEvent::BeforeExit,
            TraceEvent::Exit(code) => TraceEvent::Exit(code),
            TraceEvent::RunReturned(alive) => TraceEvent::RunReturned(alive),
            TraceEvent::Output(line) => TraceEvent::Output(line),
        }
    }
}

/// Every kind of event, by its name in the format: what a reader must understand.
///
/// ```
/// use eventloop::trace::{EVENT_KINDS, TraceEvent};
///
/// assert_eq!(EVENT_KINDS.len(), 22);
/// assert!(EVENT_KINDS.contains(&TraceEvent::<&str>::DrainEnd.kind()));
/// ```
pub const EVENT_KINDS: [&str; 22] = [
    "phase",
    "phase_end",
    "queues",
    "queued",
    "unqueued",
    "start",
    "end",
    "drain",
    "drain_end",
    "poll_wait",
    "poll_woke",
    "poll_ready",
    "stalled",
    "work_queued",
    "work_started",
    "work_finished",
    "work_done",
    "alive",
    "before_exit",
    "exit",
    "run_returned",
    "output",
];
