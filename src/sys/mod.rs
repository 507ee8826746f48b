//! System calls: the only module of the crate with `unsafe` code (chapter 8).
//!
//! Everything the loop needs from the kernel fits in two small types:
//! - a [`Poller`]: register file descriptors with an interest (readable, writable), then wait
//!   until some are ready or a timeout passes — epoll on Linux, `poll(2)` on other Unixes;
//! - a [`Waker`]: a file descriptor another thread can make readable to end that wait —
//!   an `eventfd` on Linux, a pipe elsewhere.
//!
//! One more piece is not a system call but needs `unsafe` all the same: a [`Scoped`]
//! thread-local, which lends the task being polled to the futures it polls (chapter 10).
//!
//! Sockets need a few calls `std::net` lacks (a connect that does not wait, a chosen listen
//! backlog, keep-alive, the descriptor limit): they are in [`socket`].
//!
//! Every raw call goes through the `syscall!` macro, which turns libc's `-1` + `errno` into an
//! `io::Error`; every descriptor we own is an [`OwnedFd`](std::os::fd::OwnedFd), closed when
//! dropped. The macro is not a way around `unsafe`: each call sits in its own `unsafe` block
//! whose `// SAFETY:` comment says why that call is sound, and a lint
//! (`clippy::undocumented_unsafe_blocks`) rejects a block without one.
//!
//! The backend is chosen in one place: [`Poller`] is [`epoll::Poller`] on Linux and
//! [`poll::Poller`] elsewhere. On Linux both are compiled, so the book can measure one
//! against the other.

// Every `unsafe` block in this module says why it is sound; the crate allows `unsafe` here
// and nowhere else (`lib.rs`).
#![deny(clippy::undocumented_unsafe_blocks)]

/// Calls a libc function and turns a `-1` result into `Err(io::Error::last_os_error())`.
///
/// The call is as unsafe as the libc function, and the macro does not hide that: it expands
/// to a plain call, so it compiles only inside an `unsafe` block, and that block's own
/// `// SAFETY:` comment argues why *this* call is sound (for example: every pointer it passes
/// is valid for the length passed with it).
macro_rules! syscall {
    ($fn:ident ( $($arg:expr),* $(,)? )) => {{
        let result = libc::$fn($($arg),*);
        if result == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(result)
        }
    }};
}

pub mod epoll;
#[cfg(target_os = "linux")]
mod errno;
pub mod poll;
mod scoped;
pub mod socket;
mod waker;

pub use errno::errno_name;
pub use scoped::Scoped;
pub use waker::Waker;

#[cfg(target_os = "linux")]
pub use epoll::Poller;
#[cfg(not(target_os = "linux"))]
pub use poll::Poller;

use std::time::Duration;

/// What a registration waits for.
///
/// ```
/// use eventloop::sys::Interest;
///
/// let both = Interest { readable: true, writable: true, edge: false };
/// assert_eq!(both, Interest::BOTH);
/// assert_eq!(Interest::default(), Interest::NONE);
/// assert!(Interest::READABLE.edge_triggered().edge);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interest {
    /// Wake when the descriptor can be read without blocking (or has hung up).
    pub readable: bool,
    /// Wake when the descriptor can be written without blocking.
    pub writable: bool,
    /// Edge-triggered (`EPOLLET`): report a readiness when it arises — new bytes arrived,
    /// buffer space freed — not at every wait for as long as it lasts. Whoever registers so
    /// must remember the readiness itself and keep it until a read or write says it is gone
    /// (a short read, `EAGAIN`): the kernel will not say it again. It saves the kernel a
    /// second look at every descriptor it reported (epoll puts a level-triggered one back on
    /// its ready list and polls it again at the next wait). `poll(2)` has no such mode: the
    /// [`poll::Poller`] ignores it, and a reader that keeps the readiness itself is just as
    /// correct when told again.
    pub edge: bool,
}

