//! A socket's listeners: Node's `EventEmitter`, cut down to the events a socket emits.
//!
//! Every listener of every event sits in one list (most sockets have three or four), in the
//! order they were added. Emitting an event walks the list as it was when the emit began, so
//! a listener added while its event is being emitted waits for the next emit, as in Node
//! (`EventEmitter` calls a copy of its array). Each listener is taken out of its slot while
//! it runs and put back after — an emit allocates nothing, which matters: `'data'` is emitted
//! for every read. A `once` listener that ran leaves a spent slot, swept away when no emit is
//! running (so the positions an emit walks do not move under it).

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

/// What a listener runs, by the arguments of its event.
pub(super) enum Handler {
    Plain(Box<dyn FnMut(&mut EventLoop)>),
    Data(Box<OnData>),
    Error(Box<OnError>),
    Close(Box<OnClose>),
    Internal(OnConnect),
}

/// A listener in its socket's list: its handler with the event and the `once` flag packed
/// beside the enum's tag, 24 bytes where a struct of the three takes 32. It matters: an
/// idle connection has a few listeners and nothing else, and W8 counts its bytes.
pub(super) enum Listener {
    Plain(Event, bool, Box<dyn FnMut(&mut EventLoop)>),
    Data(bool, Box<OnData>),
    Error(bool, Box<OnError>),
    Close(bool, Box<OnClose>),
    /// Always a `'connect'` listener.
    Internal(bool, OnConnect),
    /// Out of its slot: running.
    Running,
    /// A `once` listener that ran.
    Spent,
}

// W8's bound (512 bytes per idle connection) counts on it.
const _: () = assert!(std::mem::size_of::<Listener>() == 24);

impl Listener {
    fn new(event: Event, once: bool, handler: Handler) -> Listener {
        let expected = match &handler {
            Handler::Plain(_) => event,
            Handler::Data(_) => Event::Data,
            Handler::Error(_) => Event::Error,
            Handler::Close(_) => Event::Close,
            Handler::Internal(_) => Event::Connect,
        };
        debug_assert_eq!(
            event, expected,
            "a listener is added with the handler of its event"
        );
        match handler {
            Handler::Plain(f) => Listener::Plain(event, once, f),
            Handler::Data(f) => Listener::Data(once, f),
            Handler::Error(f) => Listener::Error(once, f),
            Handler::Close(f) => Listener::Close(once, f),
            Handler::Internal(action) => Listener::Internal(once, action),
        }
    }

    /// The event it listens for; `None` while it runs or once spent.
    fn event(&self) -> Option<Event> {
        match self {
            Listener::Plain(event, ..) => Some(*event),
            Listener::Data(..) => Some(Event::Data),
            Listener::Error(..) => Some(Event::Error),
            Listener::Close(..) => Some(Event::Close),
            Listener::Internal(..) => Some(Event::Connect),
            Listener::Running | Listener::Spent => None,
        }
    }

    /// Takes the handler out, leaving `Running`: whether it was a `once` listener, and it.
    fn take(&mut self) -> Option<(bool, Handler)> {
        match std::mem::replace(self, Listener::Running) {
            Listener::Plain(_, once, f) => Some((once, Handler::Plain(f))),
            Listener::Data(once, f) => Some((once, Handler::Data(f))),
            Listener::Error(once, f) => Some((once, Handler::Error(f))),
            Listener::Close(once, f) => Some((once, Handler::Close(f))),
            Listener::Internal(once, action) => Some((once, Handler::Internal(action))),
            other => {
                *self = other;
                None
            }
        }
    }
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
        let listeners = &mut s.listeners;
        if listeners.len() == listeners.capacity() {
            // One slot at a time while few (an idle socket's list is its cost), then
            // doubling: a `Vec` would reserve four slots for the first listener.
            listeners.reserve_exact(listeners.len().clamp(1, 8));
        }
        listeners.push(Listener::new(event, once, handler));
    }
}

/// Calls `event`'s listeners of socket `key`, in order. Returns false if it had none.
///
/// The socket's state is looked up once, then once after each listener (which may have
/// changed anything, even closed the socket): that look puts the listener back and takes
/// the next one.
pub(super) fn emit(lp: &mut EventLoop, key: Key, event: Event, args: Args<'_>) -> bool {
    let Some(s) = state(lp, key) else {
        return false;
    };
    let limit = s.listeners.len(); // listeners added from now on wait for the next emit
    let Some(mut next) = take_next(s, event, 0, limit) else {
        return false;
    };
    s.emitting += 1;
    loop {
        let (i, once, mut handler) = next;
        match (&mut handler, args) {
            (Handler::Plain(f), _) => f(lp),
            (Handler::Data(f), Args::Data(bytes)) => f(lp, bytes),
            (Handler::Error(f), Args::Error(err)) => f(lp, err),
            (Handler::Close(f), Args::Close(had_error)) => f(lp, had_error),
            (Handler::Internal(action), _) => super::run_on_connect(lp, key, *action),
            _ => unreachable!("a listener is added with the handler of its event"),
        }
        let Some(s) = state(lp, key) else {
            return true; // the socket is gone, and its listeners with it
        };
        if let Some(slot) = s.listeners.get_mut(i) {
            *slot = if once {
                Listener::Spent
            } else {
                Listener::new(event, false, handler)
            };
        }
        match take_next(s, event, i + 1, limit) {
            Some(found) => next = found,
            None => {
                s.emitting -= 1;
                let spent = |l: &Listener| matches!(l, Listener::Spent);
                if s.emitting == 0 && s.listeners.iter().any(spent) {
                    s.listeners.retain(|l| !spent(l));
                }
                return true;
            }
        }
    }
}

/// Takes the handler of the next listener of `event` at or after `from` (and before
/// `limit`) out of its slot.
fn take_next(
    s: &mut super::State,
    event: Event,
    from: usize,
    limit: usize,
) -> Option<(usize, bool, Handler)> {
    let end = limit.min(s.listeners.len());
    let i = (from..end).find(|&i| s.listeners[i].event() == Some(event))?;
    let (once, handler) = s.listeners[i].take()?;
    Some((i, once, handler))
}
