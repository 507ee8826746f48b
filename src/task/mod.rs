//! Futures on the loop: `async`/`.await` that keeps Node's order (chapter 10).
//!
//! A *task* is a future the loop drives: [`EventLoop::spawn`] (or [`spawn`] from inside a
//! task) hands it over and returns a [`JoinHandle`]. The loop polls a task when it is woken,
//! and a wake is one more entry in the microtask queue — so a task resumes among promise
//! reactions, ticks, timers and sockets exactly where a JavaScript `async function` would:
//!
//! - spawning runs the future at once, up to its first `.await` that is not ready, as calling
//!   an `async function` runs its body up to the first `await`;
//! - `.await` on a [`Promise`] resumes one microtask after the
//!   promise settles (V8's rule for `await` of a native promise), and `.await` on a
//!   [`JoinHandle`] one microtask after its task finished;
//! - a task woken on the loop's thread is queued as a microtask; one woken from another thread
//!   reaches the loop through the thread pool's wake-up, and is queued then;
//! - a task that panics is the program's uncaught error, like a panicking callback.
//!
//! ```
//! use eventloop::event_loop::EventLoop;
//! use eventloop::promise::Promise;
//! use eventloop::task;
//! use std::{cell::RefCell, rc::Rc};
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let mut lp = EventLoop::new();
//! let l = log.clone();
//! lp.run_main(move |lp| {
//!     let (l1, l2) = (l.clone(), l.clone());
//!     lp.spawn(async move {
//!         l1.borrow_mut().push("async start");
//!         let n = Promise::resolved(41).await.unwrap(); // one microtask hop
//!         l1.borrow_mut().push(if n == 41 { "async end" } else { "?" });
//!     });
//!     Promise::resolved(()).then(lp, move |_, ()| l2.borrow_mut().push("then"));
//!     l.borrow_mut().push("script end");
//! })
//! .unwrap();
//! assert_eq!(*log.borrow(), ["async start", "script end", "async end", "then"]);
//! ```
//!
//! A future's `poll` gets a `Context`, not the loop. Code inside a task reaches the loop with
//! [`defer`] (run this with the loop as soon as the task yields; nothing else runs first) or
//! [`with_loop`] (the same, awaited for its value, with no microtask hop).

mod join;
pub mod net;
mod pool;
mod promise_await;
#[cfg_attr(feature = "learn-task", path = "../../exercises/task.rs")]
mod schedule;
mod source;
mod tasks;
mod time;
mod waiter;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

pub use join::{JoinError, JoinHandle};
pub use pool::{PoolFuture, dns, fs, spawn_blocking};
pub use promise_await::PromiseFuture;
pub use time::{
    Elapsed, Interval, Sleep, WithTimeout, YieldNow, interval, sleep, timeout, yield_now,
};

use crate::event_loop::{EventLoop, ExitCode, RunMode, Uncaught};
use crate::microtasks::Rejection;
use crate::promise::Promise;
use tasks::{Command, run_entry, scope};
use waiter::Waiter;

