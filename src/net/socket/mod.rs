//! Node's `net.Socket` on the loop: a TCP connection as a duplex stream with events —
//! `'connect'`, `'data'`, `'end'`, `'finish'`, `'drain'`, `'timeout'`, `'error'`, `'close'` —
//! built on chapter 9's [`TcpStream`].
//!
//! A [`TcpStream`] is libuv's `uv_tcp_t`: one read callback, write requests with callbacks,
//! a half-close, a close. What a Node programmer writes against is one level up
//! (`lib/net.js` over `lib/internal/streams/{readable,writable,duplex}.js`), and this module
//! rebuilds that level with Node's rules, so a port of a Node program prints what Node
//! prints:
//!
//! - **Listeners right away.** `Socket::connect` returns at once; `'data'` can be listened
//!   for before the connection is up. Reading starts when the connection does (Node's
//!   `_read` waits for `'connect'`), writes made meanwhile wait for it too.
//! - **Readable side** (`readable.rs`): data flows to `'data'` listeners as it is read,
//!   lent from the loop's read buffer, unless the socket is paused: then it is kept, and
//!   reading stops once 16 KiB are kept (the readable high-water mark), so the peer slows
//!   down. End of file is `'end'`, one tick later.
//! - **Writable side** (`writable.rs`): [`Socket::write`] tries the kernel at once; what it
//!   does not take waits, and `write` returns `false` once 16 KiB wait (the writable
//!   high-water mark): the signal to stop until `'drain'`. [`Socket::end`] sends what waits,
//!   then half-closes; `'finish'` follows.
//! - **Half-open** (`allowHalfOpen: false`, the default): at the peer's end of file the
//!   socket ends its side too, and once both sides are done it is destroyed: `'close'`.
//! - **Errors** (`destroy.rs`) destroy the socket: `'error'` on the next tick, `'close'` in
//!   the closing phase. An `'error'` nobody listens for ends the program, as in Node.
//!
//! A [`Socket`] is a `Copy` id, like every handle of the crate, and it stays valid until its
//! `'close'` has been emitted. Listeners do not receive the socket: a closure keeps the id
//! (`move |lp, data| s.write(lp, data)`), which is what a Node listener does with `this`.

mod destroy;
pub(crate) mod events;
mod readable;
mod writable;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

use super::{TcpStream, net, net_ref};
use crate::event_loop::{EventLoop, LoopKey, Ref};
use crate::heap::Key;
use events::{Args, Event, Handler, OnConnect};

pub(crate) use destroy::destroy;

/// The high-water mark of both sides, Node 20's default (`getDefaultHighWaterMark()`).
///
/// ```
/// use eventloop::net::{DEFAULT_HIGH_WATER_MARK, SocketOptions};
///
/// assert_eq!(DEFAULT_HIGH_WATER_MARK, 16 * 1024);
/// assert_eq!(SocketOptions::default().writable_high_water_mark, DEFAULT_HIGH_WATER_MARK);
/// ```
pub const DEFAULT_HIGH_WATER_MARK: usize = 16 * 1024;

/// A write's or an `end`'s callback.
pub(super) type WriteCallback = Box<dyn FnOnce(&mut EventLoop, io::Result<()>)>;

// ANCHOR: socket
/// A TCP connection as Node's `net.Socket`: an id, `Copy`, valid until its `'close'` was
/// emitted. After that, listeners added to it never run, [`write`](Self::write) returns
/// `false`, and the methods that answer a question return `NotFound`.
///
/// ```no_run
/// use eventloop::event_loop::EventLoop;
/// use eventloop::net::Socket;
///
/// let mut lp = EventLoop::new();
/// let addr = "127.0.0.1:7000".parse().unwrap();
/// let s = Socket::connect(&mut lp, addr, |_, _| println!("connected"));
/// s.on_data(&mut lp, |_, data| println!("{}", String::from_utf8_lossy(data)))
///     .on_end(&mut lp, |_| println!("the server ended"))
///     .on_close(&mut lp, |_, had_error| println!("closed (error: {had_error})"))
///     .on_error(&mut lp, |_, err| eprintln!("{err}"));
/// s.end_with(&mut lp, b"hello");
/// lp.run_main(|_| {}).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Socket(LoopKey);
// ANCHOR_END: socket

