//! One TCP connection: connecting, reading, options, refs and closing (`uv_tcp_t` as a
//! `uv_stream_t`). Writing and shutting down are in `write.rs`.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::ops::Deref;
use std::os::fd::{AsFd, BorrowedFd};
use std::panic::{self, AssertUnwindSafe};
use std::rc::{Rc, Weak};

use super::write::{self, Requests};
use super::{READ_BUFFER_SIZE, READS_PER_EVENT, canceled, closed, net, net_ref};
use crate::event_loop::{EventLoop, LoopKey, Ref, WatchHandler};
use crate::heap::Key;
use crate::io::WatcherId;
use crate::sys::socket::{self, Connecting};
use crate::sys::{Event, Interest};

/// A data callback: `Ok(bytes)` for data, `Ok(&[])` for end of file, `Err` for an error.
pub(super) type ReadCallback = Box<dyn FnMut(&mut EventLoop, io::Result<&[u8]>)>;
/// What a connect reports.
pub(super) type ConnectCallback = Box<dyn FnOnce(&mut EventLoop, io::Result<TcpStream>)>;

/// A TCP connection on a loop: an id, `Copy`, valid until [`close`](Self::close) (or a
/// failed connect) — after that every method returns a `NotFound` error.
///
/// The id works on the loop that made it only: on another loop every method that returns
/// `io::Result` fails with `InvalidInput` ("belongs to another event loop"), and the others
/// treat it as a closed stream.
///
/// Callbacks are error-first in spirit: each gets an `io::Result`. A connection's
/// callbacks run in the poll phase, except a write finished at once (pending phase) and
/// what `close` cancels (closing phase).
///
/// Errors come back on two paths, as in libuv. A call that cannot even start returns
/// `Err` at once and never calls its callback: a stale id (`NotFound`), a write after
/// `shutdown` (`EPIPE`), a second `shutdown` (`ENOTCONN`). Everything that happens to a
/// request once started — a reset peer, a broken pipe, a close that cancels it
/// (`ECANCELED`) — reaches its callback, exactly once.
///
/// An echo server and a client, at libuv's level (Node's `net.Socket` is [`Socket`](super::Socket)):
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let any = "127.0.0.1:0".parse().unwrap();
/// let server = net::TcpListener::listen(&mut lp, any, 16, |lp, conn| {
///     let conn = conn.unwrap();
///     conn.read_start(lp, move |lp, data| match data {
///         Ok(b"") | Err(_) => drop(conn.close(lp, |_| {})), // end of file
///         Ok(bytes) => drop(conn.send(lp, bytes)),           // echo
///     })
///     .unwrap();
/// })
/// .unwrap();
/// let addr = server.local_addr(&lp).unwrap();
/// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
///     let conn = conn.unwrap();
///     conn.send(lp, b"ping").unwrap();
///     conn.read_start(lp, move |lp, data| {
///         assert_eq!(data.unwrap(), b"ping");
///         conn.close(lp, |_| {}).unwrap();
///         server.close(lp, |_| {}).unwrap();
///     })
///     .unwrap();
/// })
/// .unwrap();
/// lp.run(RunMode::Default);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpStream(LoopKey);

// Flags of a connection (one byte: see `Stream`).
pub(super) const CONNECTING: u8 = 1;
pub(super) const READING: u8 = 1 << 1;
/// `shutdown` was called: no more writes.
pub(super) const SHUTTING: u8 = 1 << 2;
pub(super) const UNREF: u8 = 1 << 3;
/// Reading means telling the reader the socket is readable: the reader makes the `read`
/// itself, into its own buffer (an async stream's task: see [`TcpStream::notify_readable`]).
pub(super) const NOTIFY: u8 = 1 << 4;

/// Who a stream that [notifies](TcpStream::notify_readable) tells that its socket is
/// readable: an async stream's shared state, which marks the socket readable and wakes the
/// task waiting to read (tokio's `ScheduledIo`, reached from the socket).
pub(crate) trait ReadyReader {
    /// The socket is readable (or has something to report: end of file, an error). Runs in
    /// the poll phase, with the loop; a checkpoint follows.
    fn readable(&self, lp: &mut EventLoop);
}

/// A connection's socket, shared by its stream, its watcher (which keeps it open while it
/// watches) and — weakly — an async stream, whose task reads and writes it directly.
pub(crate) struct StreamSocket {
    pub(super) io: std::net::TcpStream,
    /// True while bytes written now would overtake others or are not allowed yet: writes
    /// wait on the loop's write queue, the stream is connecting, or it is shut down. Kept
    /// by [`update_interest`] (and `shutdown`), so a direct writer needs no loop to ask.
    writes_wait: Cell<bool>,
    /// The kernel said no more bytes will come (end of file, a hang-up or an error is
    /// waiting to be read): kept for a notified reader, whose watcher is edge-triggered and
    /// is told so only once (see [`read_closed`](Self::read_closed)).
    read_closed: Cell<bool>,
    /// The reader of a stream that notifies, while it reads. Kept here, on the socket, not
    /// in the stream table's slot as a data callback is: a readable event clones it, calls
    /// it, and drops the clone — nothing is taken out of the table and put back after (a
    /// second look-up), and the reader is never missing from its place, whatever the call
    /// does (stops, closes, replaces, panics).
    reader: Cell<Option<Rc<dyn ReadyReader>>>,
    /// The stream's key in the stream table: the socket is its watcher's handler
    /// ([`WatchHandler`]), and an event that is not a notified read goes to the stream.
    key: Cell<Key>,
}

