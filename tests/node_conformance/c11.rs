//! Chapter 11's puzzles: the stream layer (`net::Socket`, `net::Server`), ported line for
//! line. A socket or server that a callback needs before it exists sits in a slot.

use std::cell::Cell;
use std::rc::Rc;

use eventloop::event_loop::EventLoop;
use eventloop::net::{NetError, Server, ServerOptions, Socket, SocketOptions};

use super::ports::{Console, localhost, node_net};

fn text(d: &[u8]) -> String {
    String::from_utf8_lossy(d).into_owned()
}

type Slot<T> = Rc<Cell<Option<T>>>;

/// `server.close()` with no callback, on the server kept in `slot`.
fn close(lp: &mut EventLoop, slot: &Slot<Server>) {
    slot.get().unwrap().close(lp, |_, _| {});
}

// ANCHOR: c11_listeners_before_connect
pub fn c11_listeners_before_connect() -> Vec<String> {
    node_net(|lp, console| {
        let slot: Slot<Server> = Rc::default();
        let (c, sl) = (console.clone(), slot.clone());
        let server = Server::create(lp, move |lp, s| {
            c.log("server: connection");
            let (c1, c2, c3, sl) = (c.clone(), c.clone(), c.clone(), sl.clone());
            s.on_data(lp, move |_, d| c1.log(format!("server: data {}", text(d))))
                .on_end(lp, move |_| c2.log("server: end"))
                .on_close(lp, move |lp, _| {
                    c3.log("server: close");
                    close(lp, &sl);
                })
                .end_with(lp, b"hello");
        });
        slot.set(Some(server));
        let c = console.clone();
        server.listen(lp, localhost(), move |lp| {
            c.log("listening");
            let client = Socket::connect(lp, server.address(lp).unwrap(), |_, _| {});
            c.log(format!("connecting = {}", client.is_connecting(lp)));
            client.write(lp, b"early");
            let (c1, c2, c3, c4, c5) = (c.clone(), c.clone(), c.clone(), c.clone(), c.clone());
            client
                .on_connect(lp, move |_| c1.log("client: connect"))
                .on_data(lp, move |_, d| c2.log(format!("client: data {}", text(d))))
                .on_end(lp, move |_| c3.log("client: end"))
                .on_finish(lp, move |_| c4.log("client: finish"))
                .on_close(lp, move |_, had_error| {
                    c5.log(format!("client: close, hadError = {had_error}"))
                });
        });
        console.log("main done");
    })
}
// ANCHOR_END: c11_listeners_before_connect

// ANCHOR: c11_half_open
pub fn c11_half_open() -> Vec<String> {
    node_net(|lp, console| {
        let c = console.clone();
        let next = Box::new(move |lp: &mut EventLoop| {
            let c2 = c.clone();
            half_open_run(lp, &c, true, Box::new(move |_| c2.log("done")));
        });
        half_open_run(lp, console, false, next);
    })
}

