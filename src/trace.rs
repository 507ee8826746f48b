//! What the loop did, step by step: a record tests assert on and the visualizer replays.
//!
//! Tracing is off by default; when off, recording costs one branch per event.

use std::fmt;

/// The phases of the loop. An iteration (`uv_run`, libuv ≥ 1.45) takes them in the order
/// listed: pending first, timers last — plus, in `RunMode::Default`, one timers phase before
/// the first iteration.
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

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Pending => "pending",
            Phase::Idle => "idle",
            Phase::Prepare => "prepare",
            Phase::Poll => "poll",
            Phase::Check => "check",
            Phase::Closing => "closing",
            Phase::Timers => "timers",
        })
    }
}

/// One thing the loop did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// The loop entered a phase.
    Phase(Phase),
    /// A callback started, in a frame of this name.
    CallbackStarted(&'static str),
    /// That callback returned.
    CallbackFinished(&'static str),
    /// The poll phase is about to wait: `Some(ms)`, or `None` for "until woken".
    PollWait(Option<u64>),
    /// The poll phase would have waited forever with nothing that could wake it, so the run
    /// stopped instead of hanging.
    Stalled,
    /// `run` returned; the value says whether the loop was still alive.
    RunReturned(bool),
    /// A job went to the thread pool; its callback will run in a frame of this name.
    WorkQueued(&'static str),
    /// The poll phase took this many finished pool jobs, whose callbacks run next.
    WorkDone(usize),
    /// The kernel reported this many ready descriptors (the pool's wake-up not counted).
    PollReady(usize),
}

/// The recorder: a list of events, or nothing when tracing is off.
#[derive(Debug, Default)]
pub struct Trace {
    events: Option<Vec<TraceEvent>>,
}

impl Trace {
    /// Starts (or keeps) recording.
    pub fn enable(&mut self) {
        self.events.get_or_insert_with(Vec::new);
    }

    /// True while recording.
    pub fn is_enabled(&self) -> bool {
        self.events.is_some()
    }

    /// Records `event` when tracing is on.
    #[inline]
    pub fn record(&mut self, event: impl FnOnce() -> TraceEvent) {
        if let Some(events) = &mut self.events {
            events.push(event());
        }
    }

    /// Takes the events recorded so far; recording goes on.
    pub fn take(&mut self) -> Vec<TraceEvent> {
        self.events.as_mut().map(std::mem::take).unwrap_or_default()
    }
}
