//! Chapter 9: TCP on the loop. Real sockets on 127.0.0.1, no sleeps: every test waits for
//! events, never for time, and leaves as many descriptors open as it found.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Mutex, MutexGuard};

use eventloop::Ref;
use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::net::{self, Buffer, TcpListener, TcpStream};
use eventloop::sys::socket;

mod common;
use common::{Watchdog, run_bounded, trail};

/// Longer than any test here takes by far (each takes well under a second); only a hang
/// reaches it.
const HANG: std::time::Duration = std::time::Duration::from_secs(60);

/// Kernel buffers the tests fix, so that when a write has to queue does not depend on the
/// machine's `tcp_wmem`/`tcp_rmem` (automatic sizing can take megabytes at once).
const SMALL_BUFFER: usize = 64 * 1024;

/// Sockets, descriptor counts and the descriptor limit are process-wide: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Descriptors this process has open now.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// Runs `test` and checks it closed every descriptor it opened.
fn no_leaks(test: impl FnOnce()) {
    let _guard = serial();
    let _watchdog = Watchdog::new(std::thread::current().name().unwrap_or("a net test"), HANG);
    let before = open_fds();
    test();
    assert_eq!(open_fds(), before, "descriptors leaked");
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Listens on a free port for one connection: the listener closes itself once it has
/// accepted it, then `f` runs with the new stream.
fn serve_one(
    lp: &mut EventLoop,
    f: impl FnOnce(&mut EventLoop, TcpStream) + 'static,
) -> SocketAddr {
    serve_one_at(lp, any_port(), f)
}

/// [`serve_one`] on the address `at`.
fn serve_one_at(
    lp: &mut EventLoop,
    at: SocketAddr,
    f: impl FnOnce(&mut EventLoop, TcpStream) + 'static,
) -> SocketAddr {
    let me: Rc<Cell<Option<TcpListener>>> = Rc::default();
    let this = me.clone();
    let mut f = Some(f);
    let listener = TcpListener::listen(lp, at, 16, move |lp, conn| {
        if let Some(listener) = this.take() {
            listener.close(lp, |_| {}).unwrap();
        }
        if let Some(f) = f.take() {
            f(lp, conn.expect("accept"));
        }
    })
    .expect("listen");
    me.set(Some(listener));
    listener.local_addr(lp).unwrap()
}

type Log = Rc<RefCell<Vec<String>>>;

fn log(log: &Log, line: impl Into<String>) {
    let line = line.into();
    trail(line.clone());
    log.borrow_mut().push(line);
}

/// A pattern that differs from connection to connection and from byte to byte.
fn payload(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|j| (seed * 31 + j * 7 + j / 251) as u8)
        .collect()
}

/// An echo server on `lp`: writes back what it reads, closes on end of file, and closes
/// itself once `limit` connections are closed (it counts them in `closed`).
fn echo_server(lp: &mut EventLoop, limit: usize, closed: Rc<Cell<usize>>) -> SocketAddr {
    let me: Rc<Cell<Option<TcpListener>>> = Rc::default();
    let this = me.clone();
    let listener = TcpListener::listen(lp, any_port(), 1024, move |lp, conn| {
        let conn = conn.expect("accept");
        let closed = closed.clone();
        let this = this.clone();
        conn.read_start(lp, move |lp, data| match data {
            Ok(bytes) if !bytes.is_empty() => conn
                .write(lp, bytes, |_, r| r.expect("echo write"))
                .unwrap(),
            Ok(_) => {
                let (closed, this) = (closed.clone(), this.clone());
                conn.close(lp, move |lp| {
                    closed.set(closed.get() + 1);
                    if closed.get() == limit {
                        this.take().unwrap().close(lp, |_| {}).unwrap();
                    }
                })
                .unwrap()
            }
            Err(e) => panic!("server read: {e}"),
        })
        .unwrap();
    })
    .expect("listen");
    me.set(Some(listener));
    listener.local_addr(lp).unwrap()
}

/// Writes 64 KiB chunks until one has to wait on the write queue: the socket's kernel
/// buffers are full (the peer does not read). Returns how many chunks were written.
fn fill(
    lp: &mut EventLoop,
    conn: TcpStream,
    on_last: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
) -> usize {
    conn.set_buffer_size(lp, Buffer::Send, SMALL_BUFFER)
        .unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut chunks = 0;
    loop {
        chunks += 1;
        // The kernel holds a few hundred KiB for a peer that reads nothing.
        assert!(
            chunks <= 256,
            "wrote 16 MiB to a peer that reads nothing, and write_queue_size still says \
             nothing waits: what the kernel does not take must wait on the write queue, \
             counted in write_queue_size"
        );
        if conn.write_queue_size(lp) > 0 {
            conn.write(lp, &chunk, on_last).unwrap();
            return chunks;
        }
        conn.write(lp, &chunk, |_, _| {}).unwrap(); // the last of these may be canceled
    }
}

#[test]
fn a_thousand_concurrent_echo_connections_are_byte_exact() {
    // Two descriptors per connection (both ends live in this process): raise the soft limit.
    let (soft, hard) = socket::nofile_limit().unwrap();
    if soft < hard {
        socket::set_nofile_soft_limit(hard).unwrap();
    }
    no_leaks(|| {
        const CONNECTIONS: usize = 1000;
        const LEN: usize = 4096;
        let mut lp = EventLoop::new();
        let server_closed = Rc::new(Cell::new(0));
        let addr = echo_server(&mut lp, CONNECTIONS, server_closed.clone());
        let verified = Rc::new(Cell::new(0));
        for i in 0..CONNECTIONS {
            let verified = verified.clone();
            TcpStream::connect(&mut lp, addr, move |lp, conn| {
                let conn = conn.expect("connect");
                let sent = payload(i, LEN);
                conn.write(lp, &sent, |_, r| r.expect("client write"))
                    .unwrap();
                let mut got = Vec::new();
                conn.read_start(lp, move |lp, data| {
                    got.extend_from_slice(data.expect("client read"));
                    if got.len() >= LEN {
                        assert_eq!(got, sent, "connection {i} got other bytes back");
                        verified.set(verified.get() + 1);
                        conn.close(lp, |_| {}).unwrap();
                    }
                })
                .unwrap();
            })
            .unwrap();
        }
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(verified.get(), CONNECTIONS);
        assert_eq!(server_closed.get(), CONNECTIONS);
        assert_eq!(net::stats(&lp).accepts, CONNECTIONS as u64);
    });
}

