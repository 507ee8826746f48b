//! Chapter 11: the stream layer (`net::Socket`, `net::Server`) over real sockets on
//! 127.0.0.1. Orders of events are checked against Node by the c11 puzzles
//! (`tests/node_conformance.rs`); these tests pin the mechanisms underneath — what is kept,
//! when reading stops, what `write` returns, what an error does — each against the mistake
//! that would break it. Every test is bounded by a watchdog.

mod common;

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use common::{Log, Watchdog};
use eventloop::event_loop::EventLoop;
use eventloop::net::{NetError, Server, ServerOptions, Socket, SocketOptions};

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Runs `script` as a program (`run_main`) under a watchdog; panics if it ends with an
/// uncaught error.
fn program(test: &str, script: impl FnOnce(&mut EventLoop)) {
    let _watchdog = Watchdog::new(test, Duration::from_secs(30));
    let mut lp = EventLoop::new();
    lp.run_main(script)
        .expect("the program ends without an uncaught error");
}

/// A server on a free port that hands each connection to `on_connection`, and calls
/// `then` with the server once it listens.
fn serve(
    lp: &mut EventLoop,
    on_connection: impl FnMut(&mut EventLoop, Socket) + 'static,
    then: impl FnOnce(&mut EventLoop, Server, SocketAddr) + 'static,
) {
    let server = Server::create(lp, on_connection);
    server.listen(lp, localhost(), move |lp| {
        let addr = server.address(lp).expect("listening");
        then(lp, server, addr)
    });
}

#[test]
fn data_that_comes_before_the_listener_is_kept_for_it() {
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    program("kept_for_the_listener", |lp| {
        serve(
            lp,
            |lp, s| {
                s.end_with(lp, b"hello");
            },
            move |lp, server, addr| {
                let client = Socket::connect(lp, addr, |_, _| {});
                // The data arrives long before anyone listens for it.
                lp.set_timeout(
                    move |lp| {
                        let g = g.clone();
                        client
                            .on_data(lp, move |_, d| g.borrow_mut().extend_from_slice(d))
                            .on_end(lp, move |lp| server.close(lp, |_, _| {}));
                    },
                    50,
                );
            },
        );
    });
    assert_eq!(
        &*got.borrow(),
        b"hello",
        "bytes read before a 'data' listener existed must be delivered to it, not dropped"
    );
}

#[test]
fn a_paused_socket_stops_reading_at_its_high_water_mark() {
    const TOTAL: usize = 4 << 20; // more than the kernel buffers of both ends hold
    let seen = Rc::new(RefCell::new(Vec::new()));
    let received = Rc::new(Cell::new(0usize));
    let (seen2, received2) = (seen.clone(), received.clone());
    program("paused_stops_reading", |lp| {
        let r = received2.clone();
        serve(
            lp,
            move |lp, s| {
                s.pause(lp);
                let r = r.clone();
                s.on_data(lp, move |_, d| r.set(r.get() + d.len()));
                let seen = seen2.clone();
                // Long enough for the client to fill every buffer on the way.
                lp.set_timeout(
                    move |lp| {
                        let reading = s.handle(lp).unwrap().is_reading(lp);
                        seen.borrow_mut().push((s.readable_length(lp), reading));
                        s.resume(lp);
                    },
                    200,
                );
            },
            move |lp, server, addr| {
                Socket::connect(lp, addr, move |lp, c| {
                    c.end_with(lp, &vec![7u8; TOTAL]);
                    c.on_close(lp, move |lp, _| server.close(lp, |_, _| {}));
                });
            },
        );
    });
    let (kept, reading) = seen.borrow()[0];
    assert!(
        !reading,
        "a paused socket holding its high-water mark must stop reading (it kept {kept} bytes)"
    );
    assert!(
        (16 * 1024..16 * 1024 + 64 * 1024).contains(&kept),
        "a paused socket keeps about its high-water mark (16 KiB, plus at most one read), \
         not everything the peer sends: it kept {kept} bytes"
    );
    assert_eq!(
        received.get(),
        TOTAL,
        "after resume every byte arrives, in full"
    );
}

