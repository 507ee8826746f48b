//! The writable side: `write`, backpressure and `'drain'`, `end` and `'finish'` (Node's
//! `lib/internal/streams/writable.js` as `net.Socket` uses it, with `writeGeneric` and
//! `onWriteComplete` of `lib/internal/stream_base_commons.js`).
//!
//! One write is in flight at a time. It is tried at once (`uv_try_write`): taken whole by
//! the kernel, it is done before `write` returns. Otherwise the rest goes to the handle's
//! write queue, and writes made meanwhile wait here until it is done — then they go
//! together. `writableLength` counts every byte not yet taken; `write` returns `false` when
//! it reaches the high-water mark, and `'drain'` follows once it is back to 0.
//!
//! `end` waits for the last write, then half-closes (`_final`: `uv_shutdown`); `'finish'`
//! comes a tick after the shutdown is done.

use std::io;

use super::events::{self, Args, Event, Handler, OnConnect};
use super::{
    CLOSE_EMITTED, CONNECTING, DESTROYED, ERROR_EMITTED, FIN_RECEIVED, Key, R_END_EMITTED,
    R_ERRORED, Socket, State, W_AFTER_WRITE_PENDING, W_CORKED, W_ENDED, W_ENDING, W_ERRORED,
    W_FINAL_CALLED, W_FINISHED, W_NEED_DRAIN, W_PREFINISHED, W_SYNC, W_WRITING, WriteCallback,
    destroy, state,
};
use crate::event_loop::EventLoop;
use crate::net::NetError;
use crate::net::TcpStream;
use crate::net::error::clone_error;

/// `socket.writable`: writes are still accepted.
pub(super) fn writable(s: &State) -> bool {
    !s.has(DESTROYED | W_ERRORED | W_ENDING | W_ENDED)
}

fn destroyed_error(what: &str) -> io::Error {
    NetError::node(
        "ERR_STREAM_DESTROYED",
        &format!("Cannot call {what} after a stream was destroyed"),
        io::ErrorKind::NotConnected,
    )
}

/// Calls `callback` with `error` on the next tick.
fn fail_later(lp: &mut EventLoop, callback: Option<WriteCallback>, error: io::Error) {
    if let Some(callback) = callback {
        lp.next_tick(move |lp| callback(lp, Err(error)));
    }
}

// ANCHOR: write
/// `socket.write` (with `writeAfterFIN` once the peer ended a socket that is not
/// half-open).
fn write(lp: &mut EventLoop, key: Key, data: &[u8], callback: Option<WriteCallback>) -> bool {
    let now = lp.now();
    let Some(s) = state(lp, key) else {
        fail_later(lp, callback, destroyed_error("write"));
        return false;
    };
    if s.has(FIN_RECEIVED) && s.has(W_ENDING) {
        let error = NetError::node(
            "EPIPE",
            "This socket has been ended by the other party",
            io::ErrorKind::BrokenPipe,
        );
        fail_later(lp, callback, clone_error(&error));
        destroy(lp, key, Some(error));
        return false;
    }
    // The common case in one look at the state: nothing in flight or waiting, no callback,
    // no 'drain' owed. What the general path does then comes to: try the kernel; if it
    // takes everything, the write is over (`onwrite` with nothing to schedule).
    let busy = W_ENDING | DESTROYED | W_WRITING | W_ERRORED | W_CORKED | W_NEED_DRAIN | CONNECTING;
    if s.flags & busy == 0
        && callback.is_none()
        && s.more.as_ref().is_none_or(|m| m.wbuf.is_empty())
        && let Some(handle) = s.handle
    {
        if super::destroy::note_activity(s, now) {
            super::destroy::touch(lp, key);
        }
        let tried = handle.try_write(lp, data);
        if let Ok(n) = tried
            && n == data.len()
        {
            if let Some(s) = state(lp, key) {
                s.bytes_written += n as u64;
            }
            return true;
        }
        // Not all taken: count the write as `writeOrBuffer` does, and go on from the try.
        let Some(s) = state(lp, key) else {
            return false;
        };
        s.pendingcb += 1;
        s.wlen += data.len();
        s.writelen = data.len();
        s.flags |= W_WRITING | W_SYNC;
        after_try(lp, key, handle, data, tried);
        return write_result(lp, key);
    }
    write_checked(lp, key, data, callback).unwrap_or(false)
}

