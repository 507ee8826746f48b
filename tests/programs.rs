//! Chapter 11's programs against real clients, under normal use and under abuse: the HTTP
//! server of `examples/http` (`http_hello`), the chat server, the file server, and the echo
//! server and client written with `async`/`.await`.
//!
//! The server runs in a child process (this test binary again, with `HTTP_CHILD` set), so
//! that its memory can be measured and its descriptor limit lowered without touching the
//! tests; the clients are plain blocking sockets in this process. Every wait has a bound,
//! and a watchdog ends the binary with a report if a test hangs anyway.

mod common;

#[path = "../examples/chat_server.rs"]
mod chat;

#[path = "../examples/file_server.rs"]
mod files;

#[path = "../examples/async_echo_server.rs"]
mod async_echo;

#[path = "../examples/async_echo_client.rs"]
mod async_echo_client;

use files::http; // the HTTP server of `examples/http`, which the file server is built on

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
    let announce = |_: &mut EventLoop, addr: SocketAddr| {
        println!("listening {addr}");
        std::io::stdout().flush().unwrap();
    };
    match std::env::var("HTTP_CHILD").as_deref() {
        Ok("chat") => {
            lp.run_main(|lp| {
                chat::start(lp, "127.0.0.1:0".parse().unwrap(), announce);
            })
            .expect("the server never fails");
            return;
        }
        Ok("echo") => {
            let serve = async_echo::serve("127.0.0.1:0".parse().unwrap(), |addr| {
                println!("listening {addr}");
                std::io::stdout().flush().unwrap();
            });
            lp.run_main_async(serve).expect("the server never fails");
            return;
        }
        Ok("files") => {
            let root = std::env::var("FILE_ROOT").expect("a root").into();
            let config = http::Config::default();
            lp.run_main(|lp| {
                files::start(lp, root, "127.0.0.1:0".parse().unwrap(), config, announce);
            })
            .expect("the server never fails");
            return;
        }
        _ => {}
    }
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
            announce,
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
        ServerProcess::program("hello", env)
    }

    /// `program`: `hello` (the HTTP hello server), `chat`, `files` or `echo` (the async
    /// echo server).
    fn program(program: &str, env: &[(&str, String)]) -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "http_child", "--nocapture", "--test-threads=1"])
            .env("HTTP_CHILD", program)
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

/// One line from a chat connection (bounded by the read timeout).
fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).expect("a line within the read timeout");
    l
}

#[test]
fn chat_clients_join_talk_and_leave() {
    let _watchdog = Watchdog::new("chat_join_talk_leave", Duration::from_secs(60));
    let server = ServerProcess::program("chat", &[]);
    let mut a = BufReader::new(connect(server.addr).unwrap());
    assert_eq!(line(&mut a), "welcome guest-1\n");
    let mut b = BufReader::new(connect(server.addr).unwrap());
    assert_eq!(line(&mut b), "welcome guest-2\n");
    assert_eq!(line(&mut a), "* guest-2 joined\n");
    a.get_mut().write_all(b"hello, b\n").unwrap();
    assert_eq!(line(&mut b), "guest-1: hello, b\n");
    b.get_mut().write_all(b"hi ").unwrap(); // a line in two pieces
    b.get_mut().write_all(b"a\n").unwrap();
    assert_eq!(line(&mut a), "guest-2: hi a\n");
    drop(b);
    assert_eq!(line(&mut a), "* guest-2 left\n");
}