#[test]
fn write_returns_false_at_the_high_water_mark_and_drain_comes_once() {
    let log = Log::default();
    let l = log.clone();
    program("write_false_then_drain", |lp| {
        serve(
            lp,
            |lp, s| {
                // Read nothing for a while, so the client's writes have to wait.
                s.pause(lp);
                lp.set_timeout(
                    move |lp| {
                        s.resume(lp).on_data(lp, |_, _| {});
                    },
                    100,
                );
            },
            move |lp, server, addr| {
                let options = SocketOptions {
                    writable_high_water_mark: 1000,
                    ..SocketOptions::default()
                };
                Socket::connect_with(lp, addr, options, move |lp, c| {
                    l.push(format!("small write: {}", c.write(lp, &[1; 10])));
                    let chunk = vec![0u8; 256 * 1024];
                    let mut writes = 0;
                    while c.write(lp, &chunk) {
                        writes += 1;
                        assert!(writes < 1000, "write never returned false");
                    }
                    let waiting = c.writable_length(lp);
                    l.push(format!("false with {} waiting", waiting >= 1000));
                    l.push(format!("small write while full: {}", c.write(lp, &[1; 10])));
                    let l2 = l.clone();
                    c.on_drain(lp, move |lp| {
                        l2.push(format!("drain, waiting {}", c.writable_length(lp)));
                        c.end(lp);
                    })
                    .on_close(lp, move |lp, _| server.close(lp, |_, _| {}));
                });
            },
        );
    });
    assert_eq!(
        log.entries(),
        [
            "small write: true",
            "false with true waiting",
            "small write while full: false",
            "drain, waiting 0",
        ],
        "write must return true below the mark, false at it, and 'drain' must come once, \
         when nothing waits"
    );
}

#[test]
fn end_with_sends_everything_then_finishes() {
    const TOTAL: usize = 3 << 20;
    let log = Log::default();
    let got = Rc::new(Cell::new(0usize));
    let (l, g) = (log.clone(), got.clone());
    program("end_with_sends_everything", |lp| {
        let l1 = l.clone();
        serve(
            lp,
            move |lp, s| {
                let l2 = l1.clone();
                s.end_with(lp, &vec![9u8; TOTAL])
                    .on_finish(lp, move |_| l2.push("server: finish"));
            },
            move |lp, server, addr| {
                let c = Socket::connect(lp, addr, |_, _| {});
                let (l1, l2) = (l.clone(), l.clone());
                c.on_data(lp, move |_, d| g.set(g.get() + d.len()))
                    .on_end(lp, move |_| l1.push("client: end"))
                    .on_close(lp, move |lp, had_error| {
                        l2.push(format!("client: close {had_error}"));
                        server.close(lp, |_, _| {});
                    });
            },
        );
    });
    assert_eq!(
        got.get(),
        TOTAL,
        "end(data) must send every byte before the FIN"
    );
    let entries = log.entries();
    assert!(
        entries.ends_with(&["client: end".to_string(), "client: close false".to_string()])
            && entries.contains(&"server: finish".to_string()),
        "{entries:?}"
    );
}

#[test]
fn writes_and_end_before_the_connection_wait_for_it() {
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    program("writes_before_connect", |lp| {
        serve(
            lp,
            move |lp, s| {
                let g = g.clone();
                s.on_data(lp, move |_, d| g.borrow_mut().extend_from_slice(d));
            },
            move |lp, server, addr| {
                let c = Socket::connect(lp, addr, |_, _| {});
                assert!(c.is_connecting(lp));
                c.write(lp, b"one ");
                c.write(lp, b"two ");
                c.end_with(lp, b"three");
                c.on_close(lp, move |lp, _| server.close(lp, |_, _| {}));
            },
        );
    });
    assert_eq!(
        String::from_utf8_lossy(&got.borrow()),
        "one two three",
        "writes made while connecting must be sent, in order, once connected"
    );
}

