//! Handles: long-lived objects the loop visits every iteration (libuv's `uv_handle_t`).
//!
//! Every handle kind uses the same verbs, as in libuv: `*_init` creates a stopped handle with
//! its callback, `start`/`timer_start` make it active, `stop` makes it inactive, `close` ends
//! it (its close callback runs in the closing phase), `ref_`/`unref` say whether it keeps the
//! loop alive while active.

use std::fmt;
use std::marker::PhantomData;

use super::{Callback, EventLoop, Input, LoopKey};
use crate::heap::Key;
use crate::refs::RefFlags;
use crate::trace::Queue;

// ANCHOR: handle_id
/// The name of a handle, typed by its kind `K` ([`Idle`], [`Prepare`], [`Check`],
/// [`Timer`]), so that a verb meant for another kind is a compile error: `timer_start` takes
/// a `HandleId<Timer>`, `start_handle` an idle, prepare or check handle. Verbs that apply to
/// every kind (`stop_handle`, `close`, [`Ref`](super::Ref)) take any `HandleId<K>`, and
/// [`any`](Self::any) forgets the kind, to keep handles of several kinds together.
///
/// Stale once the handle is closed: every operation on it then returns
/// [`HandleError::Closed`] (or, one that returns no `Result`, does nothing). Used on another
/// loop than the one that made it, it is [`HandleError::OtherLoop`] — or, again, nothing.
///
/// ```compile_fail
/// use eventloop::uv::Uv;
/// let mut lp = eventloop::EventLoop::new();
/// let timer = lp.timer_init(|_, _| {});
/// lp.start_handle(timer); // a timer starts with `timer_start`: does not compile
/// ```
pub struct HandleId<K = AnyHandle>(LoopKey, PhantomData<fn() -> K>);
// ANCHOR_END: handle_id

/// The kind of an idle handle (`uv_idle_t`), for [`HandleId<Idle>`].
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// let mut lp = EventLoop::new();
/// let idle: uv::HandleId<uv::Idle> = lp.idle_init(|lp, me| lp.stop_handle(me).unwrap());
/// lp.start_handle(idle).unwrap(); // runs once, then stops itself
/// assert!(!lp.run(RunMode::Default));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Idle {}
/// The kind of a prepare handle (`uv_prepare_t`), for [`HandleId<Prepare>`].
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// let mut lp = EventLoop::new();
/// let prepare: uv::HandleId<uv::Prepare> = lp.prepare_init(|_, _| {});
/// assert_eq!(lp.handle_kind(prepare), Some(uv::HandleKind::Prepare));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prepare {}
/// The kind of a check handle (`uv_check_t`), for [`HandleId<Check>`].
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// let mut lp = EventLoop::new();
/// let check: uv::HandleId<uv::Check> = lp.check_init(|_, _| {});
/// lp.start_handle(check).unwrap();
/// assert!(lp.is_active(check));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {}
/// The kind of a libuv timer (`uv_timer_t`), for [`HandleId<Timer>`].
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// let mut lp = EventLoop::new();
/// let timer: uv::HandleId<uv::Timer> = lp.timer_init(|_, _| {});
/// lp.timer_start(timer, 10, 0).unwrap(); // timers start with a deadline, not start_handle
/// assert!(lp.is_active(timer));
/// # lp.stop_handle(timer).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {}
/// Any kind: a [`HandleId`] whose kind was forgotten with [`HandleId::any`].
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// let mut lp = EventLoop::new();
/// let some: Vec<uv::HandleId<uv::AnyHandle>> = vec![lp.idle_init(|_, _| {}).any(), lp.check_init(|_, _| {}).any()];
/// assert!(some.iter().all(|&h| lp.handle_kind(h).is_some()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyHandle {}

/// The kinds that [`start_handle`](super::uv::Uv::start_handle) starts: idle, prepare and
/// check handles, which run once per iteration while active (a timer has a deadline, and
/// starts with `timer_start`).
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// fn start_all<K: uv::Startable>(lp: &mut EventLoop, handles: &[uv::HandleId<K>]) {
///     for &h in handles {
///         lp.start_handle(h).unwrap();
///     }
/// }
/// let mut lp = EventLoop::new();
/// let checks = [lp.check_init(|_, _| {}), lp.check_init(|_, _| {})];
/// start_all(&mut lp, &checks);
/// assert!(checks.iter().all(|&c| lp.is_active(c)));
/// ```
pub trait Startable: sealed::Sealed {}
impl Startable for Idle {}
impl Startable for Prepare {}
impl Startable for Check {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Idle {}
    impl Sealed for super::Prepare {}
    impl Sealed for super::Check {}
}

