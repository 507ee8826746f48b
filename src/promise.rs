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
//! One deliberate difference: a handler that *panics* does not reject its promise, as a
//! JavaScript `throw` would. A panic is the program's uncaught error at the callback boundary
//! (chapter 6; an `uncaughtException` listener hears of it and the loop goes on), and the
//! promise the handler would have settled stays pending. A handler that can fail returns its
//! error instead — [`try_then`](Promise::try_then) takes a `Result`, and an `Err` rejects.
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

// ANCHOR: promise_state
enum State<T> {
    Pending(Vec<Reaction<T>>),
    Fulfilled(T),
    Rejected(Rejection),
}

/// What waits on a pending promise.
enum Reaction<T> {
    /// A `then` (or `catch`, `finally`…): the derived promise's node, which carries the
    /// handler and becomes the microtask.
    Derived(Rc<dyn Deliver<T>>),
    /// Any other callback (the combinators, adoption), boxed.
    Callback(Callback<T>),
}

type Callback<T> = Box<dyn React<T>>;

/// A callback waiting on a promise of `T`. A closure, but one whose box can also be seen as
/// [`Erased`], so that [`free`] can keep it without knowing `T`.
trait React<T>: Erased {
    fn call(self: Box<Self>, lp: &mut EventLoop, outcome: Settled<T>);
}

impl<T, F: FnOnce(&mut EventLoop, Settled<T>)> React<T> for F {
    fn call(self: Box<Self>, lp: &mut EventLoop, outcome: Settled<T>) {
        (*self)(lp, outcome)
    }
}

impl<T> Reaction<T> {
    /// The reaction with its types forgotten, to be freed later.
    fn freed(self) -> Freed {
        match self {
            Reaction::Derived(node) => Freed::Shared(node),
            Reaction::Callback(callback) => Freed::Owned(callback),
        }
    }
}

struct Inner<T> {
    state: State<T>,
    /// Resolved: a resolver was used. It may still be pending, locked in to another promise.
    resolved: bool,
    /// A reaction was ever attached (`[[PromiseIsHandled]]`). A plain flag: the loop's
    /// unhandled-rejection tracking reads it through the promise itself (see [`Handled`]).
    handled: bool,
}

/// A promise on the heap: its state, then the job that will settle it — the handler of the
/// `then` that made it, waiting for its input (`()` for every other promise). One allocation
/// holds the derived promise and its reaction, and the microtask queue takes that same
/// allocation as the job.
struct Node<T, J: ?Sized> {
    inner: RefCell<Inner<T>>,
    job: J,
}

/// A node, whatever job it carries.
type Shared<T> = Rc<Node<T, dyn Erased>>;

/// A JavaScript-style promise of a `T`. Clones are the same promise.
///
/// A promise made fulfilled ([`Promise::resolved`]) keeps its value inline until it is cloned:
/// nothing else can observe it, so it needs no heap node until then.
pub struct Promise<T>(RefCell<Repr<T>>);

enum Repr<T> {
    /// Fulfilled, and this is the only handle.
    Ready(T),
    Shared(Shared<T>),
}
// ANCHOR_END: promise_state

impl<T> Drop for Inner<T> {
    /// A pending promise hands what waits on it to [`free`], which frees a long chain one
    /// link at a time instead of by recursion.
    fn drop(&mut self) {
        if let State::Pending(reactions) = &mut self.state
            && !reactions.is_empty()
        {
            free(reactions.drain(..).map(Reaction::freed));
        }
    }
}

// ANCHOR: free
/// Something being freed, its types forgotten: a node, or a boxed callback or handler.
#[allow(dead_code, reason = "held only to be dropped")]
enum Freed {
    Shared(Rc<dyn Erased>),
    Owned(Box<dyn Erased>),
}

thread_local! {
    /// True while [`free`] runs on this thread.
    static FREEING: Cell<bool> = const { Cell::new(false) };
    /// What drops inside a running [`free`] handed back to it, to be dropped in its loop.
    static LATER: RefCell<Vec<Freed>> = const { RefCell::new(Vec::new()) };
}