#[test]
fn a_short_read_is_not_followed_by_a_read_that_would_block() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let chunks = Rc::new(RefCell::new(Vec::new()));
        let c = chunks.clone();
        let addr = serve_one(&mut lp, move |lp, conn| {
            conn.read_start(lp, move |lp, data| {
                let data = data.unwrap();
                c.borrow_mut().push((data.len(), net::stats(lp).reads));
                if data.is_empty() {
                    conn.close(lp, |_| {}).unwrap();
                }
            })
            .unwrap();
        });
        let mut peer = std::net::TcpStream::connect(addr).unwrap();
        peer.write_all(&[1; 100]).unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        run_bounded(&mut lp, RunMode::Default);
        // 100 bytes and the end of file may come as one readable event or two; either way
        // each read returned something: none came back with `EAGAIN`.
        let stats = net::stats(&lp);
        assert_eq!(stats.empty_reads, 0, "{stats:?}");
        assert_eq!(stats.reads, 2, "{stats:?}");
        assert_eq!(*chunks.borrow(), [(100, 1), (0, 2)]);
    });
}

#[test]
fn a_peer_reset_reaches_the_read_and_write_callbacks_as_errors() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let events: Log = Log::default();
        let peer: Peer = Rc::default();
        let e = events.clone();
        let addr = serve_one(&mut lp, move |lp, conn| {
            let e2 = e.clone();
            conn.read_start(lp, move |_, data| match data {
                Ok(d) => log(&e2, format!("read {} bytes", d.len())),
                Err(err) => log(&e2, format!("read error {:?}", err.kind())),
            })
            .unwrap();
            let e3 = e.clone();
            fill(lp, conn, move |lp, r| {
                let err = r.expect_err("the peer reset the connection");
                assert!(
                    matches!(
                        err.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                    ),
                    "{err:?}"
                );
                log(&e3, "write error");
                conn.close(lp, |_| {}).unwrap();
            });
        });
        *peer.borrow_mut() = Some(std::net::TcpStream::connect(addr).unwrap());
        // Accept and fill; the pending drains after the poll phase finish the writes the
        // kernel took, and find the socket full for the last one.
        run_bounded(&mut lp, RunMode::Once);
        // Closing a socket with unread data makes the kernel send a reset (RFC 2525).
        drop(peer.borrow_mut().take());
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(
            *events.borrow(),
            ["read error ConnectionReset", "write error"]
        );
    });
}

/// A write the kernel refuses at once with an error other than "would block" (here `EPIPE`
/// or `ECONNRESET` on a reset connection, with nothing queued) still finishes through its
/// callback, with the error: the request must not vanish.
#[test]
fn a_write_refused_at_once_reports_its_error_through_the_callback() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let events: Log = Log::default();
        let peer: Peer = Rc::default();
        let e = events.clone();
        let addr = serve_one(&mut lp, move |lp, conn| {
            // Data the peer never reads: closing it then makes the kernel send a reset.
            conn.write(lp, b"unread", |_, r| r.unwrap()).unwrap();
            let e2 = e.clone();
            conn.read_start(lp, move |lp, data| match data {
                Ok(d) => log(&e2, format!("read {} bytes", d.len())),
                Err(err) => {
                    log(&e2, format!("read error {:?}", err.kind()));
                    let e3 = e2.clone();
                    conn.write(lp, b"late", move |lp, r| {
                        r.expect_err("a write on a reset connection fails");
                        log(&e3, "write error");
                        conn.close(lp, |_| {}).unwrap();
                    })
                    .unwrap();
                }
            })
            .unwrap();
        });
        *peer.borrow_mut() = Some(std::net::TcpStream::connect(addr).unwrap());
        run_bounded(&mut lp, RunMode::Once);
        drop(peer.borrow_mut().take());
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(
            *events.borrow(),
            ["read error ConnectionReset", "write error"],
            "the write the kernel refused at once must report its error through its callback"
        );
    });
}

#[test]
fn shutdown_sends_everything_then_end_of_file_and_the_peer_can_still_answer() {
    no_leaks(|| {
        const LEN: usize = 4 << 20; // far more than the fixed kernel buffers take at once
        let mut lp = EventLoop::new();
        let events: Log = Log::default();
        let e = events.clone();
        let addr = serve_one(&mut lp, move |lp, conn| {
            trail("server: accepted");
            conn.set_buffer_size(lp, Buffer::Send, SMALL_BUFFER)
                .unwrap();
            conn.write(lp, &payload(1, LEN), |_, r| r.unwrap()).unwrap();
            assert!(conn.write_queue_size(lp) > 0, "the write had to queue");
            let e1 = e.clone();
            conn.shutdown(lp, move |_, r| {
                r.unwrap();
                log(&e1, "server: shut down");
            })
            .unwrap();
            let err = conn.write(lp, b"late", |_, _| {}).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EPIPE));
            let e2 = e.clone();
            let mut answer = Vec::new();
            conn.read_start(lp, move |lp, data| {
                let data = data.unwrap();
                if data.is_empty() {
                    log(
                        &e2,
                        format!(
                            "server: got {:?}, then end",
                            String::from_utf8_lossy(&answer)
                        ),
                    );
                    conn.close(lp, |_| {}).unwrap();
                } else {
                    answer.extend_from_slice(data);
                }
            })
            .unwrap();
        });
        let e = events.clone();
        TcpStream::connect(&mut lp, addr, move |lp, conn| {
            let conn = conn.unwrap();
            trail("client: connected");
            conn.set_buffer_size(lp, Buffer::Receive, SMALL_BUFFER)
                .unwrap();
            let mut got = Vec::new();
            let e = e.clone();
            conn.read_start(lp, move |lp, data| {
                let data = data.unwrap();
                if !data.is_empty() {
                    if got.len() / (1 << 20) != (got.len() + data.len()) / (1 << 20) {
                        trail(format!("client: {} bytes", got.len() + data.len()));
                    }
                    got.extend_from_slice(data);
                    return;
                }
                assert!(got == payload(1, LEN), "the client got other bytes");
                log(&e, format!("client: {} bytes, then end", got.len()));
                conn.write(lp, b"thanks", |_, r| r.unwrap()).unwrap();
                conn.shutdown(lp, move |lp, r| {
                    r.unwrap();
                    conn.close(lp, |_| {}).unwrap();
                })
                .unwrap();
            })
            .unwrap();
        })
        .unwrap();
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(
            *events.borrow(),
            [
                "server: shut down",
                &format!("client: {LEN} bytes, then end"),
                "server: got \"thanks\", then end",
            ]
        );
    });
}

