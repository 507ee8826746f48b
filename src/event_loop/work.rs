//! The loop's side of the thread pool (libuv's `uv_queue_work`, `uv__work_done`,
//! `uv_cancel`): submitting jobs, waiting for them in the poll phase, and running their
//! callbacks there, in completion order, each followed by a checkpoint.
//!
//! Every job in flight is an active *request*, so it keeps the loop alive until its callback
//! has run. The wake-up the workers send is unref'd, as libuv's `wq_async` is: it never keeps
//! the loop alive by itself.

use std::any::Any;
use std::collections::HashMap;
use std::time::Duration;

use super::{Callback, EventLoop, Input, LoopKey};
use crate::heap::Key;
use crate::threadpool::{CancelError, JobId, Work, WorkError, WorkKind};
use crate::trace::{Queue, TraceEvent};

/// A job's value, type-erased, or why there is none.
pub(super) type Outcome = Result<Box<dyn Any + Send>, WorkError>;

/// A job's callback, waiting on the loop thread for the job's outcome.
pub(super) type AfterWork = Box<dyn FnOnce(&mut EventLoop, Outcome)>;

/// Jobs in flight, by id: the frame name each one's callback runs in, and the callback's key
/// in the loop's heap.
pub(super) type InFlight = HashMap<JobId, (&'static str, Key)>;

/// How long the poll phase waits for the pool between two checks that its workers still
/// live. A check costs nothing measurable; it turns a broken pool into an error, not a hang.
const LIVENESS_CHECK: Duration = Duration::from_millis(100);

/// A job submitted with [`EventLoop::queue_work`]; cancel it with
/// [`EventLoop::cancel_work`]. It names the job on the loop that submitted it only: job ids
/// are counted per pool, and another loop's pool may have a job with the same number.
///
/// ```
/// use eventloop::prelude::*;
///
/// use eventloop::threadpool::WorkError;
///
/// let mut lp = EventLoop::new();
/// let job = lp.queue_work(|| 1, |_, _| {});
/// match lp.cancel_work(job) {
///     Ok(()) => {} // no worker had started it: its callback gets WorkError::Canceled
///     Err(_) => {} // a worker took it first: too late (EBUSY)
/// }
/// lp.run(RunMode::Default);
/// # let _: Option<WorkError> = None;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkRequest(LoopKey<JobId>);

impl EventLoop {
    // ANCHOR: queue_work
    /// Runs `work` on the thread pool and then `after_work` on this loop, in the poll phase,
    /// with `work`'s value (`uv_queue_work`). The job is CPU work; it keeps the loop alive until
    /// `after_work` has run. A panic inside `work` arrives as [`WorkError::Panicked`].
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.queue_work(
    ///     || (1..=20_u64).product::<u64>(), // on a worker thread
    ///     |lp, fact| drop(lp.insert_state(fact.unwrap())), // back on the loop
    /// );
    /// lp.run(RunMode::Default);
    /// assert_eq!(lp.state::<u64>(), Some(&2_432_902_008_176_640_000));
    /// ```
    pub fn queue_work<T: Send + 'static>(
        &mut self,
        work: impl FnOnce() -> T + Send + 'static,
        after_work: impl FnOnce(&mut EventLoop, Result<T, WorkError>) + 'static,
    ) -> WorkRequest {
        self.submit_work(WorkKind::Cpu, "queueWork", work, after_work)
    }
    // ANCHOR_END: queue_work

    // ANCHOR: submit_work
    /// Like [`queue_work`](Self::queue_work), for a job of any [`WorkKind`] whose callback
    /// runs in a frame called `name`: the file system, DNS and crypto modules submit through
    /// this.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::threadpool::WorkKind;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.submit_work(WorkKind::FastIo, "readConfig", || "a=1".len(), |_, n| assert_eq!(n.unwrap(), 3));
    /// lp.run(RunMode::Default);
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "a job's value has the type its callback expects"
    )]
    pub fn submit_work<T: Send + 'static>(
        &mut self,
        kind: WorkKind,
        name: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
        after_work: impl FnOnce(&mut EventLoop, Result<T, WorkError>) + 'static,
    ) -> WorkRequest {
        let work: Work = Box::new(move || Box::new(work()) as Box<dyn Any + Send>);
        let after: AfterWork = Box::new(move |lp, outcome| {
            let outcome = outcome.map(|value| {
                *value
                    .downcast::<T>()
                    .expect("a job's value has the type its callback expects")
            });
            after_work(lp, outcome);
        });
        let job = self.work.pool.submit(kind, &self.work.completions, work);
        let after = self.store(Callback::Done(after));
        self.work.in_flight.insert(job, (name, after));
        self.liveness.request_started();
        self.note(|| TraceEvent::WorkQueued {
            name,
            job: after.to_bits(),
        });
        WorkRequest(self.tag(job))
    }
    // ANCHOR_END: submit_work

    /// Cancels a job no worker has started (`uv_cancel`). Its callback still runs, in a later
    /// poll phase, with [`WorkError::Canceled`]. It costs a lookup by id here and one in the
    /// pool's queue ([`ThreadPool::cancel`](crate::threadpool::ThreadPool::cancel)): the
    /// queue's length does not matter.
    ///
    /// # Errors
    /// [`CancelError::Busy`] when the job is running, or finished (its callback may even have
    /// run already) — and, as for such a stale request, when the request is another loop's:
    /// this loop cancels only its own jobs.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// use eventloop::threadpool::{ThreadPool, WorkError};
    ///
    /// let mut lp = EventLoop::builder().thread_pool(ThreadPool::with_size(1)).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// lp.queue_work(move || rx.recv().ok(), |_, _| {}); // holds the one worker
    /// let waiting = lp.queue_work(|| (), |_, r| assert!(matches!(r, Err(WorkError::Canceled))));
    /// lp.cancel_work(waiting).unwrap(); // queued, not started: cancelled
    /// tx.send(()).unwrap();
    /// lp.run(RunMode::Default);
    /// ```
    pub fn cancel_work(&mut self, request: WorkRequest) -> Result<(), CancelError> {
        let job = self.untag(request.0).ok_or(CancelError::Busy)?;
        if !self.work.in_flight.contains_key(&job) {
            return Err(CancelError::Busy);
        }
        self.work.pool.cancel(job)
    }

    /// The pool this loop's jobs run on.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let lp = EventLoop::new();
    /// assert!(lp.thread_pool().size() >= 1); // the global pool: UV_THREADPOOL_SIZE, 4 by default
    /// ```
    pub fn thread_pool(&self) -> &crate::threadpool::ThreadPool {
        &self.work.pool
    }

    /// Jobs submitted whose callbacks have not run yet.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// lp.queue_work(|| (), |_, _| {});
    /// assert_eq!(lp.work_in_flight(), 1); // until its callback has run
    /// lp.run(RunMode::Default);
    /// assert_eq!(lp.work_in_flight(), 0);
    /// ```
    pub fn work_in_flight(&self) -> usize {
        self.work.in_flight.len()
    }

    // ANCHOR: wait_for_pool
    /// The poll phase with jobs in flight: waits up to `timeout` ms (`None`: until woken) for
    /// a worker's wake-up. On a manual clock it waits for the wake-up alone, however long the
    /// timeout: real waiting would not move its time. Between slices it checks that the pool
    /// still has a worker: the pool fails its jobs when it loses the last one, so this only
    /// catches a pool that could not even do that, and says why it died.
    pub(super) fn wait_for_pool(&mut self, timeout: Option<u64>) {
        let wakeup = self.work.completions.wakeup();
        let limit = match timeout {
            Some(0) => return,
            _ if self.clock.is_manual() => None,
            ms => ms.map(|ms| std::time::Instant::now() + Duration::from_millis(ms)),
        };
        loop {
            let slice = match limit {
                None => LIVENESS_CHECK,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return;
                    }
                    left.min(LIVENESS_CHECK)
                }
            };
            if wakeup.wait(Some(slice)) {
                return;
            }
            // A pool whose last worker died fails the jobs it held before that worker
            // ends, which wakes us: a pending wake-up seen after the count fell to 0 is them.
            if self.work.pool.is_started()
                && self.work.pool.workers_alive() == 0
                && !wakeup.is_pending()
            {
                let why = self
                    .work
                    .pool
                    .broken()
                    .unwrap_or_else(|| "no reason known".into());
                self.note_poll_cut_short(timeout);
                panic!(
                    "the thread pool has no live worker left: {} job(s) can never finish \
                     (the last worker died of: {why})",
                    self.work.in_flight.len()
                );
            }
        }
    }
    // ANCHOR_END: wait_for_pool

    // ANCHOR: run_completions
    /// Runs the callbacks of finished jobs, oldest completion first, with a checkpoint after
    /// each (`uv__work_done`, then Node's `MakeCallback` per request). A pass takes the batch
    /// that finished so far into the loop's own queue, and the callbacks run from there one at
    /// a time: a panic on its way to the embedder leaves the rest of the batch for the next
    /// poll phase, which runs them before it takes anything new.
    pub(super) fn run_completions(&mut self) {
        if self.work.done.is_empty() {
            if self.work.in_flight.is_empty() {
                return; // nothing can complete: skip the queue's lock on every poll phase
            }
            // A `Vec` becomes a `VecDeque` in place: no copy.
            self.work.done = self.work.completions.take().into();
            let batch = self.work.done.len();
            if batch == 0 {
                return;
            }
            if self.trace.is_enabled() {
                self.note_runs();
            }
            self.note(|| TraceEvent::WorkDone(batch));
        }
        while let Some(completion) = self.work.done.pop_front() {
            let Some((name, after)) = self.work.in_flight.remove(&completion.job) else {
                continue; // not ours: cannot happen, each loop has its own queue
            };
            self.liveness.request_finished();
            self.note_unqueued(Queue::Pool, Some(after));
            self.invoke(after, name, Input::Done(completion.outcome));
            self.checkpoint();
        }
    }
    // ANCHOR_END: run_completions

    /// Notes where and when the jobs just collected ran, in the order they started on the
    /// workers: the loop learns of both only now, from the completions themselves.
    fn note_runs(&self) {
        let mut runs: Vec<_> = self
            .work
            .done
            .iter()
            .filter_map(|c| Some((c.ran?, self.work.in_flight.get(&c.job)?.1)))
            .collect();
        runs.sort_by_key(|(ran, _)| ran.started);
        for (ran, after) in runs {
            let job = after.to_bits();
            self.note(|| TraceEvent::WorkStarted {
                job,
                worker: ran.worker,
            });
            self.note(|| TraceEvent::WorkFinished {
                job,
                worker: ran.worker,
                ran_us: u64::try_from(ran.finished.duration_since(ran.started).as_micros())
                    .unwrap_or(u64::MAX),
            });
        }
    }
}
