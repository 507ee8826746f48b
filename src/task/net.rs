//! TCP as futures: [`AsyncStream`] implements the `futures` crate's `AsyncRead` and
//! `AsyncWrite` over chapter 9's [`TcpStream`], and [`Incoming`] is a `Stream` of accepted
//! connections.
//!
//! The task reads and writes the socket itself, as tokio's streams do, through a weak
//! reference to it (the loop still owns it: closing the stream closes the descriptor).
//! Reading is on *readiness*: the loop only says when the socket is readable
//! (`TcpStream::notify_readable`, a crate-internal kind of `read_start`), and `poll_read` makes the one `recv`, straight into the
//! task's buffer; with nobody waiting to read, the loop stops watching and the bytes wait in
//! the kernel (backpressure). Writing is the try-then-queue of Node's streams: `poll_write`
//! makes the `send` at once when nothing of the stream waits, and only the rest goes, after
//! the poll, onto the loop's write queue ([`send`](TcpStream::send)), behind every byte
//! written before it. So an echo written with `.await` makes the same system calls as the
//! same echo written with callbacks.
//!
//! ```
//! use eventloop::event_loop::EventLoop;
//! use eventloop::task::{self, net};
//! use futures_core::Stream;
//! use futures_io::{AsyncRead, AsyncWrite};
//! use std::future::poll_fn;
//! use std::pin::Pin;
//!
//! let mut lp = EventLoop::new();
//! let mut incoming = net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
//! let addr = incoming.local_addr();
//! let echoed = lp.block_on(async move {
//!     // The server: one connection, echoed until the client closes it.
//!     task::spawn(async move {
//!         let mut conn = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await?.ok()?;
//!         let mut buf = [0; 64];
//!         loop {
//!             let n = poll_fn(|cx| Pin::new(&mut conn).poll_read(cx, &mut buf)).await.ok()?;
//!             if n == 0 {
//!                 return Some(()); // end of file
//!             }
//!             poll_fn(|cx| Pin::new(&mut conn).poll_write(cx, &buf[..n])).await.ok()?;
//!         }
//!     })
//!     .detach();
//!     // The client.
//!     let mut conn = net::connect(addr).await?;
//!     poll_fn(|cx| Pin::new(&mut conn).poll_write(cx, b"ping")).await?;
//!     let mut buf = [0; 4];
//!     let n = poll_fn(|cx| Pin::new(&mut conn).poll_read(cx, &mut buf)).await?;
//!     poll_fn(|cx| Pin::new(&mut conn).poll_close(cx)).await?; // shutdown, then close
//!     Ok::<_, std::io::Error>(buf[..n].to_vec())
//! });
//! assert_eq!(echoed.unwrap().unwrap(), b"ping");
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};

use super::source::OnLoop;
use super::tasks::{Command, Internal, Runnable, Tasks, tasks};
use super::waiter::Waiter;
use crate::event_loop::EventLoop;
use crate::net::{ReadyReader, StreamSocket, TcpListener, TcpStream};

/// Bytes waiting to be written past which `poll_write` waits for the queue to drain.
const WRITE_HIGH_WATER: usize = 1024 * 1024;

/// A connected TCP stream, to `.await` on: `futures_io::AsyncRead + AsyncWrite`. Close it
/// with `poll_close` (`close().await` from `futures::AsyncWriteExt`): a shutdown once every
/// byte is written, then a close. Dropping it closes it at once.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::net::{self, AsyncStream};
/// use futures_io::AsyncWrite;
/// use std::future::poll_fn;
/// use std::io::Read;
/// use std::pin::Pin;
///
/// // A plain blocking listener on another thread reads what the task writes.
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// let reader = std::thread::spawn(move || {
///     let mut text = String::new();
///     listener.accept().unwrap().0.read_to_string(&mut text).unwrap();
///     text
/// });
/// let mut lp = EventLoop::new();
/// lp.block_on(async move {
///     let mut conn: AsyncStream = net::connect(addr).await?;
///     poll_fn(|cx| Pin::new(&mut conn).poll_write(cx, b"hello")).await?;
///     poll_fn(|cx| Pin::new(&mut conn).poll_close(cx)).await // every byte, then end of file
/// })
/// .unwrap()
/// .unwrap();
/// assert_eq!(reader.join().unwrap(), "hello");
/// ```
pub struct AsyncStream {
    shared: Rc<Shared>,
    tasks: Weak<Tasks>,
}