fn half_open_run(
    lp: &mut EventLoop,
    console: &Console,
    allow_half_open: bool,
    next: Box<dyn FnOnce(&mut EventLoop)>,
) {
    let tag = if allow_half_open {
        "[half-open]"
    } else {
        "[default]"
    };
    let options = ServerOptions {
        socket: SocketOptions {
            allow_half_open,
            ..SocketOptions::default()
        },
        ..ServerOptions::default()
    };
    let slot: Slot<Server> = Rc::default();
    let next = Rc::new(Cell::new(Some(next)));
    let (c, sl) = (console.clone(), slot.clone());
    let server = Server::create_with(lp, options, move |lp, s| {
        let (c1, c2, c3, sl, next) = (c.clone(), c.clone(), c.clone(), sl.clone(), next.clone());
        s.on_data(lp, |_, _| {})
            .on_end(lp, move |lp| {
                c1.log(format!(
                    "{tag} server: end, writable = {}",
                    s.is_writable(lp)
                ));
                let c1 = c1.clone();
                lp.set_immediate(move |lp| {
                    let writable = s.is_writable(lp);
                    c1.log(format!(
                        "{tag} server: an immediate later, writable = {writable}"
                    ));
                    if writable {
                        s.end_with(lp, b"late reply");
                    }
                });
            })
            .on_finish(lp, move |_| c2.log(format!("{tag} server: finish")))
            .on_close(lp, move |lp, _| {
                c3.log(format!("{tag} server: close"));
                let next = next.take().unwrap();
                sl.get().unwrap().close(lp, move |lp, _| next(lp));
            });
    });
    slot.set(Some(server));
    let c = console.clone();
    server.listen(lp, localhost(), move |lp| {
        let client = Socket::connect(lp, server.address(lp).unwrap(), |lp, c| {
            c.end(lp);
        });
        let (c1, c2, c3) = (c.clone(), c.clone(), c.clone());
        client
            .on_data(lp, move |_, d| {
                c1.log(format!("{tag} client: data {}", text(d)))
            })
            .on_end(lp, move |_| c2.log(format!("{tag} client: end")))
            .on_close(lp, move |_, _| c3.log(format!("{tag} client: close")));
    });
}
// ANCHOR_END: c11_half_open

// ANCHOR: c11_backpressure
pub fn c11_backpressure() -> Vec<String> {
    node_net(|lp, console| {
        let sent = Rc::new(Cell::new(0usize));
        let slot: Slot<Server> = Rc::default();
        let (c, sl, total) = (console.clone(), slot.clone(), sent.clone());
        let server = Server::create(lp, move |lp, s| {
            s.pause(lp); // read nothing for a while: the client's bytes pile up
            let c1 = c.clone();
            lp.set_timeout(
                move |lp| {
                    c1.log("server: resume");
                    s.resume(lp);
                },
                50,
            );
            let got = Rc::new(Cell::new(0usize));
            let (got2, c, sl, total) = (got.clone(), c.clone(), sl.clone(), total.clone());
            s.on_data(lp, move |_, d| got.set(got.get() + d.len()))
                .on_end(lp, move |lp| {
                    let everything = got2.get() == total.get();
                    c.log(format!("server: end, got everything = {everything}"));
                    close(lp, &sl);
                });
        });
        slot.set(Some(server));
        let c = console.clone();
        server.listen(lp, localhost(), move |lp| {
            let addr = server.address(lp).unwrap();
            Socket::connect(lp, addr, move |lp, client| {
                let chunk = vec![b'x'; 64 * 1024];
                let mut ok = true;
                while ok {
                    ok = client.write(lp, &chunk);
                    sent.set(sent.get() + chunk.len());
                }
                let full = client.writable_length(lp) >= 16384;
                c.log(format!(
                    "write returned false, writableLength >= 16384: {full}"
                ));
                let small = client.write(lp, b"y");
                c.log(format!("a small write while full returns {small}"));
                sent.set(sent.get() + 1);
                let (c1, c2) = (c.clone(), c.clone());
                client
                    .on_drain(lp, move |lp| {
                        let waiting = client.writable_length(lp);
                        c1.log(format!("client: drain, writableLength = {waiting}"));
                        client.end(lp);
                    })
                    .on_finish(lp, move |_| c2.log("client: finish"));
            });
        });
    })
}
// ANCHOR_END: c11_backpressure

