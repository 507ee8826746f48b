//! Chapter 10's TCP stream as futures, at its edges: the write a task makes itself when
//! nothing waits (and the queue it must wait behind when something does), and the read it
//! makes itself once the loop says the socket is readable (end of file, errors, more than
//! its buffer, backpressure, a stream dropped while data arrives).
//!
//! The peers are plain blocking sockets on threads of their own; every test runs its loop
//! under a watchdog timer, so a lost wake-up fails in seconds, naming itself.

mod common;

use std::future::poll_fn;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::thread::JoinHandle;

use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::task::{self, net::AsyncStream};
use eventloop::uv::Uv;
use futures_io::{AsyncRead, AsyncWrite};

/// More than a loopback socket's kernel buffers take in one `write`.
const BIG: usize = 16 << 20;

/// Runs `future` to the end under a 10-second watchdog that fails with `what`.
fn bounded<T: 'static>(
    lp: &mut EventLoop,
    what: &str,
    future: impl Future<Output = T> + 'static,
) -> T {
    common::block_on_within(lp, what, 10_000, future)
}

/// Bytes that say where they are: a reordering or a lost byte shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// What the peer read must be `big` and then `tail`, each byte once; `broken` names the rule
/// when `tail` came first.
fn assert_tail_after(got: &[u8], big: &[u8], broken: &str) {
    assert_eq!(got.len(), big.len() + 4, "every byte arrived once");
    assert!(
        got[..big.len()] == big[..] && got.ends_with(b"tail"),
        "{broken}"
    );
}

/// A peer on a thread: accepts one connection and runs `peer` on it.
fn peer<T: Send + 'static>(
    peer: impl FnOnce(std::net::TcpStream) -> T + Send + 'static,
) -> (SocketAddr, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let thread = std::thread::spawn(move || peer(listener.accept().unwrap().0));
    (addr, thread)
}

/// A peer that reads everything until end of file.
fn reading_peer() -> (SocketAddr, JoinHandle<Vec<u8>>) {
    peer(|mut conn| {
        let mut all = Vec::new();
        conn.read_to_end(&mut all).unwrap();
        all
    })
}

async fn write_all(w: &mut AsyncStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data)).await?;
        data = &data[n..];
    }
    Ok(())
}

async fn read_some(r: &mut AsyncStream, buf: &mut [u8]) -> std::io::Result<usize> {
    poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, buf)).await
}

async fn close(mut s: AsyncStream) -> std::io::Result<()> {
    poll_fn(|cx| Pin::new(&mut s).poll_close(cx)).await
}

mod writing {
    use super::*;

    #[test]
    fn a_small_write_after_a_big_one_the_kernel_could_not_take_arrives_after_it() {
        let (addr, peer) = reading_peer();
        let big = pattern(BIG);
        let sent = big.clone();
        let mut lp = EventLoop::new();
        bounded(&mut lp, "a big write, then a small one", async move {
            let mut conn = task::net::connect(addr).await?;
            // In one poll: the kernel takes part of the big write, the rest waits for the
            // loop; the small write must not go to the kernel ahead of that rest.
            write_all(&mut conn, &sent).await?;
            write_all(&mut conn, b"tail").await?;
            close(conn).await
        })
        .unwrap();
        assert_tail_after(
            &peer.join().unwrap(),
            &big,
            "the small write overtook the rest of the big one: a write went to the kernel \
             while bytes written before it still waited",
        );
    }

    #[test]
    fn a_task_write_waits_behind_bytes_the_callback_api_queued_on_the_same_stream() {
        let (addr, peer) = reading_peer();
        let big = pattern(BIG);
        let sent = big.clone();
        let mut lp = EventLoop::new();
        bounded(
            &mut lp,
            "a queued callback write, then a task's",
            async move {
                let mut conn = task::net::connect(addr).await?;
                let stream = conn.stream();
                let queued = task::with_loop(move |lp| {
                    stream.write(lp, &sent, |_, sent| sent.unwrap()).unwrap();
                    stream.write_queue_size(lp)
                })
                .await;
                assert!(queued > 0, "the test needs bytes on the loop's write queue");
                write_all(&mut conn, b"tail").await?; // nothing of the task's own waits
                close(conn).await
            },
        )
        .unwrap();
        assert_tail_after(
            &peer.join().unwrap(),
            &big,
            "the task's write overtook the loop's write queue: a direct write must wait while \
             the queue holds bytes",
        );
    }

