//! Refs: what keeps the loop — and so the process — alive.
//!
//! A handle has two flags. *Active* means it is started and may fire (a running timer, a started
//! idle handle, a socket being read). *Ref'd* means its owner wants the process to wait for it;
//! every handle starts ref'd, and `unref` lets the process end even while the handle is active.
//! The loop counts the handles that are both (libuv's `loop->active_handles`), and the
//! *requests* in flight (`loop->active_reqs`: a thread-pool job, a write). It is alive while
//! either count is above zero, or while a deferred callback or a closing handle remains
//! (`uv__loop_alive` in `src/unix/core.c`).
//!
//! Ref is a flag, not a counter: unref'ing twice is the same as once (`uv_ref`/`uv_unref` in
//! `src/uv-common.c`). And an unref'd handle still runs — whenever something else keeps the
//! loop iterating.
//!
//! ```
//! use eventloop::refs::{Liveness, RefFlags};
//!
//! let mut loop_refs = Liveness::default();
//! let mut interval = RefFlags::new();
//! loop_refs.start(&mut interval);
//! assert!(loop_refs.is_alive(false, false));
//! loop_refs.unref(&mut interval); // still active, no longer keeps the loop alive
//! assert!(interval.is_active() && !loop_refs.is_alive(false, false));
//! ```

// EXERCISE `refs` (chapter 6): Refs: counting what keeps the loop alive.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn refs`.
// Generated from src/refs.rs; `cargo learn reset refs` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

/// A handle's liveness flags.
///
/// ```
/// use eventloop::refs::{Liveness, RefFlags};
///
/// let mut refs = Liveness::default();
/// let mut handle = RefFlags::new();
/// refs.start(&mut handle);
/// assert!(handle.is_active() && handle.has_ref());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefFlags {
    active: bool,
    refed: bool,
}

impl Default for RefFlags {
    fn default() -> Self {
        Self::new()
    }
}

impl RefFlags {
    /// A new handle: stopped and ref'd (`uv__handle_init`).
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let flags = RefFlags::new();
    /// assert!(!flags.is_active() && flags.has_ref()); // stopped, ref'd
    /// ```
    pub fn new() -> Self {
        Self {
            active: false,
            refed: true,
        }
    }

    /// Started and not yet stopped.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// let mut h = RefFlags::new();
    /// refs.start(&mut h);
    /// refs.stop(&mut h);
    /// assert!(!h.is_active());
    /// ```
    pub fn is_active(self) -> bool {
        self.active
    }

    /// Wants the process to wait for it while active.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// let mut h = RefFlags::new();
    /// refs.unref(&mut h);
    /// assert!(!h.has_ref());
    /// ```
    pub fn has_ref(self) -> bool {
        self.refed
    }
}

/// The loop's counts of what keeps it alive.
///
/// # Invariant
/// `active_handles` equals the number of handles whose flags are both active and ref'd.
///
/// ```
/// use eventloop::refs::{Liveness, RefFlags};
///
/// let mut refs = Liveness::default();
/// refs.request_started(); // a pool job
/// assert!(refs.is_alive(false, false));
/// refs.request_finished();
/// assert!(!refs.is_alive(false, false));
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Liveness {
    active_handles: usize,
    active_requests: usize,
}

impl Liveness {
    /// Handles that are active and ref'd.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// let (mut a, mut b) = (RefFlags::new(), RefFlags::new());
    /// refs.start(&mut a);
    /// refs.start(&mut b);
    /// refs.unref(&mut b); // active, but not counted
    /// assert_eq!(refs.active_handles(), 1);
    /// ```
    pub fn active_handles(&self) -> usize {
        self.active_handles
    }

    /// Requests in flight.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// refs.request_started();
    /// assert_eq!(refs.active_requests(), 1);
    /// ```
    pub fn active_requests(&self) -> usize {
        self.active_requests
    }

