//! A TCP server: bind, listen, accept every waiting connection per readable event, and
//! survive running out of descriptors (`uv_listen`, `uv__server_io` and
//! `uv__emfile_trick` in libuv's `src/unix/stream.c`).

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use super::stream::{TcpStream, register};
use super::{closed, net, net_ref};
use crate::event_loop::{EventLoop, FdWatch, LoopKey, Ref};
use crate::heap::Key;
use crate::sys::Interest;
use crate::sys::socket;

type ConnectionCallback = Box<dyn FnMut(&mut EventLoop, io::Result<TcpStream>)>;

/// A listening TCP socket on a loop: an id, `Copy`, valid until [`close`](Self::close) and on
/// the loop that made it only. A closed listener's id is `NotFound` where a method returns
/// `io::Result`, another loop's is `InvalidInput`; the other methods do nothing with either.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// let any = "127.0.0.1:0".parse().unwrap();
/// let server = net::TcpListener::listen(&mut lp, any, 511, |lp, conn| {
///     lp.set_exit_code(7); // a connection came in
///     conn.unwrap().close(lp, |_| {}).unwrap();
/// })
/// .unwrap();
/// let addr = server.local_addr(&lp).unwrap();
/// let client = std::net::TcpStream::connect(addr).unwrap(); // a blocking client will do
/// lp.run(RunMode::Once); // accepts it
/// server.close(&mut lp, |_| {}).unwrap();
/// lp.run(RunMode::Default);
/// assert_eq!(lp.exit_code(), 7);
/// # drop(client);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpListener(LoopKey);

pub(super) struct Server {
    /// Shared with the server's watcher, which keeps it open while it watches.
    listener: Rc<std::net::TcpListener>,
    watch: Option<FdWatch>,
    on_connection: Option<ConnectionCallback>,
    refed: bool,
}

fn is_out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Opens the spare descriptor if it is not open (libuv opens `/dev/null`, or `/` when that
/// is missing). Failing is not an error: the server just lacks the trick until it works.
fn open_reserve(lp: &mut EventLoop) {
    let n = net(lp);
    if n.reserve.is_none() {
        n.reserve = File::open("/dev/null").or_else(|_| File::open("/")).ok();
    }
}

impl TcpListener {
    /// Binds `addr` and listens with room for `backlog` connections waiting to be accepted
    /// (`uv_tcp_bind` + `uv_listen`; Node's default backlog is 511, and the kernel caps it
    /// at `net.core.somaxconn`). For each readable event the server accepts every waiting
    /// connection, calling `on_connection` with each new stream — or with an error:
    /// `EMFILE`/`ENFILE` when out of descriptors (the waiting connections are then accepted
    /// and closed at once, so the loop does not spin, and the error is reported once for
    /// them), or another accept failure. Port 0
    /// picks a free port: see [`local_addr`](Self::local_addr).
    ///
    /// # Errors
    /// What binding or listening says (`EADDRINUSE`, `EACCES`, …); `InvalidInput` for a
    /// backlog above `i32::MAX`.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let taken = net::TcpListener::listen(&mut lp, "127.0.0.1:0".parse().unwrap(), 16, |_, _| {}).unwrap();
    /// let addr = taken.local_addr(&lp).unwrap();
    /// let err = net::TcpListener::listen(&mut lp, addr, 16, |_, _| {}).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    /// taken.close(&mut lp, |_| {}).unwrap();
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "the listener was inserted just above"
    )]
    pub fn listen(
        lp: &mut EventLoop,
        addr: SocketAddr,
        backlog: u32,
        on_connection: impl FnMut(&mut EventLoop, io::Result<TcpStream>) + 'static,
    ) -> io::Result<TcpListener> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        socket::listen(&listener, backlog)?;
        open_reserve(lp);
        let listener = Rc::new(listener);
        let watched = Rc::clone(&listener);
        let key = net(lp).listeners.insert(Server {
            listener,
            watch: None,
            on_connection: Some(Box::new(on_connection)),
            refed: true,
        });
        let watched = lp.watch_fd(
            watched,
            Interest::READABLE,
            "TCPSERVERWRAP",
            move |lp, _| server_io(lp, key),
        );
        match watched {
            Ok(watch) => {
                net(lp).listeners.get_mut(key).expect("just inserted").watch = Some(watch);
                Ok(TcpListener(lp.tag(key)))
            }
            Err(e) => {
                net(lp).listeners.remove(key); // closes the socket
                Err(e)
            }
        }
    }

    /// The address it listens on — with the port the kernel chose for port 0.
    ///
    /// # Errors
    /// `NotFound` for a closed listener.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let server = net::TcpListener::listen(&mut lp, "127.0.0.1:0".parse().unwrap(), 16, |_, _| {}).unwrap();
    /// assert_ne!(server.local_addr(&lp).unwrap().port(), 0); // the port the kernel chose
    /// server.close(&mut lp, |_| {}).unwrap();
    /// ```
    pub fn local_addr(self, lp: &EventLoop) -> io::Result<SocketAddr> {
        self.with(lp, |s| s.listener.local_addr())?
    }

    /// Stops listening and closes the socket now; `callback` runs in the closing phase
    /// (`uv_close`). Connections already accepted stay open. The id is stale from now on.
    ///
    /// # Errors
    /// `NotFound` for a listener already closed.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let server = net::TcpListener::listen(&mut lp, "127.0.0.1:0".parse().unwrap(), 16, |_, _| {}).unwrap();
    /// server.close(&mut lp, |lp| lp.set_exit_code(3)).unwrap();
    /// assert!(server.local_addr(&lp).is_err()); // stale at once
    /// lp.run(RunMode::Default); // the callback runs in the closing phase
    /// assert_eq!(lp.exit_code(), 3);
    /// ```
    pub fn close(
        self,
        lp: &mut EventLoop,
        callback: impl FnOnce(&mut EventLoop) + 'static,
    ) -> io::Result<()> {
        let key = self.key(lp)?;
        let server = net(lp)
            .listeners
            .remove(key)
            .ok_or_else(|| closed("TCP listener"))?;
        if let Some(watch) = server.watch {
            let _ = lp.unwatch_fd(watch);
        }
        drop(server); // the last share of the listening socket: closes it
        lp.close_io("TCPSERVERWRAP", callback);
        Ok(())
    }

    fn with<T>(self, lp: &EventLoop, f: impl FnOnce(&Server) -> T) -> io::Result<T> {
        let key = self.key(lp)?;
        net_ref(lp)
            .and_then(|n| n.listeners.get(key))
            .map(f)
            .ok_or_else(|| closed("TCP listener"))
    }

    /// The listener's key in `lp`'s sockets; `InvalidInput` if it is another loop's.
    fn key(self, lp: &EventLoop) -> io::Result<Key> {
        lp.untag_or_err(self.0, "TCP listener")
    }
}

