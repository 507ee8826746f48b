//! An echo server written with `async`/`.await` on the crate's loop (chapter 10's tasks):
//! one task accepts, one task per connection echoes until the client ends.
//!
//! `cargo run --release --example async_echo_server [ADDRESS]` (default `127.0.0.1:7001`),
//! then `examples/async_echo_client.rs` (or `nc 127.0.0.1 7001`). It prints
//! `listening <address>` once it listens.
//!
//! It is `examples/echo_server.rs` without a single callback, and without a line of
//! backpressure code: a connection's task does not read while its `write_all` waits, and
//! the stream stops reading the socket when 64 KiB wait unread — so a client that sends
//! without reading is paused by the kernel's TCP window, not kept in memory.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use eventloop::EventLoop;
use eventloop::task::{self, net::AsyncStream};
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};

#[allow(dead_code)] // `tests/programs.rs` includes this file and calls `serve` directly
fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:7001")
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let mut lp = EventLoop::new();
    let code = lp
        .run_main_async(serve(addr, |addr| println!("listening {addr}")))
        .map_err(|e| io::Error::other(e.to_string()))?;
    std::process::exit(code)
}

// ANCHOR: serve
/// Listens on `addr`, says where with `on_listening`, and echoes every connection in a task
/// of its own. Returns only if listening fails.
pub async fn serve(addr: SocketAddr, on_listening: impl FnOnce(SocketAddr)) -> io::Result<()> {
    let mut incoming = task::with_loop(move |lp| task::net::listen(lp, addr)).await?;
    on_listening(incoming.local_addr());
    while let Some(conn) = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await {
        match conn {
            Ok(conn) => task::spawn(echo(conn)).detach(),
            Err(e) => eprintln!("accept: {e}"), // EMFILE and the like: go on accepting
        }
    }
    Ok(())
}

/// Echoes one connection until the client ends its side, then ends ours.
async fn echo(mut conn: AsyncStream) {
    let stream = conn.stream();
    task::defer(move |lp| drop(stream.set_nodelay(lp, true))); // answers go out at once
    let mut buf = vec![0; 16 * 1024];
    loop {
        match read(&mut conn, &mut buf).await {
            Ok(0) => break,   // the client ended: end our side once the echo is out
            Err(_) => return, // a reset: dropping the stream closes it
            Ok(n) => {
                if write_all(&mut conn, &buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = poll_fn(|cx| Pin::new(&mut conn).poll_close(cx)).await;
}
// ANCHOR_END: serve

/// Reads what is there (at least one byte; 0 at end of file).
async fn read(conn: &mut AsyncStream, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *conn).poll_read(cx, buf)).await
}

/// Writes all of `data`, waiting while too much is queued.
async fn write_all(conn: &mut AsyncStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *conn).poll_write(cx, data)).await?;
        data = &data[n..];
    }
    Ok(())
}