impl<K> HandleId<K> {
    /// Only while the loop is being built, before Node's own handles exist.
    pub(super) const PLACEHOLDER: HandleId<K> = HandleId(LoopKey::PLACEHOLDER, PhantomData);

    /// The same handle, its kind forgotten: to keep handles of several kinds in one list.
    ///
    /// ```
    /// use eventloop::uv::Uv;
    /// let mut lp = eventloop::EventLoop::new();
    /// let handles = [lp.idle_init(|_, _| {}).any(), lp.timer_init(|_, _| {}).any()];
    /// assert!(handles.iter().all(|&h| !lp.is_active(h)));
    /// ```
    pub fn any(self) -> HandleId {
        HandleId(self.0, PhantomData)
    }

    /// The same handle, typed as kind `T`: only where the loop knows the kind.
    pub(crate) fn typed<T>(self) -> HandleId<T> {
        HandleId(self.0, PhantomData)
    }
}

impl<K> Clone for HandleId<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for HandleId<K> {}
impl<K> PartialEq for HandleId<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<K> Eq for HandleId<K> {}
impl<K> std::hash::Hash for HandleId<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}
impl<K> fmt::Debug for HandleId<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HandleId").field(&self.0).finish()
    }
}

/// What kind of handle it is.
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// let mut lp = EventLoop::new();
/// let timer = lp.timer_init(|_, _| {});
/// assert_eq!(lp.handle_kind(timer), Some(uv::HandleKind::Timer));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// Runs once per iteration, before prepare, and forces a zero poll timeout (`uv_idle_t`).
    Idle,
    /// Runs once per iteration, right before the poll phase (`uv_prepare_t`).
    Prepare,
    /// Runs once per iteration, right after the poll phase (`uv_check_t`).
    Check,
    /// Fires when its deadline passes, maybe repeatedly (`uv_timer_t`).
    Timer,
    /// A handle built on a watched descriptor, such as a TCP socket (`uv_tcp_t`). Its
    /// service (`net`) runs it; the loop only sees it while it closes.
    Io,
}

/// A handle used the wrong way.
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// let mut lp = EventLoop::new();
/// let idle = lp.idle_init(|_, _| {});
/// lp.close(idle, |_| {}).unwrap();
/// assert_eq!(lp.close(idle, |_| {}), Err(uv::HandleError::Closing));
/// lp.run(RunMode::Default);
/// assert_eq!(lp.start_handle(idle), Err(uv::HandleError::Closed));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandleError {
    /// The handle was closed.
    Closed,
    /// The id is another loop's: it names nothing in this one.
    OtherLoop,
    /// `close` was already called; the handle is on its way out.
    Closing,
    /// `timer_again` on a timer that was never started (libuv: `UV_EINVAL`).
    NeverStarted,
}

impl fmt::Display for HandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleError::Closed => f.write_str("the handle is closed"),
            HandleError::OtherLoop => f.write_str("the handle belongs to another event loop"),
            HandleError::Closing => f.write_str("the handle is already closing"),
            HandleError::NeverStarted => f.write_str("the timer was never started"),
        }
    }
}

impl std::error::Error for HandleError {}

