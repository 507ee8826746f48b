//! Kernel I/O for the poll phase (chapter 8): which file descriptors the loop watches, for
//! what, and which of them the kernel says are ready (libuv's `uv__io_t`, `uv__io_start`,
//! `uv__io_stop` and `uv__io_poll` in `src/unix/core.c` and `src/unix/linux.c`).
//!
//! This is a mechanism: it holds watchers (the owner of a descriptor, the current interest,
//! and a payload — what the loop needs to run the callback) and answers "which watchers are
//! ready, and for what?". A watcher owns (a share of) what it watches, so the descriptor stays
//! open, and its number cannot pass to another file, until the watcher is removed.
//! The loop runs the callbacks. Two rules from libuv live here:
//! - readiness is *masked by the watcher's interest at dispatch time*: a watcher whose
//!   interest an earlier callback of the same batch narrowed or removed gets only what it
//!   still wants — possibly nothing (`Io::dispatch`);
//! - the wake-up descriptor other threads use is watched too, under a token of its own, and is
//!   read dry when it fires.

// EXERCISE `io` (chapter 8): Dispatch: readiness masked by what a watcher wants now.
// Replace every `todo!()` below with working code; each has a `// TODO` that says what
// it should do. Check your work with `cargo learn io`.
// Generated from src/io.rs; `cargo learn reset io` restores this file.
#![allow(unused)] // the learner's unfinished code leaves variables unused

use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Duration;

use crate::heap::{Heap, Key};
use crate::sys::{Event, Interest, Poller, Waker};

/// The token the wake-up descriptor is registered with; no watcher key packs to it.
const WAKER_TOKEN: usize = usize::MAX;

/// A watcher's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WatcherId(Key);

struct Watcher<P> {
    /// What owns the descriptor (or a share of it): kept until the watcher is removed, so the
    /// descriptor is open, and the same file, for every `epoll_ctl` made for it.
    source: Box<dyn AsFd>,
    /// What the kernel is asked to report now.
    interest: Interest,
    payload: P,
}

impl<P: std::fmt::Debug> std::fmt::Debug for Watcher<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("fd", &self.source.as_fd())
            .field("interest", &self.interest)
            .field("payload", &self.payload)
            .finish()
    }
}

/// The loop's watchers and its poller.
#[derive(Debug)]
pub(crate) struct Io<P> {
    poller: Poller,
    watchers: Heap<Watcher<P>>,
    /// Watchers with a non-empty interest.
    active: usize,
    waker: Arc<Waker>,
    /// What the last wait reported, waiting to be dispatched.
    events: Vec<Event>,
}

/// What one wait found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Polled {
    /// Ready watcher events now waiting for [`Io::dispatch`].
    pub events: usize,
    /// The wake-up descriptor fired (and was read dry): another thread has news.
    pub woken: bool,
}

impl<P> Io<P> {
    /// A poller with the wake-up descriptor registered.
    ///
    /// # Errors
    /// When the kernel refuses a descriptor (for example `EMFILE`).
    pub fn new() -> io::Result<Io<P>> {
        let poller = Poller::new()?;
        let waker = Arc::new(Waker::new()?);
        poller.add(waker.fd(), WAKER_TOKEN, Interest::READABLE)?;
        Ok(Io {
            poller,
            watchers: Heap::new(),
            active: 0,
            waker,
            events: Vec::new(),
        })
    }

    /// The wake-up other threads use to end a wait.
    pub fn waker(&self) -> &Arc<Waker> {
        &self.waker
    }

    /// Watchers registered (active or not).
    pub fn watchers(&self) -> usize {
        self.watchers.len()
    }

    /// Events of the last wait that [`dispatch`](Self::dispatch) has not handed out yet: the
    /// loop's callbacks take them one at a time, and a panic may leave some for later.
    pub fn undispatched(&self) -> usize {
        self.events.len()
    }

    /// Watchers currently waiting for something.
    pub fn active_watchers(&self) -> usize {
        self.active
    }

    /// Starts watching the descriptor of `source` for `interest` (`uv__io_start`), and keeps
    /// `source` until [`unwatch`](Self::unwatch): an owner (`OwnedFd`, a socket) or a shared
    /// one (`Rc<TcpStream>`). While it is kept the descriptor cannot be closed, so `unwatch`
    /// always reaches this descriptor, never one that reused its number. On an error
    /// `source` is dropped.
    ///
    /// # Errors
    /// What `epoll_ctl` says: `EEXIST` if already watched, `EPERM` for a regular file
    /// (files are always "ready"; they go to the thread pool).
    pub fn watch(
        &mut self,
        source: impl AsFd + 'static,
        interest: Interest,
        payload: P,
    ) -> io::Result<WatcherId> {
        let key = self.watchers.insert(Watcher {
            source: Box::new(source),
            interest,
            payload,
        });
        let fd = self
            .watchers
            .get(key)
            .expect("just inserted")
            .source
            .as_fd();
        if let Err(e) = self.poller.add(fd, key.to_bits() as usize, interest) {
            self.watchers.remove(key);
            return Err(e);
        }
        if interest != Interest::NONE {
            self.active += 1;
        }
        Ok(WatcherId(key))
    }

