//! `.await` on a [`Promise`], with V8's hop count.
//!
//! V8 runs `await p`, for a native promise `p`, as one `PerformPromiseThen` on `p` whose
//! reaction resumes the async function (Node ≥ 12): the function goes on exactly one microtask
//! after `p` settles, or one microtask after the `await` if `p` had settled already. A promise
//! that adopts another (resolved with a promise) settles two hops after the one it follows,
//! and the `await` adds its one: three.
//!
//! The future below takes the same hops. On a promise still pending it attaches one reaction
//! (after the poll, through the task's mailbox), and that reaction, when it runs, polls the
//! task *in place* — the reaction is the hop, so no second microtask is queued. On a promise
//! already fulfilled it wakes its own task, which queues one entry: one hop.

use std::cell::{Cell, RefCell};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::tasks::{Command, scope, wake_own};
use super::waiter::Waiter;
use crate::event_loop::EventLoop;
use crate::promise::{Promise, Settled};

/// An `.await` in progress on a [`Promise`]; made by `promise.await` (or
/// `promise.into_future()`, for a combinator that wants a `Future`). Resolves to the value,
/// or `Err` with the rejection: JavaScript's `throw` at the `await`.
///
/// It must be polled by a task of the promise's loop (spawned, or [`EventLoop::block_on`]):
/// outside one it panics, since it could never be woken.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::promise::Promise;
/// use std::future::IntoFuture;
///
/// let mut lp = EventLoop::new();
/// let (promise, resolver) = Promise::pending();
/// let waiting = lp.spawn(promise.into_future()); // a PromiseFuture, as `promise.await` makes
/// let late = lp.set_timeout(move |lp| resolver.resolve(lp, "settled"), 5);
/// # let _ = late;
/// lp.run(eventloop::event_loop::RunMode::Default);
/// let out = lp.block_on(waiting).unwrap().unwrap(); // the handle, then its task
/// assert_eq!(out.ok(), Some("settled"));
///
/// // A rejection is an `Err` at the `await`: JavaScript's `throw` there.
/// let failed = lp.block_on(async move {
///     let rejected = eventloop::task::with_loop(|lp| Promise::<u8>::rejected(lp, std::io::Error::other("no"))).await;
///     rejected.await
/// });
/// assert_eq!(failed.unwrap().unwrap_err().to_string(), "no");
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct PromiseFuture<T> {
    stage: AwaitStage<T>,
}

enum AwaitStage<T> {
    /// Not polled yet.
    Start(Promise<T>),
    /// Fulfilled before the `await`: the hop is queued, the value waits here.
    Hopping(Option<Settled<T>>),
    /// Waiting for the reaction.
    Subscribed(Rc<AwaitSlot<T>>),
    Done,
}

/// What the reaction fills in for the awaiting task.
struct AwaitSlot<T> {
    outcome: Cell<Option<Settled<T>>>,
    waiter: RefCell<Waiter>,
}

/// `promise.await` inside a task: the value, or `Err` with the rejection, after V8's hops
/// (one for a native promise).
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::promise::Promise;
///
/// let mut lp = EventLoop::new();
/// let n = lp.block_on(async { Promise::resolved(20).await.unwrap() + 1 });
/// assert_eq!(n, Ok(21));
/// ```
impl<T: Clone + 'static> IntoFuture for Promise<T> {
    type Output = Settled<T>;
    type IntoFuture = PromiseFuture<T>;

    fn into_future(self) -> PromiseFuture<T> {
        PromiseFuture {
            stage: AwaitStage::Start(self),
        }
    }
}

impl<T> Unpin for PromiseFuture<T> {}

impl<T: Clone + 'static> PromiseFuture<T> {
    /// The first poll of a promise still pending, or rejected: one reaction on it (which also
    /// marks a rejection handled), attached as soon as this poll returns. Out of line, so the
    /// fulfilled case stays small enough to inline into the `async fn` that awaits.
    #[inline(never)]
    fn subscribe(&mut self, cx: &mut Context<'_>) -> Poll<Settled<T>> {
        let AwaitStage::Start(promise) = std::mem::replace(&mut self.stage, AwaitStage::Done)
        else {
            unreachable!("subscribe is called from the first poll");
        };
        let slot = Rc::new(AwaitSlot {
            outcome: Cell::new(None),
            waiter: RefCell::new(Waiter::of(cx)),
        });
        let scope = scope().expect(
            "a Promise was awaited outside a task: await it inside lp.spawn or lp.block_on, on \
             the loop it belongs to",
        );
        let (on_value, on_error) = (slot.clone(), slot.clone());
        scope.tasks().push(Command::Call(
            "await",
            Box::new(move |lp: &mut EventLoop| {
                promise.then_or_else(
                    lp,
                    move |lp, value| react(lp, &on_value, Ok(value)),
                    move |lp, reason| react(lp, &on_error, Err(reason)),
                );
            }),
        ));
        self.stage = AwaitStage::Subscribed(slot);
        Poll::Pending
    }
}

impl<T: Clone + 'static> Future for PromiseFuture<T> {
    type Output = Settled<T>;

    // ANCHOR: promise_poll
    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Settled<T>> {
        match &mut self.stage {
            AwaitStage::Start(promise) => match promise.settled() {
                Some(Ok(value)) => {
                    // Fulfilled already: one hop, our own entry.
                    self.stage = AwaitStage::Hopping(Some(Ok(value)));
                    wake_own(cx);
                    Poll::Pending
                }
                // Pending or rejected: one reaction on it.
                _ => self.subscribe(cx),
            },
            AwaitStage::Hopping(outcome) => {
                let outcome = outcome.take().expect("the value waits for the hop");
                self.stage = AwaitStage::Done;
                Poll::Ready(outcome)
            }
            AwaitStage::Subscribed(slot) => match slot.outcome.take() {
                Some(outcome) => {
                    self.stage = AwaitStage::Done;
                    Poll::Ready(outcome)
                }
                None => {
                    *slot.waiter.borrow_mut() = Waiter::of(cx);
                    Poll::Pending
                }
            },
            AwaitStage::Done => panic!("a PromiseFuture was polled after it completed"),
        }
    }
    // ANCHOR_END: promise_poll
}

/// The reaction: it is the hop, so it polls the waiting task in place.
fn react<T>(lp: &mut EventLoop, slot: &AwaitSlot<T>, outcome: Settled<T>) {
    slot.outcome.set(Some(outcome));
    std::mem::take(&mut *slot.waiter.borrow_mut()).resume(lp);
}
