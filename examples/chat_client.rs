//! The chat measurement's load: many clients in one process, on the crate's loop, against
//! `examples/chat_server.rs` or its Node peer `bench/node/chat_server.js` (same protocol).
//!
//! ```text
//! cargo run --release --example chat_client -- ADDRESS SERVER_PID [CLIENTS] [SENDERS] [LINES]
//! ```
//!
//! (defaults: 1,000 clients, 10 senders, 100 lines each.) First every client connects (100
//! at a time) and waits until it was welcomed and told of every client that joined after
//! it: the room is full and quiet. Then each sender writes its lines, 48 bytes of text each,
//! in one go, and the clock runs until every client received every line of every other
//! sender — a *delivery* is one line reaching one client. Prints one line:
//!
//! ```text
//! chat clients=1000 senders=10 lines=100 deliveries=999000 secs=1.234 deliveries_per_s=809000
//!      rss_start_kb=... rss_full_kb=... rss_peak_kb=...
//! ```
//!
//! The server's memory is read from `/proc/SERVER_PID/status`: before the first connection
//! (`VmRSS`), with the room full and quiet (`VmRSS`), and its peak at the end (`VmHWM`).
//! The server must be fresh: the client counts on the names `guest-1`, `guest-2`, … in
//! order of arrival.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::net::TcpStream;
use eventloop::sys::socket;

/// Connections in flight at once: the listen backlog (511) is never overrun.
const CONNECTING_AT_ONCE: usize = 100;

struct Load {
    addr: SocketAddr,
    clients: usize,
    senders: usize,
    lines: usize,
    /// Clients started so far, and clients whose room is full and quiet.
    started: Cell<usize>,
    ready: Cell<usize>,
    /// Clients that received every line they were owed.
    done: Cell<usize>,
    deliveries: Cell<usize>,
    streams: RefCell<Vec<TcpStream>>,
    sending_since: Cell<Option<Instant>>,
    finished_after: Cell<Option<f64>>,
    rss_full_kb: Cell<u64>,
    pid: u32,
}

/// One client's view of what it read.
#[derive(Default)]
struct Seen {
    partial: Vec<u8>,
    /// Its number in the room (`guest-N`), once welcomed.
    number: Option<usize>,
    joins: usize,
    lines: usize,
    ready: bool,
    done: bool,
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("bad {what}"));
    let addr: SocketAddr = args
        .next()
        .ok_or_else(|| bad("address (none given)"))?
        .parse()
        .map_err(|_| bad("address"))?;
    let pid: u32 = args
        .next()
        .ok_or_else(|| bad("server pid (none given)"))?
        .parse()
        .map_err(|_| bad("server pid"))?;
    let mut number = |default: usize, what: &str| -> io::Result<usize> {
        args.next()
            .map_or(Ok(default), |v| v.parse().map_err(|_| bad(what)))
    };
    let clients = number(1000, "client count")?;
    let senders = number(10, "sender count")?.min(clients);
    let lines = number(100, "line count")?;
    let (_, hard) = socket::nofile_limit()?;
    socket::set_nofile_soft_limit(hard)?;

    let rss_start_kb = memory(pid, "VmRSS")?;
    let load = Rc::new(Load {
        addr,
        clients,
        senders,
        lines,
        started: Cell::new(0),
        ready: Cell::new(0),
        done: Cell::new(0),
        deliveries: Cell::new(0),
        streams: RefCell::new(Vec::with_capacity(clients)),
        sending_since: Cell::new(None),
        finished_after: Cell::new(None),
        rss_full_kb: Cell::new(0),
        pid,
    });
    let mut lp = EventLoop::new();
    for _ in 0..CONNECTING_AT_ONCE.min(clients) {
        start_client(&mut lp, &load)?;
    }
    lp.run(RunMode::Default);
    let Some(secs) = load.finished_after.get() else {
        return Err(io::Error::other(format!(
            "the load did not finish: {} of {clients} clients ready, {} done",
            load.ready.get(),
            load.done.get()
        )));
    };
    let deliveries = load.deliveries.get();
    println!(
        "chat clients={clients} senders={senders} lines={lines} deliveries={deliveries} \
         secs={secs:.3} deliveries_per_s={:.0} rss_start_kb={rss_start_kb} rss_full_kb={} \
         rss_peak_kb={}",
        deliveries as f64 / secs,
        load.rss_full_kb.get(),
        memory(pid, "VmHWM")?
    );
    Ok(())
}