#[test]
fn destroy_closes_at_once_without_end_or_error() {
    let log = Log::default();
    let l = log.clone();
    program("destroy_closes", |lp| {
        let l1 = l.clone();
        serve(
            lp,
            move |lp, s| {
                let (l2, l3) = (l1.clone(), l1.clone());
                l1.push("server: connection");
                s.on_data(lp, |_, _| {})
                    .on_end(lp, move |_| l2.push("server: end"))
                    .on_close(lp, move |_, e| l3.push(format!("server: close {e}")));
            },
            move |lp, server, addr| {
                Socket::connect(lp, addr, move |lp, c| {
                    let (l1, l2, l3) = (l.clone(), l.clone(), l.clone());
                    c.on_end(lp, move |_| l1.push("client: end"))
                        .on_error(lp, move |_, e| l2.push(format!("client: error {e}")))
                        .on_close(lp, move |lp, e| {
                            l3.push(format!("client: close {e}"));
                            server.close(lp, |_, _| {});
                        });
                    c.write(lp, b"lost?");
                    c.destroy(lp);
                    assert!(c.is_destroyed(lp));
                    assert!(!c.write(lp, b"after"), "a destroyed socket takes no writes");
                });
            },
        );
    });
    assert_eq!(
        log.entries(),
        [
            "server: connection",
            "client: close false",
            "server: end",
            "server: close false"
        ],
        "destroy emits no 'end' and no 'error' on its own side; the peer sees an end"
    );
}

#[test]
fn an_error_nobody_listens_for_ends_the_program() {
    let _watchdog = Watchdog::new("unhandled_error", Duration::from_secs(30));
    let mut lp = EventLoop::new();
    let uncaught = lp
        .run_main(|lp| {
            // A port nobody listens on: bind one, and close it.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            Socket::connect(lp, port, |_, _| panic!("connected to a closed port"));
        })
        .expect_err("an 'error' without a listener is thrown");
    assert!(
        uncaught.message.contains("Unhandled 'error' event")
            && uncaught.message.contains("connect ECONNREFUSED 127.0.0.1:"),
        "{uncaught}"
    );
}

#[test]
fn listening_on_a_taken_port_is_an_error_event() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let code = Rc::new(Cell::new(""));
    let c = code.clone();
    program("listen_eaddrinuse", |lp| {
        let server = Server::create(lp, |_, _| {});
        server
            .listen(lp, addr, |_| panic!("listening on a taken port"))
            .on_error(lp, move |_, e| c.set(NetError::code_of(e)));
        assert!(
            !server.listening(lp),
            "listen reports later, never inside the call"
        );
    });
    assert_eq!(code.get(), "EADDRINUSE");
}

#[test]
fn max_connections_closes_the_connections_beyond_it() {
    let log = Log::default();
    let l = log.clone();
    program("max_connections", |lp| {
        let options = ServerOptions {
            max_connections: Some(1),
            ..ServerOptions::default()
        };
        let accepted = Rc::new(Cell::new(0));
        let server = Server::create_with(lp, options, move |lp, s| {
            accepted.set(accepted.get() + 1);
            s.end_with(lp, format!("you are {}", accepted.get()).as_bytes());
        });
        server.listen(lp, localhost(), move |lp| {
            let addr = server.address(lp).unwrap();
            let first = Socket::connect(lp, addr, |_, _| {});
            let l1 = l.clone();
            first.on_data(lp, move |lp, d| {
                l1.push(String::from_utf8_lossy(d).into_owned());
                // The first stays open while the second tries.
                let second = Socket::connect(lp, addr, |_, _| {});
                let (l2, l3) = (l1.clone(), l1.clone());
                second
                    .on_data(lp, move |_, d| {
                        l2.push(String::from_utf8_lossy(d).into_owned())
                    })
                    .on_error(lp, |_, _| {}) // a reset is fine too
                    .on_close(lp, move |lp, _| {
                        l3.push("second: closed");
                        first.destroy(lp);
                        server.close(lp, |_, _| {});
                    });
            });
        });
    });
    assert_eq!(
        log.entries(),
        ["you are 1", "second: closed"],
        "the connection beyond maxConnections is closed, never served"
    );
}

