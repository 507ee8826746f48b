//! What a promise is: its state, the heap node that holds it, and how it settles. A pending
//! promise keeps the reactions that wait on it; `settle` fixes its outcome and queues one
//! microtask per reaction, and `subscribe` attaches a reaction, or hands it back with the
//! outcome if the promise has settled already.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::{Rejection, Settled};
use crate::event_loop::EventLoop;
use crate::microtasks::Handled;

// ANCHOR: promise_state
pub(super) enum State<T> {
    Pending(Vec<Reaction<T>>),
    Fulfilled(T),
    Rejected(Rejection),
}

/// What waits on a pending promise.
pub(super) enum Reaction<T> {
    /// A `then` (or `catch`, `finally`…): the derived promise's node, which carries the
    /// handler and becomes the microtask.
    Derived(Rc<dyn Deliver<T>>),
    /// Any other callback (the combinators, adoption), boxed.
    Callback(Callback<T>),
}

pub(super) type Callback<T> = Box<dyn React<T>>;

/// A callback waiting on a promise of `T`. A closure, but one whose box can also be seen as
/// [`Erased`], so that `free` can keep it without knowing `T`.
pub(super) trait React<T>: Erased {
    fn call(self: Box<Self>, lp: &mut EventLoop, outcome: Settled<T>);
}

impl<T, F: FnOnce(&mut EventLoop, Settled<T>)> React<T> for F {
    fn call(self: Box<Self>, lp: &mut EventLoop, outcome: Settled<T>) {
        (*self)(lp, outcome)
    }
}

pub(super) struct Inner<T> {
    pub(super) state: State<T>,
    /// Resolved: a resolver was used. It may still be pending, locked in to another promise.
    pub(super) resolved: bool,
    /// A reaction was ever attached (`[[PromiseIsHandled]]`). A plain flag: the loop's
    /// unhandled-rejection tracking reads it through the promise itself (see [`Handled`]).
    pub(super) handled: bool,
}

/// A promise on the heap: its state, then the job that will settle it — the handler of the
/// `then` that made it, waiting for its input (`()` for every other promise). One allocation
/// holds the derived promise and its reaction, and the microtask queue takes that same
/// allocation as the job.
pub(super) struct Node<T, J: ?Sized> {
    pub(super) inner: RefCell<Inner<T>>,
    pub(super) job: J,
}

/// A node, whatever job it carries.
pub(super) type Shared<T> = Rc<Node<T, dyn Erased>>;

/// A JavaScript-style promise of a `T`. Clones are the same promise.
///
/// A promise made fulfilled ([`Promise::resolved`]) keeps its value inline until it is cloned:
/// nothing else can observe it, so it needs no heap node until then.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let (p, resolver) = Promise::pending();
/// let same = p.clone();
/// lp.set_timeout(move |lp| resolver.resolve(lp, "done"), 10);
/// lp.run(RunMode::Default);
/// assert!(same.ptr_eq(&p) && same.settled().unwrap().unwrap() == "done");
/// ```
pub struct Promise<T>(pub(super) RefCell<Repr<T>>);

pub(super) enum Repr<T> {
    /// Fulfilled, and this is the only handle.
    Ready(T),
    Shared(Shared<T>),
}
// ANCHOR_END: promise_state

/// Any type: lets a node's job be forgotten behind a pointer (`Node<T, dyn Erased>`), and
/// what is being freed be kept without its types (`free::Freed`).
pub(super) trait Erased {}
impl<J: ?Sized> Erased for J {}

/// A node waiting for a promise of `S`: it stores the outcome and queues itself.
pub(super) trait Deliver<S>: Erased {
    fn deliver(self: Rc<Self>, lp: &mut EventLoop, outcome: Settled<S>);
}

/// A rejected promise, as the loop's tracking holds it.
struct Tracked<T>(Shared<T>);

impl<T> Handled for Tracked<T> {
    fn handled(&self) -> bool {
        self.0.inner.borrow().handled
    }
}

impl<T> Inner<T> {
    pub(super) fn pending() -> RefCell<Inner<T>> {
        RefCell::new(Inner {
            state: State::Pending(Vec::new()),
            resolved: false,
            handled: false,
        })
    }
}

pub(super) fn pending_node<T: 'static>() -> Shared<T> {
    Rc::new(Node {
        inner: Inner::pending(),
        job: (),
    })
}

impl<T> Promise<T> {
    pub(super) fn from_shared(shared: Shared<T>) -> Self {
        Promise(RefCell::new(Repr::Shared(shared)))
    }
}

// ANCHOR: settle
/// Fulfils or rejects a promise, and queues one microtask per waiting reaction, in the order
/// they were attached (`TriggerPromiseReactions`). A second settlement is ignored.
pub(super) fn settle<T: Clone + 'static>(
    lp: &mut EventLoop,
    node: &Shared<T>,
    outcome: Settled<T>,
) {
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

impl<T: Clone + 'static> Promise<T> {
    /// True when both are the same promise (`===`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let (p, _resolver) = Promise::<u8>::pending();
    /// assert!(p.ptr_eq(&p.clone()));
    /// assert!(!p.ptr_eq(&Promise::pending().0));
    /// ```
    pub fn ptr_eq(&self, other: &Promise<T>) -> bool {
        match (&*self.0.borrow(), &*other.0.borrow()) {
            (Repr::Shared(a), Repr::Shared(b)) => Rc::ptr_eq(a, b),
            // A promise with its value inline has no other handle.
            _ => std::ptr::eq(self, other),
        }
    }

    /// The value or reason, once settled.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (p, resolver) = Promise::<u8>::pending();
    /// assert!(p.settled().is_none());
    /// resolver.reject(&mut lp, Rejection::new("why"));
    /// assert_eq!(p.settled().unwrap().unwrap_err().to_string(), "why");
    /// ```
    #[inline]
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
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (p, resolver) = Promise::pending();
    /// assert!(p.is_pending());
    /// resolver.resolve(&mut lp, ()); // settles now; only reactions wait for a microtask
    /// assert!(!p.is_pending());
    /// ```
    pub fn is_pending(&self) -> bool {
        match &*self.0.borrow() {
            Repr::Ready(_) => false,
            Repr::Shared(shared) => matches!(shared.inner.borrow().state, State::Pending(_)),
        }
    }

    /// Marks the promise resolved; false if it already was (the resolver is spent).
    pub(super) fn lock_in(&self) -> bool {
        match &*self.0.borrow() {
            Repr::Ready(_) => false,
            Repr::Shared(shared) => {
                !std::mem::replace(&mut shared.inner.borrow_mut().resolved, true)
            }
        }
    }

    /// Fulfils or rejects, and queues one microtask per waiting reaction.
    pub(super) fn settle(&self, lp: &mut EventLoop, outcome: Settled<T>) {
        settle(lp, &self.share(), outcome);
    }

    /// Attaches `waiter` (`PerformPromiseThen`): if the promise is pending, it joins the
    /// reactions (made one by `into`) and `None` comes back; if it is settled, the waiter
    /// comes back with the outcome, for the caller to queue. Either way the promise counts as
    /// handled from now on.
    pub(super) fn subscribe<W>(
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
    pub(super) fn react(
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
}
