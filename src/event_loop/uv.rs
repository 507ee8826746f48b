//! libuv's own API on the loop: handles, libuv timers, the pending queue, descriptor
//! watchers — the layer Node is built on, apart from Node's names.
//!
//! A program uses Node's API: [`EventLoop::set_timeout`], [`EventLoop::set_immediate`],
//! [`crate::net`]. The chapters that build the loop (4, phases; 8, kernel I/O) work one layer
//! down, with libuv's verbs: `uv_idle_init`, `uv_timer_start`, `uv__io_start`. Those live
//! here, in one trait, so they stay out of the way of a program — and are one `use` away for
//! the book's tests, an embedder, or a reader who wants to drive the loop by hand:
//!
//! ```
//! use eventloop::uv::Uv;
//! use eventloop::{EventLoop, RunMode};
//!
//! let mut lp = EventLoop::new();
//! let idle = lp.idle_init(|lp, me| {
//!     lp.stop_handle(me).unwrap(); // one idle iteration is enough
//! });
//! lp.start_handle(idle).unwrap();
//! assert_eq!(lp.backend_timeout(), Some(0), "an active idle handle: poll must not wait");
//! lp.run(RunMode::Default);
//! assert!(!lp.is_active(idle));
//! ```
//!
//! The handles' ref verbs are the [`Ref`](crate::Ref) trait, as for every other handle.

use std::io;
use std::os::fd::AsFd;

use super::EventLoop;
pub use super::{
    AnyHandle, Check, FdWatch, HandleError, HandleId, HandleKind, Idle, Prepare, Startable, Timer,
};
use crate::sys::{Event, Interest};

