//! `setTimeout` and `setInterval`: Node's timer lists driven by one libuv timer
//! (`lib/timers.js`, `lib/internal/timers.js` `processTimers`, `src/env.cc` `RunTimers`).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::{Callback, EventLoop, Input, LoopKey, process};
use crate::heap::Key;
use crate::timers::{AfterCallback, Due, normalize_delay, overflow_warning};
use crate::trace::Queue;

/// The frame a timeout's callback runs in.
fn timer_name(repeat: bool) -> &'static str {
    if repeat { "setInterval" } else { "setTimeout" }
}

/// A delay as JavaScript would pass it: any number of milliseconds, including the absurd ones
/// (negative, NaN, larger than 2^31 − 1), which Node turns into 1 ms.
///
/// ```
/// use eventloop::prelude::*;
/// use std::time::Duration;
///
/// assert_eq!(Delay::from(Duration::from_micros(1_500)), Delay(1.5));
/// assert_eq!(Delay::from(20_u32), Delay(20.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay(pub f64);

impl From<f64> for Delay {
    fn from(ms: f64) -> Self {
        Delay(ms)
    }
}

macro_rules! delay_from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Delay {
            fn from(ms: $t) -> Self {
                Delay(ms as f64)
            }
        }
    )*};
}
delay_from_integer!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// Milliseconds, fractions kept. Node's limits apply: more than 2^31 − 1 ms becomes 1 ms,
/// with a `TimeoutOverflowWarning`.
impl From<Duration> for Delay {
    fn from(d: Duration) -> Self {
        Delay(d.as_secs_f64() * 1000.0)
    }
}

/// A process warning, as `process.emitWarning` makes it.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// lp.on_warning(|_, w| assert_eq!(w.name, "TimeoutOverflowWarning"));
/// lp.set_timeout(|_| {}, 3e10); // more than 2^31 - 1 ms: 1 ms, and a warning
/// lp.run(RunMode::Default);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The warning's name, e.g. `TimeoutOverflowWarning`.
    pub name: &'static str,
    /// What it says.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

// ANCHOR: timeout_handle
/// A scheduled `setTimeout` or `setInterval`: Node's `Timeout` object, by id. Once it fired
/// for good (or was cleared) the id is stale, and every method is a harmless no-op — as it
/// is on another loop than the one that made it.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let t = lp.set_timeout(|_| {}, 50);
/// assert!(t.is_scheduled(&lp) && t.has_ref(&lp));
/// assert_eq!(t.unref(&mut lp).delay(&lp), Some(50.0));
/// assert!(!lp.run(RunMode::Default)); // unref'd: it does not keep the loop alive
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeout(LoopKey);
// ANCHOR_END: timeout_handle

impl super::Ref for Timeout {
    /// `timeout.ref()` / `timeout.unref()`: an unref'd timeout lets the process end while it
    /// waits.
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        if let Some(key) = lp.untag(self.0) {
            lp.timers.node.set_ref(key, refed);
            lp.sync_node_timer_ref();
        }
    }

    /// True while the timeout is live and ref'd (`timeout.hasRef()`).
    fn has_ref(self, lp: &EventLoop) -> bool {
        lp.untag(self.0)
            .is_some_and(|key| lp.timers.node.has_ref(key))
    }
}

impl Timeout {
    /// Schedules the timeout again, its full delay from now, behind the others of the same
    /// delay (`timeout.refresh()`). Does nothing once it has fired for good or was cleared.
    ///
    /// Nor inside the timeout's own callback: that callback is an `FnOnce` and is being
    /// consumed, so there is nothing left to run again (Node would run it a second time).
    /// A callback that re-arms itself is an interval ([`EventLoop::set_interval`]), cleared
    /// when it is done. (Inside an interval's own callback `refresh` changes nothing, in Node
    /// too: the interval is re-armed from the start of the call once it returns.)
    ///
    /// ```
    /// use eventloop::clock::ManualClock;
    /// use eventloop::prelude::*;
    ///
    /// let clock = ManualClock::new();
    /// let mut lp = EventLoop::with_clock(clock.clone());
    /// let t = lp.set_timeout(|lp| assert_eq!(lp.now(), 130), 100);
    /// clock.advance(30);
    /// t.refresh(&mut lp); // 100 ms from 30 ms
    /// lp.run(RunMode::Default);
    /// ```
    pub fn refresh(self, lp: &mut EventLoop) -> Self {
        let Some(key) = lp.untag(self.0) else {
            return self; // another loop's
        };
        let Some(&callback) = lp.timers.node.payload(key) else {
            return self; // cleared, or fired for good
        };
        if lp.callbacks.get(callback).is_none() {
            return self; // its `FnOnce` is running (or ran): a refresh could only fire nothing
        }
        lp.update_time(); // `getLibuvNow()` re-reads the clock
        if let Some(ms) = lp.timers.node.refresh(key, lp.now) {
            lp.schedule_node_timer(ms);
        }
        self
    }

