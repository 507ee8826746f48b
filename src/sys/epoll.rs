//! epoll: the kernel keeps the interest list, and a wait returns only the ready descriptors,
//! so its cost grows with what is ready, not with what is watched (`epoll_create1`,
//! `epoll_ctl`, `epoll_wait` — the three system calls of libuv's `src/unix/linux.c`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::{Event, Interest, timeout_ms};

/// A poller over one epoll instance. Registrations are level-triggered: a descriptor that
/// stays readable is reported by every wait until it is read dry.
///
/// ```
/// use eventloop::sys::epoll::Poller;
/// use eventloop::sys::{Event, Interest};
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
///
/// let (a, b) = UnixStream::pair().unwrap();
/// let mut poller = Poller::new().unwrap();
/// poller.add(a.as_fd(), 7, Interest::READABLE).unwrap();
/// std::io::Write::write_all(&mut &b, b"x").unwrap();
/// let mut events = Vec::new();
/// poller.wait(&mut events, None).unwrap();
/// assert!(events[0].token == 7 && events[0].readable);
/// ```
#[derive(Debug)]
pub struct Poller {
    epoll: OwnedFd,
    /// Reused by every wait.
    buffer: Vec<libc::epoll_event>,
}

fn flags(interest: Interest) -> u32 {
    // epoll reports errors and hang-ups even to a registration that asked for nothing, and
    // keeps reporting them while they last (a reset socket nobody reads): a quiet watcher
    // would make every wait return at once. One-shot reports such an event once, then
    // disarms the descriptor until the next `modify` (libuv instead deletes a descriptor
    // that reports events nobody wants, in `uv__io_poll`).
    if interest == Interest::NONE {
        return libc::EPOLLONESHOT as u32;
    }
    let mut flags = 0;
    if interest.readable {
        flags |= (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
    }
    if interest.writable {
        flags |= libc::EPOLLOUT as u32;
    }
    if interest.edge {
        flags |= libc::EPOLLET as u32;
    }
    flags
}

impl Poller {
    // ANCHOR: epoll_create_ctl
    /// A new epoll instance (`epoll_create1(EPOLL_CLOEXEC)`).
    ///
    /// # Errors
    /// What `epoll_create1` reports: `EMFILE` or `ENFILE` out of descriptors, `ENOMEM`.
    ///
    /// ```
    /// use eventloop::sys::epoll::Poller;
    /// use eventloop::sys::{Event, Interest};
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// let mut poller = Poller::new().unwrap();
    /// let mut events: Vec<Event> = Vec::new();
    /// assert_eq!(poller.wait(&mut events, Some(std::time::Duration::ZERO)).unwrap(), 0);
    /// ```
    pub fn new() -> io::Result<Poller> {
        // SAFETY: `epoll_create1` takes a flag and no memory; it only creates a descriptor.
        let fd = unsafe { syscall!(epoll_create1(libc::EPOLL_CLOEXEC)) }?;
        // SAFETY: `epoll_create1` just returned this descriptor and nothing else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Poller {
            epoll,
            buffer: Vec::with_capacity(1024),
        })
    }

    fn ctl(
        &self,
        op: libc::c_int,
        fd: BorrowedFd<'_>,
        event: Option<(usize, Interest)>,
    ) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: event.map_or(0, |(_, interest)| flags(interest)),
            u64: event.map_or(0, |(token, _)| token as u64),
        };
        // SAFETY: `self.epoll` is an epoll descriptor we own, open while `self` lives; `ev`
        // is an initialised `epoll_event` on our stack, alive for the whole call, which the
        // kernel only reads. `fd` is borrowed, so it is open and names its owner's file for
        // the whole call; no memory is reached through it.
        unsafe {
            syscall!(epoll_ctl(
                self.epoll.as_raw_fd(),
                op,
                fd.as_raw_fd(),
                &mut ev
            ))
        }?;
        Ok(())
    }

    /// Starts watching `fd` for `interest`; waits report it with `token`.
    ///
    /// The registration outlives the borrow: keep the descriptor open until
    /// [`delete`](Self::delete). Closed first, it leaves epoll by itself, and its number
    /// passes to the next descriptor opened, which a later `modify` or `delete` would then
    /// reach. The loop's `Io` (crate-private, in [`crate::io`]) keeps this promise by owning
    /// what it watches.
    ///
    /// # Errors
    /// What `epoll_ctl` reports: `EEXIST` for a descriptor already watched, `EPERM` for one
    /// epoll cannot watch (a regular file), `ENOSPC` past the watch limit.
    ///
    /// ```
    /// use eventloop::sys::epoll::Poller;
    /// use eventloop::sys::{Event, Interest};
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let mut poller = Poller::new().unwrap();
    /// poller.add(a.as_fd(), 1, Interest::WRITABLE).unwrap(); // an empty socket buffer: writable now
    /// let mut events = Vec::new();
    /// assert_eq!(poller.wait(&mut events, None).unwrap(), 1);
    /// ```
    pub fn add(&self, fd: BorrowedFd<'_>, token: usize, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, Some((token, interest)))
    }
    // ANCHOR_END: epoll_create_ctl

    /// Changes what `fd` is watched for.
    ///
    /// # Errors
    /// What `epoll_ctl` reports: `ENOENT` for a descriptor that is not watched.
    ///
    /// ```
    /// use eventloop::sys::epoll::Poller;
    /// use eventloop::sys::{Event, Interest};
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let mut poller = Poller::new().unwrap();
    /// poller.add(a.as_fd(), 1, Interest::WRITABLE).unwrap();
    /// poller.modify(a.as_fd(), 1, Interest::NONE).unwrap(); // registered, waiting for nothing
    /// let mut events = Vec::new();
    /// assert_eq!(poller.wait(&mut events, Some(std::time::Duration::ZERO)).unwrap(), 0);
    /// ```
    pub fn modify(&self, fd: BorrowedFd<'_>, token: usize, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, Some((token, interest)))
    }

    /// Stops watching `fd`.
    ///
    /// # Errors
    /// What `epoll_ctl` reports: `ENOENT` for a descriptor that is not watched.
    ///
    /// ```
    /// use eventloop::sys::epoll::Poller;
    /// use eventloop::sys::{Event, Interest};
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let mut poller = Poller::new().unwrap();
    /// poller.add(a.as_fd(), 1, Interest::WRITABLE).unwrap();
    /// poller.delete(a.as_fd()).unwrap();
    /// assert!(poller.delete(a.as_fd()).is_err()); // ENOENT: not watched any more
    /// ```
    pub fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, None)
    }

    // ANCHOR: epoll_wait
    /// Waits until a registered descriptor is ready or `timeout` passes (`None`: no limit),
    /// and appends the ready ones to `events`. A wait interrupted by a signal (`EINTR`) is
    /// resumed with the time that is left. Returns how many events were added.
    ///
    /// # Errors
    /// What `epoll_wait` reports, but `EINTR` (resumed).
    ///
    /// ```
    /// use eventloop::sys::epoll::Poller;
    /// use eventloop::sys::{Event, Interest};
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// use std::time::Duration;
    ///
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let mut poller = Poller::new().unwrap();
    /// poller.add(a.as_fd(), 1, Interest::READABLE).unwrap();
    /// let mut events = Vec::new();
    /// assert_eq!(poller.wait(&mut events, Some(Duration::from_millis(1))).unwrap(), 0); // timed out
    /// ```
    pub fn wait(
        &mut self,
        events: &mut Vec<Event>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let deadline = timeout.map(|t| Instant::now() + t);
        // The kernel writes into the buffer's allocation; `new` made it non-empty (an empty
        // one would only make `epoll_wait` fail with `EINVAL`).
        let capacity = self.buffer.capacity();
        let n = loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            // SAFETY: `self.epoll` is our open epoll descriptor. The kernel writes at most
            // `capacity` entries from `as_mut_ptr()` on, and the buffer's allocation holds
            // exactly `capacity` of them, so every write lands inside it; nothing else
            // touches the buffer during the call (we hold `&mut self`).
            let result = unsafe {
                syscall!(epoll_wait(
                    self.epoll.as_raw_fd(),
                    self.buffer.as_mut_ptr(),
                    capacity as libc::c_int,
                    timeout_ms(left),
                ))
            };
            match result {
                Ok(n) => break n as usize,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        // SAFETY: `epoll_wait` initialised the first `n` entries, and `n <= capacity`.
        unsafe { self.buffer.set_len(n) };
        // One `extend` of known length: room is made once, not checked at every event.
        events.extend(self.buffer.iter().map(|ev| {
            let bits = ev.events as libc::c_int;
            Event {
                token: ev.u64 as usize,
                readable: bits & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP) != 0,
                writable: bits & libc::EPOLLOUT != 0,
                error: bits & libc::EPOLLERR != 0,
                // Only a full hang-up: `EPOLLRDHUP` (the peer shut down its writing side)
                // says nothing about ours, and counting it would report a full send
                // buffer as writable on every wait.
                hangup: bits & libc::EPOLLHUP != 0,
                read_closed: bits & (libc::EPOLLRDHUP | libc::EPOLLHUP) != 0,
            }
        }));
        // SAFETY: shrinking to zero never exposes uninitialised entries.
        unsafe { self.buffer.set_len(0) };
        Ok(n)
    }
    // ANCHOR_END: epoll_wait
}
