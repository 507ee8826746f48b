//! A chat server on the crate's stream layer: every line a client sends goes to every other
//! client. Clients join and leave at will; the others are told.
//!
//! `cargo run --release --example chat_server [ADDRESS]` (default `127.0.0.1:7070`), then
//! connect with a few `telnet 127.0.0.1 7070` (or `nc`) and type.
//!
//! The one rule that keeps it alive is per-client backpressure. A broadcast writes the same
//! line to every socket; a client that does not read lets its answers pile up in the
//! server, one `socket.write` at a time, without bound. `write` returning `false` is the
//! signal, and a chat server cannot wait for its slowest reader (everyone would), so a
//! client whose unsent output passes [`MAX_BACKLOG`] is disconnected. A line longer than
//! [`MAX_LINE`] disconnects its sender too: the input side has its bound as well.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;

use eventloop::event_loop::EventLoop;
use eventloop::net::{Server, Socket};

/// Output a client may leave unread before it is disconnected.
pub const MAX_BACKLOG: usize = 256 * 1024;
/// The longest line a client may send.
pub const MAX_LINE: usize = 4 * 1024;

struct Client {
    name: String,
    /// A line that has not ended yet.
    partial: Vec<u8>,
}

/// Who is in the room, by socket. The room lives in the loop's typed state slot
/// (`lp.state_mut::<Room>()`), not behind an `Rc<RefCell<…>>` that every callback would
/// capture a clone of: a callback gets `&mut EventLoop`, and through it the room, one borrow
/// at a time. One loop, one room.
#[derive(Default)]
struct Room {
    clients: BTreeMap<u64, (Socket, Client)>,
    next_id: u64,
}

/// Starts the chat server on `addr`; `on_listening` gets the address once it listens.
pub fn start(
    lp: &mut EventLoop,
    addr: SocketAddr,
    on_listening: impl FnOnce(&mut EventLoop, SocketAddr) + 'static,
) -> Server {
    let server = Server::create(lp, join);
    server
        .listen(lp, addr, move |lp| {
            let addr = server.address(lp).expect("listening");
            on_listening(lp, addr)
        })
        .on_error(lp, |_, e| {
            eprintln!("chat_server: {e}");
            std::process::exit(1);
        });
    server
}

// ANCHOR: join
fn join(lp: &mut EventLoop, socket: Socket) {
    let room = lp.state_mut::<Room>();
    room.next_id += 1;
    let id = room.next_id;
    let name = format!("guest-{id}");
    socket.write(lp, format!("welcome {name}\n").as_bytes());
    broadcast(lp, None, format!("* {name} joined\n").as_bytes());
    lp.state_mut::<Room>().clients.insert(
        id,
        (
            socket,
            Client {
                name,
                partial: Vec::new(),
            },
        ),
    );
    socket
        .on_data(lp, move |lp, data| on_data(lp, id, data))
        .on_error(lp, |_, _| {}) // a reset: 'close' follows
        .on_close(lp, move |lp, _| leave(lp, id));
}
// ANCHOR_END: join

/// Splits what arrived into lines, and sends each complete one to the others.
fn on_data(lp: &mut EventLoop, id: u64, data: &[u8]) {
    let mut lines = Vec::new();
    let socket = {
        let Some((socket, client)) = lp.state_mut::<Room>().clients.get_mut(&id) else {
            return;
        };
        client.partial.extend_from_slice(data);
        while let Some(end) = client.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = client.partial.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line);
            lines.push(format!("{}: {}\n", client.name, text.trim_end()));
        }
        if client.partial.len() > MAX_LINE {
            Some(*socket)
        } else {
            None
        }
    };
    for line in lines {
        broadcast(lp, Some(id), line.as_bytes());
    }
    if let Some(socket) = socket {
        socket.destroy(lp); // a line without end: no bound on what it would cost
    }
}

// ANCHOR: broadcast
/// Writes `line` to every client but `from`. A client whose unsent output has passed
/// the backlog is too slow to keep: it is disconnected, and the others go on.
fn broadcast(lp: &mut EventLoop, from: Option<u64>, line: &[u8]) {
    let recipients: Vec<Socket> = lp.state::<Room>().map_or_else(Vec::new, |room| {
        room.clients
            .iter()
            .filter(|(id, _)| Some(**id) != from)
            .map(|(_, (socket, _))| *socket)
            .collect()
    });
    for socket in recipients {
        if socket.writable_length(lp) > MAX_BACKLOG {
            socket.destroy(lp);
            continue;
        }
        socket.write(lp, line);
    }
}
// ANCHOR_END: broadcast

fn leave(lp: &mut EventLoop, id: u64) {
    let gone = lp.state_mut::<Room>().clients.remove(&id);
    if let Some((_, client)) = gone {
        broadcast(lp, None, format!("* {} left\n", client.name).as_bytes());
    }
}

#[allow(dead_code)] // the tests include this file for `start` alone
fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .as_deref()
        .unwrap_or("127.0.0.1:7070")
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let mut lp = EventLoop::new();
    lp.run_main(|lp| {
        start(lp, addr, |_, addr| {
            println!("chat_server listening on {addr}")
        });
    })
    .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(())
}