/// `_write`: refuses a write after `end` or `destroy`, else counts it and sends or keeps it.
fn write_checked(
    lp: &mut EventLoop,
    key: Key,
    data: &[u8],
    callback: Option<WriteCallback>,
) -> Result<bool, ()> {
    let Some(s) = state(lp, key) else {
        return Err(());
    };
    let error = if s.has(W_ENDING) {
        NetError::node(
            "ERR_STREAM_WRITE_AFTER_END",
            "write after end",
            io::ErrorKind::BrokenPipe,
        )
    } else if s.has(DESTROYED) {
        destroyed_error("write")
    } else {
        s.pendingcb += 1;
        return Ok(write_or_buffer(lp, key, data, callback));
    };
    fail_later(lp, callback, clone_error(&error));
    destroy(lp, key, Some(error)); // `errorOrDestroy`: nothing if already destroyed
    Err(())
}

/// Sends the write if none is in flight, else keeps it (`writeOrBuffer`). Returns whether
/// the caller may write more.
fn write_or_buffer(
    lp: &mut EventLoop,
    key: Key,
    data: &[u8],
    callback: Option<WriteCallback>,
) -> bool {
    let Some(s) = state(lp, key) else {
        return false;
    };
    s.wlen += data.len();
    if s.has(W_WRITING | W_ERRORED | W_CORKED) {
        s.more().wbuf.push((data.to_vec(), callback));
    } else {
        s.writelen = data.len();
        s.flags |= W_WRITING | W_SYNC;
        if callback.is_some() {
            s.more().writecb = callback;
        }
        write_generic(lp, key, data);
    }
    write_result(lp, key)
}

/// What `write` returns, once the write was sent or kept: whether the caller may write
/// more (and if not, a `'drain'` is owed).
fn write_result(lp: &mut EventLoop, key: Key) -> bool {
    let Some(s) = state(lp, key) else {
        return false;
    };
    s.flags &= !W_SYNC;
    let ok = s.wlen < s.whwm as usize || s.wlen == 0;
    if !ok {
        s.flags |= W_NEED_DRAIN;
    }
    ok && !s.has(DESTROYED | W_ERRORED)
}
// ANCHOR_END: write

// ANCHOR: write_generic
/// Hands one write to the connection (`_writeGeneric` + `writeGeneric`): a try first; what
/// the kernel does not take goes on the handle's write queue, and completes later. While
/// connecting, the write waits for `'connect'`.
fn write_generic(lp: &mut EventLoop, key: Key, data: &[u8]) {
    let Some(s) = state(lp, key) else { return };
    if s.has(CONNECTING) {
        s.more().pending_write = Some(data.to_vec());
        let wait = Handler::Internal(OnConnect::Write);
        events::add(lp, key, Event::Connect, true, wait);
        return;
    }
    let Some(handle) = s.handle else {
        let closed = NetError::node(
            "ERR_SOCKET_CLOSED",
            "Socket is closed",
            io::ErrorKind::NotConnected,
        );
        return on_write(lp, key, Some(closed));
    };
    super::destroy::touch(lp, key);
    let tried = handle.try_write(lp, data);
    after_try(lp, key, handle, data, tried);
}
// ANCHOR_END: write_generic

/// What follows a try: done, or the rest queued on the handle, or the error.
fn after_try(
    lp: &mut EventLoop,
    key: Key,
    handle: TcpStream,
    data: &[u8],
    tried: io::Result<usize>,
) {
    let taken = match tried {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(e) => return on_write(lp, key, Some(NetError::os(e, "write", None))),
    };
    if let Some(s) = state(lp, key) {
        s.bytes_written += taken as u64;
    }
    if taken == data.len() {
        return on_write(lp, key, None); // done at once: `req.async` is false
    }
    let rest = &data[taken..];
    let bytes = rest.len() as u64;
    let queued = handle.write(lp, rest, move |lp, result| {
        on_write_complete(lp, key, result, bytes)
    });
    match queued {
        Ok(()) => super::destroy::note_write_queue(lp, key, handle),
        Err(e) => on_write(lp, key, Some(NetError::os(e, "write", None))),
    }
}