/// Drops `items` without letting one drop run inside another. Rust frees an `Rc` graph by
/// recursion: a node's drop drops what waits on it, whose drop drops what waits on *it*, and a
/// chain of 100,000 pending promises — linked by `then`, by adoption, by a combinator, by a
/// handler that holds a promise — overflows the stack (a JavaScript engine's collector has no
/// such limit). So the first `free` on a thread becomes a loop, and every `free` that runs
/// inside one of its drops only hands its items back to that loop.
fn free(items: impl IntoIterator<Item = Freed>) {
    if FREEING.get() {
        // If the thread is exiting and `LATER` is gone, the closure and the items in it are
        // dropped here, by recursion: the one case left.
        let _ = LATER.try_with(|later| later.borrow_mut().extend(items));
        return;
    }
    /// Ends the loop even if a drop panics; what is left waits for the next `free`.
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            FREEING.set(false);
        }
    }
    FREEING.set(true);
    let _done = Done;
    let _ = LATER.try_with(|later| later.borrow_mut().extend(items));
    // Last in, first out, as the reactions were attached: the newest link goes first.
    while let Some(item) = LATER
        .try_with(|later| later.borrow_mut().pop())
        .ok()
        .flatten()
    {
        drop(item);
    }
}
// ANCHOR_END: free

/// Any type: lets a node's job be forgotten behind a pointer (`Node<T, dyn Erased>`), and
/// what is being freed be kept without its types ([`Freed`]).
trait Erased {}
impl<J: ?Sized> Erased for J {}

/// The job of a node made by `then`: the handler, and the outcome it will be called with.
struct Slot<S, F: 'static> {
    outcome: Cell<Option<Settled<S>>>,
    handler: Cell<Option<F>>,
}

impl<S, F: 'static> Drop for Slot<S, F> {
    /// A handler dropped before it ran may hold promises (its closure's captures): it is
    /// freed by [`free`] too.
    fn drop(&mut self) {
        if let Some(handler) = self.handler.get_mut().take() {
            free([Freed::Owned(Box::new(handler))]);
        }
    }
}

/// A reaction that runs from the microtask queue. The queue holds the node itself.
pub(crate) trait Job {
    /// Calls the handler with the outcome, then settles the node's promise with the result.
    fn run(self: Rc<Self>, lp: &mut EventLoop);
}

/// A node waiting for a promise of `S`: it stores the outcome and queues itself.
trait Deliver<S>: Erased {
    fn deliver(self: Rc<Self>, lp: &mut EventLoop, outcome: Settled<S>);
}

impl<S, U, F> Job for Node<U, Slot<S, F>>
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
            lp.keep_spare_reaction(self);
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

/// What the loop's unhandled-rejection tracking asks of a rejected promise, whatever its value
/// type: has a reaction been attached since? The loop keeps the promise until its next report,
/// so a promise that is never rejected costs nothing extra.
pub(crate) trait Handled {
    /// True once a reaction was attached.
    fn handled(&self) -> bool;
}

/// A rejected promise, as the loop's tracking holds it.
struct Tracked<T>(Shared<T>);

impl<T> Handled for Tracked<T> {
    fn handled(&self) -> bool {
        self.0.inner.borrow().handled
    }
}

impl<T> Inner<T> {
    fn pending() -> RefCell<Inner<T>> {
        RefCell::new(Inner {
            state: State::Pending(Vec::new()),
            resolved: false,
            handled: false,
        })
    }
}

fn pending_node<T: 'static>() -> Shared<T> {
    Rc::new(Node {
        inner: Inner::pending(),
        job: (),
    })
}

impl<T> Promise<T> {
    fn from_shared(shared: Shared<T>) -> Self {
        Promise(RefCell::new(Repr::Shared(shared)))
    }
}

