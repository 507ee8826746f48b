//! `then` and its relatives, and adoption. Every method here goes through `chain`: a new
//! promise whose node carries the handler and is itself the microtask that runs it. A handler
//! decides a [`Step`] for that promise — a value, a rejection, or another promise to follow
//! (`adopt`, two microtasks more).

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;

use super::node::{Deliver, Inner, Node, Promise, Reaction, Shared, State, settle};
use super::{Rejection, Settled};
use crate::event_loop::EventLoop;
use crate::microtasks::SharedJob;

/// The job of a node made by `then`: the handler, and the outcome it will be called with.
pub(super) struct Slot<S, F: 'static> {
    pub(super) outcome: Cell<Option<Settled<S>>>,
    pub(super) handler: Cell<Option<F>>,
}

/// What a reaction's handler decided for the derived promise.
pub(super) enum Step<U> {
    Value(U),
    Adopt(Promise<U>),
    Reject(Rejection),
}

impl<S, U, F> SharedJob<EventLoop> for Node<U, Slot<S, F>>
where
    S: 'static,
    U: Clone + 'static,
    F: FnOnce(&mut EventLoop, Settled<S>) -> Step<U> + 'static,
{
    fn run(self: Rc<Self>, lp: &mut EventLoop) {
        let (Some(outcome), Some(handler)) = (self.job.outcome.take(), self.job.handler.take())
        else {
            return;
        };
        let step = handler(lp, outcome);
        // Fulfilling a promise that no handle and no reaction can reach changes nothing anyone
        // could see (a fire-and-forget `then`): skip it. A rejection still settles, because
        // an unhandled one is reported.
        if let Step::Value(_) = step
            && Rc::strong_count(&self) == 1
            && matches!(&self.inner.borrow().state, State::Pending(r) if r.is_empty())
        {
            // The node is as `chain` made it, handler gone: the next `then` of the same
            // type takes it instead of allocating (a loop or a chain makes many).
            keep_spare(self);
            return;
        }
        let derived: Shared<U> = self;
        resolve_step(lp, &derived, step);
    }
}

impl<S, U, F> Deliver<S> for Node<U, Slot<S, F>>
where
    S: 'static,
    U: Clone + 'static,
    F: FnOnce(&mut EventLoop, Settled<S>) -> Step<U> + 'static,
{
    fn deliver(self: Rc<Self>, lp: &mut EventLoop, outcome: Settled<S>) {
        self.job.outcome.set(Some(outcome));
        lp.queue_reaction(self);
    }
}

thread_local! {
    /// The node of the last reaction that finished unobserved, kept until the next `then` of
    /// the same types takes it instead of allocating. A spent node belongs to no loop: it is
    /// memory waiting for reuse, kept per thread as an allocator keeps a freed block. (In the
    /// loop's typed state slots it would cost two lookups per `then`: half again the
    /// instructions of a chain of `then`s, compare-node's W4.)
    static SPARE: Cell<Option<Rc<dyn Any>>> = const { Cell::new(None) };
}

/// Keeps a spent reaction node for reuse; it replaces (and frees) an older one.
#[inline]
fn keep_spare(node: Rc<dyn Any>) {
    // While the thread exits the slot may be gone: the node is then simply freed.
    let _ = SPARE.try_with(|spare| spare.set(Some(node)));
}

/// The spare reaction node, if it is an `N`.
#[inline]
fn take_spare<N: 'static>() -> Option<Rc<N>> {
    SPARE
        .try_with(|spare| match spare.take()?.downcast::<N>() {
            Ok(node) => Some(node),
            Err(other) => {
                spare.set(Some(other));
                None
            }
        })
        .ok()
        .flatten()
}