/// One client never reads while another sends megabytes: the server drops the slow one
/// instead of keeping everything it could not send, and the fast reader gets every line.
#[test]
fn a_slow_chat_reader_is_dropped_and_memory_stays_bounded() {
    let _watchdog = Watchdog::new("chat_slow_reader", Duration::from_secs(120));
    const LINES: usize = 60_000;
    let server = ServerProcess::program("chat", &[]);
    let mut fast = BufReader::new(connect(server.addr).unwrap());
    assert_eq!(line(&mut fast), "welcome guest-1\n");
    let slow = connect(server.addr).unwrap(); // never reads
    assert_eq!(line(&mut fast), "* guest-2 joined\n");
    let mut sender = connect(server.addr).unwrap();
    assert_eq!(line(&mut fast), "* guest-3 joined\n");
    let before = server.rss_kib();
    let reader = std::thread::spawn(move || {
        let mut got = 0;
        let mut others = Vec::new();
        while got < LINES {
            let l = line(&mut fast);
            if l.starts_with("guest-3: ") {
                got += 1;
            } else {
                others.push(l);
            }
        }
        (got, others)
    });
    let text = "x".repeat(1000);
    let mut peak = before;
    for i in 0..LINES {
        sender
            .write_all(format!("{i} {text}\n").as_bytes())
            .unwrap();
        if i % 5000 == 0 {
            peak = peak.max(server.rss_kib());
        }
    }
    let (got, others) = reader.join().unwrap();
    peak = peak.max(server.rss_kib());
    let grown_mib = (peak - before) / 1024;
    eprintln!("chat: {LINES} lines of 1 KB, server RSS {before} -> peak {peak} KiB");
    assert_eq!(got, LINES, "the fast reader gets every line");
    assert_eq!(
        others,
        ["* guest-2 left\n"],
        "the slow reader was dropped (and only it)"
    );
    assert!(
        grown_mib < 24,
        "the server grew by {grown_mib} MiB: a reader that does not read must not make it \
         keep what it cannot send ({} MiB were broadcast)",
        LINES >> 10
    );
    drop(slow);
}

/// `GET path` with `Connection: close`: the status and the body.
fn get(addr: SocketAddr, path: &str, method: &str) -> (u16, Vec<u8>) {
    let mut s = connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let status = head[9..12].parse().unwrap();
    (status, all[split + 4..].to_vec())
}

/// A directory to serve, with a secret beside it; removed when dropped.
struct Root(std::path::PathBuf);