/// What the stream's callbacks and the task share.
///
/// `repr(C)` keeps the fields in this order: what every readable event and every poll
/// touches comes first, and what only a stalled writer, an error or a close needs comes
/// last. (Left to itself the compiler sorts the fields by alignment, which scatters the flags
/// behind the write buffer.) The hot part is 32 bytes: with the `Rc`'s two counts (the
/// socket clones its reader for every event) 48, which the allocator's 16-byte alignment
/// puts in one cache line half of the time — 64 bytes would fit only a quarter of the time.
/// So the reading task's waiter is kept apart from a foreign one, and the errors and the
/// queue's size have a flag in the hot part.
#[repr(C)]
struct Shared {
    /// The stream's socket, for the reads and writes the task makes itself (gone once it is
    /// closed).
    socket: Weak<StreamSocket>,
    /// The task waiting to read, when its own context polled (`Waiter::Task`). At most one
    /// of this and `read_foreign` is set.
    read_task: Cell<Option<Weak<dyn Runnable>>>,
    /// The loop said the socket is readable, and no read since came back short: the next
    /// `poll_read` reads (tokio's readiness flag).
    readable: Cell<bool>,
    /// The loop watches the socket for the task (it stops while nobody waits to read).
    watching: Cell<bool>,
    eof: Cell<bool>,
    /// A send is queued for after the poll. Exactly while it is, `write_buf` holds bytes.
    send_queued: Cell<bool>,
    close: Cell<CloseStage>,
    /// `read_foreign` is set.
    read_foreign_set: Cell<bool>,
    /// An error was left in `read_error` or `write_error` (it stays up once raised).
    failed: Cell<bool>,
    /// `queued` is not 0.
    writes_queued: Cell<bool>,
    /// A reader woken through a waker of its own (a combinator's).
    read_foreign: Cell<Option<Waker>>,
    /// Bytes in the loop's write queue (the kernel did not take them yet).
    queued: Cell<usize>,
    read_error: Cell<Option<io::Error>>,
    write_error: Cell<Option<io::Error>>,
    /// Written by the task, waiting for the `send` that runs after its poll.
    write_buf: RefCell<Vec<u8>>,
    write_waiter: Cell<Waiter>,
    stream: TcpStream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseStage {
    Open,
    Closing,
    Closed,
}

impl fmt::Debug for AsyncStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStream")
            .field("stream", &self.shared.stream)
            .field("readable", &self.shared.readable.get())
            .field("eof", &self.shared.eof.get())
            .finish()
    }
}

