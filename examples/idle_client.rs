//! W8's client: opens N idle TCP connections to a server in another process and holds them.
//!
//! ```text
//! cargo run --release --example idle_client -- ADDRESS [CONNECTIONS] [HOLD_SECS]
//! ```
//!
//! Connects `CONNECTIONS` times (default 10,000) to `ADDRESS`, one after the other with
//! plain blocking sockets (no loop needed: nothing is ever sent), prints
//! `connected <n>`, then holds them open for `HOLD_SECS` (default 120) — or until killed,
//! as `scripts/compare-node.sh w8` does once it has measured — and exits, closing them all.
//! The soft descriptor limit is raised to the hard one first.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use eventloop::sys::socket;

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}"));
    let addr: SocketAddr = args
        .next()
        .ok_or_else(|| bad("address (none given)"))?
        .parse()
        .map_err(|_| bad("address"))?;
    let count: usize = args
        .next()
        .as_deref()
        .unwrap_or("10000")
        .parse()
        .map_err(|_| bad("connection count"))?;
    let hold_secs: u64 = args
        .next()
        .as_deref()
        .unwrap_or("120")
        .parse()
        .map_err(|_| bad("hold time"))?;
    let (_, hard) = socket::nofile_limit()?;
    socket::set_nofile_soft_limit(hard)?;

    let mut connections = Vec::with_capacity(count);
    for i in 0..count {
        let conn = TcpStream::connect(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("connection {i}: {e}")))?;
        connections.push(conn);
    }
    println!("connected {count}");
    io::stdout().flush()?;

    std::thread::sleep(Duration::from_secs(hold_secs));
    drop(connections);
    Ok(())
}
