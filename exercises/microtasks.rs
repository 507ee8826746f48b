//! `process.nextTick` and the microtask queue, and the checkpoint that drains them.
//!
//! Node keeps two queues beside the loop: its own *tick queue* (`process.nextTick`) and V8's
//! *microtask queue* (promise reactions, `await` continuations, `queueMicrotask`). Neither is
//! a phase. Both are drained at a *checkpoint*, which Node reaches after every callback it runs
//! — each timer, each immediate, each I/O and close callback, the main script
//! (`InternalCallbackScope::Close` and `runNextTicks` in `lib/internal/process/task_queues.js`).
//! A checkpoint runs every tick, including ticks queued meanwhile, then every microtask,
//! including microtasks queued meanwhile, and repeats while ticks remain.
//!
//! This module holds the queues and the drain order, generic over what a job is (the loop queues
//! its boxed callbacks), and the drain is told how to run one.
//!
//! ```
//! use eventloop::microtasks::{Job, Microtasks};
//!
//! let mut queues: Microtasks<&str> = Microtasks::new();
//! queues.queue_microtask("promise");
//! queues.next_tick("tick");
//! let mut ran = Vec::new();
//! Microtasks::drain(&mut (&mut queues, &mut ran), |cx| &mut *cx.0, |cx, job| cx.1.push(job));
//! assert_eq!(ran, [Job::Tick("tick"), Job::Microtask("promise")]);
//! ```

// EXERCISE `microtasks` (chapter 5): The checkpoint: nextTick, then microtasks, until both are empty.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn microtasks`.
// Generated from src/microtasks.rs; `cargo learn reset microtasks` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use std::collections::VecDeque;

/// One entry of either queue.
///
/// ```
/// use eventloop::microtasks::{Job, Microtasks};
///
/// let mut queues = Microtasks::new();
/// queues.queue_microtask("then");
/// queues.next_tick("tick").unwrap();
/// assert!(matches!(queues.clear()[..], [Job::Tick("tick"), Job::Microtask("then")]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job<K> {
    /// A `process.nextTick` callback.
    Tick(K),
    /// A microtask: a promise reaction or a `queueMicrotask` callback.
    Microtask(K),
}

/// The tick queue and the microtask queue.
///
/// ```
/// use eventloop::microtasks::{Job, Microtasks};
///
/// let mut queues = Microtasks::new();
/// queues.next_tick(1).unwrap();
/// queues.queue_microtask(2);
/// assert_eq!((queues.ticks(), queues.microtasks()), (1, 1));
/// ```
#[derive(Debug)]
pub struct Microtasks<K> {
    ticks: VecDeque<K>,
    microtasks: VecDeque<K>,
    /// Set when the process is exiting: `process.nextTick` then drops its callback.
    exiting: bool,
}

impl<K> Default for Microtasks<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Microtasks<K> {
    /// Two empty queues.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let queues: Microtasks<()> = Microtasks::new();
    /// assert!(queues.is_empty());
    /// ```
    pub fn new() -> Self {
        Self {
            ticks: VecDeque::new(),
            microtasks: VecDeque::new(),
            exiting: false,
        }
    }

    /// Queues a tick. Returns it back when the process is exiting: Node then drops it.
    ///
    /// # Errors
    /// The tick itself, given back, once the process is exiting.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// assert_eq!(queues.next_tick("a"), Ok(()));
    /// queues.set_exiting();
    /// assert_eq!(queues.next_tick("b"), Err("b")); // refused while exiting
    /// ```
    pub fn next_tick(&mut self, tick: K) -> Result<(), K> {
        if self.exiting {
            return Err(tick);
        }
        self.ticks.push_back(tick);
        Ok(())
    }

    /// Queues a microtask, behind every microtask already queued (one FIFO for promise
    /// reactions and `queueMicrotask`).
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// queues.queue_microtask("reaction");
    /// assert_eq!(queues.microtasks(), 1);
    /// ```
    pub fn queue_microtask(&mut self, microtask: K) {
        self.microtasks.push_back(microtask);
    }

    /// From now on, ticks are refused (`process._exiting`).
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues: Microtasks<u8> = Microtasks::new();
    /// queues.set_exiting();
    /// assert!(queues.is_exiting());
    /// ```
    pub fn set_exiting(&mut self) {
        self.exiting = true;
    }

    /// Accepts ticks again: the program that was exiting has ended, and the loop may run
    /// another.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// queues.set_exiting();
    /// queues.clear_exiting();
    /// assert!(queues.next_tick(1).is_ok());
    /// ```
    pub fn clear_exiting(&mut self) {
        self.exiting = false;
    }

    /// True once [`set_exiting`](Self::set_exiting) was called (and until
    /// [`clear_exiting`](Self::clear_exiting)).
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let queues: Microtasks<u8> = Microtasks::new();
    /// assert!(!queues.is_exiting());
    /// ```
    pub fn is_exiting(&self) -> bool {
        self.exiting
    }

