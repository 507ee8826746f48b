//! The few socket and process calls `std::net` does not offer (chapter 9): a connect that
//! does not block, `listen` with a backlog of our choosing, TCP keep-alive, and the
//! descriptor limit (`RLIMIT_NOFILE`) that decides when `accept` fails with `EMFILE`.
//!
//! Everything else a TCP socket needs — accept, read, write, shutdown, `TCP_NODELAY`,
//! addresses, `SO_ERROR` — `std` already does, so the `net` module uses `std` for it.

use std::io;
use std::mem;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

/// A `sockaddr_in`/`sockaddr_in6` built from a Rust address, ready for `connect`.
fn raw_address(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: `sockaddr_storage` is plain old data: all zeroes is a valid (empty) value.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: `sockaddr_in` is plain old data: all zeroes is a valid value (and
            // zeroes the platform's extra fields, such as BSD's `sin_len`, as required).
            let mut sin: libc::sockaddr_in = unsafe { mem::zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
            // SAFETY: `sockaddr_storage` is larger than and aligned for any `sockaddr_*`.
            unsafe {
                (&mut storage as *mut libc::sockaddr_storage)
                    .cast::<libc::sockaddr_in>()
                    .write(sin)
            };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above, for `sockaddr_in6`.
            let mut sin6: libc::sockaddr_in6 = unsafe { mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_addr.s6_addr = v6.ip().octets();
            sin6.sin6_scope_id = v6.scope_id();
            // SAFETY: `sockaddr_storage` is larger than and aligned for any `sockaddr_*`.
            unsafe {
                (&mut storage as *mut libc::sockaddr_storage)
                    .cast::<libc::sockaddr_in6>()
                    .write(sin6)
            };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// What a non-blocking `connect` said right away.
///
/// ```
/// use eventloop::sys::socket;
/// use eventloop::sys::socket::Connecting;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// match socket::connect_nonblocking(&addr).unwrap() {
///     Connecting::InProgress(stream) => drop(stream), // writable once the handshake is over
///     Connecting::Failed(_, e) => panic!("a listening port refused: {e}"),
/// }
/// ```
#[derive(Debug)]
pub enum Connecting {
    /// The handshake is under way (`EINPROGRESS`) — or, rarely on loopback, already done:
    /// the socket becomes writable when it is over, and `SO_ERROR` then tells how it went.
    InProgress(TcpStream),
    /// The kernel refused at once (`ECONNREFUSED` to a local port, `ENETUNREACH`, …). The
    /// socket exists and is returned so its owner can report the error later, as libuv does
    /// with its `delayed_error`.
    Failed(TcpStream, io::Error),
}

/// Creates a non-blocking, close-on-exec TCP socket and starts connecting it to `addr`
/// without waiting (`socket` + `connect`, as libuv's `uv__tcp_connect`).
///
/// # Errors
/// Only when no socket could be created (`EMFILE`, `ENFILE`, `EAFNOSUPPORT`); a connection
/// that fails is [`Connecting::Failed`].
///
/// ```
/// use eventloop::sys::socket;
/// use eventloop::sys::socket::Connecting;
///
/// let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // closed again
/// match socket::connect_nonblocking(&free).unwrap() {
///     Connecting::Failed(_, e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
///     Connecting::InProgress(_) => {} // some kernels report the refusal later, on the socket
/// }
/// ```
pub fn connect_nonblocking(addr: &SocketAddr) -> io::Result<Connecting> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let fd = socket(domain)?;
    let (storage, len) = raw_address(addr);
    // SAFETY: `fd` is the socket we just created and own. The address pointer is to
    // `storage`, alive on our stack for the call, and `len` is the size of the `sockaddr_in`
    // or `sockaddr_in6` that `raw_address` wrote at its start, so the kernel reads only
    // initialised bytes inside it.
    let result = unsafe {
        syscall!(connect(
            fd.as_raw_fd(),
            (&storage as *const libc::sockaddr_storage).cast::<libc::sockaddr>(),
            len
        ))
    };
    let stream = TcpStream::from(fd);
    match result {
        Ok(_) => Ok(Connecting::InProgress(stream)),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(Connecting::InProgress(stream)),
        // A signal before the handshake ended: it goes on in the background (connect(2)).
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(Connecting::InProgress(stream)),
        Err(e) => Ok(Connecting::Failed(stream, e)),
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn socket(domain: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: `socket` takes three integers and no memory; it only creates a descriptor.
    let fd = unsafe {
        syscall!(socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0
        ))
    }?;
    // SAFETY: `socket` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn socket(domain: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: `socket` takes three integers and no memory; it only creates a descriptor.
    let fd = unsafe { syscall!(socket(domain, libc::SOCK_STREAM, 0)) }?;
    // SAFETY: `socket` just returned this descriptor and nothing else owns it; owning it at
    // once closes it if a `fcntl` below fails.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `fd` is ours; `F_SETFD` and `F_SETFL` take an integer argument and no memory.
    unsafe { syscall!(fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC)) }?;
    // SAFETY: as above.
    unsafe { syscall!(fcntl(fd.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK)) }?;
    Ok(fd)
}

/// Sets the accept backlog of a socket that is bound (or already listening): calling
/// `listen` again on a listening socket only changes its backlog. The kernel caps it at
/// `net.core.somaxconn`.
///
/// # Errors
/// `InvalidInput` for a backlog above `i32::MAX`; what `listen` says otherwise.
///
/// ```
/// use eventloop::sys::socket;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); // std listens with 128
/// socket::listen(&listener, 511).unwrap(); // Node's backlog
/// assert!(socket::listen(&listener, u32::MAX).is_err()); // above i32::MAX
/// ```
pub fn listen(fd: &impl AsFd, backlog: u32) -> io::Result<()> {
    let backlog = libc::c_int::try_from(backlog)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "backlog is too large"))?;
    // SAFETY: `fd` is borrowed, so it stays open (and the caller's) for the call; `listen`
    // takes two integers and no memory.
    unsafe { syscall!(listen(fd.as_fd().as_raw_fd(), backlog)) }?;
    Ok(())
}

fn set_int_option(
    fd: &impl AsFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `fd` is borrowed, so it stays open for the call. The option pointer is to
    // `value`, an initialised `c_int` alive for the call, and the length is its size, so
    // the kernel reads exactly it. Every option we set takes an `int`.
    unsafe {
        syscall!(setsockopt(
            fd.as_fd().as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast::<libc::c_void>(),
            mem::size_of::<libc::c_int>() as libc::socklen_t
        ))
    }?;
    Ok(())
}

/// Turns TCP keep-alive probes on — the first after `idle_secs` without traffic — or off
/// (`SO_KEEPALIVE`, and `TCP_KEEPIDLE` where it exists; libuv's `uv_tcp_keepalive`).
///
/// # Errors
/// `InvalidInput` for a delay of 0 or above `i32::MAX` seconds with keep-alive on; what
/// `setsockopt` says otherwise.
///
/// ```
/// use eventloop::sys::socket;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
/// socket::set_keepalive(&stream, true, 60).unwrap();
/// assert!(socket::keepalive(&stream).unwrap());
/// assert!(socket::set_keepalive(&stream, true, 0).is_err()); // a delay of 0
/// ```
pub fn set_keepalive(fd: &impl AsFd, on: bool, idle_secs: u32) -> io::Result<()> {
    if !on {
        return set_int_option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 0);
    }
    let idle = libc::c_int::try_from(idle_secs)
        .ok()
        .filter(|&s| s > 0)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "keep-alive delay must be between 1 and i32::MAX seconds",
            )
        })?;
    set_int_option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    set_int_option(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle)?;
    #[cfg(target_os = "macos")]
    set_int_option(fd, libc::IPPROTO_TCP, libc::TCP_KEEPALIVE, idle)?;
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "macos"
    )))]
    let _ = idle; // no portable way to set the delay here: the system default applies
    Ok(())
}

