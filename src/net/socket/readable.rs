//! The readable side: `'data'`, pausing, and `'end'` (Node's `lib/internal/streams/readable.js`
//! as `net.Socket` uses it, and `onStreamRead` in `lib/internal/stream_base_commons.js`).
//!
//! A socket is *flowing* once a `'data'` listener is added (or [`Socket::resume`] is called)
//! and until [`Socket::pause`]. While flowing with nothing kept, a chunk read goes straight
//! to the listeners, lent from the loop's read buffer — no copy. Otherwise it is kept, and
//! once the kept bytes reach the high-water mark the handle stops reading: the kernel's
//! buffer fills, the peer's window closes, and the peer slows down. That is all
//! backpressure is on the reading side.
//!
//! End of file is not `'end'` at once: Node emits it on a tick (`endReadableNT`), after the
//! last kept chunk was delivered. A socket that is not half-open then ends its own side on
//! the next tick (`endWritableNT`).

use std::io;

use super::events::{self, Args, Event, Handler, OnConnect};
use super::{
    ALLOW_HALF_OPEN, CLOSE_EMITTED, CONNECTING, DESTROYED, ERROR_EMITTED, FIN_RECEIVED,
    HANDLE_READING, Key, R_DATA_LISTENING, R_EMITTED_READABLE, R_END_EMITTED, R_ENDED, R_ERRORED,
    R_FLOWING, R_HAS_FLOWING, R_NEED_READABLE, R_PAUSED, R_READING, R_RESUME_SCHEDULED, R_SYNC,
    Socket, W_FINISHED, destroy, state, writable,
};
use crate::event_loop::EventLoop;
use crate::net::NetError;

fn flags(lp: &mut EventLoop, key: Key) -> u32 {
    state(lp, key).map_or(DESTROYED | CLOSE_EMITTED, |s| s.flags)
}

fn set(lp: &mut EventLoop, key: Key, bits: u32) {
    if let Some(s) = state(lp, key) {
        s.flags |= bits;
    }
}

fn clear(lp: &mut EventLoop, key: Key, bits: u32) {
    if let Some(s) = state(lp, key) {
        s.flags &= !bits;
    }
}

// ANCHOR: on_stream_read
/// The handle's read callback (`onStreamRead`).
pub(super) fn on_stream_read(lp: &mut EventLoop, key: Key, result: io::Result<&[u8]>) {
    let now = lp.now();
    match result {
        Ok(bytes) if !bytes.is_empty() => {
            let Some(s) = state(lp, key).filter(|s| !s.has(DESTROYED)) else {
                return;
            };
            s.bytes_read += bytes.len() as u64;
            let rearm = super::destroy::note_activity(s, now);
            // The common case in one look at the state: flowing, nothing kept — the chunk
            // goes to the listeners as it is (what `push` and `addChunk` come to).
            let must = R_FLOWING | R_DATA_LISTENING;
            let direct = s.flags & (must | R_SYNC | R_ERRORED | R_ENDED) == must && s.rlen == 0;
            if direct {
                s.flags &= !R_READING;
            }
            if rearm {
                super::destroy::touch(lp, key);
            }
            if direct {
                events::emit(lp, key, Event::Data, Args::Data(bytes));
            } else if !push(lp, key, bytes) {
                stop_reading(lp, key); // enough is kept: let the kernel hold the rest
            }
        }
        Ok(_) => {
            super::destroy::touch(lp, key);
            // End of file: the handle stopped reading by itself.
            clear(lp, key, HANDLE_READING);
            if flags(lp, key) & R_END_EMITTED == 0 {
                clear(lp, key, R_READING);
                on_eof_chunk(lp, key);
                read(lp, key, Some(0));
            }
        }
        Err(e) => {
            clear(lp, key, HANDLE_READING);
            destroy(lp, key, Some(NetError::os(e, "read", None)));
        }
    }
}
// ANCHOR_END: on_stream_read

/// Hands a chunk to the reader (`readable.push`); false once enough is kept.
fn push(lp: &mut EventLoop, key: Key, chunk: &[u8]) -> bool {
    let f = flags(lp, key);
    if f & (DESTROYED | R_ERRORED | R_ENDED) != 0 {
        return false;
    }
    clear(lp, key, R_READING);
    add_chunk(lp, key, chunk);
    let Some(s) = state(lp, key) else {
        return false;
    };
    !s.has(R_ENDED) && (s.rlen < s.rhwm as usize || s.rlen == 0)
}

