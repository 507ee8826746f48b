//! The thread pool: where blocking work goes so the loop thread never waits for it (libuv's
//! `src/threadpool.c`).
//!
//! A file read, a DNS lookup or a password hash cannot be done by a loop that must keep
//! answering timers and sockets, so the loop hands it to a pool of worker threads and carries
//! on. This module is the pool alone, as plain data and threads; it knows nothing of the loop.
//! The loop submits a job with a [`Completions`] queue of its own; a worker runs the job,
//! puts the outcome on that queue and wakes the loop, which runs the job's callback in its
//! poll phase (`event_loop` does that part).
//!
//! As in libuv:
//! - the threads start lazily, all at once, on the first job;
//! - there is one FIFO queue; with one thread, jobs complete strictly in submission order;
//! - jobs come in three kinds, and at most `(size + 1) / 2` threads run
//!   [slow I/O](WorkKind::SlowIo) (DNS) at once, so slow lookups cannot take every thread;
//! - a job can be cancelled only while it is still queued, and cancelling costs O(log n);
//! - a job's panic reaches its callback as an error, and a worker that dies anyway is
//!   settled: its job fails with [`WorkError::WorkerDied`] and a new thread takes its place;
//! - the size comes from `UV_THREADPOOL_SIZE`, parsed as libuv parses it ([`size_from_env`]).
//!
//! Unlike libuv's one pool per process, a loop can be given a pool of its own
//! ([`ThreadPool::with_size`]), so tests running in parallel never share a queue.
//!
//! ```
//! use std::sync::Arc;
//! use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
//!
//! let pool = ThreadPool::with_size(2);
//! let done = Arc::new(Completions::new());
//! let job = pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(6 * 7)));
//! done.wakeup().wait(None); // blocks until a worker finished something
//! let finished = done.take();
//! assert_eq!(finished[0].job, job);
//! let answer = finished.into_iter().next().unwrap().outcome.unwrap();
//! assert_eq!(*answer.downcast::<i32>().unwrap(), 42);
//! ```

// EXERCISE `threadpool` (chapter 7): The thread pool: a FIFO queue and the slow-I/O cap.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn threadpool`.
// Generated from src/threadpool.rs; `cargo learn reset threadpool` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Threads in a pool when `UV_THREADPOOL_SIZE` is not set (libuv's `default_threads`).
///
/// ```
/// use eventloop::threadpool::{size_from_env, DEFAULT_SIZE};
///
/// assert_eq!(size_from_env(None), DEFAULT_SIZE);
/// ```
pub const DEFAULT_SIZE: usize = 4;
/// The most threads a pool may have (libuv's `MAX_THREADPOOL_SIZE`).
///
/// ```
/// use eventloop::threadpool::{ThreadPool, MAX_SIZE};
///
/// assert_eq!(ThreadPool::with_size(usize::MAX).size(), MAX_SIZE); // clamped; no thread starts yet
/// ```
pub const MAX_SIZE: usize = 1024;

/// What kind of work a job is; decides only whether the slow-I/O cap applies.
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::threadpool::WorkKind;
///
/// let mut lp = EventLoop::new();
/// lp.submit_work(WorkKind::SlowIo, "lookup", || "a slow answer", |_, r| assert!(r.is_ok()));
/// lp.run(RunMode::Default); // slow I/O may use at most half the workers
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkKind {
    /// CPU work: `queue_work`, hashing (`UV__WORK_CPU`).
    Cpu,
    /// Fast I/O: file system calls (`UV__WORK_FAST_IO`).
    FastIo,
    /// Slow I/O: DNS lookups, which may wait seconds on the network (`UV__WORK_SLOW_IO`).
    SlowIo,
}

/// Why a job produced no value.
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::threadpool::WorkError;
///
/// let mut lp = EventLoop::new();
/// lp.queue_work(|| -> u8 { panic!("bad input") }, |_, r| {
///     assert!(matches!(r, Err(WorkError::Panicked(m)) if m.contains("bad input")));
/// });
/// lp.run(RunMode::Default); // the worker survived its job's panic
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkError {
    /// The job was cancelled while still queued (`UV_ECANCELED`).
    Canceled,
    /// The job panicked on its worker; the message says why. The worker went on serving.
    Panicked(String),
    /// A worker thread died where no job's panic is caught: while handing this job's outcome
    /// over, or, once the pool has no worker left, in the pool's own code (an unfinished
    /// `take_next`), so this job never ran. The message is the dying worker's panic message.
    WorkerDied(String),
}

impl fmt::Display for WorkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkError::Canceled => f.write_str("the job was cancelled before it started"),
            WorkError::Panicked(message) => write!(f, "the job panicked: {message}"),
            WorkError::WorkerDied(message) => write!(f, "the thread pool's worker died: {message}"),
        }
    }
}

impl std::error::Error for WorkError {}

/// Why [`ThreadPool::cancel`] did not cancel.
///
/// ```
/// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
/// use std::sync::Arc;
///
/// let pool = ThreadPool::with_size(1);
/// let done = Arc::new(Completions::new());
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let job = pool.submit(WorkKind::Cpu, &done, Box::new(move || Box::new(rx.recv().ok())));
/// while pool.running() == 0 {
///     std::thread::yield_now(); // until the worker took it
/// }
/// assert!(pool.cancel(job).is_err()); // EBUSY: running
/// tx.send(()).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelError {
    /// A worker already took the job: it is running or finished (`UV_EBUSY`).
    Busy,
}

