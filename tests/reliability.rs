//! The reliability suite: fault and load tests of the loop and its TCP layer, each printing
//! the figure it measured (`--nocapture` shows them).
//!
//! - **Concurrent echo connections**: every byte comes back, the descriptors go back to
//!   the baseline, and the server's resident memory per open connection is measured. The
//!   server runs in a fresh child process, so its figures are its own (not pages that
//!   earlier tests left to the allocator).
//! - **A storm of misbehaving peers**: connections that reset, half-close, vanish, or
//!   vanish while a large write waits. Nothing panics, every error reaches a callback
//!   exactly once, nothing is left open.
//! - **Accept at the descriptor limit**: in a child process whose limit is used up, bursts
//!   of clients are dropped (libuv's `EMFILE` trick), the loop idles at the limit without
//!   spinning (poll phases counted, CPU ticks read from `/proc/thread-self/stat`), and it
//!   serves again as soon as two descriptors come free.
//! - **Steady echo load**: round trips of random sizes for a while; resident memory stays
//!   flat.
//!
//! The timer structures' randomized model tests are in `tests/timer_models.rs`.
//!
//! `cargo test` runs a short version of each (500 connections, 100 storm cycles, 2 rounds
//! at the limit, 2 s of load). The long version — 10,000 connections, 1,000 cycles, 20
//! rounds, 60 s of load, 100,000 model operations per seed — is `scripts/reliability.sh`,
//! and the README's "Reliability" section has its latest figures.
//!
//! The assertions are counts, equalities, and bounds with wide margins (memory, poll
//! phases, CPU while idle); none is about speed. Every wait has a bound: a watchdog per test
//! (see `tests/common`), time limits on every blocking socket call, and a bounded wait for
//! each child process, which is killed (and its output shown) if it hangs.

use eventloop::uv::Uv;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::{self, Read, Seek, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use eventloop::Ref;
use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::net::{self, Buffer, TcpListener, TcpStream};
use eventloop::sys::socket;
use eventloop::trace::{Phase, TraceEvent};

mod common;
use common::{Watchdog, XorShift, trail};

// ---------------------------------------------------------------------------------------
// The tests: a short version for `cargo test`, the long one for `scripts/reliability.sh`.

#[test]
fn concurrent_echo_connections_get_every_byte_back_and_leave_no_descriptor() {
    concurrent_echo(500);
}

#[test]
fn a_storm_of_resets_half_closes_and_vanishing_peers_leaves_nothing_behind() {
    storm(100);
}

#[test]
fn at_the_descriptor_limit_the_server_keeps_serving_without_spinning() {
    descriptor_limit(AtTheLimit {
        rounds: 2,
        burst: 5,
        idle: Duration::from_millis(100),
    });
}

#[test]
fn steady_echo_load_keeps_resident_memory_flat() {
    steady_load(Load {
        duration: Duration::from_secs(2),
        connections: 16,
        sample_every: Duration::from_millis(100),
    });
}

mod long {
    use super::*;

    #[test]
    #[ignore = "long: scripts/reliability.sh"]
    fn ten_thousand_concurrent_echo_connections() {
        concurrent_echo(10_000);
    }

    #[test]
    #[ignore = "long: scripts/reliability.sh"]
    fn a_thousand_cycle_storm() {
        storm(1000);
    }

    #[test]
    #[ignore = "long: scripts/reliability.sh"]
    fn twenty_rounds_at_the_descriptor_limit() {
        descriptor_limit(AtTheLimit {
            rounds: 20,
            burst: 50,
            idle: Duration::from_secs(1),
        });
    }

    #[test]
    #[ignore = "long: scripts/reliability.sh"]
    fn sixty_seconds_of_steady_echo_load() {
        steady_load(Load {
            duration: Duration::from_secs(60),
            connections: 64,
            sample_every: Duration::from_secs(1),
        });
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// Sockets, descriptor counts, limits and memory figures are process-wide: one test at a
/// time (the watchdog's trail is shared too).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The running test's name, as the harness knows it (`long::…` for the long ones).
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("reliability")
        .to_string()
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Descriptors this process has open now.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .expect("/proc/self/fd")
}

/// This process's resident memory in bytes (`VmRSS`).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

/// Makes room for `needed` open descriptors: raises the soft limit to the hard one when
/// the soft one is lower. False, with the reason printed, when even the hard limit is too
/// low: the test is skipped, not failed.
fn descriptors_for(needed: u64) -> bool {
    let (soft, hard) = socket::nofile_limit().expect("getrlimit");
    if soft >= needed {
        return true;
    }
    if hard < needed {
        println!(
            "SKIPPED: needs {needed} open descriptors, the hard limit is {hard} \
             (raise it with `ulimit -Hn` as root)"
        );
        return false;
    }
    socket::set_nofile_soft_limit(hard).expect("setrlimit up to the hard limit");
    true
}

/// A pattern that differs from connection to connection and from byte to byte.
fn payload(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| (seed * 31 + j * 7 + j / 251) as u8)
        .collect()
}

/// Prints a figure; a child process marks it, so its parent can print it again.
fn figure(text: impl std::fmt::Display) {
    println!("FIGURE {text}");
}

/// The test binary again, running only `test`, with `var` set in its environment: how a
/// test gets a process of its own (its own descriptor limit, its own memory figures). Its
/// output is read to the end in two threads; a line `READY <text>` on its standard output
/// is also handed over at once (see [`ready`](Self::ready)).
struct ChildRun {
    child: std::process::Child,
    readers: Vec<std::thread::JoinHandle<Vec<u8>>>,
    ready: std::sync::mpsc::Receiver<String>,
}

/// How a child process ended.
struct ChildOutput {
    test: String,
    status: Option<std::process::ExitStatus>,
    stdout: String,
    stderr: String,
}

impl ChildRun {
    fn spawn(test: &str, var: &str, value: String) -> ChildRun {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                test,
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(var, value)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start the test binary again");
        let (ready_tx, ready) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let readers = vec![
            std::thread::spawn(move || {
                let mut stdout = io::BufReader::new(stdout);
                let mut text = Vec::new();
                loop {
                    let start = text.len();
                    match io::BufRead::read_until(&mut stdout, b'\n', &mut text) {
                        Ok(0) | Err(_) => return text,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&text[start..]);
                            if let Some(at) = line.find("READY ") {
                                let _ = ready_tx.send(line[at + 6..].trim_end().to_string());
                            }
                        }
                    }
                }
            }),
            std::thread::spawn(move || {
                let mut text = Vec::new();
                let _ = { stderr }.read_to_end(&mut text);
                text
            }),
        ];
        ChildRun {
            child,
            readers,
            ready,
        }
    }

    /// The text of the child's `READY` line, once it printed it (at most `bound` later);
    /// `None` if it ended or hung first.
    fn ready(&self, bound: Duration) -> Option<String> {
        self.ready.recv_timeout(bound).ok()
    }

    /// The exit status, if the child has ended.
    fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits at most `bound` for the child to end; kills it if it is still running then.
    fn finish(mut self, test: &str, bound: Duration) -> ChildOutput {
        let deadline = Instant::now() + bound;
        let status = loop {
            if let Some(status) = self.try_wait() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let [stdout, stderr]: [String; 2] = self
            .readers
            .into_iter()
            .map(|r| String::from_utf8_lossy(&r.join().unwrap()).into_owned())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        ChildOutput {
            test: test.to_string(),
            status,
            stdout,
            stderr,
        }
    }
}

