//! Open files: `open`, `read`, `write` and `close` on a [`FileHandle`] (Node's `fs.open`,
//! `fs.read`, `fs.write`, `fs.close`; libuv's `uv_fs_open`, `uv_fs_read`, `uv_fs_write`,
//! `uv_fs_close`), each one job on the pool.
//!
//! Node hands out a bare descriptor number, which the program may use after closing it —
//! and, once the number is reused, read someone else's file. A [`FileHandle`] instead owns
//! the file: [`close`] takes the file out of it on the loop thread, so every call made after
//! `close` fails with `EBADF` whatever the pool does, and the descriptor itself is closed on
//! a worker once no job uses it any more.

use std::cell::RefCell;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use super::error::{FsError, bad_handle};
use super::submit;
use crate::event_loop::EventLoop;

/// The most bytes one `read` may ask for: Node's `kIoMaxLength`, 2 GiB − 1.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// fs::open(&mut lp, "/dev/null", "r", |lp, file| {
///     let too_big = fs::MAX_READ + 1;
///     fs::read(lp, &file.unwrap(), too_big, None, |_, read| assert!(read.is_err()));
/// });
/// lp.run(RunMode::Default);
/// ```
pub const MAX_READ: usize = i32::MAX as usize;

/// A read of up to this many bytes allocates them and makes one `read(2)`; a larger one first
/// asks how much can be read (see [`first_buffer`]). 64 KiB is also a pipe's default capacity.
const CHUNK: usize = 64 * 1024;

/// A file opened by [`open`]. Clones share the file; [`close`] closes it for all of them.
/// Dropping the last clone without `close` closes the descriptor too.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-handle-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let mut lp = EventLoop::new();
/// fs::open(&mut lp, dir.join("f"), "w", |lp, file| {
///     let file = file.unwrap();
///     assert!(file.path().ends_with("f"));
///     fs::close(lp, file.clone(), move |_, closed| {
///         closed.unwrap();
///         assert!(file.is_closed()); // for every clone
///     });
/// });
/// lp.run(RunMode::Default);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone)]
pub struct FileHandle {
    inner: Rc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// `None` once closed.
    ///
    /// # Invariant
    /// Taken only by [`close`], on the loop thread; jobs hold their own `Arc` clone, so a job
    /// already submitted finishes on the file even if `close` runs meanwhile.
    file: RefCell<Option<Arc<File>>>,
}

impl FileHandle {
    /// The path the file was opened with.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// fs::open(&mut lp, "/dev/null", "r", |_, file| {
    ///     assert_eq!(file.unwrap().path(), std::path::Path::new("/dev/null"));
    /// });
    /// lp.run(RunMode::Default);
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether [`close`] was called on this handle (or a clone).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// fs::open(&mut lp, "/dev/null", "r", |lp, file| {
    ///     let file = file.unwrap();
    ///     assert!(!file.is_closed());
    ///     fs::close(lp, file.clone(), |_, closed| closed.unwrap());
    ///     assert!(file.is_closed()); // at once, before the pool closes the descriptor
    /// });
    /// lp.run(RunMode::Default);
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.file.borrow().is_none()
    }

    fn file(&self) -> Option<Arc<File>> {
        self.inner.file.borrow().clone()
    }
}

impl fmt::Debug for FileHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileHandle")
            .field("path", &self.inner.path)
            .field("closed", &self.is_closed())
            .finish()
    }
}

// ANCHOR: open_flags
/// Node's flag strings (`fs.open(path, flags)`), as open options. `x` (fail if the file
/// exists) and `s` (synchronous I/O, `O_SYNC`) may stand before or after the letter.
fn open_options(flags: &str) -> io::Result<OpenOptions> {
    let (mode, plus, exclusive, sync) = match flags {
        "r" => ('r', false, false, false),
        "rs" | "sr" => ('r', false, false, true),
        "r+" => ('r', true, false, false),
        "rs+" | "sr+" => ('r', true, false, true),
        "w" => ('w', false, false, false),
        "wx" | "xw" => ('w', false, true, false),
        "w+" => ('w', true, false, false),
        "wx+" | "xw+" => ('w', true, true, false),
        "a" => ('a', false, false, false),
        "ax" | "xa" => ('a', false, true, false),
        "as" | "sa" => ('a', false, false, true),
        "a+" => ('a', true, false, false),
        "ax+" | "xa+" => ('a', true, true, false),
        "as+" | "sa+" => ('a', true, false, true),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("The argument 'flags' is invalid. Received '{flags}'"),
            ));
        }
    };
    let mut options = OpenOptions::new();
    match mode {
        'r' => options.read(true).write(plus),
        'w' => options.read(plus).write(true).truncate(!exclusive),
        _ => options.read(plus).append(true),
    };
    if mode != 'r' {
        // `create_new` alone creates; `create` would make it succeed on an existing file.
        options.create(!exclusive).create_new(exclusive);
    }
    if sync {
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_SYNC);
    }
    Ok(options)
}
// ANCHOR_END: open_flags

