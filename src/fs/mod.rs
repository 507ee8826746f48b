//! The file system, asynchronously: Node's callback `fs` API on the loop's thread pool.
//!
//! A disk read may block for milliseconds, and the kernel offers no portable way to read a
//! regular file without blocking, so libuv runs every `uv_fs_*` call with a callback on the
//! thread pool as a *fast I/O* job. Here every function submits one job
//! ([`WorkKind::FastIo`]) that does the whole operation on a worker; the callback then runs on
//! the loop, in the poll phase, followed by a checkpoint (ticks, then microtasks), like any
//! completion (chapter 7). The call keeps the loop alive until its callback has run.
//!
//! Callbacks are *error-first* as in Node: each runs exactly once, with `Ok(value)` or an
//! `io::Error` whose message names the failed call in Node's words, `ENOENT: no such file or
//! directory, open 'notes/missing.txt'`; its [`FsError`] gives the parts back.
//!
//! ```
//! use eventloop::event_loop::EventLoop;
//! use eventloop::fs;
//!
//! let dir = std::env::temp_dir().join(format!("eventloop-fs-doc-{}", std::process::id()));
//! let file = dir.join("hello.txt");
//! let mut lp = EventLoop::new();
//! lp.run_main(|lp| {
//!     let made = dir.clone();
//!     fs::mkdir(lp, made, true, move |lp, made| {
//!         made.expect("a fresh temp directory");
//!         fs::write_file(lp, file.clone(), "hello", move |lp, written| {
//!             written.expect("the directory exists");
//!             fs::read_file(lp, file, |_, data| {
//!                 assert_eq!(data.expect("just written"), b"hello");
//!             });
//!         });
//!     });
//!     fs::read_file(lp, "no/such/file.txt", |_, data| {
//!         let err = data.unwrap_err();
//!         assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
//!         assert!(err.to_string().ends_with(", open 'no/such/file.txt'"));
//!     });
//! })
//! .expect("no callback panicked");
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! Node's `fs.readFile` spends four pool jobs per file (open, fstat, read, close), each
//! followed by a trip back through the loop; [`read_file`] does all four in one job.

mod error;
mod file;

use std::fs::{self as stdfs, File, Metadata, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::event_loop::EventLoop;
use crate::threadpool::{WorkError, WorkKind};

pub use error::{FsError, errno_name};
pub use file::{FileHandle, MAX_READ, close, open, read, write};

/// Options of [`rm`] (Node's `fs.rm` options).
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let quiet = fs::RmOptions { force: true, ..Default::default() };
/// fs::rm(&mut lp, "/no/such/path", quiet, |_, done| done.unwrap()); // force: missing is fine
/// lp.run(RunMode::Default);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RmOptions {
    /// Remove a directory and everything in it; without it a directory is an error.
    pub recursive: bool,
    /// A missing path is not an error.
    pub force: bool,
}

// ANCHOR: submit
/// Runs `job` on the pool as fast I/O and `cb` on the loop with its outcome: the one path
/// every call of this module takes.
fn submit<T: Send + 'static>(
    lp: &mut EventLoop,
    name: &'static str,
    job: impl FnOnce() -> io::Result<T> + Send + 'static,
    cb: impl FnOnce(&mut EventLoop, io::Result<T>) + 'static,
) {
    lp.submit_work(WorkKind::FastIo, name, job, move |lp, outcome| {
        cb(lp, outcome.unwrap_or_else(|e| Err(work_error(e))));
    });
}
// ANCHOR_END: submit

/// A job that produced no outcome. Our fs jobs do not panic and are never cancelled, so
/// this is a bug report rather than an expected error: a pool whose workers died (an
/// unfinished thread-pool exercise) says so here, with the worker's panic message.
pub(crate) fn work_error(e: WorkError) -> io::Error {
    match e {
        WorkError::Canceled => io::Error::new(io::ErrorKind::Interrupted, e),
        WorkError::Panicked(_) | WorkError::WorkerDied(_) => io::Error::other(e),
    }
}

