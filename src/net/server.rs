//! Node's `net.Server` on the loop: `'listening'`, `'connection'`, `'error'`, `'close'`,
//! built on chapter 9's [`TcpListener`] (`lib/net.js`: `Server`, `setupListenHandle`,
//! `onconnection`, `Server.prototype.close`, `_emitCloseIfDrained`).
//!
//! Two of Node's rules shape it. `listen` reports later, never inside the call: the
//! address is looked up on a tick, bound, and `'listening'` (or `'error'`) comes a tick
//! after that — so a program can add its listeners after calling `listen`. And `close`
//! stops accepting at once, but `'close'` waits until the last connection the server
//! accepted is destroyed: a server is closed when it has nothing left, not when its
//! listening socket is.

use std::io;
use std::net::SocketAddr;

use super::socket::{self, SocketOptions};
use super::{NetError, Socket, TcpListener, TcpStream, net, net_ref};
use crate::event_loop::{EventLoop, LoopKey, Ref};
use crate::heap::Key;

// ANCHOR: server
/// A TCP server as Node's `net.Server`: an id, `Copy`. Created with
/// [`Server::create`], started with [`listen`](Self::listen), stopped with
/// [`close`](Self::close) — and, like Node's, able to listen again after that. (A server
/// is small, and it is kept for the loop's lifetime.)
///
/// ```no_run
/// use eventloop::event_loop::EventLoop;
/// use eventloop::net::Server;
///
/// let mut lp = EventLoop::new();
/// lp.run_main(|lp| {
///     let server = Server::create(lp, |lp, s| {
///         s.on_data(lp, move |lp, data| {
///             s.write(lp, data); // echo
///         });
///     });
///     server.listen(lp, "127.0.0.1:7000".parse().unwrap(), move |lp| {
///         println!("listening on {}", server.address(lp).unwrap());
///     });
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Server(LoopKey);
// ANCHOR_END: server

/// How a server behaves (Node's `net.createServer` options, plus the backlog and
/// `maxConnections`).
///
/// ```
/// use eventloop::net::ServerOptions;
///
/// let options = ServerOptions { max_connections: Some(100), ..ServerOptions::default() };
/// assert_eq!(options.backlog, 511); // Node's
/// assert!(!options.socket.allow_half_open);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOptions {
    /// What each accepted socket gets.
    pub socket: SocketOptions,
    /// Connections that may wait to be accepted (`listen`'s `backlog`, Node's 511).
    pub backlog: u32,
    /// Connections beyond this many are closed as soon as they are accepted
    /// (`server.maxConnections`); `None` for no limit.
    pub max_connections: Option<usize>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            socket: SocketOptions::default(),
            backlog: 511,
            max_connections: None,
        }
    }
}

type Plain = Box<dyn FnMut(&mut EventLoop)>;
type OnConnection = dyn FnMut(&mut EventLoop, Socket);
type OnError = dyn FnMut(&mut EventLoop, &io::Error);

enum Listener {
    Connection(Box<OnConnection>),
    Listening(Plain, bool),
    Error(Box<OnError>),
    Close(Plain, bool),
}

pub(crate) struct State {
    listener: Option<TcpListener>,
    connections: usize,
    unref: bool,
    options: ServerOptions,
    listeners: Vec<Listener>,
}

fn state(lp: &mut EventLoop, key: Key) -> Option<&mut State> {
    net(lp).servers.get_mut(key)
}

fn state_ref(lp: &EventLoop, key: Key) -> Option<&State> {
    net_ref(lp).and_then(|n| n.servers.get(key))
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Connection,
    Listening,
    Error,
    Close,
}

fn kind(l: &Listener) -> Kind {
    match l {
        Listener::Connection(_) => Kind::Connection,
        Listener::Listening(..) => Kind::Listening,
        Listener::Error(_) => Kind::Error,
        Listener::Close(..) => Kind::Close,
    }
}

/// Calls the listeners of one event (see the socket's `events::emit`, the same rules).
fn emit(
    lp: &mut EventLoop,
    key: Key,
    which: Kind,
    socket: Option<Socket>,
    error: Option<&io::Error>,
) -> bool {
    let Some(s) = state(lp, key) else {
        return false;
    };
    if !s.listeners.iter().any(|l| kind(l) == which) {
        return false;
    }
    let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut s.listeners)
        .into_iter()
        .partition(|l| kind(l) == which);
    s.listeners = others;
    let mut kept = Vec::new();
    for mut listener in mine {
        let once = match &mut listener {
            Listener::Connection(f) => {
                f(lp, socket.expect("a connection"));
                false
            }
            Listener::Listening(f, once) | Listener::Close(f, once) => {
                f(lp);
                *once
            }
            Listener::Error(f) => {
                f(lp, error.expect("an error"));
                false
            }
        };
        if !once {
            kept.push(listener);
        }
    }
    if let Some(s) = state(lp, key) {
        kept.append(&mut s.listeners);
        s.listeners = kept;
    }
    true
}