impl AsyncStream {
    /// Wraps a connected stream and starts watching it for reads: for a stream made with the
    /// callback API (chapter 9), to use from a task. A data callback set with `read_start`
    /// is replaced: from now on the task reads.
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::net::{TcpListener, TcpStream};
    /// use eventloop::task::net::AsyncStream;
    /// use std::{cell::RefCell, rc::Rc};
    ///
    /// let mut lp = EventLoop::new();
    /// let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    /// let listener = TcpListener::listen(&mut lp, any, 8, |lp, conn| {
    ///     let _ = conn.map(|c| c.close(lp, |_| {}));
    /// })
    /// .unwrap();
    /// let addr = listener.local_addr(&lp).unwrap();
    /// let wrapped = Rc::new(RefCell::new(None));
    /// let w = wrapped.clone();
    /// TcpStream::connect(&mut lp, addr, move |lp, stream| {
    ///     *w.borrow_mut() = Some(AsyncStream::new(lp, stream.unwrap()).unwrap());
    ///     let _ = listener.close(lp, |_| {});
    /// })
    /// .unwrap();
    /// lp.run(eventloop::event_loop::RunMode::Once);
    /// # while wrapped.borrow().is_none() { lp.run(eventloop::event_loop::RunMode::Once); }
    /// assert!(wrapped.borrow().is_some());
    /// ```
    ///
    /// # Errors
    /// As [`TcpStream::read_start`]: the stream is closed, or still connecting.
    pub fn new(lp: &mut EventLoop, stream: TcpStream) -> io::Result<AsyncStream> {
        let shared = Rc::new(Shared {
            stream,
            socket: stream.shared_socket(lp)?,
            readable: Cell::new(false),
            watching: Cell::new(false),
            eof: Cell::new(false),
            read_error: Cell::new(None),
            read_task: Cell::new(None),
            read_foreign_set: Cell::new(false),
            read_foreign: Cell::new(None),
            failed: Cell::new(false),
            writes_queued: Cell::new(false),
            write_buf: RefCell::new(Vec::new()),
            send_queued: Cell::new(false),
            queued: Cell::new(0),
            write_error: Cell::new(None),
            write_waiter: Cell::new(Waiter::Nobody),
            close: Cell::new(CloseStage::Open),
        });
        start_reading(lp, &shared)?;
        let drained = Rc::downgrade(&shared);
        stream.on_drain(lp, move |lp| {
            if let Some(shared) = drained.upgrade() {
                shared.set_queued(0);
                shared.write_waiter.take().wake(lp);
            }
        })?;
        Ok(AsyncStream {
            shared,
            tasks: Rc::downgrade(&tasks(lp)),
        })
    }

    /// The stream underneath, for the callback API (`set_nodelay`, `local_addr`, …).
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::{self, net};
    ///
    /// let mut lp = EventLoop::new();
    /// let incoming = net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
    /// let addr = incoming.local_addr();
    /// let peer = lp.block_on(async move {
    ///     let conn = net::connect(addr).await?;
    ///     let stream = conn.stream();
    ///     task::with_loop(move |lp| {
    ///         stream.set_nodelay(lp, true)?;
    ///         stream.peer_addr(lp)
    ///     })
    ///     .await
    /// });
    /// assert_eq!(peer.unwrap().unwrap(), addr);
    /// ```
    pub fn stream(&self) -> TcpStream {
        self.shared.stream
    }

    /// Runs `command` with the loop after the current poll.
    fn defer(&self, name: &'static str, command: impl FnOnce(&mut EventLoop) + 'static) {
        if let Some(tasks) = self.tasks.upgrade() {
            tasks.push(Command::Call(name, Box::new(command)));
        }
    }
}

// ANCHOR: read_callback
/// Asks the loop to say when the socket becomes readable: the callback marks it and wakes
/// the task, which reads — and keeps the mark until a read comes back short, since the
/// watcher is edge-triggered and epoll will not say it again before more bytes arrive. With
/// nobody waiting to read, it stops watching instead: level-triggered (writes waiting, or the
/// `poll(2)` backend), the socket would be reported at every turn (a spin) while the task
/// does something else; the unread bytes wait in the kernel (backpressure).
///
/// The socket keeps the shared state itself as its reader (no closure in between, so a
/// readable event touches one allocation less); the state keeps only a weak reference to the
/// socket, so there is no cycle, and closing the stream lets go of it.
fn start_reading(lp: &mut EventLoop, shared: &Rc<Shared>) -> io::Result<()> {
    shared.watching.set(true);
    let reader: Rc<dyn ReadyReader> = shared.clone();
    shared.stream.notify_readable(lp, reader)
}

impl ReadyReader for Shared {
    fn readable(&self, lp: &mut EventLoop) {
        self.readable.set(true);
        match self.take_read_waiter() {
            Waiter::Nobody => {
                self.watching.set(false);
                let _ = self.stream.read_stop(lp);
            }
            waiter => waiter.wake(lp),
        }
    }
}
// ANCHOR_END: read_callback