impl ChildOutput {
    /// Fails, showing the child's output, unless it ended well and printed `ok_line`.
    #[track_caller]
    fn assert_ok(&self, ok_line: &str) {
        let ok = self.status.is_some_and(|s| s.success()) && self.stdout.contains(ok_line);
        assert!(
            ok,
            "the child process of {} {}:\n{}{}",
            self.test,
            match self.status {
                None => "hung and was killed".to_string(),
                Some(s) => format!("failed ({s})"),
            },
            indent(&self.stdout),
            indent(&self.stderr)
        );
    }

    /// Prints the child's figures again, in this process's output.
    fn print_figures(&self) {
        for line in self.stdout.lines() {
            if let Some(at) = line.find("FIGURE ") {
                figure(&line[at + 7..]);
            }
        }
    }
}

/// Every line of `text`, indented under a `child>` marker.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  child> {l}\n")).collect()
}

// ---------------------------------------------------------------------------------------
// Concurrent echo connections.

/// The child process that runs the server of [`concurrent_echo`].
const ECHO_SERVER: &str = "RELIABILITY_ECHO_SERVER";
/// Bytes each connection sends, and must get back.
const ECHO_LEN: usize = 4096;
/// Connects in flight at once: more would overflow the listen backlog and wait for SYN
/// retransmissions (a second or more each); the connections already up stay open.
const CONNECT_WINDOW: usize = 256;

/// The clients, in this process: each connects, sends `ECHO_LEN` bytes and checks what
/// comes back; all stay open until every one is checked, then all close. The server runs
/// in a child process, a fresh one, so that its resident memory is its own and not pages
/// that earlier tests left to the allocator.
fn concurrent_echo(connections: usize) {
    if std::env::var_os(ECHO_SERVER).is_some() {
        echo_server_child(connections);
        return;
    }
    let test = current_test();
    let _guard = serial();
    let bound = Duration::from_secs(60 + connections as u64 / 50);
    let _watchdog = Watchdog::new(&test, bound + Duration::from_secs(10));
    // Both processes need a descriptor per connection.
    if !descriptors_for(connections as u64 + 256) {
        return;
    }
    let fds_before = open_fds();
    let server = ChildRun::spawn(&test, ECHO_SERVER, "1".into());
    let Some(addr) = server.ready(Duration::from_secs(30)) else {
        server.finish(&test, bound).assert_ok("echo server: ok");
        unreachable!("the server child ended without listening");
    };
    let addr: SocketAddr = addr.parse().unwrap();
    trail(format!("the server listens on {addr}"));

    let mut lp = EventLoop::new();
    let clients = Rc::new(Clients {
        addr,
        connections,
        next: Cell::new(0),
        verified: Cell::new(0),
        open: RefCell::new(Vec::with_capacity(connections)),
        failure: RefCell::new(None),
    });
    for _ in 0..CONNECT_WINDOW.min(connections) {
        connect_next(&mut lp, &clients);
    }
    // If the server fails, nothing more will come: a look every 100 ms stops the loop then,
    // and the child's output says why.
    let server = Rc::new(RefCell::new(Some(server)));
    let s = server.clone();
    let watch = lp
        .set_interval(
            move |lp| {
                let ended = s.borrow_mut().as_mut().and_then(ChildRun::try_wait);
                if ended.is_some_and(|s| !s.success()) {
                    lp.stop();
                }
            },
            100,
        )
        .unref(&mut lp);
    let started = Instant::now();
    lp.run(RunMode::Default);
    let elapsed = started.elapsed();
    lp.clear_interval(watch);
    let mut server = server.take().unwrap();
    if clients.failure.borrow().is_some() {
        let _ = server.child.kill(); // it would wait for the connections that failed
    }
    let out = server.finish(&test, bound);
    if let Some(failure) = clients.failure.borrow().as_ref() {
        panic!("clients: {failure}\nthe server:\n{}", indent(&out.stderr));
    }
    out.assert_ok("echo server: ok");
    out.print_figures();
    assert_eq!(clients.verified.get(), connections);
    assert_eq!(lp.active_requests(), 0);
    drop(lp);
    assert_eq!(open_fds(), fds_before, "descriptors leaked (clients)");
    figure(format_args!(
        "the clients connected, sent, checked and closed {connections} connections in {:.2} s",
        elapsed.as_secs_f64()
    ));
}

