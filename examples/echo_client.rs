//! A load generator for `examples/echo_server.rs` (or any echo server): N connections, each
//! doing M sequential round trips of 64 bytes — send, wait for all 64 back, repeat — all on
//! one loop. Prints round trips per second.
//!
//! `cargo run --release --example echo_client [ADDRESS] [CONNECTIONS] [ROUND_TRIPS]`
//! (defaults: `127.0.0.1:7000`, 100, 1000).

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::net::TcpStream;

const MESSAGE: usize = 64;

fn arg<T: std::str::FromStr>(n: usize, default: &str, what: &str) -> io::Result<T> {
    std::env::args()
        .nth(n)
        .as_deref()
        .unwrap_or(default)
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}")))
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = arg(1, "127.0.0.1:7000", "address")?;
    let connections: usize = arg(2, "100", "connection count")?;
    let round_trips: usize = arg(3, "1000", "round trip count")?;
    let mut lp = EventLoop::new();
    let done = Rc::new(Cell::new(0usize));
    let failed = Rc::new(Cell::new(0usize));
    let start = Instant::now();
    for i in 0..connections {
        let (done, failed) = (done.clone(), failed.clone());
        TcpStream::connect(&mut lp, addr, move |lp, conn| match conn {
            Ok(conn) => {
                let _ = conn.set_nodelay(lp, true);
                run_client(lp, conn, i, round_trips, done, failed);
            }
            Err(e) => {
                eprintln!("connect {i}: {e}");
                failed.set(failed.get() + 1);
            }
        })?;
    }
    lp.run(RunMode::Default);
    let secs = start.elapsed().as_secs_f64();
    let total = done.get();
    println!(
        "{connections} connections x {round_trips} round trips of {MESSAGE} bytes: \
         {total} in {secs:.3} s = {:.0} round trips/s ({} connections failed)",
        total as f64 / secs,
        failed.get()
    );
    Ok(())
}

/// One connection's conversation: send, wait for the echo, again, then close.
fn run_client(
    lp: &mut EventLoop,
    conn: TcpStream,
    id: usize,
    round_trips: usize,
    done: Rc<Cell<usize>>,
    failed: Rc<Cell<usize>>,
) {
    let message = [b'a' + (id % 26) as u8; MESSAGE];
    let mut left = round_trips;
    let mut received = 0;
    if left == 0 || conn.write(lp, &message, |_, _| {}).is_err() {
        let _ = conn.close(lp, |_| {});
        return;
    }
    let started = conn.read_start(lp, move |lp, data| match data {
        Ok(bytes) if !bytes.is_empty() => {
            received += bytes.len();
            while received >= MESSAGE {
                received -= MESSAGE;
                left -= 1;
                done.set(done.get() + 1);
                if left == 0 {
                    let _ = conn.close(lp, |_| {});
                    return;
                }
                if conn.write(lp, &message, |_, _| {}).is_err() {
                    return;
                }
            }
        }
        _ => {
            failed.set(failed.get() + 1);
            let _ = conn.close(lp, |_| {});
        }
    });
    if started.is_err() {
        let _ = conn.close(lp, |_| {});
    }
}