#[test]
fn a_large_write_queues_drains_and_arrives_byte_exact() {
    no_leaks(|| {
        const LEN: usize = 2 << 20;
        let mut lp = EventLoop::new();
        let sizes = Rc::new(RefCell::new(Vec::new()));
        let drains = Rc::new(Cell::new(0));
        let (s, d) = (sizes.clone(), drains.clone());
        let addr = serve_one(&mut lp, move |lp, conn| {
            conn.set_buffer_size(lp, Buffer::Send, SMALL_BUFFER)
                .unwrap();
            let d = d.clone();
            let s2 = s.clone();
            conn.on_drain(lp, move |lp| {
                d.set(d.get() + 1);
                s2.borrow_mut().push(conn.write_queue_size(lp));
                conn.close(lp, |_| {}).unwrap();
            })
            .unwrap();
            let s3 = s.clone();
            conn.write(lp, &payload(9, LEN), move |lp, r| {
                r.unwrap();
                s3.borrow_mut().push(conn.write_queue_size(lp));
            })
            .unwrap();
            s.borrow_mut().push(conn.write_queue_size(lp));
        });
        let received = Rc::new(RefCell::new(Vec::with_capacity(LEN)));
        let r = received.clone();
        TcpStream::connect(&mut lp, addr, move |lp, conn| {
            let conn = conn.unwrap();
            conn.set_buffer_size(lp, Buffer::Receive, SMALL_BUFFER)
                .unwrap();
            let r = r.clone();
            conn.read_start(lp, move |lp, data| {
                let data = data.unwrap();
                if data.is_empty() {
                    conn.close(lp, |_| {}).unwrap();
                } else {
                    r.borrow_mut().extend_from_slice(data);
                }
            })
            .unwrap();
        })
        .unwrap();
        run_bounded(&mut lp, RunMode::Default);
        assert!(*received.borrow() == payload(9, LEN), "other bytes arrived");
        let sizes = sizes.borrow();
        assert!(
            sizes[0] > 0 && sizes[0] < LEN,
            "queued right after write: {}",
            sizes[0]
        );
        assert_eq!(
            sizes[1..],
            [0, 0],
            "0 in the write callback, then at the drain"
        );
        assert_eq!(drains.get(), 1);
        let stats = net::stats(&lp);
        assert!(stats.writes >= 3, "several writable events: {stats:?}");
        assert_eq!(stats.queued_writes, 1);
    });
}

/// Writes the kernel takes at once report through the pending phase (the watcher is fed),
/// and that is no drain: `on_drain` is for writes that had to wait.
#[test]
fn writes_taken_at_once_report_later_and_are_no_drain() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let events: Log = Log::default();
        let drains = Rc::new(Cell::new(0));
        let (d, e) = (drains.clone(), events.clone());
        let addr = serve_one(&mut lp, move |lp, conn| {
            let d = d.clone();
            conn.on_drain(lp, move |_| d.set(d.get() + 1)).unwrap();
            for i in 0..3 {
                let e = e.clone();
                conn.write(lp, b"small", move |_, r| {
                    r.unwrap();
                    log(&e, format!("write {i} done"));
                })
                .unwrap();
            }
            assert_eq!(conn.write_queue_size(lp), 0, "all taken at once");
            log(&e, "after the writes");
            conn.shutdown(lp, move |lp, r| {
                r.unwrap();
                conn.close(lp, |_| {}).unwrap();
            })
            .unwrap();
        });
        let mut peer = std::net::TcpStream::connect(addr).unwrap();
        run_bounded(&mut lp, RunMode::Default);
        let mut got = Vec::new();
        peer.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"smallsmallsmall");
        assert_eq!(
            *events.borrow(),
            [
                "after the writes",
                "write 0 done",
                "write 1 done",
                "write 2 done"
            ]
        );
        assert_eq!(drains.get(), 0, "nothing waited, so nothing drained");
    });
}

/// The test's peer, shared with the server's callbacks so they can read from it at a chosen
/// moment.
type Peer = Rc<RefCell<Option<std::net::TcpStream>>>;

/// Connects a peer with a small receive buffer and stores it in `peer`; a thread then reads,
/// after the bytes the server's callback read early (sent on `early`), everything to the end.
fn slow_reader(
    addr: SocketAddr,
    peer: &Peer,
    early: std::sync::mpsc::Receiver<Vec<u8>>,
) -> std::thread::JoinHandle<Vec<u8>> {
    let client = std::net::TcpStream::connect(addr).unwrap();
    socket::set_buffer_size(&client, Buffer::Receive, SMALL_BUFFER).unwrap();
    client.set_read_timeout(Some(HANG / 4)).unwrap();
    let mut reader_side = client.try_clone().unwrap();
    *peer.borrow_mut() = Some(client);
    std::thread::spawn(move || {
        let mut got = early.recv().unwrap();
        reader_side.read_to_end(&mut got).unwrap();
        got
    })
}

/// Reads, without waiting, what the kernel holds for the peer now: its buffers are empty
/// again when this returns.
fn read_what_waits(peer: &Peer) -> Vec<u8> {
    let mut guard = peer.borrow_mut();
    let peer = guard.as_mut().unwrap();
    peer.set_nonblocking(true).unwrap();
    let (mut early, mut sink) = (Vec::new(), vec![0; 1 << 20]);
    while let Ok(n @ 1..) = peer.read(&mut sink) {
        early.extend_from_slice(&sink[..n]);
    }
    peer.set_nonblocking(false).unwrap();
    early
}

