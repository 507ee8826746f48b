//! Futures on the thread pool: [`spawn_blocking`] for CPU work, and the file system and DNS
//! calls of chapter 7 as futures (modules [`fs`] and [`dns`]).
//!
//! Each is one pool job, submitted when the future is first polled; the task resumes one
//! microtask after the job's completion runs in the poll phase — where a promise resolved by
//! the same callback would resume it. Dropping the future before a worker took the job
//! cancels it (`uv_cancel`); once it runs, its outcome is dropped when it arrives.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::source::{Cancel, OnLoop};
use crate::event_loop::EventLoop;
use crate::threadpool::{WorkError, WorkKind};

/// A pool job as a future: what [`spawn_blocking`] and the functions of [`fs`] and [`dns`]
/// return. The job is submitted when the future is first polled; dropping the future before
/// a worker took the job cancels it.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
///
/// let mut lp = EventLoop::new();
/// let sum = lp.block_on(async {
///     let job: task::PoolFuture<_> = task::spawn_blocking(|| (1..=100u32).sum::<u32>());
///     job.await
/// });
/// assert_eq!(sum.unwrap().unwrap(), 5050);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct PoolFuture<T>(OnLoop<T>);

impl<T> fmt::Debug for PoolFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolFuture")
    }
}

impl<T: 'static> Future for PoolFuture<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx)
    }
}

// ANCHOR: on_pool
/// A future for `job` on the pool as `kind`, whose outcome `finish` turns into the output.
fn on_pool<J, R, T>(
    kind: WorkKind,
    name: &'static str,
    job: J,
    finish: impl FnOnce(Result<R, WorkError>) -> T + 'static,
) -> PoolFuture<T>
where
    J: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
    T: 'static,
{
    PoolFuture(OnLoop::new(
        name,
        Box::new(move |lp, slot| {
            let request = lp.submit_work(kind, name, job, move |lp, outcome| {
                slot.complete(lp, finish(outcome));
            });
            // Cancelled while still queued, the job never runs; its callback still comes,
            // with `Canceled`, and finds nobody waiting.
            Some(Box::new(move |lp: &mut EventLoop| {
                let _ = lp.cancel_work(request);
            }) as Cancel)
        }),
    ))
}
// ANCHOR_END: on_pool

/// Runs `work` on the thread pool and gives back its value: `uv_queue_work` awaited. For
/// blocking or CPU-heavy work that must not hold up the loop. A panic in `work` comes back
/// as [`WorkError::Panicked`]; dropping the future before a worker took the job cancels it.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task;
///
/// let mut lp = EventLoop::new();
/// let sum = lp.block_on(task::spawn_blocking(|| (1..=100u64).sum::<u64>()));
/// assert_eq!(sum, Ok(Ok(5050)));
/// ```
pub fn spawn_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> PoolFuture<Result<T, WorkError>> {
    on_pool(WorkKind::Cpu, "queueWork", work, |outcome| outcome)
}

use crate::fs::work_error;

pub mod fs {
    //! `fs.promises`: the file system calls of [`crate::fs`] as futures.
    //!
    //! ```
    //! use eventloop::event_loop::EventLoop;
    //! use eventloop::task::fs;
    //!
    //! let path = std::env::temp_dir().join(format!("task-fs-doc-{}", std::process::id()));
    //! let mut lp = EventLoop::new();
    //! let back = lp.block_on(async move {
    //!     fs::write_file(&path, b"hello".to_vec()).await?;
    //!     let data = fs::read_file(&path).await?;
    //!     std::fs::remove_file(&path)?;
    //!     Ok::<_, std::io::Error>(data)
    //! });
    //! assert_eq!(back.unwrap().unwrap(), b"hello");
    //! ```

    use std::fs::{File, Metadata};
    use std::io::{self, Write};
    use std::path::Path;

    use super::{OnLoop, PoolFuture, on_pool, work_error};
    use crate::event_loop::EventLoop;
    use crate::fs::{FileHandle, at};
    use crate::threadpool::WorkKind;

