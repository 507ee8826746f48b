//! Chapter 8: kernel I/O — the pollers, the waker, and the real poll phase (SPEC §1.3–§1.4).
//!
//! Every test takes one lock, so the descriptor counts they compare are never disturbed by
//! another test of this binary running at the same time.

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use eventloop::Ref;
use eventloop::event_loop::{EventLoop, RunMode};
use eventloop::sys::{Event, Interest, Waker, timeout_ms};
use eventloop::threadpool::ThreadPool;

use common::{Log, run_bounded};

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time, and a watchdog that turns a hang (a lost wake-up) into a failure.
fn serial() -> (MutexGuard<'static, ()>, common::Watchdog) {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let test = std::thread::current()
        .name()
        .unwrap_or("a kernel I/O test")
        .to_string();
    (guard, common::Watchdog::new(&test, Duration::from_secs(60)))
}

/// Descriptors this process has open now.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn timeouts_round_up_to_whole_milliseconds() {
    assert_eq!(timeout_ms(None), -1);
    assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
    assert_eq!(timeout_ms(Some(Duration::from_micros(300))), 1);
    assert_eq!(timeout_ms(Some(Duration::from_millis(1))), 1);
    assert_eq!(timeout_ms(Some(Duration::from_micros(1_200))), 2);
    assert_eq!(timeout_ms(Some(Duration::MAX)), i32::MAX);
}

/// The same behaviour from both backends.
macro_rules! poller_tests {
    ($name:ident, $poller:ty) => {
        mod $name {
            use super::*;

            fn wait(poller: &mut $poller) -> Vec<Event> {
                let mut events = Vec::new();
                poller.wait(&mut events, Some(Duration::ZERO)).unwrap();
                events
            }

            #[test]
            fn readiness_is_level_triggered() {
                let _serial = serial();
                let (mut a, mut b) = pair();
                let mut poller = <$poller>::new().unwrap();
                poller.add(a.as_fd(), 7, Interest::READABLE).unwrap();
                assert!(wait(&mut poller).is_empty(), "nothing to read yet");
                b.write_all(b"ping").unwrap();
                for _ in 0..2 {
                    let events = wait(&mut poller);
                    assert_eq!(events.len(), 1, "reported on every wait until read");
                    assert_eq!(events[0].token, 7);
                    assert!(events[0].readable && !events[0].writable);
                }
                let mut buf = [0u8; 16];
                assert_eq!(a.read(&mut buf).unwrap(), 4);
                assert!(wait(&mut poller).is_empty(), "read dry: quiet again");
            }

            #[test]
            fn interest_can_change_and_registration_can_end() {
                let _serial = serial();
                let (a, _b) = pair();
                let mut poller = <$poller>::new().unwrap();
                let fd = a.as_fd();
                poller.add(fd, 1, Interest::NONE).unwrap();
                assert!(wait(&mut poller).is_empty(), "no interest, no events");
                poller.modify(fd, 2, Interest::WRITABLE).unwrap();
                let events = wait(&mut poller);
                assert_eq!(events.len(), 1);
                assert_eq!(events[0].token, 2, "the token given by modify");
                assert!(events[0].writable);
                let err = poller.add(fd, 3, Interest::READABLE).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
                poller.delete(fd).unwrap();
                assert!(wait(&mut poller).is_empty());
                let err = poller.delete(fd).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
                let err = poller.modify(fd, 4, Interest::READABLE).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
            }

            #[test]
            fn a_hang_up_wakes_a_reader() {
                let _serial = serial();
                let (a, b) = pair();
                let mut poller = <$poller>::new().unwrap();
                poller.add(a.as_fd(), 5, Interest::READABLE).unwrap();
                drop(b);
                let events = wait(&mut poller);
                assert_eq!(events.len(), 1);
                assert!(events[0].readable, "a read would now return end-of-file");
                assert!(events[0].hangup);
            }

            #[test]
            fn a_half_close_is_readable_but_not_a_hang_up() {
                let _serial = serial();
                let (a, b) = pair();
                a.set_nonblocking(true).unwrap();
                // Fill a's send buffer: a is not writable.
                while (&a).write(&[0; 4096]).is_ok() {}
                let mut poller = <$poller>::new().unwrap();
                poller.add(a.as_fd(), 7, Interest::BOTH).unwrap();
                b.shutdown(std::net::Shutdown::Write).unwrap();
                let events = wait(&mut poller);
                assert_eq!(events.len(), 1);
                // Reading would return end-of-file; writing would still block. Counting the
                // half-close as a hang-up would report the full side as ready, every wait.
                assert!(events[0].readable);
                assert!(!events[0].writable && !events[0].hangup && !events[0].error);
            }

            #[test]
            fn a_quiet_descriptor_that_hung_up_does_not_wake_every_wait() {
                let _serial = serial();
                let (a, b) = pair();
                let mut poller = <$poller>::new().unwrap();
                poller.add(a.as_fd(), 6, Interest::NONE).unwrap();
                drop(b);
                let _first = wait(&mut poller); // epoll may report the hang-up once
                assert!(wait(&mut poller).is_empty(), "then it stays quiet");
                assert!(wait(&mut poller).is_empty());
                poller.modify(a.as_fd(), 6, Interest::READABLE).unwrap();
                let events = wait(&mut poller);
                assert_eq!(events.len(), 1, "asked again, it is reported");
                assert!(events[0].readable && events[0].hangup);
            }

            #[test]
            fn a_waker_ends_a_wait_from_another_thread() {
                let _serial = serial();
                let mut poller = <$poller>::new().unwrap();
                let waker = Arc::new(Waker::new().unwrap());
                poller.add(waker.fd(), 99, Interest::READABLE).unwrap();
                let w = waker.clone();
                let thread = std::thread::spawn(move || w.wake().unwrap());
                let mut events = Vec::new();
                poller.wait(&mut events, None).unwrap(); // no timeout: only the wake ends it
                thread.join().unwrap();
                assert_eq!(events.len(), 1);
                assert_eq!(events[0].token, 99);
                assert!(waker.drain().unwrap());
                assert!(wait(&mut poller).is_empty(), "drained: quiet again");
            }
        }
    };
}