impl fmt::Display for CancelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelError::Busy => f.write_str("the job is already running or finished"),
        }
    }
}

impl std::error::Error for CancelError {}

/// A job's id, unique within its pool.
///
/// ```
/// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
/// use std::sync::Arc;
///
/// let pool = ThreadPool::with_size(1);
/// let done = Arc::new(Completions::new());
/// let a = pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(1)));
/// let b = pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(2)));
/// assert_ne!(a, b);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub struct JobId(u64);

/// The work itself: runs on a worker and returns its value, type-erased.
///
/// ```
/// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
/// use std::sync::Arc;
///
/// let pool = ThreadPool::with_size(1);
/// let done = Arc::new(Completions::new());
/// let work: eventloop::threadpool::Work = Box::new(|| Box::new("any Send value"));
/// pool.submit(WorkKind::Cpu, &done, work);
/// ```
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub type Work = Box<dyn FnOnce() -> Box<dyn Any + Send> + Send>;

/// What a finished job left on its loop's completion queue.
///
/// ```
/// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
/// use std::sync::Arc;
///
/// let pool = ThreadPool::with_size(1);
/// let done = Arc::new(Completions::new());
/// let job = pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(6 * 7)));
/// while !done.wakeup().wait(None) {}
/// let finished = done.take().pop().unwrap();
/// assert_eq!(finished.job, job);
/// assert_eq!(*finished.outcome.unwrap().downcast::<i32>().unwrap(), 42);
/// ```
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub struct Completion {
    /// Which job.
    pub job: JobId,
    /// Its value, or why there is none.
    pub outcome: Result<Box<dyn Any + Send>, WorkError>,
    /// Where and when it ran, when its loop traces ([`Completions::trace_runs`]); `None` for
    /// a job that never ran (cancelled, or failed before a worker took it).
    pub ran: Option<Ran>,
}

/// Where and when a job ran: what the loop's trace shows of the pool, which runs on other
/// threads. It travels in the job's [`Completion`], so tracing adds no lock and no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub struct Ran {
    /// The worker that ran it: workers are numbered from 0 in the order they started.
    pub worker: usize,
    /// When the worker took it.
    pub started: Instant,
    /// When the job returned.
    pub finished: Instant,
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match &self.outcome {
            Ok(_) => "Ok(..)".to_string(),
            Err(e) => format!("Err({e:?})"),
        };
        f.debug_struct("Completion")
            .field("job", &self.job)
            .field("outcome", &outcome)
            .field("ran", &self.ran)
            .finish()
    }
}

/// A cross-thread wake-up built like libuv's `uv_async_t`: an atomic *pending* bit plus a
/// notification. [`send`](Self::send) sets the bit and notifies only if it was clear, so a
/// thousand sends before the loop looks cost one notification, and the loop sees one
/// wake-up. Chapter 8 keeps the bit and replaces the condition variable by an `eventfd` the
/// poller watches.
///
/// ```
/// use eventloop::threadpool::Wakeup;
///
/// let wakeup = Wakeup::new();
/// assert!(wakeup.send()); // notified
/// assert!(!wakeup.send()); // already pending: no second notification
/// assert!(wakeup.take() && !wakeup.is_pending());
/// ```
#[derive(Default)]
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub struct Wakeup {
    pending: AtomicBool,
    lock: Mutex<()>,
    signal: Condvar,
    /// Called after the condition variable, once attached: chapter 8's eventfd write.
    notifier: OnceLock<Notifier>,
}

/// What [`Wakeup::send`] calls to reach a loop that waits in the kernel rather than on the
/// condition variable.
///
/// ```
/// use eventloop::threadpool::Wakeup;
///
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let calls = Arc::new(AtomicUsize::new(0));
/// let seen = calls.clone();
/// let wakeup = Wakeup::new();
/// wakeup.set_notifier(Box::new(move || drop(seen.fetch_add(1, Ordering::SeqCst))));
/// wakeup.send();
/// assert_eq!(calls.load(Ordering::SeqCst), 1);
/// ```
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub type Notifier = Box<dyn Fn() + Send + Sync>;

impl fmt::Debug for Wakeup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wakeup")
            .field("pending", &self.is_pending())
            .field("notifier", &self.notifier.get().is_some())
            .finish()
    }
}

impl Wakeup {
    /// A wake-up with nothing pending.
    ///
    /// ```
    /// use eventloop::threadpool::Wakeup;
    ///
    /// assert!(!Wakeup::new().is_pending());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the loop (`uv_async_send`). Thread-safe; does nothing more while a wake-up is
    /// already pending. Returns whether this call was the one that notified.
    ///
    /// ```
    /// use eventloop::threadpool::Wakeup;
    ///
    /// let wakeup = std::sync::Arc::new(Wakeup::new());
    /// let remote = wakeup.clone();
    /// std::thread::spawn(move || remote.send()).join().unwrap();
    /// assert!(wakeup.is_pending());
    /// ```
    pub fn send(&self) -> bool {
        if self.pending.swap(true, Ordering::AcqRel) {
            return false; // coalesced: the loop has not looked since the last send
        }
        // Taking the lock orders this notification after a waiter's check of the bit, so
        // a waiter that saw the bit clear is already waiting and hears it.
        let guard = lock(&self.lock);
        self.signal.notify_all();
        drop(guard);
        if let Some(notify) = self.notifier.get() {
            notify();
        }
        true
    }