    /// Reads a whole file (`fs.promises.readFile`): the job of [`crate::fs::read_file`].
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::fs;
    ///
    /// let path = std::env::temp_dir().join(format!("task-fs-read_file-{}", std::process::id()));
    /// let mut lp = EventLoop::new();
    /// std::fs::write(&path, b"four").unwrap();
    /// let data = lp.block_on(fs::read_file(path.clone())).unwrap();
    /// assert_eq!(data.unwrap(), b"four");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`crate::fs::read_file`].
    pub fn read_file(path: impl AsRef<Path>) -> PoolFuture<io::Result<Vec<u8>>> {
        let path = path.as_ref().to_path_buf();
        on_pool(
            WorkKind::FastIo,
            "fs.readFile",
            move || crate::fs::read_whole(&path),
            |outcome| outcome.unwrap_or_else(|e| Err(work_error(e))),
        )
    }

    /// Replaces a file's contents, creating it if needed (`fs.promises.writeFile`).
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::fs;
    ///
    /// let path = std::env::temp_dir().join(format!("task-fs-write_file-{}", std::process::id()));
    /// let mut lp = EventLoop::new();
    /// lp.block_on(fs::write_file(path.clone(), b"new".to_vec()))
    ///     .unwrap()
    ///     .unwrap();
    /// assert_eq!(std::fs::read(&path).unwrap(), b"new");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`crate::fs::write_file`].
    pub fn write_file(
        path: impl AsRef<Path>,
        data: impl Into<Vec<u8>>,
    ) -> PoolFuture<io::Result<()>> {
        let (path, data) = (path.as_ref().to_path_buf(), data.into());
        let job = move || {
            let mut file = File::create(&path).map_err(at("open", &path))?;
            file.write_all(&data).map_err(at("write", &path))
        };
        on_pool(WorkKind::FastIo, "fs.writeFile", job, |outcome| {
            outcome.unwrap_or_else(|e| Err(work_error(e)))
        })
    }

    /// The metadata of `path`, following links (`fs.promises.stat`).
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::fs;
    ///
    /// let path = std::env::temp_dir().join(format!("task-fs-stat-{}", std::process::id()));
    /// let mut lp = EventLoop::new();
    /// std::fs::write(&path, b"12345").unwrap();
    /// let meta = lp.block_on(fs::stat(path.clone())).unwrap().unwrap();
    /// assert_eq!(meta.len(), 5);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`crate::fs::stat`].
    pub fn stat(path: impl AsRef<Path>) -> PoolFuture<io::Result<Metadata>> {
        let path = path.as_ref().to_path_buf();
        let job = move || std::fs::metadata(&path).map_err(at("stat", &path));
        on_pool(WorkKind::FastIo, "fs.stat", job, |outcome| {
            outcome.unwrap_or_else(|e| Err(work_error(e)))
        })
    }

    /// Opens a file with Node's `flags` (`fs.promises.open`), as [`crate::fs::open`].
    /// The handle operations below are not cancelled by a drop (each is one short system
    /// call): the job finishes and its outcome is dropped — a file opened for nobody is
    /// closed with its handle.
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::fs;
    ///
    /// let path = std::env::temp_dir().join(format!("task-fs-open-{}", std::process::id()));
    /// let mut lp = EventLoop::new();
    /// let p = path.clone();
    /// let written = lp.block_on(async move {
    ///     let file = fs::open(&p, "w").await?; // created, or truncated
    ///     let n = fs::write(&file, b"abc".to_vec(), None).await?;
    ///     fs::close(file).await?;
    ///     Ok::<_, std::io::Error>(n)
    /// });
    /// assert_eq!(written.unwrap().unwrap(), 3);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`crate::fs::open`].
    pub fn open(path: impl AsRef<Path>, flags: &str) -> PoolFuture<io::Result<FileHandle>> {
        let (path, flags) = (path.as_ref().to_path_buf(), flags.to_string());
        detached("fs.open", move |lp, done| {
            crate::fs::open(lp, &path, &flags, done)
        })
    }

    /// Reads up to `len` bytes at `position` (`filehandle.read`), as [`crate::fs::read`].
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::fs;
    ///
    /// let path = std::env::temp_dir().join(format!("task-fs-read-{}", std::process::id()));
    /// let mut lp = EventLoop::new();
    /// std::fs::write(&path, b"hello, file").unwrap();
    /// let p = path.clone();
    /// let part = lp.block_on(async move {
    ///     let file = fs::open(&p, "r").await?;
    ///     let part = fs::read(&file, 4, Some(7)).await?; // 4 bytes from offset 7
    ///     fs::close(file).await?;
    ///     Ok::<_, std::io::Error>(part)
    /// });
    /// assert_eq!(part.unwrap().unwrap(), b"file");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`crate::fs::read`].
    pub fn read(
        handle: &FileHandle,
        len: usize,
        position: Option<u64>,
    ) -> PoolFuture<io::Result<Vec<u8>>> {
        let handle = handle.clone();
        detached("fs.read", move |lp, done| {
            crate::fs::read(lp, &handle, len, position, done)
        })
    }