/// How a socket behaves (Node's `net.Socket` options; the defaults are Node's).
///
/// ```
/// use eventloop::net::SocketOptions;
///
/// let options = SocketOptions { no_delay: true, ..SocketOptions::default() };
/// assert!(!options.allow_half_open); // Node's default: end our side when the peer ends
/// assert_eq!(options.readable_high_water_mark, 16 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketOptions {
    /// Keep the writing side open after the peer's end of file (`allowHalfOpen`; default
    /// `false`: end it too, then destroy the socket).
    pub allow_half_open: bool,
    /// Bytes kept from the peer before reading stops (`readableHighWaterMark`, 16 KiB).
    pub readable_high_water_mark: usize,
    /// Bytes waiting to be sent at which `write` returns `false`
    /// (`writableHighWaterMark`, 16 KiB).
    pub writable_high_water_mark: usize,
    /// Turn Nagle's algorithm off once connected (`noDelay`, default `false`).
    pub no_delay: bool,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            allow_half_open: false,
            readable_high_water_mark: DEFAULT_HIGH_WATER_MARK,
            writable_high_water_mark: DEFAULT_HIGH_WATER_MARK,
            no_delay: false,
        }
    }
}

// ANCHOR: flags
// The socket's own state.
const CONNECTING: u32 = 1;
const DESTROYED: u32 = 1 << 1;
const ALLOW_HALF_OPEN: u32 = 1 << 2;
const ERROR_EMITTED: u32 = 1 << 3;
/// The tick after `destroy` ran (`emitCloseNT`): no more `'data'` or `'end'`.
const CLOSE_EMITTED: u32 = 1 << 4;
/// `'end'` was emitted on a socket that is not half-open: a later write is an error
/// (`writeAfterFIN`).
const FIN_RECEIVED: u32 = 1 << 5;
/// The handle is reading (`handle.reading`).
const HANDLE_READING: u32 = 1 << 6;
const UNREF: u32 = 1 << 7;
// The readable side (`ReadableState`'s bits of the same names).
const R_FLOWING: u32 = 1 << 8;
const R_HAS_FLOWING: u32 = 1 << 9;
const R_READING: u32 = 1 << 10;
const R_ENDED: u32 = 1 << 11;
const R_END_EMITTED: u32 = 1 << 12;
const R_RESUME_SCHEDULED: u32 = 1 << 13;
const R_PAUSED: u32 = 1 << 14;
const R_DATA_LISTENING: u32 = 1 << 15;
const R_NEED_READABLE: u32 = 1 << 16;
const R_EMITTED_READABLE: u32 = 1 << 17;
const R_SYNC: u32 = 1 << 18;
const R_ERRORED: u32 = 1 << 19;
// The writable side (`WritableState`'s bits).
const W_WRITING: u32 = 1 << 20;
const W_SYNC: u32 = 1 << 21;
const W_NEED_DRAIN: u32 = 1 << 22;
const W_ENDING: u32 = 1 << 23;
const W_ENDED: u32 = 1 << 24;
const W_FINISHED: u32 = 1 << 25;
const W_FINAL_CALLED: u32 = 1 << 26;
const W_PREFINISHED: u32 = 1 << 27;
const W_AFTER_WRITE_PENDING: u32 = 1 << 28;
const W_ERRORED: u32 = 1 << 29;
const W_CORKED: u32 = 1 << 30;
// ANCHOR_END: flags

// ANCHOR: state
/// What the loop keeps per socket. The common case — connected, flowing, writes taken by
/// the kernel at once — touches only the first fields; what only a busy or unusual socket
/// needs sits behind one optional box.
pub(crate) struct State {
    /// The connection; `None` once destroyed (or when connecting failed).
    handle: Option<TcpStream>,
    /// The server that accepted it (it counts its connections).
    server: Option<Key>,
    flags: u32,
    /// Bytes kept for the reader (`readableLength`).
    rlen: usize,
    /// Bytes written and not yet taken by the kernel (`writableLength`).
    wlen: usize,
    /// Bytes of the write in flight (`writelen`).
    writelen: usize,
    /// Writes and the `_final` whose callbacks are owed (`pendingcb`).
    pendingcb: u32,
    /// Emits running on this socket (see `events::emit`).
    emitting: u8,
    rhwm: u32,
    whwm: u32,
    bytes_read: u64,
    bytes_written: u64,
    listeners: Vec<events::Listener>,
    more: Option<Box<More>>,
}

