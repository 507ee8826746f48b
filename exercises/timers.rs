//! libuv's timers: a binary min-heap of deadlines (`src/timer.c`, `src/heap-inl.h`).
//!
//! Every libuv timer of a loop sits in one heap ordered by its absolute deadline in loop
//! time, ties broken by a *start id* — a counter bumped on every start — so timers with the
//! same deadline fire in the order they were started, and a restarted timer goes behind the
//! others. A timers pass (libuv ≥ 1.48, `uv__run_timers`) first moves every timer that is due
//! at the pass's "now" to a ready list, then runs them: a timer started by one of those
//! callbacks, even with a 0 ms timeout, is not in the list and waits for the next pass.
//!
//! This structure only holds keys and deadlines; the loop owns the callbacks. Each timer
//! carries a payload `P` (the loop stores the key of the timer's handle there).
//!
//! ```
//! use eventloop::timers::TimerHeap;
//!
//! let mut timers = TimerHeap::new();
//! let a = timers.insert("A");
//! let b = timers.insert("B");
//! timers.start(b, 0, 10, 0); // now = 0, due at 10
//! timers.start(a, 0, 10, 0); // same deadline, started later
//! assert_eq!(timers.next_timeout(0), Some(10));
//! timers.collect_due(10);
//! let order: Vec<_> = std::iter::from_fn(|| timers.pop_ready(10)).collect();
//! assert_eq!(order, [b, a]);
//! ```

// EXERCISE `timers` (chapter 3): libuv's timer heap: deadlines in a binary min-heap.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn timers`.
// Generated from src/timers/timer_heap.rs; `cargo learn reset timers` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use std::collections::VecDeque;

use crate::heap::{Heap, Key};

/// One slot of the heap array: a deadline, the start id that breaks ties, and whose it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    due: u64,
    start_id: u64,
    timer: Key,
}

/// A timer's state.
///
/// # Invariant
/// `position` is `Some(i)` exactly when `order[i].timer` is this timer (the timer is active).
#[derive(Debug)]
struct Timer<P> {
    due: u64,
    repeat: u64,
    /// Set by the first `start`; `again` on a timer never started is an error.
    started: bool,
    /// Sitting in the ready list of the current pass.
    ready: bool,
    position: Option<usize>,
    payload: P,
}

/// libuv's timer heap, with the ready list of a timers pass.
///
/// ```
/// use eventloop::timers::TimerHeap;
///
/// let mut timers = TimerHeap::new();
/// let (a, b) = (timers.insert("a"), timers.insert("b"));
/// timers.start(b, 0, 20, 0);
/// timers.start(a, 0, 10, 0);
/// assert_eq!(timers.collect_due(25), 2);
/// assert_eq!(timers.pop_ready(25), Some(a)); // earliest deadline first
/// assert_eq!(timers.pop_ready(25), Some(b));
/// ```
#[derive(Debug)]
pub struct TimerHeap<P> {
    timers: Heap<Timer<P>>,
    /// A binary min-heap: `order[0]` is the earliest; the children of `i` are `2i+1`, `2i+2`.
    order: Vec<Entry>,
    next_start_id: u64,
    /// Timers due at the current pass's start, in firing order.
    ready: VecDeque<Key>,
}

/// `uv_timer_again` on a timer that was never started (libuv: `UV_EINVAL`).
///
/// ```
/// use eventloop::timers::{NeverStarted, TimerHeap};
///
/// let mut timers = TimerHeap::new();
/// let t = timers.insert(());
/// assert_eq!(timers.again(t, 0), Err(NeverStarted));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeverStarted;

impl std::fmt::Display for NeverStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("`again` needs a timer that was started before")
    }
}

impl std::error::Error for NeverStarted {}

impl<P> Default for TimerHeap<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> TimerHeap<P> {
    /// An empty heap.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let timers: TimerHeap<()> = TimerHeap::new();
    /// assert_eq!(timers.next_timeout(0), None); // nothing to wait for
    /// ```
    pub fn new() -> Self {
        Self {
            timers: Heap::new(),
            order: Vec::new(),
            next_start_id: 0,
            ready: VecDeque::new(),
        }
    }