impl From<HandleError> for std::io::Error {
    fn from(e: HandleError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// A handle's state.
pub(super) struct Handle {
    pub(super) kind: HandleKind,
    /// Active and ref'd: what the loop's liveness counts.
    pub(super) flags: RefFlags,
    pub(super) closing: bool,
    /// The frame its callback runs in.
    pub(super) name: &'static str,
    pub(super) callback: HandleCallback,
    /// For a timer: its entry in the loop's timer heap.
    pub(super) timer: Option<Key>,
    pub(super) close_callback: Option<Key>,
}

/// What a handle runs when it fires.
#[derive(Debug, Clone, Copy)]
pub(super) enum HandleCallback {
    /// A callback of the program, in the loop's heap.
    User(Key),
    /// Node's check handle: run the immediates (`CheckImmediate`).
    Immediates,
    /// Node's idle handle: nothing; it exists to keep the poll timeout at 0.
    Noop,
    /// Node's one libuv timer: run the due timeouts (`RunTimers`).
    NodeTimers,
}

impl EventLoop {
    pub(super) fn new_handle(
        &mut self,
        kind: HandleKind,
        name: &'static str,
        callback: HandleCallback,
    ) -> HandleId {
        let key = self.handles.insert(Handle {
            kind,
            flags: RefFlags::new(),
            closing: false,
            name,
            callback,
            timer: None,
            close_callback: None,
        });
        HandleId(self.tag(key), PhantomData)
    }

    /// The key of handle `id` in this loop's table; `None` for another loop's id.
    pub(super) fn handle_key(&self, id: HandleId) -> Option<Key> {
        self.untag(id.0)
    }

    /// Handle `id` if it is this loop's and not freed.
    fn handle_ref(&self, id: HandleId) -> Option<&Handle> {
        self.handles.get(self.handle_key(id)?)
    }

    fn init_user(
        &mut self,
        kind: HandleKind,
        name: &'static str,
        mut callback: impl FnMut(&mut EventLoop, HandleId) + 'static,
    ) -> HandleId {
        let id = self.new_handle(kind, name, HandleCallback::Noop);
        let key = self.store(Callback::Repeat(Box::new(move |lp| callback(lp, id))));
        let own = self.handle_key(id).expect("made here");
        let handle = self.handles.get_mut(own).expect("just inserted");
        handle.callback = HandleCallback::User(key);
        if kind == HandleKind::Timer {
            handle.timer = Some(self.timers.uv.insert(own));
        }
        id
    }

    /// Creates a stopped idle handle (`uv_idle_init`); [`start_handle`](Self::start_handle) runs `callback`
    /// in every iteration's idle phase.
    pub(crate) fn idle_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId) + 'static,
    ) -> HandleId {
        self.init_user(HandleKind::Idle, "idle", callback)
    }

