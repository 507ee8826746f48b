//! Writing to a connection: try at once, queue the rest, finish callbacks asynchronously,
//! drain, and the half-close that waits for the queue (`uv_write`, `uv__write`,
//! `uv__write_callbacks`, `uv__drain` and `uv_shutdown` in libuv's `src/unix/stream.c`).

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::Shutdown;

use super::stream::{
    CONNECTING, ConnectCallback, SHUTTING, Stream, TcpStream, stream_mut, update_interest,
};
use super::{NetStats, canceled, closed, copy_error, net};
use crate::event_loop::EventLoop;
use crate::heap::Key;

/// What a write (or a shutdown) reports.
pub(super) type WriteCallback = Box<dyn FnOnce(&mut EventLoop, io::Result<()>)>;
type DrainCallback = Box<dyn FnMut(&mut EventLoop)>;

/// Queued requests one writable event may finish before the loop moves on (libuv's 32).
const WRITES_PER_EVENT: usize = 32;

// ANCHOR: requests
/// A write waiting for the socket to take its bytes (`uv_write_t`).
pub(super) struct WriteRequest {
    data: Vec<u8>,
    written: usize,
    callback: WriteCallback,
}

/// What only a busy connection needs, boxed so an idle one does not pay for it.
#[derive(Default)]
pub(super) struct Requests {
    pub(super) connect: Option<ConnectCallback>,
    /// Writes the kernel has not fully taken yet, in order.
    pub(super) queue: VecDeque<WriteRequest>,
    /// Bytes in `queue` not yet written (`write_queue_size`).
    queued_bytes: usize,
    /// Finished writes whose callbacks have not run (`write_completed_queue`).
    done: Vec<(WriteCallback, io::Result<()>)>,
    /// The watcher is fed: the pending phase will run `done` (`uv__io_feed` feeds once).
    fed: bool,
    /// Queued writes were seen waiting since the last drain: the next time the queue
    /// empties is a drain (a fed `flush` with nothing queued is not).
    waited: bool,
    shutdown: Option<WriteCallback>,
    on_drain: Option<DrainCallback>,
}
// ANCHOR_END: requests

/// One `write` system call; `Interrupted` is retried.
fn write_once(lp: &mut EventLoop, key: Key, at: Option<&[u8]>) -> io::Result<usize> {
    let n = net(lp);
    let s = n.streams.get_mut(key).expect("checked by the caller");
    let requests = s.requests.as_deref();
    let data = match at {
        Some(data) => data,
        None => {
            let head = requests
                .and_then(|r| r.queue.front())
                .expect("a queued write");
            &head.data[head.written..]
        }
    };
    write_stream(s, &mut n.stats, data)
}