    /// The normalised delay in ms (`timeout._idleTimeout`), while the timeout is live.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let t = lp.set_timeout(|_| {}, -5); // Node turns a negative delay into 1 ms
    /// assert_eq!(t.delay(&lp), Some(1.0));
    /// lp.clear_timeout(t);
    /// assert_eq!(t.delay(&lp), None);
    /// ```
    pub fn delay(self, lp: &EventLoop) -> Option<f64> {
        lp.timers.node.idle_timeout(lp.untag(self.0)?)
    }

    /// True while the timeout waits to fire.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let t = lp.set_timeout(|_| {}, 1);
    /// assert!(t.is_scheduled(&lp));
    /// lp.run(RunMode::Default);
    /// assert!(!t.is_scheduled(&lp)); // fired
    /// ```
    pub fn is_scheduled(self, lp: &EventLoop) -> bool {
        lp.untag(self.0)
            .is_some_and(|key| lp.timers.node.is_scheduled(key))
    }
}

impl EventLoop {
    // ANCHOR: set_timeout
    /// Runs `callback` once, `delay` ms from now (`setTimeout`). Delays below 1 ms, NaN, or
    /// above 2^31 − 1 ms (about 24.8 days) become 1 ms, the last with a
    /// `TimeoutOverflowWarning` (see [`on_warning`](Self::on_warning)). That holds for a
    /// [`Duration`] too: Node's rule, not Rust's, so a longer wait needs a timer re-armed in
    /// steps.
    ///
    /// ```
    /// use eventloop::clock::ManualClock;
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::with_clock(ManualClock::new());
    /// lp.run_main(|lp| {
    ///     lp.set_timeout(|lp| assert_eq!(lp.now(), 1_000), 1_000);
    /// })
    /// .unwrap();
    /// assert_eq!(lp.now(), 1_000); // the manual clock jumped to the deadline
    /// ```
    pub fn set_timeout(
        &mut self,
        callback: impl FnOnce(&mut EventLoop) + 'static,
        delay: impl Into<Delay>,
    ) -> Timeout {
        let callback = self.store(Callback::Once(Box::new(callback)));
        self.create_timeout(callback, delay.into(), false)
    }
    // ANCHOR_END: set_timeout

    /// Runs `callback` every `delay` ms until cleared (`setInterval`). The period is measured
    /// from the start of each call, so a slow callback does not stretch it.
    ///
    /// ```
    /// use eventloop::clock::ManualClock;
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::with_clock(ManualClock::new());
    /// let ticks = lp.set_interval(|lp| *lp.state_mut::<u32>() += 1, 10);
    /// lp.set_timeout(move |lp| lp.clear_interval(ticks), 35);
    /// lp.run(RunMode::Default);
    /// assert_eq!(lp.state::<u32>(), Some(&3)); // at 10, 20 and 30 ms
    /// ```
    pub fn set_interval(
        &mut self,
        callback: impl FnMut(&mut EventLoop) + 'static,
        delay: impl Into<Delay>,
    ) -> Timeout {
        let callback = self.store(Callback::Repeat(Box::new(callback)));
        self.create_timeout(callback, delay.into(), true)
    }

    /// [`set_interval`](Self::set_interval) whose callback gets its own interval too — Node's
    /// `this` in a timer's callback — so the interval can clear (or unref, or refresh)
    /// itself without a cell to smuggle its id in:
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let console = Console::capture();
    /// let c = console.clone();
    /// let mut lp = EventLoop::new();
    /// lp.run_main(|lp| {
    ///     let mut n = 0;
    ///     lp.set_interval_with(
    ///         move |lp, this| {
    ///             n += 1;
    ///             c.log(format!("tick {n}"));
    ///             if n == 3 {
    ///                 lp.clear_interval(this); // the loop has nothing left: the program ends
    ///             }
    ///         },
    ///         1,
    ///     );
    /// })
    /// .unwrap();
    /// assert_eq!(console.lines(), ["tick 1", "tick 2", "tick 3"]);
    /// ```
    pub fn set_interval_with(
        &mut self,
        mut callback: impl FnMut(&mut EventLoop, Timeout) + 'static,
        delay: impl Into<Delay>,
    ) -> Timeout {
        let this = Rc::new(Cell::new(None));
        let me = this.clone();
        let interval = self.set_interval(
            move |lp| {
                if let Some(me) = me.get() {
                    callback(lp, me)
                }
            },
            delay,
        );
        this.set(Some(interval));
        interval
    }

    fn create_timeout(&mut self, callback: Key, delay: Delay, repeat: bool) -> Timeout {
        let (delay_ms, overflowed) = normalize_delay(delay.0);
        if overflowed {
            self.emit_warning(Warning {
                name: "TimeoutOverflowWarning",
                message: overflow_warning(delay.0),
            });
        }
        self.update_time(); // `insert` reads `getLibuvNow()`, which refreshes loop time
        let (key, schedule) = self
            .timers
            .node
            .create(callback, delay_ms, repeat, self.now);
        self.note_queued(Queue::Timers, timer_name(repeat), Some(callback));
        if let Some(ms) = schedule {
            self.schedule_node_timer(ms);
        }
        self.sync_node_timer_ref();
        Timeout(self.tag(key))
    }