/// Opens `path` with Node's `flags` (`"r"`, `"r+"`, `"w"`, `"wx"`, `"a"`, …) and calls back
/// with a [`FileHandle`] (`fs.open`). A new file gets mode `0o666` less the umask, as Node's.
///
/// # Errors
/// Through the callback: an unknown flag string is `InvalidInput` ("The argument 'flags' is
/// invalid. Received 'rw'"); the OS's errors name the path: `EEXIST: file already exists,
/// open 'out.txt'` for `"wx"` on an existing file.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-open-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("exists"), "").unwrap();
/// let mut lp = EventLoop::new();
/// fs::open(&mut lp, dir.join("exists"), "wx", |_, file| {
///     let err = file.unwrap_err(); // x: the file must not exist
///     assert_eq!(fs::FsError::of(&err).unwrap().code(), "EEXIST");
/// });
/// lp.run(RunMode::Default);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn open(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    flags: &str,
    cb: impl FnOnce(&mut EventLoop, io::Result<FileHandle>) + 'static,
) {
    let path = path.as_ref().to_path_buf();
    let options = open_options(flags);
    let opened = path.clone();
    let job = move || {
        let file = options?.open(&path);
        file.map_err(|e| FsError::new(e, "open", Some(path), None).into_io())
    };
    submit(lp, "fs.open", job, move |lp, file: io::Result<File>| {
        let handle = file.map(|file| FileHandle {
            inner: Rc::new(Inner {
                path: opened,
                file: RefCell::new(Some(Arc::new(file))),
            }),
        });
        cb(lp, handle);
    });
}

/// Reads up to `len` bytes at `position` (`None`: at the file's current position, which
/// then moves) and calls back with them (`fs.read`, one `read(2)`/`pread(2)`). Fewer bytes
/// than asked is not an error; none means end of file.
///
/// Node reads into a buffer the caller made; here the buffer is made on the worker, as large
/// as what can be read rather than as `len`: a 10-byte file read with `len` = [`MAX_READ`]
/// allocates 10 bytes, not 2 GiB. From a pipe or a device, whose contents have no size, one
/// call returns at most 64 KiB.
///
/// # Errors
/// Through the callback: `EBADF: bad file descriptor, read` on a closed handle, or one not
/// opened for reading; `InvalidInput` for `len` above [`MAX_READ`]; `OutOfMemory` if the
/// buffer cannot be had.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-read-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("f"), "hello world").unwrap();
/// let mut lp = EventLoop::new();
/// fs::open(&mut lp, dir.join("f"), "r", |lp, file| {
///     let file = file.unwrap();
///     fs::read(lp, &file, 5, Some(6), |_, bytes| assert_eq!(bytes.unwrap(), b"world"));
/// });
/// lp.run(RunMode::Default);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read(
    lp: &mut EventLoop,
    handle: &FileHandle,
    len: usize,
    position: Option<u64>,
    cb: impl FnOnce(&mut EventLoop, io::Result<Vec<u8>>) + 'static,
) {
    let file = handle.file();
    let job = move || {
        let file = file.ok_or_else(|| bad_handle("read"))?;
        if len > MAX_READ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "The value of \"length\" is out of range. It must be <= {MAX_READ}. Received {len}"
                ),
            ));
        }
        read_up_to(&file, len, position).map_err(|e| match e.kind() {
            io::ErrorKind::OutOfMemory => e,
            _ => FsError::new(e, "read", None, None).into_io(),
        })
    };
    submit(lp, "fs.read", job, cb);
}

// ANCHOR: read_up_to
/// The work of [`read`]: up to `len` bytes, in a buffer no larger than what can be read.
/// Allocating `len` bytes and filling them with zeros before the `read(2)` would cost a
/// second per gigabyte asked for, whatever the file holds. A read that keeps filling its
/// buffer (a file of unknown size) gets a buffer twice as large for the next one.
fn read_up_to(file: &File, len: usize, position: Option<u64>) -> io::Result<Vec<u8>> {
    let (mut size, read_on) = first_buffer(file, len, position)?;
    let mut buf = Vec::new();
    let mut filled = 0;
    loop {
        buf.try_reserve_exact(size - buf.len())
            .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
        buf.resize(size, 0);
        let at = position.map(|p| p + filled as u64);
        let n = retry(|| read_at(file, &mut buf[filled..], at))?;
        filled += n;
        if !read_on || n == 0 || filled < size || filled == len {
            break;
        }
        size = len.min(size.saturating_mul(2));
    }
    buf.truncate(filled);
    Ok(buf)
}