poller_tests!(epoll, eventloop::sys::epoll::Poller);
poller_tests!(poll, eventloop::sys::poll::Poller);

#[test]
fn many_wakes_before_a_drain_are_one_wake_up() {
    let _serial = serial();
    let waker = Waker::new().unwrap();
    assert!(!waker.drain().unwrap(), "nothing yet");
    for _ in 0..1000 {
        waker.wake().unwrap();
    }
    assert!(waker.drain().unwrap());
    assert!(!waker.drain().unwrap(), "one drain reads them all");
}

mod on_the_loop {
    use super::*;
    use eventloop::uv::Uv;

    #[test]
    fn a_ready_descriptor_runs_its_callback_in_the_poll_phase_with_a_checkpoint() {
        let _serial = serial();
        let (a, mut b) = pair();
        let mut lp = EventLoop::new();
        lp.enable_trace();
        let log = Log::default();
        let l = log.clone();
        // The loop keeps one share of the socket while it watches; the callback reads
        // through the other.
        let reader = Rc::new(a);
        let r = reader.clone();
        let watch = std::rc::Rc::new(std::cell::Cell::new(None));
        let w = watch.clone();
        let id = lp
            .watch_fd(
                reader,
                Interest::READABLE,
                "socket.read",
                move |lp, event| {
                    assert!(event.readable);
                    let mut buf = [0u8; 16];
                    let n = (&*r).read(&mut buf).unwrap();
                    l.push(format!(
                        "read {:?}",
                        std::str::from_utf8(&buf[..n]).unwrap()
                    ));
                    lp.next_tick(l.cb("tick after read"));
                    lp.unwatch_fd(w.get().unwrap()).unwrap();
                },
            )
            .unwrap();
        watch.set(Some(id));
        assert!(lp.is_alive(), "an active watcher keeps the loop alive");
        b.write_all(b"hello").unwrap();
        assert!(
            !run_bounded(&mut lp, RunMode::Default),
            "unwatched: nothing left"
        );
        assert_eq!(log.entries(), ["read \"hello\"", "tick after read"]);
        assert!(
            lp.unwatch_fd(id).is_err(),
            "removing twice is an error, not a panic"
        );
        assert!(
            lp.take_trace()
                .contains(&eventloop::trace::TraceEvent::PollReady(1))
        );
    }

