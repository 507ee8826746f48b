//! Node's timers: one list per duration, on top of a single libuv timer
//! (`lib/internal/timers.js`: `insert`, `TimersList`, `processTimers`, `listOnTimeout`).
//!
//! Most programs create many timers with the same few delays (every socket's 2-minute idle
//! timeout, every retry's 100 ms). Node exploits that: timers with the same duration live in
//! one doubly linked list in insertion order — which is also expiry order, since they share a
//! duration — so adding one is an O(1) append and clearing one an O(1) unlink. Only the lists
//! sit in a priority queue, ordered by (expiry of their head, list id), and only the earliest
//! list's expiry is given to the one libuv timer that wakes Node up.
//!
//! [`TimerLists`] holds the lists and answers the loop's questions; it never calls a callback.
//! The loop asks [`next_due`](TimerLists::next_due) for the next timer to run in a pass and
//! calls [`after_callback`](TimerLists::after_callback) when it returned.

// EXERCISE `lists` (chapter 3): Node's timer lists: the next due timeout, list by list.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn lists`.
// Generated from src/timers/timer_lists.rs; `cargo learn reset lists` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use std::collections::{BTreeSet, HashMap};

use crate::heap::{Heap, Key};

/// A `Timeout`'s state, as Node keeps it on the JavaScript object. A timeout lives here
/// while it is scheduled or running; a fired (non-repeating) or cleared one is released.
#[derive(Debug)]
struct Timeout<P> {
    /// The normalised delay (`_idleTimeout`).
    idle_timeout: f64,
    /// The loop time of the last (re)insertion (`_idleStart`).
    idle_start: u64,
    /// An interval repeats (`_repeat`).
    repeat: bool,
    /// Keeps the process alive (`[kRefed]`).
    refed: bool,
    /// The list it sits in, by duration, and its neighbours there (`_idlePrev`/`_idleNext`);
    /// `None` while its callback runs.
    link: Option<Link>,
    payload: P,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    msecs: u64,
    prev: Option<Key>,
    next: Option<Key>,
}

/// All timers of one duration, oldest first.
#[derive(Debug, Clone, Copy)]
struct TimersList {
    expiry: u64,
    id: u64,
    head: Option<Key>,
    tail: Option<Key>,
}

/// Node's duration lists and their priority queue.
///
/// ```
/// use eventloop::timers::{AfterCallback, Due, TimerLists};
///
/// let mut lists = TimerLists::new();
/// let (a, _) = lists.create("a", 10.0, false, 0);
/// let (b, _) = lists.create("b", 10.0, false, 0); // same duration: same list, behind a
/// lists.begin_pass();
/// assert_eq!(lists.next_due(10), Due::Timer(a));
/// assert_eq!(lists.after_callback(a, 10), AfterCallback::Released("a"));
/// assert_eq!(lists.next_due(10), Due::Timer(b));
/// ```
#[derive(Debug)]
pub struct TimerLists<P> {
    timeouts: Heap<Timeout<P>>,
    /// `timerListMap`: duration → list.
    lists: HashMap<u64, TimersList>,
    /// `timerListQueue`: (expiry, list id, duration), earliest first.
    queue: BTreeSet<(u64, u64, u64)>,
    next_list_id: u64,
    /// The expiry the libuv timer is armed for (`nextExpiry`); `u64::MAX` for none.
    next_expiry: u64,
    /// How many live timeouts are ref'd (`timeoutInfo[0]`).
    ref_count: usize,
}

/// What the loop should do next in a timers pass.
///
/// ```
/// use eventloop::timers::{Due, TimerLists};
///
/// let mut lists = TimerLists::new();
/// lists.create((), 50.0, false, 0);
/// lists.begin_pass();
/// assert_eq!(lists.next_due(10), Due::Done(Some(50))); // nothing yet: re-arm for 50
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub enum Due {
    /// Run this timeout's callback now, then call [`TimerLists::after_callback`].
    Timer(Key),
    /// Nothing more is due. `Some(expiry)`: re-arm the libuv timer for that loop time;
    /// `None`: no timeout is left.
    Done(Option<u64>),
}