    /// Changes what a watcher waits for (`uv__io_start` / `uv__io_stop` with some events).
    /// [`Interest::NONE`] keeps it registered but quiet.
    ///
    /// # Errors
    /// `NotFound` for a watcher that was removed; what `epoll_ctl` says otherwise.
    pub fn set_interest(&mut self, id: WatcherId, interest: Interest) -> io::Result<()> {
        let watcher = self
            .watchers
            .get_mut(id.0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such watcher"))?;
        if watcher.interest == interest {
            return Ok(()); // nothing to tell the kernel: no system call
        }
        self.poller
            .modify(watcher.source.as_fd(), id.0.to_bits() as usize, interest)?;
        match (
            watcher.interest == Interest::NONE,
            interest == Interest::NONE,
        ) {
            (true, false) => self.active += 1,
            (false, true) => self.active -= 1,
            _ => {}
        }
        watcher.interest = interest;
        Ok(())
    }

    /// The interest a watcher has now, or `None` once removed.
    pub fn interest(&self, id: WatcherId) -> Option<Interest> {
        self.watchers.get(id.0).map(|w| w.interest)
    }

    /// The payload of a live watcher.
    pub fn payload(&self, id: WatcherId) -> Option<&P> {
        self.watchers.get(id.0).map(|w| &w.payload)
    }

    /// The payload of a live watcher, to change.
    pub fn payload_mut(&mut self, id: WatcherId) -> Option<&mut P> {
        self.watchers.get_mut(id.0).map(|w| &mut w.payload)
    }

    /// Stops watching and forgets the watcher, returning its payload, then drops its
    /// `source` (an owned descriptor closes now; a shared one when its last owner lets go).
    /// Events the last wait reported for it are dropped.
    ///
    /// # Errors
    /// `NotFound` for a watcher already removed.
    pub fn unwatch(&mut self, id: WatcherId) -> io::Result<P> {
        let watcher = self
            .watchers
            .remove(id.0)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such watcher"))?;
        if watcher.interest != Interest::NONE {
            self.active -= 1;
        }
        // The source kept the descriptor open, the same file and registered: this reaches
        // it and only it, and cannot fail (`EBADF`, `ENOENT` need a closed descriptor).
        let deleted = self.poller.delete(watcher.source.as_fd());
        debug_assert!(
            deleted.is_ok(),
            "epoll_ctl DEL of a watched descriptor: {deleted:?}"
        );
        Ok(watcher.payload)
    }

    /// Waits for readiness up to `timeout` (`None`: until something happens) and keeps the
    /// events for [`dispatch`](Self::dispatch). The wake-up descriptor is read dry here.
    ///
    /// # Errors
    /// What `epoll_wait` says (`EINTR` is retried inside).
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<Polled> {
        self.events.clear();
        self.poller.wait(&mut self.events, timeout)?;
        // Dispatch takes events from the back; keep the kernel's order.
        self.events.reverse();
        // The kernel reports a descriptor once per wait: one look finds the wake-up's event,
        // and only a wait it ended moves the others.
        let waker_event = self.events.iter().position(|e| e.token == WAKER_TOKEN);
        let woken = waker_event.is_some();
        if let Some(i) = waker_event {
            self.events.remove(i);
            self.waker.drain()?;
        }
        Ok(Polled {
            events: self.events.len(),
            woken,
        })
    }

    /// The next event of the last wait, masked by what its watcher wants *now*: one whose
    /// watcher was removed, or no longer wants any of what happened, is skipped. Returns the
    /// watcher, its payload and what it is ready for.
    pub fn dispatch(&mut self) -> Option<(WatcherId, P, Event)>
    where
        P: Copy,
    {
        // TODO: hand out the next event, masked by its watcher's interest now.
        // The next event of the last wait, in the kernel's order, as its watcher wants it
        // now: readable only if it still waits to read, writable only if it still waits
        // to write, an error or a hang-up counting as both. An event whose watcher is
        // gone, or that leaves it nothing, is skipped, never the end of the batch. None
        // once no event is left.
        // Example: an event "writable" for a watcher a callback narrowed to reading is
        // skipped, and the event after it is returned.
        todo!("hand out the next event, masked by its watcher's interest now")
    }
}
