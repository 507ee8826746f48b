//! The loop's side of kernel I/O (chapter 8): watching file descriptors, and the real poll
//! phase — wait in the kernel, then run the ready watchers' callbacks, each followed by a
//! checkpoint, and the thread pool's completions, which now arrive through the same wait.
//!
//! A watcher whose interest is not empty is an *active handle*: ref'd, it keeps the loop
//! alive (a listening server, a socket being read). The wake-up descriptor the pool writes to
//! is unref'd, like libuv's `wq_async`.

use std::io;
use std::os::fd::AsFd;
use std::rc::Weak;
use std::time::Duration;

use super::{Callback, EventLoop, LoopKey, WatchHandler};
use crate::heap::Key;
use crate::io::{Io, WatcherId};
use crate::refs::RefFlags;
use crate::sys::{Event, Interest};

/// What the loop keeps for each watcher: `Io` holds it as the watcher's payload, so the
/// event that reaches a watcher finds its callback in the slot it was dispatched from.
#[derive(Clone, Copy)]
pub(super) struct IoEntry {
    name: &'static str,
    /// The callback's key in the loop's heap.
    callback: Key,
    flags: RefFlags,
}

/// A watched file descriptor. [`unwatch_fd`](super::uv::Uv::unwatch_fd) stops it and lets go of the
/// descriptor's owner that [`watch_fd`](super::uv::Uv::watch_fd) was given. On another loop than the one
/// that made it, every method that returns `io::Result` refuses it with `InvalidInput`, and
/// the others treat it as a removed watcher.
///
/// ```
/// use eventloop::prelude::*;
/// use eventloop::uv::{self, Uv};
///
/// use eventloop::sys::Interest;
/// use std::os::unix::net::UnixStream;
///
/// let (a, mut b) = UnixStream::pair().unwrap();
/// let mut lp = EventLoop::new();
/// let watch: uv::FdWatch = lp
///     .watch_fd(a, Interest::READABLE, "pipe", |lp, _event| lp.set_exit_code(8))
///     .unwrap();
/// std::io::Write::write_all(&mut b, b"!").unwrap();
/// lp.run(RunMode::Once); // poll sees the byte
/// lp.unwatch_fd(watch).unwrap();
/// assert_eq!(lp.exit_code(), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FdWatch(LoopKey<WatcherId>);

fn no_watcher() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "this descriptor is not watched (any more)",
    )
}

impl EventLoop {
    // ANCHOR: io
    /// The loop's poller, created on first use (a loop that never does I/O opens no
    /// descriptor). From then on the pool's wake-ups write to its wake-up descriptor.
    pub(super) fn io(&mut self) -> io::Result<&mut Io<IoEntry>> {
        if self.io.poller.is_none() {
            let io = Io::new()?;
            let waker = io.waker().clone();
            self.work
                .completions
                .wakeup()
                .set_notifier(Box::new(move || drop(waker.wake())));
            self.io.poller = Some(io);
        }
        Ok(self.io.poller.as_mut().expect("just created"))
    }
    // ANCHOR_END: io

    // ANCHOR: watch_fd
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
    pub(crate) fn watch_fd(
        &mut self,
        source: impl AsFd + 'static,
        interest: Interest,
        name: &'static str,
        callback: impl FnMut(&mut EventLoop, Event) + 'static,
    ) -> io::Result<FdWatch> {
        self.watch_fd_with(source, interest, name, Callback::Ready(Box::new(callback)))
    }

    /// Watches `source` with `callback`, a `Ready` or `Shared` one.
    fn watch_fd_with(
        &mut self,
        source: impl AsFd + 'static,
        interest: Interest,
        name: &'static str,
        callback: Callback,
    ) -> io::Result<FdWatch> {
        let callback = self.store(callback);
        let entry = IoEntry {
            name,
            callback,
            flags: RefFlags::new(),
        };
        let watched = self.io().and_then(|io| io.watch(source, interest, entry));
        match watched {
            Ok(id) => {
                if interest != Interest::NONE {
                    let io = self.io.poller.as_mut().expect("just watched");
                    let entry = io.payload_mut(id).expect("just watched");
                    self.liveness.start(&mut entry.flags);
                }
                Ok(FdWatch(self.tag(id)))
            }
            Err(e) => {
                self.discard(callback);
                Err(e)
            }
        }
    }
    // ANCHOR_END: watch_fd