/// What became of a timeout after its callback ran.
///
/// ```
/// use eventloop::timers::{AfterCallback, Due, TimerLists};
///
/// let mut lists = TimerLists::new();
/// let (every, _) = lists.create((), 10.0, true, 0); // an interval
/// lists.begin_pass();
/// assert_eq!(lists.next_due(10), Due::Timer(every));
/// assert!(matches!(lists.after_callback(every, 10), AfterCallback::Rescheduled(_)));
/// ```
#[derive(Debug, PartialEq, Eq)]
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub enum AfterCallback<P> {
    /// An interval went back into its list. `Some(ms)`: restart the libuv timer with `ms`.
    Rescheduled(Option<u64>),
    /// It was refreshed or cleared by its own callback: nothing to do.
    Unchanged,
    /// It fired for good: here is its payload to free.
    Released(P),
}

impl<P> Default for TimerLists<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> TimerLists<P> {
    /// No timeouts.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let lists: TimerLists<()> = TimerLists::new();
    /// assert!(lists.is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            timeouts: Heap::new(),
            lists: HashMap::new(),
            queue: BTreeSet::new(),
            next_list_id: 0,
            next_expiry: u64::MAX,
            ref_count: 0,
        }
    }

    /// How many ref'd timeouts are alive: the libuv timer is ref'd exactly when this is > 0.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 5.0, false, 0);
    /// lists.set_ref(t, false);
    /// assert_eq!(lists.ref_count(), 0);
    /// ```
    pub fn ref_count(&self) -> usize {
        self.ref_count
    }

    /// How many timeouts are scheduled or running.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// lists.create((), 5.0, false, 0);
    /// lists.create((), 7.0, false, 0);
    /// assert_eq!(lists.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.timeouts.len()
    }

    /// True when no timeout is scheduled or running.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 5.0, false, 0);
    /// lists.clear(t);
    /// assert!(lists.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.timeouts.is_empty()
    }

    /// How many duration lists exist (emptied ones may linger until a pass reaches them).
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// lists.create((), 5.0, false, 0);
    /// lists.create((), 5.9, false, 0); // truncated to 5: the same list
    /// lists.create((), 7.0, false, 0);
    /// assert_eq!(lists.list_count(), 2);
    /// ```
    pub fn list_count(&self) -> usize {
        self.lists.len()
    }

    /// The payload of a live timeout.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create("cb", 5.0, false, 0);
    /// assert_eq!(lists.payload(t), Some(&"cb"));
    /// ```
    pub fn payload(&self, timeout: Key) -> Option<&P> {
        self.timeouts.get(timeout).map(|t| &t.payload)
    }

    /// True when the timeout is live and keeps the process alive (`hasRef`).
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 5.0, false, 0);
    /// assert!(lists.has_ref(t)); // ref'd when made
    /// ```
    pub fn has_ref(&self, timeout: Key) -> bool {
        self.timeouts.get(timeout).is_some_and(|t| t.refed)
    }

    /// The normalised delay (`_idleTimeout`) of a live timeout.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 2.5, false, 0);
    /// assert_eq!(lists.idle_timeout(t), Some(2.5)); // the fraction is kept here
    /// ```
    pub fn idle_timeout(&self, timeout: Key) -> Option<f64> {
        self.timeouts.get(timeout).map(|t| t.idle_timeout)
    }

    /// The loop time the timeout was last (re)scheduled at (`_idleStart`).
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 5.0, false, 30);
    /// lists.refresh(t, 42);
    /// assert_eq!(lists.idle_start(t), Some(42));
    /// ```
    pub fn idle_start(&self, timeout: Key) -> Option<u64> {
        self.timeouts.get(timeout).map(|t| t.idle_start)
    }

    /// True while the timeout waits in a list.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 5.0, false, 0);
    /// assert!(lists.is_scheduled(t));
    /// lists.clear(t);
    /// assert!(!lists.is_scheduled(t));
    /// ```
    pub fn is_scheduled(&self, timeout: Key) -> bool {
        self.timeouts.get(timeout).is_some_and(|t| t.link.is_some())
    }

    /// Creates a ref'd timeout and schedules it at `now` (`new Timeout` + `insert`). `delay`
    /// must be normalised already (see [`normalize_delay`](super::normalize_delay)). Returns
    /// its key and, when the libuv timer must be restarted, the timeout to restart it with.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (_, restart) = lists.create((), 100.0, false, 0);
    /// assert_eq!(restart, Some(100)); // the first list: arm the libuv timer
    /// let (_, restart) = lists.create((), 200.0, false, 0);
    /// assert_eq!(restart, None); // expires later: the timer is armed early enough
    /// ```
    pub fn create(&mut self, payload: P, delay: f64, repeat: bool, now: u64) -> (Key, Option<u64>) {
        let key = self.timeouts.insert(Timeout {
            idle_timeout: delay,
            idle_start: now,
            repeat,
            refed: true,
            link: None,
            payload,
        });
        self.ref_count += 1;
        let schedule = self.insert(key, now);
        (key, schedule)
    }

    /// Appends `timeout` to the list of its (truncated) duration, creating the list if needed
    /// (`insert`). Returns `Some(ms)` when a new list expires before the libuv timer would
    /// fire: the caller restarts that timer with `ms`.
    fn insert(&mut self, timeout: Key, start: u64) -> Option<u64> {
        self.unlink(timeout);
        let t = self.timeouts.get_mut(timeout)?;
        let msecs = t.idle_timeout as u64; // `MathTrunc`: 1.8 ms shares the 1 ms list
        t.idle_start = start;
        let mut schedule = None;
        if !self.lists.contains_key(&msecs) {
            let expiry = start.saturating_add(msecs);
            let id = self.next_list_id;
            self.next_list_id += 1;
            self.queue.insert((expiry, id, msecs));
            self.lists.insert(
                msecs,
                TimersList {
                    expiry,
                    id,
                    head: None,
                    tail: None,
                },
            );
            if self.next_expiry > expiry {
                schedule = Some(msecs);
                self.next_expiry = expiry;
            }
        }
        let list = self.lists.get_mut(&msecs).expect("created above");
        let prev = list.tail.replace(timeout);
        list.head.get_or_insert(timeout);
        if let Some(prev) = prev {
            self.link_mut(prev).next = Some(timeout);
        }
        self.timeouts.get_mut(timeout).expect("live").link = Some(Link {
            msecs,
            prev,
            next: None,
        });
        schedule
    }

    /// Takes `timeout` out of its list, if it is in one (`L.remove`). O(1).
    fn unlink(&mut self, timeout: Key) {
        let Some(link) = self.timeouts.get_mut(timeout).and_then(|t| t.link.take()) else {
            return;
        };
        match link.prev {
            Some(prev) => self.link_mut(prev).next = link.next,
            None => {
                if let Some(list) = self.lists.get_mut(&link.msecs) {
                    list.head = link.next;
                }
            }
        }
        match link.next {
            Some(next) => self.link_mut(next).prev = link.prev,
            None => {
                if let Some(list) = self.lists.get_mut(&link.msecs) {
                    list.tail = link.prev;
                }
            }
        }
    }

    fn link_mut(&mut self, timeout: Key) -> &mut Link {
        self.timeouts
            .get_mut(timeout)
            .and_then(|t| t.link.as_mut())
            .expect("a list neighbour is a linked, live timeout")
    }

    fn delete_list(&mut self, msecs: u64) {
        if let Some(list) = self.lists.remove(&msecs) {
            self.queue.remove(&(list.expiry, list.id, msecs));
        }
    }

    /// Cancels a timeout and returns its payload (`clearTimeout` → `unenroll`). Clearing a
    /// fired, cleared or stale timeout returns `None` and changes nothing. A timeout cleared
    /// while it is due in the current pass does not run.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create("cb", 5.0, false, 0);
    /// assert_eq!(lists.clear(t), Some("cb"));
    /// assert_eq!(lists.clear(t), None); // twice does nothing
    /// ```
    pub fn clear(&mut self, timeout: Key) -> Option<P> {
        self.unlink(timeout);
        let t = self.timeouts.remove(timeout)?;
        if t.refed {
            // Only a ref'd clear deletes the emptied list; Node keeps unref'd ones, which
            // usually belong to sockets that are about to set the same timeout again.
            let msecs = t.idle_timeout as u64;
            if self.lists.get(&msecs).is_some_and(|l| l.head.is_none()) {
                self.delete_list(msecs);
            }
            self.ref_count -= 1;
        }
        Some(t.payload)
    }

    /// Schedules the timeout again, `idle_timeout` ms from `now`, behind the other timeouts of
    /// its duration (`refresh`). Returns the libuv restart like [`create`](Self::create).
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 10.0, false, 0);
    /// lists.refresh(t, 8); // due at 18 now
    /// lists.begin_pass();
    /// assert!(matches!(lists.next_due(10), eventloop::timers::Due::Done(Some(18))));
    /// ```
    pub fn refresh(&mut self, timeout: Key, now: u64) -> Option<u64> {
        self.insert(timeout, now)
    }

    /// Makes the timeout keep the process alive (`ref`), or not (`unref`). Idempotent.
    ///
    /// ```
    /// use eventloop::timers::TimerLists;
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 5.0, false, 0);
    /// lists.set_ref(t, false);
    /// lists.set_ref(t, false); // idempotent
    /// assert_eq!(lists.ref_count(), 0);
    /// ```
    pub fn set_ref(&mut self, timeout: Key, refed: bool) {
        let Some(t) = self.timeouts.get_mut(timeout) else {
            return;
        };
        if t.refed != refed {
            t.refed = refed;
            if refed {
                self.ref_count += 1;
            } else {
                self.ref_count -= 1;
            }
        }
    }

    /// Starts a timers pass (`processTimers` sets `nextExpiry = Infinity`): timeouts created
    /// during the pass compare their expiry against "no timer armed".
    ///
    /// ```
    /// use eventloop::timers::{Due, TimerLists};
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 1.0, false, 0);
    /// lists.begin_pass();
    /// assert_eq!(lists.next_due(1), Due::Timer(t));
    /// ```
    pub fn begin_pass(&mut self) {
        self.next_expiry = u64::MAX;
    }

    /// The next timeout to run in a pass that started at `now` (`processTimers` and
    /// `listOnTimeout`, one step at a time). Only timeouts due at `now` run: one created or
    /// refreshed during the pass has `idle_start >= now` and waits for a later pass.
    ///
    /// ```
    /// use eventloop::timers::{AfterCallback, Due, TimerLists};
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 1.0, false, 0);
    /// lists.begin_pass();
    /// assert_eq!(lists.next_due(5), Due::Timer(t));
    /// assert!(matches!(lists.after_callback(t, 5), AfterCallback::Released(())));
    /// assert_eq!(lists.next_due(5), Due::Done(None)); // nothing left
    /// ```
    #[allow(clippy::missing_panics_doc, reason = "list members are live timeouts")]
    pub fn next_due(&mut self, now: u64) -> Due {
        // TODO: find the next timeout due in this pass, list by list.
        // Due::Timer(key): the oldest timeout of the list that expires first, due at
        // `now` (now - its idle_start >= the list's duration), now taken out of its
        // list. Due::Done(Some(expiry)) once no list is due at `now`: the earliest
        // expiry, which the libuv timer is re-armed for (and self.next_expiry too);
        // Done(None) when no timeout is left. On the way, a list found empty is
        // deleted, and a list whose head is not due yet goes back into the queue
        // under its head's expiry (and a new list id), so the lists behind it run.
        // Example: at now = 10, lists 10 ms [a (start 0), b (start 5)] and 5 ms [c
        // (start 5)]: Timer(a), then Timer(c), then Done(Some(15)) (b is due at 15).
        todo!("find the next timeout due in this pass, list by list")
    }

    /// Finishes a timeout whose callback just returned. An interval goes back into its list,
    /// measured from `start` (the loop time read just before its callback), so the time the
    /// callback took is not added to the period.
    ///
    /// ```
    /// use eventloop::timers::{AfterCallback, Due, TimerLists};
    ///
    /// let mut lists = TimerLists::new();
    /// let (t, _) = lists.create((), 10.0, true, 0);
    /// lists.begin_pass();
    /// assert_eq!(lists.next_due(10), Due::Timer(t));
    /// lists.after_callback(t, 10); // the interval goes back, from the callback's start
    /// assert_eq!(lists.next_due(10), Due::Done(Some(20)));
    /// ```
    #[allow(clippy::missing_panics_doc, reason = "the key was checked just above")]
    pub fn after_callback(&mut self, timeout: Key, start: u64) -> AfterCallback<P> {
        let Some(t) = self.timeouts.get(timeout) else {
            return AfterCallback::Unchanged; // cleared by its own callback
        };
        if t.repeat {
            return AfterCallback::Rescheduled(self.insert(timeout, start));
        }
        if t.link.is_some() {
            return AfterCallback::Unchanged; // refreshed by its own callback
        }
        let t = self.timeouts.remove(timeout).expect("checked above");
        if t.refed {
            self.ref_count -= 1;
        }
        AfterCallback::Released(t.payload)
    }
}