/// `try_write` is `uv_try_write`: what the kernel takes now, with no request and no
/// callback; `WouldBlock` once the kernel is full, and while a write is queued even when the
/// kernel has room again, so its bytes never overtake queued ones; `EPIPE` after shutdown,
/// `NotFound` once closed.
#[test]
fn try_write_takes_what_the_kernel_takes_and_never_overtakes_a_queued_write() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let sent = Rc::new(Cell::new(0));
        let peer: Peer = Rc::default();
        let (go, wait) = std::sync::mpsc::channel::<Vec<u8>>();
        let (s, p) = (sent.clone(), peer.clone());
        let addr = serve_one(&mut lp, move |lp, conn| {
            assert_eq!(conn.try_write(lp, b"first").unwrap(), 5);
            assert_eq!(conn.try_write(lp, b"").unwrap(), 0);
            assert_eq!(lp.active_requests(), 0, "no request, no callback");
            conn.set_buffer_size(lp, Buffer::Send, SMALL_BUFFER)
                .unwrap();
            let chunk = vec![7u8; 64 * 1024];
            let mut total = 5;
            let full = loop {
                match conn.try_write(lp, &chunk) {
                    Ok(n) => total += n,
                    Err(e) => break e,
                }
            };
            assert_eq!(full.kind(), io::ErrorKind::WouldBlock, "{full}");
            assert_eq!(conn.write_queue_size(lp), 0, "nothing was queued");
            conn.write(lp, b"queued", |_, r| r.unwrap()).unwrap();
            assert_eq!(conn.write_queue_size(lp), 6);
            // The peer empties the kernel's buffers now: the kernel has room again, but
            // "queued" waits for the next writable event, and must still go first.
            let early = read_what_waits(&p);
            let queued_first = conn.try_write(lp, b"x").unwrap_err();
            assert_eq!(queued_first.kind(), io::ErrorKind::WouldBlock);
            go.send(early).unwrap(); // the peer reads the rest
            s.set(total + 6);
            conn.shutdown(lp, move |lp, r| {
                r.unwrap();
                conn.close(lp, move |lp| {
                    let closed = conn.try_write(lp, b"x").unwrap_err();
                    assert_eq!(closed.kind(), io::ErrorKind::NotFound, "{closed}");
                })
                .unwrap();
            })
            .unwrap();
            let shut = conn.try_write(lp, b"x").unwrap_err();
            assert_eq!(shut.raw_os_error(), Some(libc::EPIPE), "{shut}");
        });
        let reader = slow_reader(addr, &peer, wait);
        run_bounded(&mut lp, RunMode::Default);
        peer.borrow_mut().take();
        let got = reader.join().unwrap();
        assert_eq!(got.len(), sent.get(), "every byte arrived, once");
        assert!(got.starts_with(b"first") && got.ends_with(b"queued"));
        assert_eq!(net::stats(&lp).queued_writes, 1);
    });
}

/// A write made while older bytes wait on the write queue joins the queue behind them, even
/// when the kernel has room again: written to the kernel at once, its bytes would overtake
/// theirs.
#[test]
fn a_write_behind_a_queued_one_waits_its_turn_even_when_the_kernel_has_room() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let sent = Rc::new(Cell::new(0));
        let peer: Peer = Rc::default();
        let (go, wait) = std::sync::mpsc::channel::<Vec<u8>>();
        let (s, p) = (sent.clone(), peer.clone());
        let addr = serve_one(&mut lp, move |lp, conn| {
            // The kernel's buffers fill up; the rest of the last chunk waits on the queue.
            let chunks = fill(lp, conn, |_, r| r.unwrap());
            // The peer empties the kernel's buffers: there is room again, but the queued
            // rest goes only at the next writable event.
            let early = read_what_waits(&p);
            conn.write(lp, b"later", |_, r| r.unwrap()).unwrap();
            go.send(early).unwrap(); // the peer reads the rest
            s.set(chunks * 64 * 1024 + 5);
            conn.shutdown(lp, move |lp, r| {
                r.unwrap();
                conn.close(lp, |_| {}).unwrap();
            })
            .unwrap();
        });
        let reader = slow_reader(addr, &peer, wait);
        run_bounded(&mut lp, RunMode::Default);
        peer.borrow_mut().take();
        let got = reader.join().unwrap();
        assert_eq!(got.len(), sent.get(), "every byte arrived, once");
        let later = got.windows(5).position(|w| w == b"later");
        assert_eq!(
            later,
            Some(got.len() - 5),
            "a write made while older bytes waited on the write queue overtook them: it must \
             join the queue behind them, even if the kernel has room at that moment"
        );
    });
}

/// `send` is Node's `socket.write(data)` without a callback: a try first, a queued request
/// only for what the kernel did not take, and the bytes arrive in order either way.
#[test]
fn send_tries_first_and_queues_only_the_rest() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let big = payload(3, 1 << 20);
        let expected: Vec<u8> = [&b"small"[..], &big, b"tail"].concat();
        let addr = serve_one(&mut lp, move |lp, conn| {
            conn.send(lp, b"small").unwrap();
            assert_eq!(lp.active_requests(), 0, "taken at once: no request");
            conn.set_buffer_size(lp, Buffer::Send, SMALL_BUFFER)
                .unwrap();
            conn.send(lp, &big).unwrap();
            assert!(conn.write_queue_size(lp) > 0, "1 MiB does not fit at once");
            assert_eq!(lp.active_requests(), 1, "one request for the rest");
            conn.send(lp, b"tail").unwrap(); // queued behind the rest, never before it
            conn.shutdown(lp, move |lp, r| {
                r.unwrap();
                conn.close(lp, |_| {}).unwrap();
            })
            .unwrap();
            let shut = conn.send(lp, b"late").unwrap_err();
            assert_eq!(shut.raw_os_error(), Some(libc::EPIPE), "{shut}");
        });
        let mut peer = std::net::TcpStream::connect(addr).unwrap();
        socket::set_buffer_size(&peer, Buffer::Receive, SMALL_BUFFER).unwrap();
        peer.set_read_timeout(Some(HANG / 4)).unwrap();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            peer.read_to_end(&mut got).unwrap();
            got
        });
        run_bounded(&mut lp, RunMode::Default);
        assert!(reader.join().unwrap() == expected, "every byte, in order");
    });
}