// ANCHOR: uv_trait
/// libuv's API on an [`EventLoop`]: bring it into scope with `use eventloop::uv::Uv;`.
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::Uv;
///
/// let mut lp = EventLoop::new();
/// let timer = lp.timer_init(|lp, me| lp.close(me, |_| {}).unwrap());
/// lp.timer_start(timer, 5, 0).unwrap(); // uv_timer_start(timer, cb, 5, 0)
/// assert_eq!(lp.backend_timeout(), Some(5));
/// lp.run(RunMode::Default);
/// assert!(lp.handle_kind(timer).is_none()); // closed
/// ```
pub trait Uv {
    /// Creates a stopped idle handle (`uv_idle_init`); [`start_handle`](Self::start_handle) runs `callback`
    /// in every iteration's idle phase.
    fn idle_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId<Idle>) + 'static,
    ) -> HandleId<Idle>;

    /// Creates a stopped prepare handle (`uv_prepare_init`).
    fn prepare_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId<Prepare>) + 'static,
    ) -> HandleId<Prepare>;

    /// Creates a stopped check handle (`uv_check_init`).
    fn check_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId<Check>) + 'static,
    ) -> HandleId<Check>;

    /// Creates a stopped libuv timer (`uv_timer_init`); see [`timer_start`](Self::timer_start).
    fn timer_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId<Timer>) + 'static,
    ) -> HandleId<Timer>;

    /// The kind of a handle that is not closed.
    fn handle_kind<K>(&self, id: HandleId<K>) -> Option<HandleKind>;

    /// True between start and stop or close (`uv_is_active`).
    fn is_active<K>(&self, id: HandleId<K>) -> bool;

    /// True after `close` was called, until the close callback ran (`uv_is_closing`).
    fn is_closing<K>(&self, id: HandleId<K>) -> bool;

    /// Starts an idle, prepare or check handle (`uv_idle_start` and friends). Starting an
    /// active handle does nothing. A handle started during its own phase first runs in the
    /// next iteration.
    ///
    /// # Errors
    /// [`HandleError`] for a closed or closing handle.
    fn start_handle<K: Startable>(&mut self, id: HandleId<K>) -> Result<(), HandleError>;

    /// Stops a handle of any kind (`uv_*_stop`). Stopping a stopped handle does nothing; a
    /// timer that is due in the current pass but has not run yet will not run.
    ///
    /// # Errors
    /// [`HandleError::Closed`] for a closed handle, [`HandleError::OtherLoop`] for another
    /// loop's.
    fn stop_handle<K>(&mut self, id: HandleId<K>) -> Result<(), HandleError>;

    /// Starts (or restarts) a timer to fire `timeout_ms` after the loop's cached time, then
    /// every `repeat_ms` if that is not 0 (`uv_timer_start`). Like libuv it does not re-read
    /// the clock: after a long callback, the timeout counts from the stale loop time.
    ///
    /// # Errors
    /// [`HandleError`] for a closed or closing handle.
    fn timer_start(
        &mut self,
        id: HandleId<Timer>,
        timeout_ms: u64,
        repeat_ms: u64,
    ) -> Result<(), HandleError>;

    /// Restarts a repeating timer from now with its repeat interval; does nothing for a timer
    /// that does not repeat (`uv_timer_again`).
    ///
    /// # Errors
    /// [`HandleError::NeverStarted`] when the timer was never started, or the errors of
    /// [`timer_start`](Self::timer_start).
    fn timer_again(&mut self, id: HandleId<Timer>) -> Result<(), HandleError>;

    /// Sets the repeat interval used by the next `timer_again` or firing
    /// (`uv_timer_set_repeat`).
    ///
    /// # Errors
    /// As [`timer_start`](Self::timer_start).
    fn timer_set_repeat(&mut self, id: HandleId<Timer>, repeat_ms: u64) -> Result<(), HandleError>;

    /// Milliseconds until the timer fires, 0 if it is overdue or stopped
    /// (`uv_timer_get_due_in`).
    fn timer_due_in(&self, id: HandleId<Timer>) -> u64;

    /// Closes a handle (`uv_close`): it stops at once, and `callback` runs in the closing
    /// phase of this iteration — or the next one, when called from a close callback. Close
    /// callbacks run newest first.
    ///
    /// # Errors
    /// [`HandleError::Closing`] when `close` was already called, [`HandleError::Closed`] when
    /// the handle is gone, [`HandleError::OtherLoop`] for another loop's.
    fn close<K>(
        &mut self,
        id: HandleId<K>,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) -> Result<(), HandleError>;

    /// Re-reads the clock into the cached loop time (`uv_update_time`).
    fn update_time(&mut self);

    /// Defers `callback` to the pending phase: it runs at the start of the next iteration,
    /// or in one of the drains right after poll. A deferred callback keeps the loop alive.
    fn queue_pending(
        &mut self,
        name: &'static str,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    );

    /// How long the poll phase may wait (`uv__backend_timeout`): `Some(0)` when there is
    /// something to do at once, `None` to wait until woken, else the time to the next timer.
    fn backend_timeout(&self) -> Option<u64>;

    /// Watches the descriptor of `source` for `interest` (`uv__io_start`): in each poll
    /// phase where the kernel says it is ready, `callback` runs in a frame called `name`
    /// with what it is ready for. The descriptor must be non-blocking.
    ///
    /// The loop keeps `source` until [`unwatch_fd`](Self::unwatch_fd): give it the owner of
    /// the descriptor (an `OwnedFd`, a socket), or a shared owner (`Rc<UnixStream>`) and
    /// keep a clone to read and write through. While the loop holds it, nobody can close the
    /// descriptor, so its number cannot pass to another socket: `unwatch_fd` and
    /// [`set_fd_interest`](Self::set_fd_interest) always reach this descriptor, never a
    /// newer one that reused the number. Dropping your own clone does not close it;
    /// `unwatch_fd` (or dropping the loop) lets go of the loop's share.
    ///
    /// # Errors
    /// What the kernel says: `EPERM` for a regular file, `EEXIST` for a descriptor already
    /// watched, `EMFILE` if the poller cannot be created. `source` is dropped then.
    fn watch_fd(
        &mut self,
        source: impl AsFd + 'static,
        interest: Interest,
        name: &'static str,
        callback: impl FnMut(&mut EventLoop, Event) + 'static,
    ) -> io::Result<FdWatch>;

    /// Changes what a watched descriptor waits for; [`Interest::NONE`] makes the watcher
    /// inactive (it no longer keeps the loop alive) without forgetting it. Setting the
    /// interest it already has costs no system call.
    ///
    /// # Errors
    /// `NotFound` for a watcher already removed, `InvalidInput` for another loop's; what
    /// `epoll_ctl` says otherwise.
    fn set_fd_interest(&mut self, watch: FdWatch, interest: Interest) -> io::Result<()>;

    /// What a watcher waits for now, or `None` once it was removed (or for another loop's).
    fn fd_interest(&self, watch: FdWatch) -> Option<Interest>;

    /// Stops watching, drops the callback (`uv__io_close`) and lets go of the descriptor's
    /// owner given to [`watch_fd`](Self::watch_fd): an owned descriptor is closed now, a
    /// shared one when its last owner drops it. Ready events the current poll phase has not
    /// dispatched yet are discarded.
    ///
    /// # Errors
    /// `NotFound` for a watcher already removed, `InvalidInput` for another loop's.
    fn unwatch_fd(&mut self, watch: FdWatch) -> io::Result<()>;

    /// Watchers registered, active or not.
    fn fd_watchers(&self) -> usize;
}
// ANCHOR_END: uv_trait