fn int_option(fd: &impl AsFd, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is borrowed, so it stays open for the call. The kernel writes at most
    // `len` bytes to `value` — `len` starts at its size — and the new length to `len`; both
    // are live locals we hold exclusively. Every option we read is an `int`.
    unsafe {
        syscall!(getsockopt(
            fd.as_fd().as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast::<libc::c_void>(),
            &mut len
        ))
    }?;
    Ok(value)
}

/// Whether keep-alive is on (`SO_KEEPALIVE`).
///
/// # Errors
/// What `getsockopt` says.
///
/// ```
/// use eventloop::sys::socket;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
/// assert!(!socket::keepalive(&stream).unwrap()); // off by default
/// ```
pub fn keepalive(fd: &impl AsFd) -> io::Result<bool> {
    Ok(int_option(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE)? != 0)
}

/// Which of a socket's two kernel buffers.
///
/// ```
/// use eventloop::sys::socket;
/// use eventloop::sys::socket::Buffer;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
/// assert!(socket::buffer_size(&stream, Buffer::Receive).unwrap() > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffer {
    /// Bytes written and not yet acknowledged by the peer (`SO_SNDBUF`).
    Send,
    /// Bytes received and not yet read (`SO_RCVBUF`).
    Receive,
}

impl Buffer {
    fn option(self) -> libc::c_int {
        match self {
            Buffer::Send => libc::SO_SNDBUF,
            Buffer::Receive => libc::SO_RCVBUF,
        }
    }
}

