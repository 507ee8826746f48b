//! Chapter 10's TCP stream as futures, at its edges: the write a task makes itself when
//! nothing waits (and the queue it must wait behind when something does), and the read it
//! makes itself once the loop says the socket is readable (end of file, errors, more than
//! its buffer, backpressure, a stream dropped while data arrives).
//!
//! The peers are plain blocking sockets on threads of their own; every test runs its loop
//! under a watchdog timer, so a lost wake-up fails in seconds, naming itself.

use std::future::poll_fn;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::thread::JoinHandle;

use eventloop::Ref;
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
    let message = format!("{what}: the task was never polled again (a lost wake-up)");
    let watchdog = lp
        .set_timeout(move |_| panic!("{message}"), 10_000)
        .unref(lp);
    let outcome = lp.block_on(future);
    lp.clear_timeout(watchdog);
    outcome.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// Bytes that say where they are: a reordering or a lost byte shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
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
        let got = peer.join().unwrap();
        assert_eq!(got.len(), BIG + 4, "every byte arrived once");
        assert!(
            got[..BIG] == big[..] && got.ends_with(b"tail"),
            "the small write overtook the rest of the big one: a write went to the kernel \
             while bytes written before it still waited"
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
        let got = peer.join().unwrap();
        assert_eq!(got.len(), BIG + 4, "every byte arrived once");
        assert!(
            got[..BIG] == big[..] && got.ends_with(b"tail"),
            "the task's write overtook the loop's write queue: a direct write must wait \
             while the queue holds bytes"
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