// ANCHOR: poll_read
impl AsyncRead for AsyncStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let shared = &self.shared;
        if shared.failed.get()
            && let Some(e) = shared.read_error.take()
        {
            return Poll::Ready(Err(e));
        }
        if shared.eof.get() || out.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if shared.readable.get() {
            // One `recv`, straight into the task's buffer.
            let Some(socket) = shared.socket.upgrade() else {
                return Poll::Ready(Err(closed()));
            };
            match socket.read_now(out) {
                Ok(0) => {
                    shared.eof.set(true);
                    return Poll::Ready(Ok(0));
                }
                Ok(n) => {
                    // Short: the socket is empty now, and another `recv` would only say
                    // `EAGAIN` — wait for the loop to say it is readable again. Unless the
                    // kernel said the peer is done: then the next `recv` returns the end of
                    // file (or the error), and the edge-triggered watcher will not say so
                    // again.
                    if n < out.len() && !socket.read_closed() {
                        shared.readable.set(false);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => shared.readable.set(false),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        shared.set_read_waiter(Waiter::of(cx));
        if !shared.watching.get() {
            self.watch_again();
        }
        Poll::Pending
    }
}
// ANCHOR_END: poll_read

/// What reading a closed stream says.
fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the stream is closed")
}

impl AsyncStream {
    /// The loop stopped watching while nobody read: watch again, now that the task waits.
    #[inline(never)]
    fn watch_again(&self) {
        let shared = &self.shared;
        shared.watching.set(true);
        let weak = Rc::downgrade(shared);
        self.defer("readStart", move |lp| {
            if let Some(shared) = weak.upgrade()
                && let Err(e) = start_reading(lp, &shared)
            {
                shared.leave_error(&shared.read_error, e);
                shared.take_read_waiter().wake(lp);
            }
        });
    }
}

impl AsyncWrite for AsyncStream {
    // ANCHOR: poll_write
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let shared = &self.shared;
        if shared.failed.get()
            && let Some(e) = shared.write_error.take()
        {
            return Poll::Ready(Err(e));
        }
        if shared.close.get() != CloseStage::Open {
            return Poll::Ready(Err(io::Error::from_raw_os_error(libc::EPIPE)));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let mut rest = data;
        // Nothing waits when the loop's queue is empty and no send is queued (the buffer is
        // empty exactly then): a test that leaves the buffer's cache line alone.
        if !shared.writes_queued.get() && !shared.send_queued.get() {
            // Nothing of ours waits: the kernel gets the bytes now, from the task's own buffer
            // (`uv_try_write`), and only what it does not take is kept for the loop.
            match shared.try_write(data) {
                Ok(n) if n == data.len() => return Poll::Ready(Ok(n)),
                Ok(n) => rest = &data[n..],
                Err(e) => return Poll::Ready(Err(e)),
            }
        } else if shared.queued.get() + shared.write_buf.borrow().len() >= WRITE_HIGH_WATER {
            shared.write_waiter.set(Waiter::of(cx)); // until 'drain'
            return Poll::Pending;
        }
        shared.write_buf.borrow_mut().extend_from_slice(rest);
        if !shared.send_queued.replace(true)
            && let Some(tasks) = self.tasks.upgrade()
        {
            // One `send` after the poll for the rest, behind what waits: a try, then a queue.
            tasks.push(Command::Internal(shared.clone()));
        }
        Poll::Ready(Ok(data.len()))
    }
    // ANCHOR_END: poll_write

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shared = &self.shared;
        if let Some(e) = shared.write_error.take() {
            return Poll::Ready(Err(e));
        }
        if shared.write_buf.borrow().is_empty() && shared.queued.get() == 0 {
            return Poll::Ready(Ok(()));
        }
        shared.write_waiter.set(Waiter::of(cx));
        Poll::Pending
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.shared.close.get() {
            CloseStage::Closed => return Poll::Ready(Ok(())),
            CloseStage::Closing => {
                self.shared.write_waiter.set(Waiter::of(cx));
                return Poll::Pending;
            }
            CloseStage::Open => {}
        }
        if let Poll::Ready(Err(e)) = self.as_mut().poll_flush(cx) {
            return Poll::Ready(Err(e));
        }
        let shared = self.shared.clone();
        shared.close.set(CloseStage::Closing);
        shared.write_waiter.set(Waiter::of(cx));
        // Shutdown waits for the queued bytes itself; then close.
        self.defer("shutdown", move |lp| {
            send_now(lp, &shared);
            let stream = shared.stream;
            let done = shared.clone();
            let finish = move |lp: &mut EventLoop| {
                let closing = done.clone();
                let closed = stream.close(lp, move |lp| {
                    closing.close.set(CloseStage::Closed);
                    closing.write_waiter.take().wake(lp);
                });
                if closed.is_err() {
                    done.close.set(CloseStage::Closed);
                    done.write_waiter.take().wake(lp);
                }
            };
            if stream.shutdown(lp, move |lp, _| finish(lp)).is_err() {
                let closed = shared.clone();
                let _ = stream.close(lp, move |lp| {
                    closed.close.set(CloseStage::Closed);
                    closed.write_waiter.take().wake(lp);
                });
            }
        });
        Poll::Pending
    }
}