impl StreamSocket {
    /// True once the kernel said no more bytes will come: a short read then does not mean
    /// the socket has nothing more to say — the next read returns the end of file or the
    /// error — and an edge-triggered watcher will not report it again.
    pub(crate) fn read_closed(&self) -> bool {
        self.read_closed.get()
    }

    /// The notified reader, if there is one (a clone: the socket keeps its own), for a
    /// readable event `ev` — which, if it says no more bytes will come, is kept first: an
    /// edge-triggered watcher says so once.
    fn reader_for(&self, ev: Event) -> Option<Rc<dyn ReadyReader>> {
        let reader = self.reader.take()?;
        if ev.read_closed || ev.error {
            self.read_closed.set(true);
        }
        self.reader.set(Some(Rc::clone(&reader)));
        Some(reader)
    }

    /// True while a direct write must not be made (see the field).
    pub(crate) fn writes_wait(&self) -> bool {
        self.writes_wait.get()
    }

    /// Marks the stream shut down: direct writes stop.
    pub(super) fn shut(&self) {
        self.writes_wait.set(true);
    }

    /// One `read` into `buf` (`Interrupted` is retried): for the reader of a stream that
    /// [notifies](TcpStream::notify_readable).
    pub(crate) fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match (&self.io).read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }

    /// One `write` of `data` (`send` with `MSG_NOSIGNAL`; `Interrupted` is retried), for a
    /// writer that checked [`writes_wait`](Self::writes_wait) first.
    pub(crate) fn write_now(&self, data: &[u8]) -> io::Result<usize> {
        loop {
            match (&self.io).write(data) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }
}

impl Deref for StreamSocket {
    type Target = std::net::TcpStream;
    fn deref(&self) -> &std::net::TcpStream {
        &self.io
    }
}

impl AsFd for StreamSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

// ANCHOR: stream
/// What the loop keeps per connection. Kept small on purpose — chapter 9's benchmark holds
/// ten thousand idle connections: what only some connections need (queued writes, a
/// connect or shutdown in flight, a drain listener) sits behind one optional box.
pub(super) struct Stream {
    /// Shared with the stream's watcher, which keeps it open while it watches.
    pub(super) socket: Rc<StreamSocket>,
    /// Always `Some` once the stream is registered (it is created just after). The
    /// watcher's id without its loop (8 bytes less than an `FdWatch`): this struct lives in
    /// that loop; `lp.fd_watch` makes the id again.
    pub(super) watch: Option<WatcherId>,
    pub(super) flags: u8,
    /// The data callback of a stream that reads (a stream that notifies keeps its reader on
    /// the socket instead).
    pub(super) on_read: Option<ReadCallback>,
    pub(super) requests: Option<Box<Requests>>,
}

impl Stream {
    /// What the watcher should wait for now: readable while reading; writable while
    /// connecting or while writes wait.
    pub(super) fn interest(&self) -> Interest {
        let writes_waiting = self.requests.as_ref().is_some_and(|r| !r.queue.is_empty());
        let interest = Interest {
            readable: self.flags & READING != 0,
            writable: self.flags & CONNECTING != 0 || writes_waiting,
            edge: false,
        };
        // A reader that reads the socket itself (`notify_readable`) keeps the readiness
        // until a read comes back short, so the kernel need not say it again: edge-triggered,
        // as tokio registers every socket. Only while it just reads: `write::flush` writes at
        // most `WRITES_PER_EVENT` times per event and counts on hearing of a socket that is
        // still writable at the next wait.
        if self.flags & NOTIFY != 0 && interest == Interest::READABLE {
            interest.edge_triggered()
        } else {
            interest
        }
    }

    pub(super) fn requests(&mut self) -> &mut Requests {
        self.requests.get_or_insert_with(Box::default)
    }
}
// ANCHOR_END: stream

/// The live, not-closed stream `key`.
pub(super) fn stream_mut(lp: &mut EventLoop, key: Key) -> io::Result<&mut Stream> {
    net(lp)
        .streams
        .get_mut(key)
        .ok_or_else(|| closed("TCP stream"))
}

