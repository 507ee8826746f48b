//! Building a loop: its clock, stack limit, thread pool, tracing and panic reports
//! ([`Builder`]).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use super::handles::HandleId;
use super::immediates::ImmediateQueue;
use super::{
    EventLoop, IoWatchers, Jobs, LoopId, PhaseQueues, RunStatus, Timers, WorkQueues, process,
    state, work,
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

/// Sets up an [`EventLoop`]: its clock, stack limit, thread pool, tracing and panic reports.
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
        self.trace = Setting::Sink(Box::new(JsonLines::new(writer)));
        self
    }

    /// Traces the loop from the start into a [`TraceSink`] of your own.
    pub fn trace_sink(mut self, sink: impl TraceSink + 'static) -> Self {
        self.trace = Setting::Sink(Box::new(sink));
        self
    }

    /// Keeps every [`TraceEvent`](crate::trace::TraceEvent) in memory from the start, for
    /// [`EventLoop::take_trace`].
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
    pub fn quiet_panics(mut self, on: bool) -> Self {
        self.quiet_panics = on;
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