/// `map_err` helper: names the call and path of an OS error.
pub(crate) fn at<'a>(
    syscall: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> io::Error + 'a {
    move |e| FsError::new(e, syscall, Some(path.to_path_buf()), None).into_io()
}

/// Same as [`at`], for the calls that name two paths.
fn between<'a>(
    syscall: &'static str,
    from: &'a Path,
    to: &'a Path,
) -> impl FnOnce(io::Error) -> io::Error + 'a {
    move |e| FsError::new(e, syscall, Some(from.to_path_buf()), Some(to.to_path_buf())).into_io()
}

fn owned(path: impl AsRef<Path>) -> PathBuf {
    path.as_ref().to_path_buf()
}

/// Reads the whole file and calls back with its bytes (`fs.readFile`).
///
/// # Errors
/// Through the callback: `ENOENT: no such file or directory, open 'a.txt'` and the like;
/// reading a directory is `EISDIR: illegal operation on a directory, read 'dir'` (Node names
/// no path for this one).
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-read_file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("a.txt"), "abc").unwrap();
/// let mut lp = EventLoop::new();
/// fs::read_file(&mut lp, dir.join("a.txt"), |_, data| assert_eq!(data.unwrap(), b"abc"));
/// lp.run(RunMode::Default); // the read ran on the pool; its callback on the loop
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
// ANCHOR: read_file
pub fn read_file(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut EventLoop, io::Result<Vec<u8>>) + 'static,
) {
    let path = owned(path);
    submit(lp, "fs.readFile", move || read_whole(&path), cb);
}
// ANCHOR_END: read_file

// ANCHOR: read_whole
/// The work of [`read_file`], in the four system calls Node's `readFile` makes as four pool
/// jobs: `open`, `fstat`, `read` (repeated until the size fstat gave), `close`. Like Node,
/// it reads as many bytes as the file had when opened; a file reporting size 0 (such as those
/// in `/proc`) is read until end of file instead. Not `std::fs::read`: that adds an `lseek`
/// and a probe `read` to find the end, half as many calls again for a small file.
pub(crate) fn read_whole(path: &Path) -> io::Result<Vec<u8>> {
    let file = File::open(path).map_err(at("open", path))?;
    let size = file.metadata().map_err(at("fstat", path))?.len();
    if size > MAX_READ as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "File size ({size}) is greater than 2 GiB: {}",
                path.display()
            ),
        ));
    }
    let mut data = Vec::new();
    data.try_reserve_exact(size as usize)
        .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
    let read = if size == 0 {
        (&file).read_to_end(&mut data)
    } else {
        (&file).take(size).read_to_end(&mut data)
    };
    read.map_err(at("read", path))?;
    Ok(data)
}
// ANCHOR_END: read_whole

/// Replaces the file's contents with `data`, creating it if needed (`fs.writeFile`).
///
/// # Errors
/// Through the callback: `ENOENT: no such file or directory, open 'dir/a.txt'` when the
/// directory does not exist, and the like.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-write_file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("out.txt");
/// let mut lp = EventLoop::new();
/// fs::write_file(&mut lp, &path, "replaced", |_, done| done.unwrap());
/// lp.run(RunMode::Default);
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "replaced");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_file(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    data: impl Into<Vec<u8>>,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let (path, data) = (owned(path), data.into());
    let job = move || {
        let mut file = File::create(&path).map_err(at("open", &path))?;
        file.write_all(&data).map_err(at("write", &path))
    };
    submit(lp, "fs.writeFile", job, cb);
}

/// Appends `data` to the file, creating it if needed (`fs.appendFile`).
///
/// # Errors
/// Through the callback, as [`write_file`].
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-append_file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let log = dir.join("log.txt");
/// let mut lp = EventLoop::new();
/// let again = log.clone();
/// fs::append_file(&mut lp, &log, "one\n", move |lp, done| {
///     done.unwrap();
///     fs::append_file(lp, again, "two\n", |_, done| done.unwrap());
/// });
/// lp.run(RunMode::Default);
/// assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\ntwo\n");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn append_file(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    data: impl Into<Vec<u8>>,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let (path, data) = (owned(path), data.into());
    let job = move || {
        let mut options = OpenOptions::new();
        let mut file = options
            .append(true)
            .create(true)
            .open(&path)
            .map_err(at("open", &path))?;
        file.write_all(&data).map_err(at("write", &path))
    };
    submit(lp, "fs.appendFile", job, cb);
}

