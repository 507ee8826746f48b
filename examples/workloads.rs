//! The Rust side of `scripts/compare-node.sh`: the workloads of `bench/node/*.js`, on our loop.
//!
//! ```text
//! cargo run --release --example workloads -- <w1|w1-sched|w2|w3|w4|w4-async|w4-async-pair|spawn|w5|w5-async|w7a>
//!     [--runs N] [--round-trips N]   (w5, w5-async: round trips per connection, default 10,000)
//! ```
//!
//! - `w1`: 1,000,000 `set_timeout` with delay `i % 100` ms on the system clock, run until all
//!   fired. The wall time includes the ~99 ms the longest delay really waits, as in Node.
//! - `w1-sched`: schedule the same 1,000,000 timeouts, then clear them all — the timer lists
//!   alone, no waiting.
//! - `w2`: a chain of 1,000,000 `set_immediate`, each scheduling the next.
//! - `w3`: a chain of 5,000,000 `next_tick`, each queueing the next (one checkpoint).
//! - `w4`: a chain of 5,000,000 `Promise::resolved(()).then(next)` steps: each handler makes
//!   the next resolved promise and attaches the next handler (one microtask drain).
//! - `w4-async`: one task awaiting 5,000,000 resolved promises in a row, `sum += await
//!   Promise.resolve(i)` — each `.await` one microtask hop, as in Node's async function.
//! - `w4-async-pair`: the same 5,000,000 `.await`s made by two tasks taking turns, so every hop
//!   waits behind the other task's entry in the microtask queue.
//! - `spawn`: 1,000,000 tasks spawned and run to completion (each bumps a counter), against
//!   tokio's `spawn_local` on a `LocalSet` (`bench/tokio`).
//! - `w5-async`: `w5` written with `.await`: the server and the clients are tasks over
//!   `task::net::AsyncStream` (`AsyncRead`/`AsyncWrite`).
//! - `w7a`: 2,000 files of 4 KiB, written once to a fresh temp directory before any timing,
//!   then all read at once with [`fs::read_file`] on the default pool (4 threads, as Node's);
//!   the directory is removed at the end.
//! - `w5`: TCP echo in one process: a server on 127.0.0.1 and 100 client connections on the
//!   same loop, each doing 10,000 sequential round trips of 64 bytes (write, wait until all
//!   64 bytes came back, write again); Nagle off on both ends. The clock starts with the
//!   first connect (the server already listens) and stops at the last echo.
//!
//! One warm-up run, then `--runs` timed runs (default 5), each on a freshly built
//! [`EventLoop`] (built before the clock starts). Prints one machine-readable line:
//! `<workload> ops=<n> median_ms=<ms> ops_per_s=<n>`. This is a measurement program: it reports,
//! it asserts nothing about speed.

use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::fs;
use eventloop::net::{TcpListener, TcpStream};
use eventloop::promise::Promise;
use eventloop::task;
use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;

/// Timeouts scheduled by `w1` and `w1-sched`.
const N_TIMERS: u64 = 1_000_000;
/// Delays run from 0 to `SPREAD_MS - 1` ms.
const SPREAD_MS: u64 = 100;
/// Immediates in the `w2` chain.
const CHAIN_LENGTH: u64 = 1_000_000;
/// Ticks in the `w3` chain, and promise steps in the `w4` chain.
const MICRO_CHAIN_LENGTH: u64 = 5_000_000;
/// Files read by `w7a`, and the size of each.
const N_FILES: usize = 2_000;
const FILE_SIZE: usize = 4096;
/// `w5`: client connections, round trips each, and the size of one message.
const ECHO_CONNECTIONS: usize = 100;
const ECHO_ROUND_TRIPS: usize = 10_000;
const ECHO_MESSAGE: usize = 64;
/// Tasks spawned by `spawn`.
const N_TASKS: u64 = 1_000_000;
/// Timed runs when `--runs` is not given.
const DEFAULT_RUNS: usize = 5;

const USAGE: &str = "usage: workloads \
     <w1|w1-sched|w2|w3|w4|w4-async|w4-async-pair|spawn|w5|w5-async|w7a> \
     [--runs N] [--round-trips N (w5, w5-async)]";