// ANCHOR: spawn
impl EventLoop {
    /// Starts a task: runs `future` at once, up to its first `.await` that must wait — as
    /// calling an `async function` runs its body up to the first `await` — and then whenever
    /// it is woken. The task keeps the loop alive until it finishes (see
    /// [`Ref::unref`](crate::Ref::unref) on the handle).
    ///
    /// The future need not be `Send`: it never leaves this thread.
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task;
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// let mut lp = EventLoop::new();
    /// let done = Rc::new(Cell::new(false));
    /// let d = done.clone();
    /// lp.spawn(async move {
    ///     task::sleep(10).await;
    ///     d.set(true);
    /// });
    /// assert!(!done.get()); // waiting for its timer
    /// lp.run(eventloop::event_loop::RunMode::Default);
    /// assert!(done.get());
    /// ```
    pub fn spawn<F: Future + 'static>(&mut self, future: F) -> JoinHandle<F::Output> {
        let tasks = tasks::tasks(self);
        let (key, cell) = tasks.insert(future);
        let handle = JoinHandle::new(cell.join.clone(), &cell.header);
        if cell.header.schedule() {
            // The first part runs now, in a frame of its own: a callback boundary.
            self.run_in_frame("task", |lp| run_entry(lp, &tasks, key));
        }
        handle.slot().start_ref(self);
        handle
    }
    // ANCHOR_END: spawn

    /// Runs the loop until `future` finishes, and returns its output — the natural `main` of
    /// an async program. The future runs as a task ([`spawn`](Self::spawn)); other tasks,
    /// timers and sockets run meanwhile. Returns as soon as the future finished: whatever else
    /// is still scheduled stays on the loop.
    ///
    /// # Errors
    /// [`JoinError::Stalled`] when the loop runs out of work, or nothing could ever wake the
    /// future again, before it finished. A panic in the future is the program's uncaught
    /// error: with an `uncaughtException` listener the loop goes on and this returns
    /// [`JoinError::Panicked`]; without one it unwinds out of `block_on`, as out of
    /// [`run`](Self::run).
    ///
    /// # Panics
    /// When called from inside one of the loop's callbacks or tasks: the loop is not
    /// reentrant.
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task;
    ///
    /// let mut lp = EventLoop::new();
    /// let out = lp.block_on(async {
    ///     task::sleep(5).await;
    ///     "slept"
    /// });
    /// assert_eq!(out, Ok("slept"));
    /// ```
    pub fn block_on<F: Future + 'static>(&mut self, future: F) -> Result<F::Output, JoinError> {
        let handle = self.spawn(future);
        let slot = handle.slot().clone();
        if slot.is_done() {
            return take_now(handle);
        }
        let outcome: Rc<RefCell<Option<JoinResult<F::Output>>>> = Rc::default();
        let out = outcome.clone();
        slot.set_on_done(Box::new(move |lp, result| {
            *out.borrow_mut() = Some(result);
            lp.stop(); // return from `run` at the end of this iteration
        }));
        loop {
            let alive = self.run(RunMode::Default);
            if let Some(result) = outcome.borrow_mut().take() {
                return result;
            }
            if !alive || self.stalled() {
                return Err(JoinError::Stalled);
            }
        }
    }

    /// Runs an async program as Node runs a main module whose body is an `async function`:
    /// [`run_main`](Self::run_main) with `main` spawned as its script. The exit code, the
    /// `beforeExit` and `exit` events and uncaught errors are `run_main`'s. An `Err` that
    /// `main` returns is an unhandled rejection — what an async `main()` that throws is in
    /// Node — and ends the program with it.
    ///
    /// # Errors
    /// As [`run_main`](Self::run_main).
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task;
    ///
    /// let mut lp = EventLoop::new();
    /// let code = lp.run_main_async(async {
    ///     task::sleep(1).await;
    ///     Ok::<(), std::io::Error>(())
    /// });
    /// assert_eq!(code.unwrap(), 0);
    ///
    /// let failed = lp.run_main_async(async {
    ///     Err::<(), _>(std::io::Error::other("boom"))
    /// });
    /// assert!(failed.unwrap_err().rejection.is_some());
    /// ```
    pub fn run_main_async<F>(&mut self, main: F) -> Result<ExitCode, Uncaught>
    where
        F: Future + 'static,
        F::Output: MainResult,
    {
        self.run_main(move |lp| {
            lp.spawn(async move {
                if let Err(reason) = main.await.into_result() {
                    defer(move |lp| drop(Promise::<()>::rejected(lp, reason)));
                }
            })
            .detach();
        })
    }
}

type JoinResult<T> = Result<T, JoinError>;

/// The output of an async main function: `()`, or a `Result` whose error becomes an unhandled
/// rejection.
///
/// ```
/// use eventloop::task::MainResult;
///
/// assert!(().into_result().is_ok());
/// assert!(Ok::<(), std::io::Error>(()).into_result().is_ok());
/// let failed = Err::<(), _>(std::io::Error::other("bad input")).into_result();
/// assert_eq!(failed.unwrap_err().to_string(), "bad input");
/// ```
pub trait MainResult {
    /// `Ok` for success, or the error the program ends with.
    ///
    /// ```
    /// use eventloop::task::MainResult;
    ///
    /// assert!(().into_result().is_ok());
    /// ```
    ///
    /// # Errors
    /// The program's error, as the rejection it ends with.
    fn into_result(self) -> Result<(), Rejection>;
}

impl MainResult for () {
    fn into_result(self) -> Result<(), Rejection> {
        Ok(())
    }
}

impl<E: Into<Rejection>> MainResult for Result<(), E> {
    fn into_result(self) -> Result<(), Rejection> {
        self.map_err(Into::into)
    }
}

fn take_now<T>(handle: JoinHandle<T>) -> Result<T, JoinError> {
    // Finished in its first poll: no hop to wait for outside a task.
    handle.slot().take_outcome()
}