/// Tells the watcher what the stream wants now (no system call when nothing changed).
pub(super) fn update_interest(lp: &mut EventLoop, key: Key) {
    let Some(s) = net(lp).streams.get(key) else {
        return;
    };
    let (watch, interest) = (s.watch.expect("registered"), s.interest());
    // Writable interest means connecting or writes queued: either way a direct write waits.
    s.socket
        .writes_wait
        .set(interest.writable || s.flags & SHUTTING != 0);
    // Fails only for a watcher that is gone, and the stream's watcher lives as long as it.
    let _ = lp.set_fd_interest(lp.fd_watch(watch), interest);
}

/// Puts a connected (or connecting) socket on the loop: a stream with a quiet watcher.
pub(super) fn register(
    lp: &mut EventLoop,
    socket: std::net::TcpStream,
    flags: u8,
) -> io::Result<TcpStream> {
    let socket = Rc::new(StreamSocket {
        io: socket,
        writes_wait: Cell::new(flags & CONNECTING != 0),
        read_closed: Cell::new(false),
        reader: Cell::new(None),
        key: Cell::new(Key::DANGLING),
    });
    let watched = Rc::clone(&socket);
    // Weak: the watcher's own share (`watched`) is what keeps the socket open while it
    // watches, and it lets go of that one when it stops.
    let handler: Weak<dyn WatchHandler> = Rc::downgrade(&socket) as _;
    let key = net(lp).streams.insert(Stream {
        socket,
        watch: None,
        flags,
        on_read: None,
        requests: None,
    });
    let interest = if flags & CONNECTING != 0 {
        Interest::WRITABLE
    } else {
        Interest::NONE
    };
    match lp.watch_fd_shared(watched, interest, "TCPWRAP", handler) {
        Ok(watch) => {
            let local = lp.local_watch(watch).expect("made by this loop");
            let stream = net(lp).streams.get_mut(key).expect("just inserted");
            stream.watch = Some(local);
            stream.socket.key.set(key);
            Ok(TcpStream(lp.tag(key)))
        }
        Err(e) => {
            net(lp).streams.remove(key); // closes the socket
            Err(e)
        }
    }
}

/// The socket is its watcher's handler. A readable event for a stream whose reader reads
/// itself is taken from the socket with no look-up of the stream: a socket has a
/// [`ReadyReader`] exactly while its stream notifies and reads (set by `notify_readable`, let
/// go by `read_stop`, `read_start` and the close), and such a stream is never connecting.
/// Any other event is the stream's. The share taken for the call goes before the reader or
/// the stream runs, so a close there closes the descriptor at once, as it would without it.
impl WatchHandler for StreamSocket {
    fn ready(self: Rc<Self>, lp: &mut EventLoop, ev: Event) {
        if ev.readable
            && !ev.writable
            && let Some(reader) = self.reader_for(ev)
        {
            drop(self);
            notify(lp, &*reader);
            return;
        }
        let key = self.key.get();
        drop(self);
        stream_io(lp, key, ev);
    }
}

/// A watcher event for stream `key` (`uv__stream_io`): a connect finishing, else reads
/// first, then writes.
fn stream_io(lp: &mut EventLoop, key: Key, ev: Event) {
    let Some(s) = net(lp).streams.get_mut(key) else {
        return;
    };
    if s.flags & CONNECTING != 0 {
        if ev.writable {
            finish_connect(lp, key);
        }
        return;
    }
    if ev.readable {
        if s.flags & NOTIFY == 0 {
            read(lp, key, ev.hangup);
        } else if let Some(reader) = s.socket.reader_for(ev) {
            notify(lp, &*reader);
        }
    }
    // `flush` finds the stream itself (and returns if a read callback closed it).
    if ev.writable {
        write::flush(lp, key);
    }
}

