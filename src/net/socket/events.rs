//! A socket's listeners: Node's `EventEmitter`, cut down to the events a socket emits.
//!
//! Every listener of every event sits in one list (most sockets have three or four), in the
//! order they were added. Emitting an event takes that event's listeners out of the list,
//! calls them in order, and puts back the ones that stay (`on`, not `once`) in front of any
//! added meanwhile — a listener added while its event is being emitted waits for the next
//! emit, as in Node (`EventEmitter` calls a copy of its array).

use std::io;

use super::{Key, state};
use crate::event_loop::EventLoop;

/// The events a [`Socket`](super::Socket) emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    Connect,
    Data,
    End,
    Finish,
    Drain,
    Timeout,
    Error,
    Close,
}

/// What the stream layer itself waits on `'connect'` for (Node's `once('connect', …)` in
/// `_read`, `_writeGeneric` and `_final`): it runs among the user's listeners, in the order
/// it was added, as Node's does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnConnect {
    /// Start reading (`_read` while connecting).
    Read,
    /// Send the write that waited for the connection (`_writeGeneric` while connecting).
    Write,
    /// Shut the writing side down (`_final` while connecting).
    Final,
}

type OnData = dyn FnMut(&mut EventLoop, &[u8]);
type OnError = dyn FnMut(&mut EventLoop, &io::Error);
type OnClose = dyn FnMut(&mut EventLoop, bool);

pub(super) enum Handler {
    Plain(Box<dyn FnMut(&mut EventLoop)>),
    Data(Box<OnData>),
    Error(Box<OnError>),
    Close(Box<OnClose>),
    Internal(OnConnect),
}

pub(super) struct Listener {
    pub(super) event: Event,
    pub(super) once: bool,
    pub(super) handler: Handler,
}

/// What an emit passes to its listeners.
#[derive(Clone, Copy)]
pub(super) enum Args<'a> {
    None,
    Data(&'a [u8]),
    Error(&'a io::Error),
    Close(bool),
}

/// Adds a listener to socket `key` (none to a socket that is gone: it would never run).
pub(super) fn add(lp: &mut EventLoop, key: Key, event: Event, once: bool, handler: Handler) {
    if let Some(s) = state(lp, key) {
        s.listeners.push(Listener {
            event,
            once,
            handler,
        });
    }
}

/// Calls `event`'s listeners of socket `key`, in order. Returns false if it had none.
pub(super) fn emit(lp: &mut EventLoop, key: Key, event: Event, args: Args<'_>) -> bool {
    let Some(s) = state(lp, key) else {
        return false;
    };
    if !s.listeners.iter().any(|l| l.event == event) {
        return false;
    }
    let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut s.listeners)
        .into_iter()
        .partition(|l| l.event == event);
    s.listeners = others;
    let mut kept = Vec::new();
    for mut listener in mine {
        match (&mut listener.handler, args) {
            (Handler::Plain(f), _) => f(lp),
            (Handler::Data(f), Args::Data(bytes)) => f(lp, bytes),
            (Handler::Error(f), Args::Error(err)) => f(lp, err),
            (Handler::Close(f), Args::Close(had_error)) => f(lp, had_error),
            (Handler::Internal(action), _) => super::run_on_connect(lp, key, *action),
            _ => unreachable!("a listener is added with the handler of its event"),
        }
        if !listener.once {
            kept.push(listener);
        }
    }
    if let Some(s) = state(lp, key) {
        kept.append(&mut s.listeners);
        s.listeners = kept;
    }
    true
}