impl Shared {
    /// Sets who waits to read (replacing whoever waited).
    #[inline]
    fn set_read_waiter(&self, waiter: Waiter) {
        match waiter {
            Waiter::Task(task) => {
                if self.read_foreign_set.get() {
                    self.read_foreign_set.set(false);
                    drop(self.read_foreign.take());
                }
                self.read_task.set(Some(task));
            }
            Waiter::Foreign(waker) => {
                self.read_task.set(None);
                self.read_foreign_set.set(true);
                self.read_foreign.set(Some(waker));
            }
            Waiter::Nobody => drop(self.take_read_waiter()),
        }
    }

    /// Takes who waits to read.
    #[inline]
    fn take_read_waiter(&self) -> Waiter {
        if let Some(task) = self.read_task.take() {
            Waiter::Task(task)
        } else if self.read_foreign_set.get() {
            self.read_foreign_set.set(false);
            self.read_foreign
                .take()
                .map_or(Waiter::Nobody, Waiter::Foreign)
        } else {
            Waiter::Nobody
        }
    }

    /// Leaves `error` in `slot` (`read_error` or `write_error`) for the next read or write,
    /// and raises the flag the hot paths test before they look at either.
    fn leave_error(&self, slot: &Cell<Option<io::Error>>, error: io::Error) {
        slot.set(Some(error));
        self.failed.set(true);
    }

    /// Sets the bytes in the loop's write queue.
    #[inline]
    fn set_queued(&self, queued: usize) {
        self.queued.set(queued);
        self.writes_queued.set(queued != 0);
    }

    /// Writes what the kernel takes of `data` now, unless bytes wait on the loop's write
    /// queue (they go first) or the stream is connecting, shut down or closed: then nothing
    /// (`Ok(0)`), and the send after the poll queues the bytes or reports the error.
    #[inline]
    fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        match self.socket.upgrade() {
            Some(socket) if !socket.writes_wait() => match socket.write_now(data) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                written => written,
            },
            _ => Ok(0),
        }
    }
}

impl Internal for Shared {
    /// The send a write deferred to the end of the poll.
    fn run(self: Rc<Self>, lp: &mut EventLoop) {
        send_now(lp, &self);
    }
}