    #[test]
    fn a_write_to_a_closed_connection_fails_with_its_error() {
        // The peer closes with unread data: the kernel answers with a reset.
        let (addr, peer) = peer(|mut conn| {
            let mut one = [0; 1];
            conn.read_exact(&mut one).unwrap();
            conn.write_all(b"bye").unwrap();
            std::thread::yield_now();
        });
        let mut lp = EventLoop::new();
        let failed = bounded(&mut lp, "a write after a reset", async move {
            let mut conn = task::net::connect(addr).await?;
            write_all(&mut conn, b"ab").await?; // "b" stays unread: the close resets
            let mut buf = [0; 16];
            // "bye", then end of file or the reset, depending on when the reset came.
            let mut read_error = None;
            loop {
                match read_some(&mut conn, &mut buf).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
            }
            let mut write_error = None;
            for _ in 0..1_000 {
                if let Err(e) = write_all(&mut conn, &[0; 1024]).await {
                    write_error = Some(e);
                    break;
                }
                task::yield_now().await; // let the reset arrive
            }
            Ok::<_, std::io::Error>((read_error, write_error))
        })
        .unwrap();
        peer.join().unwrap();
        let (read_error, write_error) = failed;
        if let Some(e) = read_error {
            assert_eq!(e.raw_os_error(), Some(libc::ECONNRESET), "{e}");
        }
        let e = write_error.expect("writes to a reset connection fail");
        assert!(
            matches!(e.raw_os_error(), Some(libc::EPIPE | libc::ECONNRESET)),
            "{e}"
        );
    }
}

mod reading {
    use super::*;

