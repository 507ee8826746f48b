//! A small HTTP/1.1 server on the crate's stream layer (`net::Server`, `net::Socket`), shared
//! by `examples/http_hello.rs` and `examples/file_server.rs` (and by their tests, which
//! include it with `#[path]`).
//!
//! Keep-alive and pipelining work, and the server defends itself the way Node's `http`
//! does, with Node's defaults:
//! - **Backpressure.** Responses go out through `socket.write`; when it returns `false`
//!   (the kernel and then 64 KiB of queue are full: the client is not reading), the server
//!   stops reading the socket and stops answering until `'drain'`. A client that pipelines
//!   requests without reading the answers costs a bounded amount of memory, however long
//!   it keeps sending.
//! - **Header timeout** (`server.headersTimeout`, 60 s): from the first byte of a request
//!   head until its end. A client trickling a byte a second (slowloris) is answered `408`
//!   and closed, so it cannot hold a connection — and a descriptor — for long.
//! - **Maximum header size** (`--max-http-header-size`, 16 KiB): a longer head is answered
//!   `431` and the connection closed, so the input buffer has a bound.
//! - **Keep-alive timeout** (`server.keepAliveTimeout`, 5 s): an idle connection between
//!   requests is closed.
//!
//! One request per connection is answered at a time, in order: pipelined requests wait in
//! the input buffer until the response before them has ended.

#![allow(dead_code)] // each program that includes this module uses a part of it

mod conn;

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use eventloop::event_loop::EventLoop;
use eventloop::net::{Server, ServerOptions};

pub use conn::Response;

/// How the server defends itself. The defaults are Node's.
#[derive(Debug, Clone)]
pub struct Config {
    /// Time allowed from the first byte of a request head to its end (Node: 60 s).
    pub header_timeout: Duration,
    /// An idle keep-alive connection is closed after this long (Node: 5 s).
    pub keep_alive_timeout: Duration,
    /// The largest request head accepted; a larger one gets `431` (Node: 16 KiB).
    pub max_header_size: usize,
    /// The largest request body accepted; a larger one gets `413`.
    pub max_body_size: usize,
    /// Output queued on a socket at which the server stops reading it until `'drain'`.
    pub high_water_mark: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            header_timeout: Duration::from_secs(60),
            keep_alive_timeout: Duration::from_secs(5),
            max_header_size: 16 * 1024,
            max_body_size: 1024 * 1024,
            high_water_mark: 64 * 1024,
        }
    }
}

/// One request, borrowed from the connection's input: copy what a response made later
/// needs.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    pub headers: &'a [httparse::Header<'a>],
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The value of header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }
}

/// What answers requests: called once per request, in order, with a [`Response`] that it
/// must end — now, or later from another callback.
pub type Handler = Rc<dyn Fn(&mut EventLoop, &Request<'_>, Response)>;

/// Starts a server on `addr` that answers with `handler`; `on_listening` gets the address
/// once it listens. The server's `'error'` (`EADDRINUSE`, …) is reported to `on_error`.
pub fn serve(
    lp: &mut EventLoop,
    addr: SocketAddr,
    config: Config,
    handler: Handler,
    on_listening: impl FnOnce(&mut EventLoop, SocketAddr) + 'static,
    on_error: impl FnMut(&mut EventLoop, &io::Error) + 'static,
) -> Server {
    let config = Rc::new(config);
    let options = ServerOptions::default();
    let server = Server::create_with(lp, options, move |lp, socket| {
        conn::start(lp, socket, config.clone(), handler.clone());
    });
    server
        .listen(lp, addr, move |lp| {
            let addr = server.address(lp).expect("listening");
            on_listening(lp, addr);
        })
        .on_error(lp, on_error);
    server
}

/// The reason phrase of the status codes this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "Unknown",
    }
}
