//! A static file server on the crate's loop: `GET /a/b.txt` answers with `ROOT/a/b.txt`.
//!
//! `cargo run --release --example file_server [ROOT] [ADDRESS]` (defaults: `.` and
//! `127.0.0.1:8000`), then `curl http://127.0.0.1:8000/Cargo.toml`.
//!
//! What it shows:
//! - **Files on the pool, sockets on the loop.** Reading a file may block, so every
//!   `stat`, `open` and `read` is a thread-pool job (chapter 7); the socket is served by the
//!   poll phase (chapter 9) and never waits for the disk.
//! - **Streaming with backpressure.** A file is sent 64 KiB at a time: the next chunk is
//!   read only once the socket took the last one (`write` returned `true`, or `'drain'`
//!   came). A client that reads slowly holds one chunk of the server's memory, not the file.
//! - **Refusals.** A path that is not a regular file under the root is `404`; a path
//!   with a `..` segment (also percent-encoded, `%2e%2e`) is `403` — it could reach
//!   outside the root. (Symbolic links inside the root are followed; keep none that lead
//!   out.) Other methods than `GET` are `405`.
//!
//! It is the HTTP server of `examples/http` with a handler, and defends itself the same way.

#[path = "http/mod.rs"]
pub mod http;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use eventloop::event_loop::EventLoop;
use eventloop::fs::{self, FileHandle, FsError};
use eventloop::net::Server;

use http::{Request, Response};

/// The size of one read, and so of what a slow client costs.
pub const CHUNK: usize = 64 * 1024;

/// Starts a file server for `root` on `addr`.
pub fn start(
    lp: &mut EventLoop,
    root: PathBuf,
    addr: SocketAddr,
    config: http::Config,
    on_listening: impl FnOnce(&mut EventLoop, SocketAddr) + 'static,
) -> Server {
    let root = Rc::new(root);
    let handler: http::Handler =
        Rc::new(move |lp, request, response| handle(lp, &root, request, response));
    http::serve(lp, addr, config, handler, on_listening, |_, e| {
        eprintln!("file_server: {e}");
        std::process::exit(1);
    })
}

fn handle(lp: &mut EventLoop, root: &Path, request: &Request<'_>, response: Response) {
    if request.method != "GET" {
        return response.send(lp, 405, "text/plain", b"only GET\n");
    }
    match resolve(root, request.path) {
        Some(path) => send_file(lp, path, response),
        None => response.send(lp, 403, "text/plain", b"forbidden\n"),
    }
}

// ANCHOR: resolve
/// The file a request path names under `root`, or `None` if the path could leave the root
/// (a `..` segment, before or after percent-decoding) or is malformed.
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains(['\\', '\0']) => return None,
            s => file.push(s),
        }
    }
    Some(file)
}
// ANCHOR_END: resolve

/// `%2e` → `.`, and so on; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("txt" | "md" | "toml" | "rs") => "text/plain; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// `404` for what is not there (or not a file), `403` for what may not be read.
fn refuse(lp: &mut EventLoop, error: &io::Error, response: Response) {
    let denied = FsError::of(error).is_some_and(|e| e.code() == "EACCES");
    if denied {
        response.send(lp, 403, "text/plain", b"forbidden\n");
    } else {
        response.send(lp, 404, "text/plain", b"not found\n");
    }
}

fn send_file(lp: &mut EventLoop, path: PathBuf, response: Response) {
    fs::stat(lp, path.clone(), move |lp, meta| {
        let len = match meta {
            Ok(meta) if meta.is_file() => meta.len(),
            Ok(_) => return response.send(lp, 404, "text/plain", b"not found\n"),
            Err(e) => return refuse(lp, &e, response),
        };
        fs::open(lp, path.clone(), "r", move |lp, file| {
            let file = match file {
                Ok(file) => file,
                Err(e) => return refuse(lp, &e, response),
            };
            let mut response = response;
            response.start(lp, 200, content_type(&path), len);
            pump(
                lp,
                Transfer {
                    response,
                    file,
                    at: 0,
                    len,
                },
            );
        });
    });
}

/// A file on its way to a client.
struct Transfer {
    response: Response,
    file: FileHandle,
    at: u64,
    len: u64,
}

// ANCHOR: pump
/// Reads the next chunk on the pool and writes it; goes on at once if the socket took it,
/// at `'drain'` if not. Ends the response at the end of the file.
fn pump(lp: &mut EventLoop, t: Transfer) {
    if !t.response.is_open() {
        return fs::close(lp, t.file, |_, _| {}); // the client left
    }
    if t.at == t.len {
        fs::close(lp, t.file.clone(), |_, _| {});
        return t.response.end(lp);
    }
    let want = CHUNK.min((t.len - t.at) as usize);
    let file = t.file.clone();
    fs::read(lp, &file, want, Some(t.at), move |lp, chunk| {
        let mut t = t;
        let chunk = match chunk {
            Ok(chunk) if !chunk.is_empty() => chunk,
            // An error, or a file that shrank: the head promised more than there is.
            _ => {
                fs::close(lp, t.file.clone(), |_, _| {});
                return t.response.abort(lp);
            }
        };
        t.at += chunk.len() as u64;
        if t.response.write(lp, &chunk) {
            return pump(lp, t);
        }
        // The socket is full: go on at 'drain' (never, if the client leaves first).
        let Transfer {
            response,
            file,
            at,
            len,
        } = t;
        response.when_drained(move |lp, response| {
            let t = Transfer {
                response,
                file,
                at,
                len,
            };
            pump(lp, t)
        });
    });
}
// ANCHOR_END: pump

#[allow(dead_code)] // the tests include this file for `start` alone
fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let addr: SocketAddr = args
        .next()
        .as_deref()
        .unwrap_or("127.0.0.1:8000")
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let mut lp = EventLoop::new();
    lp.run_main(|lp| {
        let shown = root.display().to_string();
        start(lp, root, addr, http::Config::default(), move |_, addr| {
            println!("file_server serving {shown} on http://{addr}/")
        });
    })
    .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(())
}