// ANCHOR: add_chunk
/// Delivers a chunk to the `'data'` listeners at once if the socket flows and nothing is
/// kept before it; keeps it otherwise (`addChunk`).
fn add_chunk(lp: &mut EventLoop, key: Key, chunk: &[u8]) {
    let Some(s) = state(lp, key) else { return };
    let direct = R_FLOWING | R_DATA_LISTENING;
    if s.flags & (direct | R_SYNC) == direct && s.rlen == 0 {
        events::emit(lp, key, Event::Data, Args::Data(chunk));
        return;
    }
    s.rlen += chunk.len();
    s.more().rbuf.push_back(chunk.to_vec());
    if s.has(R_NEED_READABLE) {
        emit_readable(lp, key);
    }
}
// ANCHOR_END: add_chunk

/// The reader has seen end of file (`onEofChunk`).
fn on_eof_chunk(lp: &mut EventLoop, key: Key) {
    let f = flags(lp, key);
    if f & R_ENDED != 0 {
        return;
    }
    set(lp, key, R_ENDED);
    if f & R_SYNC != 0 {
        emit_readable(lp, key);
    } else {
        clear(lp, key, R_NEED_READABLE);
        set(lp, key, R_EMITTED_READABLE);
        emit_readable_now(lp, key);
    }
}

/// Schedules a look at what is kept, on a tick (`emitReadable`).
fn emit_readable(lp: &mut EventLoop, key: Key) {
    clear(lp, key, R_NEED_READABLE);
    if flags(lp, key) & R_EMITTED_READABLE == 0 {
        set(lp, key, R_EMITTED_READABLE);
        lp.next_tick(move |lp| emit_readable_now(lp, key));
    }
}

/// `emitReadable_`: (a `'readable'` event, which this layer does not offer,) then flow.
fn emit_readable_now(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if !s.has(DESTROYED | R_ERRORED) && (s.rlen > 0 || s.has(R_ENDED)) {
        s.flags &= !R_EMITTED_READABLE;
    }
    if !s.has(R_FLOWING | R_ENDED) && s.rlen <= s.rhwm as usize {
        s.flags |= R_NEED_READABLE;
    }
    flow(lp, key);
}

/// Delivers kept chunks while the socket flows (`flow`).
fn flow(lp: &mut EventLoop, key: Key) {
    while flags(lp, key) & R_FLOWING != 0 && read(lp, key, None) {}
}

// ANCHOR: read
/// Node's `readable.read(n)` for the two calls the socket makes: `None` (one kept chunk,
/// while flowing) and `Some(0)` (read nothing, but start the handle if more is wanted, and
/// notice the end). Returns true if it delivered a chunk to the `'data'` listeners.
pub(super) fn read(lp: &mut EventLoop, key: Key, n: Option<usize>) -> bool {
    let Some(s) = state(lp, key) else {
        return false;
    };
    if n != Some(0) {
        s.flags &= !R_EMITTED_READABLE;
    }
    let hwm = s.rhwm as usize;
    if n == Some(0) && s.has(R_NEED_READABLE) && (s.rlen >= hwm || s.has(R_ENDED)) {
        if s.rlen == 0 && s.has(R_ENDED) {
            end_readable(lp, key);
        } else {
            emit_readable(lp, key);
        }
        return false;
    }
    let mut take = how_much(s, n);
    if take == 0 && s.has(R_ENDED) {
        if s.rlen == 0 {
            end_readable(lp, key);
        }
        return false;
    }
    let mut do_read = s.has(R_NEED_READABLE) || s.rlen == 0 || s.rlen - take < hwm;
    if s.has(R_READING | R_ENDED | DESTROYED | R_ERRORED) {
        do_read = false;
    }
    if do_read {
        s.flags |= R_READING | R_SYNC;
        if s.rlen == 0 {
            s.flags |= R_NEED_READABLE;
        }
        read_more(lp, key);
        clear(lp, key, R_SYNC);
        let Some(s) = state(lp, key) else {
            return false;
        };
        if !s.has(R_READING) {
            take = how_much(s, n);
        }
    }
    let Some(s) = state(lp, key) else {
        return false;
    };
    let chunk = if take > 0 { take_kept(s, take) } else { None };
    if chunk.is_none() && s.rlen <= hwm {
        s.flags |= R_NEED_READABLE;
    }
    if s.rlen == 0 {
        if !s.has(R_ENDED) {
            s.flags |= R_NEED_READABLE;
        }
        // `read()` past the end (but not `read(0)`): the end is due.
        if n.is_none() && s.has(R_ENDED) {
            end_readable(lp, key);
        }
    }
    let Some(chunk) = chunk else {
        return false;
    };
    if flags(lp, key) & (ERROR_EMITTED | CLOSE_EMITTED) == 0 {
        events::emit(lp, key, Event::Data, Args::Data(&chunk));
    }
    true
}
// ANCHOR_END: read