/// The same server and client over IPv6 loopback: the `sockaddr_in6` path of `connect`, and
/// addresses reported as IPv6.
#[test]
fn ipv6_loopback_connects_echoes_and_reports_v6_addresses() {
    let v6: SocketAddr = "[::1]:0".parse().unwrap();
    no_leaks(|| {
        // Inside `no_leaks`: the probe's descriptor must not move another test's count.
        if let Err(e) = std::net::TcpListener::bind(v6) {
            // A machine without IPv6 on `lo` cannot run this; say so instead of failing.
            eprintln!("IPv6 loopback unavailable ({e}): ipv6 test not run");
            return;
        }
        let mut lp = EventLoop::new();
        let addr = serve_one_at(&mut lp, v6, move |lp, conn| {
            assert!(conn.peer_addr(lp).unwrap().is_ipv6());
            conn.read_start(lp, move |lp, data| match data.unwrap() {
                [] => conn.close(lp, |_| {}).unwrap(),
                bytes => conn.write(lp, bytes, |_, r| r.unwrap()).unwrap(),
            })
            .unwrap();
        });
        assert!(addr.is_ipv6() && addr.ip().is_loopback() && addr.port() != 0);
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        TcpStream::connect(&mut lp, addr, move |lp, conn| {
            let conn = conn.expect("connect over ::1");
            assert_eq!(conn.peer_addr(lp).unwrap(), addr);
            assert!(conn.local_addr(lp).unwrap().is_ipv6());
            conn.write(lp, b"over six", |_, r| r.unwrap()).unwrap();
            conn.read_start(lp, move |lp, data| {
                g.borrow_mut().extend_from_slice(data.unwrap());
                if g.borrow().len() == 8 {
                    conn.close(lp, |_| {}).unwrap();
                }
            })
            .unwrap();
        })
        .unwrap();
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(&*got.borrow(), b"over six");
    });
}

/// A fed watcher is called as if writable, so the pending drains right after the poll phase
/// also send writes queued since, without waiting for the next poll (libuv's `uv__io_feed`
/// then `uv__stream_io` with `POLLOUT`).
#[test]
fn a_fed_flush_sends_writes_that_waited_before_the_next_poll() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let events: Log = Log::default();
        let peer: Peer = Rc::default();
        let (e, p) = (events.clone(), peer.clone());
        let addr = serve_one(&mut lp, move |lp, conn| {
            let e = e.clone();
            // The first chunks finish at once (the watcher is fed); the last one waits.
            fill(lp, conn, move |lp, r| {
                r.unwrap();
                log(&e, "last chunk written");
                conn.close(lp, |_| {}).unwrap();
            });
            // The peer empties the kernel's buffers while this callback still runs.
            let mut guard = p.borrow_mut();
            let peer = guard.as_mut().unwrap();
            peer.set_nonblocking(true).unwrap();
            let mut sink = vec![0; 1 << 20];
            while peer.read(&mut sink).is_ok_and(|n| n > 0) {}
        });
        let client = std::net::TcpStream::connect(addr).unwrap();
        socket::set_buffer_size(&client, Buffer::Receive, SMALL_BUFFER).unwrap();
        *peer.borrow_mut() = Some(client);
        run_bounded(&mut lp, RunMode::Once); // one iteration: accept and fill, then the pending drains
        assert_eq!(*events.borrow(), ["last chunk written"]);
        peer.borrow_mut().take();
        run_bounded(&mut lp, RunMode::Default);
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused_through_the_callback() {
    no_leaks(|| {
        let port = std::net::TcpListener::bind(any_port())
            .unwrap()
            .local_addr()
            .unwrap();
        // The listener is closed again: nothing listens on `port` now.
        let mut lp = EventLoop::new();
        let outcome = Rc::new(RefCell::new(None));
        let o = outcome.clone();
        let called = Rc::new(Cell::new(false));
        let c = called.clone();
        let stream = TcpStream::connect(&mut lp, port, move |_, r| {
            *o.borrow_mut() = Some(r.map(|_| ()).unwrap_err().raw_os_error());
        })
        .unwrap();
        // Queued behind the connect, then canceled by its failure.
        stream
            .write(&mut lp, b"never", move |_, r| {
                assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::ECANCELED));
                c.set(true);
            })
            .unwrap();
        assert!(outcome.borrow().is_none(), "never re-entrantly");
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(*outcome.borrow(), Some(Some(libc::ECONNREFUSED)));
        assert!(called.get());
        // The failed stream closed itself: its id is stale.
        let err = stream.write(&mut lp, b"x", |_, _| {}).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(stream.close(&mut lp, |_| {}).is_err());
    });
}

