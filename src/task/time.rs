//! Timers as futures: [`sleep`], [`timeout`], [`interval`] and [`yield_now`], built on Node's
//! `setTimeout`, `setInterval` and `setImmediate` of this loop — so they fire in the phase, and
//! in the order, Node's would.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use futures_core::Stream;

use super::source::OnLoop;
use super::tasks::{Command, Tasks, scope};
use super::waiter::Waiter;
use crate::event_loop::{Delay, EventLoop, Timeout};

// ANCHOR: sleep
/// Waits `delay` milliseconds: `await new Promise(r => setTimeout(r, delay))`. The timer is a
/// Node timeout of this loop, set when the future is first polled; the task resumes one
/// microtask after the timer's callback, in the timers phase. Dropping the future clears the
/// timer.
///
/// ```
/// use eventloop::clock::ManualClock;
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
///
/// let mut lp = EventLoop::with_clock(ManualClock::new());
/// lp.block_on(async { task::sleep(60_000).await }).unwrap();
/// assert_eq!(lp.now(), 60_000); // a manual clock jumps to the deadline
/// ```
pub fn sleep(delay: impl Into<Delay>) -> Sleep {
    let delay = delay.into();
    Sleep(OnLoop::new(
        "sleep",
        Box::new(move |lp, slot| {
            let timer = lp.set_timeout(move |lp| slot.complete(lp, ()), delay);
            Some(Box::new(move |lp: &mut EventLoop| lp.clear_timeout(timer)))
        }),
    ))
}
// ANCHOR_END: sleep

/// The future of [`sleep`]. Dropping it before it fired clears its timer, so the loop has
/// nothing left to wait for.
///
/// ```
/// use eventloop::event_loop::{EventLoop, RunMode};
/// use eventloop::task::{self, Sleep};
///
/// let mut lp = EventLoop::new();
/// let out = lp.block_on(async {
///     let long: Sleep = task::sleep(3_600_000); // an hour
///     let _ = task::timeout(1, long).await; // dropped after 1 ms: its timer is cleared
///     "done"
/// });
/// assert_eq!(out, Ok("done"));
/// assert_eq!(lp.active_handles(), 0); // no hour-long timer left behind
/// lp.run(RunMode::Default); // returns at once
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep(OnLoop<()>);

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sleep")
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Yields to the loop until its next check phase: `await new Promise(r => setImmediate(r))`.
/// Timers due meanwhile, and I/O, run first. Dropping the future clears the immediate.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
///
/// let mut lp = EventLoop::new();
/// lp.block_on(async {
///     for _ in 0..3 {
///         task::yield_now().await; // one loop iteration each
///     }
/// })
/// .unwrap();
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow(OnLoop::new(
        "yieldNow",
        Box::new(|lp, slot| {
            let immediate = lp.set_immediate(move |lp| slot.complete(lp, ()));
            Some(Box::new(move |lp: &mut EventLoop| {
                lp.clear_immediate(immediate)
            }))
        }),
    ))
}

/// The future of [`yield_now`]: an immediate, set when first polled.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::{self, YieldNow};
/// use std::{cell::RefCell, rc::Rc};
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let mut lp = EventLoop::new();
/// let l = log.clone();
/// lp.run_main(move |lp| {
///     let l2 = l.clone();
///     lp.spawn(async move {
///         let turn: YieldNow = task::yield_now();
///         turn.await; // after the timers and I/O of this iteration: the check phase
///         l2.borrow_mut().push("after yield");
///     });
///     let l3 = l.clone();
///     lp.set_immediate(move |_| l3.borrow_mut().push("immediate set after"));
/// })
/// .unwrap();
/// // Immediates run in the order they were set: the yield's was set first.
/// assert_eq!(*log.borrow(), ["after yield", "immediate set after"]);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow(OnLoop<()>);

impl fmt::Debug for YieldNow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("YieldNow")
    }
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// The error of [`timeout`]: the time ran out first.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::{self, Elapsed};
///
/// let mut lp = EventLoop::new();
/// let late = lp.block_on(task::timeout(1, std::future::pending::<()>())).unwrap();
/// assert_eq!(late, Err(Elapsed));
/// assert_eq!(Elapsed.to_string(), "the deadline passed before the future finished");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the deadline passed before the future finished")
    }
}

impl std::error::Error for Elapsed {}

// ANCHOR: timeout
/// Runs `future` for at most `delay` milliseconds: its output, or [`Elapsed`] if the timer
/// fired first — in which case `future` is dropped, cancelling what it was waiting for. (The
/// `Promise.race` of a promise and a timer, without the leftover timer.)
///
/// ```
/// use eventloop::clock::ManualClock;
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::{self, Elapsed};
///
/// let mut lp = EventLoop::with_clock(ManualClock::new());
/// let slow = lp.block_on(task::timeout(10, task::sleep(1_000))).unwrap();
/// assert_eq!(slow, Err(Elapsed));
/// let fast = lp.block_on(task::timeout(10, async { 7 })).unwrap();
/// assert_eq!(fast, Ok(7));
/// ```
pub fn timeout<F: Future>(delay: impl Into<Delay>, future: F) -> WithTimeout<F> {
    WithTimeout {
        future: Box::pin(future),
        timer: sleep(delay),
    }
}
// ANCHOR_END: timeout