/// Sends what the task wrote in its last poll: Node's `socket.write` (a try, then a queue).
#[inline]
fn send_now(lp: &mut EventLoop, shared: &Rc<Shared>) {
    shared.send_queued.set(false);
    let mut data = shared.write_buf.borrow_mut();
    if !data.is_empty() {
        // `send`, unrolled: when the kernel takes every byte at once (the common case), the
        // write queue was empty and stays so, and there is no size to look up. Neither call
        // runs a callback, so the buffer stays borrowed, and keeps its memory for the next
        // write.
        let rest = match shared.stream.try_write(lp, &data) {
            Ok(n) if n == data.len() => Ok(None),
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Some(0)),
            Err(e) => Err(e),
        };
        let sent = match rest {
            Ok(None) => Ok(0), // nothing was queued before, and nothing is now
            Ok(Some(n)) => shared
                .stream
                .write(lp, &data[n..], |_, _| {})
                .map(|()| shared.stream.write_queue_size(lp)),
            Err(e) => Err(e),
        };
        data.clear();
        drop(data);
        match sent {
            Ok(queued) => shared.set_queued(queued),
            Err(e) => shared.leave_error(&shared.write_error, e),
        }
    } else {
        drop(data);
    }
    if shared.queued.get() == 0 {
        shared.write_waiter.take().wake(lp);
    }
}

impl Drop for AsyncStream {
    fn drop(&mut self) {
        if self.shared.close.get() != CloseStage::Open {
            return;
        }
        self.shared.close.set(CloseStage::Closing);
        let shared = self.shared.clone();
        self.defer("close", move |lp| {
            send_now(lp, &shared); // what was written before the drop still goes out first
            let _ = shared.stream.close(lp, |_| {});
        });
    }
}

// ANCHOR: connect
/// Connects to `addr`: the stream once connected, or the error (`ECONNREFUSED`, …).
/// Dropping the future before it finished cancels the connect.
///
/// ```no_run
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::net;
/// use futures_io::AsyncWrite;
///
/// let mut lp = EventLoop::new();
/// lp.block_on(async {
///     let stream = net::connect("127.0.0.1:7000".parse().unwrap()).await?;
///     drop(stream); // closes it
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap()
/// .unwrap();
/// ```
pub fn connect(addr: SocketAddr) -> Connect {
    Connect(OnLoop::new(
        "connect",
        Box::new(move |lp, slot| {
            let done = slot.clone();
            let connecting = TcpStream::connect(lp, addr, move |lp, stream| {
                let stream = stream.and_then(|s| AsyncStream::new(lp, s));
                done.complete(lp, stream);
            });
            match connecting {
                Ok(stream) => Some(Box::new(move |lp: &mut EventLoop| {
                    let _ = stream.close(lp, |_| {}); // the connect ends with ECANCELED
                })),
                Err(e) => {
                    slot.complete(lp, Err(e));
                    None
                }
            }
        }),
    ))
}
// ANCHOR_END: connect

/// The future of [`connect`]. Dropping it before it finished cancels the connect.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::net::{self, Connect};
///
/// // A port nobody listens on: bind one, note it, free it.
/// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
/// let mut lp = EventLoop::new();
/// let connecting: Connect = net::connect(port);
/// let refused = lp.block_on(connecting).unwrap();
/// assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Connect(OnLoop<io::Result<AsyncStream>>);

impl fmt::Debug for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Connect")
    }
}

impl Future for Connect {
    type Output = io::Result<AsyncStream>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// A listening socket's connections, as a [`Stream`]: `TcpListener::incoming()`. Each
/// accepted connection is already an [`AsyncStream`], reading. Dropping it closes the
/// listener.
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::net::{self, Incoming};
/// use futures_core::Stream;
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// let mut lp = EventLoop::new();
/// let mut incoming: Incoming = net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
/// let addr = incoming.local_addr();
/// let clients = std::thread::spawn(move || {
///     (0..2).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect::<Vec<_>>()
/// });
/// let accepted = lp.block_on(async move {
///     let mut n = 0;
///     while n < 2 {
///         poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await.unwrap()?;
///         n += 1;
///     }
///     Ok::<_, std::io::Error>(n) // `incoming` is dropped: the listener closes
/// });
/// assert_eq!(accepted.unwrap().unwrap(), 2);
/// drop(clients.join().unwrap());
/// ```
pub struct Incoming {
    listener: TcpListener,
    addr: SocketAddr,
    shared: Rc<IncomingShared>,
    tasks: Weak<Tasks>,
}

struct IncomingShared {
    accepted: RefCell<VecDeque<io::Result<AsyncStream>>>,
    waiter: Cell<Waiter>,
}

impl fmt::Debug for Incoming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("addr", &self.addr)
            .field("waiting", &self.shared.accepted.borrow().len())
            .finish()
    }
}

