//! The tokio peers of `scripts/compare-node.sh`: `w5` (TCP echo) and `spawn` (task spawn
//! cost), on tokio's current-thread runtime with a `LocalSet`, as our loop runs `!Send` tasks.
//!
//! `spawn`: 1,000,000 `spawn_local` tasks, each bumping a counter, run to completion (the
//! `LocalSet` future ends when the last one did) — against `examples/workloads.rs spawn`.
//!
//! W5 on tokio's current-thread runtime: the same echo as `examples/workloads.rs` — a server
//! on 127.0.0.1 and 100 client connections in one process, on one thread, each doing 10,000
//! sequential round trips of 64 bytes; Nagle off on both ends. The clock starts with the first
//! connect (the server already listens) and stops when the last client had its last echo.
//!
//! Same protocol as the other sides: one warm-up run, then `--runs` timed runs (default 5),
//! each on a fresh runtime and server. Prints one line:
//! `w5 ops=<n> median_ms=<ms> ops_per_s=<n>`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONNECTIONS: usize = 100;
const DEFAULT_ROUND_TRIPS: usize = 10_000;
const MESSAGE: usize = 64;
const DEFAULT_RUNS: usize = 5;
/// The read buffer of each connection, either end (ours lends one 64 KiB buffer to every
/// read, Node a slice of a 64 KiB pool).
const READ_BUFFER: usize = 64 * 1024;

/// Echoes everything back until end of file.
async fn echo(mut conn: TcpStream) {
    conn.set_nodelay(true).expect("nodelay");
    let mut buffer = vec![0; READ_BUFFER];
    loop {
        match conn.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// One client's round trips. It reads into a 64 KiB buffer and counts bytes, as the Node and
/// our clients do: `read_exact` into 64 bytes would cost tokio one more `read` per round trip
/// (a full read does not clear its readiness, so the next read says `EAGAIN`).
async fn client(addr: SocketAddr, id: usize, round_trips: usize) {
    let mut conn = TcpStream::connect(addr)
        .await
        .expect("connect to 127.0.0.1");
    conn.set_nodelay(true).expect("nodelay");
    let message = [b'a' + (id % 26) as u8; MESSAGE];
    let mut buffer = vec![0; READ_BUFFER];
    for _ in 0..round_trips {
        conn.write_all(&message).await.expect("write");
        let mut received = 0;
        while received < MESSAGE {
            match conn.read(&mut buffer).await.expect("the echo") {
                0 => panic!("the server closed first"),
                n => received += n,
            }
        }
    }
}

/// Tasks spawned by `spawn`.
const TASKS: u64 = 1_000_000;

/// One `spawn` run on a fresh current-thread runtime.
fn spawn_run() -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let done = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let start = Instant::now();
    let local = tokio::task::LocalSet::new();
    for _ in 0..TASKS {
        let done = done.clone();
        local.spawn_local(async move { done.set(done.get() + 1) });
    }
    runtime.block_on(local); // runs until every spawned task finished
    let elapsed = start.elapsed();
    assert_eq!(done.get(), TASKS, "every task ran");
    elapsed
}

/// One run on a fresh current-thread runtime.
fn run(round_trips: usize) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let addr = listener.local_addr().expect("listening");
        let server = tokio::task::spawn_local(async move {
            loop {
                let (conn, _) = listener.accept().await.expect("accept");
                tokio::task::spawn_local(echo(conn));
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|id| tokio::task::spawn_local(client(addr, id, round_trips)))
            .collect();
        for c in clients {
            c.await.expect("a client finished");
        }
        let elapsed = start.elapsed();
        server.abort();
        elapsed
    })
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    let mid = times.len() / 2;
    let median = if times.len() % 2 == 1 {
        times[mid]
    } else {
        (times[mid - 1] + times[mid]) / 2
    };
    median.as_secs_f64() * 1e3
}

fn main() -> ExitCode {
    let mut runs = DEFAULT_RUNS;
    let mut round_trips = DEFAULT_ROUND_TRIPS;
    let mut workload = "w5";
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "w5" => continue,
            "spawn" => {
                workload = "spawn";
                continue;
            }
            "--runs" => &mut runs,
            "--round-trips" => &mut round_trips,
            _ => {
                eprintln!(
                    "unexpected argument: {arg}\nusage: tokio-peer <w5|spawn> [--runs N] [--round-trips N]"
                );
                return ExitCode::from(2);
            }
        };
        match args.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0) {
            Some(n) => *value = n,
            None => {
                eprintln!("{arg} needs a positive integer");
                return ExitCode::from(2);
            }
        }
    }
    let (ops, mut once): (u64, Box<dyn FnMut() -> Duration>) = match workload {
        "spawn" => (TASKS, Box::new(spawn_run)),
        _ => (
            (CONNECTIONS * round_trips) as u64,
            Box::new(move || run(round_trips)),
        ),
    };
    std::hint::black_box(once()); // warm-up
    let times = (0..runs).map(|_| once()).collect();
    let ms = median_ms(times);
    println!(
        "{workload} ops={ops} median_ms={ms:.1} ops_per_s={}",
        (ops as f64 / (ms / 1e3)).round() as u64
    );
    ExitCode::SUCCESS
}
