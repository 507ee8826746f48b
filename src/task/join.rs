//! [`JoinHandle`]: a task's result, awaited like the promise an `async function` returns.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use super::schedule::Header;
use super::tasks::wake_own;
use super::waiter::Waiter;
use crate::event_loop::EventLoop;
use crate::microtasks::Rejection;
use crate::promise::Promise;

/// Why a task produced no output.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::{self, JoinError};
///
/// let mut lp = EventLoop::new();
/// lp.on_uncaught_exception(|_, _| {}); // a panicking task is the program's uncaught error
/// let outcome = lp.block_on(async {
///     task::spawn(async {
///         task::yield_now().await;
///         panic!("no luck");
///     })
///     .await
/// });
/// assert_eq!(outcome, Ok(Err(JoinError::Panicked("no luck".into()))));
/// // Nothing can ever wake this future: `block_on` says so instead of hanging.
/// assert_eq!(lp.block_on(std::future::pending::<()>()), Err(JoinError::Stalled));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// [`JoinHandle::abort`] dropped the task's future before it finished.
    Aborted,
    /// The task panicked; the message says why. The panic was also the program's uncaught
    /// error, as a panicking callback's is.
    Panicked(String),
    /// [`EventLoop::block_on`] only: the loop ran out of work, or nothing could ever wake the
    /// future again, before it finished.
    Stalled,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Aborted => f.write_str("the task was aborted"),
            JoinError::Panicked(message) => write!(f, "the task panicked: {message}"),
            JoinError::Stalled => f.write_str(
                "the loop ran out of work before the future finished: nothing can wake it",
            ),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for Rejection {
    fn from(error: JoinError) -> Rejection {
        Rejection::new(error.to_string())
    }
}

/// Where a join handle stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The task has not finished.
    Running,
    /// Finished; the awaiting task has not had its hop yet.
    Done,
    /// Finished, and the hop ran (or is queued): the next poll takes the output.
    Delivered,
    /// The output was taken.
    Taken,
}

pub(crate) type OnDone<T> = Box<dyn FnOnce(&mut EventLoop, Result<T, JoinError>)>;

/// A task's outcome, shared by the task and its [`JoinHandle`].
pub(crate) struct JoinSlot<T> {
    outcome: RefCell<Option<Result<T, JoinError>>>,
    stage: Cell<Stage>,
    waiter: RefCell<Waiter>,
    /// What to do with the outcome instead of keeping it (the handle became a promise).
    on_done: RefCell<Option<OnDone<T>>>,
    /// The task counts as an active request now.
    refd: Cell<bool>,
    /// The task should keep the loop alive (`unref` clears it).
    wants_ref: Cell<bool>,
}

impl<T> JoinSlot<T> {
    pub(crate) fn new() -> Self {
        JoinSlot {
            outcome: RefCell::new(None),
            stage: Cell::new(Stage::Running),
            waiter: RefCell::new(Waiter::Nobody),
            on_done: RefCell::new(None),
            refd: Cell::new(false),
            wants_ref: Cell::new(true),
        }
    }

    /// The task finished with `outcome`.
    pub(crate) fn set(&self, outcome: Result<T, JoinError>) {
        *self.outcome.borrow_mut() = Some(outcome);
        self.stage.set(Stage::Done);
    }

    pub(crate) fn is_done(&self) -> bool {
        self.stage.get() != Stage::Running
    }

    /// Hands the outcome on: to the promise the handle became, or — one microtask hop later,
    /// as an `async function`'s promise does — to the task awaiting the handle. Returns
    /// whether the task counted as a request.
    pub(crate) fn deliver(&self, lp: &mut EventLoop) -> bool {
        let refd = self.refd.replace(false);
        let on_done = self.on_done.borrow_mut().take();
        if let Some(on_done) = on_done {
            let outcome = self.take();
            on_done(lp, outcome);
            return refd;
        }
        let waiter = std::mem::take(&mut *self.waiter.borrow_mut());
        if !matches!(waiter, Waiter::Nobody) {
            self.stage.set(Stage::Delivered);
            waiter.wake(lp);
        }
        refd
    }

    /// Delivers an outcome reached in the task's first poll: no handle exists yet.
    pub(crate) fn deliver_detached(&self) {}

