//! A client for any echo server, written with `async`/`.await` on the crate's loop:
//! N connections at once, each a task doing M sequential round trips — send a message,
//! read until all of it came back, check it, repeat — then closing. Prints round trips per
//! second.
//!
//! `cargo run --release --example async_echo_client [ADDRESS] [CONNECTIONS] [ROUND_TRIPS]
//! [MESSAGE_BYTES]` (defaults: `127.0.0.1:7001`, 100, 1000, 64).
//!
//! Exits with 1 if any connection failed or any echo differed from what was sent.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;

use eventloop::EventLoop;
use eventloop::task::{self, net::AsyncStream};
use futures_io::{AsyncRead, AsyncWrite};

#[allow(dead_code)] // `tests/programs.rs` includes this file and calls `run` directly
fn main() -> io::Result<()> {
    let arg = |n: usize, default: &str| std::env::args().nth(n).unwrap_or(default.into());
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}"));
    let addr: SocketAddr = arg(1, "127.0.0.1:7001")
        .parse()
        .map_err(|_| bad("address"))?;
    let connections: usize = arg(2, "100").parse().map_err(|_| bad("connection count"))?;
    let round_trips: usize = arg(3, "1000")
        .parse()
        .map_err(|_| bad("round trip count"))?;
    let size: usize = arg(4, "64").parse().map_err(|_| bad("message size"))?;
    let mut lp = EventLoop::new();
    let start = Instant::now();
    let outcome = lp
        .block_on(run(addr, connections, round_trips, size))
        .map_err(|e| io::Error::other(e.to_string()))?;
    let secs = start.elapsed().as_secs_f64();
    let report = outcome?;
    println!(
        "{connections} connections x {round_trips} round trips of {size} bytes: {} in \
         {secs:.3} s = {:.0} round trips/s ({} connections failed)",
        report.round_trips,
        report.round_trips as f64 / secs,
        report.failed
    );
    if report.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Round trips whose echo came back whole and equal.
    pub round_trips: usize,
    /// Connections that ended in an error (the first error of each is printed).
    pub failed: usize,
}

// ANCHOR: run
/// Runs `connections` conversations at once against the echo server at `addr` and waits for
/// all of them.
///
/// # Errors
/// Never for a connection's failure (that is counted in the report); the `io::Result` is
/// for the caller's `?`.
pub async fn run(
    addr: SocketAddr,
    connections: usize,
    round_trips: usize,
    size: usize,
) -> io::Result<Report> {
    let conversations: Vec<_> = (0..connections)
        .map(|id| task::spawn(converse(addr, id, round_trips, size)))
        .collect();
    let mut report = Report::default();
    for (id, conversation) in conversations.into_iter().enumerate() {
        match conversation.await {
            Ok(Ok(n)) => report.round_trips += n,
            Ok(Err(e)) => {
                eprintln!("connection {id}: {e}");
                report.failed += 1;
            }
            Err(e) => {
                eprintln!("connection {id}: the task failed: {e}");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// One connection: `round_trips` messages of `size` bytes, each checked, then the end.
async fn converse(
    addr: SocketAddr,
    id: usize,
    round_trips: usize,
    size: usize,
) -> io::Result<usize> {
    let mut conn = task::net::connect(addr).await?;
    let stream = conn.stream();
    task::defer(move |lp| drop(stream.set_nodelay(lp, true)));
    let mut message = vec![0u8; size];
    let mut echo = vec![0u8; size];
    for trip in 0..round_trips {
        // Each message differs, so an echo that is late, early or mixed up is caught.
        for (i, b) in message.iter_mut().enumerate() {
            *b = (id * 31 + trip * 7 + i) as u8;
        }
        write_all(&mut conn, &message).await?;
        read_exact(&mut conn, &mut echo).await?;
        if echo != message {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("round trip {trip}: the echo differs from the message"),
            ));
        }
    }
    // Shut our side down once the last message is out, then close.
    poll_fn(|cx| Pin::new(&mut conn).poll_close(cx)).await?;
    Ok(round_trips)
}
// ANCHOR_END: run

async fn read_exact(conn: &mut AsyncStream, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *conn).poll_read(cx, buf)).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
    }
    Ok(())
}

async fn write_all(conn: &mut AsyncStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *conn).poll_write(cx, data)).await?;
        data = &data[n..];
    }
    Ok(())
}