    /// Makes every later [`send`](Self::send) also call `notify` — how the loop of chapter 8
    /// has sends write to the eventfd its poller watches. Only the first call counts; returns
    /// whether this one did.
    ///
    /// ```
    /// use eventloop::threadpool::Wakeup;
    ///
    /// let wakeup = Wakeup::new();
    /// assert!(wakeup.set_notifier(Box::new(|| {})));
    /// assert!(!wakeup.set_notifier(Box::new(|| {}))); // only the first counts
    /// ```
    pub fn set_notifier(&self, notify: Notifier) -> bool {
        self.notifier.set(notify).is_ok()
    }

    /// Waits until a wake-up is pending or `timeout` passes (`None`: no limit). Does not
    /// clear the bit; returns whether it is set.
    ///
    /// ```
    /// use eventloop::threadpool::Wakeup;
    ///
    /// use std::time::Duration;
    ///
    /// let wakeup = Wakeup::new();
    /// assert!(!wakeup.wait(Some(Duration::from_millis(1)))); // timed out
    /// wakeup.send();
    /// assert!(wakeup.wait(None) && wakeup.is_pending()); // waiting does not clear it
    /// ```
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let mut guard = lock(&self.lock);
        match timeout {
            None => {
                while !self.pending.load(Ordering::Acquire) {
                    guard = self.signal.wait(guard).unwrap_or_else(|e| e.into_inner());
                }
            }
            Some(timeout) => {
                let deadline = std::time::Instant::now() + timeout;
                while !self.pending.load(Ordering::Acquire) {
                    let now = std::time::Instant::now();
                    if now >= deadline {
                        break;
                    }
                    guard = self
                        .signal
                        .wait_timeout(guard, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        self.pending.load(Ordering::Acquire)
    }

    /// Clears the bit and says whether it was set (`uv__async_io` reading the bit).
    ///
    /// ```
    /// use eventloop::threadpool::Wakeup;
    ///
    /// let wakeup = Wakeup::new();
    /// wakeup.send();
    /// assert!(wakeup.take());
    /// assert!(!wakeup.take()); // cleared
    /// ```
    pub fn take(&self) -> bool {
        self.pending.swap(false, Ordering::AcqRel)
    }

    /// True while a wake-up is pending.
    ///
    /// ```
    /// use eventloop::threadpool::Wakeup;
    ///
    /// let wakeup = Wakeup::new();
    /// wakeup.send();
    /// assert!(wakeup.is_pending());
    /// ```
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }
}

/// One loop's completion queue (`loop->wq` with `loop->wq_async`): workers push, the loop
/// takes everything at once, in completion order.
///
/// ```
/// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
/// use std::sync::Arc;
///
/// let pool = ThreadPool::with_size(1);
/// let done = Arc::new(Completions::new());
/// pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(())));
/// pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(())));
/// let mut got = Vec::new();
/// while got.len() < 2 {
///     done.wakeup().wait(None);
///     got.extend(done.take()); // one wake-up may bring several
/// }
/// ```
#[derive(Debug, Default)]
#[doc(hidden)] // the loop's and the tests' vocabulary; no program needs it
pub struct Completions {
    done: Mutex<Vec<Completion>>,
    wakeup: Wakeup,
    /// Workers note where and when each job ran ([`Completion::ran`]).
    traced: AtomicBool,
}

impl Completions {
    /// An empty queue.
    ///
    /// ```
    /// use eventloop::threadpool::Completions;
    ///
    /// assert!(Completions::new().take().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Called on a worker: queue `completion` and wake the loop.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(()))); // the worker pushes its completion
    /// done.wakeup().wait(None);
    /// assert_eq!(done.take().len(), 1);
    /// ```
    pub fn push(&self, completion: Completion) {
        lock(&self.done).push(completion);
        self.wakeup.send();
    }

    /// Called on the loop: clears the wake-up and takes every completion, oldest first.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(1)));
    /// done.wakeup().wait(None);
    /// assert_eq!(done.take().len(), 1);
    /// assert!(!done.wakeup().is_pending()); // take cleared the wake-up
    /// ```
    pub fn take(&self) -> Vec<Completion> {
        self.wakeup.take();
        std::mem::take(&mut *lock(&self.done))
    }

    /// The wake-up workers send after each push.
    ///
    /// ```
    /// use eventloop::threadpool::Completions;
    ///
    /// assert!(!Completions::new().wakeup().is_pending());
    /// ```
    pub fn wakeup(&self) -> &Wakeup {
        &self.wakeup
    }

    /// Asks workers to note where and when each job of this queue ran, from its next job on
    /// (a traced loop does). Until then a worker only reads a flag: no clock, no cost.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// done.trace_runs();
    /// pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(())));
    /// done.wakeup().wait(None);
    /// assert_eq!(done.take()[0].ran.unwrap().worker, 0); // where it ran, noted
    /// ```
    pub fn trace_runs(&self) {
        self.traced.store(true, Ordering::Relaxed);
    }

    fn is_traced(&self) -> bool {
        self.traced.load(Ordering::Relaxed)
    }
}

/// A job waiting in the queue.
struct Queued {
    id: JobId,
    kind: WorkKind,
    work: Work,
    completions: Arc<Completions>,
}

/// What the workers share, under one mutex.
#[derive(Default)]
struct Queue {
    /// Jobs waiting, except slow I/O, by id. Ids grow with each submission, so the first
    /// entry is the oldest; a map rather than a list, so that [`ThreadPool::cancel`] finds and
    /// removes a job in O(log n) instead of scanning and shifting the queue.
    jobs: BTreeMap<JobId, Queued>,
    /// Slow-I/O jobs waiting, by id (libuv's `slow_io_pending_wq`), apart so that a worker
    /// finds the oldest job it may run by looking at two heads.
    slow_jobs: BTreeMap<JobId, Queued>,
    next_id: u64,
    /// Ids of the jobs running now.
    running: Vec<JobId>,
    /// Slow-I/O jobs running now.
    running_slow: usize,
    /// The most jobs that ever ran at once.
    max_running: usize,
    /// Jobs finished (including panicked ones; not cancelled ones).
    finished: u64,
    /// Workers asleep on `work_available`: only then is a signal worth a system call.
    idle: usize,
    /// Workers serving: started, and not lost for good (see [`lose_worker`]).
    workers: usize,
    /// Threads ever started, replacements included: names them.
    spawned: usize,
    /// Why the pool has no worker left: the last one's panic message. Set once, with
    /// `workers` at 0; every job submitted afterwards fails at once with it.
    broken: Option<String>,
    started: bool,
    shutting_down: bool,
}

impl Queue {
    /// Jobs waiting for a worker.
    fn waiting(&self) -> usize {
        self.jobs.len() + self.slow_jobs.len()
    }

    /// A worker took `job`: it runs now.
    fn start(&mut self, id: JobId, kind: WorkKind) {
        self.running.push(id);
        self.max_running = self.max_running.max(self.running.len());
        if kind == WorkKind::SlowIo {
            self.running_slow += 1;
        }
    }

    /// A worker is done with the job: returns whether a slow-I/O place came free, so that
    /// a slow job passed over for want of one may run now.
    fn finish(&mut self, id: JobId, kind: WorkKind) -> bool {
        self.running.retain(|&running| running != id);
        self.finished += 1;
        if kind == WorkKind::SlowIo {
            self.running_slow -= 1;
        }
        kind == WorkKind::SlowIo
    }
}

/// The job a worker holds, from taking it until its outcome is handed over: what
/// [`worker_died`] needs to settle it if the worker dies meanwhile.
struct Holding {
    id: JobId,
    kind: WorkKind,
    completions: Arc<Completions>,
    /// Whether the outcome is on the completion queue (the wake-up may still be under way).
    reported: bool,
}

impl Holding {
    /// Hands the outcome to the job's loop: queue it, then wake the loop. `reported` turns
    /// true in between, so that a death in the wake-up does not deliver the job twice.
    fn report(&mut self, outcome: Result<Box<dyn Any + Send>, WorkError>, ran: Option<Ran>) {
        lock(&self.completions.done).push(Completion {
            job: self.id,
            outcome,
            ran,
        });
        self.reported = true;
        self.completions.wakeup.send();
    }
}

struct Shared {
    size: usize,
    queue: Mutex<Queue>,
    /// Signalled when a job is queued, a slow job finishes, or the pool shuts down.
    work_available: Condvar,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// Worker threads still running their loop.
    alive: AtomicUsize,
}

/// Counts a worker as alive until its thread ends, however it ends.
struct AliveGuard<'a>(&'a AtomicUsize);

impl Drop for AliveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Shuts the pool down when the last [`ThreadPool`] clone is dropped. Kept apart from
/// `Shared`, which the workers hold, so that their references do not keep the pool alive.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        lock(&self.0.queue).shutting_down = true;
        self.0.work_available.notify_all();
        let threads = std::mem::take(&mut *lock(&self.0.threads));
        let me = std::thread::current().id();
        for thread in threads {
            // A job that dropped the last handle to its own pool cannot wait for itself.
            if thread.thread().id() != me {
                let _ = thread.join(); // a worker catches its panics (`worker`)
            }
        }
    }
}

