//! The end of a socket: `destroy`, `'error'` and `'close'` (Node's
//! `lib/internal/streams/destroy.js` and `Socket.prototype._destroy`), and the idle timeout
//! (`socket.setTimeout`).
//!
//! `destroy` closes the handle at once — writes still queued are dropped — and the events
//! follow in Node's order: `'error'` (if it was given one) on the next tick, `'close'` in
//! the closing phase, when the handle's close callback runs. A socket is forgotten once its
//! `'close'` was emitted; its id is stale after that.

use std::io;

use super::events::{self, Args, Event, Handler};
use super::{
    CLOSE_EMITTED, CONNECTING, DESTROYED, ERROR_EMITTED, Key, R_ERRORED, Socket, W_ERRORED, state,
};
use crate::event_loop::{EventLoop, Ref, Timeout};
use crate::net::error::clone_error;
use crate::net::{TcpStream, net, server};

/// A socket's idle timeout (`socket.setTimeout(ms)`): an unref'd timer, put off by every
/// read, write and connect.
///
/// Node refreshes its timer at each of them (`_unrefTimer`: a move in the timer lists). Here
/// activity only notes the loop's time, and the timer, when it fires, looks: if the socket
/// was active since, it waits again for what is left. The timeout comes at the same moment,
/// and the busy path — two notes per request on an HTTP server — costs a store, not a list
/// operation.
pub(crate) struct IdleTimeout {
    timer: Timeout,
    ms: u64,
    /// The loop's time at the last activity.
    last_active: u64,
    /// The timer fired and was not armed again since.
    fired: bool,
    /// The handle's write queue when a write last had to wait (`kLastWriteQueueSize`): a
    /// write that is still making progress holds the timeout off.
    last_write_queue: usize,
}

// ANCHOR: destroy
/// `socket.destroy([error])`: closes the connection now; `'error'` (with `error`) on the
/// next tick, `'close'` in the closing phase. Does nothing the second time.
pub(crate) fn destroy(lp: &mut EventLoop, key: Key, error: Option<io::Error>) {
    let Some(s) = state(lp, key) else { return };
    if s.has(DESTROYED) {
        return;
    }
    // `Writable.prototype.destroy`: writes still waiting and `end`'s callbacks hear of it
    // first, on a tick of their own.
    if s.more
        .as_ref()
        .is_some_and(|m| !m.wbuf.is_empty() || !m.on_finished.is_empty())
    {
        lp.next_tick(move |lp| super::writable::error_buffer(lp, key));
    }
    let Some(s) = state(lp, key) else { return };
    if let Some(error) = &error {
        s.more().errored.get_or_insert_with(|| clone_error(error));
        s.flags |= W_ERRORED | R_ERRORED;
    }
    s.flags |= DESTROYED;
    s.flags &= !CONNECTING;
    let timer = s.more.as_mut().and_then(|m| m.timeout.take());
    let had_error = error.is_some();
    let handle = s.handle.take();
    let server = s.server;
    if let Some(t) = timer {
        lp.clear_timeout(t.timer);
    }
    // `closeSocketHandle`: 'close' comes from the handle's close callback.
    let closed = move |lp: &mut EventLoop| emit_close(lp, key, had_error);
    match handle {
        Some(handle) if handle.close(lp, closed).is_ok() => {}
        // No handle (a connect that failed): the closing phase all the same.
        _ => lp.close_io("TCPWRAP", move |lp| emit_close(lp, key, had_error)),
    }
    match error {
        Some(error) => lp.next_tick(move |lp| {
            emit_error(lp, key, &error);
            set_close_emitted(lp, key);
        }),
        None => lp.next_tick(move |lp| set_close_emitted(lp, key)),
    }
    if let Some(server) = server {
        server::connection_gone(lp, server);
    }
}
// ANCHOR_END: destroy

/// `emitCloseNT` of a socket (which emits no `'close'` itself: the handle's close does).
fn set_close_emitted(lp: &mut EventLoop, key: Key) {
    if let Some(s) = state(lp, key) {
        s.flags |= CLOSE_EMITTED;
    }
}

/// `emitErrorNT`: once. An error nobody listens for ends the program, as `throw` would.
fn emit_error(lp: &mut EventLoop, key: Key, error: &io::Error) {
    let Some(s) = state(lp, key) else { return };
    if s.has(ERROR_EMITTED) {
        return;
    }
    s.flags |= ERROR_EMITTED;
    if !events::emit(lp, key, Event::Error, Args::Error(error)) {
        panic!("Unhandled 'error' event: {error}");
    }
}

/// The handle is closed: `'close'`, and the socket is forgotten.
fn emit_close(lp: &mut EventLoop, key: Key, had_error: bool) {
    events::emit(lp, key, Event::Close, Args::Close(had_error));
    net(lp).sockets.remove(key);
}

// ANCHOR: touch
/// Notes activity at `now` on a socket already looked up; true if its fired timeout must
/// be armed again (then call [`touch`]).
pub(super) fn note_activity(s: &mut super::State, now: u64) -> bool {
    match s.more.as_mut().and_then(|m| m.timeout.as_mut()) {
        Some(t) => {
            t.last_active = now;
            t.fired
        }
        None => false,
    }
}

/// Activity on the socket: its idle timeout starts over (`_unrefTimer`).
pub(super) fn touch(lp: &mut EventLoop, key: Key) {
    let now = lp.now();
    let Some(t) = state(lp, key).and_then(|s| s.more.as_mut()?.timeout.as_mut()) else {
        return;
    };
    t.last_active = now;
    if t.fired {
        // It fired already: activity arms it again (what `refresh` does to a fired timer).
        t.fired = false;
        let ms = t.ms;
        let timer = arm(lp, key, ms);
        if let Some(t) = idle_timeout(lp, key) {
            t.timer = timer;
        }
    }
}
// ANCHOR_END: touch