impl Root {
    fn new(name: &str) -> Root {
        let dir = std::env::temp_dir().join(format!("eventloop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("www/sub")).unwrap();
        std::fs::write(dir.join("secret.txt"), "do not serve").unwrap();
        Root(dir)
    }
    fn www(&self) -> std::path::PathBuf {
        self.0.join("www")
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_file_server_sends_files_and_refuses_the_rest() {
    let _watchdog = Watchdog::new("file_server", Duration::from_secs(60));
    let root = Root::new("files");
    std::fs::write(root.www().join("hello.txt"), "hello, file\n").unwrap();
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.www().join("sub/big.bin"), &big).unwrap();
    let www = root.www().display().to_string();
    let server = ServerProcess::program("files", &[("FILE_ROOT", www)]);
    let addr = server.addr;
    assert_eq!(
        get(addr, "/hello.txt", "GET"),
        (200, b"hello, file\n".to_vec())
    );
    let (status, body) = get(addr, "/sub/big.bin", "GET");
    assert!(
        status == 200 && body == big,
        "a 3 MiB file arrives whole and exact"
    );
    assert_eq!(get(addr, "/missing.txt", "GET").0, 404);
    assert_eq!(get(addr, "/sub", "GET").0, 404, "a directory is not a file");
    for escape in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
    ] {
        let (status, body) = get(addr, escape, "GET");
        assert_eq!(
            status,
            403,
            "{escape} must be refused: {}",
            String::from_utf8_lossy(&body)
        );
    }
    assert_eq!(get(addr, "/hello.txt", "POST").0, 405);
}

/// A client asks for a 64 MiB file and reads nothing for a while: the server holds a chunk
/// of it, not the file.
#[test]
fn a_slow_download_costs_a_chunk_not_the_file() {
    let _watchdog = Watchdog::new("file_server_slow_reader", Duration::from_secs(120));
    const SIZE: u64 = 64 << 20;
    let root = Root::new("files-slow");
    let file = std::fs::File::create(root.www().join("huge.bin")).unwrap();
    file.set_len(SIZE).unwrap(); // sparse: zeros, without writing them
    let www = root.www().display().to_string();
    let server = ServerProcess::program("files", &[("FILE_ROOT", www)]);
    // Warm up: the first request allocates the server's buffers.
    assert_eq!(get(server.addr, "/missing", "GET").0, 404);
    let before = server.rss_kib();
    let mut s = connect(server.addr).unwrap();
    s.write_all(b"GET /huge.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_secs(2)); // not reading
    let during = server.rss_kib();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let grown_mib = during.saturating_sub(before) / 1024;
    eprintln!("file server: RSS {before} KiB, {during} KiB while the client did not read");
    assert!(
        grown_mib < 16,
        "the server grew by {grown_mib} MiB while its client did not read: it must read \
         the next chunk only when the socket took the last one"
    );
    let body = all.len() - all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() - 4;
    assert_eq!(body as u64, SIZE, "then the whole file arrives");
}

/// The async echo client against the async echo server: many connections at once, each
/// checking every echo; then a plain client, whose end the server answers with its own.
#[test]
fn the_async_echo_server_and_client_talk() {
    let _watchdog = Watchdog::new("async_echo", Duration::from_secs(60));
    let server = ServerProcess::program("echo", &[]);
    let mut lp = EventLoop::new();
    // 20 conversations at once on both sides, each message different from the last.
    let report = lp
        .block_on(async_echo_client::run(server.addr, 20, 50, 3000))
        .expect("the client's task finishes")
        .unwrap();
    assert_eq!(
        report,
        async_echo_client::Report {
            round_trips: 20 * 50,
            failed: 0
        },
        "every round trip of every connection came back whole and in order"
    );

    let mut plain = connect(server.addr).unwrap();
    let sent: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut w = plain.try_clone().unwrap();
        let sent = sent.clone();
        std::thread::spawn(move || {
            w.write_all(&sent).unwrap();
            w.shutdown(std::net::Shutdown::Write).unwrap(); // our end…
        })
    };
    let mut echoed = Vec::new();
    plain
        .read_to_end(&mut echoed)
        .expect("…answered by the server's end");
    writer.join().unwrap();
    assert!(
        echoed == sent,
        "the echo of 1 MB differs: {} bytes back",
        echoed.len()
    );
}

/// A client sends 64 MiB and reads nothing: the server's task waits in `write_all`, so it
/// stops reading, and the client is held back by TCP instead of the server keeping what it
/// sent. Then the client reads, and every byte comes back.
#[test]
fn an_async_echo_client_that_does_not_read_costs_bounded_memory() {
    let _watchdog = Watchdog::new("async_echo_not_reading", Duration::from_secs(120));
    const SEND: usize = 64 << 20;
    let server = ServerProcess::program("echo", &[]);
    let mut warm = connect(server.addr).unwrap();
    warm.write_all(b"warm").unwrap();
    let mut four = [0; 4];
    warm.read_exact(&mut four).unwrap();
    drop(warm);
    let before = server.rss_kib();

    let mut s = connect(server.addr).unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let mut w = s.try_clone().unwrap();
        w.set_write_timeout(None).unwrap(); // blocks while the server does not read
        let written = written.clone();
        std::thread::spawn(move || {
            let chunk: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8).collect();
            while written.load(Ordering::Relaxed) < SEND {
                w.write_all(&chunk).unwrap();
                written.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        })
    };
    // Wait until the writer is stuck: no progress for half a second.
    let mut last = usize::MAX;
    while written.load(Ordering::Relaxed) != last {
        last = written.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(500));
    }
    let held = server.rss_kib();
    let grown_mib = held.saturating_sub(before) / 1024;
    eprintln!(
        "async echo, client not reading: {} KiB in before the client was held back, server \
         RSS {before} -> {held} KiB",
        last >> 10
    );
    assert!(
        last < SEND && grown_mib < 16,
        "the server took {} MiB from a client that reads nothing and grew by {grown_mib} MiB: \
         its task must stop reading while its echo cannot be written",
        last >> 20
    );
    // Now read: all 64 MiB come back, in order.
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0; 64 * 1024];
    let mut got = 0usize;
    while got < SEND {
        let n = s
            .read(&mut buf)
            .expect("the echo resumes once the client reads");
        assert!(n > 0, "the server closed after {got} bytes");
        for (i, b) in buf[..n].iter().enumerate() {
            assert_eq!(
                *b,
                ((got + i) % (64 * 1024) % 251) as u8,
                "byte {}",
                got + i
            );
        }
        got += n;
    }
    writer.join().unwrap();
}