/// A pool of worker threads with one FIFO queue. Clones share the pool; the threads stop
/// when the last clone is dropped, after finishing the jobs they are running (queued jobs
/// are dropped unrun).
///
/// ```
/// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
/// use std::sync::Arc;
///
/// let pool = ThreadPool::with_size(1);
/// let done = Arc::new(Completions::new());
/// assert!(!pool.is_started()); // threads start with the first job
/// pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new("done")));
/// done.wakeup().wait(None);
/// assert_eq!(done.take().len(), 1);
/// assert_eq!(pool.workers_alive(), 1);
/// ```
#[derive(Clone)]
pub struct ThreadPool {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = lock(&self.shared.queue);
        f.debug_struct("ThreadPool")
            .field("size", &self.shared.size)
            .field("started", &queue.started)
            .field("queued", &queue.waiting())
            .field("running", &queue.running.len())
            .finish()
    }
}

/// The pool size libuv derives from `UV_THREADPOOL_SIZE` (`init_threads`): C's `atoi` of the
/// value (leading blanks, a sign, digits; anything after is ignored, nothing valid is 0),
/// stored in an *unsigned* int; 0 becomes 1 and anything above [`MAX_SIZE`] becomes
/// [`MAX_SIZE`]. Unset: [`DEFAULT_SIZE`]. So `"8"` → 8, `"abc"` → 1, `"0"` → 1,
/// `"2000"` → 1024, `" 3x"` → 3, and `"-1"`, which wraps around to 4294967295, → 1024.
///
/// ```
/// use eventloop::threadpool::size_from_env;
///
/// assert_eq!(size_from_env(Some("8")), 8);
/// assert_eq!(size_from_env(Some(" 3x")), 3); // atoi's reading
/// assert_eq!(size_from_env(Some("0")), 1);
/// ```
pub fn size_from_env(value: Option<&str>) -> usize {
    let Some(value) = value else {
        return DEFAULT_SIZE;
    };
    let text = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
    let size = match (negative, magnitude) {
        (_, 0) => 1,
        (true, _) => MAX_SIZE, // a negative int read as unsigned is huge
        (false, n) => n.min(MAX_SIZE as u64) as usize,
    };
    size.max(1)
}