/// Starts a task from inside another task, where there is no `&mut EventLoop`: as
/// [`EventLoop::spawn`], on the loop running the current task. Its first part runs now, in
/// the caller's poll, as an `async function` called from another runs in its caller's turn.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
///
/// let mut lp = EventLoop::new();
/// let out = lp.block_on(async {
///     let a = task::spawn(async { 2 });
///     let b = task::spawn(async { 3 });
///     a.await.unwrap() * b.await.unwrap()
/// });
/// assert_eq!(out, Ok(6));
/// ```
///
/// # Panics
/// Outside a task: use [`EventLoop::spawn`] there.
pub fn spawn<F: Future + 'static>(future: F) -> JoinHandle<F::Output> {
    let scope = scope().expect("task::spawn outside a task: use EventLoop::spawn");
    let tasks = scope.tasks();
    let (key, cell) = tasks.insert(future);
    let handle = JoinHandle::new(cell.join.clone(), &cell.header);
    let task: Rc<dyn tasks::Runnable> = cell.clone();
    let header = &cell.header;
    if header.schedule() && header.start() {
        let (polled, woke_itself) = tasks.poll_in_scope(&task);
        match polled {
            Ok(Poll::Ready(())) => {
                header.finish_poll(true);
                tasks.finish_detached(key, &task);
            }
            Ok(Poll::Pending) => {
                if header.end_poll(false, woke_itself) {
                    tasks.queue_entry(key);
                }
                let slot = handle.slot().clone();
                tasks.push(Command::Call(
                    "task",
                    Box::new(move |lp: &mut EventLoop| slot.start_ref(lp)),
                ));
            }
            Err(payload) => {
                let message = crate::panics::message(payload.as_ref())
                    .unwrap_or_else(|| "a task panicked".to_string());
                task.cancel(JoinError::Panicked(message));
                header.set_done();
                tasks.finish_detached(key, &task);
                // Reported as uncaught once the caller's poll returns, in a frame of its own.
                let payload = Cell::new(Some(payload));
                tasks.push(Command::Call(
                    "task",
                    Box::new(move |_: &mut EventLoop| {
                        if let Some(payload) = payload.take() {
                            std::panic::resume_unwind(payload);
                        }
                    }),
                ));
            }
        }
    }
    handle
}

// ANCHOR: defer
/// Runs `f` with the loop as soon as the current task's poll returns — before anything else
/// runs, so for the program it is as if `f` ran here. For operations whose result the task
/// does not need: setting a timer, queueing a tick, resolving a promise.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
/// use std::{cell::RefCell, rc::Rc};
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let mut lp = EventLoop::new();
/// let l = log.clone();
/// lp.block_on(async move {
///     let l2 = l.clone();
///     task::defer(move |lp| lp.next_tick(move |_| l2.borrow_mut().push("tick")));
///     l.borrow_mut().push("sync");
///     task::yield_now().await;
/// })
/// .unwrap();
/// assert_eq!(*log.borrow(), ["sync", "tick"]);
/// ```
///
/// # Panics
/// Outside a task.
pub fn defer(f: impl FnOnce(&mut EventLoop) + 'static) {
    let scope = scope().expect("task::defer outside a task: there the loop is at hand");
    scope.tasks().push(Command::Call("defer", Box::new(f)));
}
// ANCHOR_END: defer

/// Calls `f` with the loop and gives back what it returns: `with_loop(|lp| …).await`. The
/// task yields, `f` runs as soon as the poll returns, and the task is polled again at once —
/// no microtask hop, and nothing else runs in between.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
///
/// let mut lp = EventLoop::new();
/// let now = lp.block_on(async { task::with_loop(|lp| lp.now()).await }).unwrap();
/// assert!(now < u64::MAX);
/// ```
pub fn with_loop<R: 'static, F: FnOnce(&mut EventLoop) -> R + 'static>(f: F) -> WithLoop<F, R> {
    WithLoop {
        call: Some(f),
        result: Rc::new(Cell::new(None)),
    }
}

/// The future of [`with_loop`]: the call, until it ran, then its result.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::{self, WithLoop};
///
/// let mut lp = EventLoop::new();
/// let handles = lp.block_on(async {
///     let set: WithLoop<_, _> = task::with_loop(|lp| lp.set_timeout(|_| {}, 1));
///     let _timer = set.await;
///     task::with_loop(|lp| lp.active_handles()).await
/// });
/// assert_eq!(handles, Ok(1)); // the timer the first call set
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WithLoop<F, R> {
    call: Option<F>,
    result: Rc<Cell<Option<R>>>,
}

impl<F, R> Unpin for WithLoop<F, R> {}

impl<R: 'static, F: FnOnce(&mut EventLoop) -> R + 'static> Future for WithLoop<F, R> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        if let Some(result) = self.result.take() {
            return Poll::Ready(result);
        }
        let Some(call) = self.call.take() else {
            return Poll::Pending; // the call has not run yet
        };
        let scope = scope().expect("task::with_loop outside a task: there the loop is at hand");
        let (result, waiter) = (self.result.clone(), Waiter::of(cx));
        let tasks = Rc::downgrade(&scope.tasks());
        scope.tasks().push(Command::Call(
            "withLoop",
            Box::new(move |lp: &mut EventLoop| {
                result.set(Some(call(lp)));
                match waiter {
                    Waiter::Task(task) => {
                        if let (Some(tasks), Some(task)) = (tasks.upgrade(), task.upgrade()) {
                            tasks.request_resume(task.header().key);
                        }
                    }
                    other => other.wake(lp),
                }
            }),
        ));
        Poll::Pending
    }
}