#[test]
fn data_callbacks_run_before_write_callbacks_of_the_same_event() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let events: Log = Log::default();
        let peer: Peer = Rc::default();
        let e = events.clone();
        // The peer's receive buffer is fixed on its listener, so the accepted socket has it
        // before the handshake: set after `connect`, the window scale would already be
        // negotiated for the machine's default (`tcp_rmem`), and the test would depend on it.
        let listener = std::net::TcpListener::bind(any_port()).unwrap();
        socket::set_buffer_size(&listener, Buffer::Receive, SMALL_BUFFER).unwrap();
        let addr = listener.local_addr().unwrap();
        TcpStream::connect(&mut lp, addr, move |lp, conn| {
            let conn = conn.expect("connect");
            let e1 = e.clone();
            conn.read_start(lp, move |lp, data| match data {
                Ok(d) if !d.is_empty() => {
                    log(&e1, format!("read {:?}", String::from_utf8_lossy(d)))
                }
                // The peer leaves with our last bytes unread: a reset (or end of file).
                _ => conn.close(lp, |_| {}).unwrap(),
            })
            .unwrap();
            let e2 = e.clone();
            fill(lp, conn, move |_, r| {
                r.unwrap();
                log(&e2, "written");
            });
        })
        .unwrap();
        let (client, _) = listener.accept().unwrap();
        drop(listener);
        *peer.borrow_mut() = Some(client);
        // Connect and fill; the pending drains after the poll phase finish the writes the
        // kernel took, and find the socket full for the last one.
        run_bounded(&mut lp, RunMode::Once);
        {
            // The peer empties the kernel's buffers (the last chunk still waits in ours)
            // and sends two bytes: the next wait finds the socket readable AND writable.
            let mut guard = peer.borrow_mut();
            let peer = guard.as_mut().unwrap();
            peer.set_nonblocking(true).unwrap();
            let mut sink = vec![0; 1 << 20];
            loop {
                match peer.read(&mut sink) {
                    Ok(0) => panic!("unexpected end"),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
            peer.write_all(b"hi").unwrap();
        }
        run_bounded(&mut lp, RunMode::Once); // the event with both
        assert_eq!(*events.borrow(), ["read \"hi\"", "written"]);
        peer.borrow_mut().take(); // end of file for the server, which closes
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(events.borrow().len(), 2);
    });
}

#[test]
fn close_cancels_waiting_writes_before_its_callback_in_the_closing_phase() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let events: Log = Log::default();
        let peer: Peer = Rc::default();
        let e = events.clone();
        let addr = serve_one(&mut lp, move |lp, conn| {
            let e1 = e.clone();
            // Written at once: its callback was due in the pending phase.
            conn.write(lp, b"first", move |_, r| log(&e1, format!("first: {r:?}")))
                .unwrap();
            let e2 = e.clone();
            fill(lp, conn, move |_, r| {
                log(&e2, format!("filled: {:?}", r.unwrap_err().raw_os_error()))
            });
            for name in ["a", "b"] {
                let e3 = e.clone();
                conn.write(lp, name.as_bytes(), move |_, r| {
                    log(&e3, format!("{name}: {:?}", r.unwrap_err().raw_os_error()))
                })
                .unwrap();
            }
            let e4 = e.clone();
            lp.set_immediate(move |_| log(&e4, "immediate"));
            let e5 = e.clone();
            conn.close(lp, move |_| log(&e5, "close")).unwrap();
            assert_eq!(conn.write_queue_size(lp), 0, "a closed stream has no queue");
        });
        *peer.borrow_mut() = Some(std::net::TcpStream::connect(addr).unwrap());
        run_bounded(&mut lp, RunMode::Default);
        let canceled = Some(libc::ECANCELED);
        assert_eq!(
            *events.borrow(),
            [
                "immediate".to_string(),
                "first: Ok(())".to_string(),
                format!("filled: {canceled:?}"),
                format!("a: {canceled:?}"),
                format!("b: {canceled:?}"),
                "close".to_string(),
            ]
        );
    });
}