// ANCHOR: c11_connect_error
pub fn c11_connect_error() -> Vec<String> {
    node_net(|lp, console| {
        let server = Server::create(lp, |_, _| {});
        let c = console.clone();
        server.listen(lp, localhost(), move |lp| {
            let addr = server.address(lp).unwrap();
            server.close(lp, move |lp, _| {
                let client = Socket::connect(lp, addr, |_, _| println!("connected?"));
                let (c1, c2) = (c.clone(), c.clone());
                client
                    .on_error(lp, move |lp, e| {
                        let e = NetError::of(e).unwrap();
                        c1.log(format!(
                            "error: {} ({}), destroyed = {}",
                            e.code(),
                            e.syscall().unwrap(),
                            client.is_destroyed(lp)
                        ))
                    })
                    .on_close(lp, move |_, had_error| {
                        c2.log(format!("close, hadError = {had_error}"))
                    });
                let (c1, c2) = (c.clone(), c.clone());
                lp.next_tick(move |_| c1.log("tick"));
                lp.set_immediate(move |_| c2.log("immediate"));
            });
        });
    })
}
// ANCHOR_END: c11_connect_error

// ANCHOR: c11_server_close_callback
pub fn c11_server_close_callback() -> Vec<String> {
    node_net(|lp, console| {
        let slot: Slot<Server> = Rc::default();
        let (c, sl) = (console.clone(), slot.clone());
        let server = Server::create(lp, move |lp, s| {
            c.log("server: connection");
            let server = sl.get().unwrap();
            let c1 = c.clone();
            server.close(lp, move |_, err| {
                let code = err.as_ref().err().map_or("none", NetError::code_of);
                c1.log(format!("close callback, err = {code}"))
            });
            c.log(format!("server: listening = {}", server.listening(lp)));
            let (c1, c2) = (c.clone(), c.clone());
            lp.set_timeout(
                move |lp| {
                    c1.log("server: destroy its socket");
                    s.destroy(lp);
                },
                20,
            );
            s.on_close(lp, move |_, _| c2.log("server socket: close"));
        });
        slot.set(Some(server));
        let c = console.clone();
        server.on_close(lp, move |_| c.log("server: close event"));
        let c = console.clone();
        server.listen(lp, localhost(), move |lp| {
            let client = Socket::connect(lp, server.address(lp).unwrap(), |_, _| {});
            let (c1, c2) = (c.clone(), c.clone());
            client
                .on_end(lp, move |_| c1.log("client: end"))
                .on_close(lp, move |lp, _| {
                    c2.log("client: close");
                    let c2 = c2.clone();
                    server.close(lp, move |_, err| {
                        let code = NetError::code_of(&err.unwrap_err());
                        c2.log(format!("second close callback, err = {code}"))
                    });
                });
        });
    })
}
// ANCHOR_END: c11_server_close_callback

// ANCHOR: c11_write_after_end
pub fn c11_write_after_end() -> Vec<String> {
    node_net(|lp, console| {
        let slot: Slot<Server> = Rc::default();
        let (c, sl) = (console.clone(), slot.clone());
        let server = Server::create(lp, move |lp, s| {
            let c1 = c.clone();
            s.end_then(lp, b"bye", move |_, _| c1.log("server: end callback"));
            let c1 = c.clone();
            s.write_with(lp, b"more", move |_, err| {
                let code = NetError::code_of(&err.unwrap_err());
                c1.log(format!("server: write callback, {code}"))
            });
            let (c1, c2, c3, sl) = (c.clone(), c.clone(), c.clone(), sl.clone());
            s.on_error(lp, move |_, err| {
                c1.log(format!("server: error {}", NetError::code_of(err)))
            })
            .on_finish(lp, move |_| c2.log("server: finish"))
            .on_close(lp, move |lp, had_error| {
                c3.log(format!("server: close, hadError = {had_error}"));
                close(lp, &sl);
            });
        });
        slot.set(Some(server));
        let c = console.clone();
        server.listen(lp, localhost(), move |lp| {
            let client = Socket::connect(lp, server.address(lp).unwrap(), |_, _| {});
            let (c1, c2, c3) = (c.clone(), c.clone(), c.clone());
            client
                .on_data(lp, move |_, d| c1.log(format!("client: data {}", text(d))))
                .on_end(lp, move |_| c2.log("client: end"))
                .on_close(lp, move |_, _| c3.log("client: close"));
        });
    })
}
// ANCHOR_END: c11_write_after_end