/// How many kept bytes a read returns (`howMuchToRead`).
fn how_much(s: &super::State, n: Option<usize>) -> usize {
    match n {
        Some(0) => 0,
        _ if s.rlen == 0 && s.has(R_ENDED) => 0,
        None if s.has(R_FLOWING) && s.rlen > 0 => s.more.as_ref().map_or(0, |m| m.rbuf[0].len()),
        None => s.rlen,
        Some(n) if n <= s.rlen => n,
        Some(_) if s.has(R_ENDED) => s.rlen,
        Some(_) => 0,
    }
}

/// Takes `n` kept bytes: the first chunk (flowing), or all of them.
fn take_kept(s: &mut super::State, n: usize) -> Option<Vec<u8>> {
    let rbuf = &mut s.more.as_mut()?.rbuf;
    let chunk = if rbuf.front().is_some_and(|c| c.len() == n) {
        rbuf.pop_front()?
    } else {
        let all: Vec<u8> = rbuf.drain(..).flatten().collect();
        debug_assert_eq!(all.len(), n, "a read takes one chunk or everything");
        all
    };
    s.rlen -= chunk.len();
    Some(chunk)
}

/// `_read`: more is wanted. Start the handle, or, while connecting, once connected.
fn read_more(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if s.has(CONNECTING) || s.handle.is_none() {
        events::add(
            lp,
            key,
            Event::Connect,
            true,
            Handler::Internal(OnConnect::Read),
        );
    } else if !s.has(HANDLE_READING) {
        start_reading(lp, key);
    }
}

/// Starts the handle reading (`tryReadStart`).
pub(super) fn start_reading(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    let Some(handle) = s.handle.filter(|_| !s.has(HANDLE_READING)) else {
        return;
    };
    s.flags |= HANDLE_READING;
    let started = handle.read_start(lp, move |lp, data| on_stream_read(lp, key, data));
    if let Err(e) = started {
        clear(lp, key, HANDLE_READING);
        destroy(lp, key, Some(NetError::os(e, "read", None)));
    }
}

fn stop_reading(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    s.flags &= !HANDLE_READING;
    if let Some(handle) = s.handle.filter(|_| !s.has(DESTROYED)) {
        let _ = handle.read_stop(lp);
    }
}

// ANCHOR: end_readable
/// The end is due: `'end'` on the next tick (`endReadable`).
fn end_readable(lp: &mut EventLoop, key: Key) {
    if flags(lp, key) & R_END_EMITTED == 0 {
        set(lp, key, R_ENDED);
        lp.next_tick(move |lp| end_readable_nt(lp, key));
    }
}

/// `endReadableNT`: `'end'`, then the socket's own end (not half-open) or its destruction
/// (both sides done).
fn end_readable_nt(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if s.has(R_ERRORED | CLOSE_EMITTED | R_END_EMITTED) || s.rlen != 0 {
        return;
    }
    s.flags |= R_END_EMITTED;
    if !s.has(ALLOW_HALF_OPEN) {
        s.flags |= FIN_RECEIVED; // `onReadableStreamEnd`, the socket's first 'end' listener
    }
    events::emit(lp, key, Event::End, Args::None);
    let Some(s) = state(lp, key) else { return };
    if writable::writable(s) && !s.has(ALLOW_HALF_OPEN) {
        lp.next_tick(move |lp| {
            // `endWritableNT`
            if state(lp, key).is_some_and(|s| writable::writable(s)) {
                writable::end(lp, key, None, None);
            }
        });
    } else if s.has(W_FINISHED) {
        destroy(lp, key, None);
    }
}
// ANCHOR_END: end_readable