#[test]
fn options_addresses_and_refs() {
    no_leaks(|| {
        let mut lp = EventLoop::new();
        let checked = Rc::new(Cell::new(false));
        let c = checked.clone();
        let addr = serve_one(&mut lp, move |lp, conn| {
            conn.set_nodelay(lp, true).unwrap();
            conn.set_keepalive(lp, true, 30).unwrap();
            assert!(conn.keepalive(lp).unwrap());
            let err = conn.set_keepalive(lp, true, 0).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(conn.has_ref(lp));
            conn.unref(lp);
            conn.unref(lp);
            assert!(!conn.has_ref(lp));
            conn.ref_(lp);
            assert!(conn.has_ref(lp));
            conn.close(lp, |_| {}).unwrap();
            c.set(true);
        });
        assert_ne!(addr.port(), 0);
        let client = TcpStream::connect(&mut lp, addr, move |lp, conn| {
            let conn = conn.unwrap();
            assert_eq!(conn.peer_addr(lp).unwrap(), addr);
            assert_eq!(conn.local_addr(lp).unwrap().ip(), addr.ip());
            conn.close(lp, |_| {}).unwrap();
        })
        .unwrap();
        assert!(client.has_ref(&lp));
        run_bounded(&mut lp, RunMode::Default);
        assert!(checked.get());
        assert!(!client.has_ref(&lp), "closed");
        assert_eq!(client.write_queue_size(&lp), 0);
        assert_eq!(
            client.peer_addr(&lp).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );

        // An unref'd listener does not keep the loop alive; a ref'd one would wait forever.
        let listener = TcpListener::listen(&mut lp, any_port(), 16, |_, _| {}).unwrap();
        assert!(listener.has_ref(&lp));
        listener.unref(&mut lp);
        assert!(!listener.has_ref(&lp));
        assert!(
            !run_bounded(&mut lp, RunMode::Default),
            "nothing keeps the loop alive"
        );
        listener.close(&mut lp, |_| {}).unwrap();
        assert!(listener.close(&mut lp, |_| {}).is_err(), "closed twice");
        assert_eq!(
            listener.local_addr(&lp).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        run_bounded(&mut lp, RunMode::Default);
    });
}

/// Two loops with the same sockets made in the same order number them alike: only the loop
/// tag tells A's ids from B's. A's stream and listener used on B are refused with
/// `InvalidInput` wherever a method returns `io::Result` (a write's callback never runs),
/// read as a closed socket everywhere else, and never reach B's socket in the same slot.
#[test]
fn socket_ids_of_another_loop_are_refused_and_reach_nothing() {
    no_leaks(|| {
        let peer = std::net::TcpListener::bind(any_port()).unwrap();
        let addr = peer.local_addr().unwrap();
        let (mut a, mut b) = (EventLoop::new(), EventLoop::new());
        let mut ids = Vec::new();
        let mut conns = Vec::new();
        for lp in [&mut a, &mut b] {
            let listener = TcpListener::listen(lp, any_port(), 16, |_, _| {}).unwrap();
            listener.unref(lp);
            let stream = TcpStream::connect(lp, addr, |_, r| {
                r.unwrap();
            })
            .unwrap();
            assert!(
                !lp.run(RunMode::Default),
                "connected; nothing else keeps it alive"
            );
            let (conn, _) = peer.accept().unwrap();
            conn.set_read_timeout(Some(HANG)).unwrap();
            conns.push(conn);
            ids.push((listener, stream));
        }
        let [(listener_a, from_a), (listener_b, of_b)] = ids[..] else {
            unreachable!()
        };
        assert_ne!(from_a, of_b, "equal keys, different loops: different ids");
        assert_ne!(listener_a, listener_b);

        let refusals: Vec<io::Result<()>> = vec![
            from_a
                .write(&mut b, b"through A's id", |_, _| {
                    panic!("a refused write calls back")
                })
                .map(drop),
            from_a.try_write(&mut b, b"x").map(drop),
            from_a.send(&mut b, b"x"),
            from_a.read_start(&mut b, |_, _| {}),
            from_a.read_stop(&mut b),
            from_a.on_drain(&mut b, |_| {}),
            from_a.shutdown(&mut b, |_, _| {}),
            from_a.local_addr(&b).map(drop),
            from_a.peer_addr(&b).map(drop),
            from_a.set_nodelay(&b, true),
            from_a.set_keepalive(&b, true, 60),
            from_a.keepalive(&b).map(drop),
            from_a.buffer_size(&b, Buffer::Send).map(drop),
            from_a.set_buffer_size(&b, Buffer::Send, 4096),
            from_a.close(&mut b, |_| {}),
            listener_a.local_addr(&b).map(drop),
            listener_a.close(&mut b, |_| {}),
        ];
        for (i, result) in refusals.into_iter().enumerate() {
            let err = result.expect_err("another loop's id is refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "call {i}: {err}");
            assert!(
                err.to_string().contains("another event loop"),
                "call {i}: {err}"
            );
        }
        assert!(!from_a.is_reading(&b) && !from_a.has_ref(&b));
        assert_eq!(from_a.write_queue_size(&b), 0);
        from_a.unref(&mut b);
        assert!(of_b.has_ref(&b), "unref through A's id unref'd B's stream");
        listener_a.ref_(&mut b);
        assert!(
            !listener_b.has_ref(&b),
            "ref through A's id ref'd B's listener"
        );

        // B's socket in that slot got nothing: its peer reads only what B's id wrote.
        of_b.write(&mut b, b"B's", |_, r| r.unwrap()).unwrap();
        for (lp, stream, listener) in [(&mut a, from_a, listener_a), (&mut b, of_b, listener_b)] {
            stream.close(lp, |_| {}).unwrap();
            listener.close(lp, |_| {}).unwrap();
            lp.run(RunMode::Default);
        }
        let received: Vec<Vec<u8>> = conns
            .iter_mut()
            .map(|c| {
                let mut bytes = Vec::new();
                c.read_to_end(&mut bytes).unwrap();
                bytes
            })
            .collect();
        assert_eq!(received, [b"".to_vec(), b"B's".to_vec()]);
    });
}

/// libuv's connect and write requests keep the loop alive by themselves (`active_reqs`): an
/// unref'd stream still gets its connect callback, and its queued writes are still sent
/// and reported, before `run` returns.
#[test]
fn connects_and_writes_in_flight_keep_the_loop_alive_on_an_unrefd_stream() {
    no_leaks(|| {
        // The peer reads everything in another thread, only once the writes have queued.
        let peer = std::net::TcpListener::bind(any_port()).unwrap();
        let addr = peer.local_addr().unwrap();
        let (queued_tx, queued_rx) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let (mut conn, _) = peer.accept().unwrap();
            queued_rx.recv().unwrap();
            let mut received = Vec::new();
            conn.read_to_end(&mut received).unwrap();
            received.len()
        });

        let mut lp = EventLoop::new();
        let events: Log = Rc::default();
        let sent = Rc::new(Cell::new(0));
        let (e, n) = (events.clone(), sent.clone());
        let client = TcpStream::connect(&mut lp, addr, move |lp, conn| {
            let conn = conn.unwrap();
            log(&e, "connected");
            let e = e.clone();
            let chunks = fill(lp, conn, move |lp, result| {
                result.unwrap();
                log(&e, "last write done");
                conn.close(lp, |_| {}).unwrap();
            });
            n.set(chunks * 64 * 1024);
            // Every write: the ones done at once report from the pending phase.
            assert_eq!(
                lp.active_requests(),
                chunks,
                "the writes, until their callbacks"
            );
            queued_tx.send(()).unwrap();
        })
        .unwrap();
        client.unref(&mut lp);
        assert_eq!(lp.active_requests(), 1, "the connect");
        assert_eq!(
            lp.active_handles(),
            0,
            "the unref'd stream keeps nothing alive"
        );
        assert!(!run_bounded(&mut lp, RunMode::Default));
        assert_eq!(*events.borrow(), ["connected", "last write done"]);
        assert_eq!(lp.active_requests(), 0);
        assert_eq!(reader.join().unwrap(), sent.get(), "every byte arrived");
    });
}

/// Run in a child process (the test binary again, with `NET_EMFILE_CHILD=1`), because it
/// lowers the process's descriptor limit.
#[test]
fn out_of_descriptors_the_server_drops_waiting_connections_and_keeps_serving() {
    if std::env::var_os("NET_EMFILE_CHILD").is_some() {
        emfile_child();
        return;
    }
    let _guard = serial();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "out_of_descriptors_the_server_drops_waiting_connections_and_keeps_serving",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NET_EMFILE_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Both pipes are read to their end in threads; a child that hangs never closes them,
    // so it is killed, and its output so far (the steps it reached) is shown.
    let (done, finished) = std::sync::mpsc::channel();
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|mut pipe| {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            let _ = done.send(());
            text
        })
    })
    .collect();
    let hung = (0..2).any(|_| finished.recv_timeout(HANG).is_err());
    if hung {
        child.kill().unwrap();
    }
    let status = child.wait().unwrap();
    let [stdout, stderr]: [Vec<u8>; 2] = readers
        .into_iter()
        .map(|r| r.join().unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(
        !hung && status.success() && stdout.contains("EMFILE child: ok"),
        "child {}:\n{}\n{}",
        if hung {
            "hung and was killed"
        } else {
            "failed"
        },
        // Indented, so the child's own test lines are not read as this binary's.
        indent(&stdout),
        indent(&String::from_utf8_lossy(&stderr))
    );
}

