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
//! - a job can be cancelled only while it is still queued;
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

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Threads in a pool when `UV_THREADPOOL_SIZE` is not set (libuv's `default_threads`).
pub const DEFAULT_SIZE: usize = 4;
/// The most threads a pool may have (libuv's `MAX_THREADPOOL_SIZE`).
pub const MAX_SIZE: usize = 1024;

// ANCHOR: work_kind
/// What kind of work a job is; decides only whether the slow-I/O cap applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkKind {
    /// CPU work: `queue_work`, hashing (`UV__WORK_CPU`).
    Cpu,
    /// Fast I/O: file system calls (`UV__WORK_FAST_IO`).
    FastIo,
    /// Slow I/O: DNS lookups, which may wait seconds on the network (`UV__WORK_SLOW_IO`).
    SlowIo,
}
// ANCHOR_END: work_kind

/// Why a job produced no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkError {
    /// The job was cancelled while still queued (`UV_ECANCELED`).
    Canceled,
    /// The job panicked on its worker; the message says why. The worker went on serving.
    Panicked(String),
}

impl fmt::Display for WorkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkError::Canceled => f.write_str("the job was cancelled before it started"),
            WorkError::Panicked(message) => write!(f, "the job panicked: {message}"),
        }
    }
}

impl std::error::Error for WorkError {}

/// Why [`ThreadPool::cancel`] did not cancel.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(u64);

/// The work itself: runs on a worker and returns its value, type-erased.
pub type Work = Box<dyn FnOnce() -> Box<dyn Any + Send> + Send>;

/// What a finished job left on its loop's completion queue.
pub struct Completion {
    /// Which job.
    pub job: JobId,
    /// Its value, or why there is none.
    pub outcome: Result<Box<dyn Any + Send>, WorkError>,
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
            .finish()
    }
}

// ANCHOR: wakeup
/// A cross-thread wake-up built like libuv's `uv_async_t`: an atomic *pending* bit plus a
/// notification. [`send`](Self::send) sets the bit and notifies only if it was clear, so a
/// thousand sends before the loop looks cost one notification, and the loop sees one
/// wake-up. Chapter 8 keeps the bit and replaces the condition variable by an `eventfd` the
/// poller watches.
#[derive(Default)]
pub struct Wakeup {
    pending: AtomicBool,
    lock: Mutex<()>,
    signal: Condvar,
    /// Called after the condition variable, once attached: chapter 8's eventfd write.
    notifier: OnceLock<Notifier>,
}

/// What [`Wakeup::send`] calls to reach a loop that waits in the kernel rather than on the
/// condition variable.
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
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the loop (`uv_async_send`). Thread-safe; does nothing more while a wake-up is
    /// already pending. Returns whether this call was the one that notified.
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
    pub fn set_notifier(&self, notify: Notifier) -> bool {
        self.notifier.set(notify).is_ok()
    }

    /// Waits until a wake-up is pending or `timeout` passes (`None`: no limit). Does not
    /// clear the bit; returns whether it is set.
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
    pub fn take(&self) -> bool {
        self.pending.swap(false, Ordering::AcqRel)
    }

    /// True while a wake-up is pending.
    pub fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }
}
// ANCHOR_END: wakeup

/// One loop's completion queue (`loop->wq` with `loop->wq_async`): workers push, the loop
/// takes everything at once, in completion order.
#[derive(Debug, Default)]
pub struct Completions {
    done: Mutex<Vec<Completion>>,
    wakeup: Wakeup,
}

impl Completions {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Called on a worker: queue `completion` and wake the loop.
    pub fn push(&self, completion: Completion) {
        lock(&self.done).push(completion);
        self.wakeup.send();
    }

    /// Called on the loop: clears the wake-up and takes every completion, oldest first.
    pub fn take(&self) -> Vec<Completion> {
        self.wakeup.take();
        std::mem::take(&mut *lock(&self.done))
    }