/// `w1`: schedule every timeout, run the loop until all fired.
fn schedule_and_fire() -> Duration {
    let mut lp = EventLoop::new();
    let fired = Rc::new(Cell::new(0u64));
    let start = Instant::now();
    for i in 0..N_TIMERS {
        let fired = fired.clone();
        lp.set_timeout(move |_| fired.set(fired.get() + 1), i % SPREAD_MS);
    }
    lp.run(RunMode::Default);
    let elapsed = start.elapsed();
    assert_eq!(fired.get(), N_TIMERS, "every timeout fires");
    elapsed
}

/// `w1-sched`: schedule every timeout, then clear every one; the loop never runs.
fn schedule_and_clear() -> Duration {
    let mut lp = EventLoop::new();
    let start = Instant::now();
    let timeouts: Vec<_> = (0..N_TIMERS)
        .map(|i| lp.set_timeout(|_| {}, i % SPREAD_MS))
        .collect();
    for timeout in timeouts {
        lp.clear_timeout(timeout);
    }
    let elapsed = start.elapsed();
    assert!(!lp.run(RunMode::NoWait), "nothing is left after clearing");
    elapsed
}

/// `w2`: each immediate schedules the next until the chain is `CHAIN_LENGTH` long.
fn immediate_chain() -> Duration {
    fn step(lp: &mut EventLoop, ran: Rc<Cell<u64>>) {
        ran.set(ran.get() + 1);
        if ran.get() < CHAIN_LENGTH {
            lp.set_immediate(move |lp| step(lp, ran));
        }
    }
    let mut lp = EventLoop::new();
    let ran = Rc::new(Cell::new(0u64));
    let start = Instant::now();
    let first = ran.clone();
    lp.set_immediate(move |lp| step(lp, first));
    lp.run(RunMode::Default);
    let elapsed = start.elapsed();
    assert_eq!(ran.get(), CHAIN_LENGTH, "the whole chain runs");
    elapsed
}

/// `w3`: each tick queues the next; the chain runs in the checkpoint after the main script.
fn tick_chain() -> Duration {
    fn step(lp: &mut EventLoop, ran: Rc<Cell<u64>>) {
        ran.set(ran.get() + 1);
        if ran.get() < MICRO_CHAIN_LENGTH {
            lp.next_tick(move |lp| step(lp, ran));
        }
    }
    let mut lp = EventLoop::new();
    let ran = Rc::new(Cell::new(0u64));
    let first = ran.clone();
    let start = Instant::now();
    lp.run_main(move |lp| lp.next_tick(move |lp| step(lp, first)))
        .expect("the chain ends normally");
    let elapsed = start.elapsed();
    assert_eq!(ran.get(), MICRO_CHAIN_LENGTH, "the whole chain runs");
    elapsed
}

/// `w4`: each step makes the next resolved promise and attaches the next step to it.
fn promise_chain() -> Duration {
    fn step(lp: &mut EventLoop, ran: Rc<Cell<u64>>) {
        ran.set(ran.get() + 1);
        if ran.get() < MICRO_CHAIN_LENGTH {
            Promise::resolved(()).then(lp, move |lp, ()| step(lp, ran));
        }
    }
    let mut lp = EventLoop::new();
    let ran = Rc::new(Cell::new(0u64));
    let first = ran.clone();
    let start = Instant::now();
    lp.run_main(move |lp| {
        Promise::resolved(()).then(lp, move |lp, ()| step(lp, first));
    })
    .expect("the chain ends normally");
    let elapsed = start.elapsed();
    assert_eq!(ran.get(), MICRO_CHAIN_LENGTH, "the whole chain runs");
    elapsed
}

/// `w5`'s server side: echoes every chunk back; closes the connection at end of file.
fn echo_connection(lp: &mut EventLoop, conn: TcpStream) {
    let _ = conn.set_nodelay(lp, true);
    let started = conn.read_start(lp, move |lp, data| match data {
        Ok(bytes) if !bytes.is_empty() => drop(conn.send(lp, bytes)),
        _ => drop(conn.close(lp, |_| {})),
    });
    if started.is_err() {
        let _ = conn.close(lp, |_| {});
    }
}

