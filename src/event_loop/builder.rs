//! Building a loop: its clock, stack limit, thread pool, tracing and panic reports
//! ([`Builder`]).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use super::handles::HandleId;
use super::immediates::ImmediateQueue;
use super::{
    EventLoop, IoWatchers, Jobs, LocalWakes, LoopId, PhaseQueues, RunStatus, Timers, WorkQueues,
    process, state, work,
};
use crate::clock::{Clock, SystemClock};
use crate::heap::Heap;
use crate::microtasks::Microtasks;
use crate::refs::Liveness;
use crate::stack::{CallStack, DEFAULT_STACK_LIMIT};
use crate::threadpool::{Completions, ThreadPool};
use crate::timers::{TimerHeap, TimerLists};
use crate::trace::{JsonLines, Setting, Trace, TraceSink};

/// The fewest frames a loop's stack may hold: the loop nests its own frames a few deep
/// (`main`, `processTimers` → `setTimeout`, `nextTick`, `uncaughtException`, …).
///
/// ```
/// use eventloop::prelude::*;
///
/// use eventloop::event_loop::{BuildError, MIN_STACK_LIMIT};
///
/// let too_small = EventLoop::builder().stack_limit(MIN_STACK_LIMIT - 1).build();
/// assert_eq!(too_small.unwrap_err(), BuildError::StackLimitTooSmall(MIN_STACK_LIMIT - 1));
/// ```
pub const MIN_STACK_LIMIT: usize = 8;

/// Why an [`EventLoop`] could not be built.
///
/// ```
/// use eventloop::prelude::*;
///
/// let err = EventLoop::builder().stack_limit(1).build().unwrap_err();
/// assert!(err.to_string().contains("too small"));
/// ```
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

/// Sets up an [`EventLoop`]: its clock, stack limit, thread pool, tracing and panic reports.
///
/// ```
/// use eventloop::prelude::*;
///
/// use eventloop::clock::ManualClock;
/// use eventloop::threadpool::ThreadPool;
///
/// let lp = EventLoop::builder()
///     .clock(ManualClock::starting_at(500))
///     .stack_limit(64)
///     .thread_pool(ThreadPool::with_size(1))
///     .build()
///     .unwrap();
/// assert_eq!((lp.now(), lp.stack().limit(), lp.thread_pool().size()), (500, 64, 1));
/// ```
pub struct Builder {
    clock: Box<dyn Clock>,
    stack_limit: usize,
    pool: Option<ThreadPool>,
    trace: Setting,
    quiet_panics: bool,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("stack_limit", &self.stack_limit)
            .field("quiet_panics", &self.quiet_panics)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// The clock the loop reads (default: [`SystemClock`]).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::clock::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let mut lp = EventLoop::builder().clock(clock.clone()).build().unwrap();
    /// lp.set_timeout(|lp| assert_eq!(lp.now(), 250), 250);
    /// lp.run(RunMode::Default); // no real waiting: the manual clock jumps
    /// ```
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The deepest the call stack may grow (default: [`DEFAULT_STACK_LIMIT`]).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let lp = EventLoop::builder().stack_limit(32).build().unwrap();
    /// assert_eq!(lp.stack().limit(), 32);
    /// ```
    pub fn stack_limit(mut self, frames: usize) -> Self {
        self.stack_limit = frames;
        self
    }

