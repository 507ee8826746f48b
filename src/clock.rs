//! Time, as the loop sees it: whole milliseconds from a monotonic clock.
//!
//! libuv reads the clock only at a few points of each iteration and caches the value as "loop
//! time" (`uv_now`); everything in between — starting a timer, computing the poll timeout — uses
//! the cached value. The loop in this crate does the same, reading a [`Clock`]. Real programs use
//! [`SystemClock`]; tests use [`ManualClock`], which only moves when told to, so a test of an
//! hour-long timer runs in microseconds and always gives the same answer.
//!
//! ```
//! use eventloop::clock::{Clock, ManualClock};
//!
//! let clock = ManualClock::new();
//! assert_eq!(clock.now_ms(), 0);
//! clock.advance(250); // a script "busy-waits" for 250 ms
//! assert_eq!(clock.now_ms(), 250);
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

// ANCHOR: clock
/// A monotonic millisecond clock.
///
/// ```
/// use eventloop::clock::{Clock, ManualClock, SystemClock};
///
/// let manual = ManualClock::new();
/// assert!(manual.jump_to(1_000) && manual.now_ms() == 1_000); // test time jumps
/// assert!(!SystemClock::new().jump_to(1_000)); // real time must be waited for
/// ```
pub trait Clock {
    /// Milliseconds since an arbitrary, fixed origin. Never goes backwards.
    fn now_ms(&self) -> u64;

    /// Moves the clock forward to `deadline_ms` if this clock can jump, and says whether it did.
    ///
    /// The poll phase calls this when it would sleep until `deadline_ms` with nothing else in
    /// flight: a [`ManualClock`] jumps (the wait costs nothing), a [`SystemClock`] cannot, so
    /// the loop really waits.
    fn jump_to(&self, deadline_ms: u64) -> bool {
        let _ = deadline_ms;
        false
    }

    /// True for a clock that only moves when told to ([`ManualClock`]). While thread-pool
    /// jobs are in flight, the poll phase of a loop on such a clock waits for them without a
    /// time limit, since no amount of real waiting would make its time pass.
    fn is_manual(&self) -> bool {
        false
    }
}
// ANCHOR_END: clock

/// The real monotonic clock (`Instant`), in milliseconds since the clock was made.
///
/// ```
/// use eventloop::clock::{Clock, ManualClock, SystemClock};
///
/// let clock = SystemClock::new();
/// let a = clock.now_ms();
/// assert!(clock.now_ms() >= a); // monotonic
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose zero is now.
    ///
    /// ```
    /// use eventloop::clock::{Clock, ManualClock, SystemClock};
    ///
    /// assert!(SystemClock::new().now_ms() < 1_000); // counted from its creation
    /// ```
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // Truncated, like libuv's `uv__hrtime(UV_CLOCK_FAST) / 1e6`.
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

// ANCHOR: manual_clock
/// A clock that moves only when told to. Clones share one time, so a test keeps a clone to
/// advance while the loop reads another.
///
/// ```
/// use eventloop::clock::{Clock, ManualClock, SystemClock};
///
/// let clock = ManualClock::new();
/// let seen_by_loop = clock.clone(); // clones share one time
/// clock.advance(25);
/// assert_eq!(seen_by_loop.now_ms(), 25);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}
// ANCHOR_END: manual_clock

impl ManualClock {
    /// A clock at 0 ms.
    ///
    /// ```
    /// use eventloop::clock::{Clock, ManualClock, SystemClock};
    ///
    /// assert_eq!(ManualClock::new().now_ms(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock at `ms`.
    ///
    /// ```
    /// use eventloop::clock::{Clock, ManualClock, SystemClock};
    ///
    /// assert_eq!(ManualClock::starting_at(90).now_ms(), 90);
    /// ```
    pub fn starting_at(ms: u64) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(ms)),
        }
    }

    /// Moves the clock forward by `ms` (saturating at `u64::MAX`): what a busy-wait or a slow
    /// callback does to real time.
    ///
    /// ```
    /// use eventloop::clock::{Clock, ManualClock, SystemClock};
    ///
    /// let clock = ManualClock::new();
    /// clock.advance(5);
    /// clock.advance(5);
    /// assert_eq!(clock.now_ms(), 10);
    /// ```
    pub fn advance(&self, ms: u64) {
        let _ = self
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// Sets the clock to `ms` if that is later than now; a monotonic clock never goes back.
    ///
    /// ```
    /// use eventloop::clock::{Clock, ManualClock, SystemClock};
    ///
    /// let clock = ManualClock::starting_at(50);
    /// clock.set(40); // never backwards
    /// assert_eq!(clock.now_ms(), 50);
    /// clock.set(60);
    /// assert_eq!(clock.now_ms(), 60);
    /// ```
    pub fn set(&self, ms: u64) {
        self.now.fetch_max(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn is_manual(&self) -> bool {
        true
    }

    fn jump_to(&self, deadline_ms: u64) -> bool {
        self.set(deadline_ms);
        true
    }
}