    /// The wake-up workers send after each push.
    pub fn wakeup(&self) -> &Wakeup {
        &self.wakeup
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
    jobs: VecDeque<Queued>,
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
    started: bool,
    shutting_down: bool,
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
                let _ = thread.join(); // a worker never panics: jobs are caught
            }
        }
    }
}

/// A pool of worker threads with one FIFO queue. Clones share the pool; the threads stop
/// when the last clone is dropped, after finishing the jobs they are running (queued jobs
/// are dropped unrun).
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
            .field("queued", &queue.jobs.len())
            .field("running", &queue.running.len())
            .finish()
    }
}

// ANCHOR: size_from_env
/// The pool size libuv derives from `UV_THREADPOOL_SIZE` (`init_threads`): C's `atoi` of the
/// value (leading blanks, a sign, digits; anything after is ignored, nothing valid is 0),
/// stored in an *unsigned* int; 0 becomes 1 and anything above [`MAX_SIZE`] becomes
/// [`MAX_SIZE`]. Unset: [`DEFAULT_SIZE`]. So `"8"` → 8, `"abc"` → 1, `"0"` → 1,
/// `"2000"` → 1024, `" 3x"` → 3, and `"-1"`, which wraps around to 4294967295, → 1024.
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
// ANCHOR_END: size_from_env

impl ThreadPool {
    /// A pool of `size` threads (clamped to 1..=[`MAX_SIZE`]). No thread starts until the
    /// first job arrives.
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
    pub fn size(&self) -> usize {
        self.shared.size
    }

    /// The most threads that may run slow I/O at once: `(size + 1) / 2`
    /// (`slow_work_thread_threshold`).
    pub fn slow_io_limit(&self) -> usize {
        self.shared.size.div_ceil(2)
    }

    /// Whether the threads were started (the first job starts them).
    pub fn is_started(&self) -> bool {
        lock(&self.shared.queue).started
    }

    /// Jobs waiting for a worker.
    pub fn queued(&self) -> usize {
        lock(&self.shared.queue).jobs.len()
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        lock(&self.shared.queue).running.len()
    }

    /// The most jobs that ever ran at the same time: the pool's real concurrency.
    pub fn max_running(&self) -> usize {
        lock(&self.shared.queue).max_running
    }

    /// Worker threads alive. Once started, this stays at [`size`](Self::size): a job's panic
    /// is caught. Only a bug in the pool itself can lower it, and the loop checks it so that
    /// such a bug ends in an error rather than a loop waiting forever for lost jobs.
    pub fn workers_alive(&self) -> usize {
        self.shared.alive.load(Ordering::Acquire)
    }

    /// Jobs that ran to the end (or panicked) so far.
    pub fn finished(&self) -> u64 {
        lock(&self.shared.queue).finished
    }

    // ANCHOR: submit
    /// Queues `work` at the tail of the queue (`uv__work_submit`); its outcome goes to
    /// `completions`. Starts every thread if none runs yet.
    pub fn submit(&self, kind: WorkKind, completions: &Arc<Completions>, work: Work) -> JobId {
        let mut queue = lock(&self.shared.queue);
        if !queue.started {
            queue.started = true;
            self.start_threads();
        }
        let id = JobId(queue.next_id);
        queue.next_id += 1;
        queue.jobs.push_back(Queued {
            id,
            kind,
            work,
            completions: completions.clone(),
        });
        let someone_sleeps = queue.idle > 0;
        drop(queue);
        if someone_sleeps {
            // libuv's `post` likewise signals only when a thread is idle; a busy worker
            // finds the job itself when it looks at the queue again.
            self.shared.work_available.notify_one();
        }
        id
    }
    // ANCHOR_END: submit