/// The handle's write callback (`onWriteComplete`).
fn on_write_complete(lp: &mut EventLoop, key: Key, result: io::Result<()>, bytes: u64) {
    let Some(s) = state(lp, key) else { return };
    if s.has(DESTROYED) {
        return on_write(lp, key, None); // a write that `destroy` canceled
    }
    if result.is_ok() {
        s.bytes_written += bytes;
    }
    super::destroy::touch(lp, key);
    on_write(
        lp,
        key,
        result.err().map(|e| NetError::os(e, "write", None)),
    );
}

// ANCHOR: on_write
/// The write in flight is done (`onwrite`): count it, send what waited behind it, and run
/// its callback — and `'drain'` — now if it completed later, on a tick if it completed
/// inside `write`.
fn on_write(lp: &mut EventLoop, key: Key, error: Option<io::Error>) {
    let Some(s) = state(lp, key) else { return };
    let sync = s.has(W_SYNC);
    let callback = s.more.as_mut().and_then(|m| m.writecb.take());
    s.flags &= !W_WRITING;
    s.wlen -= s.writelen;
    s.writelen = 0;
    if let Some(error) = error {
        s.flags |= W_ERRORED | R_ERRORED;
        s.more().errored.get_or_insert(clone_error(&error));
        if sync {
            lp.next_tick(move |lp| on_write_error(lp, key, error, callback));
        } else {
            on_write_error(lp, key, error, callback);
        }
        return;
    }
    if s.more.as_ref().is_some_and(|m| !m.wbuf.is_empty()) {
        clear_buffer(lp, key);
    }
    if !sync {
        return after_write(lp, key, 1, callback);
    }
    let Some(s) = state(lp, key) else { return };
    let need_drain = s.has(W_NEED_DRAIN) && s.wlen == 0;
    match callback {
        Some(callback) => {
            s.flags |= W_AFTER_WRITE_PENDING;
            lp.next_tick(move |lp| after_write(lp, key, 1, Some(callback)));
        }
        None if need_drain && !s.has(W_AFTER_WRITE_PENDING) => {
            s.flags |= W_AFTER_WRITE_PENDING;
            lp.next_tick(move |lp| after_write(lp, key, 1, None));
        }
        None => {
            s.pendingcb -= 1;
            if s.has(W_ENDING) {
                finish_maybe(lp, key, true);
            }
        }
    }
}

/// `afterWrite`: `'drain'` if it is due, the write's callback, then maybe `'finish'`.
fn after_write(lp: &mut EventLoop, key: Key, count: u32, callback: Option<WriteCallback>) {
    let Some(s) = state(lp, key) else { return };
    s.flags &= !W_AFTER_WRITE_PENDING;
    if s.flags & (W_ENDING | W_NEED_DRAIN | DESTROYED) == W_NEED_DRAIN && s.wlen == 0 {
        s.flags &= !W_NEED_DRAIN;
        events::emit(lp, key, Event::Drain, Args::None);
    }
    if let Some(s) = state(lp, key) {
        s.pendingcb -= count;
    }
    if let Some(callback) = callback {
        callback(lp, Ok(()));
    }
    let Some(s) = state(lp, key) else { return };
    if s.has(DESTROYED) {
        error_buffer(lp, key);
    }
    if state(lp, key).is_some_and(|s| s.has(W_ENDING)) {
        finish_maybe(lp, key, true);
    }
}
// ANCHOR_END: on_write

/// `onwriteError`: the write's callback hears of it, so do the writes waiting behind it,
/// and the socket is destroyed with the error.
fn on_write_error(lp: &mut EventLoop, key: Key, error: io::Error, callback: Option<WriteCallback>) {
    if let Some(s) = state(lp, key) {
        s.pendingcb -= 1;
    }
    if let Some(callback) = callback {
        callback(lp, Err(clone_error(&error)));
    }
    error_buffer(lp, key);
    destroy(lp, key, Some(error));
}

/// The callbacks of writes that will never be sent, and of `end` (`errorBuffer`).
pub(super) fn error_buffer(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if s.has(W_WRITING) {
        return;
    }
    let mut owed: Vec<(WriteCallback, io::Error)> = Vec::new();
    if let Some(more) = s.more.as_deref_mut() {
        let error = |what| {
            more.errored
                .as_ref()
                .map_or_else(|| destroyed_error(what), clone_error)
        };
        for (chunk, callback) in std::mem::take(&mut more.wbuf) {
            s.wlen -= chunk.len();
            if let Some(callback) = callback {
                owed.push((callback, error("write")));
            }
        }
        for callback in std::mem::take(&mut more.on_finished) {
            owed.push((callback, error("end")));
        }
    }
    for (callback, error) in owed {
        callback(lp, Err(error));
    }
}