// ANCHOR: read
/// Reads until a short read, `EAGAIN`, end of file, an error, or the per-event cap.
/// `hangup`: the kernel said both directions are shut (`EPOLLHUP`), so a short read was the
/// last data there is — its end of file is reported now, not at the next poll
/// (`uv__stream_io`'s `POLLHUP` short-circuit).
fn read(lp: &mut EventLoop, key: Key, hangup: bool) {
    // One lookup of the TCP layer's state serves until something runs that could change
    // it (a callback, a checkpoint); then it is looked up again.
    let mut n = net(lp);
    let mut buffer = n
        .read_buffer
        .take()
        .unwrap_or_else(|| vec![0; READ_BUFFER_SIZE].into_boxed_slice());
    for _ in 0..READS_PER_EVENT {
        let Some(s) = n.streams.get_mut(key).filter(|s| s.flags & READING != 0) else {
            break;
        };
        n.stats.reads += 1;
        let result = (&s.socket.io).read(&mut buffer);
        let done = match &result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                n.stats.empty_reads += 1;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // End of file or an error: reading stops (libuv stops the watcher too).
            Ok(0) | Err(_) => true,
            // Shorter than the buffer: the socket is empty now; another read would only
            // say `EAGAIN` (`uv__read`'s partial-read rule) — or, after a hang-up, 0.
            Ok(len) => *len < buffer.len(),
        };
        let partial = matches!(result, Ok(len) if len > 0 && len < buffer.len());
        let end = matches!(result, Ok(0) | Err(_));
        let Some(mut on_read) = s.on_read.take() else {
            break; // running further up the stack
        };
        if end {
            s.flags &= !READING;
            update_interest(lp, key);
        }
        let called = panic::catch_unwind(AssertUnwindSafe(|| match result {
            Ok(len) => on_read(lp, Ok(&buffer[..len])),
            Err(e) => on_read(lp, Err(e)),
        }));
        // Back in place before anything else runs, even when the callback panicked: a
        // stream left reading with no callback is ready at every poll and never read (a
        // spin), whether the panic went to an `uncaughtException` listener or on out of
        // `run`.
        n = net(lp);
        if let Some(s) = n.streams.get_mut(key)
            && s.flags & READING != 0
            && s.on_read.is_none()
        {
            s.on_read = Some(on_read); // not stopped, closed or replaced meanwhile
        }
        if let Err(payload) = called {
            n.read_buffer.get_or_insert(buffer);
            panic::resume_unwind(payload); // to the watcher's frame, as if not caught here
        }
        if done {
            // The buffer goes back first: nothing below reads into it.
            n.read_buffer.get_or_insert(buffer);
            lp.checkpoint();
            if partial && hangup {
                hung_up(lp, key); // (a partial read is always `done`)
            }
            return;
        }
        lp.checkpoint();
        n = net(lp);
    }
    n.read_buffer.get_or_insert(buffer);
}

// ANCHOR: notify
/// A readable event for a stream whose reader reads itself: the reader is told, and reads
/// when it runs (tokio's readiness model). No read, no buffer, no copy here — and nothing to
/// put back: the caller cloned the reader from the socket, which keeps its own, so a reader
/// that stops, closes or replaces itself, or panics, leaves the stream as it left it.
fn notify(lp: &mut EventLoop, reader: &dyn ReadyReader) {
    reader.readable(lp);
    lp.checkpoint();
}
// ANCHOR_END: notify

/// End of file after a partial read on a hung-up socket, for a stream still reading.
fn hung_up(lp: &mut EventLoop, key: Key) {
    let Some(s) = net(lp)
        .streams
        .get_mut(key)
        .filter(|s| s.flags & READING != 0)
    else {
        return;
    };
    let Some(mut on_read) = s.on_read.take() else {
        return;
    };
    s.flags &= !READING;
    update_interest(lp, key);
    on_read(lp, Ok(&[]));
    lp.checkpoint();
}
// ANCHOR_END: read

// ANCHOR: finish_connect
/// The socket became writable while connecting: `SO_ERROR` says how the handshake went
/// (`uv__stream_connect`).
fn finish_connect(lp: &mut EventLoop, key: Key) {
    let Ok(s) = stream_mut(lp, key) else { return };
    let outcome = match s.socket.take_error() {
        Ok(None) => Ok(()),
        Ok(Some(e)) | Err(e) => Err(e),
    };
    if let Err(e) = &outcome
        && e.raw_os_error() == Some(libc::EINPROGRESS)
    {
        return; // not over yet
    }
    match outcome {
        Ok(()) => {
            s.flags &= !CONNECTING;
            let callback = s.requests.as_mut().and_then(|r| r.connect.take());
            update_interest(lp, key);
            if let Some(callback) = callback {
                lp.request_finished();
                let stream = TcpStream(lp.tag(key));
                callback(lp, Ok(stream));
                lp.checkpoint();
            }
        }
        Err(e) => fail_connect(lp, key, e),
    }
}
// ANCHOR_END: finish_connect

/// A connect that failed closes its stream: the callback gets the error, writes queued
/// behind it get `ECANCELED`, and the id goes stale.
fn fail_connect(lp: &mut EventLoop, key: Key, error: io::Error) {
    let Some(mut requests) = unregister(lp, key) else {
        return;
    };
    if let Some(callback) = requests.connect.take() {
        lp.request_finished();
        callback(lp, Err(error));
        lp.checkpoint();
    }
    write::cancel_all(lp, &mut requests);
}

/// Forgets stream `key`: stops watching it and closes its socket (`uv__stream_close`).
/// Returns what was still in flight.
fn unregister(lp: &mut EventLoop, key: Key) -> Option<Box<Requests>> {
    let stream = net(lp).streams.remove(key)?;
    if let Some(watch) = stream.watch {
        let _ = lp.unwatch_fd(lp.fd_watch(watch)); // gone only if never registered
    }
    let Stream {
        socket, requests, ..
    } = stream;
    // The reader goes now, not when the watcher's last share of the socket does.
    drop(socket.reader.take());
    // The one place a registered stream's descriptor is closed: the watcher let go of its
    // share just above, and this is the last.
    drop(socket);
    Some(requests.unwrap_or_default())
}