    /// [`watch_fd`](Self::watch_fd) with a handler the watcher shares with its owner, held
    /// weakly (a TCP stream's socket, which the owner keeps): no closure in between.
    pub(crate) fn watch_fd_shared(
        &mut self,
        source: impl AsFd + 'static,
        interest: Interest,
        name: &'static str,
        handler: Weak<dyn WatchHandler>,
    ) -> io::Result<FdWatch> {
        self.watch_fd_with(source, interest, name, Callback::Shared(handler))
    }

    /// Changes what a watched descriptor waits for; [`Interest::NONE`] makes the watcher
    /// inactive (it no longer keeps the loop alive) without forgetting it. Setting the
    /// interest it already has costs no system call.
    ///
    /// # Errors
    /// `NotFound` for a watcher already removed, `InvalidInput` for another loop's; what
    /// `epoll_ctl` says otherwise.
    pub(crate) fn set_fd_interest(&mut self, watch: FdWatch, interest: Interest) -> io::Result<()> {
        let id = self.untag_or_err(watch.0, "watcher")?;
        let io = self.io.poller.as_mut().ok_or_else(no_watcher)?;
        io.set_interest(id, interest)?;
        let entry = io.payload_mut(id).expect("a live watcher has an entry");
        if interest == Interest::NONE {
            self.liveness.stop(&mut entry.flags);
        } else {
            self.liveness.start(&mut entry.flags);
        }
        Ok(())
    }

    /// What a watcher waits for now, or `None` once it was removed (or for another loop's).
    pub(crate) fn fd_interest(&self, watch: FdWatch) -> Option<Interest> {
        self.io.poller.as_ref()?.interest(self.untag(watch.0)?)
    }

    /// Lets the loop end while this watcher waits (`uv_unref` on its handle), or (`refed`)
    /// makes it keep the loop alive again. Idempotent; nothing for a removed watcher or
    /// another loop's.
    pub(crate) fn set_fd_ref(&mut self, watch: FdWatch, refed: bool) {
        let Some(id) = self.untag(watch.0) else {
            return;
        };
        let Some(entry) = self.io.poller.as_mut().and_then(|io| io.payload_mut(id)) else {
            return;
        };
        if refed {
            self.liveness.ref_(&mut entry.flags);
        } else {
            self.liveness.unref(&mut entry.flags);
        }
    }

    /// Stops watching, drops the callback (`uv__io_close`) and lets go of the descriptor's
    /// owner given to [`watch_fd`](Self::watch_fd): an owned descriptor is closed now, a
    /// shared one when its last owner drops it. Ready events the current poll phase has not
    /// dispatched yet are discarded.
    ///
    /// # Errors
    /// `NotFound` for a watcher already removed, `InvalidInput` for another loop's.
    pub(crate) fn unwatch_fd(&mut self, watch: FdWatch) -> io::Result<()> {
        let id = self.untag_or_err(watch.0, "watcher")?;
        let io = self.io.poller.as_mut().ok_or_else(no_watcher)?;
        let mut entry = io.unwatch(id)?;
        self.liveness.stop(&mut entry.flags);
        self.discard(entry.callback);
        Ok(())
    }

    /// Watchers registered, active or not.
    pub(crate) fn fd_watchers(&self) -> usize {
        self.io.poller.as_ref().map_or(0, Io::watchers)
    }

    /// A live watcher's entry; `None` once removed, or for another loop's.
    fn watcher_entry(&self, watch: FdWatch) -> Option<IoEntry> {
        let id = self.untag(watch.0)?;
        self.io.poller.as_ref()?.payload(id).copied()
    }

