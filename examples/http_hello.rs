//! An HTTP/1.1 server on the crate's loop that answers every request with
//! `Hello, world!` — keep-alive and pipelining included, and hardened as Node's `http` is
//! (see `examples/http/mod.rs`): backpressure, a header timeout, a maximum header size, a
//! keep-alive timeout.
//!
//! `cargo run --release --example http_hello [ADDRESS]` (default `127.0.0.1:8080`), then
//! `curl -v http://127.0.0.1:8080/` or a load tool such as `wrk`. The W6 workload of
//! `scripts/compare-node.sh` runs it.

#[path = "http/mod.rs"]
mod http;

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use eventloop::event_loop::EventLoop;

const BODY: &[u8] = b"Hello, world!\n";

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:8080")
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let mut lp = EventLoop::new();
    let exit = lp.run_main(|lp| {
        let handler: http::Handler = Rc::new(|lp, _request, response| {
            response.send(lp, 200, "text/plain", BODY);
        });
        http::serve(
            lp,
            addr,
            http::Config::default(),
            handler,
            |_, addr| println!("http_hello listening on http://{addr}/"),
            |_, e| {
                eprintln!("http_hello: {e}");
                std::process::exit(1);
            },
        );
    });
    exit.map_err(|e| io::Error::other(e.to_string()))?;
    Ok(())
}
