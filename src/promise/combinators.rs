//! The combinators: `Promise.all`, `allSettled`, `race` and `any`. Each makes one pending
//! promise and attaches a plain reaction to every input; the reactions share a count (and, for
//! `all` and `allSettled`, the results so far) and settle the combined promise through its
//! resolver.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::{Promise, Rejection, Settled};
use crate::event_loop::EventLoop;

impl<T: Clone + 'static> Promise<T> {
    // ANCHOR: all
    /// `Promise.all`: fulfilled with every value, in order, once all are; rejected with the
    /// first rejection. An empty list fulfils at once.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (later, resolver) = Promise::pending();
    /// let all = Promise::all(&mut lp, vec![later, Promise::resolved(2)]);
    /// resolver.resolve(&mut lp, 1);
    /// lp.run(RunMode::Default);
    /// assert_eq!(all.settled().unwrap().unwrap(), [1, 2]); // in order, not by time
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "the values are taken once all are fulfilled"
    )]
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
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let failed = Promise::rejected(&mut lp, Rejection::new("no"));
    /// let all = Promise::all_settled(&mut lp, vec![Promise::resolved(1), failed]);
    /// lp.run(RunMode::Default);
    /// let outcomes = all.settled().unwrap().unwrap();
    /// assert!(outcomes[0].is_ok() && outcomes[1].is_err());
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "the outcomes are taken once all are settled"
    )]
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
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let (never, _keep) = Promise::pending();
    /// let first = Promise::race(&mut lp, vec![never, Promise::resolved("fast")]);
    /// lp.run(RunMode::Default);
    /// assert_eq!(first.settled().unwrap().unwrap(), "fast");
    /// ```
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
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let failed = Promise::rejected(&mut lp, Rejection::new("no"));
    /// let any = Promise::any(&mut lp, vec![failed, Promise::resolved(7)]);
    /// lp.run(RunMode::Default);
    /// assert_eq!(any.settled().unwrap().unwrap(), 7); // a rejection is skipped
    /// ```
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
