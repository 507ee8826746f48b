//! A minimal HTTP/1.1 server on the crate's loop: every request gets `Hello, world!`.
//! Keep-alive and pipelining work; requests are parsed with the `httparse` crate.
//!
//! `cargo run --release --example http_hello [ADDRESS]` (default `127.0.0.1:8080`), then
//! `curl -v http://127.0.0.1:8080/` or a load tool such as `wrk`.

use std::io;
use std::net::SocketAddr;

use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::net::{TcpListener, TcpStream};

/// Requests whose head is larger get `431` and the connection is closed.
const MAX_HEAD: usize = 8 * 1024;
const BODY: &str = "Hello, world!\n";

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:8080")
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let mut lp = EventLoop::new();
    let listener = TcpListener::listen(&mut lp, addr, 511, |lp, conn| match conn {
        Ok(conn) => serve(lp, conn),
        Err(e) => eprintln!("accept: {e}"),
    })?;
    println!(
        "http_hello listening on http://{}/",
        listener.local_addr(&lp)?
    );
    lp.run(RunMode::Default);
    Ok(())
}

/// What one parsed request asks of the connection.
enum Next {
    /// The head is not complete yet: wait for more bytes.
    More,
    /// Answered; `consumed` bytes of the buffer were this request. `close` unless keep-alive.
    Answered { consumed: usize, close: bool },
    /// Malformed or too large: answered with an error, then close.
    Fail(&'static str),
}

fn serve(lp: &mut EventLoop, conn: TcpStream) {
    // Bytes of a request head that arrived in pieces (empty most of the time: a request
    // usually arrives in one read, parsed straight from the loop's read buffer).
    let mut pending: Vec<u8> = Vec::new();
    let started = conn.read_start(lp, move |lp, data| {
        let bytes = match data {
            Ok(bytes) if !bytes.is_empty() => bytes,
            _ => return drop(conn.close(lp, |_| {})), // end of file, or an error
        };
        let mut input: &[u8] = if pending.is_empty() {
            bytes
        } else {
            pending.extend_from_slice(bytes);
            &pending
        };
        let mut response = Vec::new();
        let mut close = false;
        loop {
            match parse(input, &mut response) {
                Next::More => break,
                Next::Answered {
                    consumed,
                    close: last,
                } => {
                    input = &input[consumed..];
                    if last {
                        close = true;
                        break;
                    }
                }
                Next::Fail(status) => {
                    response.extend_from_slice(
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    close = true;
                    break;
                }
            }
        }
        let rest = if close { Vec::new() } else { input.to_vec() };
        pending = rest;
        if !response.is_empty() && conn.send(lp, &response).is_err() {
            return drop(conn.close(lp, |_| {})); // reset by the peer, or already closed
        }
        if close {
            // Send everything, then close.
            let _ = conn.read_stop(lp);
            let shut = conn.shutdown(lp, move |lp, _| drop(conn.close(lp, |_| {})));
            if shut.is_err() {
                let _ = conn.close(lp, |_| {});
            }
        }
    });
    if started.is_err() {
        let _ = conn.close(lp, |_| {});
    }
}

/// Parses one request head at the start of `input` and appends its response.
fn parse(input: &[u8], response: &mut Vec<u8>) -> Next {
    if input.is_empty() {
        return Next::More;
    }
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    let consumed = match request.parse(input) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if input.len() > MAX_HEAD => {
            return Next::Fail("431 Request Header Fields Too Large");
        }
        Ok(httparse::Status::Partial) => return Next::More,
        Err(httparse::Error::TooManyHeaders) => {
            return Next::Fail("431 Request Header Fields Too Large");
        }
        Err(_) => return Next::Fail("400 Bad Request"),
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    if header("content-length").is_some_and(|v| v != b"0") || header("transfer-encoding").is_some()
    {
        // A hello-world server takes no bodies.
        return Next::Fail("413 Content Too Large");
    }
    let connection = header("connection").unwrap_or_default();
    let close = if request.version == Some(0) {
        !connection.eq_ignore_ascii_case(b"keep-alive") // HTTP/1.0 closes by default
    } else {
        connection.eq_ignore_ascii_case(b"close")
    };
    response.extend_from_slice(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}\r\n{BODY}",
            BODY.len(),
            if close { "Connection: close\r\n" } else { "" },
        )
        .as_bytes(),
    );
    Next::Answered { consumed, close }
}