/// What `w5`'s clients share: how many are still talking, and when the last one finished.
struct EchoRun {
    round_trips: usize,
    clients_left: Cell<usize>,
    finished: Cell<Option<Instant>>,
    listener: TcpListener,
}

/// `w5`'s client side: `run.round_trips` sequential round trips, then close; the last
/// client to finish stops the clock and closes the listener.
fn echo_client(lp: &mut EventLoop, conn: TcpStream, id: usize, run: Rc<EchoRun>) {
    let _ = conn.set_nodelay(lp, true);
    let message = [b'a' + (id % 26) as u8; ECHO_MESSAGE];
    let mut left = run.round_trips;
    let mut received = 0;
    conn.send(lp, &message).expect("just connected");
    conn.read_start(lp, move |lp, data| {
        let bytes = data.expect("the echo server answers");
        assert!(!bytes.is_empty(), "the server closed first");
        received += bytes.len();
        while received >= ECHO_MESSAGE {
            received -= ECHO_MESSAGE;
            left -= 1;
            if left == 0 {
                let _ = conn.close(lp, |_| {});
                run.clients_left.set(run.clients_left.get() - 1);
                if run.clients_left.get() == 0 {
                    run.finished.set(Some(Instant::now()));
                    let _ = run.listener.close(lp, |_| {});
                }
                return;
            }
            conn.send(lp, &message).expect("open");
        }
    })
    .expect("open");
}

/// `w5`: one loop, one echo server, `ECHO_CONNECTIONS` clients of `round_trips` each.
fn echo_round_trips(round_trips: usize) -> Duration {
    let mut lp = EventLoop::new();
    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    let listener = TcpListener::listen(&mut lp, any_port, 511, |lp, conn| {
        echo_connection(lp, conn.expect("accept"))
    })
    .expect("listen on 127.0.0.1");
    let addr = listener.local_addr(&lp).expect("listening");
    let run = Rc::new(EchoRun {
        round_trips,
        clients_left: Cell::new(ECHO_CONNECTIONS),
        finished: Cell::new(None),
        listener,
    });
    let start = Instant::now();
    for id in 0..ECHO_CONNECTIONS {
        let run = run.clone();
        TcpStream::connect(&mut lp, addr, move |lp, conn| {
            echo_client(lp, conn.expect("connect to 127.0.0.1"), id, run)
        })
        .expect("a socket");
    }
    lp.run(RunMode::Default);
    let finished = run.finished.get().expect("every client finished");
    finished - start
}

/// `w4-async`: one task, 5,000,000 `.await`s of resolved promises.
fn await_chain() -> Duration {
    let mut lp = EventLoop::new();
    let start = Instant::now();
    let sum = lp
        .block_on(async {
            let mut sum = 0u64;
            for i in 0..MICRO_CHAIN_LENGTH {
                sum += Promise::resolved(i).await.expect("fulfilled");
            }
            sum
        })
        .expect("the task finishes");
    let elapsed = start.elapsed();
    assert_eq!(sum, MICRO_CHAIN_LENGTH * (MICRO_CHAIN_LENGTH - 1) / 2);
    elapsed
}

/// `w4-async-pair`: the 5,000,000 `.await`s made by two tasks taking turns, so every hop
/// waits behind the other task's entry in the microtask queue (none can be taken in place).
fn await_pair() -> Duration {
    async fn awaits(n: u64) -> u64 {
        let mut sum = 0u64;
        for i in 0..n {
            sum += Promise::resolved(i).await.expect("fulfilled");
        }
        sum
    }
    let mut lp = EventLoop::new();
    let half = MICRO_CHAIN_LENGTH / 2;
    let start = Instant::now();
    let (a, b) = lp
        .block_on(async move {
            let a = task::spawn(awaits(half));
            let b = task::spawn(awaits(half));
            (a.await.expect("a"), b.await.expect("b"))
        })
        .expect("the task finishes");
    let elapsed = start.elapsed();
    assert_eq!((a, b), (half * (half - 1) / 2, half * (half - 1) / 2));
    elapsed
}

