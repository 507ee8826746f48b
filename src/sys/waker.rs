//! A descriptor another thread can make readable to end a poller's wait: an `eventfd` on
//! Linux, a pipe elsewhere (libuv's `uv__async_start` makes the same choice). Coalescing —
//! many wakes, one wake-up — is the caller's job (an atomic pending bit in front, as in
//! `uv_async_send`); this type is only the kernel half.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// The kernel half of a cross-thread wake-up.
///
/// ```
/// use eventloop::sys::Waker;
///
/// let waker = std::sync::Arc::new(Waker::new().unwrap());
/// let remote = waker.clone();
/// std::thread::spawn(move || remote.wake().unwrap()).join().unwrap();
/// assert!(waker.drain().unwrap()); // it had been woken
/// ```
#[derive(Debug)]
pub struct Waker {
    /// The end a poller watches for readability.
    read: OwnedFd,
    /// The end [`wake`](Self::wake) writes to; `None` for an eventfd, which is both.
    write: Option<OwnedFd>,
}

impl Waker {
    /// A new, non-blocking waker.
    ///
    /// # Errors
    /// What `eventfd` (or `pipe`) reports: `EMFILE` or `ENFILE` out of descriptors.
    ///
    /// ```
    /// use eventloop::sys::Waker;
    ///
    /// let waker = Waker::new().unwrap();
    /// assert!(!waker.drain().unwrap()); // nothing yet
    /// ```
    #[cfg(target_os = "linux")]
    pub fn new() -> io::Result<Waker> {
        // SAFETY: `eventfd` takes two integers and no memory; it only creates a descriptor.
        let fd = unsafe { syscall!(eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK)) }?;
        // SAFETY: `eventfd` just returned this descriptor and nothing else owns it.
        let read = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Waker { read, write: None })
    }

    /// A new, non-blocking waker.
    #[cfg(not(target_os = "linux"))]
    pub fn new() -> io::Result<Waker> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: the kernel writes two `c_int`s from `fds.as_mut_ptr()` on, and `fds` is a
        // local array of exactly two that we hold exclusively.
        unsafe { syscall!(pipe(fds.as_mut_ptr())) }?;
        // SAFETY: `pipe` just returned both descriptors and nothing else owns them.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        for fd in [read.as_raw_fd(), write.as_raw_fd()] {
            // SAFETY: `fd` is one of the two ends we own; `F_SETFL` and `F_SETFD` take an
            // integer and no memory.
            unsafe { syscall!(fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK)) }?;
            // SAFETY: as above.
            unsafe { syscall!(fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC)) }?;
        }
        Ok(Waker {
            read,
            write: Some(write),
        })
    }

    /// The descriptor to register with a poller, for readability; it stays open as long as
    /// the waker lives.
    ///
    /// ```
    /// use eventloop::sys::Waker;
    ///
    /// use eventloop::sys::{Interest, Poller};
    ///
    /// let waker = Waker::new().unwrap();
    /// let mut poller = Poller::new().unwrap();
    /// poller.add(waker.fd(), 0, Interest::READABLE).unwrap();
    /// waker.wake().unwrap();
    /// let mut events = Vec::new();
    /// assert_eq!(poller.wait(&mut events, None).unwrap(), 1); // the wait ends
    /// ```
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    // ANCHOR: wake
    /// Makes the descriptor readable. Safe to call from any thread. A full pipe or a
    /// saturated counter already means "readable", so `EAGAIN` counts as success.
    ///
    /// # Errors
    /// What `write` reports, but `EAGAIN` (and `EINTR`, retried).
    ///
    /// ```
    /// use eventloop::sys::Waker;
    ///
    /// let waker = Waker::new().unwrap();
    /// waker.wake().unwrap();
    /// waker.wake().unwrap(); // already readable: still fine
    /// assert!(waker.drain().unwrap());
    /// ```
    pub fn wake(&self) -> io::Result<()> {
        let fd = self.write.as_ref().unwrap_or(&self.read).as_raw_fd();
        let one: u64 = 1;
        let buf = (&one as *const u64).cast::<libc::c_void>();
        loop {
            // An eventfd takes an 8-byte counter increment; a pipe takes any byte.
            // SAFETY: `fd` belongs to `self` and stays open while we borrow it. The kernel
            // reads 8 bytes from `buf`, which points to `one`, a `u64` alive for the call.
            match unsafe { syscall!(write(fd, buf, std::mem::size_of::<u64>())) } {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
    // ANCHOR_END: wake

    /// Reads the descriptor dry, so it stops being readable (`uv__async_io`). Returns whether
    /// anything had woken it.
    ///
    /// # Errors
    /// What `read` reports, but `EAGAIN` (nothing to read) and `EINTR` (retried).
    ///
    /// ```
    /// use eventloop::sys::Waker;
    ///
    /// let waker = Waker::new().unwrap();
    /// waker.wake().unwrap();
    /// assert!(waker.drain().unwrap());
    /// assert!(!waker.drain().unwrap()); // read dry
    /// ```
    pub fn drain(&self) -> io::Result<bool> {
        let mut buf = [0u8; 64];
        let mut woken = false;
        loop {
            // SAFETY: `self.read` is ours and open while we borrow it. The kernel writes at
            // most `buf.len()` bytes from `buf.as_mut_ptr()` on: inside `buf`, a local we
            // hold exclusively.
            match unsafe {
                syscall!(read(
                    self.read.as_raw_fd(),
                    buf.as_mut_ptr().cast::<libc::c_void>(),
                    buf.len()
                ))
            } {
                Ok(0) => return Ok(woken),
                Ok(_) => {
                    woken = true;
                    if self.write.is_none() {
                        return Ok(true); // one read resets an eventfd's counter
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(woken),
                Err(e) => return Err(e),
            }
        }
    }
}
