//! One HTTP connection: parse what arrives, answer in order, and hold back when the client
//! does not keep up.

use std::cell::RefCell;
use std::rc::Rc;

use eventloop::Ref;
use eventloop::event_loop::{EventLoop, Timeout};
use eventloop::net::Socket;

use super::{Config, Handler, Request, reason};

/// The most headers one request may have (more: `431`).
const MAX_HEADERS: usize = 64;

type Waiter = Box<dyn FnOnce(&mut EventLoop)>;

struct Conn {
    socket: Socket,
    config: Rc<Config>,
    handler: Handler,
    /// Bytes received and not yet answered; `start` of them are already consumed.
    input: Vec<u8>,
    start: usize,
    /// Responses made while answering a batch of requests, sent in one write.
    output: Vec<u8>,
    /// Requests are being answered from `process`: `output` is sent when it returns.
    batching: bool,
    /// A response was handed to the handler and has not ended.
    busy: bool,
    /// The last response is out (or the client is gone): input is ignored from now on.
    closing: bool,
    /// Reading is paused until `'drain'`: the client does not read fast enough.
    waiting_drain: bool,
    /// Runs at the header timeout of a request head that is not complete.
    head_timer: Option<Timeout>,
    /// A streaming response waiting for `'drain'`.
    on_drain: Option<Waiter>,
    gone: bool,
}

type Shared = Rc<RefCell<Conn>>;

/// Serves one connection.
pub(super) fn start(lp: &mut EventLoop, socket: Socket, config: Rc<Config>, handler: Handler) {
    let keep_alive = config.keep_alive_timeout.as_millis() as u64;
    let conn: Shared = Rc::new(RefCell::new(Conn {
        socket,
        config,
        handler,
        input: Vec::new(),
        start: 0,
        output: Vec::new(),
        batching: false,
        busy: false,
        closing: false,
        waiting_drain: false,
        head_timer: None,
        on_drain: None,
        gone: false,
    }));
    let (c1, c2, c3, c4) = (conn.clone(), conn.clone(), conn.clone(), conn.clone());
    socket
        .on_data(lp, move |lp, data| on_data(lp, &c1, data))
        .on_drain(lp, move |lp| on_drain(lp, &c2))
        .on_timeout(lp, move |lp| on_idle(lp, &c3))
        .on_error(lp, |_, _| {}) // a reset client: 'close' follows, nothing to report
        .on_close(lp, move |lp, _| on_close(lp, &c4))
        .set_timeout(lp, keep_alive);
}

fn on_data(lp: &mut EventLoop, conn: &Shared, data: &[u8]) {
    {
        let mut c = conn.borrow_mut();
        if c.closing {
            return;
        }
        c.input.extend_from_slice(data);
    }
    process(lp, conn);
}

/// What the bytes at the start of the input hold.
enum Parsed {
    /// Not a whole request yet.
    Partial,
    /// A whole request: `head` bytes of head, then `body` bytes of body.
    Complete { head: usize, body: usize },
    /// Answer with this status and close.
    Fail(u16),
}