/// A field of `/proc/PID/status`, in KiB.
fn memory(pid: u32, field: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .ok_or_else(|| io::Error::other(format!("no {field} for process {pid}")))
}

/// Connects the next client; when it is connected, the next one after it starts.
fn start_client(lp: &mut EventLoop, load: &Rc<Load>) -> io::Result<()> {
    let index = load.started.get();
    if index == load.clients {
        return Ok(());
    }
    load.started.set(index + 1);
    let load = load.clone();
    TcpStream::connect(lp, load.addr, move |lp, conn| {
        let conn = conn.unwrap_or_else(|e| panic!("client {index}: connect: {e}"));
        load.streams.borrow_mut().push(conn);
        let mut seen = Seen::default();
        let l = load.clone();
        conn.read_start(lp, move |lp, data| match data {
            Ok(bytes) if !bytes.is_empty() => on_read(lp, &l, &mut seen, bytes),
            Ok(_) => panic!("client {index}: the server closed the connection"),
            Err(e) => panic!("client {index}: {e}"),
        })
        .expect("a connected stream reads");
        start_client(lp, &load).expect("connect the next client");
    })?;
    Ok(())
}

/// Counts the lines that arrived; the last client to be ready starts the senders, the last
/// to be done stops the clock and closes everything.
fn on_read(lp: &mut EventLoop, load: &Rc<Load>, seen: &mut Seen, bytes: &[u8]) {
    seen.partial.extend_from_slice(bytes);
    let mut start = 0;
    while let Some(end) = seen.partial[start..].iter().position(|&b| b == b'\n') {
        let line = &seen.partial[start..start + end];
        if line.starts_with(b"guest-") {
            seen.lines += 1;
        } else if line.starts_with(b"* guest-") && line.ends_with(b" joined") {
            seen.joins += 1;
        } else if let Some(name) = line.strip_prefix(b"welcome guest-") {
            seen.number = std::str::from_utf8(name).ok().and_then(|n| n.parse().ok());
        }
        start += end + 1;
    }
    seen.partial.drain(..start);
    let Some(number) = seen.number else { return };
    if !seen.ready && seen.joins == load.clients - number {
        seen.ready = true;
        load.ready.set(load.ready.get() + 1);
        if load.ready.get() == load.clients {
            send(lp, load);
        }
    }
    let owed = load.senders * load.lines
        - if number <= load.senders {
            load.lines
        } else {
            0
        };
    if seen.ready && !seen.done && seen.lines == owed {
        seen.done = true;
        load.deliveries.set(load.deliveries.get() + owed);
        load.done.set(load.done.get() + 1);
        if load.done.get() == load.clients {
            let since = load.sending_since.get().expect("the senders started");
            load.finished_after.set(Some(since.elapsed().as_secs_f64()));
            for conn in load.streams.borrow_mut().drain(..) {
                let _ = conn.close(lp, |_| {});
            }
        }
    }
}

/// The room is full and quiet: note the server's memory, then every sender writes its
/// lines at once. Senders are the first clients to join (`guest-1` …).
fn send(lp: &mut EventLoop, load: &Rc<Load>) {
    load.rss_full_kb
        .set(memory(load.pid, "VmRSS").expect("the server is alive"));
    load.sending_since.set(Some(Instant::now()));
    let streams = load.streams.borrow().clone();
    for (sender, conn) in streams.iter().enumerate().take(load.senders) {
        let mut text = Vec::with_capacity(load.lines * 49);
        for line in 0..load.lines {
            text.extend_from_slice(
                format!("{sender:>4} says line {line:>6} {:.<25}\n", "").as_bytes(),
            );
        }
        conn.write(lp, &text, |_, r| r.expect("a sender's lines are written"))
            .expect("a sender writes");
    }
}
