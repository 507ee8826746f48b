//! Chapter 11's programs against real clients: the HTTP server of `examples/http`
//! (`http_hello`), under normal use and under abuse.
//!
//! The server runs in a child process (this test binary again, with `HTTP_CHILD` set), so
//! that its memory can be measured and its descriptor limit lowered without touching the
//! tests; the clients are plain blocking sockets in this process. Every wait has a bound,
//! and a watchdog ends the binary with a report if a test hangs anyway.

mod common;

#[path = "../examples/http/mod.rs"]
mod http;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Watchdog;
use eventloop::event_loop::EventLoop;

const HELLO: &[u8] = b"Hello, world!\n";
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n";

/// The server process: `http_hello`'s handler, with the limits the test asked for.
#[test]
fn http_child() {
    let Some(_) = std::env::var_os("HTTP_CHILD") else {
        return; // only in the child
    };
    // Whatever ends the test process (a watchdog's exit included) ends the server too:
    // its standard input reaches end of file.
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let ms = |name: &str, default: u64| {
        let v = std::env::var(name).ok().and_then(|v| v.parse().ok());
        Duration::from_millis(v.unwrap_or(default))
    };
    if let Some(limit) = std::env::var("HTTP_NOFILE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        eventloop::sys::socket::set_nofile_soft_limit(limit).expect("lower the limit");
    }
    let config = http::Config {
        header_timeout: ms("HTTP_HEADER_TIMEOUT_MS", 60_000),
        keep_alive_timeout: ms("HTTP_KEEP_ALIVE_MS", 5_000),
        ..http::Config::default()
    };
    let mut lp = EventLoop::new();
    lp.run_main(|lp| {
        let big = vec![b'x'; 16 * 1024];
        let handler: http::Handler = Rc::new(move |lp, request, response| {
            // `/big`: 16 KiB answers to short requests, so answers pile up fast.
            let body = if request.path == "/big" { &big } else { HELLO };
            response.send(lp, 200, "text/plain", body);
        });
        http::serve(
            lp,
            "127.0.0.1:0".parse().unwrap(),
            config,
            handler,
            |_, addr| {
                println!("listening {addr}");
                std::io::stdout().flush().unwrap();
            },
            |_, e| panic!("{e}"),
        );
    })
    .expect("the server never fails");
}

/// A server child process, killed when dropped.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(env: &[(&str, String)]) -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "http_child", "--nocapture", "--test-threads=1"])
            .env("HTTP_CHILD", "1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped()) // its end of file tells the child this process is gone
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server printed its address")
                .unwrap();
            // The harness's "test http_child ... " starts the same line.
            if let Some((_, addr)) = line.split_once("listening ") {
                break addr.trim().parse().unwrap();
            }
        };
        // Keep draining its output, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        ServerProcess { child, addr }
    }

    /// The server's resident memory, from `/proc`.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server is alive");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
            .expect("a VmRSS line")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client connection with bounded waits.
fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    Ok(s)
}

/// Reads `n` whole hello responses from `s` (each ends with the body).
fn read_responses(s: &mut TcpStream, n: usize) -> std::io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0; 64 * 1024];
    while count(&got, HELLO) < n {
        let len = s.read(&mut buf)?;
        if len == 0 {
            break;
        }
        got.extend_from_slice(&buf[..len]);
    }
    Ok(got)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Everything the server sends until it closes (or a read times out).
fn read_to_close(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn keep_alive_and_pipelined_requests_are_answered_in_order() {
    let _watchdog = Watchdog::new("pipelining", Duration::from_secs(60));
    let server = ServerProcess::start(&[]);
    let mut s = connect(server.addr).unwrap();
    // 2,000 requests in one go (more than one read), then the answers.
    let requests: Vec<u8> = GET.repeat(2000);
    s.write_all(&requests).unwrap();
    let got = read_responses(&mut s, 2000).unwrap();
    assert_eq!(count(&got, b"HTTP/1.1 200 OK"), 2000);
    // Still open: one more.
    s.write_all(b"GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let last = read_to_close(&mut s);
    assert!(
        last.starts_with("HTTP/1.1 200 OK") && last.contains("Connection: close"),
        "{last}"
    );
}

#[test]
fn a_client_that_pipelines_without_reading_costs_bounded_memory() {
    let _watchdog = Watchdog::new("pipelining_without_reading", Duration::from_secs(60));
    let server = ServerProcess::start(&[]);
    // Warm the server up (its first connection allocates its read buffer) before the
    // baseline is taken.
    let mut warm = connect(server.addr).unwrap();
    warm.write_all(GET).unwrap();
    read_responses(&mut warm, 1).unwrap();
    drop(warm);
    let before = server.rss_kib();
    let mut flood = connect(server.addr).unwrap();
    flood
        .set_write_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let batch = b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n".repeat(2000);
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut sent = 0usize;
    while Instant::now() < deadline {
        // The stream of requests stays whole: a partial write goes on where it stopped.
        match flood.write(&batch[sent % batch.len()..]) {
            Ok(n) => sent += n,
            Err(_) => std::thread::sleep(Duration::from_millis(10)), // full: keep pushing
        }
    }
    let after = server.rss_kib();
    let grown_mib = after.saturating_sub(before) / 1024;
    eprintln!(
        "pipelining without reading: {} MiB of requests sent, server RSS {before} -> {after} KiB",
        sent >> 20
    );
    assert!(
        grown_mib < 32,
        "the server grew by {grown_mib} MiB while a client pipelined {} MiB of requests \
         without reading: it must stop reading that client when its answers pile up",
        sent >> 20
    );
    // And it still serves others.
    let mut other = connect(server.addr).unwrap();
    other.write_all(GET).unwrap();
    assert_eq!(count(&read_responses(&mut other, 1).unwrap(), HELLO), 1);
}

#[test]
fn a_head_larger_than_the_limit_is_answered_431() {
    let _watchdog = Watchdog::new("431", Duration::from_secs(60));
    let server = ServerProcess::start(&[]);
    let mut s = connect(server.addr).unwrap();
    let big = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(20 * 1024));
    let _ = s.write_all(big.as_bytes()); // the server may close before it has read it all
    let answer = read_to_close(&mut s);
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
        "{answer}"
    );
}