/// Sends every write that waited, as one (`clearBuffer` with `_writev`).
fn clear_buffer(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if s.has(DESTROYED | W_CORKED) {
        return;
    }
    let Some(more) = s.more.as_deref_mut().filter(|m| !m.wbuf.is_empty()) else {
        return;
    };
    let waiting = std::mem::take(&mut more.wbuf);
    s.pendingcb -= waiting.len() as u32 - 1;
    let mut data = Vec::with_capacity(waiting.iter().map(|(c, _)| c.len()).sum());
    let mut callbacks = Vec::new();
    for (chunk, callback) in waiting {
        data.extend_from_slice(&chunk);
        callbacks.extend(callback);
    }
    let callback: Option<WriteCallback> = if callbacks.is_empty() {
        None
    } else {
        Some(Box::new(
            move |lp: &mut EventLoop, result: io::Result<()>| {
                for callback in callbacks {
                    let result = match &result {
                        Ok(()) => Ok(()),
                        Err(e) => Err(clone_error(e)),
                    };
                    callback(lp, result);
                }
            },
        ))
    };
    s.writelen = data.len();
    s.flags |= W_WRITING | W_SYNC;
    if callback.is_some() {
        s.more().writecb = callback;
    }
    write_generic(lp, key, &data);
    if let Some(s) = state(lp, key) {
        s.flags &= !W_SYNC;
    }
}

/// Sends the write that waited for the connection.
pub(super) fn send_pending(lp: &mut EventLoop, key: Key) {
    let Some(data) = state(lp, key).and_then(|s| s.more.as_mut()?.pending_write.take()) else {
        return;
    };
    write_generic(lp, key, &data);
}

// ANCHOR: end
/// `socket.end([data][, callback])`.
pub(super) fn end(
    lp: &mut EventLoop,
    key: Key,
    data: Option<&[u8]>,
    callback: Option<WriteCallback>,
) {
    if state(lp, key).is_none() {
        return fail_later(lp, callback, destroyed_error("end"));
    }
    if state(lp, key).is_some_and(|s| s.has(W_CORKED)) {
        Socket(lp.tag(key)).uncork(lp); // `end` sends what cork held back
    }
    let mut error = None;
    if let Some(data) = data
        && write_checked(lp, key, data, None).is_err()
    {
        error = Some(());
    }
    let Some(s) = state(lp, key) else {
        return fail_later(lp, callback, destroyed_error("end"));
    };
    let error = if error.is_some() {
        Some(destroyed_error("end"))
    } else if !s.has(W_ENDING | W_ERRORED) {
        s.flags |= W_ENDING;
        finish_maybe(lp, key, true);
        if let Some(s) = state(lp, key) {
            s.flags |= W_ENDED;
        }
        None
    } else if s.has(W_FINISHED) {
        Some(NetError::node(
            "ERR_STREAM_ALREADY_FINISHED",
            "Cannot call end after a stream was finished",
            io::ErrorKind::BrokenPipe,
        ))
    } else if s.has(DESTROYED) {
        Some(destroyed_error("end"))
    } else {
        None
    };
    let Some(callback) = callback else { return };
    let Some(s) = state(lp, key) else {
        return fail_later(lp, Some(callback), destroyed_error("end"));
    };
    if let Some(error) = error {
        fail_later(lp, Some(callback), error);
    } else if s.has(W_ERRORED) {
        let error = s.more.as_ref().and_then(|m| m.errored.as_ref());
        let error = error.map_or_else(|| destroyed_error("end"), clone_error);
        fail_later(lp, Some(callback), error);
    } else if s.has(W_FINISHED) {
        lp.next_tick(move |lp| callback(lp, Ok(())));
    } else {
        s.more().on_finished.push(callback);
    }
}
// ANCHOR_END: end

/// `needFinish`: ended, nothing in flight or waiting, not destroyed or finished.
fn need_finish(s: &State) -> bool {
    let blocking = DESTROYED | W_FINISHED | W_WRITING | ERROR_EMITTED | CLOSE_EMITTED | W_ERRORED;
    s.has(W_ENDING)
        && !s.has(blocking)
        && s.wlen == 0
        && s.more.as_ref().is_none_or(|m| m.wbuf.is_empty())
}

