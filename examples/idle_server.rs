//! W8's server: accepts connections and keeps them open, reading, doing nothing else — to
//! measure what an idle connection costs in resident memory.
//!
//! ```text
//! cargo run --release --example idle_server -- [ADDRESS] [EXPECTED] [stream|handles]
//! ```
//!
//! Listens on `ADDRESS` (default `127.0.0.1:0`, any free port) and prints
//! `listening <address> pid=<pid>`. Each accepted connection is read (as a real server's
//! would be; an idle one never sends anything) and closed at end of file. `stream` (the
//! default) holds them as chapter 11's stream layer does — a `net::Server` whose sockets
//! have a `'data'` and an `'error'` listener, as `bench/node/w8.js` — and `handles` as chapter
//! 9's bare `TcpListener` and `TcpStream`, the floor the stream layer stands on. Once `EXPECTED`
//! connections (default 10,000) are open it prints `accepted <n>` — the moment to read its
//! `VmRSS` in `/proc/<pid>/status` (`examples/idle_client.rs` opens the connections from
//! another process; `scripts/compare-node.sh w8` does both). It runs until killed.
//!
//! The soft descriptor limit is raised to the hard one first: 10,000 connections need
//! 10,000 descriptors.

use std::cell::Cell;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::rc::Rc;

use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::net::{Server, Socket, TcpListener, TcpStream};
use eventloop::sys::socket;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}"));
    let addr: SocketAddr = args
        .next()
        .as_deref()
        .unwrap_or("127.0.0.1:0")
        .parse()
        .map_err(|_| bad("address"))?;
    let expected: usize = args
        .next()
        .as_deref()
        .unwrap_or("10000")
        .parse()
        .map_err(|_| bad("connection count"))?;
    let stream_layer = match args.next().as_deref() {
        None | Some("stream") => true,
        Some("handles") => false,
        Some(_) => return Err(bad("mode (stream or handles)")),
    };
    let (_, hard) = socket::nofile_limit()?;
    socket::set_nofile_soft_limit(hard)?;

    let mut lp = EventLoop::new();
    if stream_layer {
        return serve_streams(&mut lp, addr, expected);
    }
    let open = Rc::new(Cell::new(0usize));
    let listener = TcpListener::listen(&mut lp, addr, 511, move |lp, conn| match conn {
        Ok(conn) => hold(lp, conn, open.clone(), expected),
        Err(e) => eprintln!("accept: {e}"),
    })?;
    println!(
        "listening {} pid={}",
        listener.local_addr(&lp)?,
        std::process::id()
    );
    io::stdout().flush()?;
    lp.run(RunMode::Default);
    Ok(())
}

/// Reads `conn` until end of file, then closes it; says so when `expected` are open.
fn hold(lp: &mut EventLoop, conn: TcpStream, open: Rc<Cell<usize>>, expected: usize) {
    open.set(open.get() + 1);
    if open.get() == expected {
        println!("accepted {expected}");
        let _ = io::stdout().flush();
    }
    let started = conn.read_start(lp, move |lp, data| {
        if matches!(data, Ok(bytes) if !bytes.is_empty()) {
            return; // an idle client sends nothing; ignore it if one does
        }
        open.set(open.get() - 1);
        let _ = conn.close(lp, |_| {});
    });
    if started.is_err() {
        let _ = conn.close(lp, |_| {});
    }
}

/// The same server on the stream layer: Node's `net.createServer` with a `'data'` and an
/// `'error'` listener on each socket (`bench/node/w8.js`, line for line).
fn serve_streams(lp: &mut EventLoop, addr: SocketAddr, expected: usize) -> io::Result<()> {
    let mut accepted = 0; // idle clients never leave while measured
    let server = Server::create(lp, move |lp, socket: Socket| {
        accepted += 1;
        if accepted == expected {
            println!("accepted {expected}");
            let _ = io::stdout().flush();
        }
        socket
            .on_data(lp, |_, _| {}) // an idle client sends nothing
            .on_error(lp, |_, _| {});
    });
    server
        .listen(lp, addr, move |lp| {
            let addr = server.address(lp).expect("listening");
            println!("listening {addr} pid={}", std::process::id());
            let _ = io::stdout().flush();
        })
        .on_error(lp, |_, e| {
            eprintln!("idle_server: {e}");
            std::process::exit(1);
        });
    lp.run(RunMode::Default);
    Ok(())
}