    /// How many ticks wait.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// queues.next_tick(()).unwrap();
    /// assert_eq!(queues.ticks(), 1);
    /// ```
    pub fn ticks(&self) -> usize {
        self.ticks.len()
    }

    /// How many microtasks wait.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// queues.queue_microtask(());
    /// assert_eq!(queues.microtasks(), 1);
    /// ```
    pub fn microtasks(&self) -> usize {
        self.microtasks.len()
    }

    /// True when both queues are empty: a checkpoint would do nothing.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// queues.queue_microtask(());
    /// assert!(!queues.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty() && self.microtasks.is_empty()
    }

    /// Removes every waiting job without running it.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// queues.queue_microtask(1);
    /// assert_eq!(queues.clear().len(), 1);
    /// assert!(queues.is_empty());
    /// ```
    pub fn clear(&mut self) -> Vec<Job<K>> {
        let ticks = self.ticks.drain(..).map(Job::Tick);
        let microtasks = self.microtasks.drain(..).map(Job::Microtask);
        ticks.chain(microtasks).collect()
    }

    /// The checkpoint: runs every tick (ticks queued meanwhile included), then every
    /// microtask (likewise), and again while ticks remain. There is no depth limit: a tick
    /// that always queues another starves the loop, exactly as in Node.
    ///
    /// `queues` finds the queues inside the context `cx`, and `run` runs one job with `cx`,
    /// which may queue more — that is why the queues are looked up again for every job.
    ///
    /// ```
    /// use eventloop::microtasks::{Job, Microtasks};
    ///
    /// let mut queues = Microtasks::new();
    /// queues.queue_microtask(1);
    /// let mut ran = Vec::new();
    /// Microtasks::drain(&mut (&mut queues, &mut ran), |cx| &mut *cx.0, |cx, job| {
    ///     if let Job::Microtask(n) = job {
    ///         cx.1.push(n);
    ///         if n < 3 {
    ///             cx.0.queue_microtask(n + 1); // queued meanwhile: runs in this same checkpoint
    ///         }
    ///     }
    /// });
    /// assert_eq!(ran, [1, 2, 3]);
    /// ```
    pub fn drain<C>(
        cx: &mut C,
        queues: impl Fn(&mut C) -> &mut Microtasks<K>,
        mut run: impl FnMut(&mut C, Job<K>),
    ) {
        // TODO: drain ticks, then microtasks, until both queues are empty.
        // Both queues are empty. Ticks ran before the microtasks of the same round, each
        // queue oldest first, and what the jobs queued ran in this same checkpoint: a
        // tick queued by a tick before any microtask, a tick queued by a microtask after
        // every microtask.
        // Example: ticks t1 (it queues t3) and t2, microtask m1 (it queues tick t4): t1,
        // t2, t3, m1, t4.
        todo!("drain ticks, then microtasks, until both queues are empty")
    }
}

/// What a rejected promise holds: JavaScript's "reason". Every reaction sees the same error, so
/// it is shared (an `io::Error` cannot be cloned).
///
/// ```
/// use eventloop::prelude::*;
///
/// let reason = Rejection::new("failed");
/// let seen_by_two = reason.clone(); // two reactions see the same error
/// assert!(reason.same(&seen_by_two));
/// ```
#[derive(Clone)]
pub struct Rejection(std::rc::Rc<std::io::Error>);

impl Rejection {
    /// A rejection with a message, like `new Error(message)`.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// assert_eq!(Rejection::new("boom").to_string(), "boom");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self::from(std::io::Error::other(message.into()))
    }

    /// The error.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let r = Rejection::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
    /// assert_eq!(r.error().kind(), std::io::ErrorKind::TimedOut);
    /// ```
    pub fn error(&self) -> &std::io::Error {
        &self.0
    }

    /// True when both name the same error object, like `===` on two reasons.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let a = Rejection::new("x");
    /// assert!(a.same(&a.clone()));
    /// assert!(!a.same(&Rejection::new("x"))); // equal text, another error
    /// ```
    pub fn same(&self, other: &Rejection) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }
}

impl From<std::io::Error> for Rejection {
    fn from(e: std::io::Error) -> Self {
        Rejection(std::rc::Rc::new(e))
    }
}

impl std::fmt::Debug for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Rejection({:?})", self.0)
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Rejection {}

/// A microtask that lives in an object of its own rather than in a box made to queue it: a
/// promise reaction lives in the node of the promise it will settle, so queueing it allocates
/// nothing. `L` is what runs it (the event loop, which this module knows nothing of).
pub(crate) trait SharedJob<L: ?Sized> {
    /// Runs the job; the queue held the only `Rc` it needed.
    fn run(self: std::rc::Rc<Self>, lp: &mut L);
}

/// A rejected promise as the unhandled-rejection report at the end of a checkpoint sees it,
/// whatever its value type: has a reaction been attached since it was rejected?
pub(crate) trait Handled {
    /// True once a reaction was attached.
    fn handled(&self) -> bool;
}
