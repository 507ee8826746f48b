//! `poll(2)`: the portable fallback. The process keeps the interest list and hands all of it
//! to the kernel on every wait, which scans every entry, so a wait costs O(watched), not
//! O(ready) — the reason epoll exists. Chapter 8 measures the difference.

use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use super::{Event, Interest, timeout_ms};

/// A poller over `poll(2)`, with the same API and level-triggered behaviour as the epoll one.
///
/// ```
/// use eventloop::sys::poll::Poller;
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
#[derive(Debug, Default)]
pub struct Poller {
    /// The array handed to `poll`, and the token and descriptor of each entry (same order).
    /// A quiet entry (interest [`Interest::NONE`]) holds `-1` in the array, which `poll`
    /// skips: asked for nothing, it would still report a hang-up on every wait.
    fds: RefCell<Entries>,
}

/// The `poll` array and, at the same index, each entry's token and real descriptor.
#[derive(Debug, Default)]
struct Entries {
    polled: Vec<libc::pollfd>,
    registered: Vec<(usize, RawFd)>,
}

fn events_for(interest: Interest) -> libc::c_short {
    let mut events = 0;
    if interest.readable {
        events |= libc::POLLIN;
    }
    if interest.writable {
        events |= libc::POLLOUT;
    }
    events
}

/// The descriptor to put in the array: `-1`, which `poll` skips, for a quiet entry.
fn polled_fd(fd: RawFd, interest: Interest) -> RawFd {
    if interest == Interest::NONE { -1 } else { fd }
}

impl Poller {
    /// An empty poller. Never fails; `io::Result` keeps the API of the epoll poller.
    ///
    /// # Errors
    /// None: the `Result` is the epoll poller's API.
    ///
    /// ```
    /// use eventloop::sys::poll::Poller;
    /// use eventloop::sys::{Event, Interest};
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    ///
    /// let mut poller = Poller::new().unwrap();
    /// let mut events: Vec<Event> = Vec::new();
    /// assert_eq!(poller.wait(&mut events, Some(std::time::Duration::ZERO)).unwrap(), 0);
    /// ```
    pub fn new() -> io::Result<Poller> {
        Ok(Poller::default())
    }

    fn position(&self, fd: RawFd) -> Option<usize> {
        self.fds
            .borrow()
            .registered
            .iter()
            .position(|&(_, of)| of == fd)
    }

    /// Starts watching `fd` for `interest`. Watching one descriptor twice is `AlreadyExists`,
    /// as with epoll's `EEXIST`. Keep the descriptor open until [`delete`](Self::delete), as
    /// with [`epoll::Poller::add`](super::epoll::Poller::add): closed first, it is reported
    /// invalid (`POLLNVAL`) on every wait, until its number passes to another descriptor.
    ///
    /// # Errors
    /// `AlreadyExists` for a descriptor already watched.
    ///
    /// ```
    /// use eventloop::sys::poll::Poller;
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
        let fd = fd.as_raw_fd();
        if self.position(fd).is_some() {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        let mut fds = self.fds.borrow_mut();
        fds.polled.push(libc::pollfd {
            fd: polled_fd(fd, interest),
            events: events_for(interest),
            revents: 0,
        });
        fds.registered.push((token, fd));
        Ok(())
    }

    /// Changes what `fd` is watched for; `NotFound` if it is not watched (epoll's `ENOENT`).
    ///
    /// # Errors
    /// `NotFound` for a descriptor that is not watched.
    ///
    /// ```
    /// use eventloop::sys::poll::Poller;
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
        let fd = fd.as_raw_fd();
        let at = self
            .position(fd)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        let mut fds = self.fds.borrow_mut();
        fds.polled[at].fd = polled_fd(fd, interest);
        fds.polled[at].events = events_for(interest);
        fds.registered[at] = (token, fd);
        Ok(())
    }

    /// Stops watching `fd`; `NotFound` if it is not watched.
    ///
    /// # Errors
    /// `NotFound` for a descriptor that is not watched.
    ///
    /// ```
    /// use eventloop::sys::poll::Poller;
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
        let at = self
            .position(fd.as_raw_fd())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        let mut fds = self.fds.borrow_mut();
        fds.polled.swap_remove(at);
        fds.registered.swap_remove(at);
        Ok(())
    }

    /// Waits like [`epoll::Poller::wait`](super::epoll::Poller::wait), for every registered
    /// descriptor at once.
    ///
    /// # Errors
    /// What `poll` reports, but `EINTR` (resumed).
    ///
    /// ```
    /// use eventloop::sys::poll::Poller;
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
        let fds = self.fds.get_mut();
        let ready = loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            // SAFETY: the kernel reads and writes `fds.polled.len()` entries from
            // `as_mut_ptr()` on: exactly the vector's initialised elements, which nothing
            // else touches during the call (we hold `&mut self`). A `pollfd` with any `fd`
            // is valid input: `poll` skips `-1` and reports a closed one as `POLLNVAL`.
            let result = unsafe {
                syscall!(poll(
                    fds.polled.as_mut_ptr(),
                    fds.polled.len() as libc::nfds_t,
                    timeout_ms(left),
                ))
            };
            match result {
                Ok(n) => break n as usize,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let mut found = 0;
        for (pollfd, &(token, _)) in fds.polled.iter_mut().zip(&fds.registered) {
            if found == ready {
                break;
            }
            let bits = std::mem::take(&mut pollfd.revents);
            if bits == 0 {
                continue;
            }
            found += 1;
            events.push(Event {
                token,
                readable: bits & (libc::POLLIN | libc::POLLHUP) != 0,
                writable: bits & libc::POLLOUT != 0,
                error: bits & (libc::POLLERR | libc::POLLNVAL) != 0,
                hangup: bits & libc::POLLHUP != 0,
                read_closed: bits & libc::POLLHUP != 0,
            });
        }
        Ok(found)
    }
}