    /// Starts counting the task as a request, if it wants to be and has not finished.
    pub(crate) fn start_ref(&self, lp: &mut EventLoop) {
        if !self.is_done() && self.wants_ref.get() && !self.refd.replace(true) {
            lp.request_started();
        }
    }

    /// Sends the outcome to `on_done` when the task finishes, instead of keeping it.
    pub(crate) fn set_on_done(&self, on_done: OnDone<T>) {
        *self.on_done.borrow_mut() = Some(on_done);
    }

    /// Takes the outcome of a finished task.
    pub(crate) fn take_outcome(&self) -> Result<T, JoinError> {
        self.take()
    }

    fn take(&self) -> Result<T, JoinError> {
        self.stage.set(Stage::Taken);
        self.outcome
            .borrow_mut()
            .take()
            .expect("a finished task leaves its outcome")
    }
}

/// A spawned task's handle: await it for the task's output, as JavaScript awaits the promise
/// an `async function` returned.
///
/// `.await` on a handle resumes one microtask hop after the task finished — the hop V8 takes
/// for `await` of a native promise — so `task::spawn(f()).await` orders exactly as
/// `await f()` does in Node.
///
/// Dropping the handle detaches the task: it runs on to the end. [`abort`](Self::abort) drops
/// it at its next turn. While it has not finished, a task keeps the loop alive, like a ref'd
/// handle; [`unref`](crate::Ref::unref) lets the loop end without it.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
///
/// let mut lp = EventLoop::new();
/// let answer = lp.block_on(async {
///     let half = task::spawn(async { 21 });
///     half.await.unwrap() * 2
/// });
/// assert_eq!(answer, Ok(42));
/// ```
pub struct JoinHandle<T> {
    slot: Rc<JoinSlot<T>>,
    header: Weak<Header>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("stage", &self.slot.stage.get())
            .finish()
    }
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(slot: Rc<JoinSlot<T>>, header: &Arc<Header>) -> Self {
        JoinHandle {
            slot,
            header: Arc::downgrade(header),
        }
    }

    pub(crate) fn slot(&self) -> &Rc<JoinSlot<T>> {
        &self.slot
    }

    /// True once the task finished: returned, panicked or was aborted.
    ///
    /// ```
    /// use eventloop::event_loop::{EventLoop, RunMode};
    /// use eventloop::task;
    ///
    /// let mut lp = EventLoop::new();
    /// let quick = lp.spawn(async { 1 }); // ran to the end inside `spawn`
    /// let slow = lp.spawn(task::sleep(5));
    /// assert!(quick.is_finished() && !slow.is_finished());
    /// lp.run(RunMode::Default);
    /// assert!(slow.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.slot.is_done()
    }

    /// Drops the task's future at its next turn (a microtask; never in the middle of a poll),
    /// unless it finished first. Awaiting the handle then gives [`JoinError::Aborted`].
    /// Whatever the future owned is dropped with it: its timers are cleared, its sockets
    /// closed, its pool jobs cancelled.
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::{self, JoinError};
    ///
    /// let mut lp = EventLoop::new();
    /// let outcome = lp.block_on(async {
    ///     let forever = task::spawn(std::future::pending::<()>());
    ///     forever.abort();
    ///     forever.await
    /// });
    /// assert_eq!(outcome, Ok(Err(JoinError::Aborted)));
    /// ```
    pub fn abort(&self) {
        if let Some(header) = self.header.upgrade() {
            header.request_abort();
        }
    }

    /// Lets the task run on without anyone awaiting it (the same as dropping the handle).
    ///
    /// ```
    /// use eventloop::event_loop::{EventLoop, RunMode};
    /// use eventloop::task;
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// let mut lp = EventLoop::new();
    /// let done = Rc::new(Cell::new(false));
    /// let d = done.clone();
    /// lp.spawn(async move {
    ///     task::sleep(1).await;
    ///     d.set(true);
    /// })
    /// .detach();
    /// lp.run(RunMode::Default); // the detached task still keeps the loop alive
    /// assert!(done.get());
    /// ```
    pub fn detach(self) {}
}