// ANCHOR: finish
/// `finishMaybe`: once the last write is done, shut down (`_final`), then `'finish'`.
fn finish_maybe(lp: &mut EventLoop, key: Key, sync: bool) {
    if !state(lp, key).is_some_and(|s| need_finish(s)) {
        return;
    }
    prefinish(lp, key);
    let Some(s) = state(lp, key) else { return };
    if s.pendingcb != 0 {
        return;
    }
    if sync {
        s.pendingcb += 1;
        lp.next_tick(move |lp| {
            let Some(s) = state(lp, key) else { return };
            if need_finish(s) {
                finish(lp, key);
            } else {
                s.pendingcb -= 1;
            }
        });
    } else if need_finish(s) {
        s.pendingcb += 1;
        finish(lp, key);
    }
}

/// Calls `_final` once.
fn prefinish(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if s.has(W_PREFINISHED | W_FINAL_CALLED) {
        return;
    }
    if s.has(DESTROYED) {
        s.flags |= W_FINAL_CALLED | W_PREFINISHED;
        return;
    }
    s.flags |= W_FINAL_CALLED | W_SYNC;
    s.pendingcb += 1;
    final_(lp, key);
    if let Some(s) = state(lp, key) {
        s.flags &= !W_SYNC;
    }
}

/// `Socket._final`: shut the writing side down — once connected.
pub(super) fn final_(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if s.has(CONNECTING) {
        let wait = Handler::Internal(OnConnect::Final);
        return events::add(lp, key, Event::Connect, true, wait);
    }
    let Some(handle) = s.handle else {
        return on_finish(lp, key, None);
    };
    // Node's `afterShutdown` ignores the outcome: the socket finishes either way.
    let started = handle.shutdown(lp, move |lp, _| on_finish(lp, key, None));
    match started {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => on_finish(lp, key, None),
        Err(e) => on_finish(lp, key, Some(NetError::os(e, "shutdown", None))),
    }
}

/// `_final`'s callback: `'finish'` on the next tick.
fn on_finish(lp: &mut EventLoop, key: Key, error: Option<io::Error>) {
    let Some(s) = state(lp, key) else { return };
    if s.has(W_PREFINISHED) {
        return; // called twice (Node reports ERR_MULTIPLE_CALLBACK)
    }
    s.pendingcb -= 1;
    if let Some(error) = error {
        let callbacks = std::mem::take(&mut s.more().on_finished);
        for callback in callbacks {
            callback(lp, Err(clone_error(&error)));
        }
        return destroy(lp, key, Some(error));
    }
    if need_finish(s) {
        s.flags |= W_PREFINISHED;
        s.pendingcb += 1;
        lp.next_tick(move |lp| finish(lp, key));
    }
}

/// `finish`: `end`'s callbacks, `'finish'`, and the socket's destruction if its reading
/// side is done too.
fn finish(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    s.pendingcb -= 1;
    s.flags |= W_FINISHED;
    let callbacks = std::mem::take(&mut s.more().on_finished);
    for callback in callbacks {
        callback(lp, Ok(()));
    }
    events::emit(lp, key, Event::Finish, Args::None);
    if state(lp, key).is_some_and(|s| s.has(R_END_EMITTED)) {
        destroy(lp, key, None);
    }
}
// ANCHOR_END: finish

impl Socket {
    // ANCHOR: socket_write
    /// Writes `data` (`socket.write(data)`): the kernel gets it at once if it takes it,
    /// else it waits, in order. Returns `false` once the bytes waiting reach the writable
    /// high-water mark (16 KiB): stop writing until `'drain'`. Nothing is lost when it
    /// returns `false` — it is a request to wait, not a refusal.
    ///
    /// After [`end`](Self::end), or on a destroyed socket, the write fails: `'error'`
    /// (`ERR_STREAM_WRITE_AFTER_END`; `EPIPE` after the peer ended a socket that is not
    /// half-open), and `false`.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// assert!(s.write(lp, b"hello")); // below the high-water mark: go on writing
    /// s.on_data(lp, |_, echo| assert_eq!(echo, b"hello")).end(lp);
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn write(self, lp: &mut EventLoop, data: &[u8]) -> bool {
        write(lp, self.key(lp), data, None)
    }