/// The future of [`timeout`]: the future it runs, and the timer that ends it.
///
/// ```
/// use eventloop::clock::ManualClock;
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::{self, WithTimeout};
///
/// let mut lp = EventLoop::with_clock(ManualClock::new());
/// let bounded: WithTimeout<_> = task::timeout(50, async {
///     task::sleep(20).await;
///     "in time"
/// });
/// assert_eq!(lp.block_on(bounded).unwrap(), Ok("in time"));
/// assert_eq!(lp.now(), 20); // the 50 ms timer was cleared, not waited for
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WithTimeout<F> {
    future: Pin<Box<F>>,
    timer: Sleep,
}

impl<F> fmt::Debug for WithTimeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WithTimeout")
    }
}

impl<F: Future> Future for WithTimeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut self.timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}

// ANCHOR: interval
/// A [`Stream`] that yields every `delay` milliseconds: `setInterval` of this loop, set when
/// first polled, cleared when the stream is dropped. Each tick the interval fires is yielded
/// once, even when the task was busy and several piled up.
///
/// ```
/// use eventloop::clock::ManualClock;
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
///
/// let mut lp = EventLoop::with_clock(ManualClock::new());
/// lp.block_on(async {
///     let mut ticks = task::interval(100);
///     for _ in 0..3 {
///         poll_fn(|cx| Pin::new(&mut ticks).poll_next(cx)).await;
///     }
/// })
/// .unwrap();
/// assert_eq!(lp.now(), 300);
/// ```
pub fn interval(delay: impl Into<Delay>) -> Interval {
    Interval {
        delay: delay.into(),
        state: Rc::new(IntervalState {
            ticks: Cell::new(0),
            waiter: RefCell::new(Waiter::Nobody),
            timer: Cell::new(None),
            dropped: Cell::new(false),
        }),
        started: false,
        tasks: Weak::new(),
    }
}
// ANCHOR_END: interval

/// The stream of [`interval`]: each item is one tick. Dropping it clears the interval.
///
/// ```
/// use eventloop::clock::ManualClock;
/// use eventloop::event_loop::{EventLoop, RunMode};
/// use eventloop::task::{self, Interval};
/// use futures_core::Stream;
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// let mut lp = EventLoop::with_clock(ManualClock::new());
/// lp.block_on(async {
///     let mut ticks: Interval = task::interval(25);
///     poll_fn(|cx| Pin::new(&mut ticks).poll_next(cx)).await;
///     poll_fn(|cx| Pin::new(&mut ticks).poll_next(cx)).await;
/// }) // the interval is dropped here
/// .unwrap();
/// lp.run(RunMode::Default); // nothing repeats any more
/// assert_eq!(lp.now(), 50);
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Interval {
    delay: Delay,
    state: Rc<IntervalState>,
    started: bool,
    tasks: Weak<Tasks>,
}

struct IntervalState {
    /// Ticks fired and not yet yielded.
    ticks: Cell<u64>,
    waiter: RefCell<Waiter>,
    timer: Cell<Option<Timeout>>,
    dropped: Cell<bool>,
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("delay", &self.delay)
            .field("ticks", &self.state.ticks.get())
            .finish()
    }
}

impl Stream for Interval {
    type Item = ();

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let ticks = self.state.ticks.get();
        if ticks > 0 {
            self.state.ticks.set(ticks - 1);
            return Poll::Ready(Some(()));
        }
        *self.state.waiter.borrow_mut() = Waiter::of(cx);
        if !self.started {
            self.started = true;
            let scope =
                scope().expect("an interval was polled outside a task: poll it inside a task");
            self.tasks = Rc::downgrade(&scope.tasks());
            let (state, delay) = (self.state.clone(), self.delay);
            scope.tasks().push(Command::Call(
                "setInterval",
                Box::new(move |lp: &mut EventLoop| {
                    if state.dropped.get() {
                        return;
                    }
                    let fired = state.clone();
                    let timer = lp.set_interval(
                        move |lp| {
                            fired.ticks.set(fired.ticks.get() + 1);
                            std::mem::take(&mut *fired.waiter.borrow_mut()).wake(lp);
                        },
                        delay,
                    );
                    state.timer.set(Some(timer));
                }),
            ));
        }
        Poll::Pending
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        self.state.dropped.set(true);
        if let (Some(timer), Some(tasks)) = (self.state.timer.take(), self.tasks.upgrade()) {
            tasks.push(Command::Call(
                "clearInterval",
                Box::new(move |lp: &mut EventLoop| lp.clear_interval(timer)),
            ));
        }
    }
}