impl ThreadPool {
    /// A pool of `size` threads (clamped to 1..=[`MAX_SIZE`]). No thread starts until the
    /// first job arrives.
    ///
    /// ```
    /// use eventloop::threadpool::ThreadPool;
    ///
    /// assert_eq!(ThreadPool::with_size(0).size(), 1);
    /// ```
    pub fn with_size(size: usize) -> ThreadPool {
        let shared = Arc::new(Shared {
            size: size.clamp(1, MAX_SIZE),
            queue: Mutex::new(Queue::default()),
            work_available: Condvar::new(),
            threads: Mutex::new(Vec::new()),
            alive: AtomicUsize::new(0),
        });
        ThreadPool {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        }
    }

    /// The process-wide pool that loops built with defaults share, as libuv's is shared by
    /// all loops. Its size is read from `UV_THREADPOOL_SIZE` once, the first time it is
    /// asked for.
    ///
    /// ```
    /// use eventloop::threadpool::ThreadPool;
    ///
    /// assert!(ThreadPool::global().size() >= 1); // one pool for every default loop, sized once
    /// ```
    pub fn global() -> ThreadPool {
        static GLOBAL: OnceLock<ThreadPool> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let value = std::env::var("UV_THREADPOOL_SIZE").ok();
                ThreadPool::with_size(size_from_env(value.as_deref()))
            })
            .clone()
    }

    /// How many threads the pool has (or will have once started).
    ///
    /// ```
    /// use eventloop::threadpool::ThreadPool;
    ///
    /// assert_eq!(ThreadPool::with_size(3).size(), 3);
    /// ```
    pub fn size(&self) -> usize {
        self.shared.size
    }

    /// The most threads that may run slow I/O at once: `(size + 1) / 2`
    /// (`slow_work_thread_threshold`).
    ///
    /// ```
    /// use eventloop::threadpool::ThreadPool;
    ///
    /// assert_eq!(ThreadPool::with_size(4).slow_io_limit(), 2); // DNS cannot take every worker
    /// ```
    pub fn slow_io_limit(&self) -> usize {
        self.shared.size.div_ceil(2)
    }

    /// Whether the threads were started (the first job starts them).
    ///
    /// ```
    /// use eventloop::threadpool::ThreadPool;
    ///
    /// assert!(!ThreadPool::with_size(2).is_started());
    /// ```
    pub fn is_started(&self) -> bool {
        lock(&self.shared.queue).started
    }

    /// Jobs waiting for a worker.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// assert_eq!(pool.queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        lock(&self.shared.queue).waiting()
    }

    /// Jobs running now.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// assert_eq!(pool.running(), 0); // nothing submitted
    /// ```
    pub fn running(&self) -> usize {
        lock(&self.shared.queue).running.len()
    }

    /// The most jobs that ever ran at the same time: the pool's real concurrency.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// for _ in 0..3 {
    ///     pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(())));
    /// }
    /// let mut completed = 0;
    /// while completed < 3 {
    ///     done.wakeup().wait(None);
    ///     completed += done.take().len();
    /// }
    /// assert_eq!(pool.max_running(), 1); // one worker: one job at a time
    /// ```
    pub fn max_running(&self) -> usize {
        lock(&self.shared.queue).max_running
    }

    /// Worker threads alive. Once started, this stays at [`size`](Self::size): a job's panic
    /// is caught, and a worker that dies anyway is replaced. Only a panic in the pool's own
    /// code (an unfinished `take_next`) lowers it for good; see [`broken`](Self::broken).
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// pool.submit(WorkKind::Cpu, &done, Box::new(|| panic!("a job's panic")));
    /// done.wakeup().wait(None);
    /// assert_eq!(pool.workers_alive(), 1); // caught: the worker goes on
    /// ```
    pub fn workers_alive(&self) -> usize {
        self.shared.alive.load(Ordering::Acquire)
    }

    /// Why the pool serves no more: the panic message of its last worker, which died in the
    /// pool's own code, where a new thread would die the same way. `None` while it serves.
    /// The jobs queued then, and every job submitted since, fail with
    /// [`WorkError::WorkerDied`] and this message, so no loop waits for them.
    ///
    /// ```
    /// use eventloop::threadpool::ThreadPool;
    ///
    /// assert_eq!(ThreadPool::with_size(1).broken(), None);
    /// ```
    pub fn broken(&self) -> Option<String> {
        lock(&self.shared.queue).broken.clone()
    }

    /// Jobs that ran to the end (or panicked) so far.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(())));
    /// while pool.finished() < 1 {
    ///     std::thread::yield_now(); // counted just after the completion is pushed
    /// }
    /// assert_eq!(pool.finished(), 1);
    /// ```
    pub fn finished(&self) -> u64 {
        lock(&self.shared.queue).finished
    }

    /// Queues `work` at the tail of the queue (`uv__work_submit`); its outcome goes to
    /// `completions`. Starts every thread if none runs yet. On a [broken](Self::broken) pool
    /// the job fails at once.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// pool.submit(WorkKind::FastIo, &done, Box::new(|| Box::new(std::fs::metadata("/").is_ok())));
    /// done.wakeup().wait(None);
    /// let result = done.take().remove(0).outcome.unwrap();
    /// assert!(*result.downcast::<bool>().unwrap());
    /// ```
    #[doc(hidden)] // programs use `EventLoop::queue_work`
    pub fn submit(&self, kind: WorkKind, completions: &Arc<Completions>, work: Work) -> JobId {
        let mut queue = lock(&self.shared.queue);
        if !queue.started {
            queue.started = true;
            start_threads(&self.shared, &mut queue);
        }
        let id = JobId(queue.next_id);
        queue.next_id += 1;
        if let Some(reason) = queue.broken.clone() {
            drop(queue);
            drop(work);
            completions.push(Completion {
                job: id,
                outcome: Err(WorkError::WorkerDied(reason)),
                ran: None,
            });
            return id;
        }
        let job = Queued {
            id,
            kind,
            work,
            completions: completions.clone(),
        };
        // Ids only grow, so each insert lands at the end of its map: the tail of the queue.
        match kind {
            WorkKind::SlowIo => queue.slow_jobs.insert(id, job),
            WorkKind::Cpu | WorkKind::FastIo => queue.jobs.insert(id, job),
        };
        let someone_sleeps = queue.idle > 0;
        drop(queue);
        if someone_sleeps {
            // libuv's `post` likewise signals only when a thread is idle; a busy worker
            // finds the job itself when it looks at the queue again.
            self.shared.work_available.notify_one();
        }
        id
    }

    /// Cancels a job that no worker has taken yet (`uv_cancel`): it leaves the queue and its
    /// completion arrives with [`WorkError::Canceled`], through the usual queue, so its
    /// callback still runs on the loop. One lookup by id in each map, O(log n): libuv
    /// unlinks the job from its list in O(1); neither scans the queue.
    ///
    /// # Errors
    /// [`CancelError::Busy`] when the job is running or has finished.
    ///
    /// ```
    /// use eventloop::threadpool::{Completions, ThreadPool, WorkKind};
    /// use std::sync::Arc;
    ///
    /// let pool = ThreadPool::with_size(1);
    /// let done = Arc::new(Completions::new());
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// pool.submit(WorkKind::Cpu, &done, Box::new(move || Box::new(rx.recv().ok()))); // holds the worker
    /// let queued = pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(())));
    /// assert!(pool.cancel(queued).is_ok());
    /// assert!(pool.cancel(queued).is_err()); // gone from the queue
    /// tx.send(()).unwrap();
    /// ```
    #[doc(hidden)] // programs use `EventLoop::cancel_work`
    pub fn cancel(&self, job: JobId) -> Result<(), CancelError> {
        let mut queue = lock(&self.shared.queue);
        let cancelled = match queue.jobs.remove(&job) {
            Some(cancelled) => cancelled,
            None => queue.slow_jobs.remove(&job).ok_or(CancelError::Busy)?,
        };
        drop(queue);
        drop(cancelled.work);
        cancelled.completions.push(Completion {
            job,
            outcome: Err(WorkError::Canceled),
            ran: None,
        });
        Ok(())
    }
}