    /// Creates a stopped prepare handle (`uv_prepare_init`).
    pub(crate) fn prepare_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId) + 'static,
    ) -> HandleId {
        self.init_user(HandleKind::Prepare, "prepare", callback)
    }

    /// Creates a stopped check handle (`uv_check_init`).
    pub(crate) fn check_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId) + 'static,
    ) -> HandleId {
        self.init_user(HandleKind::Check, "check", callback)
    }

    /// Creates a stopped libuv timer (`uv_timer_init`); see [`timer_start`](Self::timer_start).
    pub(crate) fn timer_init(
        &mut self,
        callback: impl FnMut(&mut EventLoop, HandleId) + 'static,
    ) -> HandleId {
        self.init_user(HandleKind::Timer, "timer", callback)
    }

    /// The key of handle `id`, if it is this loop's, live and not closing.
    fn open_handle(&self, id: HandleId) -> Result<Key, HandleError> {
        let key = self.handle_key(id).ok_or(HandleError::OtherLoop)?;
        let handle = self.handles.get(key).ok_or(HandleError::Closed)?;
        if handle.closing {
            return Err(HandleError::Closing);
        }
        Ok(key)
    }

    fn handle(&self, id: HandleId) -> Result<&Handle, HandleError> {
        let key = self.open_handle(id)?;
        Ok(self.handles.get(key).expect("checked just now"))
    }

    /// The kind of a handle that is not closed.
    pub(crate) fn handle_kind(&self, id: HandleId) -> Option<HandleKind> {
        self.handle_ref(id).map(|h| h.kind)
    }

    /// True between start and stop or close (`uv_is_active`).
    pub(crate) fn is_active(&self, id: HandleId) -> bool {
        self.handle_ref(id).is_some_and(|h| h.flags.is_active())
    }

    /// True after `close` was called, until the close callback ran (`uv_is_closing`).
    pub(crate) fn is_closing(&self, id: HandleId) -> bool {
        self.handle_ref(id).is_some_and(|h| h.closing)
    }

    /// True when the handle keeps the loop alive while active (`uv_has_ref`).
    pub(crate) fn has_ref(&self, id: HandleId) -> bool {
        self.handle_ref(id).is_some_and(|h| h.flags.has_ref())
    }

    // ANCHOR: set_active
    /// Marks a handle active or not; the loop's [`Liveness`](crate::refs::Liveness) keeps
    /// count of the active, ref'd ones.
    pub(super) fn set_active(&mut self, id: HandleId, active: bool) {
        if let Some(key) = self.handle_key(id) {
            self.set_active_at(key, active);
        }
    }

    /// [`set_active`](Self::set_active) for a handle the loop names by its key.
    pub(super) fn set_active_at(&mut self, key: Key, active: bool) {
        let Some(handle) = self.handles.get_mut(key) else {
            return;
        };
        if active {
            self.liveness.start(&mut handle.flags);
        } else {
            self.liveness.stop(&mut handle.flags);
        }
    }

    /// `uv_ref` (`refed`) and `uv_unref`: whether the handle keeps the loop alive while it is
    /// active. Idempotent: ref is a flag, not a counter. An unref'd handle still runs whenever
    /// the loop iterates for another reason.
    pub(super) fn set_ref(&mut self, id: HandleId, refed: bool) {
        let Some(handle) = self
            .handle_key(id)
            .and_then(|key| self.handles.get_mut(key))
        else {
            return;
        };
        if refed {
            self.liveness.ref_(&mut handle.flags);
        } else {
            self.liveness.unref(&mut handle.flags);
        }
    }
    // ANCHOR_END: set_active

    /// Starts an idle, prepare or check handle (`uv_idle_start` and friends). Starting an
    /// active handle does nothing. A handle started during its own phase first runs in the
    /// next iteration.
    ///
    /// `id` is an idle, prepare or check handle: the public [`Uv::start_handle`] takes only
    /// a `HandleId<K: Startable>`, and the loop's own callers start only their check and
    /// idle handles.
    ///
    /// # Errors
    /// [`HandleError`] for a closed or closing handle.
    ///
    /// [`Uv::start_handle`]: super::uv::Uv::start_handle
    pub(crate) fn start_handle(&mut self, id: HandleId) -> Result<(), HandleError> {
        let key = self.open_handle(id)?;
        let handle = self.handles.get(key).expect("checked just now");
        if handle.flags.is_active() {
            return Ok(());
        }
        let kind = handle.kind;
        self.queues.start_seq += 1;
        let entry = (key, self.queues.start_seq);
        match kind {
            HandleKind::Idle => self.queues.idle.push(entry),
            HandleKind::Prepare => self.queues.prepare.push(entry),
            HandleKind::Check => self.queues.check.push(entry),
            HandleKind::Timer | HandleKind::Io => {
                unreachable!("only a HandleId<K: Startable> is started, never a {kind:?} handle")
            }
        }
        self.set_active_at(key, true);
        Ok(())
    }

    /// Stops a handle of any kind (`uv_*_stop`). Stopping a stopped handle does nothing; a
    /// timer that is due in the current pass but has not run yet will not run.
    ///
    /// # Errors
    /// [`HandleError::Closed`] for a closed handle, [`HandleError::OtherLoop`] for another
    /// loop's.
    pub(crate) fn stop_handle(&mut self, id: HandleId) -> Result<(), HandleError> {
        let key = self.handle_key(id).ok_or(HandleError::OtherLoop)?;
        let handle = self.handles.get(key).ok_or(HandleError::Closed)?;
        let (kind, timer) = (handle.kind, handle.timer);
        match kind {
            HandleKind::Idle => self.queues.idle.retain(|(h, _)| *h != key),
            HandleKind::Prepare => self.queues.prepare.retain(|(h, _)| *h != key),
            HandleKind::Check => self.queues.check.retain(|(h, _)| *h != key),
            HandleKind::Timer => {
                if let Some(timer) = timer {
                    self.timers.uv.stop(timer);
                }
            }
            HandleKind::Io => {}
        }
        self.set_active_at(key, false);
        Ok(())
    }

    /// Starts (or restarts) a timer to fire `timeout_ms` after the loop's cached time, then
    /// every `repeat_ms` if that is not 0 (`uv_timer_start`). Like libuv it does not re-read
    /// the clock: after a long callback, the timeout counts from the stale loop time.
    ///
    /// # Errors
    /// [`HandleError`] for a closed or closing handle.
    pub(crate) fn timer_start(
        &mut self,
        id: HandleId,
        timeout_ms: u64,
        repeat_ms: u64,
    ) -> Result<(), HandleError> {
        let timer = self.timer_key(id)?;
        self.timers.uv.start(timer, self.now, timeout_ms, repeat_ms);
        self.set_active(id, true);
        Ok(())
    }

    /// Restarts a repeating timer from now with its repeat interval; does nothing for a timer
    /// that does not repeat (`uv_timer_again`).
    ///
    /// # Errors
    /// [`HandleError::NeverStarted`] when the timer was never started, or the errors of
    /// [`timer_start`](Self::timer_start).
    pub(crate) fn timer_again(&mut self, id: HandleId) -> Result<(), HandleError> {
        let timer = self.timer_key(id)?;
        self.timers
            .uv
            .again(timer, self.now)
            .map_err(|_| HandleError::NeverStarted)?;
        let active = self.timers.uv.is_active(timer);
        self.set_active(id, active);
        Ok(())
    }

    /// Sets the repeat interval used by the next `timer_again` or firing
    /// (`uv_timer_set_repeat`).
    ///
    /// # Errors
    /// As [`timer_start`](Self::timer_start).
    pub(crate) fn timer_set_repeat(
        &mut self,
        id: HandleId,
        repeat_ms: u64,
    ) -> Result<(), HandleError> {
        let timer = self.timer_key(id)?;
        self.timers.uv.set_repeat(timer, repeat_ms);
        Ok(())
    }

    /// Milliseconds until the timer fires, 0 if it is overdue or stopped
    /// (`uv_timer_get_due_in`).
    pub(crate) fn timer_due_in(&self, id: HandleId) -> u64 {
        self.handle_ref(id)
            .and_then(|h| h.timer)
            .map_or(0, |t| self.timers.uv.due_in(t, self.now))
    }

    /// The timer of handle `id`, which is a timer: the public timer verbs take only a
    /// `HandleId<Timer>`, and Node's own timers call them with their timer handle.
    fn timer_key(&self, id: HandleId) -> Result<Key, HandleError> {
        let handle = self.handle(id)?;
        Ok(handle
            .timer
            .unwrap_or_else(|| unreachable!("a timer verb on a {:?} handle", handle.kind)))
    }

    // ANCHOR: close
    /// Closes a handle (`uv_close`): it stops at once, and `callback` runs in the closing
    /// phase of this iteration — or the next one, when called from a close callback. Close
    /// callbacks run newest first.
    ///
    /// # Errors
    /// [`HandleError::Closing`] when `close` was already called, [`HandleError::Closed`] when
    /// the handle is gone, [`HandleError::OtherLoop`] for another loop's.
    pub(crate) fn close(
        &mut self,
        id: HandleId,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) -> Result<(), HandleError> {
        self.handle(id)?;
        self.stop_handle(id)?;
        let key = self.store(Callback::Once(Box::new(callback)));
        let own = self.handle_key(id).expect("checked above");
        let handle = self.handles.get_mut(own).expect("checked above");
        handle.closing = true;
        handle.close_callback = Some(key);
        self.queues.closing.push(own);
        self.note_queued(Queue::Closing, "close", Some(key));
        Ok(())
    }
    // ANCHOR_END: close

    /// Puts an I/O handle that its service has already stopped (descriptor unwatched and
    /// closed, as `uv__stream_close` does inside `uv_close`) on the closing list: `callback`
    /// runs in the closing phase (in a `close` frame), in the same newest-first order as
    /// every other close callback. `name` names the handle.
    pub(crate) fn close_io(
        &mut self,
        name: &'static str,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) {
        let id = self.new_handle(HandleKind::Io, name, HandleCallback::Noop);
        let key = self.store(Callback::Once(Box::new(callback)));
        let own = self.handle_key(id).expect("made here");
        let handle = self.handles.get_mut(own).expect("just inserted");
        handle.closing = true;
        handle.close_callback = Some(key);
        self.queues.closing.push(own);
        self.note_queued(Queue::Closing, "close", Some(key));
    }

    /// Frees a handle whose close callback is due, and runs that callback
    /// (`uv__finish_close`).
    pub(super) fn finish_close(&mut self, handle: Key) {
        let Some(handle) = self.handles.remove(handle) else {
            return;
        };
        if let HandleCallback::User(key) = handle.callback {
            self.discard(key);
        }
        if let Some(timer) = handle.timer {
            self.timers.uv.remove(timer);
        }
        if let Some(key) = handle.close_callback {
            self.note_unqueued(Queue::Closing, Some(key));
            self.invoke(key, "close", Input::None);
            self.checkpoint();
        }
    }

    /// Runs the callback of the handle at `key`, as the phase that visits it does.
    pub(super) fn run_handle(&mut self, key: Key) {
        let Some(handle) = self.handles.get(key) else {
            return;
        };
        let name = handle.name;
        match handle.callback {
            HandleCallback::User(key) => {
                self.invoke(key, name, Input::None);
                self.checkpoint();
            }
            HandleCallback::Immediates => self.process_immediates(),
            HandleCallback::Noop => {}
            HandleCallback::NodeTimers => self.process_node_timers(),
        }
    }
}

/// A libuv-level handle: `uv_ref`, `uv_unref`, `uv_has_ref`.
impl<K> super::Ref for HandleId<K> {
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        lp.set_ref(self.any(), refed);
    }

    fn has_ref(self, lp: &EventLoop) -> bool {
        lp.has_ref(self.any())
    }
}