impl TcpStream {
    // ANCHOR: connect
    /// Starts connecting to `addr` without waiting (`uv_tcp_connect`); `callback` gets
    /// the stream once connected, or the error (`ECONNREFUSED`, `ETIMEDOUT`, …) — then the
    /// stream is already closed and its id stale. Writes made before the connection is up
    /// wait for it. Closing the stream first cancels the connect (`ECANCELED`).
    ///
    /// # Errors
    /// Only when no socket could be made (`EMFILE`, …); every connection failure goes to
    /// `callback`, never re-entrantly (an immediate refusal waits for the pending phase).
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // now closed
    /// net::TcpStream::connect(&mut lp, free, |_, conn| {
    ///     assert_eq!(net::NetError::code_of(&conn.unwrap_err()), "ECONNREFUSED");
    /// })
    /// .unwrap();
    /// lp.run(RunMode::Default);
    /// ```
    pub fn connect(
        lp: &mut EventLoop,
        addr: SocketAddr,
        callback: impl FnOnce(&mut EventLoop, io::Result<TcpStream>) + 'static,
    ) -> io::Result<TcpStream> {
        let (socket, failed) = match socket::connect_nonblocking(&addr)? {
            Connecting::InProgress(socket) => (socket, None),
            Connecting::Failed(socket, e) => (socket, Some(e)),
        };
        let flags = if failed.is_some() { 0 } else { CONNECTING };
        let stream = register(lp, socket, flags)?;
        let key = stream.key(lp)?;
        if let Ok(s) = stream_mut(lp, key) {
            s.flags |= CONNECTING;
            s.requests().connect = Some(Box::new(callback));
            lp.request_started(); // until the callback runs (`uv__req_register`)
        }
        if let Some(e) = failed {
            // libuv's `delayed_error`: reported from the pending phase, as if polled.
            lp.queue_pending("TCPCONNECTWRAP", move |lp| fail_connect(lp, key, e));
        }
        Ok(stream)
    }
    // ANCHOR_END: connect

    /// Starts reading (`uv_read_start`): `on_data` runs in the poll phase with each chunk
    /// read, `Ok(&[])` once at end of file, or `Err` on an error (`ECONNRESET`, …). After
    /// end of file or an error, reading stops by itself. The bytes are lent from the
    /// loop's one read buffer: copy what must outlive the call. Calling it again replaces
    /// the callback.
    ///
    /// # Errors
    /// `NotFound` for a closed stream; `NotConnected` while connecting.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |lp, c| drop(c.unwrap().close(lp, |_| {}))).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.read_start(lp, |_, data| assert_eq!(data.unwrap(), b"")).unwrap(); // the server hung up: EOF
    ///     assert!(conn.is_reading(lp));
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn read_start(
        self,
        lp: &mut EventLoop,
        on_data: impl FnMut(&mut EventLoop, io::Result<&[u8]>) + 'static,
    ) -> io::Result<()> {
        self.start_reading(lp, 0, Some(Box::new(on_data)), None)
    }

