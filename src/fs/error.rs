//! File-system errors in Node's shape: `ENOENT: no such file or directory, open 'a.txt'`.
//!
//! A bare `io::Error` from the OS says *what* went wrong ("No such file or directory (os error
//! 2)") but not *where*; with a hundred reads in flight that is useless. Node's errors (built
//! by `uvException` from libuv's `uv_err_name` and `uv_strerror`) name the errno code, its
//! description, the system call and the path — both paths for `rename` and `copyfile`. An
//! [`FsError`] carries the same four parts and becomes the inner error of the `io::Error`
//! every callback receives, so the `io::ErrorKind` is kept and the OS error stays reachable
//! through [`source`](std::error::Error::source).

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What a failed file-system call reports: which call, on which path(s), and why.
///
/// Get one back from the `io::Error` a callback received with [`FsError::of`]:
///
/// ```
/// use eventloop::fs::FsError;
/// use std::io;
///
/// let os = io::Error::from_raw_os_error(2); // ENOENT on every Unix and on Windows
/// let err = FsError::new(os, "open", Some("notes/missing.txt".into()), None).into_io();
/// assert_eq!(err.kind(), io::ErrorKind::NotFound);
/// let fs = FsError::of(&err).expect("an fs error");
/// assert_eq!(fs.syscall(), "open");
/// # #[cfg(unix)]
/// assert_eq!(err.to_string(), "ENOENT: no such file or directory, open 'notes/missing.txt'");
/// ```
#[derive(Debug)]
pub struct FsError {
    code: &'static str,
    description: &'static str,
    syscall: &'static str,
    path: Option<PathBuf>,
    dest: Option<PathBuf>,
    source: io::Error,
}

impl FsError {
    /// Describes `source`, the error of system call `syscall` on `path` (and `dest`, for the
    /// calls that name two paths). The code and description come from the OS error number
    /// when there is one, from the error's kind otherwise.
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// let err = FsError::new(io::Error::from_raw_os_error(2), "rename", Some("a".into()), Some("b".into()));
    /// assert_eq!(err.code(), "ENOENT");
    /// ```
    pub fn new(
        source: io::Error,
        syscall: &'static str,
        path: Option<PathBuf>,
        dest: Option<PathBuf>,
    ) -> Self {
        let (code, description) = source
            .raw_os_error()
            .and_then(errno_name)
            .unwrap_or_else(|| kind_name(source.kind()));
        FsError {
            code,
            description,
            syscall,
            path,
            dest,
            source,
        }
    }

    /// Wraps this error in an `io::Error` of the same kind as the OS error.
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// let err = FsError::new(io::Error::from_raw_os_error(2), "rename", Some("a".into()), Some("b".into()));
    /// let io = err.into_io();
    /// assert_eq!(io.kind(), io::ErrorKind::NotFound); // the OS error's kind is kept
    /// ```
    pub fn into_io(self) -> io::Error {
        io::Error::new(self.source.kind(), self)
    }

    /// The [`FsError`] inside an `io::Error` that a file-system callback received, if any.
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// assert!(FsError::of(&io::Error::other("not from fs")).is_none());
    /// ```
    pub fn of(err: &io::Error) -> Option<&FsError> {
        err.get_ref()?.downcast_ref::<FsError>()
    }

    /// The errno code name, as Node's `err.code`: `"ENOENT"`, `"EEXIST"`, … (`"UNKNOWN"` for
    /// an error number this module does not know).
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// let err = FsError::new(io::Error::from_raw_os_error(17), "mkdir", None, None);
    /// assert_eq!(err.code(), "EEXIST");
    /// ```
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The system call that failed, as Node's `err.syscall`: `"open"`, `"scandir"`, …
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// let err = FsError::new(io::Error::from_raw_os_error(2), "rename", Some("a".into()), Some("b".into()));
    /// assert_eq!(err.syscall(), "rename");
    /// ```
    pub fn syscall(&self) -> &'static str {
        self.syscall
    }

    /// The path the call was given, as Node's `err.path`; `None` for calls on a file handle.
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// let err = FsError::new(io::Error::from_raw_os_error(2), "rename", Some("a".into()), Some("b".into()));
    /// assert_eq!(err.path(), Some(std::path::Path::new("a")));
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The second path of `rename` and `copyfile`, as Node's `err.dest`.
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// let err = FsError::new(io::Error::from_raw_os_error(2), "rename", Some("a".into()), Some("b".into()));
    /// assert_eq!(err.dest(), Some(std::path::Path::new("b")));
    /// ```
    pub fn dest(&self) -> Option<&Path> {
        self.dest.as_deref()
    }

    /// The OS error number, if the OS reported one (positive, as `errno`; Node negates it).
    ///
    /// ```
    /// use eventloop::fs::FsError;
    /// use std::io;
    ///
    /// let err = FsError::new(io::Error::from_raw_os_error(2), "rename", Some("a".into()), Some("b".into()));
    /// assert_eq!(err.raw_os_error(), Some(2));
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.raw_os_error()
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}, {}", self.code, self.description, self.syscall)?;
        if let Some(path) = &self.path {
            write!(f, " '{}'", path.display())?;
        }
        if let Some(dest) = &self.dest {
            write!(f, " -> '{}'", dest.display())?;
        }
        Ok(())
    }
}

impl Error for FsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// `EBADF` for a call on a closed [`FileHandle`](super::FileHandle), as the OS reports a
/// closed descriptor: `EBADF: bad file descriptor, read`.
pub(super) fn bad_handle(syscall: &'static str) -> io::Error {
    #[cfg(unix)]
    let os = io::Error::from_raw_os_error(libc::EBADF);
    #[cfg(not(unix))]
    let os = io::Error::new(io::ErrorKind::InvalidInput, "bad file descriptor");
    FsError::new(os, syscall, None, None).into_io()
}

pub use crate::sys::errno_name;

/// A code and description for an error without a known OS number, from its kind.
fn kind_name(kind: io::ErrorKind) -> (&'static str, &'static str) {
    use io::ErrorKind::*;
    match kind {
        NotFound => ("ENOENT", "no such file or directory"),
        PermissionDenied => ("EACCES", "permission denied"),
        AlreadyExists => ("EEXIST", "file already exists"),
        NotADirectory => ("ENOTDIR", "not a directory"),
        IsADirectory => ("EISDIR", "illegal operation on a directory"),
        DirectoryNotEmpty => ("ENOTEMPTY", "directory not empty"),
        InvalidInput | InvalidData => ("EINVAL", "invalid argument"),
        OutOfMemory => ("ENOMEM", "not enough memory"),
        Interrupted => ("EINTR", "interrupted system call"),
        _ => ("UNKNOWN", "unknown error"),
    }
}