#[test]
fn a_head_that_takes_too_long_is_answered_408_and_closed() {
    let _watchdog = Watchdog::new("408", Duration::from_secs(60));
    let server = ServerProcess::start(&[("HTTP_HEADER_TIMEOUT_MS", "300".into())]);
    let mut s = connect(server.addr).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost").unwrap();
    let started = Instant::now();
    let answer = read_to_close(&mut s);
    assert!(
        answer.starts_with("HTTP/1.1 408 Request Timeout"),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "closed after {:?}",
        started.elapsed()
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let _watchdog = Watchdog::new("keep_alive_timeout", Duration::from_secs(60));
    let server = ServerProcess::start(&[("HTTP_KEEP_ALIVE_MS", "300".into())]);
    let mut s = connect(server.addr).unwrap();
    s.write_all(GET).unwrap();
    read_responses(&mut s, 1).unwrap();
    // Then nothing: the server closes (a read of 0), well before the read timeout.
    let mut rest = Vec::new();
    let closed = s.read_to_end(&mut rest);
    assert!(
        closed.is_ok() && rest.is_empty(),
        "an idle keep-alive connection must be closed by the server: {closed:?}"
    );
}

/// ~1,100 connections trickle a byte a second (more than the server's 1,024 descriptors),
/// and reconnect whenever the server closes one. A real client must still be answered.
#[test]
fn a_slowloris_does_not_lock_out_a_real_client() {
    let _watchdog = Watchdog::new("slowloris", Duration::from_secs(120));
    const ATTACKERS: usize = 1100;
    let (_, hard) = eventloop::sys::socket::nofile_limit().unwrap();
    let want = (ATTACKERS as u64 + 512).min(hard);
    eventloop::sys::socket::set_nofile_soft_limit(want).unwrap();
    let server = ServerProcess::start(&[
        ("HTTP_NOFILE", "1024".into()),
        ("HTTP_HEADER_TIMEOUT_MS", "2000".into()),
    ]);
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let open = Arc::new(AtomicUsize::new(0));
    let attacker = {
        let (stop, open) = (stop.clone(), open.clone());
        std::thread::spawn(move || slowloris(addr, ATTACKERS, &stop, &open))
    };
    // Let the attack take hold: most of its connections open.
    let t0 = Instant::now();
    while open.load(Ordering::Relaxed) < ATTACKERS * 9 / 10
        && t0.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut waits = Vec::new();
    for _ in 0..5 {
        let asked = Instant::now();
        let mut answered = false;
        while asked.elapsed() < Duration::from_secs(15) {
            let attempt = connect(addr).and_then(|mut s| {
                s.write_all(GET)?;
                read_responses(&mut s, 1)
            });
            if attempt.is_ok_and(|got| count(&got, HELLO) == 1) {
                answered = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            answered,
            "a real client was locked out for 15 s by {} slow connections",
            open.load(Ordering::Relaxed)
        );
        waits.push(asked.elapsed());
        std::thread::sleep(Duration::from_secs(1)); // across the attack's rounds
    }
    stop.store(true, Ordering::Relaxed);
    attacker.join().unwrap();
    eprintln!("slowloris: a real client waited {waits:?}");
}

/// The attack: `n` connections, each sending one byte of a request head a second, each
/// reconnected when the server closes it.
fn slowloris(addr: SocketAddr, n: usize, stop: &AtomicBool, open: &AtomicUsize) {
    let head = b"GET / HTTP/1.1\r\nHost: victim\r\nX-Padding: ";
    let dial = || {
        let s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
        s.set_nonblocking(true).ok()?;
        Some((s, 0usize))
    };
    let mut conns: Vec<Option<(TcpStream, usize)>> = (0..n).map(|_| None).collect();
    while !stop.load(Ordering::Relaxed) {
        let round = Instant::now();
        let mut alive = 0;
        for slot in conns.iter_mut() {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if slot.is_none() {
                *slot = dial();
            }
            let Some((s, sent)) = slot else { continue };
            let byte = head.get(*sent).copied().unwrap_or(b'a');
            let mut probe = [0; 512];
            let closed = matches!(s.read(&mut probe), Ok(0))
                || matches!(s.read(&mut probe), Err(e) if e.kind() != std::io::ErrorKind::WouldBlock)
                || s.write(&[byte]).is_err();
            if closed {
                *slot = None;
            } else {
                *sent += 1;
                alive += 1;
            }
        }
        open.store(alive, Ordering::Relaxed);
        if let Some(rest) = Duration::from_secs(1).checked_sub(round.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}
