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

// ANCHOR: ref_flags
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
// ANCHOR_END: ref_flags

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

// ANCHOR: liveness
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
// ANCHOR_END: liveness

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

    // ANCHOR: transitions_solution
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
        // exercise: a handle becomes active
        // contract: The handle is active, and active_handles counts it exactly when it is both
        // contract: active and ref'd: it grows by one only if the handle was stopped and is ref'd.
        // contract: Example: a new (ref'd) handle started twice: active_handles() is 1.
        // nudge: Which calls change the count, and which change nothing?
        // hint: Only a change counts: if the handle was not active, mark it active and, when it is
        // hint: ref'd, count it in self.active_handles.
        if !flags.active {
            flags.active = true;
            if flags.refed {
                self.active_handles += 1;
            }
        }
        // end exercise
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
        // exercise: a handle stops
        // contract: The handle is not active; the count drops by one only if it was active and
        // contract: ref'd.
        // contract: Example: stop on a handle that never started changes nothing; start then stop
        // contract: twice leaves active_handles() at 0.
        // nudge: The mirror image of start.
        // hint: Only an active handle stops, and only a ref'd one was counted.
        if flags.active {
            flags.active = false;
            if flags.refed {
                self.active_handles -= 1;
            }
        }
        // end exercise
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
        // exercise: ref a handle
        // contract: The handle is ref'd; the count grows by one only if it was unref'd and is
        // contract: active. Ref is a flag, not a counter: one ref undoes any number of unrefs.
        // contract: Example: an active handle unref'd twice then ref'd once: active_handles() is 1.
        // nudge: How many refs does it take to undo two unrefs?
        // hint: Only an unref'd handle changes, and it counts only while it is active.
        if !flags.refed {
            flags.refed = true;
            if flags.active {
                self.active_handles += 1;
            }
        }
        // end exercise
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
        // exercise: unref a handle
        // contract: The handle is not ref'd; the count drops by one only if it was ref'd and is
        // contract: active.
        // contract: Example: unref on an active handle: active_handles() drops by one; unref again
        // contract: changes nothing.
        // nudge: The mirror image of ref_.
        // hint: Only a ref'd handle changes, and it was counted only while active.
        if flags.refed {
            flags.refed = false;
            if flags.active {
                self.active_handles -= 1;
            }
        }
        // end exercise
    }
    // ANCHOR_END: transitions_solution

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

    // ANCHOR: is_alive_solution
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
        // exercise: the four reasons a loop is alive
        // contract: true when anything keeps the loop alive: an active ref'd handle, a request in
        // contract: flight, a deferred callback (`pending`), or a handle waiting for its close
        // contract: callback (`closing`).
        // contract: Example: Liveness::default().is_alive(false, true) is true: a closing handle is
        // contract: enough.
        // nudge: Four reasons; how many does it take?
        // hint: Any one of them is enough: active_handles > 0, active_requests > 0, pending,
        // hint: closing.
        self.active_handles > 0 || self.active_requests > 0 || pending || closing
        // end exercise
    }
    // ANCHOR_END: is_alive_solution
}