// ANCHOR: server_io
/// The listening socket is readable: accept until `EAGAIN` (`uv__server_io`).
fn server_io(lp: &mut EventLoop, key: Key) {
    loop {
        let n = net(lp);
        let Some(server) = n.listeners.get(key) else {
            return; // closed by a callback
        };
        let accepted = socket::accept(&server.listener);
        if accepted.is_ok() {
            n.stats.accepts += 1;
        }
        match accepted {
            Ok(socket) => {
                let stream = register(lp, socket, 0);
                deliver(lp, key, stream);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            // A signal, or a connection reset while it waited: nothing to report.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(e) if is_out_of_descriptors(&e) => {
                // Linux takes a descriptor number before it looks for a connection, so
                // `EMFILE` does not mean one was waiting. Report it only when the trick
                // dropped a connection, or could not run; libuv reports neither (a silent
                // drop) unless the trick itself fails.
                if emfile_trick(lp, key) != Some(0) {
                    deliver(lp, key, Err(e));
                }
                return;
            }
            Err(e) => {
                // Report it and try again at the next readable event, not in a tight loop.
                deliver(lp, key, Err(e));
                return;
            }
        }
    }
}
// ANCHOR_END: server_io

// ANCHOR: emfile_trick
/// Out of descriptors with connections waiting: close the spare, accept and close every
/// waiting connection with the descriptor that frees, then take the spare back
/// (`uv__emfile_trick`). The clients see their connection closed instead of hanging, and
/// the level-triggered listening socket stops being readable. Returns how many were
/// dropped, `None` without a spare.
fn emfile_trick(lp: &mut EventLoop, key: Key) -> Option<u64> {
    let n = net(lp);
    let Some(spare) = n.reserve.take() else {
        open_reserve(lp); // maybe a descriptor came free since; the next event uses it
        return None;
    };
    drop(spare); // one free descriptor
    let server = n.listeners.get(key)?;
    let mut dropped = 0;
    loop {
        match socket::accept(&server.listener) {
            Ok(socket) => {
                n.stats.accepts += 1;
                n.stats.emfile_drops += 1;
                dropped += 1;
                drop(socket);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(_) => break,
        }
    }
    open_reserve(lp);
    Some(dropped)
}
// ANCHOR_END: emfile_trick

/// Runs the connection callback with one outcome. A stream nobody can receive (the
/// callback is running further up the stack) is closed at once.
fn deliver(lp: &mut EventLoop, key: Key, outcome: io::Result<TcpStream>) {
    let callback = net(lp)
        .listeners
        .get_mut(key)
        .and_then(|s| s.on_connection.take());
    let Some(mut callback) = callback else {
        if let Ok(stream) = outcome {
            let _ = stream.close(lp, |_| {});
        }
        return;
    };
    let called = panic::catch_unwind(AssertUnwindSafe(|| callback(lp, outcome)));
    // Back in place before anything else runs, even when the callback panicked: a server
    // that lost it would close every later connection unseen.
    if let Some(server) = net(lp).listeners.get_mut(key) {
        server.on_connection.get_or_insert(callback);
    }
    if let Err(payload) = called {
        panic::resume_unwind(payload); // to the watcher's frame, as if not caught here
    }
    lp.checkpoint();
}

/// `uv_ref`/`uv_unref` on the listening socket: an unref'd listener lets the loop end while
/// it waits for connections (`server.unref()`). `has_ref` is false once closed.
impl Ref for TcpListener {
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        let Ok(key) = self.key(lp) else {
            return;
        };
        let Some(server) = net(lp).listeners.get_mut(key) else {
            return;
        };
        server.refed = refed;
        let watch = server.watch.expect("registered");
        lp.set_fd_ref(watch, refed);
    }

    fn has_ref(self, lp: &EventLoop) -> bool {
        self.with(lp, |s| s.refed).unwrap_or(false)
    }
}