/// A server's `'error'`: to its listeners, or, with none, the end of the program.
fn emit_error(lp: &mut EventLoop, key: Key, error: &io::Error) {
    if !emit(lp, key, Kind::Error, None, Some(error)) {
        panic!("Unhandled 'error' event: {error}");
    }
}

// ANCHOR: listen
impl Server {
    /// The server's key in `lp`; for another loop's server, a key that names nothing.
    fn key(self, lp: &EventLoop) -> Key {
        lp.untag(self.0).unwrap_or(Key::DANGLING)
    }

    /// A server that calls `on_connection` with each connection it accepts
    /// (`net.createServer(listener)`). It listens once [`listen`](Self::listen) is called.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |lp, conn| drop(conn.on_data(lp, |_, _| {}).end_with(lp, b"hi")));
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    ///     let addr = server.address(lp).unwrap();
    ///     let s = Socket::connect(lp, addr, |_, _| {});
    ///     s.on_data(lp, |_, data| assert_eq!(data, b"hi"))
    ///         .on_end(lp, move |lp| server.close(lp, |_, _| {}));
    /// });
    /// # }).unwrap();
    /// ```
    pub fn create(
        lp: &mut EventLoop,
        on_connection: impl FnMut(&mut EventLoop, Socket) + 'static,
    ) -> Server {
        Server::create_with(lp, ServerOptions::default(), on_connection)
    }

    /// [`create`](Self::create) with options.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let options = ServerOptions { max_connections: Some(0), ..ServerOptions::default() };
    /// let server = Server::create_with(lp, options, |_, _| unreachable!("over the limit"));
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    ///     let addr = server.address(lp).unwrap();
    ///     let s = Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    ///     s.on_close(lp, move |lp, _| server.close(lp, |_, _| {})); // the server closed it
    /// });
    /// # }).unwrap();
    /// ```
    pub fn create_with(
        lp: &mut EventLoop,
        options: ServerOptions,
        on_connection: impl FnMut(&mut EventLoop, Socket) + 'static,
    ) -> Server {
        let key = net(lp).servers.insert(State {
            listener: None,
            connections: 0,
            unref: false,
            options,
            listeners: vec![Listener::Connection(Box::new(on_connection))],
        });
        Server(lp.tag(key))
    }

    /// Listens on `addr` (`server.listen(port, host, callback)`); port 0 picks a free port
    /// (see [`address`](Self::address)). Nothing happens inside the call: the address is
    /// bound on a tick (Node looks the host up first), then `on_listening` runs on the tick
    /// after — or the server emits `'error'` (`EADDRINUSE`, …).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |_, _| {});
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    ///     assert_ne!(server.address(lp).unwrap().port(), 0); // the kernel chose a port
    ///     server.close(lp, |_, _| {});
    /// });
    /// assert!(!server.listening(lp)); // bound on a later tick
    /// # }).unwrap();
    /// ```
    pub fn listen(
        self,
        lp: &mut EventLoop,
        addr: SocketAddr,
        on_listening: impl FnOnce(&mut EventLoop) + 'static,
    ) -> Self {
        let mut on_listening = Some(on_listening);
        let once: Plain = Box::new(move |lp| {
            if let Some(f) = on_listening.take() {
                f(lp)
            }
        });
        let key = self.key(lp);
        let Some(s) = state(lp, key) else {
            return self;
        };
        s.listeners.push(Listener::Listening(once, true));
        lp.next_tick(move |lp| bind(lp, key, addr)); // `dns.lookup` answers on a tick
        self
    }
}

/// `setupListenHandle`: bind and listen, then `'listening'` (or `'error'`) on a tick.
fn bind(lp: &mut EventLoop, key: Key, addr: SocketAddr) {
    let Some(s) = state(lp, key) else { return };
    let (backlog, unref) = (s.options.backlog, s.unref);
    let listening = TcpListener::listen(lp, addr, backlog, move |lp, conn| {
        on_connection(lp, key, conn)
    });
    match listening {
        Ok(listener) => {
            if unref {
                listener.unref(lp);
            }
            if let Some(s) = state(lp, key) {
                s.listener = Some(listener);
            }
            lp.next_tick(move |lp| {
                emit(lp, key, Kind::Listening, None, None);
            });
        }
        Err(e) => {
            let error = NetError::os(e, "listen", Some(addr));
            lp.next_tick(move |lp| emit_error(lp, key, &error));
        }
    }
}
// ANCHOR_END: listen