    /// [`write`](Self::write), with a callback that runs once the kernel has taken these
    /// bytes (`Ok`), or with the error that lost them.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.write_with(lp, b"hello", move |lp, result| {
    ///     result.unwrap(); // the kernel took the bytes
    ///     assert_eq!(s.bytes_written(lp), 5);
    /// });
    /// s.on_data(lp, |_, _| {}).end(lp);
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn write_with(
        self,
        lp: &mut EventLoop,
        data: &[u8],
        callback: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
    ) -> bool {
        write(lp, self.key(lp), data, Some(Box::new(callback)))
    }
    // ANCHOR_END: socket_write

    /// Ends the writing side once everything written is sent (`socket.end()`): the peer
    /// reads to the end, then sees end of file. `'finish'` follows.
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// Socket::connect(lp, addr, |lp, s| {
    ///     s.write(lp, b"last words");
    ///     s.on_data(lp, |_, _| {}).end(lp); // sent after the words
    ///     assert!(!s.is_writable(lp));
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn end(self, lp: &mut EventLoop) -> Self {
        end(lp, self.key(lp), None, None);
        self
    }

    /// Writes `data`, then ends (`socket.end(data)`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.on_data(lp, |_, echo| assert_eq!(echo, b"bye")).end_with(lp, b"bye");
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn end_with(self, lp: &mut EventLoop, data: &[u8]) -> Self {
        end(lp, self.key(lp), Some(data), None);
        self
    }

    /// Writes `data` (none if empty), ends, and calls `callback` at `'finish'`, or with the
    /// error that prevented it (`socket.end(data, callback)`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// let s = Socket::connect(lp, addr, |_, _| {});
    /// s.on_data(lp, |_, _| {}).end_then(lp, b"bye", move |lp, result| {
    ///     assert!(result.is_ok()); // 'finish': every byte sent, our side shut down
    ///     assert_eq!(s.bytes_written(lp), 3);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn end_then(
        self,
        lp: &mut EventLoop,
        data: &[u8],
        callback: impl FnOnce(&mut EventLoop, io::Result<()>) + 'static,
    ) -> Self {
        let data = Some(data).filter(|d| !d.is_empty());
        end(lp, self.key(lp), data, Some(Box::new(callback)));
        self
    }

    /// Holds writes back until [`uncork`](Self::uncork), to send them together
    /// (`socket.cork()`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// Socket::connect(lp, addr, |lp, s| {
    ///     s.cork(lp);
    ///     s.write(lp, b"one ");
    ///     s.write(lp, b"two");
    ///     assert_eq!(s.writable_length(lp), 7); // held back
    ///     s.uncork(lp).on_data(lp, |_, _| {}).end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn cork(self, lp: &mut EventLoop) -> Self {
        if let Some(s) = state(lp, self.key(lp)) {
            s.flags |= W_CORKED;
        }
        self
    }

    /// Sends what [`cork`](Self::cork) held back (`socket.uncork()`).
    ///
    /// ```
    /// # use eventloop::prelude::*;
    /// # use eventloop::net::{Server, Socket, SocketOptions};
    /// # let mut lp = EventLoop::new();
    /// # lp.run_main(|lp| {
    /// # let server = Server::create(lp, |lp, s| drop(s.on_data(lp, move |lp, d| drop(s.write(lp, d))).on_error(lp, |_, _| {})));
    /// # server.on_connection(lp, move |lp, _| server.close(lp, |_, _| {}));
    /// # server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
    /// # let addr = server.address(lp).unwrap();
    /// Socket::connect(lp, addr, |lp, s| {
    ///     s.cork(lp);
    ///     s.write(lp, b"one ");
    ///     s.write(lp, b"two");
    ///     s.uncork(lp); // both go to the kernel together
    ///     assert_eq!(s.writable_length(lp), 0);
    ///     s.on_data(lp, |_, _| {}).end(lp);
    /// });
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn uncork(self, lp: &mut EventLoop) -> Self {
        if let Some(s) = state(lp, self.key(lp))
            && s.has(W_CORKED)
        {
            s.flags &= !W_CORKED;
            if !s.has(W_WRITING) {
                clear_buffer(lp, self.key(lp));
            }
        }
        self
    }
}