/// How many bytes [`read_up_to`] allocates before its first `read(2)`, and whether it reads
/// on while reads fill the buffer. Up to [`CHUNK`] bytes: `len`, and one read. For more, a
/// regular file's size (`fstat`) less the position (`lseek` for the current one) bounds the
/// buffer, and one read does, as one `read(2)` of a regular file stops only at its end. A
/// regular file of size 0 may hold bytes all the same (those of `/proc`): it is read a chunk
/// at a time, until end of file. A pipe or a device gets one read of [`CHUNK`] bytes: another
/// read could block.
fn first_buffer(file: &File, len: usize, position: Option<u64>) -> io::Result<(usize, bool)> {
    if len <= CHUNK {
        return Ok((len, false));
    }
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok((CHUNK, false));
    }
    if meta.len() == 0 {
        return Ok((CHUNK, true));
    }
    let offset = match position {
        Some(at) => at,
        None => { file }.stream_position()?,
    };
    let left = meta.len().saturating_sub(offset);
    Ok((
        usize::try_from(left).map_or(len, |left| left.min(len)),
        false,
    ))
}
// ANCHOR_END: read_up_to

/// Writes `data` at `position` (`None`: at the current position, or at the end for a file
/// opened with an `a` flag) and calls back with how many bytes were written (`fs.write`, one
/// `write(2)`/`pwrite(2)`: it may write fewer than given, as Node's). On Linux a position is
/// ignored for a file opened with an `a` flag: `pwrite(2)` appends anyway, in Node too.
///
/// # Errors
/// Through the callback: `EBADF: bad file descriptor, write` on a closed handle or one opened
/// read-only; the OS's errors, such as `ENOSPC`.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-write-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let mut lp = EventLoop::new();
/// fs::open(&mut lp, dir.join("f"), "w", |lp, file| {
///     fs::write(lp, &file.unwrap(), "abc", None, |_, n| assert_eq!(n.unwrap(), 3));
/// });
/// lp.run(RunMode::Default);
/// assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "abc");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write(
    lp: &mut EventLoop,
    handle: &FileHandle,
    data: impl Into<Vec<u8>>,
    position: Option<u64>,
    cb: impl FnOnce(&mut EventLoop, io::Result<usize>) + 'static,
) {
    let file = handle.file();
    let data = data.into();
    let job = move || {
        let file = file.ok_or_else(|| bad_handle("write"))?;
        retry(|| write_at(&file, &data, position))
            .map_err(|e| FsError::new(e, "write", None, None).into_io())
    };
    submit(lp, "fs.write", job, cb);
}

/// Closes the file (`fs.close`) for every clone of `handle`: calls made afterwards fail with
/// `EBADF`. Jobs already submitted still finish on the file; its descriptor is closed by
/// whichever of them ends last, on a worker.
///
/// # Errors
/// Through the callback: `EBADF: bad file descriptor, close` if the handle was closed before.
/// An error from `close(2)` itself is not reported: the standard library drops it.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// fs::open(&mut lp, "/dev/null", "r", |lp, file| {
///     let file = file.unwrap();
///     fs::close(lp, file.clone(), |_, closed| closed.unwrap());
///     fs::read(lp, &file, 1, None, |_, read| assert!(read.is_err())); // EBADF
/// });
/// lp.run(RunMode::Default);
/// ```
pub fn close(
    lp: &mut EventLoop,
    handle: FileHandle,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let file = handle.inner.file.borrow_mut().take();
    let job = move || file.map(drop).ok_or_else(|| bad_handle("close"));
    submit(lp, "fs.close", job, cb);
}

/// Runs `op` again while it fails with `EINTR`, as libuv does around `read` and `write`.
fn retry<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn read_at(mut file: &File, buf: &mut [u8], position: Option<u64>) -> io::Result<usize> {
    match position {
        None => io::Read::read(&mut file, buf),
        #[cfg(unix)]
        Some(at) => std::os::unix::fs::FileExt::read_at(file, buf, at),
        #[cfg(windows)]
        Some(at) => std::os::windows::fs::FileExt::seek_read(file, buf, at),
    }
}

fn write_at(mut file: &File, data: &[u8], position: Option<u64>) -> io::Result<usize> {
    match position {
        None => io::Write::write(&mut file, data),
        #[cfg(unix)]
        Some(at) => std::os::unix::fs::FileExt::write_at(file, data, at),
        #[cfg(windows)]
        Some(at) => std::os::windows::fs::FileExt::seek_write(file, data, at),
    }
}
