//! JavaScript promises on the loop, taking exactly JavaScript's microtask hops.
//!
//! A [`Promise`] is pending, then fulfilled with a value or rejected with a [`Rejection`].
//! Callbacks attached with [`then`](Promise::then) and friends are *reactions*: when the promise
//! settles — or at once, if it already has — each reaction is queued as a microtask, in one
//! FIFO with [`EventLoop::queue_microtask`]. The hop counts are the ones V8 takes, because
//! puzzles depend on them:
//!
//! - a reaction on a settled promise costs one microtask;
//! - resolving a promise *with another promise* (a handler that returns one, or
//!   [`Resolver::resolve_with`]) costs two more: a job that subscribes to the inner promise
//!   (`NewPromiseResolveThenableJob`), then the inner promise's reaction;
//! - [`Promise::resolve`] of a promise returns that promise itself;
//! - `await p` is one reaction on `p` (Node ≥ 12): model it with `then`, not with adoption.
//!
//! ```
//! use eventloop::clock::ManualClock;
//! use eventloop::event_loop::EventLoop;
//! use eventloop::promise::Promise;
//! use std::{cell::RefCell, rc::Rc};
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let mut lp = EventLoop::with_clock(ManualClock::new());
//! let l = log.clone();
//! lp.run_main(move |lp| {
//!     let l2 = l.clone();
//!     Promise::resolved(20)
//!         .then(lp, |_, n| n + 1)
//!         .then(lp, move |_, n| l2.borrow_mut().push(format!("got {}", n * 2)));
//!     l.borrow_mut().push("sync".to_string());
//! })
//! .unwrap();
//! assert_eq!(*log.borrow(), ["sync", "got 42"]);
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use crate::event_loop::EventLoop;
pub use crate::microtasks::Rejection;

/// How a promise settled.
pub type Settled<T> = Result<T, Rejection>;

type Reaction<T> = Box<dyn FnOnce(&mut EventLoop, Settled<T>)>;

// ANCHOR: promise_state
enum State<T> {
    Pending(Vec<Reaction<T>>),
    Fulfilled(T),
    Rejected(Rejection),
}

struct Inner<T> {
    state: State<T>,
    /// Resolved: a resolver was used. It may still be pending, locked in to another promise.
    resolved: bool,
    /// A reaction was ever attached (`[[PromiseIsHandled]]`). A plain flag: the loop's
    /// unhandled-rejection tracking reads it through the promise itself (see [`Handled`]).
    handled: bool,
}

/// A JavaScript-style promise of a `T`. Clones are the same promise.
pub struct Promise<T>(Rc<RefCell<Inner<T>>>);
// ANCHOR_END: promise_state

/// What the loop's unhandled-rejection tracking asks of a rejected promise, whatever its value
/// type: has a reaction been attached since? The loop keeps the promise as an `Rc<dyn Handled>`
/// until its next report, so a promise that is never rejected costs nothing extra.
pub(crate) trait Handled {
    /// True once a reaction was attached.
    fn handled(&self) -> bool;
}

impl<T> Handled for RefCell<Inner<T>> {
    fn handled(&self) -> bool {
        self.borrow().handled
    }
}

impl<T> Clone for Promise<T> {
    fn clone(&self) -> Self {
        Promise(self.0.clone())
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.0.borrow().state {
            State::Pending(_) => "pending",
            State::Fulfilled(_) => "fulfilled",
            State::Rejected(_) => "rejected",
        };
        write!(f, "Promise {{ <{state}> }}")
    }
}

/// Settles a promise: JavaScript's `resolve` and `reject` functions. Clones share the promise;
/// only the first call of any of them counts.
pub struct Resolver<T> {
    promise: Promise<T>,
}

impl<T> Clone for Resolver<T> {
    fn clone(&self) -> Self {
        Resolver {
            promise: self.promise.clone(),
        }
    }
}

impl<T> fmt::Debug for Resolver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("promise", &self.promise)
            .finish()
    }
}

