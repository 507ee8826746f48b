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
//!
//! The module is a folder, one file per concept:
//!
//! - `node`: what a promise is — its state, the heap node that holds it, and how it settles
//!   and hands its outcome to what waits on it;
//! - `resolver`: making a promise, and the [`Resolver`] that settles it;
//! - `then`: `then` and its relatives, and adoption (a promise resolved with a promise);
//! - `finally`: `finally`, which reuses both;
//! - `combinators`: `all`, `allSettled`, `race`, `any`;
//! - `free`: how a long chain of pending promises is freed without recursion;
//! - `job`: the two traits the event loop calls promises through.

mod combinators;
mod finally;
mod free;
mod node;
mod resolver;
#[cfg_attr(feature = "learn-promise", path = "../../exercises/promise.rs")]
mod then;

#[cfg(doc)]
use crate::event_loop::EventLoop;
pub use crate::microtasks::Rejection;
pub use node::Promise;
pub use resolver::Resolver;

/// How a promise settled.
///
/// ```
/// use eventloop::promise::Settled;
/// use eventloop::prelude::*;
///
/// let outcome: Option<Settled<u8>> = Promise::resolved(1).settled();
/// assert_eq!(outcome.unwrap().unwrap(), 1);
/// ```
pub type Settled<T> = Result<T, Rejection>;