/// What only some sockets need.
#[derive(Default)]
pub(super) struct More {
    /// Chunks read while nobody took them.
    rbuf: VecDeque<Vec<u8>>,
    /// Writes waiting for the one in flight (Node sends them together when it is done).
    wbuf: Vec<(Vec<u8>, Option<WriteCallback>)>,
    /// The callback of the write in flight.
    writecb: Option<WriteCallback>,
    /// The write that waits for the connection.
    pending_write: Option<Vec<u8>>,
    /// `end`'s callbacks, for `'finish'`.
    on_finished: Vec<WriteCallback>,
    /// The error that destroyed the socket.
    errored: Option<io::Error>,
    timeout: Option<destroy::IdleTimeout>,
    /// Where `connect` went (for its error message).
    peer: Option<SocketAddr>,
}
// ANCHOR_END: state

impl State {
    fn new(handle: Option<TcpStream>, options: &SocketOptions, flags: u32) -> State {
        let mut flags = flags;
        if options.allow_half_open {
            flags |= ALLOW_HALF_OPEN;
        }
        State {
            handle,
            server: None,
            flags,
            rlen: 0,
            wlen: 0,
            writelen: 0,
            pendingcb: 0,
            emitting: 0,
            rhwm: clamp(options.readable_high_water_mark),
            whwm: clamp(options.writable_high_water_mark),
            bytes_read: 0,
            bytes_written: 0,
            listeners: Vec::new(),
            more: None,
        }
    }

    pub(super) fn more(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    pub(super) fn has(&self, flags: u32) -> bool {
        self.flags & flags != 0
    }
}

fn clamp(hwm: usize) -> u32 {
    u32::try_from(hwm).unwrap_or(u32::MAX)
}

/// The live socket `key`.
pub(super) fn state(lp: &mut EventLoop, key: Key) -> Option<&mut State> {
    net(lp).sockets.get_mut(key)
}

fn state_ref(lp: &EventLoop, key: Key) -> Option<&State> {
    net_ref(lp).and_then(|n| n.sockets.get(key))
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "this socket is closed (the id is stale)",
    )
}

// ANCHOR: connect
impl Socket {
    /// Connects to `addr` (`net.connect(port, host, listener)`): returns the socket at once,
    /// still connecting; `on_connect` runs once connected (a `'connect'` listener), with the
    /// socket (Node's `this`). Listeners can be added and writes made right away — they wait
    /// for the connection. A failure (`ECONNREFUSED`, …) is an `'error'`, then `'close'`.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |lp, s| {
    ///     assert!(!s.is_connecting(lp)); // 'connect': the connection is up
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// assert!(s.is_connecting(lp)); // connect returned at once
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn connect(
        lp: &mut EventLoop,
        addr: SocketAddr,
        on_connect: impl FnOnce(&mut EventLoop, Socket) + 'static,
    ) -> Socket {
        Socket::connect_with(lp, addr, SocketOptions::default(), on_connect)
    }

    /// [`connect`](Self::connect) with options.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let options = SocketOptions { no_delay: true, ..SocketOptions::default() };
    /// let s = Socket::connect_with(lp, addr, options, |_, _| {});
    /// s.on_data(lp, |_, echo| assert_eq!(echo, b"hi")).end_with(lp, b"hi");
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn connect_with(
        lp: &mut EventLoop,
        addr: SocketAddr,
        options: SocketOptions,
        on_connect: impl FnOnce(&mut EventLoop, Socket) + 'static,
    ) -> Socket {
        let mut fresh = State::new(None, &options, CONNECTING);
        fresh.more().peer = Some(addr);
        let key = net(lp).sockets.insert(fresh);
        let mut on_connect = Some(on_connect);
        let once = Handler::Plain(Box::new(move |lp| {
            if let Some(f) = on_connect.take() {
                f(lp, Socket(lp.tag(key)))
            }
        }));
        events::add(lp, key, Event::Connect, true, once);
        let no_delay = options.no_delay;
        match TcpStream::connect(lp, addr, move |lp, result| {
            after_connect(lp, key, result, no_delay)
        }) {
            Ok(handle) => {
                if let Some(s) = state(lp, key) {
                    s.handle = Some(handle);
                }
                destroy::touch(lp, key);
            }
            // No socket could be made (`EMFILE`): Node's `internalConnect` destroys the
            // socket with the error at once.
            Err(e) => destroy(lp, key, Some(super::NetError::os(e, "connect", Some(addr)))),
        }
        Socket(lp.tag(key))
    }
}

