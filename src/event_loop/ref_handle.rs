//! One verb set for every handle: `ref`, `unref`, `hasRef` (Node's names for libuv's
//! `uv_ref`, `uv_unref`, `uv_has_ref`).
//!
//! Everything that can keep the process alive — a timeout, an immediate, a libuv-level handle,
//! a descriptor's watcher, a TCP stream or listener, a `net` socket or server, a task — is
//! ref'd when it is made, and can be unref'd: it still runs whenever the loop iterates for
//! another reason, but the loop no longer waits for it alone (chapter 6). The methods take
//! the id by value and give it back, so they chain as Node's do
//! (`setInterval(f, 1000).unref()`).
//!
//! `ref` is a Rust keyword, so the verb is `ref_` (as `r#ref` would read worse). On an id
//! that is stale (closed, cleared, fired for good) or another loop's, each is a no-op and
//! `has_ref` is false.

use super::EventLoop;

// ANCHOR: ref_trait
/// A handle that can keep the loop alive, and can be told not to (Node's `ref()`,
/// `unref()`, `hasRef()`).
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let ticker = lp.set_interval(|_| println!("tick"), 1_000).unref(&mut lp);
/// assert!(!ticker.has_ref(&lp) && !lp.is_alive()); // the process may end
/// ticker.ref_(&mut lp);
/// assert!(ticker.has_ref(&lp) && lp.is_alive());
/// ```
pub trait Ref: Sized {
    /// Sets the handle's one ref flag: `true` is `ref()`, `false` is `unref()`. What each
    /// kind of handle implements; programs call the two verbs below.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let later = lp.set_timeout(|_| {}, 1_000);
    /// later.set_ref(&mut lp, false);
    /// assert!(!later.has_ref(&lp));
    /// ```
    fn set_ref(&self, lp: &mut EventLoop, refed: bool);

    /// Makes the handle keep the loop alive while it is active (`ref()`, the default).
    /// Idempotent: ref is a flag, not a counter.
    fn ref_(self, lp: &mut EventLoop) -> Self {
        self.set_ref(lp, true);
        self
    }

    /// Lets the loop end even while the handle is active (`unref()`). Idempotent.
    fn unref(self, lp: &mut EventLoop) -> Self {
        self.set_ref(lp, false);
        self
    }

    /// True while the handle is live and ref'd (`hasRef()`).
    fn has_ref(self, lp: &EventLoop) -> bool;
}
// ANCHOR_END: ref_trait