// ANCHOR: on_connection
/// A connection was accepted (`onconnection`): wrap it in a socket that counts toward
/// the server, and emit `'connection'`.
fn on_connection(lp: &mut EventLoop, key: Key, conn: io::Result<TcpStream>) {
    let handle = match conn {
        Ok(handle) => handle,
        // Out of descriptors: the listener already dropped the waiting connections
        // (`uv__emfile_trick`), which libuv does silently — Node never hears of it.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => return,
        Err(e) => return emit_error(lp, key, &NetError::os(e, "accept", None)),
    };
    let Some(s) = state(lp, key) else {
        let _ = handle.close(lp, |_| {});
        return;
    };
    if s.options
        .max_connections
        .is_some_and(|max| s.connections >= max)
    {
        let _ = handle.close(lp, |_| {}); // Node's 'drop'
        return;
    }
    s.connections += 1;
    let options = s.options.socket;
    let socket = socket::adopt(lp, handle, key, &options);
    emit(lp, key, Kind::Connection, Some(socket), None);
}

/// One of the server's sockets was destroyed.
pub(crate) fn connection_gone(lp: &mut EventLoop, key: Key) {
    if let Some(s) = state(lp, key) {
        s.connections -= 1;
        emit_close_if_drained(lp, key);
    }
}

/// `'close'` on a tick, once the server neither listens nor has connections
/// (`_emitCloseIfDrained`). The server is kept: like Node's, it can listen again.
fn emit_close_if_drained(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if s.listener.is_some() || s.connections > 0 {
        return;
    }
    lp.next_tick(move |lp| {
        emit(lp, key, Kind::Close, None, None);
    });
}
// ANCHOR_END: on_connection

impl Server {
    // ANCHOR: close
    /// Stops accepting now (`server.close(callback)`); `callback` runs with the
    /// `'close'` event, which waits until every connection the server accepted is
    /// destroyed. Closing a server that is not listening gives `callback`
    /// `ERR_SERVER_NOT_RUNNING` (at that same `'close'`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |_, _| {});
    /// server.close(lp, |_, result| {
    ///     assert_eq!(net::NetError::code_of(&result.unwrap_err()), "ERR_SERVER_NOT_RUNNING");
    /// });
    /// # }).unwrap();
    /// ```
    pub fn close(
        self,
        lp: &mut EventLoop,
        callback: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
    ) {
        let key = self.key(lp);
        let Some(s) = state(lp, key) else {
            let error = not_running();
            return lp.next_tick(move |lp| callback(lp, Err(error)));
        };
        let running = s.listener.is_some();
        let mut callback = Some(callback);
        let once: Plain = Box::new(move |lp| {
            if let Some(f) = callback.take() {
                f(lp, if running { Ok(()) } else { Err(not_running()) })
            }
        });
        s.listeners.push(Listener::Close(once, true));
        if let Some(listener) = s.listener.take() {
            let _ = listener.close(lp, |_| {});
        }
        emit_close_if_drained(lp, key);
    }
    // ANCHOR_END: close