/// What the echo server saw.
#[derive(Default, Debug)]
struct EchoTally {
    accepted: usize,
    open: usize,
    /// Connections that have echoed `ECHO_LEN` bytes.
    echoed: usize,
    /// Resident memory and open connections when the last connection had echoed all its
    /// bytes: then every connection is open (the clients close only once all are served).
    at_peak: Option<(u64, usize)>,
    closed: usize,
    errors: Vec<String>,
}

/// The server of [`concurrent_echo`], in a process of its own: echoes, measures its
/// resident memory when every connection is open and served, and checks that it closes
/// every descriptor.
fn echo_server_child(connections: usize) {
    let _watchdog = Watchdog::new(
        "echo server",
        Duration::from_secs(50 + connections as u64 / 50),
    );
    assert!(
        descriptors_for(connections as u64 + 256),
        "the parent checked the hard limit"
    );
    let fds_before = open_fds();
    let mut lp = EventLoop::new();
    let tally = Rc::new(RefCell::new(EchoTally::default()));
    let me: Rc<Cell<Option<TcpListener>>> = Rc::default();
    let (t, this) = (tally.clone(), me.clone());
    let listener = TcpListener::listen(&mut lp, any_port(), 511, move |lp, conn| {
        let conn = match conn {
            Ok(conn) => conn,
            Err(e) => return t.borrow_mut().errors.push(format!("accept: {e}")),
        };
        {
            let mut t = t.borrow_mut();
            t.accepted += 1;
            t.open += 1;
            if t.accepted.is_multiple_of(1000) {
                trail(format!("server: {} accepted", t.accepted));
            }
        }
        let (t, this, t_read) = (t.clone(), this.clone(), t.clone());
        let mut echoed = 0;
        let read = conn.read_start(lp, move |lp, data| match data {
            Ok([]) => {
                let (t, this) = (t.clone(), this.clone());
                let _ = conn.close(lp, move |lp| {
                    let mut tally = t.borrow_mut();
                    tally.open -= 1;
                    tally.closed += 1;
                    if tally.closed == connections
                        && let Some(listener) = this.take()
                    {
                        let _ = listener.close(lp, |_| {});
                    }
                });
            }
            Ok(bytes) => {
                let t2 = t.clone();
                let written = conn.write(lp, bytes, move |_, r| {
                    if let Err(e) = r {
                        t2.borrow_mut().errors.push(format!("write: {e}"));
                    }
                });
                let mut tally = t.borrow_mut();
                if let Err(e) = written {
                    tally.errors.push(format!("write: {e}"));
                }
                echoed += bytes.len();
                if echoed == ECHO_LEN {
                    tally.echoed += 1;
                    if tally.echoed == connections {
                        tally.at_peak = Some((resident_bytes(), tally.open));
                        trail("server: all echoed");
                    }
                }
            }
            Err(e) => {
                t.borrow_mut().errors.push(format!("read: {e}"));
                let _ = conn.close(lp, |_| {});
            }
        });
        if let Err(e) = read {
            t_read.borrow_mut().errors.push(format!("read_start: {e}"));
        }
    })
    .expect("listen");
    me.set(Some(listener));
    let addr = listener.local_addr(&lp).unwrap();
    lp.run(RunMode::NoWait); // the poller exists now
    let resident_before = resident_bytes();
    println!("READY {addr}");
    lp.run(RunMode::Default);

    let tally = tally.take();
    assert!(tally.errors.is_empty(), "server errors: {:?}", tally.errors);
    assert_eq!(
        (tally.accepted, tally.echoed, tally.closed, tally.open),
        (connections, connections, connections, 0),
        "accepted, echoed in full, closed, still open"
    );
    let (resident_peak, open_at_peak) = tally.at_peak.expect("measured at the peak");
    assert_eq!(open_at_peak, connections, "all open at once");
    assert_eq!(lp.active_requests(), 0);
    assert_eq!(lp.fd_watchers(), 0, "every watcher is gone");
    drop(lp);
    let fds_after = open_fds();
    assert_eq!(fds_after, fds_before, "descriptors leaked (server)");

    let per_connection = resident_peak.saturating_sub(resident_before) as f64 / connections as f64;
    figure(format_args!(
        "{connections} concurrent echo connections, {ECHO_LEN} bytes each way, every byte \
         back: server resident {} before, {} with all open = {per_connection:.0} bytes per \
         connection (the loop's one 64 KiB read buffer included); descriptors back to the \
         baseline ({fds_after})",
        mib(resident_before as f64),
        mib(resident_peak as f64),
    ));
    // What a connection costs is a few hundred bytes (chapter 9); a leak of the 64 KiB read
    // buffer, or of a copy of each write, per connection would be many times this bound.
    assert!(
        per_connection < 16.0 * 1024.0,
        "{per_connection:.0} resident bytes per connection"
    );
    println!("echo server: ok");
}

struct Clients {
    addr: SocketAddr,
    connections: usize,
    next: Cell<usize>,
    verified: Cell<usize>,
    open: RefCell<Vec<TcpStream>>,
    failure: RefCell<Option<String>>,
}

impl Clients {
    /// Gives up: records why and closes every connection, so the run ends.
    fn fail(&self, lp: &mut EventLoop, why: String) {
        if self.failure.borrow().is_none() {
            trail(why.clone());
            *self.failure.borrow_mut() = Some(why);
        }
        for conn in self.open.take() {
            let _ = conn.close(lp, |_| {});
        }
    }
}