    /// The part of `watch` that names it inside this loop, for a service that keeps it in
    /// the loop's own state, where 8 bytes a connection count (`net`); `None` for another
    /// loop's. [`fd_watch`](Self::fd_watch) makes the id again.
    pub(crate) fn local_watch(&self, watch: FdWatch) -> Option<WatcherId> {
        self.untag(watch.0)
    }

    /// The id of this loop's watcher `local`.
    pub(crate) fn fd_watch(&self, local: WatcherId) -> FdWatch {
        FdWatch(self.tag(local))
    }

    // ANCHOR: poll_kernel
    /// The poll phase's wait once the loop has a poller: waits in the kernel up to `timeout` ms
    /// (`None`: until something is ready) and keeps what it reports for
    /// [`run_ready_watchers`](Self::run_ready_watchers); returns how many descriptors the
    /// kernel reported ready, if it was asked (for the trace). The poll phase calls it only
    /// when something can end the wait: an active watcher, or a job whose worker will write to
    /// the wake-up descriptor.
    pub(super) fn poll_kernel(&mut self, timeout: Option<u64>) -> Option<usize> {
        let io = self.io.poller.as_mut().expect("called only with a poller");
        if io.undispatched() > 0 {
            return None; // the rest of a batch a panic cut short: it runs before anything new
        }
        let completions_waiting = self.work.completions.wakeup().is_pending();
        // Nothing could be ready and nothing asked to wait: skip the system call. A loop whose
        // only descriptor is the pool's wake-up looks at the completion queue directly.
        if (timeout == Some(0) || completions_waiting) && io.active_watchers() == 0 {
            return None;
        }
        let wait = match timeout {
            _ if completions_waiting => Some(Duration::ZERO),
            Some(0) => Some(Duration::ZERO),
            // A manual clock does not move while we wait, and something is sure to end the
            // wait: wait for the kernel alone.
            _ if self.clock.is_manual() => None,
            ms => ms.map(Duration::from_millis),
        };
        match io.poll(wait) {
            Ok(polled) => Some(polled.events),
            Err(e) => {
                self.note_poll_cut_short(timeout);
                panic!("epoll_wait failed: {e}") // EBADF/EINVAL: a bug of ours
            }
        }
    }

    /// Runs the watchers the last wait found ready, one event at a time: the events stay in
    /// the poller until their turn, so a panic leaves the rest for the next poll phase.
    pub(super) fn run_ready_watchers(&mut self) {
        while let Some((_, entry, event)) = self.io.poller.as_mut().and_then(Io::dispatch) {
            self.run_watcher(entry, event);
        }
    }
    // ANCHOR_END: poll_kernel

    /// Runs a fed watcher's callback with a writable event, if the watcher still exists.
    pub(super) fn run_fed(&mut self, watch: FdWatch) {
        let Some(entry) = self.watcher_entry(watch) else {
            return; // unwatched since it was fed
        };
        let fed = Event {
            token: 0,
            readable: false,
            writable: true,
            error: false,
            hangup: false,
            read_closed: false,
        };
        self.run_watcher(entry, fed);
    }

    /// Runs a watcher's callback (through [`invoke_ready`](Self::invoke_ready), which puts it
    /// back), then a checkpoint.
    fn run_watcher(&mut self, entry: IoEntry, event: Event) {
        self.invoke_ready(entry.callback, entry.name, event);
        self.checkpoint();
    }
}

/// A descriptor's watcher (`uv_ref`/`uv_unref` on the handle that owns it): an unref'd
/// watcher still fires whenever the loop runs for another reason.
impl super::Ref for FdWatch {
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        lp.set_fd_ref(*self, refed);
    }

    fn has_ref(self, lp: &EventLoop) -> bool {
        lp.watcher_entry(self)
            .is_some_and(|entry| entry.flags.has_ref())
    }
}