/// The handle's connect callback (`afterConnect`).
fn after_connect(lp: &mut EventLoop, key: Key, result: io::Result<TcpStream>, no_delay: bool) {
    let Some(s) = state(lp, key) else { return };
    if s.has(DESTROYED) {
        return; // the callback of a connect that `destroy` canceled
    }
    s.flags &= !CONNECTING;
    match result {
        Ok(handle) => {
            if no_delay {
                let _ = handle.set_nodelay(lp, true);
            }
            destroy::touch(lp, key);
            events::emit(lp, key, Event::Connect, Args::None);
            // Start the first read, or meet an immediate end of file.
            if !Socket(lp.tag(key)).is_paused(lp) {
                readable::read(lp, key, Some(0));
            }
        }
        Err(e) => {
            // The stream closed itself: nothing is left to close but the socket.
            let peer = s.more.as_ref().and_then(|m| m.peer);
            s.handle = None;
            destroy(lp, key, Some(super::NetError::os(e, "connect", peer)));
        }
    }
}
// ANCHOR_END: connect

/// What the stream layer waited on `'connect'` for.
fn run_on_connect(lp: &mut EventLoop, key: Key, action: OnConnect) {
    match action {
        OnConnect::Read => readable::start_reading(lp, key),
        OnConnect::Write => writable::send_pending(lp, key),
        OnConnect::Final => writable::final_(lp, key),
    }
}

/// Wraps a connection a server accepted (`new Socket({ handle })` in `onconnection`): it
/// starts reading at once, so data that comes before a `'data'` listener is kept for it.
pub(crate) fn adopt(
    lp: &mut EventLoop,
    handle: TcpStream,
    server: Key,
    options: &SocketOptions,
) -> Socket {
    let mut fresh = State::new(Some(handle), options, 0);
    fresh.server = Some(server);
    let key = net(lp).sockets.insert(fresh);
    if options.no_delay {
        let _ = handle.set_nodelay(lp, true);
    }
    readable::read(lp, key, Some(0));
    Socket(lp.tag(key))
}

impl Socket {
    /// The socket's key in `lp`; for another loop's socket, a key that names nothing (the
    /// socket is then treated as closed: its id is stale here).
    pub(super) fn key(self, lp: &EventLoop) -> Key {
        lp.untag(self.0).unwrap_or(Key::DANGLING)
    }

    fn add(self, lp: &mut EventLoop, event: Event, once: bool, handler: Handler) -> Self {
        events::add(lp, self.key(lp), event, once, handler);
        self
    }

    /// Adds a `'connect'` listener: runs once the connection is up.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.on_connect(lp, move |lp| {
    ///     assert_eq!(s.remote_addr(lp).unwrap(), addr);
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_connect(self, lp: &mut EventLoop, f: impl FnMut(&mut EventLoop) + 'static) -> Self {
        self.add(lp, Event::Connect, false, Handler::Plain(Box::new(f)))
    }

    /// Adds an `'end'` listener: the peer ended its side (end of file), one tick after the
    /// last `'data'`.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.end_with(lp, b"ping")));
    /// s.on_data(lp, |_, _| {}).on_end(lp, move |lp| {
    ///     assert_eq!(s.bytes_read(lp), 4); // every byte came before the end of file
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_end(self, lp: &mut EventLoop, f: impl FnMut(&mut EventLoop) + 'static) -> Self {
        self.add(lp, Event::End, false, Handler::Plain(Box::new(f)))
    }

    /// Adds a `'finish'` listener: [`end`](Self::end) was called and every byte is sent and
    /// the writing side shut down.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.on_data(lp, |_, _| {}).end_with(lp, b"bye");
    /// s.on_finish(lp, move |lp| assert_eq!(s.bytes_written(lp), 3));
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_finish(self, lp: &mut EventLoop, f: impl FnMut(&mut EventLoop) + 'static) -> Self {
        self.add(lp, Event::Finish, false, Handler::Plain(Box::new(f)))
    }