    /// Adds a `'connection'` listener.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |_, _| {});
    /// server.on_connection(lp, move |lp, conn| {
    ///     assert_eq!(conn.local_addr(lp).unwrap(), server.address(lp).unwrap());
    ///     conn.on_data(lp, |_, _| {}).end(lp);
    ///     server.close(lp, |_, _| {});
    /// });
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| client(lp, server));
    /// # }).unwrap();
    /// ```
    pub fn on_connection(
        self,
        lp: &mut EventLoop,
        f: impl FnMut(&mut EventLoop, Socket) + 'static,
    ) -> Self {
        self.push(lp, Listener::Connection(Box::new(f)))
    }

    /// Adds a `'listening'` listener.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |_, _| {});
    /// server.on_listening(lp, move |lp| {
    ///     assert!(server.listening(lp));
    ///     server.close(lp, |_, _| {});
    /// });
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), |_| {});
    /// # }).unwrap();
    /// ```
    pub fn on_listening(self, lp: &mut EventLoop, f: impl FnMut(&mut EventLoop) + 'static) -> Self {
        self.push(lp, Listener::Listening(Box::new(f), false))
    }

    /// Adds an `'error'` listener (`EADDRINUSE` from `listen`, a failed accept). Without
    /// one, an error ends the program.
    ///
    /// ```
    /// use eventloop::prelude::*;
    /// use eventloop::net::Server;
    ///
    /// let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap(); // holds the port
    /// let addr = taken.local_addr().unwrap();
    /// let mut lp = EventLoop::new();
    /// lp.run_main(|lp| {
    ///     let server = Server::create(lp, |_, _| {});
    ///     server.on_error(lp, |_, err| assert_eq!(net::NetError::code_of(err), "EADDRINUSE"));
    ///     server.listen(lp, addr, |_| unreachable!());
    /// })
    /// .unwrap();
    /// ```
    pub fn on_error(
        self,
        lp: &mut EventLoop,
        f: impl FnMut(&mut EventLoop, &io::Error) + 'static,
    ) -> Self {
        self.push(lp, Listener::Error(Box::new(f)))
    }

    /// Adds a `'close'` listener.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |_, _| {});
    /// server.on_close(lp, move |lp| assert!(!server.listening(lp)));
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| server.close(lp, |_, _| {}));
    /// # }).unwrap();
    /// ```
    pub fn on_close(self, lp: &mut EventLoop, f: impl FnMut(&mut EventLoop) + 'static) -> Self {
        self.push(lp, Listener::Close(Box::new(f), false))
    }

    fn push(self, lp: &mut EventLoop, listener: Listener) -> Self {
        if let Some(s) = state(lp, self.key(lp)) {
            s.listeners.push(listener);
        }
        self
    }

    /// The address it listens on (`server.address()`), with the port the kernel chose.
    ///
    /// # Errors
    /// `NotConnected` while not listening (before `'listening'`, after `close`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |_, _| {});
    /// assert!(server.address(lp).is_err()); // not listening yet
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    ///     let addr = server.address(lp).unwrap();
    ///     assert!(addr.ip().is_loopback() && addr.port() != 0);
    ///     server.close(lp, |_, _| {});
    /// });
    /// # }).unwrap();
    /// ```
    pub fn address(self, lp: &EventLoop) -> io::Result<SocketAddr> {
        state_ref(lp, self.key(lp))
            .and_then(|s| s.listener)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotConnected, "the server is not listening")
            })?
            .local_addr(lp)
    }

    /// True while listening (`server.listening`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |_, _| {});
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    ///     assert!(server.listening(lp));
    ///     server.close(lp, |_, _| {});
    ///     assert!(!server.listening(lp)); // it stops accepting at once
    /// });
    /// # }).unwrap();
    /// ```
    pub fn listening(self, lp: &EventLoop) -> bool {
        state_ref(lp, self.key(lp)).is_some_and(|s| s.listener.is_some())
    }

    /// Connections accepted and not yet destroyed (`server.getConnections`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, ServerOptions, Socket};
    /// # fn client(lp: &mut EventLoop, server: Server) {
    /// #     let addr = server.address(lp).unwrap();
    /// #     Socket::connect(lp, addr, |_, _| {}).on_data(lp, |_, _| {}).on_error(lp, |_, _| {});
    /// # }
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// let server = Server::create(lp, |lp, conn| drop(conn.on_data(lp, |_, _| {})));
    /// server.on_connection(lp, move |lp, conn| {
    ///     assert_eq!(server.connections(lp), 1);
    ///     conn.end(lp);
    ///     server.close(lp, |_, _| {}); // waits until the connection is destroyed
    /// });
    /// server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| client(lp, server));
    /// # }).unwrap();
    /// ```
    pub fn connections(self, lp: &EventLoop) -> usize {
        state_ref(lp, self.key(lp)).map_or(0, |s| s.connections)
    }
}

fn not_running() -> io::Error {
    NetError::node(
        "ERR_SERVER_NOT_RUNNING",
        "Server is not running.",
        io::ErrorKind::NotConnected,
    )
}

/// `server.ref()`, `server.unref()`, `server.hasRef()`: an unref'd server lets the loop end
/// while it listens; its connections still count on their own. The choice holds across
/// `close` and a later `listen`.
impl Ref for Server {
    fn set_ref(&self, lp: &mut EventLoop, refed: bool) {
        let Some(s) = state(lp, self.key(lp)) else {
            return;
        };
        s.unref = !refed;
        if let Some(listener) = s.listener {
            listener.set_ref(lp, refed);
        }
    }

    fn has_ref(self, lp: &EventLoop) -> bool {
        state_ref(lp, self.key(lp)).is_some_and(|s| !s.unref)
    }
}