fn idle_timeout(lp: &mut EventLoop, key: Key) -> Option<&mut IdleTimeout> {
    state(lp, key).and_then(|s| s.more.as_mut()?.timeout.as_mut())
}

/// A write had to wait: remember the handle's queue (`kLastWriteQueueSize`).
pub(super) fn note_write_queue(lp: &mut EventLoop, key: Key, handle: TcpStream) {
    let queued = handle.write_queue_size(lp);
    if let Some(t) = idle_timeout(lp, key) {
        t.last_write_queue = queued;
    }
}

fn arm(lp: &mut EventLoop, key: Key, ms: u64) -> Timeout {
    lp.set_timeout(move |lp| on_timeout(lp, key), ms).unref(lp)
}

/// The idle timer fired (`_onTimeout`): wait again if the socket was active meanwhile, or
/// if a write is still making progress; else `'timeout'`.
fn on_timeout(lp: &mut EventLoop, key: Key) {
    let now = lp.now();
    let Some(s) = state(lp, key) else { return };
    let handle = s.handle;
    let Some(t) = s.more.as_mut().and_then(|m| m.timeout.as_mut()) else {
        return;
    };
    let idle = now.saturating_sub(t.last_active);
    let mut wait = (idle < t.ms).then(|| t.ms - idle);
    if wait.is_none()
        && t.last_write_queue > 0
        && let Some(handle) = handle
    {
        let last = t.last_write_queue;
        let queued = handle.write_queue_size(lp);
        if queued != last {
            let t = idle_timeout(lp, key).expect("looked up above");
            t.last_write_queue = queued;
            wait = Some(t.ms);
        }
    }
    if let Some(ms) = wait {
        let timer = arm(lp, key, ms);
        if let Some(t) = idle_timeout(lp, key) {
            t.timer = timer;
        }
        return;
    }
    if let Some(t) = idle_timeout(lp, key) {
        t.fired = true;
    }
    events::emit(lp, key, Event::Timeout, Args::None);
}

impl Socket {
    /// Closes the connection now (`socket.destroy()`): queued writes are dropped, and
    /// `'close'` follows in the closing phase. Does nothing the second time.
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
    /// let s = Socket::connect(lp, addr, |_, _| unreachable!("destroyed first"));
    /// s.write(lp, b"dropped");
    /// s.destroy(lp);
    /// s.on_close(lp, |_, had_error| assert!(!had_error));
    /// # server.close(lp, |_, _| {}); // no connection to wait for
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn destroy(self, lp: &mut EventLoop) {
        destroy(lp, self.key(lp), None);
    }

    /// Destroys the socket with `error`: `'error'` on the next tick, then `'close'`
    /// (`socket.destroy(err)`).
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
    /// s.on_error(lp, |_, err| assert_eq!(err.to_string(), "gave up"))
    ///     .on_close(lp, |_, had_error| assert!(had_error));
    /// s.destroy_with(lp, std::io::Error::other("gave up"));
    /// # server.close(lp, |_, _| {}); // no connection to wait for
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn destroy_with(self, lp: &mut EventLoop, error: io::Error) {
        destroy(lp, self.key(lp), Some(error));
    }

    /// Ends the socket, and destroys it once everything is sent (`socket.destroySoon()`).
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
    /// s.write(lp, b"sent first");
    /// s.on_finish(lp, move |lp| assert_eq!(s.bytes_written(lp), 10));
    /// s.destroy_soon(lp);
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn destroy_soon(self, lp: &mut EventLoop) {
        if self.is_writable(lp) {
            self.end(lp);
        }
        let finished = state(lp, self.key(lp)).is_some_and(|s| s.has(super::W_FINISHED));
        if finished {
            self.destroy(lp);
        } else {
            let once = Handler::Plain(Box::new(move |lp| self.destroy(lp)));
            events::add(lp, self.key(lp), Event::Finish, true, once);
        }
    }

    // ANCHOR: set_timeout
    /// Emits `'timeout'` after `ms` milliseconds without a read, a write or a connect
    /// (`socket.setTimeout(ms)`); 0 turns it off. The timeout only tells: the socket stays
    /// open until a listener ends or destroys it. It does not keep the loop alive.
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
    /// s.on_data(lp, |_, _| {}).set_timeout(lp, 10); // 10 ms idle
    /// s.on_timeout(lp, move |lp| s.destroy(lp)); // hang up on a silent peer
    /// # });
    /// # }).unwrap();
    /// ```
    pub fn set_timeout(self, lp: &mut EventLoop, ms: u64) -> Self {
        let Some(s) = state(lp, self.key(lp)).filter(|s| !s.has(DESTROYED)) else {
            return self;
        };
        let old = s.more.as_mut().and_then(|m| m.timeout.take());
        if let Some(old) = old {
            lp.clear_timeout(old.timer);
        }
        if ms > 0 {
            let key = self.key(lp);
            let timer = arm(lp, key, ms);
            let last_active = lp.now();
            if let Some(s) = state(lp, key) {
                s.more().timeout = Some(IdleTimeout {
                    timer,
                    ms,
                    last_active,
                    fired: false,
                    last_write_queue: 0,
                });
            }
        }
        self
    }
    // ANCHOR_END: set_timeout
}