/// Settles a promise made by `then` with what its handler decided.
fn resolve_step<T: Clone + 'static>(lp: &mut EventLoop, node: &Shared<T>, step: Step<T>) {
    if std::mem::replace(&mut node.inner.borrow_mut().resolved, true) {
        return; // only its own reaction resolves a derived promise; defensive
    }
    match step {
        Step::Value(v) => settle(lp, node, Ok(v)),
        Step::Adopt(p) => Promise::from_shared(node.clone()).adopt(lp, p),
        Step::Reject(r) => settle(lp, node, Err(r)),
    }
}

// ANCHOR: settle
/// Fulfils or rejects a promise, and queues one microtask per waiting reaction, in the order
/// they were attached (`TriggerPromiseReactions`). A second settlement is ignored.
fn settle<T: Clone + 'static>(lp: &mut EventLoop, node: &Shared<T>, outcome: Settled<T>) {
    let rejected = outcome.is_err();
    let reactions = {
        let mut inner = node.inner.borrow_mut();
        let State::Pending(reactions) = &mut inner.state else {
            return; // settled already: the first outcome stays
        };
        let reactions = std::mem::take(reactions);
        inner.state = match outcome {
            Ok(v) => State::Fulfilled(v),
            Err(r) => State::Rejected(r),
        };
        reactions
    };
    // Each reaction gets its own copy of the outcome; the promise keeps the original.
    for reaction in reactions {
        let outcome = match &node.inner.borrow().state {
            State::Fulfilled(v) => Ok(v.clone()),
            State::Rejected(r) => Err(r.clone()),
            State::Pending(_) => unreachable!("settled just above"),
        };
        match reaction {
            Reaction::Derived(next) => next.deliver(lp, outcome),
            Reaction::Callback(f) => lp.queue_job("promiseReaction", move |lp| f.call(lp, outcome)),
        }
    }
    // A rejection nothing handles yet is reported after the drain, unless handled by then
    // (`HostPromiseRejectionTracker`).
    if rejected {
        let inner = node.inner.borrow();
        if let (State::Rejected(reason), false) = (&inner.state, inner.handled) {
            let reason = reason.clone();
            drop(inner);
            lp.track_rejection(Rc::new(Tracked(node.clone())), reason);
        }
    }
}
// ANCHOR_END: settle

impl<T: 'static> Clone for Promise<T> {
    fn clone(&self) -> Self {
        Promise::from_shared(self.share())
    }
}

impl<T: 'static> Promise<T> {
    /// The promise's node, made now if the value was inline: from the first clone on, the
    /// value lives in a node every handle points to.
    fn share(&self) -> Shared<T> {
        let mut repr = self.0.borrow_mut();
        if let Repr::Ready(_) = &*repr {
            let node = pending_node();
            if let Repr::Ready(value) = std::mem::replace(&mut *repr, Repr::Shared(node.clone())) {
                let mut inner = node.inner.borrow_mut();
                inner.state = State::Fulfilled(value);
                inner.resolved = true;
            }
        }
        match &*repr {
            Repr::Shared(shared) => shared.clone(),
            Repr::Ready(_) => unreachable!("shared just above"),
        }
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.0.borrow() {
            Repr::Ready(_) => "fulfilled",
            Repr::Shared(shared) => match shared.inner.borrow().state {
                State::Pending(_) => "pending",
                State::Fulfilled(_) => "fulfilled",
                State::Rejected(_) => "rejected",
            },
        };
        write!(f, "Promise {{ <{state}> }}")
    }
}

/// Settles a promise: JavaScript's `resolve` and `reject` functions. Clones share the promise;
/// only the first call of any of them counts.
pub struct Resolver<T> {
    promise: Promise<T>,
}