// ANCHOR: resolve_step_solution
/// Settles a promise made by `then` with what its handler decided.
fn resolve_step<T: Clone + 'static>(lp: &mut EventLoop, node: &Shared<T>, step: Step<T>) {
    // exercise: resolve a promise made by then with what its handler decided
    // contract: The derived promise is resolved, once, by `step`: a value fulfils it and a
    // contract: rejection rejects it, both at once (its reactions are queued); a promise makes it
    // contract: follow that one (adoption: it settles two microtasks after the other does). If it
    // contract: was resolved already, nothing changes.
    // contract: Example: a handler that returns a promise fulfilled with 1: when this returns, the
    // contract: derived promise is still pending; two microtasks later it is fulfilled with 1.
    // nudge: Three cases. Which one must not settle the promise now? And what stops a second
    // nudge: resolution?
    // hint: Mark the node resolved (node.inner.borrow_mut().resolved, with std::mem::replace) and
    // hint: return if it already was. Then Step::Value(v) is settle(lp, node, Ok(v)),
    // hint: Step::Reject(r) is settle(lp, node, Err(r)), and Step::Adopt(p) is
    // hint: Promise::from_shared(node.clone()).adopt(lp, p).
    if std::mem::replace(&mut node.inner.borrow_mut().resolved, true) {
        return; // only its own reaction resolves a derived promise; defensive
    }
    match step {
        Step::Value(v) => settle(lp, node, Ok(v)),
        Step::Adopt(p) => Promise::from_shared(node.clone()).adopt(lp, p),
        Step::Reject(r) => settle(lp, node, Err(r)),
    }
    // end exercise
}
// ANCHOR_END: resolve_step_solution