#[test]
fn a_stale_socket_id_is_harmless() {
    let outcome = Rc::new(RefCell::new(None::<io::Result<()>>));
    let o = outcome.clone();
    program("stale_socket", |lp| {
        serve(
            lp,
            |lp, s| s.destroy(lp),
            move |lp, server, addr| {
                let c = Socket::connect(lp, addr, |_, _| {});
                c.on_error(lp, |_, _| {}).on_close(lp, move |lp, _| {
                    server.close(lp, |_, _| {});
                    let o = o.clone();
                    // After 'close' the id is stale: nothing runs, nothing panics.
                    lp.set_immediate(move |lp| {
                        assert!(c.is_destroyed(lp));
                        assert!(!c.write(lp, b"x"));
                        c.on_data(lp, |_, _| panic!("a stale socket emitted data"));
                        c.end(lp).destroy(lp);
                        assert!(c.local_addr(lp).is_err());
                        c.write_with(lp, b"x", move |_, r| *o.borrow_mut() = Some(r));
                    });
                });
            },
        );
    });
    let code = outcome.borrow().as_ref().map(|r| match r {
        Ok(()) => "ok",
        Err(e) => NetError::code_of(e),
    });
    assert_eq!(
        code,
        Some("ERR_STREAM_DESTROYED"),
        "a write on a stale socket calls back with an error"
    );
}

#[test]
fn the_idle_timeout_waits_for_silence() {
    let log = Log::default();
    let l = log.clone();
    program("idle_timeout", |lp| {
        let l1 = l.clone();
        serve(
            lp,
            move |lp, s| {
                let (l2, l3) = (l1.clone(), l1.clone());
                s.set_timeout(lp, 60)
                    .on_data(lp, move |_, _| l2.push("data"))
                    .on_timeout(lp, move |lp| {
                        l3.push("timeout");
                        s.destroy(lp);
                    });
            },
            move |lp, server, addr| {
                Socket::connect(lp, addr, move |lp, c| {
                    // Five writes 20 ms apart: 100 ms of activity, never 60 ms of silence.
                    let sent = Rc::new(Cell::new(0));
                    let interval = Rc::new(Cell::new(None));
                    let i = interval.clone();
                    let t = lp.set_interval(
                        move |lp| {
                            c.write(lp, b".");
                            sent.set(sent.get() + 1);
                            if sent.get() == 5 {
                                lp.clear_interval(i.get().unwrap());
                            }
                        },
                        20,
                    );
                    interval.set(Some(t));
                    c.on_error(lp, |_, _| {})
                        .on_close(lp, move |lp, _| server.close(lp, |_, _| {}));
                });
            },
        );
    });
    let entries = log.entries();
    assert_eq!(
        entries.last().map(String::as_str),
        Some("timeout"),
        "'timeout' must wait until the data stops: {entries:?}"
    );
    assert!(
        entries.iter().filter(|e| *e == "data").count() >= 2,
        "{entries:?}"
    );
}

#[test]
fn bytes_read_and_written_count_what_moved() {
    let counts = Rc::new(Cell::new((0, 0)));
    let c = counts.clone();
    program("byte_counts", |lp| {
        serve(
            lp,
            |lp, s| {
                s.on_data(lp, move |lp, d| {
                    let d = d.to_vec();
                    s.write(lp, &d);
                });
            },
            move |lp, server, addr| {
                Socket::connect(lp, addr, move |lp, client| {
                    client.end_with(lp, &[1; 1000]);
                    let got = Rc::new(Cell::new(0));
                    client
                        .on_data(lp, move |_, d| got.set(got.get() + d.len()))
                        .on_close(lp, move |lp, _| {
                            c.set((client.bytes_written(lp), client.bytes_read(lp)));
                            server.close(lp, |_, _| {});
                        });
                });
            },
        );
    });
    assert_eq!(counts.get(), (1000, 1000), "(bytes_written, bytes_read)");
}