/// `spawn`: 1,000,000 tasks spawned from the main script, each run to completion.
fn spawn_many() -> Duration {
    let mut lp = EventLoop::new();
    let done = Rc::new(Cell::new(0u64));
    let d = done.clone();
    let start = Instant::now();
    lp.run_main(move |lp| {
        for _ in 0..N_TASKS {
            let d = d.clone();
            lp.spawn(async move { d.set(d.get() + 1) }).detach();
        }
    })
    .expect("the tasks end normally");
    let elapsed = start.elapsed();
    assert_eq!(done.get(), N_TASKS, "every task ran");
    elapsed
}

/// Reads into `buf` from an async stream: one future, as `futures::AsyncReadExt::read`
/// (and tokio's `read`, which the tokio peer uses) is.
fn read_some<'a>(
    r: &'a mut task::net::AsyncStream,
    buf: &'a mut [u8],
) -> impl Future<Output = std::io::Result<usize>> + 'a {
    poll_fn(move |cx| Pin::new(&mut *r).poll_read(cx, buf))
}

/// Writes all of `data` to an async stream: one future that loops inside its poll, as
/// `futures::AsyncWriteExt::write_all` (and tokio's `write_all`) is.
fn write_all<'a>(
    w: &'a mut task::net::AsyncStream,
    mut data: &'a [u8],
) -> impl Future<Output = std::io::Result<()>> + 'a {
    poll_fn(move |cx| {
        while !data.is_empty() {
            match Pin::new(&mut *w).poll_write(cx, data) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => data = &data[n..],
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    })
}