impl Interest {
    /// The same interest, [edge-triggered](Self::edge).
    ///
    /// ```
    /// use eventloop::sys::Interest;
    /// # #[cfg(target_os = "linux")] {
    /// use eventloop::sys::epoll::Poller;
    /// use std::io::Write;
    /// use std::os::fd::AsFd;
    /// use std::os::unix::net::UnixStream;
    /// use std::time::Duration;
    ///
    /// let (a, mut b) = UnixStream::pair().unwrap();
    /// let mut poller = Poller::new().unwrap();
    /// poller.add(a.as_fd(), 1, Interest::READABLE.edge_triggered()).unwrap();
    /// let mut events = Vec::new();
    /// let now = Some(Duration::ZERO);
    /// b.write_all(b"x").unwrap();
    /// assert_eq!(poller.wait(&mut events, now).unwrap(), 1); // it became readable
    /// assert_eq!(poller.wait(&mut events, now).unwrap(), 0); // it still is: told once
    /// b.write_all(b"y").unwrap();
    /// assert_eq!(poller.wait(&mut events, now).unwrap(), 1); // more bytes: told again
    /// drop(b);
    /// assert_eq!(poller.wait(&mut events, now).unwrap(), 1);
    /// assert!(events.last().unwrap().read_closed); // and the end: kept by whoever reads
    /// # }
    /// ```
    ///
    /// Waiting for nothing stays [`Interest::NONE`]: a quiet watcher has no edge to wait for.
    ///
    /// ```
    /// use eventloop::sys::Interest;
    ///
    /// assert_eq!(Interest::NONE.edge_triggered(), Interest::NONE);
    /// ```
    #[must_use]
    pub const fn edge_triggered(self) -> Interest {
        Interest {
            edge: self.readable || self.writable,
            ..self
        }
    }

    /// Readable only.
    ///
    /// ```
    /// use eventloop::sys::Interest;
    ///
    /// assert!(Interest::READABLE.readable && !Interest::READABLE.writable);
    /// ```
    pub const READABLE: Interest = Interest {
        readable: true,
        writable: false,
        edge: false,
    };
    /// Writable only.
    ///
    /// ```
    /// use eventloop::sys::Interest;
    ///
    /// assert!(Interest::WRITABLE.writable && !Interest::WRITABLE.readable);
    /// ```
    pub const WRITABLE: Interest = Interest {
        readable: false,
        writable: true,
        edge: false,
    };
    /// Both.
    ///
    /// ```
    /// use eventloop::sys::Interest;
    ///
    /// assert!(Interest::BOTH.readable && Interest::BOTH.writable);
    /// ```
    pub const BOTH: Interest = Interest {
        readable: true,
        writable: true,
        edge: false,
    };
    /// Neither: registered, but waiting for nothing.
    ///
    /// ```
    /// use eventloop::sys::Interest;
    ///
    /// assert_ne!(Interest::NONE, Interest::READABLE);
    /// ```
    pub const NONE: Interest = Interest {
        readable: false,
        writable: false,
        edge: false,
    };
}

/// One ready descriptor, as a wait reports it.
///
/// ```
/// use eventloop::sys::{Event, Interest, Poller};
/// use std::os::fd::AsFd;
/// use std::os::unix::net::UnixStream;
///
/// let (a, b) = UnixStream::pair().unwrap();
/// let mut poller = Poller::new().unwrap();
/// poller.add(a.as_fd(), 3, Interest::READABLE).unwrap();
/// drop(b); // the peer hangs up: readable (EOF) and hangup
/// let mut events: Vec<Event> = Vec::new();
/// poller.wait(&mut events, None).unwrap();
/// assert!(events[0].readable && events[0].hangup);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The token it was registered with.
    pub token: usize,
    /// It can be read, or reading it reports end-of-file or an error.
    pub readable: bool,
    /// It can be written.
    pub writable: bool,
    /// The kernel reports an error condition (`EPOLLERR`/`POLLERR`): the next read or write
    /// returns it.
    pub error: bool,
    /// The peer hung up (`EPOLLHUP`/`POLLHUP`).
    pub hangup: bool,
    /// No more bytes will arrive: the peer shut down its writing side (`EPOLLRDHUP`), or
    /// hung up. Unlike readability, this does not go away once the buffered bytes are read —
    /// what an [edge-triggered](Interest::edge) reader must remember, since it is told once.
    pub read_closed: bool,
}

// ANCHOR: timeout_ms
/// The timeout a wait passes to the kernel, in whole milliseconds: `-1` for none, and a
/// fraction of a millisecond rounded *up*, so a wait never ends before its deadline (a timer
/// due in 0.3 ms must not cause a wasted wake-up followed by a second wait).
///
/// ```
/// use eventloop::sys::timeout_ms;
/// use std::time::Duration;
///
/// assert_eq!(timeout_ms(None), -1); // wait forever
/// assert_eq!(timeout_ms(Some(Duration::from_micros(300))), 1); // rounded up, never early
/// ```
pub fn timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    }
}
// ANCHOR_END: timeout_ms