/// `write_once` for a caller that already holds the stream and the counters.
fn write_stream(s: &Stream, stats: &mut NetStats, data: &[u8]) -> io::Result<usize> {
    loop {
        stats.writes += 1;
        // std's `TcpStream::write` is `send(…, MSG_NOSIGNAL)` on Linux: a reset peer is
        // `EPIPE` here, never a SIGPIPE that kills the process.
        match (&s.socket.io).write(data) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

// ANCHOR: feed
/// Hands a finished write to the pending phase: the stream's watcher is fed a writable
/// event there, and `flush` runs the callback (`uv__io_feed`). Nothing is allocated.
fn feed(lp: &mut EventLoop, key: Key, callback: WriteCallback, result: io::Result<()>) {
    let Ok(s) = stream_mut(lp, key) else { return };
    let watch = s.watch.expect("registered");
    let requests = s.requests();
    requests.done.push((callback, result));
    if !requests.fed {
        requests.fed = true;
        lp.feed_fd(lp.fd_watch(watch));
    }
}
// ANCHOR_END: feed

/// Runs the callbacks of finished writes, oldest first (`uv__write_callbacks`), then finds
/// the stream's requests again (a callback may have closed it). Writes finished while they
/// run wait for the next run.
fn run_done(
    lp: &mut EventLoop,
    key: Key,
    mut done: Vec<(WriteCallback, io::Result<()>)>,
) -> Option<&mut Requests> {
    for (callback, result) in done.drain(..) {
        lp.request_finished();
        callback(lp, result);
        lp.checkpoint();
    }
    let requests = stream_mut(lp, key).ok()?.requests.as_mut()?; // closed: the closing phase ran them
    // Give the emptied list back, so the next write's completion does not allocate one.
    if requests.done.is_empty() {
        requests.done = done;
    }
    Some(requests)
}

// ANCHOR: flush
/// The socket is writable (or the watcher was fed): write queued requests until one is
/// partial, the socket is full, an error happens, or the per-event cap; then run the
/// finished callbacks, and if the queue is empty, the drain listener and a waiting shutdown.
/// The stream is looked up again only after something ran that could change it.
pub(super) fn flush(lp: &mut EventLoop, key: Key) {
    let Ok(s) = stream_mut(lp, key) else { return };
    let mut requests = s.requests();
    if !requests.queue.is_empty() {
        requests.waited = true;
        write_queued(lp, key);
        let Ok(s) = stream_mut(lp, key) else { return };
        requests = s.requests();
    }
    requests.fed = false;
    let requests = if requests.done.is_empty() {
        requests
    } else {
        let done = std::mem::take(&mut requests.done);
        let Some(requests) = run_done(lp, key, done) else {
            return;
        };
        requests
    };
    if !requests.queue.is_empty() {
        return;
    }
    if std::mem::take(&mut requests.waited)
        && let Some(mut on_drain) = requests.on_drain.take()
    {
        on_drain(lp);
        lp.checkpoint();
        if let Ok(s) = stream_mut(lp, key) {
            s.requests().on_drain.get_or_insert(on_drain);
        }
    } else if requests.shutdown.is_none() {
        return; // the common case: nothing more to do
    }
    finish_shutdown(lp, key);
}

/// Writes from the head of the queue, then tells the watcher what the stream wants now.
fn write_queued(lp: &mut EventLoop, key: Key) {
    let mut failed = None;
    for _ in 0..WRITES_PER_EVENT {
        let Some(requests) = net(lp).streams.get(key).and_then(|s| s.requests.as_ref()) else {
            break;
        };
        if requests.queue.is_empty() {
            break;
        }
        let result = write_once(lp, key, None);
        let requests = stream_mut(lp, key).expect("live").requests();
        match result {
            Ok(n) => {
                requests.queued_bytes -= n;
                let head = requests.queue.front_mut().expect("non-empty");
                head.written += n;
                if head.written < head.data.len() {
                    break; // partial: the socket is full
                }
                let head = requests.queue.pop_front().expect("non-empty");
                requests.done.push((head.callback, Ok(())));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    if let Some(e) = failed {
        // The connection is broken (`EPIPE`, `ECONNRESET`): the head write fails with the
        // error, and so does every write behind it — none of them could ever succeed.
        // (libuv fails the head and leaves the rest for `uv_close` to cancel.)
        let requests = stream_mut(lp, key).expect("live").requests();
        requests.queued_bytes = 0;
        for request in std::mem::take(&mut requests.queue) {
            requests.done.push((request.callback, Err(copy_error(&e))));
        }
    }
    update_interest(lp, key);
}
// ANCHOR_END: flush

// ANCHOR: finish_shutdown
/// Half-closes the socket if a shutdown waits and the queue is empty (`uv__drain`).
fn finish_shutdown(lp: &mut EventLoop, key: Key) {
    let Ok(s) = stream_mut(lp, key) else { return };
    let Some(requests) = s.requests.as_mut() else {
        return;
    };
    if !requests.queue.is_empty() {
        return;
    }
    let Some(callback) = requests.shutdown.take() else {
        return;
    };
    let result = s.socket.shutdown(Shutdown::Write);
    lp.request_finished();
    callback(lp, result);
    lp.checkpoint();
}
// ANCHOR_END: finish_shutdown

/// Runs, at close or after a failed connect, every callback still owed: finished writes
/// with their result, then queued writes and a waiting shutdown with `ECANCELED`
/// (`uv__stream_destroy`).
pub(super) fn cancel_all(lp: &mut EventLoop, requests: &mut Requests) {
    let mut owed = std::mem::take(&mut requests.done);
    owed.extend(
        std::mem::take(&mut requests.queue)
            .into_iter()
            .map(|r| (r.callback, Err(canceled()))),
    );
    if let Some(shutdown) = requests.shutdown.take() {
        owed.push((shutdown, Err(canceled())));
    }
    for (callback, result) in owed {
        lp.request_finished();
        callback(lp, result);
        lp.checkpoint();
    }
}

impl TcpStream {
    // ANCHOR: try_write
    /// Writes as much of `data` as the kernel takes now, and nothing more
    /// (`uv_try_write`): no copy, no queue, no callback, no request. Returns how many bytes
    /// were taken; the caller decides what to do with the rest — typically [`write`] it,
    /// which is what Node's streams do (a try first, a write request only for what is
    /// left), so a write that completes at once costs no trip through the pending phase.
    ///
    /// # Errors
    /// `WouldBlock` when nothing could be taken: the kernel's buffer is full, the stream is
    /// still connecting, or earlier writes are queued (they must go first); `EPIPE` after
    /// [`shutdown`](Self::shutdown); the connection's error (`ECONNRESET`, `EPIPE`) as
    /// `write(2)` reports it; `NotFound` for a closed stream.
    ///
    /// [`write`]: Self::write
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     let taken = conn.try_write(lp, b"hi").unwrap(); // an empty send buffer takes it all
    ///     assert_eq!(taken, 2);
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn try_write(self, lp: &mut EventLoop, data: &[u8]) -> io::Result<usize> {
        let key = self.key(lp)?;
        let n = net(lp); // one lookup for the checks and the write
        let s = n.streams.get(key).ok_or_else(|| closed("TCP stream"))?;
        if s.flags & SHUTTING != 0 {
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        }
        let queued = s.requests.as_ref().is_some_and(|r| !r.queue.is_empty());
        if s.flags & CONNECTING != 0 || queued {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if data.is_empty() {
            return Ok(0);
        }
        write_stream(s, &mut n.stats, data)
    }
    // ANCHOR_END: try_write

    /// Writes `data` the way Node's `socket.write(data)` does when given no callback: a
    /// [`try_write`](Self::try_write) first, and a write request only for the bytes the
    /// kernel did not take (they are copied and sent in order, and count toward
    /// [`write_queue_size`](Self::write_queue_size) and `on_drain`). A message the kernel
    /// takes at once costs one system call and nothing else.
    ///
    /// # Errors
    /// `NotFound` for a closed stream; `EPIPE` after [`shutdown`](Self::shutdown); the
    /// connection's error (`ECONNRESET`, `EPIPE`) when the first try meets it — a later
    /// failure of the queued rest is not reported (there is no callback), but the stream's
    /// reader sees it.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.send(lp, b"fire and forget").unwrap();
    ///     assert_eq!(conn.write_queue_size(lp), 0); // the kernel took it all
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn send(self, lp: &mut EventLoop, data: &[u8]) -> io::Result<()> {
        let taken = match self.try_write(lp, data) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        if taken < data.len() {
            self.write(lp, &data[taken..], |_, _| {})?;
        }
        Ok(())
    }

    // ANCHOR: write_solution
    // ANCHOR: write_start
    /// Writes `data` (`uv_write`). If nothing is queued, the bytes go to the kernel at once
    /// — one `write`, which may take them all; what it does not take is copied onto the
    /// write queue and sent as the socket becomes writable. `callback` gets `Ok(())` once
    /// every byte is in the kernel, or the error (`EPIPE`, `ECONNRESET`; `ECANCELED` if the
    /// stream is closed first). It always runs later, never inside `write`: a write done at
    /// once reports from the pending phase. Writes made while connecting wait for the
    /// connection.
    ///
    /// # Errors
    /// `NotFound` for a closed stream; `EPIPE` after [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.write(lp, b"hello", |_, sent| sent.unwrap()).unwrap(); // reported later, never inside write
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "a stream found live above is live"
    )]
    pub fn write(
        self,
        lp: &mut EventLoop,
        data: &[u8],
        callback: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
    ) -> io::Result<()> {
        let key = self.key(lp)?;
        let s = stream_mut(lp, key)?;
        if s.flags & SHUTTING != 0 {
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        }
        let connecting = s.flags & CONNECTING != 0;
        let queue_empty = s.requests.as_ref().is_none_or(|r| r.queue.is_empty());
        let callback: WriteCallback = Box::new(callback);
        lp.request_started(); // until its callback runs, whatever the outcome
        // ANCHOR_END: write_start
        // exercise: write at once if you may, queue only the rest
        // contract: When write returns Ok, `data` is in the kernel or queued behind every older
        // contract: byte of this stream, never ahead of them. The callback runs later, never inside
        // contract: write: from the pending phase if the write finished (or failed) at once, else
        // contract: when its bytes have gone. Queued bytes count in queued_bytes (write_queue_size)
        // contract: and stats.queued_writes, and the watcher asks for writability, unless
        // contract: connecting.
        // contract: Example: connected, nothing queued, room in the kernel: write(b"hi") writes at
        // contract: once, write_queue_size stays 0, and the callback gets Ok(()) in the pending
        // contract: phase.
        // nudge: When may a write go to the kernel right away? What happens to the part the kernel
        // nudge: does not take, and who will send it?
        // hint: Only a stream that is connected and has nothing queued may write now (else the
        // hint: bytes would overtake earlier ones): one write_once(lp, key, Some(data)), where
        // hint: WouldBlock means 0 bytes taken and any other error goes to feed(..., Err(e)). All
        // hint: taken (an empty write too): feed(..., Ok(())), never the callback itself. Else
        // hint: count net(lp).stats.queued_writes, push a WriteRequest with a copy of the rest, add
        // hint: the rest to queued_bytes, and update_interest unless connecting.
        let mut written = 0;
        if queue_empty && !connecting && !data.is_empty() {
            match write_once(lp, key, Some(data)) {
                Ok(n) => written = n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    feed(lp, key, callback, Err(e));
                    return Ok(());
                }
            }
        }
        if written == data.len() {
            feed(lp, key, callback, Ok(()));
            return Ok(());
        }
        let n = net(lp);
        n.stats.queued_writes += 1;
        let requests = n.streams.get_mut(key).expect("live").requests();
        requests.queued_bytes += data.len() - written;
        requests.queue.push_back(WriteRequest {
            data: data[written..].to_vec(),
            written: 0,
            callback,
        });
        if !connecting {
            update_interest(lp, key); // connecting already waits for writability
        }
        Ok(())
        // end exercise
    }
    // ANCHOR_END: write_solution

    // ANCHOR: backpressure
    /// Bytes written but not yet taken by the kernel (`uv_stream_get_write_queue_size`):
    /// the backpressure signal. 0 for a closed stream.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.write(lp, &vec![0; 16 << 20], |_, _| {}).unwrap(); // more than the kernel holds
    ///     assert!(conn.write_queue_size(lp) > 0); // backpressure: stop writing until 'drain'
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn write_queue_size(self, lp: &EventLoop) -> usize {
        self.with(lp, |s| s.requests.as_ref().map_or(0, |r| r.queued_bytes))
            .unwrap_or(0)
    }

    /// Calls `on_drain` each time the write queue empties after writes had to wait —
    /// Node's `'drain'`: the moment to write more. Replaces an earlier listener.
    ///
    /// # Errors
    /// `NotFound` for a closed stream.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.on_drain(lp, |_| println!("the queue emptied: write more")).unwrap();
    /// #   drop(conn.close(lp, |_| {}));
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn on_drain(
        self,
        lp: &mut EventLoop,
        on_drain: impl FnMut(&mut EventLoop) + 'static,
    ) -> io::Result<()> {
        let key = self.key(lp)?;
        stream_mut(lp, key)?.requests().on_drain = Some(Box::new(on_drain));
        Ok(())
    }
    // ANCHOR_END: backpressure

    /// Half-closes the connection once every queued write is sent (`uv_shutdown`): the
    /// peer reads all the data, then end of file, and can still write back. `callback`
    /// runs after the `shutdown(SHUT_WR)` — from the pending phase if nothing was queued.
    /// Later writes fail with `EPIPE`.
    ///
    /// # Errors
    /// `NotFound` for a closed stream; `ENOTCONN` while connecting or when already shut
    /// down (as libuv).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # let mut lp = EventLoop::new();
    /// # let any = "127.0.0.1:0".parse().unwrap();
    /// # let server = net::TcpListener::listen(&mut lp, any, 16, |_, c| assert!(c.is_ok())).unwrap();
    /// # let addr = server.local_addr(&lp).unwrap();
    /// net::TcpStream::connect(&mut lp, addr, move |lp, conn| {
    ///     let conn = conn.unwrap();
    ///     conn.send(lp, b"last words").unwrap();
    ///     conn.shutdown(lp, move |lp, done| {
    ///         done.unwrap(); // the queued bytes went first, then the FIN
    ///         conn.close(lp, |_| {}).unwrap();
    ///     })
    ///     .unwrap();
    ///     assert!(conn.send(lp, b"more").is_err()); // EPIPE
    /// #   server.close(lp, |_| {}).unwrap();
    /// })
    /// .unwrap();
    /// # lp.run(RunMode::Default);
    /// ```
    pub fn shutdown(
        self,
        lp: &mut EventLoop,
        callback: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
    ) -> io::Result<()> {
        let key = self.key(lp)?;
        let s = stream_mut(lp, key)?;
        if s.flags & (SHUTTING | CONNECTING) != 0 {
            return Err(io::Error::from_raw_os_error(libc::ENOTCONN));
        }
        s.flags |= SHUTTING;
        s.socket.shut();
        let requests = s.requests();
        requests.shutdown = Some(Box::new(callback));
        let queue_empty = requests.queue.is_empty();
        lp.request_started();
        if queue_empty {
            lp.queue_pending("SHUTDOWNWRAP", move |lp| finish_shutdown(lp, key));
        }
        Ok(())
    }
}