    // ANCHOR: cancel
    /// Cancels a job that no worker has taken yet (`uv_cancel`): it leaves the queue and its
    /// completion arrives with [`WorkError::Canceled`], through the usual queue, so its
    /// callback still runs on the loop.
    ///
    /// # Errors
    /// [`CancelError::Busy`] when the job is running or has finished.
    pub fn cancel(&self, job: JobId) -> Result<(), CancelError> {
        let mut queue = lock(&self.shared.queue);
        let at = queue
            .jobs
            .iter()
            .position(|q| q.id == job)
            .ok_or(CancelError::Busy)?;
        let cancelled = queue.jobs.remove(at).expect("position is in range");
        drop(queue);
        drop(cancelled.work);
        cancelled.completions.push(Completion {
            job,
            outcome: Err(WorkError::Canceled),
        });
        Ok(())
    }
    // ANCHOR_END: cancel

    fn start_threads(&self) {
        let mut threads = lock(&self.shared.threads);
        for n in 0..self.shared.size {
            let shared = self.shared.clone();
            self.shared.alive.fetch_add(1, Ordering::AcqRel);
            let thread = std::thread::Builder::new()
                .name(format!("eventloop-worker-{n}"))
                .spawn(move || worker(&shared));
            match thread {
                Ok(thread) => threads.push(thread),
                // libuv aborts here; with at least one thread the pool still works.
                Err(e) if n > 0 => {
                    self.shared.alive.fetch_sub(1, Ordering::AcqRel);
                    eprintln!("eventloop: thread pool started {n} threads, not more: {e}");
                    break;
                }
                Err(e) => panic!("eventloop: cannot start a single pool thread: {e}"),
            }
        }
    }
}

// ANCHOR: worker
/// A worker's life (libuv's `worker`): take the oldest job it may run, run it outside the
/// lock, report the outcome to the job's loop, repeat; sleep while there is nothing to take.
fn worker(shared: &Shared) {
    let _alive = AliveGuard(&shared.alive);
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
        queue.running.push(job.id);
        queue.max_running = queue.max_running.max(queue.running.len());
        if job.kind == WorkKind::SlowIo {
            queue.running_slow += 1;
        }
        drop(queue);

        let outcome = run_job(job.work);
        // Report before taking the pool's lock again: the loop may be waiting for this.
        job.completions.push(Completion {
            job: job.id,
            outcome,
        });

        queue = lock(&shared.queue);
        queue.running.retain(|&id| id != job.id);
        queue.finished += 1;
        if job.kind == WorkKind::SlowIo {
            queue.running_slow -= 1;
            if queue.idle > 0 {
                // A slow job that had to wait for this one may run now.
                shared.work_available.notify_one();
            }
        }
    }
}
// ANCHOR_END: worker

// ANCHOR: take_next_solution
/// Removes and returns the oldest job a worker may run now: the head of the queue, except
/// that slow-I/O jobs are passed over while `slow_limit` of them are running (others behind
/// them go first). `None` when nothing may run.
fn take_next(queue: &mut Queue, slow_limit: usize) -> Option<Queued> {
    // exercise: take the next job a worker may run
    // hint: Scan queue.jobs from the front for the first job that is not SlowIo, or is
    // hint: SlowIo while queue.running_slow < slow_limit, and remove it (VecDeque::remove).
    let slow_full = queue.running_slow >= slow_limit;
    let at = queue
        .jobs
        .iter()
        .position(|job| !(slow_full && job.kind == WorkKind::SlowIo))?;
    queue.jobs.remove(at)
    // end exercise
}
// ANCHOR_END: take_next_solution

// ANCHOR: run_job
/// Runs a job, turning a panic into [`WorkError::Panicked`] so its worker keeps serving.
fn run_job(work: Work) -> Result<Box<dyn Any + Send>, WorkError> {
    panic::catch_unwind(AssertUnwindSafe(work)).map_err(|payload| {
        let message = crate::panics::message(payload.as_ref());
        WorkError::Panicked(message.unwrap_or_else(|| "a pool job panicked".to_string()))
    })
}
// ANCHOR_END: run_job

/// Locks a mutex, ignoring poisoning: no code panics while holding these locks (jobs run
/// outside them), so a poisoned lock still holds consistent data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