/// `w5-async`'s server side: one task per connection, echoing until end of file.
async fn echo_task(mut conn: task::net::AsyncStream) {
    let mut buf = vec![0; 64 * 1024];
    task::defer({
        let stream = conn.stream();
        move |lp| drop(stream.set_nodelay(lp, true))
    });
    loop {
        match read_some(&mut conn, &mut buf).await {
            Ok(0) | Err(_) => return, // dropping the stream closes it
            Ok(n) => {
                if write_all(&mut conn, &buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// `w5-async`'s client side: sequential round trips, then close.
async fn echo_client_task(addr: SocketAddr, id: usize, round_trips: usize) {
    let mut conn = task::net::connect(addr)
        .await
        .expect("connect to 127.0.0.1");
    task::defer({
        let stream = conn.stream();
        move |lp| drop(stream.set_nodelay(lp, true))
    });
    let message = [b'a' + (id % 26) as u8; ECHO_MESSAGE];
    let mut buf = vec![0; 64 * 1024];
    for _ in 0..round_trips {
        write_all(&mut conn, &message).await.expect("write");
        let mut received = 0;
        while received < ECHO_MESSAGE {
            match read_some(&mut conn, &mut buf).await.expect("the echo") {
                0 => panic!("the server closed first"),
                n => received += n,
            }
        }
    }
}

/// `w5-async`: `w5` with tasks over `AsyncRead`/`AsyncWrite`.
fn echo_round_trips_async(round_trips: usize) -> Duration {
    let mut lp = EventLoop::new();
    let any_port: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    let mut incoming = task::net::listen(&mut lp, any_port).expect("listen on 127.0.0.1");
    let addr = incoming.local_addr();
    let start = Instant::now();
    let elapsed = lp
        .block_on(async move {
            let server = task::spawn(async move {
                while let Some(conn) = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await {
                    task::spawn(echo_task(conn.expect("accept"))).detach();
                }
            });
            let clients: Vec<_> = (0..ECHO_CONNECTIONS)
                .map(|id| task::spawn(echo_client_task(addr, id, round_trips)))
                .collect();
            for client in clients {
                client.await.expect("a client finished");
            }
            let elapsed = start.elapsed();
            server.abort(); // drops the listener
            elapsed
        })
        .expect("the run finishes");
    lp.run(RunMode::Default); // let the servers' connections close
    elapsed
}

/// `w7a`'s files, in a directory of their own that is removed on drop.
struct Files {
    dir: PathBuf,
    paths: Vec<PathBuf>,
}

impl Files {
    fn create() -> std::io::Result<Files> {
        let dir = std::env::temp_dir().join(format!("w7a-ours-{}", std::process::id()));
        std::fs::create_dir(&dir)?;
        let mut files = Files {
            dir,
            paths: Vec::with_capacity(N_FILES),
        };
        let data = vec![b'x'; FILE_SIZE];
        for i in 0..N_FILES {
            let path = files.dir.join(format!("f{i:04}"));
            std::fs::write(&path, &data)?;
            files.paths.push(path);
        }
        Ok(files)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `w7a`: start every read at once; run the loop until the last callback.
fn read_all(files: &Files) -> Duration {
    let mut lp = EventLoop::new();
    let read = Rc::new(Cell::new(0usize));
    let start = Instant::now();
    for path in &files.paths {
        let read = read.clone();
        fs::read_file(&mut lp, path, move |_, data| {
            let data = data.expect("the file was written before");
            assert_eq!(data.len(), FILE_SIZE);
            read.set(read.get() + 1);
        });
    }
    lp.run(RunMode::Default);
    let elapsed = start.elapsed();
    assert_eq!(read.get(), N_FILES, "every file is read");
    elapsed
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

/// What the command line asks for.
struct Args {
    workload: String,
    runs: usize,
    /// `w5` only: round trips per connection.
    round_trips: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut workload = None;
    let mut runs = DEFAULT_RUNS;
    let mut round_trips = ECHO_ROUND_TRIPS;
    let mut args = std::env::args().skip(1);
    let positive = |args: &mut std::iter::Skip<std::env::Args>, flag: &str| {
        args.next()
            .and_then(|n| n.parse().ok())
            .filter(|&n| n > 0)
            .ok_or(format!("{flag} needs a positive integer"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = positive(&mut args, "--runs")?,
            "--round-trips" => round_trips = positive(&mut args, "--round-trips")?,
            "w1" | "w1-sched" | "w2" | "w3" | "w4" | "w4-async" | "w4-async-pair" | "spawn"
            | "w5" | "w5-async" | "w7a"
                if workload.is_none() =>
            {
                workload = Some(arg)
            }
            _ => return Err(format!("unexpected argument: {arg}")),
        }
    }
    Ok(Args {
        workload: workload.ok_or("which workload?")?,
        runs,
        round_trips,
    })
}

fn main() -> ExitCode {
    let Args {
        workload,
        runs,
        round_trips,
    } = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let files;
    let (mut run_once, ops): (Box<dyn FnMut() -> Duration>, u64) = match workload.as_str() {
        "w1" => (Box::new(schedule_and_fire), N_TIMERS),
        "w1-sched" => (Box::new(schedule_and_clear), N_TIMERS),
        "w2" => (Box::new(immediate_chain), CHAIN_LENGTH),
        "w3" => (Box::new(tick_chain), MICRO_CHAIN_LENGTH),
        "w4" => (Box::new(promise_chain), MICRO_CHAIN_LENGTH),
        "w4-async" => (Box::new(await_chain), MICRO_CHAIN_LENGTH),
        "w4-async-pair" => (Box::new(await_pair), MICRO_CHAIN_LENGTH),
        "spawn" => (Box::new(spawn_many), N_TASKS),
        "w5-async" => (
            Box::new(move || echo_round_trips_async(round_trips)),
            (ECHO_CONNECTIONS * round_trips) as u64,
        ),
        "w5" => (
            Box::new(move || echo_round_trips(round_trips)),
            (ECHO_CONNECTIONS * round_trips) as u64,
        ),
        _ => {
            files = match Files::create() {
                Ok(files) => files,
                Err(e) => {
                    eprintln!("w7a: cannot write the files to read: {e}");
                    return ExitCode::FAILURE;
                }
            };
            (Box::new(|| read_all(&files)), N_FILES as u64)
        }
    };
    black_box(run_once()); // warm-up: page faults, allocator arenas, caches
    let times: Vec<Duration> = (0..runs).map(|_| black_box(run_once())).collect();
    let ms = median_ms(times);
    println!(
        "{workload} ops={ops} median_ms={ms:.1} ops_per_s={}",
        (ops as f64 / (ms / 1e3)).round() as u64
    );
    ExitCode::SUCCESS
}