    /// Adds a `'drain'` listener: a [`write`](Self::write) returned `false`, and now
    /// everything written has been taken by the kernel — write more.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// let more = s.write(lp, &[0; 32 * 1024]); // waits for the connection: above the mark
    /// assert!(!more);
    /// s.on_data(lp, |_, _| {}).on_drain(lp, move |lp| {
    ///     assert_eq!(s.writable_length(lp), 0);
    ///     s.end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_drain(self, lp: &mut EventLoop, f: impl FnMut(&mut EventLoop) + 'static) -> Self {
        self.add(lp, Event::Drain, false, Handler::Plain(Box::new(f)))
    }

    /// Adds a `'timeout'` listener (see [`set_timeout`](Self::set_timeout)).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.on_data(lp, |_, _| {}).set_timeout(lp, 10);
    /// s.on_timeout(lp, move |lp| {
    ///     assert!(!s.is_destroyed(lp)); // the timeout only tells
    ///     s.end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_timeout(self, lp: &mut EventLoop, f: impl FnMut(&mut EventLoop) + 'static) -> Self {
        self.add(lp, Event::Timeout, false, Handler::Plain(Box::new(f)))
    }

    /// Adds an `'error'` listener. The socket is already destroyed when it runs; `'close'`
    /// follows. Without one, an error ends the program (Node throws it).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // now closed
    /// let s = Socket::connect(lp, free, |_, _| unreachable!());
    /// s.on_error(lp, move |lp, err| {
    ///     assert_eq!(net::NetError::code_of(err), "ECONNREFUSED");
    ///     assert!(s.is_destroyed(lp));
    /// });
    /// # server.close(lp, |_, _| {}); // no connection to wait for
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_error(
        self,
        lp: &mut EventLoop,
        f: impl FnMut(&mut EventLoop, &io::Error) + 'static,
    ) -> Self {
        self.add(lp, Event::Error, false, Handler::Error(Box::new(f)))
    }

    /// Adds a `'close'` listener: the connection is closed, in the closing phase; the
    /// argument says whether an error destroyed it. The last event a socket emits.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.end(lp)));
    /// s.on_data(lp, |_, _| {}).on_close(lp, move |lp, had_error| {
    ///     assert!(!had_error);
    ///     assert!(s.is_destroyed(lp));
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_close(
        self,
        lp: &mut EventLoop,
        f: impl FnMut(&mut EventLoop, bool) + 'static,
    ) -> Self {
        self.add(lp, Event::Close, false, Handler::Close(Box::new(f)))
    }

    /// The local address (`socket.address()`).
    ///
    /// # Errors
    /// `NotFound` once destroyed; `NotConnected` while connecting.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// Socket::connect(lp, addr, move |lp, s| {
    ///     let local = s.local_addr(lp).unwrap();
    ///     assert!(local.ip().is_loopback() && local.port() != addr.port());
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn local_addr(self, lp: &EventLoop) -> io::Result<SocketAddr> {
        self.handle(lp)?.local_addr(lp)
    }

    /// The peer's address (`socket.remoteAddress`, `socket.remotePort`).
    ///
    /// # Errors
    /// `NotFound` once destroyed; `NotConnected` while connecting.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// Socket::connect(lp, addr, move |lp, s| {
    ///     assert_eq!(s.remote_addr(lp).unwrap(), addr);
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn remote_addr(self, lp: &EventLoop) -> io::Result<SocketAddr> {
        self.handle(lp)?.peer_addr(lp)
    }

    /// Turns Nagle's algorithm off (`true`) or on (`socket.setNoDelay`).
    ///
    /// # Errors
    /// `NotFound` once destroyed; what `setsockopt` says.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// Socket::connect(lp, addr, |lp, s| {
    ///     s.set_no_delay(lp, true).unwrap(); // small writes go out at once
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn set_no_delay(self, lp: &EventLoop, no_delay: bool) -> io::Result<()> {
        self.handle(lp)?.set_nodelay(lp, no_delay)
    }

    /// The connection underneath (chapter 9's [`TcpStream`]).
    ///
    /// # Errors
    /// `NotFound` once destroyed (or if connecting failed).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// Socket::connect(lp, addr, move |lp, s| {
    ///     let stream: net::TcpStream = s.handle(lp).unwrap();
    ///     assert_eq!(stream.peer_addr(lp).unwrap(), addr);
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn handle(self, lp: &EventLoop) -> io::Result<TcpStream> {
        let key = lp.untag_or_err(self.0, "socket")?;
        state_ref(lp, key).and_then(|s| s.handle).ok_or_else(gone)
    }
}