    /// `read_start` with `mode` (`0` or `NOTIFY`) set among the flags before the watcher is
    /// told, so it is told once; with a data callback, or a notified reader (and a previous
    /// one of the other kind is forgotten).
    fn start_reading(
        self,
        lp: &mut EventLoop,
        mode: u8,
        on_read: Option<ReadCallback>,
        reader: Option<Rc<dyn ReadyReader>>,
    ) -> io::Result<()> {
        let key = self.key(lp)?;
        let s = stream_mut(lp, key)?;
        if s.flags & CONNECTING != 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "read_start before the connect callback",
            ));
        }
        s.flags = (s.flags | READING) & !NOTIFY | mode;
        s.on_read = on_read;
        let previous = s.socket.reader.replace(reader);
        update_interest(lp, key);
        drop(previous); // last: its drop may run anything
        Ok(())
    }

    /// Like [`read_start`](Self::read_start), but the loop does not read: `reader` is told
    /// when the socket becomes readable (it is kept on the socket, see
    /// [`ReadyReader`]), and reads with
    /// [`StreamSocket::read_now`] into its own buffer. For an async stream, whose task has a
    /// buffer of its own: no copy through the loop's buffer.
    ///
    /// The reader must remember that the socket is readable until a read of its own comes
    /// back short or with `EAGAIN`: while the stream only reads, its watcher is
    /// edge-triggered ([`Interest::edge`]), and epoll reports the socket again only once more
    /// bytes arrive. (With writes waiting, or on the `poll(2)` backend, it is reported at
    /// every turn of the loop while it stays readable, which such a reader does not mind.)
    pub(crate) fn notify_readable(
        self,
        lp: &mut EventLoop,
        reader: Rc<dyn ReadyReader>,
    ) -> io::Result<()> {
        self.start_reading(lp, NOTIFY, None, Some(reader))
    }

    /// Stops reading and forgets the data callback (`uv_read_stop`). Data the peer sends
    /// waits in the kernel (and, once its buffers fill, slows the peer down).
    ///
    /// # Errors
    /// `NotFound` for a closed stream.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.read_start(lp, |_, _| panic!("stopped before anything came")).unwrap();
    ///     conn.read_stop(lp).unwrap();
    ///     assert!(!conn.is_reading(lp));
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn read_stop(self, lp: &mut EventLoop) -> io::Result<()> {
        let key = self.key(lp)?;
        let s = stream_mut(lp, key)?;
        s.flags &= !(READING | NOTIFY);
        let on_read = s.on_read.take();
        let reader = s.socket.reader.take();
        update_interest(lp, key);
        drop((on_read, reader)); // last: a drop may run anything
        Ok(())
    }

    /// True while reading.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     assert!(!conn.is_reading(lp));
    ///     conn.read_start(lp, |_, _| {}).unwrap();
    ///     assert!(conn.is_reading(lp));
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn is_reading(self, lp: &EventLoop) -> bool {
        self.with(lp, |s| s.flags & READING != 0).unwrap_or(false)
    }

    // ANCHOR: close
    /// Closes the stream (`uv_close`): it stops and its descriptor is closed now; then, in
    /// this iteration's closing phase, writes that were finished get their callbacks, the
    /// connect, writes and shutdown still waiting get `ECANCELED` (each callback exactly
    /// once), and last `callback` runs. The id is stale from now on. Queued bytes not yet
    /// written are dropped: use [`shutdown`](Self::shutdown) first to send everything.
    ///
    /// # Errors
    /// `NotFound` for a stream already closed.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.write(lp, &vec![0; 16 << 20], |_, _| {}).unwrap(); // more than the kernel takes
    ///     conn.close(lp, |_| println!("closed")).unwrap(); // the write's rest is dropped
    ///     assert!(conn.local_addr(lp).is_err()); // stale at once
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn close(
        self,
        lp: &mut EventLoop,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) -> io::Result<()> {
        let key = self.key(lp)?;
        let mut requests = unregister(lp, key).ok_or_else(|| closed("TCP stream"))?;
        lp.close_io("TCPWRAP", move |lp| {
            if let Some(connect) = requests.connect.take() {
                lp.request_finished();
                connect(lp, Err(canceled()));
                lp.checkpoint();
            }
            write::cancel_all(lp, &mut requests);
            callback(lp);
        });
        Ok(())
    }
    // ANCHOR_END: close

    /// The local address (`uv_tcp_getsockname`).
    ///
    /// # Errors
    /// `NotFound` for a closed stream; what `getsockname` says.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     assert!(conn.local_addr(lp).unwrap().ip().is_loopback());
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn local_addr(self, lp: &EventLoop) -> io::Result<SocketAddr> {
        self.with(lp, |s| s.socket.local_addr())?
    }

    /// The peer's address (`uv_tcp_getpeername`).
    ///
    /// # Errors
    /// `NotFound` for a closed stream; `NotConnected` before the connection is up.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     assert_eq!(conn.peer_addr(lp).unwrap(), addr);
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn peer_addr(self, lp: &EventLoop) -> io::Result<SocketAddr> {
        self.with(lp, |s| s.socket.peer_addr())?
    }

    /// Turns Nagle's algorithm off (`true`) or on (`uv_tcp_nodelay`).
    ///
    /// # Errors
    /// `NotFound` for a closed stream; what `setsockopt` says.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.set_nodelay(lp, true).unwrap(); // small writes go out at once
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn set_nodelay(self, lp: &EventLoop, nodelay: bool) -> io::Result<()> {
        self.with(lp, |s| s.socket.set_nodelay(nodelay))?
    }

    /// Turns keep-alive probes on, the first after `idle_secs` of silence, or off
    /// (`uv_tcp_keepalive`).
    ///
    /// # Errors
    /// `NotFound` for a closed stream; `InvalidInput` for a delay of 0 with `on`.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.set_keepalive(lp, true, 60).unwrap(); // probe after a minute of silence
    ///     assert!(conn.keepalive(lp).unwrap());
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn set_keepalive(self, lp: &EventLoop, on: bool, idle_secs: u32) -> io::Result<()> {
        self.with(lp, |s| socket::set_keepalive(&s.socket, on, idle_secs))?
    }

    /// Whether keep-alive is on.
    ///
    /// # Errors
    /// `NotFound` for a closed stream.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     assert!(!conn.keepalive(lp).unwrap()); // off by default
    ///     conn.set_keepalive(lp, true, 30).unwrap();
    ///     assert!(conn.keepalive(lp).unwrap());
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn keepalive(self, lp: &EventLoop) -> io::Result<bool> {
        self.with(lp, |s| socket::keepalive(&s.socket))?
    }

    /// The size of the socket's send or receive buffer in the kernel, as the kernel reports
    /// it (`uv_send_buffer_size` / `uv_recv_buffer_size` asked for the current value; Linux
    /// reports twice what was set).
    ///
    /// # Errors
    /// `NotFound` for a closed stream; what `getsockopt` says.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     assert!(conn.buffer_size(lp, net::Buffer::Receive).unwrap() > 0);
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn buffer_size(self, lp: &EventLoop, which: super::Buffer) -> io::Result<usize> {
        self.with(lp, |s| socket::buffer_size(&s.socket, which))?
    }

    /// Fixes the size of the socket's send or receive buffer (`uv_send_buffer_size` /
    /// `uv_recv_buffer_size` with a value). How many bytes one write hands to the kernel,
    /// and so when writes start to queue, follows from it.
    ///
    /// # Errors
    /// `NotFound` for a closed stream; `InvalidInput` for 0; what `setsockopt` says.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.set_buffer_size(lp, net::Buffer::Send, 8192).unwrap();
    ///     assert_eq!(conn.buffer_size(lp, net::Buffer::Send).unwrap(), 2 * 8192); // Linux doubles it
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn set_buffer_size(
        self,
        lp: &EventLoop,
        which: super::Buffer,
        bytes: usize,
    ) -> io::Result<()> {
        self.with(lp, |s| socket::set_buffer_size(&s.socket, which, bytes))?
    }

    /// The stream's socket, for an async stream's task to read and write without the loop
    /// at hand. Weak: closing the stream still closes the descriptor.
    pub(crate) fn shared_socket(self, lp: &EventLoop) -> io::Result<Weak<StreamSocket>> {
        self.with(lp, |s| Rc::downgrade(&s.socket))
    }

    pub(super) fn with<T>(self, lp: &EventLoop, f: impl FnOnce(&Stream) -> T) -> io::Result<T> {
        let key = self.key(lp)?;
        net_ref(lp)
            .and_then(|n| n.streams.get(key))
            .map(f)
            .ok_or_else(|| closed("TCP stream"))
    }

    /// The stream's key in `lp`'s sockets; `InvalidInput` if it is another loop's stream.
    pub(super) fn key(self, lp: &EventLoop) -> io::Result<Key> {
        lp.untag_or_err(self.0, "TCP stream")
    }
}