/// Starts every thread of the pool, on the first job. Called with the queue locked.
fn start_threads(shared: &Arc<Shared>, queue: &mut Queue) {
    for n in 0..shared.size {
        match spawn_worker(shared, queue) {
            Ok(()) => {}
            // libuv aborts here; with at least one thread the pool still works.
            Err(e) if n > 0 => {
                eprintln!("eventloop: thread pool started {n} threads, not more: {e}");
                break;
            }
            Err(e) => panic!("eventloop: cannot start a single pool thread: {e}"),
        }
    }
}

/// Starts one worker thread and counts it. Called with the queue locked, which orders it
/// before a shutdown that would otherwise miss the new thread (lock order: queue, threads).
fn spawn_worker(shared: &Arc<Shared>, queue: &mut Queue) -> std::io::Result<()> {
    let mut threads = lock(&shared.threads);
    threads.retain(|thread| !thread.is_finished()); // replaced threads: nothing to join
    let number = queue.spawned;
    let name = format!("eventloop-worker-{number}");
    let worker_shared = shared.clone();
    shared.alive.fetch_add(1, Ordering::AcqRel);
    let spawned = std::thread::Builder::new()
        .name(name)
        .spawn(move || worker(&worker_shared, number));
    match spawned {
        Ok(thread) => {
            threads.push(thread);
            queue.spawned += 1;
            queue.workers += 1;
            Ok(())
        }
        Err(e) => {
            shared.alive.fetch_sub(1, Ordering::AcqRel);
            Err(e)
        }
    }
}

/// A worker thread (libuv's `worker`): it serves until the pool shuts down. A job's panic is
/// caught where the job runs ([`run_job`]); whatever unwinds past that ends this thread, and
/// [`worker_died`] settles what it leaves behind.
fn worker(shared: &Arc<Shared>, number: usize) {
    let _alive = AliveGuard(&shared.alive);
    let mut holding = None;
    let served = panic::catch_unwind(AssertUnwindSafe(|| serve(shared, number, &mut holding)));
    if let Err(payload) = served {
        worker_died(shared, holding, payload);
    }
}