/// `resume`: flow from the next tick on.
fn resume(lp: &mut EventLoop, key: Key) {
    let Some(s) = state(lp, key) else { return };
    if !s.has(R_FLOWING) {
        s.flags |= R_HAS_FLOWING | R_FLOWING;
        if !s.has(R_RESUME_SCHEDULED) {
            s.flags |= R_RESUME_SCHEDULED;
            lp.next_tick(move |lp| resume_now(lp, key));
        }
    }
    clear(lp, key, R_PAUSED);
}

/// `resume_`: start reading if needed, deliver what is kept.
fn resume_now(lp: &mut EventLoop, key: Key) {
    if flags(lp, key) & R_READING == 0 {
        read(lp, key, Some(0));
    }
    clear(lp, key, R_RESUME_SCHEDULED);
    flow(lp, key);
    if flags(lp, key) & (R_FLOWING | R_READING) == R_FLOWING {
        read(lp, key, Some(0));
    }
}

impl Socket {
    // ANCHOR: on_data
    /// Adds a `'data'` listener and makes the socket flow (unless it was paused): each
    /// chunk read is handed to `f`, in order. The bytes are lent — copy what must outlive
    /// the call. A listener added before the connection is up gets the first bytes too.
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
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.end_with(lp, b"echo me")));
    /// s.on_data(lp, |_, data| assert_eq!(data, b"echo me")); // added before the connection
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn on_data(
        self,
        lp: &mut EventLoop,
        f: impl FnMut(&mut EventLoop, &[u8]) + 'static,
    ) -> Self {
        events::add(
            lp,
            self.key(lp),
            Event::Data,
            false,
            Handler::Data(Box::new(f)),
        );
        set(lp, self.key(lp), R_DATA_LISTENING);
        if flags(lp, self.key(lp)) & (R_HAS_FLOWING | R_FLOWING) != R_HAS_FLOWING {
            resume(lp, self.key(lp));
        }
        self
    }
    // ANCHOR_END: on_data

    /// Stops delivering `'data'` (`socket.pause()`): chunks read meanwhile are kept, and once
    /// the readable high-water mark is kept the socket stops reading, so the peer waits.
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
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.end_with(lp, b"later")));
    /// s.on_data(lp, move |lp, _| assert!(!s.is_paused(lp))).pause(lp);
    /// lp.set_timeout(move |lp| drop(s.resume(lp)), 50); // the echo is kept until now
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn pause(self, lp: &mut EventLoop) -> Self {
        let f = flags(lp, self.key(lp));
        if f & (R_HAS_FLOWING | R_FLOWING) != R_HAS_FLOWING {
            set(lp, self.key(lp), R_HAS_FLOWING);
            clear(lp, self.key(lp), R_FLOWING);
        }
        set(lp, self.key(lp), R_PAUSED);
        self
    }

    /// Delivers `'data'` again, from the next tick on (`socket.resume()`), starting with
    /// what was kept.
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
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.end_with(lp, b"kept")));
    /// s.pause(lp).on_data(lp, |_, data| assert_eq!(data, b"kept"));
    /// lp.set_timeout(move |lp| {
    ///     s.resume(lp); // 'data' gets what was kept
    ///     assert!(!s.is_paused(lp));
    /// }, 10);
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn resume(self, lp: &mut EventLoop) -> Self {
        resume(lp, self.key(lp));
        self
    }

    /// True after [`pause`](Self::pause), until [`resume`](Self::resume)
    /// (`socket.isPaused()`).
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
    /// let s = Socket::connect(lp, addr, |lp, s| drop(s.end(lp)));
    /// assert!(!s.is_paused(lp));
    /// s.pause(lp);
    /// assert!(s.is_paused(lp));
    /// s.on_data(lp, |_, _| {}).resume(lp);
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn is_paused(self, lp: &EventLoop) -> bool {
        super::state_ref(lp, self.key(lp)).is_some_and(|s| {
            s.has(R_PAUSED) || s.flags & (R_HAS_FLOWING | R_FLOWING) == R_HAS_FLOWING
        })
    }
}
