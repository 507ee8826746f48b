//! TCP on the loop (chapter 9): servers and connections with error-first callbacks, built
//! on the poll phase's file-descriptor watchers — libuv's `uv_tcp_t` and `uv_stream_t`
//! (`src/unix/stream.c`, `src/unix/tcp.c`) with Node's `net` module in mind.
//!
//! A [`TcpListener`] accepts connections; a [`TcpStream`] reads and writes one. Both are
//! small `Copy` ids (generational keys): the loop keeps the sockets, so every callback gets
//! `&mut EventLoop` and can use any socket, and an id kept after `close` is a clear
//! `NotFound` error, never another socket.
//!
//! The rules that make it fast and fair, each from libuv:
//! - **Readiness is level-triggered.** A readable event means "a read will not block". One
//!   event reads until a read comes back *shorter than the buffer* (more would only return
//!   `EAGAIN`: `uv__read`'s partial-read rule), and at most 32 times, so one busy peer cannot
//!   starve the others.
//! - **One read buffer per loop** (64 KiB), lent to the data callback as `&[u8]`. A
//!   connection owns no buffer of its own until a write has to wait, so ten thousand idle
//!   connections cost little more than their kernel sockets.
//! - **Writes are tried at once** (`uv__write` from `uv_write`). Only what the kernel did not
//!   take goes on the connection's write queue, and only then does the loop ask for
//!   writability; when the queue drains it stops asking. A write callback never runs inside
//!   `write`: a write done at once reports through the pending phase (`uv__io_feed`).
//! - **Connects, writes and shutdowns are requests** (`uv__req_register`): each keeps the
//!   loop alive until its callback has run, even on an unref'd stream.
//! - **Out of descriptors** (`EMFILE`), a server would see its listening socket readable
//!   forever. libuv's `uv__emfile_trick` keeps one spare descriptor: it closes the spare,
//!   accepts and at once closes the waiting connections, and opens the spare again.
//!
//! ```no_run
//! use eventloop::event_loop::{EventLoop, RunMode};
//! use eventloop::net::TcpListener;
//!
//! let mut lp = EventLoop::new();
//! let addr = "127.0.0.1:7000".parse().unwrap();
//! TcpListener::listen(&mut lp, addr, 511, |lp, conn| {
//!     let Ok(conn) = conn else { return };
//!     let _ = conn.read_start(lp, move |lp, data| match data {
//!         Ok(bytes) if !bytes.is_empty() => drop(conn.write(lp, bytes, |_, _| {})),
//!         _ => drop(conn.close(lp, |_| {})), // end of file, or an error
//!     });
//! })?;
//! lp.run(RunMode::Default);
//! # Ok::<(), std::io::Error>(())
//! ```

mod error;
mod listener;
mod server;
mod socket;
mod stream;
#[cfg_attr(feature = "learn-net", path = "../../exercises/net.rs")]
mod write;

use std::fs::File;
use std::io;

use crate::event_loop::EventLoop;
use crate::heap::Heap;

pub use crate::sys::socket::Buffer;
pub use error::NetError;
pub use listener::TcpListener;
pub use server::{Server, ServerOptions};
pub use socket::{DEFAULT_HIGH_WATER_MARK, Socket, SocketOptions};
pub use stream::TcpStream;
pub(crate) use stream::{ReadyReader, StreamSocket};

/// The size of the loop's one read buffer (libuv leaves the choice to `alloc_cb`; Node
/// lends 64 KiB from a shared pool, as here).
///
/// ```
/// assert_eq!(eventloop::net::READ_BUFFER_SIZE, 65_536); // one buffer, lent to each data callback in turn
/// ```
pub const READ_BUFFER_SIZE: usize = 64 * 1024;

/// Reads one readable event may do before the loop moves on (`uv__read`'s `count`).
const READS_PER_EVENT: usize = 32;

/// What the loop's TCP layer has done so far: system calls by kind, to measure — and to
/// test — the rules above.
///
/// ```
/// # use eventloop::prelude::*;
/// # let mut lp = EventLoop::new();
/// # let any = "127.0.0.1:0".parse().unwrap();
/// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
/// # let addr = server.local_addr(&lp).unwrap();
/// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
///     let conn = conn.unwrap();
///     conn.send(lp, b"x").unwrap();
///     assert_eq!(net::stats(lp).writes, 1);
/// #   drop(conn.close(lp, |_| {}));
/// #   server.close(lp, |_| {}).unwrap();
/// })
/// .unwrap();
/// # lp.run(RunMode::Default);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// `read` calls on connections.
    pub reads: u64,
    /// Those that found nothing to read (`EAGAIN`): the waste the partial-read rule avoids.
    pub empty_reads: u64,
    /// `write` calls on connections.
    pub writes: u64,
    /// Writes that had to wait on the write queue (all or part of their bytes).
    pub queued_writes: u64,
    /// Connections accepted (including ones dropped by the `EMFILE` trick).
    pub accepts: u64,
    /// Connections dropped by the `EMFILE` trick.
    pub emfile_drops: u64,
}

// ANCHOR: net
/// Everything the TCP layer keeps on a loop, in the loop's state slot for it.
#[derive(Default)]
pub(crate) struct Net {
    streams: Heap<stream::Stream>,
    listeners: Heap<listener::Server>,
    /// Lent to one data callback at a time; `None` while lent.
    read_buffer: Option<Box<[u8]>>,
    /// The spare descriptor for the `EMFILE` trick (libuv's `loop->emfile_fd`), opened with
    /// the first server.
    reserve: Option<File>,
    stats: NetStats,
    /// Node's `net.Socket`s and `net.Server`s (chapter 11's stream layer), over the above.
    sockets: Heap<socket::State>,
    servers: Heap<server::State>,
}
// ANCHOR_END: net

/// The TCP layer's state, kept in the loop's state slot for it (created on first use). A
/// callback gets `&mut EventLoop`, so it reaches every socket through here, without
/// `Rc<RefCell<…>>` (libuv's loop struct carries its streams' state, such as `emfile_fd`, the
/// same way).
#[inline]
fn net(lp: &mut EventLoop) -> &mut Net {
    lp.state_mut::<Net>()
}

/// The TCP layer's state, if the loop ever used TCP.
fn net_ref(lp: &EventLoop) -> Option<&Net> {
    lp.state::<Net>()
}

/// What the loop's TCP layer has done (see [`NetStats`]).
///
/// ```
/// use eventloop::prelude::*;
///
/// let lp = EventLoop::new();
/// assert_eq!(net::stats(&lp), net::NetStats::default()); // no TCP yet
/// ```
pub fn stats(lp: &EventLoop) -> NetStats {
    net_ref(lp).map_or_else(NetStats::default, |n| n.stats)
}

fn closed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("this {what} is closed (the id is stale)"),
    )
}

/// What a request still waiting when its socket closes receives (libuv's `UV_ECANCELED`).
fn canceled() -> io::Error {
    io::Error::from_raw_os_error(libc::ECANCELED)
}

/// The same error again, for a second callback that must hear of it (`io::Error` is not
/// `Clone`).
fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