/// A task keeps the loop alive until it finishes; `unref` lets the loop end while it waits
/// (it still runs whenever the loop does). On a borrowed handle, so that `handle.unref(lp)`
/// keeps `handle`.
impl<T> crate::event_loop::Ref for &JoinHandle<T> {
    /// `unref` lets the loop end while this task waits (as on Node's handles); `ref_` makes
    /// it keep the loop alive again, until it finishes (the default).
    ///
    /// ```
    /// use eventloop::Ref;
    /// use eventloop::event_loop::{EventLoop, RunMode};
    /// use eventloop::task;
    ///
    /// let mut lp = EventLoop::new();
    /// let forever = lp.spawn(std::future::pending::<()>());
    /// assert_eq!(lp.active_requests(), 1); // a task keeps the loop alive...
    /// forever.unref(&mut lp);
    /// assert_eq!(lp.active_requests(), 0); // ...until it is unref'd
    /// lp.run(RunMode::Default); // returns at once
    /// assert!(!forever.is_finished());
    ///
    /// let sleeper = lp.spawn(task::sleep(10));
    /// sleeper.unref(&mut lp);
    /// sleeper.ref_(&mut lp);
    /// assert!(sleeper.has_ref(&lp));
    /// assert_eq!(lp.active_requests(), 1);
    /// ```
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        self.slot.wants_ref.set(refed);
        if refed {
            self.slot.start_ref(lp);
        } else if self.slot.refd.replace(false) {
            lp.request_finished();
        }
    }

    /// True while the task keeps the loop alive: not unref'd, and not finished.
    ///
    /// ```
    /// use eventloop::Ref;
    /// use eventloop::event_loop::{EventLoop, RunMode};
    /// use eventloop::task;
    ///
    /// let mut lp = EventLoop::new();
    /// let sleeper = lp.spawn(task::sleep(1));
    /// assert!(sleeper.has_ref(&lp));
    /// lp.run(RunMode::Default);
    /// assert!(!sleeper.has_ref(&lp)); // finished: it gave its ref back
    /// ```
    fn has_ref(self, _lp: &EventLoop) -> bool {
        self.slot.refd.get()
    }
}

impl<T: Clone + 'static> JoinHandle<T> {
    /// The task's outcome as a [`Promise`]: fulfilled with its output, or rejected with the
    /// [`JoinError`], when it finishes — the promise an `async function` call returns, to use
    /// with `then` and the combinators.
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::promise::Promise;
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// let mut lp = EventLoop::new();
    /// let sum = Rc::new(Cell::new(0));
    /// let s = sum.clone();
    /// lp.run_main(move |lp| {
    ///     let a = lp.spawn(async { 1 }).into_promise(lp);
    ///     let b = lp.spawn(async { 2 }).into_promise(lp);
    ///     Promise::all(lp, vec![a, b]).then(lp, move |_, v| s.set(v.iter().sum()));
    /// })
    /// .unwrap();
    /// assert_eq!(sum.get(), 3);
    /// ```
    ///
    /// # Panics
    /// If the task's output was already taken (the handle was awaited to the end): a task has one output.
    pub fn into_promise(self, lp: &mut EventLoop) -> Promise<T> {
        let (promise, resolver) = Promise::pending();
        let settle = move |lp: &mut EventLoop, outcome: Result<T, JoinError>| match outcome {
            Ok(value) => resolver.resolve(lp, value),
            Err(error) => resolver.reject(lp, error),
        };
        match self.slot.stage.get() {
            Stage::Running => *self.slot.on_done.borrow_mut() = Some(Box::new(settle)),
            Stage::Done | Stage::Delivered => settle(lp, self.slot.take()),
            Stage::Taken => panic!("into_promise on a JoinHandle whose output was taken"),
        }
        promise
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    // ANCHOR: join_poll
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let slot = &self.slot;
        match slot.stage.get() {
            Stage::Delivered => Poll::Ready(slot.take()),
            Stage::Done => {
                // Finished before anyone awaited it: `await` of a settled promise still
                // takes one hop. Wake ourselves; the next poll takes the output.
                slot.stage.set(Stage::Delivered);
                wake_own(cx);
                Poll::Pending
            }
            Stage::Running => {
                *slot.waiter.borrow_mut() = Waiter::of(cx);
                Poll::Pending
            }
            Stage::Taken => panic!("a JoinHandle was polled after it returned its output"),
        }
    }
    // ANCHOR_END: join_poll
}