/// `uv_ref`/`uv_unref` on the connection: an unref'd stream lets the loop end even while it
/// reads. A connect, write or shutdown in flight still keeps the loop alive until its
/// callback has run: each is a request, not part of the handle, as in libuv. No-ops on a
/// closed stream, whose `has_ref` is false.
impl Ref for TcpStream {
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        let Ok(s) = self.key(lp).and_then(|key| stream_mut(lp, key)) else {
            return;
        };
        if refed {
            s.flags &= !UNREF;
        } else {
            s.flags |= UNREF;
        }
        let watch = s.watch.expect("registered");
        lp.set_fd_ref(lp.fd_watch(watch), refed);
    }

    fn has_ref(self, lp: &EventLoop) -> bool {
        self.with(lp, |s| s.flags & UNREF == 0).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chapter 9's budget is 512 bytes per idle connection, all in: this struct, its slab
    /// slot, the loop's watcher entry and the kernel's epoll item. Keep this part small.
    #[test]
    fn an_idle_connection_is_small() {
        let bytes = size_of::<Stream>();
        println!(
            "Stream: {bytes} bytes, Requests: {}",
            size_of::<super::Requests>()
        );
        assert!(bytes <= 48, "{bytes}");
    }

    /// A reader that reads the socket itself is told once per arrival (edge-triggered) —
    /// only while it just reads: `write::flush` counts on hearing again of a socket that
    /// stays writable, and a data callback's reader reads in the loop, which stops at the
    /// per-event cap and counts on hearing again of a socket that stays readable.
    #[test]
    fn only_a_notified_reader_that_just_reads_is_edge_triggered() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let io = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut s = Stream {
            socket: Rc::new(StreamSocket {
                io,
                writes_wait: Cell::new(false),
                read_closed: Cell::new(false),
                reader: Cell::new(None),
                key: Cell::new(Key::DANGLING),
            }),
            watch: None,
            flags: READING | NOTIFY,
            on_read: None,
            requests: None,
        };
        assert_eq!(s.interest(), Interest::READABLE.edge_triggered());
        s.flags = READING;
        assert_eq!(s.interest(), Interest::READABLE, "a data callback's reader");
        s.flags = READING | NOTIFY | CONNECTING;
        assert!(
            !s.interest().edge,
            "writable interest stays level-triggered"
        );
        s.flags = NOTIFY;
        assert_eq!(
            s.interest(),
            Interest::NONE,
            "not reading: nothing, not even the edge"
        );
    }

    /// What a test reader does when it is told the socket is readable.
    #[derive(Clone, Copy, PartialEq)]
    enum OnReady {
        Count,
        /// Panics the first time, then counts.
        PanicOnce,
        Close,
        Stop,
        /// Installs `next` in its place.
        Replace,
    }

    struct TestReader {
        stream: TcpStream,
        calls: Cell<u32>,
        does: OnReady,
        next: std::cell::RefCell<Option<Rc<TestReader>>>,
    }

    impl ReadyReader for TestReader {
        fn readable(&self, lp: &mut EventLoop) {
            self.calls.set(self.calls.get() + 1);
            match self.does {
                OnReady::Count => {}
                OnReady::PanicOnce => assert!(self.calls.get() > 1, "the reader panics"),
                OnReady::Close => self.stream.close(lp, |_| {}).unwrap(),
                OnReady::Stop => self.stream.read_stop(lp).unwrap(),
                OnReady::Replace => {
                    let next = self.next.borrow_mut().take().expect("replaced once");
                    self.stream.notify_readable(lp, next).unwrap();
                }
            }
        }
    }

    /// A loop with one registered connection, and its blocking peer.
    fn connected() -> (EventLoop, TcpStream, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let mut lp = EventLoop::new();
        let stream = register(&mut lp, ours, 0).unwrap();
        (lp, stream, peer)
    }

    fn reader(stream: TcpStream, does: OnReady) -> Rc<TestReader> {
        Rc::new(TestReader {
            stream,
            calls: Cell::new(0),
            does,
            next: std::cell::RefCell::new(None),
        })
    }

    /// Bytes from the peer, then a few turns of the loop that do not wait (loopback delivers
    /// them before `write` returns, so no turn needs to block, and no test can hang). A
    /// write to a stream closed with bytes unread fails (the close reset the connection).
    fn arrive(lp: &mut EventLoop, peer: &mut std::net::TcpStream) {
        let _ = peer.write_all(b"ping");
        for _ in 0..3 {
            lp.run(crate::event_loop::RunMode::NoWait);
        }
    }

    /// The readable event calls the reader in place: a panic leaves it installed, reading,
    /// and told of the next arrival (the old take-and-put-back had to restore it by hand).
    #[test]
    fn a_notified_reader_that_panics_stays_in_place() {
        let (mut lp, stream, mut peer) = connected();
        let r = reader(stream, OnReady::PanicOnce);
        stream.notify_readable(&mut lp, r.clone()).unwrap();
        peer.write_all(b"ping").unwrap();
        let panicked = panic::catch_unwind(AssertUnwindSafe(|| {
            lp.run(crate::event_loop::RunMode::NoWait)
        }));
        assert!(panicked.is_err(), "the reader's panic reaches the program");
        assert!(stream.is_reading(&lp), "a panic stopped the stream");
        arrive(&mut lp, &mut peer);
        assert_eq!(r.calls.get(), 2, "the reader was lost by its panic");
        stream.close(&mut lp, |_| {}).unwrap();
        lp.run(crate::event_loop::RunMode::Default);
        assert_eq!(Rc::strong_count(&r), 1, "the closed stream kept its reader");
    }

    /// A reader that closes its own stream, or stops it, while it is told: told once, and the
    /// stream lets go of it at once.
    #[test]
    fn a_notified_reader_that_closes_or_stops_its_stream_is_let_go() {
        for does in [OnReady::Close, OnReady::Stop] {
            let (mut lp, stream, mut peer) = connected();
            let r = reader(stream, does);
            stream.notify_readable(&mut lp, r.clone()).unwrap();
            arrive(&mut lp, &mut peer);
            arrive(&mut lp, &mut peer);
            assert_eq!(r.calls.get(), 1, "told again after it stopped");
            assert_eq!(
                Rc::strong_count(&r),
                1,
                "the stream kept a reader it let go"
            );
            if does == OnReady::Stop {
                assert!(!stream.is_reading(&lp));
                stream.close(&mut lp, |_| {}).unwrap();
            }
            lp.run(crate::event_loop::RunMode::Default);
        }
    }

    /// A reader that installs another in its place: the next arrival goes to the new one
    /// only, and the old one is let go.
    #[test]
    fn a_notified_reader_that_replaces_itself_hands_over() {
        let (mut lp, stream, mut peer) = connected();
        let (first, second) = (
            reader(stream, OnReady::Replace),
            reader(stream, OnReady::Count),
        );
        *first.next.borrow_mut() = Some(second.clone());
        stream.notify_readable(&mut lp, first.clone()).unwrap();
        arrive(&mut lp, &mut peer);
        arrive(&mut lp, &mut peer);
        assert_eq!((first.calls.get(), second.calls.get()), (1, 1));
        assert_eq!(Rc::strong_count(&first), 1, "the replaced reader was kept");
        // A data callback in its place: the notified reader is forgotten too.
        stream.read_start(&mut lp, |_, _| {}).unwrap();
        assert_eq!(
            Rc::strong_count(&second),
            1,
            "read_start kept the notified reader"
        );
        stream.close(&mut lp, |_| {}).unwrap();
        lp.run(crate::event_loop::RunMode::Default);
    }
}