/// Parses the request at the start of `input` into `request` (its headers borrow `input`).
fn parse<'h, 'b>(
    request: &mut httparse::Request<'h, 'b>,
    input: &'b [u8],
    config: &Config,
) -> Parsed {
    let head = match request.parse(input) {
        Ok(httparse::Status::Complete(n)) if n > config.max_header_size => {
            return Parsed::Fail(431);
        }
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if input.len() > config.max_header_size => {
            return Parsed::Fail(431);
        }
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => return Parsed::Fail(431),
        Err(_) => return Parsed::Fail(400),
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    if header("transfer-encoding").is_some() {
        return Parsed::Fail(501); // chunked request bodies: not in this small server
    }
    let body = match header("content-length").map(std::str::from_utf8) {
        None => 0,
        Some(Ok(n)) => match n.trim().parse::<usize>() {
            Ok(n) if n > config.max_body_size => return Parsed::Fail(413),
            Ok(n) => n,
            Err(_) => return Parsed::Fail(400),
        },
        Some(Err(_)) => return Parsed::Fail(400),
    };
    if input.len() < head + body {
        return Parsed::Partial;
    }
    Parsed::Complete { head, body }
}

/// Whether the connection stays open after answering this request.
fn keeps_alive(request: &Request<'_>) -> bool {
    let connection = request.header("connection").unwrap_or_default();
    if request.version == 0 {
        connection.eq_ignore_ascii_case(b"keep-alive") // HTTP/1.0 closes by default
    } else {
        !connection.eq_ignore_ascii_case(b"close")
    }
}

// ANCHOR: process
/// Answers the requests waiting in the input, in order, until one is incomplete, a
/// response is still running, or the client has stopped reading.
fn process(lp: &mut EventLoop, conn: &Shared) {
    conn.borrow_mut().batching = true;
    loop {
        let mut c = conn.borrow_mut();
        if c.busy || c.closing || c.waiting_drain || c.start == c.input.len() {
            break;
        }
        if c.output.len() >= c.config.high_water_mark {
            // A long pipelined batch: send what is answered, and see if the client reads.
            drop(c);
            flush(lp, conn);
            continue;
        }
        // The handler may answer at once (and so borrow the connection): the input is
        // taken out while the request, which borrows it, is alive.
        let input = std::mem::take(&mut c.input);
        let (at, config, handler) = (c.start, c.config.clone(), c.handler.clone());
        drop(c);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        let (head, body) = match parse(&mut parsed, &input[at..], &config) {
            Parsed::Complete { head, body } => (head, body),
            Parsed::Partial => {
                let mut c = conn.borrow_mut();
                c.input = input;
                if c.head_timer.is_none() {
                    let ms = config.header_timeout.as_millis() as u64;
                    let conn2 = conn.clone();
                    let timer = lp.set_timeout(move |lp| header_timeout(lp, &conn2), ms);
                    c.head_timer = Some(timer.unref(lp));
                }
                break;
            }
            Parsed::Fail(status) => {
                conn.borrow_mut().input = input;
                fail(lp, conn, status);
                break;
            }
        };
        {
            let mut c = conn.borrow_mut();
            if let Some(timer) = c.head_timer.take() {
                lp.clear_timeout(timer);
            }
            c.start += head + body;
            c.busy = true;
        }
        let request = Request {
            method: parsed.method.unwrap_or("GET"),
            path: parsed.path.unwrap_or("/"),
            version: parsed.version.unwrap_or(1),
            headers: parsed.headers,
            body: &input[at + head..at + head + body],
        };
        let response = Response {
            conn: conn.clone(),
            keep_alive: keeps_alive(&request),
            ended: false,
        };
        handler(lp, &request, response);
        conn.borrow_mut().input = input;
    }
    let mut c = conn.borrow_mut();
    c.batching = false;
    // Drop what was answered; keep the rest (usually nothing: no copy).
    if c.start == c.input.len() {
        c.input.clear();
        c.start = 0;
    } else if c.start > 0 {
        let start = c.start;
        c.input.drain(..start);
        c.start = 0;
    }
    drop(c);
    flush(lp, conn);
}
// ANCHOR_END: process

// ANCHOR: flush
/// Sends the batched output. A `false` from `write` means the client is not keeping up:
/// stop reading, and stop answering, until `'drain'`.
fn flush(lp: &mut EventLoop, conn: &Shared) {
    let mut c = conn.borrow_mut();
    if c.output.is_empty() || c.gone {
        return;
    }
    let mut output = std::mem::take(&mut c.output);
    let socket = c.socket;
    drop(c);
    let ok = socket.write(lp, &output);
    output.clear();
    let mut c = conn.borrow_mut();
    c.output = output; // keep the capacity for the next batch
    if !ok && !c.waiting_drain {
        c.waiting_drain = true;
        socket.pause(lp);
    }
}

fn on_drain(lp: &mut EventLoop, conn: &Shared) {
    let (resume, waiter) = {
        let mut c = conn.borrow_mut();
        let resume = std::mem::take(&mut c.waiting_drain);
        (resume, c.on_drain.take())
    };
    if let Some(waiter) = waiter {
        waiter(lp);
    }
    if resume {
        let socket = conn.borrow().socket;
        socket.resume(lp);
        process(lp, conn);
    }
}
// ANCHOR_END: flush

/// Answers `status` with an empty body and closes (the request was not acceptable).
fn fail(lp: &mut EventLoop, conn: &Shared, status: u16) {
    let mut c = conn.borrow_mut();
    if c.closing || c.gone {
        return;
    }
    c.closing = true;
    if let Some(timer) = c.head_timer.take() {
        lp.clear_timeout(timer);
    }
    let out = &mut c.output;
    out.extend_from_slice(b"HTTP/1.1 ");
    push_number(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let socket = c.socket;
    drop(c);
    flush(lp, conn);
    socket.end(lp);
}

/// Appends `n` in decimal.
fn push_number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A request head took longer than the header timeout: `408`, and close.
fn header_timeout(lp: &mut EventLoop, conn: &Shared) {
    conn.borrow_mut().head_timer = None;
    let socket = conn.borrow().socket;
    fail(lp, conn, 408);
    socket.destroy_soon(lp);
}

/// The socket was idle for the keep-alive timeout: close it, unless a response is still
/// being sent (a slow reader) or a request head is arriving (the header timeout's job).
fn on_idle(lp: &mut EventLoop, conn: &Shared) {
    let c = conn.borrow();
    if c.busy || c.start != c.input.len() {
        return;
    }
    let socket = c.socket;
    drop(c);
    socket.destroy(lp);
}

fn on_close(lp: &mut EventLoop, conn: &Shared) {
    let mut c = conn.borrow_mut();
    c.gone = true;
    c.closing = true;
    let waiter = c.on_drain.take();
    c.input = Vec::new();
    c.output = Vec::new();
    if let Some(timer) = c.head_timer.take() {
        lp.clear_timeout(timer);
    }
    drop(c);
    drop(waiter); // a streaming response that waited for 'drain' is dropped: it stops
}

// ANCHOR: response
/// The answer to one request. Send it whole with [`send`](Self::send), or stream it:
/// [`start`](Self::start), [`write`](Self::write) while it returns `true` (else wait with
/// [`when_drained`](Self::when_drained)), then [`end`](Self::end).
pub struct Response {
    conn: Shared,
    keep_alive: bool,
    ended: bool,
}

impl Response {
    /// Sends the whole response: status, `Content-Type`, `Content-Length`, body.
    pub fn send(mut self, lp: &mut EventLoop, status: u16, content_type: &str, body: &[u8]) {
        self.start(lp, status, content_type, body.len() as u64);
        self.conn.borrow_mut().output.extend_from_slice(body);
        self.end(lp);
    }

    /// Starts the response: its head, with the length of the body to come.
    pub fn start(&mut self, lp: &mut EventLoop, status: u16, content_type: &str, length: u64) {
        let mut c = self.conn.borrow_mut();
        // Written by hand: `format!` costs more than the rest of a small response.
        let out = &mut c.output;
        out.extend_from_slice(b"HTTP/1.1 ");
        push_number(out, u64::from(status));
        out.push(b' ');
        out.extend_from_slice(reason(status).as_bytes());
        out.extend_from_slice(b"\r\nContent-Type: ");
        out.extend_from_slice(content_type.as_bytes());
        out.extend_from_slice(b"\r\nContent-Length: ");
        push_number(out, length);
        if !self.keep_alive {
            out.extend_from_slice(b"\r\nConnection: close");
        }
        out.extend_from_slice(b"\r\n\r\n");
        if !c.batching {
            drop(c);
            flush(lp, &self.conn);
        }
    }

    /// Sends a piece of the body. `false`: the client is not keeping up — wait with
    /// [`when_drained`](Self::when_drained) before writing more (what was given is not lost).
    pub fn write(&mut self, lp: &mut EventLoop, chunk: &[u8]) -> bool {
        flush(lp, &self.conn);
        let c = self.conn.borrow();
        if c.gone {
            return false;
        }
        let socket = c.socket;
        drop(c);
        socket.write(lp, chunk)
    }

    /// Hands the response back to `f` once everything written so far has been taken by
    /// the kernel (`'drain'`). If the client goes away first, `f` never runs: it is dropped,
    /// with what it holds.
    pub fn when_drained(self, f: impl FnOnce(&mut EventLoop, Response) + 'static) {
        let conn = self.conn.clone();
        let mut c = conn.borrow_mut();
        if c.gone {
            drop(c);
            drop(f);
            return;
        }
        c.on_drain = Some(Box::new(move |lp| f(lp, self)));
    }

    /// False once the client has gone: stop producing the body.
    pub fn is_open(&self) -> bool {
        !self.conn.borrow().gone
    }

    /// Gives up on a response whose head is already out (its body cannot be produced):
    /// the connection is destroyed, as the client could not tell a short body otherwise.
    pub fn abort(mut self, lp: &mut EventLoop) {
        self.ended = true;
        let socket = self.conn.borrow().socket;
        socket.destroy(lp);
    }

    /// Ends the response; the connection answers the next request, or closes.
    pub fn end(mut self, lp: &mut EventLoop) {
        self.ended = true;
        let mut c = self.conn.borrow_mut();
        c.busy = false;
        if c.gone {
            return;
        }
        if !self.keep_alive {
            c.closing = true;
        }
        let (batching, socket) = (c.batching, c.socket);
        drop(c);
        if !self.keep_alive {
            flush(lp, &self.conn);
            socket.end(lp);
        } else if !batching {
            process(lp, &self.conn); // the next pipelined request, if any
        }
    }
}
// ANCHOR_END: response

impl Drop for Response {
    fn drop(&mut self) {
        // A handler that drops its response without ending it would leave the connection
        // waiting forever: say so loudly in a debug build.
        let gone = self.conn.try_borrow().map_or(true, |c| c.gone);
        debug_assert!(
            self.ended || gone || std::thread::panicking(),
            "an HTTP response was dropped without end()"
        );
    }
}