    /// Marks a handle active (`uv__handle_start`). Starting an active handle changes nothing.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// let mut h = RefFlags::new();
    /// refs.start(&mut h);
    /// refs.start(&mut h); // no change: a flag, not a counter
    /// assert_eq!(refs.active_handles(), 1);
    /// ```
    pub fn start(&mut self, flags: &mut RefFlags) {
        // TODO: a handle becomes active.
        // The handle is active, and active_handles counts it exactly when it is both
        // active and ref'd: it grows by one only if the handle was stopped and is ref'd.
        // Example: a new (ref'd) handle started twice: active_handles() is 1.
        todo!("a handle becomes active")
    }

    /// Marks a handle inactive (`uv__handle_stop`). Stopping a stopped handle changes nothing.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// let mut h = RefFlags::new();
    /// refs.start(&mut h);
    /// refs.stop(&mut h);
    /// assert_eq!(refs.active_handles(), 0);
    /// ```
    pub fn stop(&mut self, flags: &mut RefFlags) {
        // TODO: a handle stops.
        // The handle is not active; the count drops by one only if it was active and
        // ref'd.
        // Example: stop on a handle that never started changes nothing; start then stop
        // twice leaves active_handles() at 0.
        todo!("a handle stops")
    }

    /// Makes a handle keep the loop alive while active (`uv_ref`). Idempotent.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// let mut h = RefFlags::new();
    /// refs.start(&mut h);
    /// refs.unref(&mut h);
    /// refs.ref_(&mut h); // counts again
    /// assert_eq!(refs.active_handles(), 1);
    /// ```
    pub fn ref_(&mut self, flags: &mut RefFlags) {
        // TODO: ref a handle.
        // The handle is ref'd; the count grows by one only if it was unref'd and is
        // active. Ref is a flag, not a counter: one ref undoes any number of unrefs.
        // Example: an active handle unref'd twice then ref'd once: active_handles() is 1.
        todo!("ref a handle")
    }

    /// Lets the loop end while this handle is active (`uv_unref`). Idempotent.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// let mut h = RefFlags::new();
    /// refs.start(&mut h);
    /// refs.unref(&mut h);
    /// refs.unref(&mut h); // twice is once
    /// assert!(!refs.is_alive(false, false) && h.is_active());
    /// ```
    pub fn unref(&mut self, flags: &mut RefFlags) {
        // TODO: unref a handle.
        // The handle is not ref'd; the count drops by one only if it was ref'd and is
        // active.
        // Example: unref on an active handle: active_handles() drops by one; unref again
        // changes nothing.
        todo!("unref a handle")
    }

    /// A request started (`uv__req_register`): a pool job, a write, a connect.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// refs.request_started();
    /// assert!(refs.is_alive(false, false)); // a request keeps the loop alive
    /// ```
    pub fn request_started(&mut self) {
        self.active_requests += 1;
    }

    /// A request finished, just before its callback runs (`uv__req_unregister`).
    ///
    /// # Panics
    /// When no request is in flight: a request that finished without starting is a bug.
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let mut refs = Liveness::default();
    /// refs.request_started();
    /// refs.request_finished();
    /// assert_eq!(refs.active_requests(), 0);
    /// ```
    pub fn request_finished(&mut self) {
        self.active_requests = self
            .active_requests
            .checked_sub(1)
            .expect("a request finished that never started");
    }

    /// `uv__loop_alive`: an active ref'd handle, a request in flight, a deferred callback
    /// (`pending`), or a handle waiting for its close callback (`closing`).
    ///
    /// ```
    /// use eventloop::refs::{Liveness, RefFlags};
    ///
    /// let refs = Liveness::default();
    /// assert!(!refs.is_alive(false, false)); // nothing: the loop ends
    /// assert!(refs.is_alive(true, false)); // a deferred callback waits
    /// assert!(refs.is_alive(false, true)); // a handle waits for its close callback
    /// ```
    pub fn is_alive(&self, pending: bool, closing: bool) -> bool {
        // TODO: the four reasons a loop is alive.
        // true when anything keeps the loop alive: an active ref'd handle, a request in
        // flight, a deferred callback (`pending`), or a handle waiting for its close
        // callback (`closing`).
        // Example: Liveness::default().is_alive(false, true) is true: a closing handle is
        // enough.
        todo!("the four reasons a loop is alive")
    }
}