/// A worker's life: take the oldest job it may run, run it outside the lock, report the
/// outcome to the job's loop, repeat; sleep while there is nothing to take. `holding` names
/// the job in hand; `number` is this worker's, for a traced loop.
fn serve(shared: &Shared, number: usize, holding: &mut Option<Holding>) {
    let mut queue = lock(&shared.queue);
    loop {
        if queue.shutting_down {
            return;
        }
        let Some(job) = take_next(&mut queue, shared.size.div_ceil(2)) else {
            queue.idle += 1;
            queue = shared
                .work_available
                .wait(queue)
                .unwrap_or_else(|e| e.into_inner());
            queue.idle -= 1;
            continue;
        };
        queue.start(job.id, job.kind);
        drop(queue);

        let Queued {
            id,
            kind,
            work,
            completions,
        } = job;
        let held = holding.insert(Holding {
            id,
            kind,
            completions,
            reported: false,
        });
        let started = held.completions.is_traced().then(Instant::now);
        let outcome = run_job(work);
        let ran = started.map(|started| Ran {
            worker: number,
            started,
            finished: Instant::now(),
        });
        // Report before taking the pool's lock again: the loop may be waiting for this.
        held.report(outcome, ran);
        let held = holding.take().expect("the job is in hand until here");
        // The last reference to a loop's queue, if the loop is gone: what it drops is not
        // the pool's business.
        drop_quietly(held.completions);

        queue = lock(&shared.queue);
        if queue.finish(id, kind) && queue.idle > 0 {
            shared.work_available.notify_one(); // a slow job that had to wait may run now
        }
    }
}

/// Removes and returns the oldest job a worker may run now: the older of the first jobs of
/// `queue.jobs` and `queue.slow_jobs`, except that slow-I/O jobs are passed over while
/// `slow_limit` of them are running (the others go first). `None` when nothing may run.
fn take_next(queue: &mut Queue, slow_limit: usize) -> Option<Queued> {
    // TODO: take the next job a worker may run.
    // Removes and returns the oldest queued job a worker may run now; None when none may.
    // A slow-I/O job may run only while fewer than `slow_limit` slow jobs run; while the
    // cap is full, slow jobs keep their place and the oldest other job goes first.
    // Example: queued slow #1 then cpu #2, slow_limit 1: with no slow job running, #1;
    // with one running, #2.
    todo!("take the next job a worker may run")
}

/// Runs a job, turning a panic into [`WorkError::Panicked`] so its worker keeps serving.
fn run_job(work: Work) -> Result<Box<dyn Any + Send>, WorkError> {
    panic::catch_unwind(AssertUnwindSafe(work))
        .map_err(|payload| WorkError::Panicked(panic_message(payload, "a pool job panicked")))
}

/// What a caught panic said, or `otherwise` for a payload that is not text. The payload is
/// dropped here, inside [`drop_quietly`]: its type is the job's, and a `Drop` of its own that
/// panics would otherwise unwind out of the worker, past every `catch_unwind`.
fn panic_message(payload: Box<dyn Any + Send>, otherwise: &str) -> String {
    let message = crate::panics::message(payload.as_ref());
    drop_quietly(payload);
    message.unwrap_or_else(|| otherwise.to_string())
}

/// Drops `value`, catching a panic from its `Drop`. That panic's own payload is forgotten,
/// not dropped: it could panic in turn, and a small leak is better than a dead thread.
fn drop_quietly<T>(value: T) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(value))) {
        std::mem::forget(payload);
    }
}

/// Settles what a dying worker leaves behind, on its own thread, before it ends.
///
/// Holding a job, it died handing the job's outcome over (the loop's notifier panicked, or
/// a bug between [`run_job`] and the report): the job fails with [`WorkError::WorkerDied`],
/// unless its outcome is already queued, and a new thread takes the dead one's place.
///
/// Holding none, it died in the pool's own code, where a new thread would die the same way:
/// it is [lost](lose_worker) for good.
fn worker_died(shared: &Arc<Shared>, holding: Option<Holding>, payload: Box<dyn Any + Send>) {
    let reason = panic_message(payload, "a pool worker panicked");
    let Some(held) = holding else {
        return lose_worker(shared, reason);
    };
    if !held.reported {
        deliver(
            &held.completions,
            held.id,
            WorkError::WorkerDied(reason.clone()),
        );
    }
    let mut queue = lock(&shared.queue);
    if queue.finish(held.id, held.kind) && queue.idle > 0 {
        shared.work_available.notify_one();
    }
    let replaced = queue.shutting_down || spawn_worker(shared, &mut queue).is_ok();
    drop(queue);
    drop_quietly(held.completions);
    if !replaced {
        lose_worker(shared, format!("{reason}; no thread could take its place"));
    }
}

/// Counts one worker fewer, for good. The last one to go fails every queued job with its
/// `reason`, and marks the pool [broken](ThreadPool::broken) so that later jobs fail at once:
/// no loop then waits for a job that no thread will ever run.
fn lose_worker(shared: &Shared, reason: String) {
    let mut queue = lock(&shared.queue);
    queue.workers -= 1;
    if queue.shutting_down {
        return;
    }
    if queue.workers > 0 {
        if queue.waiting() > 0 && queue.idle > 0 {
            // It may have been the one woken for a job that still waits: wake another.
            shared.work_available.notify_one();
        }
        return;
    }
    queue.broken = Some(reason.clone());
    let mut stranded: Vec<Queued> = std::mem::take(&mut queue.jobs).into_values().collect();
    stranded.extend(std::mem::take(&mut queue.slow_jobs).into_values());
    drop(queue);
    stranded.sort_by_key(|job| job.id); // their loops hear of them oldest first
    for job in stranded {
        drop_quietly(job.work);
        deliver(
            &job.completions,
            job.id,
            WorkError::WorkerDied(reason.clone()),
        );
        drop_quietly(job.completions);
    }
}