/// `socket.ref()`, `socket.unref()`, `socket.hasRef()`. A socket unref'd while it connects
/// stays unref'd once connected; `has_ref` is false once destroyed.
impl Ref for Socket {
    /// `socket.unref()` lets the loop end while this socket waits; `socket.ref()` (the
    /// default) makes it keep the loop alive again.
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        if let Some(s) = state(lp, self.key(lp)) {
            if refed {
                s.flags &= !UNREF;
            } else {
                s.flags |= UNREF;
            }
            if let Some(h) = s.handle {
                h.set_ref(lp, refed);
            }
        }
    }

    fn has_ref(self, lp: &EventLoop) -> bool {
        state_ref(lp, self.key(lp)).is_some_and(|s| s.flags & UNREF == 0)
    }
}

impl Socket {
    /// Bytes received so far (`socket.bytesRead`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.end_with(lp, b"ping")));
    /// assert_eq!(s.bytes_read(lp), 0);
    /// s.on_data(lp, |_, _| {}).on_end(lp, move |lp| assert_eq!(s.bytes_read(lp), 4)); // the echo
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn bytes_read(self, lp: &EventLoop) -> u64 {
        state_ref(lp, self.key(lp)).map_or(0, |s| s.bytes_read)
    }

    /// Bytes the kernel has taken so far (`socket.bytesWritten`, without what still waits).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.on_data(lp, |_, _| {}).end_with(lp, b"ping");
    /// assert_eq!(s.bytes_written(lp), 0); // still connecting
    /// s.on_finish(lp, move |lp| assert_eq!(s.bytes_written(lp), 4));
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn bytes_written(self, lp: &EventLoop) -> u64 {
        state_ref(lp, self.key(lp)).map_or(0, |s| s.bytes_written)
    }

    /// Bytes written and not yet taken by the kernel (`socket.writableLength`): above the
    /// high-water mark, [`write`](Self::write) returns `false`.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.write(lp, b"early"); // waits for the connection
    /// assert_eq!(s.writable_length(lp), 5);
    /// s.on_data(lp, |_, _| {}).end(lp);
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn writable_length(self, lp: &EventLoop) -> usize {
        state_ref(lp, self.key(lp)).map_or(0, |s| s.wlen)
    }

    /// Bytes received and kept for the reader (`socket.readableLength`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.write(lp, b"kept")));
    /// s.on_data(lp, |_, data| assert_eq!(data, b"kept")).pause(lp);
    /// lp.set_timeout(move |lp| {
    ///     // Paused: every byte read so far (the echo, once it came) is kept.
    ///     assert_eq!(s.readable_length(lp) as u64, s.bytes_read(lp));
    ///     s.resume(lp).end(lp);
    /// }, 50);
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn readable_length(self, lp: &EventLoop) -> usize {
        state_ref(lp, self.key(lp)).map_or(0, |s| s.rlen)
    }

    /// True while connecting (`socket.connecting`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |lp, s| {
    ///     assert!(!s.is_connecting(lp));
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// assert!(s.is_connecting(lp));
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn is_connecting(self, lp: &EventLoop) -> bool {
        state_ref(lp, self.key(lp)).is_some_and(|s| s.has(CONNECTING))
    }

    /// True once destroyed, by an error or by [`destroy`](Self::destroy)
    /// (`socket.destroyed`); true for a stale id.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// assert!(!s.is_destroyed(lp));
    /// s.destroy(lp);
    /// assert!(s.is_destroyed(lp)); // at once; 'close' comes in the closing phase
    /// # server.close(lp, |_, _| {}); // no connection to wait for
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn is_destroyed(self, lp: &EventLoop) -> bool {
        state_ref(lp, self.key(lp)).is_none_or(|s| s.has(DESTROYED))
    }

    /// True while writes are accepted (`socket.writable`): not ended, not destroyed.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// assert!(s.is_writable(lp)); // writes made now wait for the connection
    /// s.on_data(lp, |_, _| {}).end(lp);
    /// assert!(!s.is_writable(lp));
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn is_writable(self, lp: &EventLoop) -> bool {
        state_ref(lp, self.key(lp)).is_some_and(writable::writable)
    }
}
