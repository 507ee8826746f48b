//! Network errors in Node's shape: `connect ECONNREFUSED 127.0.0.1:8080`, `read ECONNRESET`,
//! `ERR_STREAM_WRITE_AFTER_END`.
//!
//! The stream layer ([`Socket`](super::Socket), [`Server`](super::Server)) hands its
//! listeners an `io::Error` whose inner error is a [`NetError`]: the code Node would put in
//! `err.code`, the system call, the address, and Node's message. The `io::ErrorKind` of the
//! OS error is kept, so `err.kind()` still answers "was it refused?".

use std::error::Error;
use std::fmt;
use std::io;
use std::net::SocketAddr;

/// What went wrong on a socket or server, as Node reports it (`err.code`, `err.syscall`,
/// `err.address:err.port`, `err.message`).
///
/// ```
/// use eventloop::net::NetError;
///
/// let refused = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
/// let err = NetError::os(refused, "connect", Some("127.0.0.1:9".parse().unwrap()));
/// assert_eq!(NetError::code_of(&err), "ECONNREFUSED");
/// assert_eq!(err.to_string(), "connect ECONNREFUSED 127.0.0.1:9");
/// ```
#[derive(Debug, Clone)]
pub struct NetError {
    code: &'static str,
    syscall: Option<&'static str>,
    errno: Option<i32>,
    message: String,
}

impl NetError {
    /// Wraps an OS error of system call `syscall` (on `addr`, for `connect` and `listen`) in
    /// Node's words: `connect ECONNREFUSED 127.0.0.1:9`, `listen EADDRINUSE: address already
    /// in use 127.0.0.1:80`, `read ECONNRESET`.
    ///
    /// ```
    /// use eventloop::net::NetError;
    /// use std::io;
    ///
    /// let err = NetError::os(io::Error::from_raw_os_error(111), "connect", Some("127.0.0.1:9".parse().unwrap()));
    /// assert_eq!(err.to_string(), "connect ECONNREFUSED 127.0.0.1:9");
    /// ```
    pub fn os(source: io::Error, syscall: &'static str, addr: Option<SocketAddr>) -> io::Error {
        let errno = source.raw_os_error();
        let (code, description) = errno
            .and_then(errno_name)
            .unwrap_or(("UNKNOWN", "unknown error"));
        let mut message = format!("{syscall} {code}");
        if syscall == "listen" {
            message = format!("{message}: {description}");
        }
        if let Some(addr) = addr {
            message = format!("{message} {addr}");
        }
        let error = NetError {
            code,
            syscall: Some(syscall),
            errno,
            message,
        };
        io::Error::new(source.kind(), error)
    }

    /// One of Node's own errors, not the system's: `ERR_STREAM_DESTROYED`, `EPIPE` after the
    /// peer ended, `ERR_SERVER_NOT_RUNNING`, …
    pub(crate) fn node(code: &'static str, message: &str, kind: io::ErrorKind) -> io::Error {
        let errno = match code {
            "EPIPE" => Some(libc::EPIPE),
            _ => None,
        };
        io::Error::new(
            kind,
            NetError {
                code,
                syscall: None,
                errno,
                message: message.to_string(),
            },
        )
    }

    /// The `NetError` inside `err`, if it has one.
    ///
    /// ```
    /// use eventloop::net::NetError;
    /// use std::io;
    ///
    /// let err = NetError::os(io::Error::from_raw_os_error(104), "read", None);
    /// assert_eq!(NetError::of(&err).unwrap().syscall(), Some("read"));
    /// assert!(NetError::of(&io::Error::other("plain")).is_none());
    /// ```
    pub fn of(err: &io::Error) -> Option<&NetError> {
        err.get_ref()?.downcast_ref::<NetError>()
    }

    /// Node's `err.code` for a socket's `io::Error`: the `NetError`'s code, else the name of
    /// the OS error number (`"ECONNRESET"`), else `"UNKNOWN"`. (A file system error names its
    /// own: `FsError::code`.)
    ///
    /// ```
    /// use eventloop::net::NetError;
    /// use std::io;
    ///
    /// assert_eq!(NetError::code_of(&io::Error::from_raw_os_error(104)), "ECONNRESET"); // bare OS errors too
    /// ```
    pub fn code_of(err: &io::Error) -> &'static str {
        if let Some(net) = NetError::of(err) {
            return net.code;
        }
        err.raw_os_error()
            .and_then(errno_name)
            .map_or("UNKNOWN", |(code, _)| code)
    }

    /// `err.code`: `"ECONNREFUSED"`, `"ERR_STREAM_DESTROYED"`, …
    ///
    /// ```
    /// use eventloop::net::NetError;
    /// use std::io;
    ///
    /// let err = NetError::os(io::Error::from_raw_os_error(98), "listen", None);
    /// assert_eq!(NetError::of(&err).unwrap().code(), "EADDRINUSE");
    /// ```
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// `err.syscall`: `"connect"`, `"read"`, `"write"`, `"listen"`; `None` for Node's own
    /// errors.
    ///
    /// ```
    /// use eventloop::net::NetError;
    /// use std::io;
    ///
    /// let err = NetError::os(io::Error::from_raw_os_error(32), "write", None);
    /// assert_eq!(NetError::of(&err).unwrap().syscall(), Some("write"));
    /// ```
    pub fn syscall(&self) -> Option<&'static str> {
        self.syscall
    }

    /// The OS error number, when there is one.
    ///
    /// ```
    /// use eventloop::net::NetError;
    /// use std::io;
    ///
    /// let err = NetError::os(io::Error::from_raw_os_error(104), "read", None);
    /// assert_eq!(NetError::of(&err).unwrap().errno(), Some(104));
    /// ```
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for NetError {}

/// The same error again, for a second listener or callback that must hear of it
/// (`io::Error` is not `Clone`).
pub(crate) fn clone_error(err: &io::Error) -> io::Error {
    if let Some(net) = NetError::of(err) {
        return io::Error::new(err.kind(), net.clone());
    }
    match err.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(err.kind(), err.to_string()),
    }
}

/// libuv's name and description for the error numbers sockets meet, then the file-system
/// ones (`uv_err_name`, `uv_strerror`).
fn errno_name(errno: i32) -> Option<(&'static str, &'static str)> {
    use libc::*;
    let name = match errno {
        EADDRINUSE => ("EADDRINUSE", "address already in use"),
        EADDRNOTAVAIL => ("EADDRNOTAVAIL", "address not available"),
        ECONNABORTED => ("ECONNABORTED", "software caused connection abort"),
        ECONNREFUSED => ("ECONNREFUSED", "connection refused"),
        ECONNRESET => ("ECONNRESET", "connection reset by peer"),
        EHOSTUNREACH => ("EHOSTUNREACH", "host is unreachable"),
        ENETUNREACH => ("ENETUNREACH", "network is unreachable"),
        ENOTCONN => ("ENOTCONN", "socket is not connected"),
        ETIMEDOUT => ("ETIMEDOUT", "connection timed out"),
        _ => return crate::sys::errno_name(errno),
    };
    Some(name)
}
