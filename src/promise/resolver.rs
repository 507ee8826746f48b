//! Making a promise: already settled, pending with its [`Resolver`], or by an executor as
//! `new Promise` does; and the resolver, JavaScript's `resolve` and `reject` functions.

use std::cell::RefCell;
use std::fmt;

use super::node::{Repr, pending_node};
use super::{Promise, Rejection};
use crate::event_loop::EventLoop;

/// Settles a promise: JavaScript's `resolve` and `reject` functions. Clones share the promise;
/// only the first call of any of them counts.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let (p, resolver) = Promise::pending();
/// resolver.clone().resolve(&mut lp, 1);
/// resolver.resolve(&mut lp, 2); // only the first call counts
/// assert_eq!(p.settled().unwrap().unwrap(), 1);
/// ```
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
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (p, resolver) = Promise::pending();
    /// resolver.resolve(&mut lp, "value");
    /// assert_eq!(p.settled().unwrap().unwrap(), "value");
    /// ```
    pub fn resolve(&self, lp: &mut EventLoop, value: T) {
        if self.promise.lock_in() {
            self.promise.settle(lp, Ok(value));
        }
    }

    /// Resolves the promise with another promise (`resolve(otherPromise)`): it will settle as
    /// `other` does, two microtasks after `other` settles.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (p, resolver) = Promise::pending();
    /// resolver.resolve_with(&mut lp, Promise::resolved(3));
    /// assert!(p.is_pending()); // follows the other promise, a few microtasks later
    /// lp.run(RunMode::Default);
    /// assert_eq!(p.settled().unwrap().unwrap(), 3);
    /// ```
    pub fn resolve_with(&self, lp: &mut EventLoop, other: Promise<T>) {
        if self.promise.lock_in() {
            self.promise.adopt(lp, other);
        }
    }

    /// Rejects the promise (`reject(reason)`).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (p, resolver) = Promise::<()>::pending();
    /// resolver.reject(&mut lp, std::io::Error::other("refused"));
    /// assert_eq!(p.settled().unwrap().unwrap_err().to_string(), "refused");
    /// ```
    pub fn reject(&self, lp: &mut EventLoop, reason: impl Into<Rejection>) {
        if self.promise.lock_in() {
            self.promise.settle(lp, Err(reason.into()));
        }
    }

    /// The promise this resolver settles.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let (p, resolver) = Promise::<u8>::pending();
    /// assert!(resolver.promise().ptr_eq(&p));
    /// ```
    pub fn promise(&self) -> &Promise<T> {
        &self.promise
    }
}

impl<T: Clone + 'static> Promise<T> {
    /// A pending promise and the resolver that settles it.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (p, resolver) = Promise::pending();
    /// lp.set_immediate(move |lp| resolver.resolve(lp, "from a callback"));
    /// lp.run(RunMode::Default);
    /// assert_eq!(p.settled().unwrap().unwrap(), "from a callback");
    /// ```
    pub fn pending() -> (Promise<T>, Resolver<T>) {
        let node = pending_node();
        let resolver = Resolver {
            promise: Promise::from_shared(node.clone()),
        };
        (Promise::from_shared(node), resolver)
    }

    /// `new Promise(executor)`: runs `executor` at once with the resolver. A promise whose
    /// executor fails is rejected.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let p = Promise::<u8>::new(&mut lp, |_, _resolve| Err(Rejection::new("thrown")));
    /// assert!(p.settled().unwrap().is_err()); // the executor failed: rejected
    /// let p = Promise::new(&mut lp, |lp, resolve| Ok(resolve.resolve(lp, 1)));
    /// assert_eq!(p.settled().unwrap().unwrap(), 1);
    /// ```
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
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// assert_eq!(Promise::resolved('a').settled().unwrap().unwrap(), 'a');
    /// ```
    pub fn resolved(value: T) -> Promise<T> {
        Promise(RefCell::new(Repr::Ready(value)))
    }

    /// `Promise.resolve(promise)`: a native promise is returned as it is — the same promise,
    /// not a new one that follows it.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let p = Promise::resolved(1);
    /// assert!(Promise::resolve(p.clone()).ptr_eq(&p)); // the same promise, not a copy
    /// ```
    pub fn resolve(promise: Promise<T>) -> Promise<T> {
        promise
    }

    /// A promise already rejected (`Promise.reject(reason)`). If nothing ever handles it, the
    /// loop reports it as an unhandled rejection.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let p = Promise::<u8>::rejected(&mut lp, Rejection::new("nope"));
    /// let handled = p.catch(&mut lp, |_, _| 0); // handled before the checkpoint ends
    /// lp.run(RunMode::Default);
    /// assert_eq!(handled.settled().unwrap().unwrap(), 0);
    /// ```
    pub fn rejected(lp: &mut EventLoop, reason: impl Into<Rejection>) -> Promise<T> {
        let (promise, resolver) = Self::pending();
        resolver.reject(lp, reason);
        promise
    }
}