/// The size of a socket's kernel buffer in bytes, as the kernel reports it (Linux reports
/// twice what was asked for: it counts its own bookkeeping; libuv's `uv_send_buffer_size`
/// and `uv_recv_buffer_size` with a value of 0).
///
/// # Errors
/// What `getsockopt` says.
///
/// ```
/// use eventloop::sys::socket;
/// use eventloop::sys::socket::Buffer;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
/// assert!(socket::buffer_size(&stream, Buffer::Send).unwrap() > 0);
/// ```
pub fn buffer_size(fd: &impl AsFd, which: Buffer) -> io::Result<usize> {
    let value = int_option(fd, libc::SOL_SOCKET, which.option())?;
    Ok(usize::try_from(value).unwrap_or(0))
}

/// Fixes the size of a socket's kernel buffer (`SO_SNDBUF`/`SO_RCVBUF`). On Linux this also
/// turns the kernel's automatic sizing off for that buffer, so how much a write can hand
/// over at once no longer depends on the machine's `tcp_wmem`/`tcp_rmem` settings. The
/// kernel clamps the value between its minimum and `wmem_max`/`rmem_max`.
///
/// # Errors
/// `InvalidInput` for 0 or a size above `i32::MAX`; what `setsockopt` says otherwise.
///
/// ```
/// use eventloop::sys::socket;
/// use eventloop::sys::socket::Buffer;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
/// socket::set_buffer_size(&stream, Buffer::Send, 16 * 1024).unwrap();
/// # #[cfg(target_os = "linux")]
/// assert_eq!(socket::buffer_size(&stream, Buffer::Send).unwrap(), 32 * 1024); // Linux doubles it
/// ```
pub fn set_buffer_size(fd: &impl AsFd, which: Buffer, bytes: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(bytes)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a buffer size must be between 1 and i32::MAX bytes",
            )
        })?;
    set_int_option(fd, libc::SOL_SOCKET, which.option(), value)
}

/// The process's limit on open descriptors, `(soft, hard)` (`getrlimit(RLIMIT_NOFILE)`).
/// `accept` fails with `EMFILE` once the soft limit is reached.
///
/// # Errors
/// What `getrlimit` says.
///
/// ```
/// use eventloop::sys::socket;
///
/// let (soft, hard) = socket::nofile_limit().unwrap();
/// assert!(soft <= hard);
/// ```
pub fn nofile_limit() -> io::Result<(u64, u64)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: the kernel writes one `rlimit` to `limit`, a live local we hold exclusively.
    unsafe { syscall!(getrlimit(libc::RLIMIT_NOFILE, &mut limit)) }?;
    #[allow(clippy::unnecessary_cast)] // `rlim_t` is `u64` on Linux, not everywhere
    Ok((limit.rlim_cur as u64, limit.rlim_max as u64))
}

/// Sets the soft limit on open descriptors, keeping the hard one (`setrlimit`). Raising
/// it up to the hard limit needs no privilege; lowering it below what is open is allowed
/// (only new descriptors fail).
///
/// # Errors
/// `InvalidInput` above the hard limit; what `setrlimit` says otherwise.
#[doc(hidden)] // for the tests and benchmarks that open thousands of sockets
pub fn set_nofile_soft_limit(soft: u64) -> io::Result<()> {
    let (_, hard) = nofile_limit()?;
    if soft > hard {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("soft descriptor limit {soft} is above the hard limit {hard}"),
        ));
    }
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: the kernel reads one `rlimit` from `limit`, an initialised local alive for the
    // call. Changing the limit affects only descriptors opened later.
    unsafe { syscall!(setrlimit(libc::RLIMIT_NOFILE, &limit)) }?;
    Ok(())
}

/// Accepts one pending connection as a non-blocking, close-on-exec socket in one system call
/// (`accept4`, as libuv's `uv__accept`); elsewhere `accept` and two `fcntl`s.
///
/// # Errors
/// `WouldBlock` when no connection is pending; `EMFILE`/`ENFILE` when the process or the
/// system is out of descriptors; `ECONNABORTED` for a connection reset while it waited.
pub fn accept(listener: &impl AsFd) -> io::Result<TcpStream> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    let fd = {
        // SAFETY: `listener` is borrowed, so it stays open for the call. Null address and
        // length pointers ask for no peer address: the kernel writes no memory of ours.
        let fd = unsafe {
            syscall!(accept4(
                listener.as_fd().as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC
            ))
        }?;
        // SAFETY: `accept4` just returned this descriptor and nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(fd) }
    };
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    let fd = {
        // SAFETY: `listener` is borrowed, so it stays open for the call. Null address and
        // length pointers ask for no peer address: the kernel writes no memory of ours.
        let fd = unsafe {
            syscall!(accept(
                listener.as_fd().as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut()
            ))
        }?;
        // SAFETY: `accept` just returned this descriptor and nothing else owns it; owning it
        // at once closes it if a `fcntl` fails.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: `fd` is ours; `F_SETFD` and `F_SETFL` take an integer and no memory.
        unsafe { syscall!(fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC)) }?;
        // SAFETY: as above.
        unsafe { syscall!(fcntl(fd.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK)) }?;
        fd
    };
    Ok(TcpStream::from(fd))
}