fn connect_next(lp: &mut EventLoop, clients: &Rc<Clients>) {
    let i = clients.next.get();
    if i == clients.connections || clients.failure.borrow().is_some() {
        return;
    }
    clients.next.set(i + 1);
    let c = clients.clone();
    let started = TcpStream::connect(lp, clients.addr, move |lp, conn| {
        let conn = match conn {
            Ok(conn) if c.failure.borrow().is_none() => conn,
            Ok(conn) => return drop(conn.close(lp, |_| {})),
            Err(e) => return c.fail(lp, format!("connect {i}: {e}")),
        };
        c.open.borrow_mut().push(conn);
        if (i + 1).is_multiple_of(1000) {
            trail(format!("client: {} connected", i + 1));
        }
        connect_next(lp, &c);
        let sent = payload(i, ECHO_LEN);
        let c2 = c.clone();
        if let Err(e) = conn.write(lp, &sent, move |lp, r| {
            if let Err(e) = r {
                c2.fail(lp, format!("write {i}: {e}"));
            }
        }) {
            return c.fail(lp, format!("write {i}: {e}"));
        }
        let c2 = c.clone();
        let mut got = Vec::with_capacity(ECHO_LEN);
        let reading = conn.read_start(lp, move |lp, data| {
            let c = &c2;
            let data = match data {
                Ok([]) => return c.fail(lp, format!("connection {i} ended early")),
                Ok(data) => data,
                Err(e) => return c.fail(lp, format!("read {i}: {e}")),
            };
            got.extend_from_slice(data);
            if got.len() < ECHO_LEN {
                return;
            }
            if got != sent {
                return c.fail(lp, format!("connection {i} got other bytes back"));
            }
            c.verified.set(c.verified.get() + 1);
            if c.verified.get() == c.connections {
                trail("client: all verified; closing them all");
                for conn in c.open.take() {
                    let _ = conn.close(lp, |_| {});
                }
            }
        });
        if let Err(e) = reading {
            c.fail(lp, format!("read_start {i}: {e}"));
        }
    });
    if let Err(e) = started {
        clients.fail(lp, format!("connect {i}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------
// The storm.

/// What a peer of the storm does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Peer {
    /// Sends, waits for the answer, and leaves without reading it: a reset.
    Reset,
    /// Sends, half-closes, and reads the answer to its end.
    HalfClose,
    /// Connects and leaves at once.
    Vanish,
    /// Asks for a large answer and leaves while the server's write waits: a reset with a
    /// write queued.
    VanishMidWrite,
}

impl Peer {
    const ALL: [Peer; 4] = [
        Peer::Reset,
        Peer::HalfClose,
        Peer::Vanish,
        Peer::VanishMidWrite,
    ];

    /// The first byte the peer sends, which tells the server what it is.
    fn from_first_byte(byte: Option<u8>) -> &'static str {
        match byte {
            None => "vanish",
            Some(b'R') => "reset",
            Some(b'H') => "half-close",
            Some(b'W') => "vanish mid-write",
            Some(b'Q') => "quit",
            Some(_) => "unknown",
        }
    }
}

/// How long a storm peer waits for the server at most, in any one call.
const PEER_WAIT: Duration = Duration::from_secs(20);
/// The large answer of [`Peer::VanishMidWrite`]: far more than the kernel buffers hold.
const BIG: usize = 4 << 20;
/// The server's send buffer for it, fixed so the write queues whatever `tcp_wmem` says.
const SMALL_BUFFER: usize = 64 * 1024;
/// Threads of peers at once.
const PEER_THREADS: usize = 4;

/// What the server saw in the storm: outcome → how many times.
type Outcomes = Rc<RefCell<BTreeMap<String, usize>>>;

fn count(outcomes: &Outcomes, kind: &str, what: impl std::fmt::Display) {
    *outcomes
        .borrow_mut()
        .entry(format!("{kind}: {what}"))
        .or_default() += 1;
}

fn storm(cycles: usize) {
    let test = current_test();
    let _guard = serial();
    let _watchdog = Watchdog::new(&test, Duration::from_secs(60 + cycles as u64 / 10));
    let fds_before = open_fds();
    let mut lp = EventLoop::new();
    // Asserted exactly.
    let outcomes: Outcomes = Rc::default();
    // Which error each connection got where more than one is right: printed.
    let details: Outcomes = Rc::default();
    let big: Rc<[u8]> = payload(7, BIG).into();
    let me: Rc<Cell<Option<TcpListener>>> = Rc::default();
    let (o, d, this) = (outcomes.clone(), details.clone(), me.clone());
    let listener = TcpListener::listen(&mut lp, any_port(), 511, move |lp, conn| {
        let conn = match conn {
            Ok(conn) => conn,
            // A peer that vanished before its turn is skipped by accept; other errors
            // would be counted (and fail the comparison).
            Err(e) => return count(&o, "accept", format!("error {:?}", e.kind())),
        };
        serve_storm_peer(lp, conn, o.clone(), d.clone(), big.clone(), this.clone());
    })
    .expect("listen");
    me.set(Some(listener));
    let addr = listener.local_addr(&lp).unwrap();

    // The peers: a few threads of blocking sockets; the last act is a "quit" connection.
    let coordinator = std::thread::spawn(move || {
        let peers: Vec<_> = (0..PEER_THREADS)
            .map(|t| {
                std::thread::spawn(move || {
                    let mut rng = XorShift::new(0x5709 + t as u64);
                    let mut done = BTreeMap::new();
                    let share = cycles / PEER_THREADS + usize::from(t < cycles % PEER_THREADS);
                    for cycle in 0..share {
                        let peer = *rng.pick(&Peer::ALL);
                        misbehave(addr, peer).map_err(|e| {
                            format!("peer thread {t}, cycle {cycle}, {peer:?}: {e}")
                        })?;
                        *done.entry(peer).or_insert(0) += 1;
                    }
                    Ok::<_, String>(done)
                })
            })
            .collect();
        let results: Vec<Result<BTreeMap<Peer, usize>, String>> = peers
            .into_iter()
            .map(|p| {
                p.join()
                    .unwrap_or_else(|_| Err("a peer thread panicked".into()))
            })
            .collect();
        // Tell the server to stop listening; it closes this connection.
        let quit = (|| {
            let mut s = std::net::TcpStream::connect(addr)?;
            s.set_read_timeout(Some(PEER_WAIT))?;
            s.write_all(b"Q")?;
            s.read_to_end(&mut Vec::new())
        })();
        (results, quit)
    });

    trail(format!("storm of {cycles} cycles against {addr}"));
    let started = Instant::now();
    lp.run(RunMode::Default);
    let elapsed = started.elapsed();
    let (results, quit) = coordinator.join().expect("the coordinator");
    quit.expect("the quit connection");
    let mut done: BTreeMap<Peer, usize> = BTreeMap::new();
    for result in results {
        for (peer, n) in result.unwrap_or_else(|e| panic!("{e}")) {
            *done.entry(peer).or_default() += n;
        }
    }
    assert_eq!(done.values().sum::<usize>(), cycles);
    assert_eq!(lp.active_requests(), 0);
    assert_eq!(lp.fd_watchers(), 0, "every watcher is gone");
    drop(lp);
    let fds_after = open_fds();

    // What each kind of peer must have caused, exactly once per connection.
    let mut expected = BTreeMap::new();
    let mut expect = |kind: &str, what: &str, n: usize| {
        if n > 0 {
            expected.insert(format!("{kind}: {what}"), n);
        }
    };
    let n = |peer| done.get(&peer).copied().unwrap_or(0);
    for what in ["data", "write Ok", "read error ConnectionReset", "closed"] {
        expect("reset", what, n(Peer::Reset));
    }
    for what in ["data", "end of file", "write Ok", "shutdown Ok", "closed"] {
        expect("half-close", what, n(Peer::HalfClose));
    }
    for what in ["end of file", "closed"] {
        expect("vanish", what, n(Peer::Vanish));
    }
    for what in ["data", "read ended", "write error", "closed"] {
        expect("vanish mid-write", what, n(Peer::VanishMidWrite));
    }
    for what in ["data", "closed"] {
        expect("quit", what, 1);
    }
    let outcomes = outcomes.take();
    assert_eq!(
        outcomes, expected,
        "what the server saw (left) against one outcome of each kind per connection (right)"
    );
    assert_eq!(fds_after, fds_before, "descriptors leaked");
    // Errors that reached a callback: the asserted ones, and the read errors of the peers
    // that vanished mid-write (an error, or end of file when the write saw the reset first).
    let errors: usize = outcomes
        .iter()
        .chain(details.borrow().iter())
        .filter(|(k, _)| k.contains("error") || k.contains("read E"))
        .map(|(_, n)| n)
        .sum();
    figure(format_args!(
        "storm: {cycles} cycles in {:.2} s ({} resets, {} half-closes, {} vanished, {} \
         vanished mid-write): no panic; {errors} errors delivered, each once ({}); every \
         write and shutdown called back; descriptors back to the baseline ({fds_after})",
        elapsed.as_secs_f64(),
        n(Peer::Reset),
        n(Peer::HalfClose),
        n(Peer::Vanish),
        n(Peer::VanishMidWrite),
        details
            .borrow()
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
    ));
}

/// The server's side of one storm connection: the first byte says which peer it is.
fn serve_storm_peer(
    lp: &mut EventLoop,
    conn: TcpStream,
    outcomes: Outcomes,
    details: Outcomes,
    big: Rc<[u8]>,
    listener: Rc<Cell<Option<TcpListener>>>,
) {
    let mut first: Option<u8> = None;
    let o = outcomes.clone();
    let closed = move |kind: &'static str| {
        let o = o.clone();
        move |_: &mut EventLoop| count(&o, kind, "closed")
    };
    let d = details.clone();
    let reading = conn.read_start(lp, move |lp, data| {
        let details = &d;
        let kind = Peer::from_first_byte(first);
        match data {
            Ok([]) => {
                if kind == "vanish mid-write" {
                    count(&outcomes, kind, "read ended");
                    count(details, kind, "end of file");
                } else {
                    count(&outcomes, kind, "end of file");
                }
                if kind == "half-close" {
                    // The peer still reads: answer, then half-close too, then close.
                    let o = outcomes.clone();
                    let _ = conn.write(lp, b"pong", move |_, r| {
                        count(&o, kind, format!("write {}", outcome(&r)))
                    });
                    let (o, closed) = (outcomes.clone(), closed.clone());
                    let _ = conn.shutdown(lp, move |lp, r| {
                        count(&o, kind, format!("shutdown {}", outcome(&r)));
                        let _ = conn.close(lp, closed(kind));
                    });
                } else {
                    let _ = conn.close(lp, closed(kind));
                }
            }
            Ok(bytes) if first.is_none() => {
                first = Some(bytes[0]);
                let kind = Peer::from_first_byte(first);
                count(&outcomes, kind, "data");
                match bytes[0] {
                    b'R' => {
                        let o = outcomes.clone();
                        let _ = conn.write(lp, b"pong", move |_, r| {
                            count(&o, kind, format!("write {}", outcome(&r)))
                        });
                    }
                    b'W' => {
                        let _ = conn.set_buffer_size(lp, Buffer::Send, SMALL_BUFFER);
                        let (o, d) = (outcomes.clone(), details.clone());
                        let _ = conn.write(lp, &big[..], move |_, r| match r {
                            Ok(()) => count(&o, kind, "write Ok (the peer read 4 MiB?)"),
                            Err(e) => {
                                count(&o, kind, "write error");
                                count(&d, kind, format!("write {}", errno_name(&e)));
                            }
                        });
                    }
                    b'Q' => {
                        if let Some(listener) = listener.take() {
                            let _ = listener.close(lp, |_| {});
                        }
                        let _ = conn.close(lp, closed(kind));
                    }
                    _ => {}
                }
            }
            Ok(_) => {} // the rest of a first message
            Err(e) => {
                if kind == "vanish mid-write" {
                    count(&outcomes, kind, "read ended");
                    count(details, kind, format!("read {}", errno_name(&e)));
                } else {
                    count(&outcomes, kind, format!("read error {:?}", e.kind()));
                }
                let _ = conn.close(lp, closed(kind));
            }
        }
    });
    if let Err(e) = reading {
        count(&details, "server", format!("read_start {e}"));
    }
}

/// `Ok`, or the kind of error.
fn outcome(r: &io::Result<()>) -> String {
    match r {
        Ok(()) => "Ok".into(),
        Err(e) => format!("error {:?}", e.kind()),
    }
}

fn errno_name(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ECONNRESET) => "ECONNRESET".into(),
        Some(libc::EPIPE) => "EPIPE".into(),
        Some(libc::ECANCELED) => "ECANCELED".into(),
        _ => format!("{:?}", e.kind()),
    }
}