impl<T: Clone + 'static> Promise<T> {
    // ANCHOR: chain
    /// Attaches a reaction that settles a new promise with what `handler` makes of the
    /// outcome; the common shape of every method below. The new promise's node carries the
    /// handler, and is itself what the microtask queue runs: one allocation for both.
    pub(super) fn chain<U: Clone + 'static>(
        &self,
        lp: &mut EventLoop,
        handler: impl FnOnce(&mut EventLoop, Settled<T>) -> Step<U> + 'static,
    ) -> Promise<U> {
        let node = match take_spare::<Node<U, Slot<T, _>>>() {
            Some(spare) => {
                spare.job.handler.set(Some(handler));
                spare
            }
            None => Rc::new(Node {
                inner: Inner::pending(),
                job: Slot {
                    outcome: Cell::new(None),
                    handler: Cell::new(Some(handler)),
                },
            }),
        };
        if let Some((node, outcome)) = self.subscribe(node.clone(), |n| Reaction::Derived(n)) {
            node.job.outcome.set(Some(outcome));
            lp.queue_reaction(node);
        }
        Promise::from_shared(node)
    }
    // ANCHOR_END: chain

    /// `promise.then(onFulfilled)`: a new promise of what `on_fulfilled` returns. A rejection
    /// passes through to the new promise.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let doubled = Promise::resolved(21).then(&mut lp, |_, n| n * 2);
    /// assert!(doubled.is_pending()); // reactions run as microtasks, never at once
    /// lp.run(RunMode::Default);
    /// assert_eq!(doubled.settled().unwrap().unwrap(), 42);
    /// ```
    pub fn then<U: Clone + 'static>(
        &self,
        lp: &mut EventLoop,
        on_fulfilled: impl FnOnce(&mut EventLoop, T) -> U + 'static,
    ) -> Promise<U> {
        self.chain(lp, move |lp, outcome| match outcome {
            Ok(v) => Step::Value(on_fulfilled(lp, v)),
            Err(r) => Step::Reject(r),
        })
    }

    /// `then` with a handler that may fail (`throw`): an `Err` rejects the new promise.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let parsed = Promise::resolved("x1").try_then(&mut lp, |_, s| {
    ///     s.parse::<u32>().map_err(|e| Rejection::new(e.to_string()))
    /// });
    /// let handled = parsed.catch(&mut lp, |_, _| 0); // a `throw`, caught
    /// lp.run(RunMode::Default);
    /// assert_eq!(handled.settled().unwrap().unwrap(), 0);
    /// ```
    pub fn try_then<U: Clone + 'static>(
        &self,
        lp: &mut EventLoop,
        on_fulfilled: impl FnOnce(&mut EventLoop, T) -> Result<U, Rejection> + 'static,
    ) -> Promise<U> {
        self.chain(lp, move |lp, outcome| {
            match outcome.and_then(|v| on_fulfilled(lp, v)) {
                Ok(v) => Step::Value(v),
                Err(r) => Step::Reject(r),
            }
        })
    }

    /// `then` with a handler that returns a promise: the new promise follows it, which costs
    /// two extra microtasks (JavaScript's thenable adoption).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (inner, resolver) = Promise::pending();
    /// let outer = Promise::resolved(()).and_then(&mut lp, move |_, ()| inner);
    /// resolver.resolve(&mut lp, "later");
    /// lp.run(RunMode::Default);
    /// assert_eq!(outer.settled().unwrap().unwrap(), "later");
    /// ```
    pub fn and_then<U: Clone + 'static>(
        &self,
        lp: &mut EventLoop,
        on_fulfilled: impl FnOnce(&mut EventLoop, T) -> Promise<U> + 'static,
    ) -> Promise<U> {
        self.chain(lp, move |lp, outcome| match outcome {
            Ok(v) => Step::Adopt(on_fulfilled(lp, v)),
            Err(r) => Step::Reject(r),
        })
    }

    /// `promise.then(onFulfilled, onRejected)`: both outcomes handled by one reaction.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let failed = Promise::<u8>::rejected(&mut lp, Rejection::new("no"));
    /// let text = failed.then_or_else(&mut lp, |_, n| n.to_string(), |_, r| r.to_string());
    /// lp.run(RunMode::Default);
    /// assert_eq!(text.settled().unwrap().unwrap(), "no");
    /// ```
    pub fn then_or_else<U: Clone + 'static>(
        &self,
        lp: &mut EventLoop,
        on_fulfilled: impl FnOnce(&mut EventLoop, T) -> U + 'static,
        on_rejected: impl FnOnce(&mut EventLoop, Rejection) -> U + 'static,
    ) -> Promise<U> {
        self.chain(lp, move |lp, outcome| {
            Step::Value(match outcome {
                Ok(v) => on_fulfilled(lp, v),
                Err(r) => on_rejected(lp, r),
            })
        })
    }

    /// `promise.catch(onRejected)`: a new promise fulfilled with the value, or with what
    /// `on_rejected` makes of the reason.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let failed = Promise::<i32>::rejected(&mut lp, Rejection::new("bad"));
    /// let recovered = failed.catch(&mut lp, |_, reason| reason.to_string().len() as i32);
    /// lp.run(RunMode::Default); // handled: no unhandled rejection
    /// assert_eq!(recovered.settled().unwrap().unwrap(), 3);
    /// ```
    pub fn catch(
        &self,
        lp: &mut EventLoop,
        on_rejected: impl FnOnce(&mut EventLoop, Rejection) -> T + 'static,
    ) -> Promise<T> {
        self.chain(lp, move |lp, outcome| match outcome {
            Ok(v) => Step::Value(v),
            Err(r) => Step::Value(on_rejected(lp, r)),
        })
    }

    // ANCHOR: adopt_solution
    /// Resolves this promise with `other` (`NewPromiseResolveThenableJob`): one microtask to
    /// subscribe to `other`, then `other`'s reaction settles this one.
    pub(super) fn adopt(&self, lp: &mut EventLoop, other: Promise<T>) {
        // exercise: adopt another promise, two microtasks after it settles
        // contract: This promise will settle as `other` does, two microtasks after `other` settles
        // contract: (two microtasks from now if it has already): one job subscribes to `other`
        // contract: (NewPromiseResolveThenableJob), then `other`'s reaction settles this one. A
        // contract: promise resolved with itself is rejected at once with "TypeError: Chaining
        // contract: cycle detected for promise #<Promise>".
        // contract: Example: resolved with an already fulfilled promise, it settles in the second
        // contract: microtask from now: after the 2nd then of a plain chain started now, before its
        // contract: 3rd.
        // nudge: How many microtasks does JavaScript spend on adoption, and what does each one do?
        // nudge: What if `other` is this very promise?
        // hint: If self.ptr_eq(&other), settle with Err(Rejection::new("TypeError: Chaining cycle
        // hint: detected for promise #<Promise>")) and return. Otherwise queue one job
        // hint: (lp.queue_job("PromiseResolveThenableJob", ...)) that calls other.react(lp, ...)
        // hint: with a reaction that settles this promise with the outcome (this.settle(lp,
        // hint: outcome)).
        if self.ptr_eq(&other) {
            let cycle = Rejection::new("TypeError: Chaining cycle detected for promise #<Promise>");
            self.settle(lp, Err(cycle));
            return;
        }
        let this = self.clone();
        lp.queue_job("PromiseResolveThenableJob", move |lp| {
            other.react(lp, move |lp, outcome| this.settle(lp, outcome));
        });
        // end exercise
    }
    // ANCHOR_END: adopt_solution
}