    /// Writes `data` at `position` (`filehandle.write`), as [`crate::fs::write`]: how many
    /// bytes were written.
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::fs;
    ///
    /// let path = std::env::temp_dir().join(format!("task-fs-write-{}", std::process::id()));
    /// let mut lp = EventLoop::new();
    /// std::fs::write(&path, b"hello").unwrap();
    /// let p = path.clone();
    /// lp.block_on(async move {
    ///     let file = fs::open(&p, "r+").await?;
    ///     fs::write(&file, b"J".to_vec(), Some(0)).await?; // over the first byte
    ///     fs::close(file).await
    /// })
    /// .unwrap()
    /// .unwrap();
    /// assert_eq!(std::fs::read(&path).unwrap(), b"Jello");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`crate::fs::write`].
    pub fn write(
        handle: &FileHandle,
        data: impl Into<Vec<u8>>,
        position: Option<u64>,
    ) -> PoolFuture<io::Result<usize>> {
        let (handle, data) = (handle.clone(), data.into());
        detached("fs.write", move |lp, done| {
            crate::fs::write(lp, &handle, data, position, done)
        })
    }

    /// Closes the file for every clone of `handle` (`filehandle.close`).
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::fs;
    ///
    /// let path = std::env::temp_dir().join(format!("task-fs-close-{}", std::process::id()));
    /// let mut lp = EventLoop::new();
    /// let p = path.clone();
    /// let after = lp.block_on(async move {
    ///     let file = fs::open(&p, "w").await?;
    ///     fs::close(file.clone()).await?;
    ///     Ok::<_, std::io::Error>(fs::write(&file, b"late".to_vec(), None).await)
    /// });
    /// assert!(after.unwrap().unwrap().is_err(), "a closed handle writes nothing");
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`crate::fs::close`].
    pub fn close(handle: FileHandle) -> PoolFuture<io::Result<()>> {
        detached("fs.close", move |lp, done| {
            crate::fs::close(lp, handle, done)
        })
    }

    /// A callback-API call as a future that a drop detaches from (the call is not cancelled).
    fn detached<T: 'static>(
        name: &'static str,
        call: impl FnOnce(&mut EventLoop, Box<dyn FnOnce(&mut EventLoop, T)>) + 'static,
    ) -> PoolFuture<T> {
        PoolFuture(OnLoop::new(
            name,
            Box::new(move |lp, slot| {
                call(lp, Box::new(move |lp, outcome| slot.complete(lp, outcome)));
                None
            }),
        ))
    }
}

pub mod dns {
    //! `dns.promises.lookup`: a name to an address, on the pool as slow I/O.
    //!
    //! ```
    //! use eventloop::event_loop::EventLoop;
    //! use eventloop::task::dns;
    //!
    //! let mut lp = EventLoop::new();
    //! let ip = lp.block_on(async { dns::lookup("localhost").await }).unwrap();
    //! assert!(ip.unwrap().is_loopback());
    //! ```

    use std::io;
    use std::net::IpAddr;

    use super::{PoolFuture, on_pool, work_error};
    use crate::threadpool::WorkKind;

    /// Resolves `host` to its first address, as [`crate::dns::lookup`], in one slow-I/O job
    /// (an empty host or one with a NUL byte fails in it, a literal address is returned by
    /// it without asking the resolver).
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::dns;
    ///
    /// let mut lp = EventLoop::new();
    /// let ip = lp.block_on(dns::lookup("127.0.0.1")).unwrap().unwrap();
    /// assert!(ip.is_loopback());
    /// ```
    ///
    /// # Errors
    /// As [`crate::dns::lookup`].
    pub fn lookup(host: &str) -> PoolFuture<io::Result<IpAddr>> {
        let host = host.to_string();
        let job = move || {
            crate::dns::check_host(&host)?;
            if let Ok(address) = host.parse::<IpAddr>() {
                return Ok(address);
            }
            let all = crate::dns::resolve(&host)?;
            Ok(all[0])
        };
        on_pool(WorkKind::SlowIo, "getaddrinfo", job, |outcome| {
            outcome.unwrap_or_else(|e| Err(work_error(e)))
        })
    }
}