// ANCHOR: listen
/// Listens on `addr` (port 0: any free port) and returns its connections as a stream.
/// From inside a task, call it through [`with_loop`](super::with_loop).
///
/// # Errors
/// As [`TcpListener::listen`]: `EADDRINUSE`, `EACCES`, …
///
/// ```
/// use eventloop::event_loop::EventLoop;
/// use eventloop::task::net;
/// use futures_core::Stream;
/// use std::pin::Pin;
///
/// let mut lp = EventLoop::new();
/// let mut incoming = net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
/// let addr = incoming.local_addr();
/// let accepted = lp.block_on(async move {
///     let _client = net::connect(addr).await.unwrap();
///     std::future::poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await
/// });
/// assert!(matches!(accepted, Ok(Some(Ok(_)))));
/// ```
pub fn listen(lp: &mut EventLoop, addr: SocketAddr) -> io::Result<Incoming> {
    let shared = Rc::new(IncomingShared {
        accepted: RefCell::new(VecDeque::new()),
        waiter: Cell::new(Waiter::Nobody),
    });
    let weak = Rc::downgrade(&shared);
    let listener = TcpListener::listen(lp, addr, 511, move |lp, conn| {
        let Some(shared) = weak.upgrade() else {
            if let Ok(conn) = conn {
                let _ = conn.close(lp, |_| {});
            }
            return;
        };
        let conn = conn.and_then(|c| AsyncStream::new(lp, c));
        shared.accepted.borrow_mut().push_back(conn);
        shared.waiter.take().wake(lp);
    })?;
    let addr = listener.local_addr(lp)?;
    Ok(Incoming {
        listener,
        addr,
        shared,
        tasks: Rc::downgrade(&tasks(lp)),
    })
}
// ANCHOR_END: listen

impl Incoming {
    /// The address it listens on (with the port the system chose for port 0).
    ///
    /// ```
    /// use eventloop::event_loop::EventLoop;
    /// use eventloop::task::net;
    ///
    /// let mut lp = EventLoop::new();
    /// let incoming = net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(incoming.local_addr().ip().is_loopback());
    /// assert_ne!(incoming.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listener underneath, for the callback API (`unref`, …).
    ///
    /// ```
    /// use eventloop::Ref;
    /// use eventloop::event_loop::{EventLoop, RunMode};
    /// use eventloop::task::net;
    ///
    /// let mut lp = EventLoop::new();
    /// let incoming = net::listen(&mut lp, "127.0.0.1:0".parse().unwrap()).unwrap();
    /// incoming.listener().unref(&mut lp); // listening no longer keeps the loop alive
    /// lp.run(RunMode::Default); // returns at once
    /// ```
    pub fn listener(&self) -> TcpListener {
        self.listener
    }
}

impl Stream for Incoming {
    type Item = io::Result<AsyncStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(conn) = self.shared.accepted.borrow_mut().pop_front() {
            return Poll::Ready(Some(conn));
        }
        self.shared.waiter.set(Waiter::of(cx));
        Poll::Pending
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        let listener = self.listener;
        if let Some(tasks) = self.tasks.upgrade() {
            tasks.push(Command::Call(
                "close",
                Box::new(move |lp: &mut EventLoop| {
                    let _ = listener.close(lp, |_| {});
                }),
            ));
        }
    }
}