impl Uv for EventLoop {
    fn idle_init(
        &mut self,
        mut callback: impl FnMut(&mut EventLoop, HandleId<Idle>) + 'static,
    ) -> HandleId<Idle> {
        EventLoop::idle_init(self, move |lp, id| callback(lp, id.typed())).typed()
    }

    fn prepare_init(
        &mut self,
        mut callback: impl FnMut(&mut EventLoop, HandleId<Prepare>) + 'static,
    ) -> HandleId<Prepare> {
        EventLoop::prepare_init(self, move |lp, id| callback(lp, id.typed())).typed()
    }

    fn check_init(
        &mut self,
        mut callback: impl FnMut(&mut EventLoop, HandleId<Check>) + 'static,
    ) -> HandleId<Check> {
        EventLoop::check_init(self, move |lp, id| callback(lp, id.typed())).typed()
    }

    fn timer_init(
        &mut self,
        mut callback: impl FnMut(&mut EventLoop, HandleId<Timer>) + 'static,
    ) -> HandleId<Timer> {
        EventLoop::timer_init(self, move |lp, id| callback(lp, id.typed())).typed()
    }

    fn handle_kind<K>(&self, id: HandleId<K>) -> Option<HandleKind> {
        EventLoop::handle_kind(self, id.any())
    }

    fn is_active<K>(&self, id: HandleId<K>) -> bool {
        EventLoop::is_active(self, id.any())
    }

    fn is_closing<K>(&self, id: HandleId<K>) -> bool {
        EventLoop::is_closing(self, id.any())
    }

    fn start_handle<K: Startable>(&mut self, id: HandleId<K>) -> Result<(), HandleError> {
        EventLoop::start_handle(self, id.any())
    }

    fn stop_handle<K>(&mut self, id: HandleId<K>) -> Result<(), HandleError> {
        EventLoop::stop_handle(self, id.any())
    }

    fn timer_start(
        &mut self,
        id: HandleId<Timer>,
        timeout_ms: u64,
        repeat_ms: u64,
    ) -> Result<(), HandleError> {
        EventLoop::timer_start(self, id.any(), timeout_ms, repeat_ms)
    }

    fn timer_again(&mut self, id: HandleId<Timer>) -> Result<(), HandleError> {
        EventLoop::timer_again(self, id.any())
    }

    fn timer_set_repeat(&mut self, id: HandleId<Timer>, repeat_ms: u64) -> Result<(), HandleError> {
        EventLoop::timer_set_repeat(self, id.any(), repeat_ms)
    }

    fn timer_due_in(&self, id: HandleId<Timer>) -> u64 {
        EventLoop::timer_due_in(self, id.any())
    }

    fn close<K>(
        &mut self,
        id: HandleId<K>,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) -> Result<(), HandleError> {
        EventLoop::close(self, id.any(), callback)
    }

    fn update_time(&mut self) {
        EventLoop::update_time(self)
    }

    fn queue_pending(
        &mut self,
        name: &'static str,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) {
        EventLoop::queue_pending(self, name, callback)
    }

    fn backend_timeout(&self) -> Option<u64> {
        EventLoop::backend_timeout(self)
    }

    fn watch_fd(
        &mut self,
        source: impl AsFd + 'static,
        interest: Interest,
        name: &'static str,
        callback: impl FnMut(&mut EventLoop, Event) + 'static,
    ) -> io::Result<FdWatch> {
        EventLoop::watch_fd(self, source, interest, name, callback)
    }

    fn set_fd_interest(&mut self, watch: FdWatch, interest: Interest) -> io::Result<()> {
        EventLoop::set_fd_interest(self, watch, interest)
    }

    fn fd_interest(&self, watch: FdWatch) -> Option<Interest> {
        EventLoop::fd_interest(self, watch)
    }

    fn unwatch_fd(&mut self, watch: FdWatch) -> io::Result<()> {
        EventLoop::unwatch_fd(self, watch)
    }

    fn fd_watchers(&self) -> usize {
        EventLoop::fd_watchers(self)
    }
}