impl<T: 'static> Clone for Resolver<T> {
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
    /// A pending promise and the resolver that settles it.
    pub fn pending() -> (Promise<T>, Resolver<T>) {
        let node = pending_node();
        let resolver = Resolver {
            promise: Promise::from_shared(node.clone()),
        };
        (Promise::from_shared(node), resolver)
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
    /// It allocates nothing until it is cloned.
    pub fn resolved(value: T) -> Promise<T> {
        Promise(RefCell::new(Repr::Ready(value)))
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
        match (&*self.0.borrow(), &*other.0.borrow()) {
            (Repr::Shared(a), Repr::Shared(b)) => Rc::ptr_eq(a, b),
            // A promise with its value inline has no other handle.
            _ => std::ptr::eq(self, other),
        }
    }

    /// The value or reason, once settled.
    pub fn settled(&self) -> Option<Settled<T>> {
        match &*self.0.borrow() {
            Repr::Ready(v) => Some(Ok(v.clone())),
            Repr::Shared(shared) => match &shared.inner.borrow().state {
                State::Pending(_) => None,
                State::Fulfilled(v) => Some(Ok(v.clone())),
                State::Rejected(r) => Some(Err(r.clone())),
            },
        }
    }

    /// True while neither fulfilled nor rejected.
    pub fn is_pending(&self) -> bool {
        match &*self.0.borrow() {
            Repr::Ready(_) => false,
            Repr::Shared(shared) => matches!(shared.inner.borrow().state, State::Pending(_)),
        }
    }

    /// Marks the promise resolved; false if it already was (the resolver is spent).
    fn lock_in(&self) -> bool {
        match &*self.0.borrow() {
            Repr::Ready(_) => false,
            Repr::Shared(shared) => {
                !std::mem::replace(&mut shared.inner.borrow_mut().resolved, true)
            }
        }
    }

    /// Fulfils or rejects, and queues one microtask per waiting reaction.
    fn settle(&self, lp: &mut EventLoop, outcome: Settled<T>) {
        settle(lp, &self.share(), outcome);
    }

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

    /// Attaches `waiter` (`PerformPromiseThen`): if the promise is pending, it joins the
    /// reactions (made one by `into`) and `None` comes back; if it is settled, the waiter
    /// comes back with the outcome, for the caller to queue. Either way the promise counts as
    /// handled from now on.
    fn subscribe<W>(
        &self,
        waiter: W,
        into: impl FnOnce(W) -> Reaction<T>,
    ) -> Option<(W, Settled<T>)> {
        let repr = self.0.borrow();
        let shared = match &*repr {
            Repr::Ready(v) => return Some((waiter, Ok(v.clone()))),
            Repr::Shared(shared) => shared,
        };
        let mut inner = shared.inner.borrow_mut();
        inner.handled = true;
        let outcome = match &mut inner.state {
            State::Pending(reactions) => {
                reactions.push(into(waiter));
                return None;
            }
            State::Fulfilled(v) => Ok(v.clone()),
            State::Rejected(r) => Err(r.clone()),
        };
        Some((waiter, outcome))
    }

    // ANCHOR: react
    /// Attaches a raw reaction (`PerformPromiseThen`): queued at once if settled, else when
    /// the promise settles.
    fn react(
        &self,
        lp: &mut EventLoop,
        reaction: impl FnOnce(&mut EventLoop, Settled<T>) + 'static,
    ) {
        let boxed = |r| Reaction::Callback(Box::new(r) as Callback<T>);
        if let Some((reaction, outcome)) = self.subscribe(reaction, boxed) {
            lp.queue_job("promiseReaction", move |lp| reaction(lp, outcome));
        }
    }
    // ANCHOR_END: react

    // ANCHOR: chain
    /// Attaches a reaction that settles a new promise with what `handler` makes of the
    /// outcome; the common shape of every method below. The new promise's node carries the
    /// handler, and is itself what the microtask queue runs: one allocation for both.
    fn chain<U: Clone + 'static>(
        &self,
        lp: &mut EventLoop,
        handler: impl FnOnce(&mut EventLoop, Settled<T>) -> Step<U> + 'static,
    ) -> Promise<U> {
        let node = match lp.take_spare_reaction::<Node<U, Slot<T, _>>>() {
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