    #[test]
    fn a_watcher_stopped_by_an_earlier_callback_of_the_batch_gets_nothing() {
        let _serial = serial();
        let (a1, mut b1) = pair();
        let (a2, mut b2) = pair();
        let mut lp = EventLoop::new();
        let log = Log::default();
        let watches = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        for (name, sock) in [("first", a1), ("second", a2)] {
            let (l, ws) = (log.clone(), watches.clone());
            let id = lp
                .watch_fd(sock, Interest::READABLE, "socket.read", move |lp, _| {
                    l.push(name);
                    // Whoever runs first stops both.
                    for w in ws.borrow().iter() {
                        let _ = lp.unwatch_fd(*w);
                    }
                })
                .unwrap();
            watches.borrow_mut().push(id);
        }
        b1.write_all(b"x").unwrap();
        b2.write_all(b"y").unwrap();
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(
            log.entries().len(),
            1,
            "only one of the two ready watchers ran"
        );
    }

    #[test]
    fn a_narrowed_interest_masks_what_the_kernel_reported() {
        let _serial = serial();
        let (a1, mut b1) = pair();
        let (a2, _b2) = pair();
        let mut lp = EventLoop::new();
        let log = Log::default();
        // Ready before either is registered: epoll's ready list then holds them in
        // registration order, so "first" runs first.
        b1.write_all(b"x").unwrap();
        let second = std::rc::Rc::new(std::cell::Cell::new(None));
        let (l, s) = (log.clone(), second.clone());
        let first = lp
            .watch_fd(a1, Interest::READABLE, "first", move |lp, _| {
                l.push("first");
                lp.set_fd_interest(s.get().unwrap(), Interest::READABLE)
                    .unwrap();
            })
            .unwrap();
        let l = log.clone();
        let id = lp
            .watch_fd(a2, Interest::WRITABLE, "second", move |_, e| {
                l.push(format!(
                    "second readable={} writable={}",
                    e.readable, e.writable
                ));
            })
            .unwrap();
        second.set(Some(id));
        lp.run(RunMode::NoWait);
        // The kernel reported "second" writable, but by its turn it only wants to read, and
        // there is nothing to read.
        assert_eq!(log.entries(), ["first"]);
        lp.unwatch_fd(first).unwrap();
        lp.unwatch_fd(id).unwrap();
    }

    /// Three watchers, each ready before it is registered (epoll's ready list then holds
    /// them in registration order), and `first`'s callback does `act` to the second.
    fn batch_of_three(
        second_interest: Interest,
        act: impl Fn(&mut EventLoop, eventloop::event_loop::FdWatch) + 'static,
    ) -> Vec<String> {
        let (ours, peers): (Vec<_>, Vec<_>) = (0..3).map(|_| pair()).unzip();
        for (i, b) in peers.iter().enumerate() {
            if i != 1 || second_interest.readable {
                (&*b).write_all(b"x").unwrap();
            }
        }
        let mut lp = EventLoop::new();
        let log = Log::default();
        let ids = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let act = std::rc::Rc::new(act);
        for (i, (name, sock)) in ["first", "second", "third"]
            .into_iter()
            .zip(ours)
            .enumerate()
        {
            let (l, ws, act) = (log.clone(), ids.clone(), act.clone());
            let interest = if i == 1 {
                second_interest
            } else {
                Interest::READABLE
            };
            let id = lp
                .watch_fd(sock, interest, name, move |lp, _| {
                    l.push(name);
                    if name == "first" {
                        let second = ws.borrow()[1];
                        act(lp, second);
                    }
                })
                .unwrap();
            ids.borrow_mut().push(id);
        }
        lp.run(RunMode::NoWait); // one iteration: one wait, one batch
        for id in ids.borrow().iter() {
            let _ = lp.unwatch_fd(*id);
        }
        log.entries()
    }