    #[test]
    fn a_reader_woken_by_readiness_finds_the_data_then_end_of_file() {
        let (addr, peer) = peer(|mut conn| {
            conn.write_all(b"hello").unwrap();
            conn.shutdown(std::net::Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).unwrap(); // until the task closes
        });
        let mut lp = EventLoop::new();
        let (got, after) = bounded(&mut lp, "data, then end of file", async move {
            let mut conn = task::net::connect(addr).await?;
            let mut got = Vec::new();
            let mut buf = [0; 64];
            loop {
                match read_some(&mut conn, &mut buf).await? {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            let after = read_some(&mut conn, &mut buf).await?; // end of file stays
            close(conn).await?;
            Ok::<_, std::io::Error>((got, after))
        })
        .unwrap();
        peer.join().unwrap();
        assert_eq!(got, b"hello");
        assert_eq!(after, 0, "a read after end of file finds end of file again");
        lp.run(RunMode::Default);
        assert_eq!(lp.fd_watchers(), 0);
    }

    #[test]
    fn a_reader_with_a_small_buffer_gets_every_byte_in_order() {
        let sent = pattern(256 * 1024);
        let data = sent.clone();
        let (addr, peer) = peer(move |mut conn| {
            conn.write_all(&data).unwrap(); // more than the task's buffer, many times over
        });
        let mut lp = EventLoop::new();
        let (got, reads) = bounded(&mut lp, "a small buffer", async move {
            let mut conn = task::net::connect(addr).await?;
            let mut got = Vec::new();
            let mut buf = [0; 1000];
            let mut reads = 0;
            loop {
                match read_some(&mut conn, &mut buf).await? {
                    0 => break,
                    n => {
                        reads += 1;
                        got.extend_from_slice(&buf[..n]);
                    }
                }
            }
            Ok::<_, std::io::Error>((got, reads))
        })
        .unwrap();
        peer.join().unwrap();
        assert_eq!(got.len(), sent.len(), "every byte arrived once");
        assert!(got == sent, "the bytes arrived out of order");
        assert!(
            reads >= sent.len() / 1000,
            "a read never returns more than its buffer"
        );
    }

    #[test]
    fn end_of_file_right_behind_the_last_bytes_is_not_lost() {
        // The peer's last bytes and its end of file both reach the kernel while the loop is
        // busy, so the next wait reports them as one event — and, edge-triggered, only once.
        // The read that follows gets the bytes, short of the buffer; the end of file is still
        // there to read, and nothing will report it again: a reader that took "short" for
        // "empty" would wait forever.
        let (go, peer_go) = std::sync::mpsc::channel::<()>();
        let (closed, peer_closed) = std::sync::mpsc::channel::<()>();
        let (addr, peer) = peer(move |mut conn| {
            peer_go.recv().unwrap();
            conn.write_all(b"last words").unwrap();
            drop(conn); // the end of file, right behind
            closed.send(()).unwrap();
        });
        let mut lp = EventLoop::new();
        let got = bounded(&mut lp, "end of file behind data", async move {
            let mut conn = task::net::connect(addr).await?;
            // Holds the loop's thread while this task waits to read, until the peer is done.
            task::defer(move |lp| {
                lp.set_timeout(
                    move |_| {
                        go.send(()).unwrap();
                        let wait = std::time::Duration::from_secs(10);
                        peer_closed
                            .recv_timeout(wait)
                            .expect("the peer sent and closed");
                    },
                    0,
                );
            });
            let mut buf = [0; 64];
            let mut got = Vec::new();
            loop {
                match read_some(&mut conn, &mut buf).await? {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            Ok::<_, std::io::Error>(got)
        });
        peer.join().unwrap();
        assert_eq!(got.unwrap(), b"last words");
    }

    #[test]
    fn a_reset_reaches_the_waiting_reader_as_an_error() {
        // The peer closes with a byte it never read: the kernel answers with a reset.
        let (addr, peer) = peer(|mut conn| {
            let mut one = [0; 1];
            conn.read_exact(&mut one).unwrap();
        });
        let mut lp = EventLoop::new();
        let outcome = bounded(&mut lp, "a reset while reading", async move {
            let mut conn = task::net::connect(addr).await?;
            write_all(&mut conn, b"ab").await?;
            let mut buf = [0; 16];
            read_some(&mut conn, &mut buf).await
        });
        peer.join().unwrap();
        let e = outcome.expect_err("a reset connection reads an error, not data");
        assert_eq!(e.raw_os_error(), Some(libc::ECONNRESET), "{e}");
    }

    #[test]
    fn a_task_that_does_not_read_leaves_the_bytes_in_the_kernel_and_gets_them_all_later() {
        // The peer writes until the kernel's buffers are full: it can only get there if
        // nothing reads for the task while the task does not read (backpressure).
        let (full, peer_full) = std::sync::mpsc::channel();
        let (addr, peer) = peer(move |mut conn| {
            conn.set_nonblocking(true).unwrap();
            let chunk = [7u8; 64 * 1024];
            let mut sent = 0;
            let mut would_block = 0;
            // Full once writes keep failing for a while (the receiver's window may open a
            // little more while the kernel moves data): a bound, not a timing assertion.
            while would_block < 1_000 {
                match conn.write(&chunk) {
                    Ok(n) => {
                        sent += n;
                        would_block = 0;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        would_block += 1;
                        std::thread::yield_now();
                    }
                    Err(e) => panic!("{e}"),
                }
                assert!(
                    sent < 256 << 20,
                    "the loop kept reading for a task that was not reading (no backpressure)"
                );
            }
            let _ = full.send(());
            sent // dropping the socket: end of file after the data
        });
        let mut lp = EventLoop::new();
        // Counts the loop's turns (a check handle runs once per iteration; unref'd, it keeps
        // nothing alive).
        let turns = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let counted = turns.clone();
        let counter = lp.check_init(move |_, _| counted.set(counted.get() + 1));
        lp.start_handle(counter).unwrap();
        eventloop::Ref::unref(counter, &mut lp);
        let (total, idle_turns) = bounded(&mut lp, "backpressure", async move {
            let mut conn = task::net::connect(addr).await?;
            // One byte, then no reading until the peer's writes block.
            let mut first = [0; 1];
            let mut total = read_some(&mut conn, &mut first).await?;
            let before = turns.get();
            task::spawn_blocking(move || peer_full.recv())
                .await
                .unwrap()
                .unwrap();
            let idle_turns = turns.get() - before;
            let mut buf = vec![0; 64 * 1024];
            loop {
                match read_some(&mut conn, &mut buf).await? {
                    0 => break,
                    n => total += n,
                }
            }
            Ok::<_, std::io::Error>((total, idle_turns))
        })
        .unwrap();
        let sent = peer.join().unwrap();
        // Correct code turns a handful of times: once per readable event until it stops
        // watching (or, edge-triggered, once per batch of arrivals), then once for the pool
        // job. A loop that kept a level-triggered watch on the unread socket turns at every
        // wait for as long as the peer keeps writing: hundreds of times at least.
        assert!(
            idle_turns < 50,
            "the loop turned {idle_turns} times while nobody read a readable socket: a \
             level-triggered watcher left on reports it at every wait (a spin)"
        );
        assert_eq!(total, sent, "every byte the peer sent was read once");
    }

    #[test]
    fn data_arriving_after_the_stream_was_dropped_wakes_nothing() {
        let (addr, peer) = peer(|mut conn| {
            let mut one = [0; 1];
            conn.read_exact(&mut one).unwrap();
            let _ = conn.write_all(&[1; 4096]); // the task's stream is gone by now
        });
        let mut lp = EventLoop::new();
        bounded(&mut lp, "a dropped stream", async move {
            let mut conn = task::net::connect(addr).await?;
            let mut buf = [0; 8];
            // A read that waits, dropped while waiting (by a timeout), then the stream.
            let waited = task::timeout(1, read_some(&mut conn, &mut buf)).await;
            assert!(waited.is_err(), "nothing was sent yet");
            write_all(&mut conn, b"x").await?;
            drop(conn);
            task::sleep(5).await;
            Ok::<_, std::io::Error>(())
        })
        .unwrap();
        peer.join().unwrap();
        lp.run(RunMode::Default);
        assert_eq!(lp.fd_watchers(), 0, "the dropped stream was closed");
    }
}

#[test]
fn a_stream_made_with_callbacks_is_read_by_the_task_once_wrapped() {
    let (addr, peer) = peer(|mut conn| {
        conn.write_all(b"hello").unwrap();
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).unwrap();
        answer
    });
    let mut lp = EventLoop::new();
    let wrapped = std::rc::Rc::new(std::cell::RefCell::new(None));
    let w = wrapped.clone();
    eventloop::net::TcpStream::connect(&mut lp, addr, move |lp, stream| {
        let stream = stream.unwrap();
        stream
            .read_start(lp, |_, _| {
                panic!("the data callback ran after the task took over")
            })
            .unwrap();
        *w.borrow_mut() = Some(AsyncStream::new(lp, stream).unwrap());
    })
    .unwrap();
    for _ in 0..1_000 {
        if wrapped.borrow().is_some() {
            break;
        }
        lp.run(RunMode::Once);
    }
    let mut conn = wrapped.borrow_mut().take().expect("connected");
    let got = bounded(&mut lp, "a wrapped stream", async move {
        let mut buf = [0; 16];
        let mut got = Vec::new();
        while got.len() < 5 {
            match read_some(&mut conn, &mut buf).await? {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        write_all(&mut conn, b"bye").await?;
        close(conn).await?;
        Ok::<_, std::io::Error>(got)
    })
    .unwrap();
    assert_eq!(got, b"hello");
    assert_eq!(peer.join().unwrap(), b"bye");
}

#[test]
fn every_stream_is_closed_at_the_end() {
    let (addr, peer) = reading_peer();
    let mut lp = EventLoop::new();
    bounded(&mut lp, "a write and a close", async move {
        let mut conn = task::net::connect(addr).await?;
        write_all(&mut conn, b"hello").await?;
        close(conn).await
    })
    .unwrap();
    assert_eq!(peer.join().unwrap(), b"hello");
    lp.run(RunMode::Default);
    assert_eq!(lp.fd_watchers(), 0);
}

/// A read polled with a waker of its own around the task's (what a combinator polls with):
/// the stream keeps it apart from a task's own waiter, and the bytes that arrive wake the
/// task through it — then a read with the task's own waker replaces it.
#[test]
fn a_read_polled_with_a_wrapping_waker_is_woken_through_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake, Waker};

    /// Counts its wakes and passes them on to the task's own waker.
    struct Wrapping {
        task: Waker,
        woken: AtomicUsize,
    }
    impl Wake for Wrapping {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.woken.fetch_add(1, Ordering::SeqCst);
            self.task.wake_by_ref();
        }
    }

    let (addr, peer) = peer(|mut conn| {
        let mut go = [0; 2];
        conn.read_exact(&mut go).unwrap();
        conn.write_all(b"ping").unwrap();
        let mut go_again = [0; 2];
        conn.read_exact(&mut go_again).unwrap();
        conn.write_all(b"pong").unwrap();
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).unwrap();
    });
    let mut lp = EventLoop::new();
    let (got, woken) = bounded(
        &mut lp,
        "a read woken through a wrapping waker",
        async move {
            let mut conn = task::net::connect(addr).await?;
            // The peer answers only after this: the read below is polled before the loop can
            // say the socket is readable, so it registers its waker and waits.
            write_all(&mut conn, b"go").await?;
            let mut buf = [0; 16];
            let mut wrapping: Option<Arc<Wrapping>> = None;
            let n = poll_fn(|cx| {
                let wrapping = wrapping.get_or_insert_with(|| {
                    Arc::new(Wrapping {
                        task: cx.waker().clone(),
                        woken: AtomicUsize::new(0),
                    })
                });
                let waker = Waker::from(wrapping.clone());
                Pin::new(&mut conn).poll_read(&mut Context::from_waker(&waker), &mut buf)
            })
            .await?;
            let mut got = buf[..n].to_vec();
            // The task's own waiter now: the foreign one must not stay behind it.
            write_all(&mut conn, b"go").await?;
            while got.len() < 8 {
                match read_some(&mut conn, &mut buf).await? {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            close(conn).await?;
            let woken = wrapping.map_or(0, |w| w.woken.load(Ordering::SeqCst));
            Ok::<_, std::io::Error>((got, woken))
        },
    )
    .unwrap();
    assert_eq!(got, b"pingpong");
    assert_eq!(
        woken, 1,
        "the bytes woke the read's own (wrapping) waker once, and the task's own read after it \
         did not wake it again"
    );
    peer.join().unwrap();
}
