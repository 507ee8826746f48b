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
    pub fn new() -> Self {
        Self {
            active: false,
            refed: true,
        }
    }

    /// Started and not yet stopped.
    pub fn is_active(self) -> bool {
        self.active
    }

    /// Wants the process to wait for it while active.
    pub fn has_ref(self) -> bool {
        self.refed
    }
}

// ANCHOR: liveness
/// The loop's counts of what keeps it alive.
///
/// # Invariant
/// `active_handles` equals the number of handles whose flags are both active and ref'd.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Liveness {
    active_handles: usize,
    active_requests: usize,
}
// ANCHOR_END: liveness

impl Liveness {
    /// Handles that are active and ref'd.
    pub fn active_handles(&self) -> usize {
        self.active_handles
    }

    /// Requests in flight.
    pub fn active_requests(&self) -> usize {
        self.active_requests
    }

    // ANCHOR: transitions_solution
    /// Marks a handle active (`uv__handle_start`). Starting an active handle changes nothing.
    pub fn start(&mut self, flags: &mut RefFlags) {
        // exercise: a handle becomes active
        // hint: Only a change counts: if the handle was not active, mark it active and, when
        // hint: it is ref'd, count it in self.active_handles.
        if !flags.active {
            flags.active = true;
            if flags.refed {
                self.active_handles += 1;
            }
        }
        // end exercise
    }

    /// Marks a handle inactive (`uv__handle_stop`). Stopping a stopped handle changes nothing.
    pub fn stop(&mut self, flags: &mut RefFlags) {
        // exercise: a handle stops
        // hint: The mirror image of start: only an active handle stops, and only a ref'd one
        // hint: was counted.
        if flags.active {
            flags.active = false;
            if flags.refed {
                self.active_handles -= 1;
            }
        }
        // end exercise
    }

    /// Makes a handle keep the loop alive while active (`uv_ref`). Idempotent.
    pub fn ref_(&mut self, flags: &mut RefFlags) {
        // exercise: ref a handle
        // hint: Ref is a flag, not a counter: only an unref'd handle changes, and it counts
        // hint: only while it is active.
        if !flags.refed {
            flags.refed = true;
            if flags.active {
                self.active_handles += 1;
            }
        }
        // end exercise
    }

    /// Lets the loop end while this handle is active (`uv_unref`). Idempotent.
    pub fn unref(&mut self, flags: &mut RefFlags) {
        // exercise: unref a handle
        // hint: The mirror image of ref_.
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
    pub fn request_started(&mut self) {
        self.active_requests += 1;
    }

    /// A request finished, just before its callback runs (`uv__req_unregister`).
    pub fn request_finished(&mut self) {
        self.active_requests = self
            .active_requests
            .checked_sub(1)
            .expect("a request finished that never started");
    }

    // ANCHOR: is_alive_solution
    /// `uv__loop_alive`: an active ref'd handle, a request in flight, a deferred callback
    /// (`pending`), or a handle waiting for its close callback (`closing`).
    pub fn is_alive(&self, pending: bool, closing: bool) -> bool {
        // exercise: the four reasons a loop is alive
        // hint: Any one of them is enough.
        self.active_handles > 0 || self.active_requests > 0 || pending || closing
        // end exercise
    }
    // ANCHOR_END: is_alive_solution
}