    /// The thread pool for this loop's jobs (default: [`ThreadPool::global`], shared by every
    /// loop built without one and sized by `UV_THREADPOOL_SIZE`). A pool of its own, such as
    /// `ThreadPool::with_size(1)`, keeps the loop's jobs apart from every other loop's.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::threadpool::ThreadPool;
    ///
    /// let mut lp = EventLoop::builder().thread_pool(ThreadPool::with_size(2)).build().unwrap();
    /// lp.queue_work(|| 6 * 7, |_, answer| assert_eq!(answer.unwrap(), 42));
    /// lp.run(RunMode::Default);
    /// assert_eq!(lp.thread_pool().size(), 2);
    /// ```
    pub fn thread_pool(mut self, pool: ThreadPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Traces the loop from the start into `writer`, in the JSON lines format of
    /// [`trace::format`](crate::trace::format) (give it a `BufWriter`). The writer is flushed
    /// when the loop is dropped, or by [`EventLoop::finish_trace`], which reports a write error.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::builder().trace(Vec::new()).build().unwrap(); // any io::Write
    /// lp.set_immediate(|_| {});
    /// lp.run(RunMode::Default);
    /// lp.finish_trace().unwrap();
    /// ```
    pub fn trace(mut self, writer: impl std::io::Write + 'static) -> Self {
        self.trace = Setting::Sink(Box::new(JsonLines::new(writer)));
        self
    }

    /// Traces the loop from the start into a [`TraceSink`] of your own.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::trace::{TraceEvent, TraceSink};
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// struct Count(Rc<Cell<usize>>);
    /// impl TraceSink for Count {
    ///     fn record(&mut self, _at: u64, _event: &TraceEvent) {
    ///         self.0.set(self.0.get() + 1);
    ///     }
    /// }
    /// let seen = Rc::new(Cell::new(0));
    /// let mut lp = EventLoop::builder().trace_sink(Count(seen.clone())).build().unwrap();
    /// lp.set_immediate(|_| {});
    /// lp.run(RunMode::Default);
    /// assert!(seen.get() > 0);
    /// ```
    pub fn trace_sink(mut self, sink: impl TraceSink + 'static) -> Self {
        self.trace = Setting::Sink(Box::new(sink));
        self
    }

    /// Keeps every [`TraceEvent`](crate::trace::TraceEvent) in memory from the start, for
    /// [`EventLoop::take_trace`].
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::trace::TraceEvent;
    ///
    /// let mut lp = EventLoop::builder().trace_in_memory().build().unwrap();
    /// lp.set_immediate(|_| {});
    /// lp.run(RunMode::Default);
    /// assert!(lp.take_trace().iter().any(|e| matches!(e, TraceEvent::Phase(_))));
    /// ```
    pub fn trace_in_memory(mut self) -> Self {
        self.trace = Setting::Memory;
        self
    }

    /// Lets the loop be the one that reports a panic inside a callback, as Node reports an
    /// uncaught exception (default: off).
    ///
    /// Off, the loop leaves the process's panic hook alone: a panic in a callback is
    /// reported by whatever hook the program has (Rust's default prints it where it
    /// happened), then the loop handles it — an `uncaughtException` listener hears it, or
    /// [`run_main`](EventLoop::run_main) returns it as [`Uncaught`](super::Uncaught) — and
    /// prints nothing more. [`Uncaught::location`](super::Uncaught::location) is `None`.
    ///
    /// On, building the loop wraps the process's panic hook: inside a loop's callback the
    /// hook only records where the panic happened
    /// ([`Uncaught::location`](super::Uncaught::location)); outside one it calls the hook that
    /// was in place before. A panic that an `uncaughtException` listener handles is then not
    /// printed at all, and one that escapes [`run`](EventLoop::run) is printed once, by the
    /// loop, with its frames. The hook is the process's, so this is done once and holds for
    /// every loop of the process, on every thread, from then on; a hook the program sets
    /// afterwards replaces the wrapper.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::builder().quiet_panics(true).build().unwrap();
    /// let err = lp.run_main(|_| panic!("reported by the loop")).unwrap_err();
    /// assert!(err.location.unwrap().contains(".rs")); // the hook noted where
    /// ```
    pub fn quiet_panics(mut self, on: bool) -> Self {
        self.quiet_panics = on;
        self
    }

    /// Builds the loop.
    ///
    /// # Errors
    /// [`BuildError::StackLimitTooSmall`] for a stack limit below [`MIN_STACK_LIMIT`].
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let lp = EventLoop::builder().build().unwrap(); // the same loop as EventLoop::new()
    /// assert_eq!(lp.active_handles(), 0);
    /// ```
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
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new(); // the system clock, the global thread pool
    /// assert_eq!(lp.run_main(|lp| lp.next_tick(|_| {})).unwrap(), 0);
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "the default stack limit is valid: build cannot fail"
    )]
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default stack limit is large enough")
    }

    /// A loop on `clock`, for example a [`ManualClock`](crate::clock::ManualClock) in tests.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::clock::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let mut lp = EventLoop::with_clock(clock.clone());
    /// clock.advance(40);
    /// lp.set_timeout(|lp| assert_eq!(lp.now(), 50), 10); // from the loop's cached time, 40
    /// lp.run(RunMode::Default);
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "the default stack limit is valid: build cannot fail"
    )]
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self::builder()
            .clock(clock)
            .build()
            .expect("the default stack limit is large enough")
    }

    /// Starts configuring a loop.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let lp = EventLoop::builder().stack_limit(100).build().unwrap();
    /// assert_eq!(lp.stack().limit(), 100);
    /// ```
    pub fn builder() -> Builder {
        Builder {
            clock: Box::new(SystemClock::new()),
            stack_limit: DEFAULT_STACK_LIMIT,
            pool: None,
            trace: Setting::Default,
            quiet_panics: false,
        }
    }

    fn from_builder(builder: Builder) -> Self {
        if builder.quiet_panics {
            process::install_quiet_hook();
        }
        let now = builder.clock.now_ms();
        let clock = if builder.clock.is_manual() {
            "manual"
        } else {
            "system"
        };
        // Without a setting of its own the loop may still be traced: by a capture, or by
        // EVENTLOOP_TRACE.
        let trace = Trace::for_loop(builder.trace, clock);
        let completions = Completions::new();
        if trace.is_enabled() {
            completions.trace_runs();
        }
        let mut lp = EventLoop {
            id: LoopId::next(),
            clock: builder.clock,
            now,
            stack: CallStack::with_limit(builder.stack_limit),
            callbacks: Heap::new(),
            handles: Heap::new(),
            queues: PhaseQueues::default(),
            timers: Timers {
                uv: TimerHeap::new(),
                node: TimerLists::new(),
                node_handle: HandleId::PLACEHOLDER,
            },
            immediates: ImmediateQueue::default(),
            jobs: Jobs {
                microtasks: Microtasks::new(),
                rejections: Vec::new(),
                unhandled: Vec::new(),
                wake_source: None,
                local_wakes: LocalWakes::default(),
            },
            liveness: Liveness::default(),
            status: RunStatus::default(),
            process: process::Process::default(),
            work: WorkQueues {
                pool: builder.pool.unwrap_or_else(ThreadPool::global),
                completions: Arc::new(completions),
                in_flight: work::InFlight::new(),
                done: VecDeque::new(),
            },
            io: IoWatchers::default(),
            states: state::States::default(),
            trace,
        };
        lp.init_node_handles();
        lp
    }
}