    /// Creates a stopped timer carrying `payload` (`uv_timer_init`).
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert("cb");
    /// assert!(!timers.is_active(t)); // made stopped
    /// ```
    pub fn insert(&mut self, payload: P) -> Key {
        self.timers.insert(Timer {
            due: 0,
            repeat: 0,
            started: false,
            ready: false,
            position: None,
            payload,
        })
    }

    /// Stops and forgets a timer, returning its payload (`uv_close` on a timer).
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert("cb");
    /// timers.start(t, 0, 5, 0);
    /// assert_eq!(timers.remove(t), Some("cb"));
    /// assert_eq!(timers.active(), 0);
    /// ```
    pub fn remove(&mut self, timer: Key) -> Option<P> {
        self.stop(timer);
        self.timers.remove(timer).map(|t| t.payload)
    }

    /// The payload of a timer, if it still exists.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(42);
    /// assert_eq!(timers.payload(t), Some(&42));
    /// ```
    pub fn payload(&self, timer: Key) -> Option<&P> {
        self.timers.get(timer).map(|t| &t.payload)
    }

    /// How many timers exist, started or not.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// timers.insert(());
    /// assert_eq!((timers.len(), timers.active()), (1, 0));
    /// ```
    pub fn len(&self) -> usize {
        self.timers.len()
    }

    /// True when no timer exists.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let timers: TimerHeap<()> = TimerHeap::new();
    /// assert!(timers.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }

    /// How many timers are active (in the heap).
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 0, 1, 0);
    /// assert_eq!(timers.active(), 1);
    /// ```
    pub fn active(&self) -> usize {
        self.order.len()
    }

    /// True when `timer` is started and has not fired or been stopped since.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 0, 1, 0);
    /// timers.collect_due(1);
    /// timers.pop_ready(1);
    /// assert!(!timers.is_active(t)); // fired once: inactive
    /// ```
    pub fn is_active(&self, timer: Key) -> bool {
        self.timers.get(timer).is_some_and(|t| t.position.is_some())
    }

    /// The timer's repeat interval (0: fires once).
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 0, 10, 10);
    /// assert_eq!(timers.repeat(t), Some(10));
    /// ```
    pub fn repeat(&self, timer: Key) -> Option<u64> {
        self.timers.get(timer).map(|t| t.repeat)
    }

    /// Changes the repeat interval, taking effect at the next (re)start (`uv_timer_set_repeat`).
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 0, 10, 10);
    /// timers.set_repeat(t, 50); // used from the next restart on
    /// assert_eq!((timers.repeat(t), timers.due(t)), (Some(50), Some(10)));
    /// ```
    pub fn set_repeat(&mut self, timer: Key, repeat: u64) {
        if let Some(t) = self.timers.get_mut(timer) {
            t.repeat = repeat;
        }
    }

    /// The absolute deadline of an active timer.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 100, 5, 0);
    /// assert_eq!(timers.due(t), Some(105)); // absolute: now + timeout
    /// ```
    pub fn due(&self, timer: Key) -> Option<u64> {
        self.timers
            .get(timer)
            .filter(|t| t.position.is_some())
            .map(|t| t.due)
    }

    /// Milliseconds until `timer` is due, 0 if overdue or not active (`uv_timer_get_due_in`).
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 100, 5, 0);
    /// assert_eq!((timers.due_in(t, 102), timers.due_in(t, 200)), (3, 0));
    /// ```
    pub fn due_in(&self, timer: Key, now: u64) -> u64 {
        self.due(timer).map_or(0, |due| due.saturating_sub(now))
    }

    /// Starts (or restarts) `timer` to fire `timeout` ms after `now`, then every `repeat` ms if
    /// `repeat` is not 0 (`uv_timer_start`). Returns false for a stale key.
    ///
    /// The deadline saturates at `u64::MAX`: an absurd timeout means "never", not an overflow.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// assert!(timers.start(t, 0, u64::MAX, 0)); // saturates: "never"
    /// timers.remove(t);
    /// assert!(!timers.start(t, 0, 1, 0)); // a stale key
    /// ```
    #[allow(clippy::missing_panics_doc, reason = "the key was checked just above")]
    pub fn start(&mut self, timer: Key, now: u64, timeout: u64, repeat: u64) -> bool {
        if !self.timers.contains(timer) {
            return false;
        }
        self.stop(timer);
        let start_id = self.next_start_id;
        self.next_start_id += 1;
        let due = now.saturating_add(timeout);
        let t = self.timers.get_mut(timer).expect("checked above");
        t.due = due;
        t.repeat = repeat;
        t.started = true;
        t.position = Some(self.order.len());
        self.order.push(Entry {
            due,
            start_id,
            timer,
        });
        self.sift_up(self.order.len() - 1);
        true
    }

    /// Stops `timer`: it leaves the heap, and if it is due in the current pass but has not run
    /// yet, it will not run (`uv_timer_stop`). Stopping a stopped timer does nothing.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let (a, b) = (timers.insert("a"), timers.insert("b"));
    /// timers.start(a, 0, 1, 0);
    /// timers.start(b, 0, 1, 0);
    /// timers.collect_due(1);
    /// assert_eq!(timers.pop_ready(1), Some(a));
    /// timers.stop(b); // a's callback stops b, due in the same pass: b does not run
    /// assert_eq!(timers.pop_ready(1), None);
    /// ```
    pub fn stop(&mut self, timer: Key) {
        let Some(t) = self.timers.get_mut(timer) else {
            return;
        };
        t.ready = false; // its entry in `ready` is skipped when reached
        if let Some(position) = t.position {
            self.remove_at(position);
        }
    }

    /// Restarts a repeating timer with its repeat interval as the timeout; does nothing for a
    /// timer that does not repeat (`uv_timer_again`).
    ///
    /// # Errors
    /// [`NeverStarted`] when the timer was never started (or the key is stale).
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 0, 100, 30);
    /// timers.again(t, 50).unwrap(); // restart with the repeat as timeout
    /// assert_eq!(timers.due(t), Some(80));
    /// ```
    pub fn again(&mut self, timer: Key, now: u64) -> Result<(), NeverStarted> {
        let t = self.timers.get(timer).ok_or(NeverStarted)?;
        if !t.started {
            return Err(NeverStarted);
        }
        let repeat = t.repeat;
        if repeat != 0 {
            self.start(timer, now, repeat, repeat);
        }
        Ok(())
    }

    /// How long the poll phase may sleep: `None` with no active timer (sleep until woken), 0 if
    /// the earliest is already due, else the milliseconds until it, capped at `i32::MAX` like
    /// libuv's `uv__next_timeout`.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 0, 40, 0);
    /// assert_eq!(timers.next_timeout(10), Some(30)); // poll may sleep 30 ms
    /// assert_eq!(timers.next_timeout(90), Some(0)); // overdue: do not sleep
    /// ```
    pub fn next_timeout(&self, now: u64) -> Option<u64> {
        let first = self.order.first()?;
        Some(first.due.saturating_sub(now).min(i32::MAX as u64))
    }

    /// Starts a timers pass: moves every timer due at `now` from the heap to the ready list, in
    /// firing order (earliest deadline first, then start order). Returns how many.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let (a, b) = (timers.insert(()), timers.insert(()));
    /// timers.start(a, 0, 5, 0);
    /// timers.start(b, 0, 50, 0);
    /// assert_eq!(timers.collect_due(10), 1); // only a is due
    /// ```
    #[allow(clippy::missing_panics_doc, reason = "heap entries are live timers")]
    pub fn collect_due(&mut self, now: u64) -> usize {
        // TODO: move every timer that is due at `now` to the ready list.
        // Every timer whose deadline is `now` or earlier has left the heap and waits in
        // the ready list, in firing order (earlier deadline first, then earlier start),
        // marked ready; timers due later stay in the heap. Returns how many moved.
        // Example: timers due at 5, 10 and 15: collect_due(10) is 2, the ready list holds
        // the 5 then the 10, and next_timeout(10) is Some(5).
        todo!("move every timer that is due at `now` to the ready list")
    }

    /// The next timer of the current pass whose callback must run now, skipping timers that
    /// were stopped after [`collect_due`](Self::collect_due). A repeating timer is re-armed
    /// from `now` *before* its callback runs, as `uv__run_timers` does.
    ///
    /// ```
    /// use eventloop::timers::TimerHeap;
    ///
    /// let mut timers = TimerHeap::new();
    /// let t = timers.insert(());
    /// timers.start(t, 0, 10, 10);
    /// timers.collect_due(10);
    /// assert_eq!(timers.pop_ready(10), Some(t));
    /// assert_eq!(timers.due(t), Some(20)); // re-armed before its callback runs
    /// ```
    pub fn pop_ready(&mut self, now: u64) -> Option<Key> {
        while let Some(timer) = self.ready.pop_front() {
            let Some(t) = self.timers.get_mut(timer) else {
                continue; // removed after it became due
            };
            if !t.ready {
                continue; // stopped after it became due
            }
            t.ready = false;
            let _ = self.again(timer, now);
            return Some(timer);
        }
        None
    }

    /// Removes the entry at `position`, keeping the heap ordered, and marks its timer inactive.
    fn remove_at(&mut self, position: usize) -> Entry {
        let last = self.order.len() - 1;
        self.swap(position, last);
        let removed = self.order.pop().expect("position is in the heap");
        if let Some(t) = self.timers.get_mut(removed.timer) {
            t.position = None;
        }
        if position < self.order.len() {
            // The entry moved into `position` may belong above or below it.
            self.sift_up(position);
            self.sift_down(position);
        }
        removed
    }

    /// True when the entry at `a` fires before the entry at `b`.
    fn less(&self, a: usize, b: usize) -> bool {
        // TODO: compare two heap entries: earlier deadline first, then earlier start.
        // true exactly when the entry at `a` must fire before the entry at `b`: an
        // earlier deadline, or the same deadline and an earlier start (a smaller
        // start_id).
        // Example: (due 10, start 3) fires before (due 10, start 5), and both before (due
        // 11, start 0).
        todo!("compare two heap entries: earlier deadline first, then earlier start")
    }

    /// Moves the entry at `position` up while it fires before its parent.
    fn sift_up(&mut self, mut position: usize) {
        // TODO: restore the heap order upwards.
        // The entry that was at `position` has risen until it is the root or its parent
        // fires before it: the heap order holds between it and every entry above it.
        // (Move entries with self.swap, which tells each timer its new position.)
        // Example: deadlines [10, 20, 30] and a 5 pushed at index 3: sift_up(3) leaves
        // [5, 10, 30, 20].
        todo!("restore the heap order upwards")
    }

    /// Moves the entry at `position` down while a child fires before it.
    fn sift_down(&mut self, mut position: usize) {
        // TODO: restore the heap order downwards.
        // The entry that was at `position` has sunk until no child fires before it: the
        // heap order holds between it and every entry below it. (Move entries with
        // self.swap.)
        // Example: deadlines [30, 10, 20]: sift_down(0) leaves [10, 30, 20].
        todo!("restore the heap order downwards")
    }

    /// Swaps two heap entries and tells both timers where they now are.
    fn swap(&mut self, a: usize, b: usize) {
        self.order.swap(a, b);
        for position in [a, b] {
            let timer = self.order[position].timer;
            if let Some(t) = self.timers.get_mut(timer) {
                t.position = Some(position);
            }
        }
    }
}