/// One storm peer, with blocking sockets and a time limit on every wait.
fn misbehave(addr: SocketAddr, peer: Peer) -> io::Result<()> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(PEER_WAIT))?;
    s.set_write_timeout(Some(PEER_WAIT))?;
    match peer {
        Peer::Reset => {
            s.write_all(b"Rping")?;
            wait_for_bytes(&s, 4)?; // "pong" arrived, unread: closing now sends a reset
        }
        Peer::HalfClose => {
            s.write_all(b"Hping")?;
            s.shutdown(std::net::Shutdown::Write)?;
            let mut answer = Vec::new();
            s.read_to_end(&mut answer)?;
            if answer != b"pong" {
                return Err(io::Error::other(format!("answer {answer:?}")));
            }
        }
        Peer::Vanish => {}
        Peer::VanishMidWrite => {
            s.write_all(b"W")?;
            wait_for_bytes(&s, 1)?; // the server is writing
        }
    }
    drop(s);
    Ok(())
}

/// Waits until `n` bytes can be read, without reading them.
fn wait_for_bytes(s: &std::net::TcpStream, n: usize) -> io::Result<()> {
    let deadline = Instant::now() + PEER_WAIT;
    let mut buf = [0; 8];
    loop {
        match s.peek(&mut buf[..n])? {
            0 => return Err(io::Error::other("the server closed first")),
            k if k >= n => return Ok(()),
            _ if Instant::now() > deadline => return Err(io::ErrorKind::TimedOut.into()),
            _ => std::thread::yield_now(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Accept at the descriptor limit.

/// The child process that runs [`descriptor_limit`] (it lowers its descriptor limit).
const LIMIT_CHILD: &str = "RELIABILITY_LIMIT_CHILD";

struct AtTheLimit {
    rounds: usize,
    /// Clients that arrive at once while no descriptor is free.
    burst: usize,
    /// How long the loop then waits, at the limit, with nothing to do.
    idle: Duration,
}

fn descriptor_limit(limit: AtTheLimit) {
    if std::env::var_os(LIMIT_CHILD).is_some() {
        descriptor_limit_child(limit);
        return;
    }
    let test = current_test();
    let _guard = serial();
    let bound = Duration::from_secs(60) + limit.idle * limit.rounds as u32;
    let _watchdog = Watchdog::new(&test, bound + Duration::from_secs(10));
    let out = ChildRun::spawn(&test, LIMIT_CHILD, "1".into()).finish(&test, bound);
    out.assert_ok("limit child: ok");
    out.print_figures();
}

/// The CPU time this thread has used, in clock ticks (1/100 s), from a
/// `/proc/thread-self/stat` opened beforehand (at the limit, nothing can be opened).
fn cpu_ticks(stat: &mut std::fs::File) -> u64 {
    let mut text = String::new();
    stat.rewind().unwrap();
    stat.read_to_string(&mut text).unwrap();
    // After the command name in parentheses: state is field 3; utime and stime are 14, 15.
    let fields: Vec<&str> = text[text.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn descriptor_limit_child(limit: AtTheLimit) {
    let AtTheLimit {
        rounds,
        burst,
        idle,
    } = limit;
    let _watchdog = Watchdog::new(
        "limit child",
        Duration::from_secs(50) + idle * rounds as u32,
    );
    let mut lp = EventLoop::new();
    let errors = Rc::new(RefCell::new(Vec::new()));
    let served = Rc::new(Cell::new(0));
    let (e, s) = (errors.clone(), served.clone());
    let listener = TcpListener::listen(&mut lp, any_port(), 511, move |lp, conn| {
        let conn = match conn {
            Ok(conn) => conn,
            Err(err) => return e.borrow_mut().push(err.raw_os_error()),
        };
        let s = s.clone();
        conn.read_start(lp, move |lp, data| match data {
            Ok([]) | Err(_) => drop(conn.close(lp, |_| {})),
            Ok(bytes) => {
                let s = s.clone();
                conn.write(lp, bytes, move |lp, r| {
                    r.expect("echo");
                    let s = s.clone();
                    conn.close(lp, move |lp| {
                        s.set(s.get() + 1);
                        lp.stop(); // one served: back to the test
                    })
                    .unwrap();
                })
                .unwrap();
            }
        })
        .unwrap();
    })
    .unwrap();
    let addr = listener.local_addr(&lp).unwrap();
    lp.run(RunMode::NoWait); // the poller exists now
    let mut stat = std::fs::File::open("/proc/thread-self/stat").unwrap();
    let highest = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap();
    // Room above the highest descriptor for a burst of clients and two more; the ballast
    // fills every free slot below the limit, holes included.
    let max = highest + burst as u64 + 3;
    socket::set_nofile_soft_limit(max).unwrap();
    let mut ballast = Vec::new();
    let refill = |ballast: &mut Vec<std::fs::File>| {
        while let Ok(file) = std::fs::File::open("/dev/null") {
            ballast.push(file);
        }
    };
    refill(&mut ballast);
    assert!(ballast.len() >= burst + 2, "room for a burst");
    trail(format!(
        "listening on {addr}; limit {max}, {} descriptors of ballast",
        ballast.len()
    ));

    let (mut idle_wall, mut idle_ticks, mut polls_max) = (Duration::ZERO, 0, 0);
    for round in 0..rounds {
        // A burst of clients while no descriptor is free: each takes one we free for it.
        ballast.truncate(ballast.len() - burst);
        let mut clients: Vec<std::net::TcpStream> = (0..burst)
            .map(|_| {
                let client = std::net::TcpStream::connect(addr).unwrap();
                client.set_read_timeout(Some(PEER_WAIT)).unwrap();
                client
            })
            .collect();
        assert!(std::fs::File::open("/dev/null").is_err(), "at the limit");
        trail(format!("round {round}: {burst} clients wait"));
        // The loop meets them at the limit, then has nothing to do until a timer: the
        // listener is unref'd, so the run ends with the timer.
        let drops_before = net::stats(&lp).emfile_drops;
        listener.unref(&mut lp);
        lp.set_timeout(|_| {}, idle);
        lp.enable_trace();
        let _ = lp.take_trace();
        let (ticks, wall) = (cpu_ticks(&mut stat), Instant::now());
        lp.run(RunMode::Default);
        let (ticks, wall) = (cpu_ticks(&mut stat) - ticks, wall.elapsed());
        let polls = lp
            .take_trace()
            .iter()
            .filter(|e| matches!(e, TraceEvent::Phase(Phase::Poll)))
            .count();
        listener.ref_(&mut lp);
        idle_wall += wall;
        idle_ticks += ticks;
        polls_max = polls_max.max(polls);
        trail(format!(
            "round {round}: idle {wall:?}, {ticks} ticks, {polls} polls"
        ));
        // A few iterations: the burst, then the wait for the timer. A loop that spun on the
        // listener would poll thousands of times.
        assert!(
            polls < 20,
            "round {round}: {polls} poll phases while idle: it spins"
        );
        assert_eq!(
            net::stats(&lp).emfile_drops - drops_before,
            burst as u64,
            "every waiting client was dropped"
        );
        assert_eq!(
            errors.borrow().len(),
            round + 1,
            "EMFILE is reported once per burst"
        );
        assert_eq!(errors.borrow()[round], Some(libc::EMFILE));
        for client in &mut clients {
            match client.read(&mut [0; 1]) {
                Ok(0) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
                other => panic!("a dropped client should see its connection end: {other:?}"),
            }
        }
        drop(clients);
        refill(&mut ballast);

        // Two descriptors come free: one for a client, one for the server to accept it.
        ballast.truncate(ballast.len() - 2);
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client.set_read_timeout(Some(PEER_WAIT)).unwrap();
        client.write_all(b"ping").unwrap();
        lp.run(RunMode::Default); // until the connection is served and closed
        let mut answer = [0; 4];
        client.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"ping");
        assert_eq!(served.get(), round + 1, "served after the limit lifted");
        drop(client);
        refill(&mut ballast);
    }
    listener.close(&mut lp, |_| {}).unwrap();
    lp.run(RunMode::Default);
    let cpu = Duration::from_millis(idle_ticks * 10);
    figure(format_args!(
        "at the descriptor limit: {rounds} rounds of {burst} clients dropped (EMFILE reported \
         once a round), then served again each time two descriptors came free; idle at the \
         limit {:.1} s: {} ms of CPU, at most {polls_max} poll phases a round",
        idle_wall.as_secs_f64(),
        cpu.as_millis()
    ));
    // A loop that spun would use about all of it (or its share of a busy machine).
    assert!(
        cpu <= idle_wall / 2,
        "{cpu:?} of CPU in {idle_wall:?} idle at the limit"
    );
    println!("limit child: ok");
}

// ---------------------------------------------------------------------------------------
// Steady load.

struct Load {
    duration: Duration,
    connections: usize,
    sample_every: Duration,
}

/// What the clients of the steady load did.
#[derive(Default)]
struct LoadTally {
    round_trips: Vec<u64>,
    bytes: u64,
    closed: usize,
    failures: Vec<String>,
}

fn steady_load(load: Load) {
    let Load {
        duration,
        connections,
        sample_every,
    } = load;
    let test = current_test();
    let _guard = serial();
    let _watchdog = Watchdog::new(&test, duration + Duration::from_secs(60));
    let fds_before = open_fds();
    let mut lp = EventLoop::new();

    // The server: echoes; closes each connection at its end, and itself after the last.
    let server_errors = Rc::new(RefCell::new(Vec::<String>::new()));
    let server_closed = Rc::new(Cell::new(0));
    let me: Rc<Cell<Option<TcpListener>>> = Rc::default();
    let (errs, sc, this) = (server_errors.clone(), server_closed.clone(), me.clone());
    let listener = TcpListener::listen(&mut lp, any_port(), 511, move |lp, conn| {
        let Ok(conn) = conn else {
            return errs.borrow_mut().push("accept".into());
        };
        let (errs, sc, this) = (errs.clone(), sc.clone(), this.clone());
        conn.read_start(lp, move |lp, data| match data {
            Ok([]) => {
                let (sc, this) = (sc.clone(), this.clone());
                let _ = conn.close(lp, move |lp| {
                    sc.set(sc.get() + 1);
                    trail(format!("server: {} connections ended", sc.get()));
                    if sc.get() == connections
                        && let Some(listener) = this.take()
                    {
                        let _ = listener.close(lp, |_| {});
                    }
                });
            }
            Ok(bytes) => {
                let e = errs.clone();
                let _ = conn.write(lp, bytes, move |_, r| {
                    if let Err(err) = r {
                        e.borrow_mut().push(format!("write: {err}"));
                    }
                });
            }
            Err(e) => {
                errs.borrow_mut().push(format!("read: {e}"));
                let _ = conn.close(lp, |_| {});
            }
        })
        .unwrap();
    })
    .unwrap();
    me.set(Some(listener));
    let addr = listener.local_addr(&lp).unwrap();

    // Resident memory, sampled by a timer until the time is up; then the clients stop.
    let started = Instant::now();
    let stop = Rc::new(Cell::new(false));
    let samples = Rc::new(RefCell::new(vec![(Duration::ZERO, resident_bytes())]));
    let sampler = common::slot();
    let (st, sa, me) = (stop.clone(), samples.clone(), sampler.clone());
    sampler.set(Some(lp.set_interval(
        move |lp| {
            let at = started.elapsed();
            sa.borrow_mut().push((at, resident_bytes()));
            if at >= duration {
                trail(format!("{at:?}: the time is up; the clients close"));
                st.set(true);
                lp.clear_interval(me.get().unwrap());
            }
        },
        sample_every,
    )));

    let tally = Rc::new(RefCell::new(LoadTally {
        round_trips: vec![0; connections],
        ..LoadTally::default()
    }));
    for c in 0..connections {
        start_load_client(&mut lp, addr, c, stop.clone(), tally.clone());
    }
    lp.run(RunMode::Default);
    let elapsed = started.elapsed();

    let tally = tally.take();
    assert!(tally.failures.is_empty(), "clients: {:?}", tally.failures);
    assert!(
        server_errors.borrow().is_empty(),
        "server: {:?}",
        server_errors.borrow()
    );
    assert_eq!(
        (tally.closed, server_closed.get()),
        (connections, connections)
    );
    let starved = tally.round_trips.iter().filter(|&&n| n == 0).count();
    assert_eq!(starved, 0, "connections with no round trip at all");
    assert_eq!(lp.active_requests(), 0);
    drop(lp);
    let fds_after = open_fds();
    assert_eq!(fds_after, fds_before, "descriptors leaked");

    // Flat: after a warm-up (the first quarter), the highest sample of the second half is
    // compared with the sample that ended the warm-up.
    let samples = samples.take();
    let warm = samples
        .iter()
        .find(|(at, _)| *at >= duration / 4)
        .expect("samples")
        .1;
    let late_max = samples
        .iter()
        .filter(|(at, _)| *at >= duration / 2)
        .map(|s| s.1)
        .max()
        .expect("samples");
    let first = samples[0].1;
    let last = samples.last().unwrap().1;
    let round_trips: u64 = tally.round_trips.iter().sum();
    let growth = late_max as f64 - warm as f64;
    figure(format_args!(
        "steady load: {connections} connections, {round_trips} round trips of 1 B to 16 KiB \
         ({}) in {:.1} s; resident {} at the start, {} after warm-up, {} at most in the \
         second half, {} at the end: growth after warm-up {:+.0} KiB over {} samples; \
         descriptors back to the baseline ({fds_after})",
        mib(2.0 * tally.bytes as f64),
        elapsed.as_secs_f64(),
        mib(first as f64),
        mib(warm as f64),
        mib(late_max as f64),
        mib(last as f64),
        growth / 1024.0,
        samples.len(),
    ));
    // A leak of even a few bytes per round trip grows without bound; the allocator's own
    // drift stays far below this.
    assert!(
        growth < 8.0 * 1024.0 * 1024.0,
        "resident memory grew by {} after the warm-up",
        mib(growth)
    );
}

/// One client of the steady load: round trips of random sizes, each checked byte for byte,
/// until `stop`; then it closes.
fn start_load_client(
    lp: &mut EventLoop,
    addr: SocketAddr,
    c: usize,
    stop: Rc<Cell<bool>>,
    tally: Rc<RefCell<LoadTally>>,
) {
    let t = tally.clone();
    let connecting = TcpStream::connect(lp, addr, move |lp, conn| {
        let conn = match conn {
            Ok(conn) => conn,
            Err(e) => return t.borrow_mut().failures.push(format!("connect {c}: {e}")),
        };
        let mut rng = XorShift::new(c as u64);
        let mut message = Vec::new();
        let next = move |message: &mut Vec<u8>, rng: &mut XorShift, n: u64| {
            let len = 1 + rng.below(16 * 1024) as usize;
            message.clear();
            message.extend((0..len).map(|j| (c * 131 + n as usize * 17 + j * 7 + j / 251) as u8));
        };
        next(&mut message, &mut rng, 0);
        let send = move |lp: &mut EventLoop, message: &[u8], t: &Rc<RefCell<LoadTally>>| {
            let t2 = t.clone();
            let sent = conn.write(lp, message, move |_, r| {
                if let Err(e) = r {
                    t2.borrow_mut().failures.push(format!("write {c}: {e}"));
                }
            });
            if let Err(e) = sent {
                t.borrow_mut().failures.push(format!("write {c}: {e}"));
            }
        };
        send(lp, &message, &t);
        let (t, t_read, stop) = (t.clone(), t.clone(), stop.clone());
        let mut received = 0;
        let reading = conn.read_start(lp, move |lp, data| {
            let data = match data {
                Ok([]) => {
                    t.borrow_mut()
                        .failures
                        .push(format!("{c}: the server ended it"));
                    return drop(conn.close(lp, |_| {}));
                }
                Ok(data) => data,
                Err(e) => {
                    t.borrow_mut().failures.push(format!("read {c}: {e}"));
                    return drop(conn.close(lp, |_| {}));
                }
            };
            if message.get(received..received + data.len()) != Some(data) {
                t.borrow_mut()
                    .failures
                    .push(format!("{c}: other bytes came back"));
                return drop(conn.close(lp, |_| {}));
            }
            received += data.len();
            if received < message.len() {
                return;
            }
            let n = {
                let mut tally = t.borrow_mut();
                tally.round_trips[c] += 1;
                tally.bytes += message.len() as u64;
                tally.round_trips[c]
            };
            received = 0;
            if stop.get() {
                let t = t.clone();
                let _ = conn.close(lp, move |_| {
                    t.borrow_mut().closed += 1;
                    trail(format!("client {c} closed"));
                });
                return;
            }
            next(&mut message, &mut rng, n);
            send(lp, &message, &t);
        });
        if let Err(e) = reading {
            t_read
                .borrow_mut()
                .failures
                .push(format!("read_start {c}: {e}"));
        }
    });
    if let Err(e) = connecting {
        tally
            .borrow_mut()
            .failures
            .push(format!("connect {c}: {e}"));
    }
}