/// Fails a job, from a dying worker: a panic from the wake-up's notifier (which ran once
/// already, perhaps the one that killed the worker) must not stop the settling.
fn deliver(completions: &Completions, job: JobId, error: WorkError) {
    let pushed = panic::catch_unwind(AssertUnwindSafe(|| {
        completions.push(Completion {
            job,
            outcome: Err(error),
            ran: None,
        });
    }));
    if let Err(payload) = pushed {
        drop_quietly(payload);
    }
}

/// Locks a mutex, ignoring poisoning: no code panics while holding these locks (jobs run
/// outside them), so a poisoned lock still holds consistent data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    //! The two ways a worker dies for good or is replaced, driven by hand: no public call
    //! makes the pool's own code panic (only an unfinished exercise does), so these tests
    //! call the death handler as a dying worker would. `tests/threadpool.rs` covers the
    //! deaths a program can cause.

    use super::*;

    /// A pool that counts as started, with no thread yet: what a test submits stays queued.
    fn started_without_threads(size: usize) -> ThreadPool {
        let pool = ThreadPool::with_size(size);
        let mut queue = lock(&pool.shared.queue);
        queue.started = true;
        queue.workers = size;
        drop(queue);
        pool
    }

    fn nothing() -> Work {
        Box::new(|| Box::new(()))
    }

    fn outcomes(done: &Completions) -> Vec<(JobId, Result<(), WorkError>)> {
        done.take()
            .into_iter()
            .map(|c| (c.job, c.outcome.map(|_| ())))
            .collect()
    }

    #[test]
    fn the_last_worker_lost_fails_every_queued_job_and_every_later_one() {
        let pool = started_without_threads(2);
        let done = Arc::new(Completions::new());
        let slow = pool.submit(WorkKind::SlowIo, &done, nothing());
        let cpu = pool.submit(WorkKind::Cpu, &done, nothing());
        let died = || WorkError::WorkerDied("not yet implemented".to_string());

        lose_worker(&pool.shared, "not yet implemented".to_string());
        assert_eq!(pool.broken(), None, "one worker is left");
        assert!(outcomes(&done).is_empty(), "it may still run them");

        lose_worker(&pool.shared, "not yet implemented".to_string());
        assert_eq!(pool.broken().as_deref(), Some("not yet implemented"));
        assert_eq!(pool.queued(), 0);
        assert!(done.wakeup().is_pending(), "their loop is woken");
        assert_eq!(
            outcomes(&done),
            [(slow, Err(died())), (cpu, Err(died()))],
            "oldest first, with the last worker's panic message"
        );

        let later = pool.submit(WorkKind::FastIo, &done, nothing());
        assert_eq!(outcomes(&done), [(later, Err(died()))], "failed at once");
    }

    #[test]
    fn a_worker_that_dies_holding_a_job_fails_it_and_is_replaced() {
        let pool = started_without_threads(1);
        let done = Arc::new(Completions::new());
        let held = JobId(99);
        lock(&pool.shared.queue).start(held, WorkKind::SlowIo);
        let holding = Holding {
            id: held,
            kind: WorkKind::SlowIo,
            completions: done.clone(),
            reported: false,
        };
        worker_died(
            &pool.shared,
            Some(holding),
            Box::new("the notifier panicked"),
        );
        let died = WorkError::WorkerDied("the notifier panicked".to_string());
        assert_eq!(outcomes(&done), [(held, Err(died))]);
        assert_eq!((pool.running(), pool.finished()), (0, 1));
        assert_eq!(lock(&pool.shared.queue).running_slow, 0);
        assert_eq!(pool.workers_alive(), 1, "a new thread took its place");

        // The new thread serves.
        let job = pool.submit(WorkKind::Cpu, &done, nothing());
        assert!(done.wakeup().wait(Some(Duration::from_secs(60))), "it ran");
        assert_eq!(outcomes(&done), [(job, Ok(()))]);
    }

    #[test]
    fn an_outcome_already_queued_is_not_delivered_twice() {
        let pool = started_without_threads(1);
        let done = Arc::new(Completions::new());
        let held = JobId(7);
        lock(&pool.shared.queue).start(held, WorkKind::Cpu);
        let mut holding = Holding {
            id: held,
            kind: WorkKind::Cpu,
            completions: done.clone(),
            reported: false,
        };
        holding.report(Ok(Box::new(())), None);
        worker_died(
            &pool.shared,
            Some(holding),
            Box::new("the notifier panicked"),
        );
        assert_eq!(outcomes(&done), [(held, Ok(()))]);
    }

    #[test]
    fn a_payload_whose_drop_panics_is_contained() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("a payload's own drop panicked");
            }
        }
        let message = panic_message(Box::new(Bomb), "not text");
        assert_eq!(message, "not text");
        let outcome = run_job(Box::new(|| std::panic::panic_any(Bomb)));
        assert_eq!(
            outcome.map(|_| ()),
            Err(WorkError::Panicked("a pool job panicked".to_string()))
        );
    }
}
