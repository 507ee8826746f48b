//! The names Node gives OS error numbers (`err.code`), shared by the file system and TCP
//! layers: a leaf table, so neither service has to import the other.

/// The code name and description Node prints for an OS error number (libuv's `uv_err_name`
/// and `uv_strerror`; the descriptions are libuv's, which differ from the C library's:
/// `EEXIST` is "file already exists", not "File exists").
///
/// ```
/// use eventloop::sys::errno_name;
///
/// assert_eq!(errno_name(17), Some(("EEXIST", "file already exists")));
/// ```
#[cfg(unix)]
pub fn errno_name(errno: i32) -> Option<(&'static str, &'static str)> {
    use libc::*;
    let name = match errno {
        EACCES => ("EACCES", "permission denied"),
        EAGAIN => ("EAGAIN", "resource temporarily unavailable"),
        EBADF => ("EBADF", "bad file descriptor"),
        EBUSY => ("EBUSY", "resource busy or locked"),
        ECANCELED => ("ECANCELED", "operation canceled"),
        EEXIST => ("EEXIST", "file already exists"),
        EFBIG => ("EFBIG", "file too large"),
        EINTR => ("EINTR", "interrupted system call"),
        EINVAL => ("EINVAL", "invalid argument"),
        EIO => ("EIO", "i/o error"),
        EISDIR => ("EISDIR", "illegal operation on a directory"),
        ELOOP => ("ELOOP", "too many symbolic links encountered"),
        EMFILE => ("EMFILE", "too many open files"),
        EMLINK => ("EMLINK", "too many links"),
        ENAMETOOLONG => ("ENAMETOOLONG", "name too long"),
        ENFILE => ("ENFILE", "file table overflow"),
        ENOENT => ("ENOENT", "no such file or directory"),
        ENOMEM => ("ENOMEM", "not enough memory"),
        ENOSPC => ("ENOSPC", "no space left on device"),
        ENOSYS => ("ENOSYS", "function not implemented"),
        ENOTDIR => ("ENOTDIR", "not a directory"),
        ENOTEMPTY => ("ENOTEMPTY", "directory not empty"),
        ENOTSUP => ("ENOTSUP", "operation not supported on socket"),
        ENXIO => ("ENXIO", "no such device or address"),
        EPERM => ("EPERM", "operation not permitted"),
        EPIPE => ("EPIPE", "broken pipe"),
        EROFS => ("EROFS", "read-only file system"),
        ETXTBSY => ("ETXTBSY", "text file is busy"),
        EXDEV => ("EXDEV", "cross-device link not permitted"),
        _ => return None,
    };
    Some(name)
}

/// The code name and description for an OS error number; Windows error numbers are not
/// translated yet, so errors are named from their `io::ErrorKind` instead.
#[cfg(not(unix))]
pub fn errno_name(_errno: i32) -> Option<(&'static str, &'static str)> {
    None
}