    /// Cancels a timeout or interval (`clearTimeout`). Clearing one that fired, was cleared,
    /// is stale or belongs to another loop does nothing; clearing one that is due later in
    /// the current timers pass keeps it from running.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let never = lp.set_timeout(|_| panic!("cleared"), 10);
    /// lp.clear_timeout(never);
    /// assert!(!lp.run(RunMode::Default)); // nothing left: the loop ends at once
    /// ```
    pub fn clear_timeout(&mut self, timeout: Timeout) {
        let Some(key) = self.untag(timeout.0) else {
            return;
        };
        if let Some(callback) = self.timers.node.clear(key) {
            self.note_unqueued(Queue::Timers, Some(callback));
            self.discard(callback);
            self.sync_node_timer_ref();
        }
    }

    /// Cancels an interval (`clearInterval`); the same as [`clear_timeout`](Self::clear_timeout).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let every = lp.set_interval(|_| panic!("cleared"), 10);
    /// lp.clear_interval(every);
    /// assert!(!lp.run(RunMode::Default));
    /// ```
    pub fn clear_interval(&mut self, timeout: Timeout) {
        self.clear_timeout(timeout);
    }

    /// Starts Node's libuv timer to fire `ms` from now (`scheduleTimer`).
    fn schedule_node_timer(&mut self, ms: u64) {
        let handle = self.timers.node_handle;
        self.timer_start(handle, ms, 0)
            .expect("Node's timer handle is never closed");
    }

    /// Node's libuv timer is ref'd exactly while a ref'd timeout exists (`toggleTimerRef`).
    fn sync_node_timer_ref(&mut self) {
        let refed = self.timers.node.ref_count() > 0;
        self.set_ref(self.timers.node_handle, refed);
    }

    // ANCHOR: process_node_timers
    /// The libuv timer's callback (`RunTimers` → `processTimers` → `listOnTimeout`): run every
    /// timeout due at the pass's `now`, a checkpoint between two of them, then re-arm the libuv
    /// timer for the earliest remaining list.
    pub(super) fn process_node_timers(&mut self) {
        self.update_time();
        let now = self.now;
        self.timers.node.begin_pass();
        let mut first = true;
        self.call_in_frame("processTimers", |lp| {
            loop {
                // Between two timers (`runNextTicks`). It comes before the next timer is
                // taken, so a tick that clears that timer keeps it from running.
                if !first {
                    lp.checkpoint();
                }
                first = false;
                match lp.timers.node.next_due(now) {
                    Due::Timer(timeout) => {
                        // next_due's contract (chapter 3's exercise): what it hands out has
                        // left its list. One still in it would come back in this same pass.
                        assert!(
                            !lp.timers.node.is_scheduled(timeout),
                            "next_due handed out a timeout that is still in its list: it \
                             must take it out (unlink) first, or the pass meets it again"
                        );
                        lp.fire_timeout(timeout)
                    }
                    Due::Done(next) => {
                        if let Some(expiry) = next {
                            lp.update_time();
                            lp.schedule_node_timer(expiry.saturating_sub(lp.now).max(1));
                        }
                        lp.sync_node_timer_ref();
                        break;
                    }
                }
            }
        });
        self.checkpoint();
    }
    // ANCHOR_END: process_node_timers

    fn fire_timeout(&mut self, timeout: Key) {
        let callback = *self
            .timers
            .node
            .payload(timeout)
            .expect("a due timeout is live");
        let repeating = matches!(
            self.callbacks.get(callback),
            Some(Some(Callback::Repeat(_)))
        );
        let start = if repeating {
            self.update_time();
            self.now
        } else {
            0
        };
        let name = timer_name(repeating);
        self.note_unqueued(Queue::Timers, Some(callback));
        // A panic on its way to the embedder still finishes this timeout (an interval is
        // re-armed, as by `listOnTimeout`'s `finally`) and arms the libuv timer for the rest.
        process::repair_on_unwind(
            self,
            &mut (),
            |lp, ()| lp.invoke(callback, name, Input::None),
            |lp, ()| {
                lp.finish_timeout(timeout, start);
                if !lp.timers.node.is_empty() {
                    lp.schedule_node_timer(1);
                }
                lp.sync_node_timer_ref();
            },
        );
        self.finish_timeout(timeout, start);
    }

    /// After a timeout's callback: an interval goes back into its list, a finished timeout
    /// frees its callback.
    fn finish_timeout(&mut self, timeout: Key, start: u64) {
        match self.timers.node.after_callback(timeout, start) {
            AfterCallback::Rescheduled(ms) => {
                if let Some(&callback) = self.timers.node.payload(timeout) {
                    self.note_queued(Queue::Timers, "setInterval", Some(callback));
                }
                if let Some(ms) = ms {
                    self.schedule_node_timer(ms);
                }
            }
            AfterCallback::Unchanged => {}
            AfterCallback::Released(callback) => self.discard(callback),
        }
    }
}