    #[test]
    fn an_event_whose_watcher_is_gone_is_skipped_and_the_batch_goes_on() {
        let _serial = serial();
        let ran = batch_of_three(Interest::READABLE, |lp, second| {
            lp.unwatch_fd(second).unwrap();
        });
        assert_eq!(
            ran,
            ["first", "third"],
            "an event whose watcher an earlier callback removed is skipped, not the end of \
             the batch: `third`, ready in the same wait, runs in the same poll phase"
        );
    }

    #[test]
    fn an_event_masked_to_nothing_is_skipped_and_the_batch_goes_on() {
        let _serial = serial();
        // `second` waits to write (and may); `first` narrows it to reading, with nothing to read.
        let ran = batch_of_three(Interest::WRITABLE, |lp, second| {
            lp.set_fd_interest(second, Interest::READABLE).unwrap();
        });
        assert_eq!(
            ran,
            ["first", "third"],
            "an event masked by the current interest to nothing is skipped, not the end of the \
             batch: `third`, ready in the same wait, runs in the same poll phase"
        );
    }

    #[test]
    fn an_error_or_a_hang_up_counts_as_readable_and_writable() {
        use std::os::unix::fs::OpenOptionsExt;
        let _serial = serial();
        // A pipe whose writer is gone: its read end reports a hang-up (EPOLLHUP) alone.
        let (hung_up, writer) = std::io::pipe().unwrap();
        drop(writer);
        // A full pipe whose reader is gone: its write end reports an error (EPOLLERR) alone
        // (full: not writable). The write end is opened again, non-blocking, to fill it.
        let (reader, writer) = std::io::pipe().unwrap();
        let mut failed = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(format!("/proc/self/fd/{}", writer.as_raw_fd()))
            .unwrap();
        drop(writer);
        loop {
            match failed.write(&[0; 4096]) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("filling the pipe: {e}"),
            }
        }
        drop(reader);
        let mut lp = EventLoop::new();
        let log = Log::default();
        let report = |name: &'static str, log: &Log| {
            let l = log.clone();
            move |_: &mut EventLoop, e: Event| {
                l.push(format!(
                    "{name}: readable={} writable={}",
                    e.readable, e.writable
                ))
            }
        };
        let a = lp
            .watch_fd(
                hung_up,
                Interest::WRITABLE,
                "waits to write, hung up",
                report("hang-up", &log),
            )
            .unwrap();
        let b = lp
            .watch_fd(
                failed,
                Interest::READABLE,
                "waits to read, failed",
                report("error", &log),
            )
            .unwrap();
        lp.run(RunMode::NoWait);
        let mut seen = log.entries();
        seen.sort();
        assert_eq!(
            seen,
            [
                "error: readable=true writable=false",
                "hang-up: readable=false writable=true"
            ],
            "an error or a hang-up counts as both readable and writable, masked by what the \
             watcher wants: whichever side it waits on must hear of it (the next read or write \
             reports what happened)"
        );
        lp.unwatch_fd(a).unwrap();
        lp.unwatch_fd(b).unwrap();
    }

    #[test]
    fn unrefd_and_idle_watchers_do_not_keep_the_loop_alive() {
        let _serial = serial();
        let (a, _b) = pair();
        let mut lp = EventLoop::new();
        let id = lp
            .watch_fd(a, Interest::READABLE, "idle", |_, _| {})
            .unwrap();
        assert_eq!(lp.active_handles(), 1);
        id.unref(&mut lp);
        assert!(!lp.is_alive(), "unref'd");
        id.ref_(&mut lp);
        assert!(lp.is_alive());
        lp.set_fd_interest(id, Interest::NONE).unwrap();
        assert!(!lp.is_alive(), "waiting for nothing: inactive");
        assert!(!run_bounded(&mut lp, RunMode::Default));
        lp.unwatch_fd(id).unwrap();
    }

    /// The manual clock's rule (chapter 8): when nothing could end a wait in the poll phase —
    /// no active watcher, no job in flight — the clock jumps to the next deadline, also on a
    /// loop that has a poller because it watched a descriptor once. (It used to wait in
    /// `epoll_wait` with no timeout, for ever, once any descriptor had been watched.)
    #[test]
    fn a_manual_clock_jumps_when_no_watcher_can_wake_the_loop() {
        let _serial = serial();
        let log = common::within(
            Duration::from_secs(10),
            "the poll phase waits in the kernel with nothing that could wake it",
            || {
                let (a, _b) = pair();
                let (mut lp, _clock) = common::manual_loop();
                let log = Log::default();
                let id = lp
                    .watch_fd(
                        a.try_clone().unwrap(),
                        Interest::READABLE,
                        "once",
                        |_, _| {},
                    )
                    .unwrap();
                lp.unwatch_fd(id).unwrap();
                lp.set_timeout(log.at("after unwatch"), 100);
                assert!(!lp.run(RunMode::Default));
                // A watcher that waits for nothing cannot end a wait either.
                let quiet = lp.watch_fd(a, Interest::NONE, "quiet", |_, _| {}).unwrap();
                lp.set_timeout(log.at("beside a quiet watcher"), 50);
                assert!(!lp.run(RunMode::Default));
                assert!(!lp.stalled());
                lp.unwatch_fd(quiet).unwrap();
                log.entries()
            },
        );
        assert_eq!(log, ["after unwatch@100", "beside a quiet watcher@150"]);
    }

    #[test]
    fn pool_completions_arrive_through_the_kernel_wait() {
        let _serial = serial();
        let (a, _b) = pair();
        let mut lp = EventLoop::builder()
            .thread_pool(ThreadPool::with_size(2))
            .build()
            .unwrap();
        // A watcher that never fires makes the poll phase wait in epoll_wait.
        let idle = lp
            .watch_fd(a, Interest::READABLE, "never", |_, _| {})
            .unwrap();
        idle.unref(&mut lp);
        let log = Log::default();
        let l = log.clone();
        lp.queue_work(|| 21 * 2, move |_, r| l.push(format!("job {}", r.unwrap())));
        assert!(!run_bounded(&mut lp, RunMode::Default));
        assert_eq!(log.entries(), ["job 42"]);
        lp.unwatch_fd(idle).unwrap();
    }

    #[test]
    fn bad_descriptors_are_errors_and_nothing_leaks() {
        let _serial = serial();
        let before = open_fds();
        {
            let mut lp = EventLoop::new();
            let file = std::fs::File::open("Cargo.toml").unwrap();
            // Refused, the file is dropped (closed) with the error. A closed or made-up
            // descriptor number cannot be watched at all: `watch_fd` takes its owner.
            let err = lp
                .watch_fd(file, Interest::READABLE, "file", |_, _| {})
                .unwrap_err();
            assert_eq!(
                err.raw_os_error(),
                Some(libc::EPERM),
                "files go to the pool"
            );
            assert_eq!(lp.fd_watchers(), 0);
            assert!(!lp.is_alive());
            let (a, _b) = pair();
            let id = lp
                .watch_fd(a, Interest::READABLE, "pair", |_, _| {})
                .unwrap();
            lp.unwatch_fd(id).unwrap();
        }
        assert_eq!(open_fds(), before, "the poller and its waker were closed");
    }

    /// A descriptor number names whatever is open under it now. If a watched socket could
    /// be closed without `unwatch_fd`, a new connection would get its number, and removing
    /// the old watch would remove the new connection's registration (it would never be
    /// reported again, and the loop would hang on it). `watch_fd` takes the descriptor's
    /// owner, so the socket stays open, and its number taken, until the watch is removed.
    #[test]
    fn a_stale_watch_cannot_reach_a_descriptor_that_reuses_its_number() {
        let _serial = serial();
        let mut lp = EventLoop::new();
        let log = Log::default();
        let (old, _old_peer) = pair();
        let number = old.as_raw_fd();
        let stale = lp
            .watch_fd(old, Interest::READABLE, "old", |_, _| {})
            .unwrap();
        // Our handle is gone (moved, or dropped if it were a clone); the loop's is not.
        let (new, mut new_peer) = pair();
        assert_ne!(
            new.as_raw_fd(),
            number,
            "a watched descriptor stays open: its number is not free"
        );
        let new = Rc::new(new);
        let (watch, bound) = (common::slot(), common::slot());
        let (l, w, b, reader) = (log.clone(), watch.clone(), bound.clone(), new.clone());
        let id = lp
            .watch_fd(new, Interest::READABLE, "new", move |lp, _| {
                let mut buf = [0u8; 4];
                let n = (&*reader).read(&mut buf).unwrap();
                l.push(format!("new connection read {n}"));
                lp.unwatch_fd(w.get().unwrap()).unwrap();
                lp.clear_timeout(b.get().unwrap());
            })
            .unwrap();
        watch.set(Some(id));
        lp.unwatch_fd(stale).unwrap();
        let (again, _again_peer) = pair();
        assert_eq!(
            again.as_raw_fd(),
            number,
            "unwatch_fd let go of the old socket: it is closed, its number free"
        );
        new_peer.write_all(b"x").unwrap();
        // A bound instead of a hang: after 5 s the test stops the loop and fails.
        let l = log.clone();
        bound.set(Some(lp.set_timeout(
            move |lp| {
                l.push("gave up after 5 s");
                let _ = lp.unwatch_fd(id);
            },
            5_000,
        )));
        lp.run(RunMode::Default);
        assert_eq!(
            log.entries(),
            ["new connection read 1"],
            "removing the old watch reached the new connection's registration"
        );
    }

    /// Two loops give their first watchers the same slot: A's watch used on B is refused
    /// with `InvalidInput` and never reaches B's watcher.
    #[test]
    fn a_watch_of_another_loop_is_refused_and_reaches_nothing() {
        let _serial = serial();
        let (mut a, mut b) = (EventLoop::new(), EventLoop::new());
        let ((sa, _pa), (sb, mut pb)) = (pair(), pair());
        let log = Log::default();
        let from_a = a.watch_fd(sa, Interest::READABLE, "a", |_, _| {}).unwrap();
        let watch = common::slot();
        let (l, w) = (log.clone(), watch.clone());
        let of_b = b
            .watch_fd(sb, Interest::READABLE, "b", move |lp, _| {
                l.push("b readable");
                lp.unwatch_fd(w.get().unwrap()).unwrap();
            })
            .unwrap();
        watch.set(Some(of_b));
        assert_ne!(from_a, of_b, "equal keys, different loops: different ids");

        for err in [
            b.set_fd_interest(from_a, Interest::NONE).unwrap_err(),
            b.unwatch_fd(from_a).unwrap_err(),
        ] {
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("another event loop"), "{err}");
        }
        assert_eq!(b.fd_interest(from_a), None);
        from_a.unref(&mut b);
        assert_eq!(b.fd_interest(of_b), Some(Interest::READABLE));
        assert_eq!(
            b.active_handles(),
            1,
            "B's watcher is still ref'd and active"
        );
        pb.write_all(b"x").unwrap();
        assert!(!b.run(RunMode::Default));
        assert_eq!(log.entries(), ["b readable"]);
        a.unwatch_fd(from_a).unwrap();
    }

    #[test]
    fn a_loop_that_never_watches_opens_no_descriptor() {
        let _serial = serial();
        let before = open_fds();
        let mut lp = EventLoop::new();
        lp.set_timeout(|_| {}, 1);
        run_bounded(&mut lp, RunMode::Default);
        assert_eq!(open_fds(), before);
    }
}