fn emfile_child() {
    let mut lp = EventLoop::new();
    let errors = Rc::new(RefCell::new(Vec::new()));
    let served = Rc::new(Cell::new(0));
    let (e, s) = (errors.clone(), served.clone());
    let me: Rc<Cell<Option<TcpListener>>> = Rc::default();
    let (this, on_error) = (me.clone(), me.clone());
    let listener = TcpListener::listen(&mut lp, any_port(), 64, move |lp, conn| match conn {
        Err(err) => {
            println!("EMFILE child: the connection callback got {err}");
            e.borrow_mut().push(err.raw_os_error());
            if e.borrow().len() > 1 {
                // Only the first is expected: stop serving, so the run ends and the
                // assertions below say what happened instead of the test hanging.
                if let Some(listener) = on_error.take() {
                    listener.close(lp, |_| {}).unwrap();
                }
            }
        }
        Ok(conn) => {
            println!("EMFILE child: accepted a connection");
            let (s, this) = (s.clone(), this.clone());
            conn.read_start(lp, move |lp, data| {
                let data = data.unwrap();
                if data.is_empty() {
                    return;
                }
                let (s, this) = (s.clone(), this.clone());
                conn.write(lp, data, move |lp, r| {
                    r.unwrap();
                    s.set(s.get() + 1);
                    conn.close(lp, |_| {}).unwrap();
                    this.take().unwrap().close(lp, |_| {}).unwrap();
                })
                .unwrap();
            })
            .unwrap();
        }
    })
    .unwrap();
    me.set(Some(listener));
    let addr = listener.local_addr(&lp).unwrap();
    lp.run(RunMode::NoWait); // the poller exists now
    println!("EMFILE child: listening on {addr}");
    // Five clients wait in the backlog; then no descriptor is left for `accept`. Every
    // blocking call on them has a time limit: this test must end, whatever goes wrong.
    let mut waiting: Vec<_> = (0..5)
        .map(|_| {
            let client = std::net::TcpStream::connect(addr).unwrap();
            client.set_read_timeout(Some(HANG / 4)).unwrap();
            client
        })
        .collect();
    let highest = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap();
    // Two slots above the highest descriptor: whatever holes lie below it, the ballast
    // then holds at least the two descriptors the second half of the test frees.
    let limit = highest + 3;
    socket::set_nofile_soft_limit(limit).unwrap();
    let mut ballast = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        ballast.push(file); // fills the holes below the limit
    }
    println!(
        "EMFILE child: 5 clients waiting; limit {limit}, {} descriptors of ballast",
        ballast.len()
    );
    assert!(
        ballast.len() >= 2,
        "the limit leaves room for two descriptors"
    );
    run_bounded(&mut lp, RunMode::Once);
    println!("EMFILE child: one iteration: {:?}", net::stats(&lp));
    assert_eq!(
        *errors.borrow(),
        [Some(libc::EMFILE)],
        "reported once, no busy loop"
    );
    let stats = net::stats(&lp);
    assert_eq!((stats.accepts, stats.emfile_drops), (5, 5), "{stats:?}");
    for client in &mut waiting {
        let mut buf = [0; 1];
        // Closed by the trick: end of file (or a reset).
        match client.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
            other => panic!("a dropped client should see its connection end: {other:?}"),
        }
    }
    // Two descriptors come free: one for a new client, one for the server to accept it.
    ballast.truncate(ballast.len() - 2);
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(HANG / 4)).unwrap();
    client.write_all(b"ping").unwrap();
    println!("EMFILE child: two descriptors freed, a new client sent ping");
    run_bounded(&mut lp, RunMode::Default);
    println!("EMFILE child: the loop ended: {:?}", net::stats(&lp));
    let mut answer = [0; 4];
    client.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"ping");
    assert_eq!(served.get(), 1);
    assert_eq!(
        errors.borrow().len(),
        1,
        "{:?} {:?}",
        errors.borrow(),
        net::stats(&lp)
    );
    drop(waiting);
    println!("EMFILE child: ok");
}

#[test]
fn a_reset_on_a_connection_nobody_reads_does_not_spin_the_loop() {
    no_leaks(|| {
        use eventloop::trace::{Phase, TraceEvent};
        let mut lp = EventLoop::new();
        let peer: Peer = Rc::default();
        let server_side = Rc::new(Cell::new(None));
        let (p, s) = (peer.clone(), server_side.clone());
        let addr = serve_one(&mut lp, move |lp, conn| {
            // Neither read nor queued write: the watcher waits for nothing. Then the peer
            // leaves with our byte unread, which resets the connection: epoll reports
            // EPOLLERR|EPOLLHUP even to a registration that asked for nothing.
            conn.write(lp, b"x", |_, r| r.unwrap()).unwrap();
            drop(p.borrow_mut().take());
            s.set(Some(conn));
            // Something else keeps the loop waiting in poll for a while.
            lp.set_timeout(|_| {}, 50);
        });
        *peer.borrow_mut() = Some(std::net::TcpStream::connect(addr).unwrap());
        lp.enable_trace();
        run_bounded(&mut lp, RunMode::Default);
        let polls = lp
            .take_trace()
            .iter()
            .filter(|e| matches!(e, TraceEvent::Phase(Phase::Poll)))
            .count();
        // A handful of iterations, not one per microsecond for 50 ms.
        assert!(polls < 10, "the loop spun: {polls} poll phases");
        server_side.get().unwrap().close(&mut lp, |_| {}).unwrap();
        run_bounded(&mut lp, RunMode::Default);
    });
}

/// Every line of `text`, indented under a `child>` marker.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  child> {l}\n")).collect()
}