impl<T: Clone + 'static> Resolver<T> {
    /// Fulfils the promise with `value` (`resolve(value)`).
    pub fn resolve(&self, lp: &mut EventLoop, value: T) {
        if self.promise.lock_in() {
            self.promise.settle(lp, Ok(value));
        }
    }

    /// Resolves the promise with another promise (`resolve(otherPromise)`): it will settle as
    /// `other` does, two microtasks after `other` settles.
    pub fn resolve_with(&self, lp: &mut EventLoop, other: Promise<T>) {
        if self.promise.lock_in() {
            self.promise.adopt(lp, other);
        }
    }

    /// Rejects the promise (`reject(reason)`).
    pub fn reject(&self, lp: &mut EventLoop, reason: impl Into<Rejection>) {
        if self.promise.lock_in() {
            self.promise.settle(lp, Err(reason.into()));
        }
    }

    /// The promise this resolver settles.
    pub fn promise(&self) -> &Promise<T> {
        &self.promise
    }
}

impl<T: Clone + 'static> Promise<T> {
    fn with_state(state: State<T>) -> Self {
        Promise(Rc::new(RefCell::new(Inner {
            resolved: !matches!(state, State::Pending(_)),
            state,
            handled: false,
        })))
    }

    /// A pending promise and the resolver that settles it.
    pub fn pending() -> (Promise<T>, Resolver<T>) {
        let promise = Self::with_state(State::Pending(Vec::new()));
        let resolver = Resolver {
            promise: promise.clone(),
        };
        (promise, resolver)
    }

    /// `new Promise(executor)`: runs `executor` at once with the resolver. A promise whose
    /// executor fails is rejected.
    pub fn new(
        lp: &mut EventLoop,
        executor: impl FnOnce(&mut EventLoop, Resolver<T>) -> Result<(), Rejection>,
    ) -> Promise<T> {
        let (promise, resolver) = Self::pending();
        if let Err(reason) = executor(lp, resolver.clone()) {
            resolver.reject(lp, reason);
        }
        promise
    }

    /// A promise already fulfilled with `value` (`Promise.resolve(value)` for a non-promise).
    pub fn resolved(value: T) -> Promise<T> {
        Self::with_state(State::Fulfilled(value))
    }

    /// `Promise.resolve(promise)`: a native promise is returned as it is — the same promise,
    /// not a new one that follows it.
    pub fn resolve(promise: Promise<T>) -> Promise<T> {
        promise
    }

    /// A promise already rejected (`Promise.reject(reason)`). If nothing ever handles it, the
    /// loop reports it as an unhandled rejection.
    pub fn rejected(lp: &mut EventLoop, reason: impl Into<Rejection>) -> Promise<T> {
        let (promise, resolver) = Self::pending();
        resolver.reject(lp, reason);
        promise
    }

    /// True when both are the same promise (`===`).
    pub fn ptr_eq(&self, other: &Promise<T>) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// The value or reason, once settled.
    pub fn settled(&self) -> Option<Settled<T>> {
        match &self.0.borrow().state {
            State::Pending(_) => None,
            State::Fulfilled(v) => Some(Ok(v.clone())),
            State::Rejected(r) => Some(Err(r.clone())),
        }
    }

    /// True while neither fulfilled nor rejected.
    pub fn is_pending(&self) -> bool {
        matches!(self.0.borrow().state, State::Pending(_))
    }

    /// Marks the promise resolved; false if it already was (the resolver is spent).
    fn lock_in(&self) -> bool {
        !std::mem::replace(&mut self.0.borrow_mut().resolved, true)
    }

    // ANCHOR: settle
    /// Fulfils or rejects, and queues one microtask per waiting reaction, in the order they
    /// were attached (`TriggerPromiseReactions`).
    fn settle(&self, lp: &mut EventLoop, outcome: Settled<T>) {
        let settled = match outcome {
            Ok(v) => State::Fulfilled(v),
            Err(r) => State::Rejected(r),
        };
        let reactions = {
            let mut inner = self.0.borrow_mut();
            match std::mem::replace(&mut inner.state, settled) {
                State::Pending(reactions) => reactions,
                first => {
                    inner.state = first; // settled already: keep the first outcome
                    return;
                }
            }
        };
        // Each reaction gets its own copy of the outcome; the promise keeps the original.
        for reaction in reactions {
            let outcome = self.settled().expect("settled just above");
            lp.queue_job("promiseReaction", move |lp| reaction(lp, outcome));
        }
        // A rejection nothing handles yet is reported after the drain, unless handled by then
        // (`HostPromiseRejectionTracker`).
        let inner = self.0.borrow();
        if let (State::Rejected(reason), false) = (&inner.state, inner.handled) {
            let reason = reason.clone();
            drop(inner);
            lp.track_rejection(self.0.clone(), reason);
        }
    }
    // ANCHOR_END: settle

    // ANCHOR: adopt
    /// Resolves this promise with `other` (`NewPromiseResolveThenableJob`): one microtask to
    /// subscribe to `other`, then `other`'s reaction settles this one.
    fn adopt(&self, lp: &mut EventLoop, other: Promise<T>) {
        if self.ptr_eq(&other) {
            let cycle = Rejection::new("TypeError: Chaining cycle detected for promise #<Promise>");
            self.settle(lp, Err(cycle));
            return;
        }
        let this = self.clone();
        lp.queue_job("PromiseResolveThenableJob", move |lp| {
            other.react(lp, move |lp, outcome| this.settle(lp, outcome));
        });
    }
    // ANCHOR_END: adopt

    // ANCHOR: react
    /// Attaches a raw reaction (`PerformPromiseThen`): queued at once if settled, else when
    /// the promise settles.
    fn react(
        &self,
        lp: &mut EventLoop,
        reaction: impl FnOnce(&mut EventLoop, Settled<T>) + 'static,
    ) {
        let mut inner = self.0.borrow_mut();
        inner.handled = true;
        let outcome = match &mut inner.state {
            State::Pending(reactions) => {
                reactions.push(Box::new(reaction));
                return;
            }
            State::Fulfilled(v) => Ok(v.clone()),
            State::Rejected(r) => Err(r.clone()),
        };
        drop(inner);
        lp.queue_job("promiseReaction", move |lp| reaction(lp, outcome));
    }
    // ANCHOR_END: react

    /// Attaches a reaction that settles a new promise with what `handler` makes of the
    /// outcome; the common shape of every method below.
    fn chain<U: Clone + 'static>(
        &self,
        lp: &mut EventLoop,
        handler: impl FnOnce(&mut EventLoop, Settled<T>) -> Step<U> + 'static,
    ) -> Promise<U> {
        let (derived, resolver) = Promise::pending();
        self.react(lp, move |lp, outcome| match handler(lp, outcome) {
            Step::Value(v) => resolver.resolve(lp, v),
            Step::Adopt(p) => resolver.resolve_with(lp, p),
            Step::Reject(r) => resolver.reject(lp, r),
        });
        derived
    }

    /// `promise.then(onFulfilled)`: a new promise of what `on_fulfilled` returns. A rejection
    /// passes through to the new promise.
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

    // ANCHOR: finally
    /// `promise.finally(onFinally)`: runs `on_finally` either way, then settles the new promise
    /// as this one settled. As in the specification, the handler's result goes through a
    /// resolved promise and a `then`, so `finally` costs more hops than `then`.
    pub fn finally(
        &self,
        lp: &mut EventLoop,
        on_finally: impl FnOnce(&mut EventLoop) + 'static,
    ) -> Promise<T> {
        self.chain(lp, move |lp, outcome| {
            on_finally(lp);
            let after = Promise::resolved(()).chain(lp, move |_, _| match outcome {
                Ok(v) => Step::Value(v),
                Err(r) => Step::Reject(r),
            });
            Step::Adopt(after)
        })
    }
    // ANCHOR_END: finally

    // ANCHOR: all
    /// `Promise.all`: fulfilled with every value, in order, once all are; rejected with the
    /// first rejection. An empty list fulfils at once.
    pub fn all(lp: &mut EventLoop, promises: Vec<Promise<T>>) -> Promise<Vec<T>> {
        let (all, resolver) = Promise::pending();
        let count = promises.len();
        if count == 0 {
            resolver.resolve(lp, Vec::new());
            return all;
        }
        let values = Rc::new(RefCell::new(vec![None; count]));
        let remaining = Rc::new(Cell::new(count));
        for (i, promise) in promises.into_iter().enumerate() {
            let (values, remaining, resolver) =
                (values.clone(), remaining.clone(), resolver.clone());
            Promise::resolve(promise).react(lp, move |lp, outcome| match outcome {
                Ok(v) => {
                    values.borrow_mut()[i] = Some(v);
                    remaining.set(remaining.get() - 1);
                    if remaining.get() == 0 {
                        let values = values.take().into_iter().map(|v| v.expect("all fulfilled"));
                        resolver.resolve(lp, values.collect());
                    }
                }
                Err(r) => resolver.reject(lp, r),
            });
        }
        all
    }
    // ANCHOR_END: all

    /// `Promise.allSettled`: fulfilled with every outcome, in order, once all settled.
    pub fn all_settled(lp: &mut EventLoop, promises: Vec<Promise<T>>) -> Promise<Vec<Settled<T>>> {
        let (all, resolver) = Promise::pending();
        let count = promises.len();
        if count == 0 {
            resolver.resolve(lp, Vec::new());
            return all;
        }
        let outcomes = Rc::new(RefCell::new(vec![None; count]));
        let remaining = Rc::new(Cell::new(count));
        for (i, promise) in promises.into_iter().enumerate() {
            let (outcomes, remaining, resolver) =
                (outcomes.clone(), remaining.clone(), resolver.clone());
            promise.react(lp, move |lp, outcome| {
                outcomes.borrow_mut()[i] = Some(outcome);
                remaining.set(remaining.get() - 1);
                if remaining.get() == 0 {
                    let all = outcomes.take().into_iter().map(|o| o.expect("all settled"));
                    resolver.resolve(lp, all.collect());
                }
            });
        }
        all
    }

    /// `Promise.race`: settles as the first of `promises` to settle. An empty list never
    /// settles.
    pub fn race(lp: &mut EventLoop, promises: Vec<Promise<T>>) -> Promise<T> {
        let (race, resolver) = Promise::pending();
        for promise in promises {
            let resolver = resolver.clone();
            promise.react(lp, move |lp, outcome| match outcome {
                Ok(v) => resolver.resolve(lp, v),
                Err(r) => resolver.reject(lp, r),
            });
        }
        race
    }

    /// `Promise.any`: fulfilled with the first value; rejected with an `AggregateError` when
    /// every promise rejects (at once for an empty list).
    pub fn any(lp: &mut EventLoop, promises: Vec<Promise<T>>) -> Promise<T> {
        let (any, resolver) = Promise::pending();
        let remaining = Rc::new(Cell::new(promises.len()));
        if promises.is_empty() {
            resolver.reject(
                lp,
                Rejection::new("AggregateError: All promises were rejected"),
            );
            return any;
        }
        for promise in promises {
            let (remaining, resolver) = (remaining.clone(), resolver.clone());
            promise.react(lp, move |lp, outcome| match outcome {
                Ok(v) => resolver.resolve(lp, v),
                Err(_) => {
                    remaining.set(remaining.get() - 1);
                    if remaining.get() == 0 {
                        resolver.reject(
                            lp,
                            Rejection::new("AggregateError: All promises were rejected"),
                        );
                    }
                }
            });
        }
        any
    }
}

/// What a reaction's handler decided for the derived promise.
enum Step<U> {
    Value(U),
    Adopt(Promise<U>),
    Reject(Rejection),
}