/// Calls back with the metadata of `path`, following symbolic links (`fs.stat`).
///
/// # Errors
/// Through the callback: `ENOENT: no such file or directory, stat 'a.txt'` and the like.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-stat-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("f"), [0; 10]).unwrap();
/// let mut lp = EventLoop::new();
/// fs::stat(&mut lp, dir.join("f"), |_, meta| assert_eq!(meta.unwrap().len(), 10));
/// lp.run(RunMode::Default);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn stat(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut EventLoop, io::Result<Metadata>) + 'static,
) {
    let path = owned(path);
    let job = move || stdfs::metadata(&path).map_err(at("stat", &path));
    submit(lp, "fs.stat", job, cb);
}

/// Calls back with the names in directory `path`, without `.` and `..`, sorted by their
/// bytes as libuv's `uv_fs_scandir` sorts them (`strcmp`: `"B"` before `"_"` before `"a"`),
/// not in the order the directory happens to list them (`fs.readdir`). A name that is not
/// valid UTF-8 has its bad bytes replaced by U+FFFD, as Node's default `utf8` encoding does.
///
/// # Errors
/// Through the callback: `ENOTDIR: not a directory, scandir 'a.txt'` and the like.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-read_dir-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("b"), "").unwrap();
/// std::fs::write(dir.join("a"), "").unwrap();
/// let mut lp = EventLoop::new();
/// fs::read_dir(&mut lp, &dir, |_, names| assert_eq!(names.unwrap(), ["a", "b"]));
/// lp.run(RunMode::Default);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_dir(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut EventLoop, io::Result<Vec<String>>) + 'static,
) {
    let path = owned(path);
    let job = move || {
        let mut names = Vec::new();
        for entry in stdfs::read_dir(&path).map_err(at("scandir", &path))? {
            names.push(entry.map_err(at("scandir", &path))?.file_name());
        }
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        Ok(names
            .iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect())
    };
    submit(lp, "fs.readdir", job, cb);
}

/// Creates directory `path` (`fs.mkdir`); with `recursive`, also its missing parents, and
/// an existing directory is then not an error (`{ recursive: true }`).
///
/// # Errors
/// Through the callback: `EEXIST: file already exists, mkdir 'dir'` (not recursive),
/// `ENOENT: no such file or directory, mkdir 'a/b'` for a missing parent (not recursive),
/// `ENOTDIR: not a directory, mkdir 'file/sub'`.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-mkdir-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let mut lp = EventLoop::new();
/// fs::mkdir(&mut lp, dir.join("x/y"), true, |_, made| made.unwrap()); // recursive: parents too
/// fs::mkdir(&mut lp, dir.join("p/q"), false, |_, made| {
///     assert_eq!(made.unwrap_err().kind(), std::io::ErrorKind::NotFound);
/// });
/// lp.run(RunMode::Default);
/// assert!(dir.join("x/y").is_dir());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn mkdir(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    recursive: bool,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let path = owned(path);
    let job = move || {
        let made = if recursive {
            stdfs::create_dir_all(&path)
        } else {
            stdfs::create_dir(&path)
        };
        made.map_err(at("mkdir", &path))
    };
    submit(lp, "fs.mkdir", job, cb);
}

