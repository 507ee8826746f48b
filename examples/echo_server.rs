//! An echo server on the crate's loop: every byte a client sends comes back.
//!
//! `cargo run --release --example echo_server [ADDRESS]` (default `127.0.0.1:7000`); load it
//! with `examples/echo_client.rs`. It shows backpressure: when a client sends faster than it
//! reads, the server stops reading from it until its write queue drains.

use std::io;
use std::net::SocketAddr;

use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::net::{TcpListener, TcpStream};

/// Stop reading from a client once this much echo waits to be sent to it.
const HIGH_WATER: usize = 1 << 20;

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:7000")
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let mut lp = EventLoop::new();
    let listener = TcpListener::listen(&mut lp, addr, 511, |lp, conn| match conn {
        Ok(conn) => {
            let _ = conn.set_nodelay(lp, true);
            echo(lp, conn);
        }
        Err(e) => eprintln!("accept: {e}"),
    })?;
    println!("echo server listening on {}", listener.local_addr(&lp)?);
    lp.run(RunMode::Default);
    Ok(())
}

// ANCHOR: echo
/// Reads from `conn` and writes everything back; pauses while too much waits to be sent.
fn echo(lp: &mut EventLoop, conn: TcpStream) {
    let started = conn.read_start(lp, move |lp, data| match data {
        Ok(bytes) if !bytes.is_empty() => {
            if conn.write(lp, bytes, |_, _| {}).is_err() {
                return; // closed meanwhile
            }
            if conn.write_queue_size(lp) > HIGH_WATER {
                let _ = conn.read_stop(lp);
                let _ = conn.on_drain(lp, move |lp| echo(lp, conn));
            }
        }
        // End of file or an error (a reset): this client is done.
        _ => drop(conn.close(lp, |_| {})),
    });
    if started.is_err() {
        let _ = conn.close(lp, |_| {});
    }
}
// ANCHOR_END: echo