/// Removes a file, or a directory tree with [`RmOptions::recursive`] (`fs.rm`). Symbolic
/// links are removed, never followed.
///
/// # Errors
/// Through the callback: `ENOENT: no such file or directory, lstat 'a.txt'` (unless
/// [`force`](RmOptions::force)); `EISDIR: illegal operation on a directory, rm 'dir'` for a
/// directory without `recursive` (Node words this one differently: "Path is a directory:
/// rm returned EISDIR (is a directory) dir").
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-rm-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::create_dir_all(dir.join("tree/leaf")).unwrap();
/// let mut lp = EventLoop::new();
/// let all = fs::RmOptions { recursive: true, force: false };
/// fs::rm(&mut lp, dir.join("tree"), all, |_, done| done.unwrap());
/// lp.run(RunMode::Default);
/// assert!(!dir.join("tree").exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn rm(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    options: RmOptions,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let path = owned(path);
    let job = move || {
        let meta = match stdfs::symlink_metadata(&path) {
            Err(e) if options.force && e.kind() == io::ErrorKind::NotFound => return Ok(()),
            meta => meta.map_err(at("lstat", &path))?,
        };
        if !meta.is_dir() {
            return stdfs::remove_file(&path).map_err(at("unlink", &path));
        }
        if !options.recursive {
            return Err(at("rm", &path)(is_a_directory()));
        }
        stdfs::remove_dir_all(&path).map_err(at("rm", &path))
    };
    submit(lp, "fs.rm", job, cb);
}

fn is_a_directory() -> io::Error {
    #[cfg(unix)]
    return io::Error::from_raw_os_error(libc::EISDIR);
    #[cfg(not(unix))]
    return io::Error::new(io::ErrorKind::IsADirectory, "is a directory");
}

/// Removes a file or symbolic link (`fs.unlink`).
///
/// # Errors
/// Through the callback: `ENOENT: no such file or directory, unlink 'a.txt'`; a directory
/// is `EISDIR` on Linux, `EPERM` elsewhere.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-unlink-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("gone"), "").unwrap();
/// let mut lp = EventLoop::new();
/// fs::unlink(&mut lp, dir.join("gone"), |_, done| done.unwrap());
/// lp.run(RunMode::Default);
/// assert!(!dir.join("gone").exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn unlink(
    lp: &mut EventLoop,
    path: impl AsRef<Path>,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let path = owned(path);
    let job = move || stdfs::remove_file(&path).map_err(at("unlink", &path));
    submit(lp, "fs.unlink", job, cb);
}

/// Renames `from` to `to`, replacing `to` if it is a file (`fs.rename`).
///
/// # Errors
/// Through the callback, naming both paths: `ENOENT: no such file or directory, rename
/// 'a.txt' -> 'missing/b.txt'`.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-rename-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("old"), "x").unwrap();
/// let mut lp = EventLoop::new();
/// fs::rename(&mut lp, dir.join("old"), dir.join("new"), |_, done| done.unwrap());
/// lp.run(RunMode::Default);
/// assert!(dir.join("new").exists() && !dir.join("old").exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn rename(
    lp: &mut EventLoop,
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let (from, to) = (owned(from), owned(to));
    let job = move || stdfs::rename(&from, &to).map_err(between("rename", &from, &to));
    submit(lp, "fs.rename", job, cb);
}

/// Copies the contents and permissions of file `from` to `to`, replacing `to` if it exists
/// (`fs.copyFile` without flags).
///
/// # Errors
/// Through the callback, naming both paths: `ENOENT: no such file or directory, copyfile
/// 'a.txt' -> 'b.txt'`.
///
/// ```
/// use eventloop::prelude::*;
///
/// # let dir = std::env::temp_dir().join(format!("el-doc-copy_file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("src"), "same").unwrap();
/// let mut lp = EventLoop::new();
/// fs::copy_file(&mut lp, dir.join("src"), dir.join("dst"), |_, done| done.unwrap());
/// lp.run(RunMode::Default);
/// assert_eq!(std::fs::read_to_string(dir.join("dst")).unwrap(), "same");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn copy_file(
    lp: &mut EventLoop,
    from: impl AsRef<Path>,
    to: impl AsRef<Path>,
    cb: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) {
    let (from, to) = (owned(from), owned(to));
    let job = move || {
        stdfs::copy(&from, &to)
            .map(drop)
            .map_err(between("copyfile", &from, &to))
    };
    submit(lp, "fs.copyFile", job, cb);
}
