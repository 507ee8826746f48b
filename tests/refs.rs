//! Chapter 6: refs and the end of the process (SPEC §1.2, §3.1, §5.1).
//!
//! `cargo learn refs` runs the `liveness::` tests against `exercises/refs.rs`.

mod common;

mod liveness {
    use eventloop::refs::{Liveness, RefFlags};

    #[test]
    fn one_active_request_alone_keeps_the_loop_alive() {
        let mut live = Liveness::default();
        live.request_started();
        assert!(
            live.is_alive(false, false),
            "one request in flight (a read on the thread pool, say) is a reason to stay alive"
        );
        let mut flags = RefFlags::new();
        live.start(&mut flags);
        assert!(
            live.is_alive(false, false),
            "one active ref'd handle is too"
        );
        live.request_finished();
        live.stop(&mut flags);
        assert!(!live.is_alive(false, false), "nothing left: the loop ends");
    }

    #[test]
    fn a_new_handle_is_refd_and_inactive() {
        let flags = RefFlags::new();
        assert!(flags.has_ref() && !flags.is_active());
        assert!(!Liveness::default().is_alive(false, false));
    }

    #[test]
    fn only_active_refd_handles_count() {
        let mut live = Liveness::default();
        let mut a = RefFlags::new();
        let mut b = RefFlags::new();
        live.start(&mut a);
        assert_eq!(live.active_handles(), 1);
        live.unref(&mut b); // inactive: nothing to uncount
        live.start(&mut b);
        assert_eq!(live.active_handles(), 1, "an unref'd handle does not count");
        live.ref_(&mut b);
        assert_eq!(live.active_handles(), 2);
        live.stop(&mut a);
        live.stop(&mut b);
        assert_eq!(live.active_handles(), 0);
        assert!(!live.is_alive(false, false));
    }

    #[test]
    fn ref_is_a_flag_not_a_counter() {
        let mut live = Liveness::default();
        let mut h = RefFlags::new();
        live.start(&mut h);
        live.start(&mut h);
        assert_eq!(live.active_handles(), 1, "starting twice counts once");
        live.unref(&mut h);
        live.unref(&mut h);
        assert_eq!(live.active_handles(), 0);
        live.ref_(&mut h);
        live.ref_(&mut h);
        assert_eq!(
            live.active_handles(),
            1,
            "one ref undoes any number of unrefs"
        );
        live.stop(&mut h);
        live.stop(&mut h);
        assert_eq!(live.active_handles(), 0, "stopping twice uncounts once");
        assert!(h.has_ref() && !h.is_active());
    }

    #[test]
    fn requests_pending_callbacks_and_closing_handles_keep_the_loop_alive() {
        let mut live = Liveness::default();
        assert!(live.is_alive(true, false), "a deferred callback");
        assert!(live.is_alive(false, true), "a closing handle");
        live.request_started();
        assert!(live.is_alive(false, false), "a request in flight");
        live.request_finished();
        assert!(!live.is_alive(false, false));
    }
}

mod process {
    use super::common::{Log, manual_loop};
    use eventloop::Ref;
    use eventloop::event_loop::RunMode;
    use eventloop::uv::Uv;

    #[test]
    fn a_loop_with_only_unrefd_handles_exits() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let idle = lp.idle_init(|_, _| {});
        lp.start_handle(idle).unwrap();
        idle.unref(&mut lp);
        lp.set_timeout(log.cb("timeout"), 10).unref(&mut lp);
        lp.set_immediate(log.cb("immediate")).unref(&mut lp);
        assert!(!lp.is_alive());
        assert_eq!(lp.run_main(|_| {}).unwrap(), 0);
        assert!(log.entries().is_empty());
    }

    /// One verb set: every kind of handle is ref'd when made, `unref` (chained, as in Node)
    /// clears the flag, twice is once, and one `ref_` sets it again.
    #[test]
    fn every_kind_of_handle_has_the_same_three_verbs() {
        use eventloop::net::{Server, Socket, TcpListener};
        use eventloop::sys::Interest;
        use std::os::unix::net::UnixStream;

        fn check<R: Ref + Copy>(lp: &mut eventloop::EventLoop, kind: &str, handle: R) {
            assert!(handle.has_ref(lp), "{kind}: ref'd when made");
            let same = handle.unref(lp).unref(lp);
            assert!(!same.has_ref(lp), "{kind}: unref clears the flag");
            assert!(
                handle.ref_(lp).has_ref(lp),
                "{kind}: one ref_ undoes two unrefs"
            );
            handle.unref(lp);
            assert!(!handle.has_ref(lp), "{kind}: unref'd again");
        }

        let (mut lp, _clock) = manual_loop();
        let timeout = lp.set_timeout(|_| {}, 10);
        check(&mut lp, "timeout", timeout);
        let interval = lp.set_interval(|_| {}, 10);
        check(&mut lp, "interval", interval);
        let immediate = lp.set_immediate(|_| {});
        check(&mut lp, "immediate", immediate);
        let idle = lp.idle_init(|_, _| {});
        check(&mut lp, "idle handle", idle);
        let timer = lp.timer_init(|_, _| {});
        check(&mut lp, "libuv timer", timer);
        let (a, _b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let watch = lp
            .watch_fd(a, Interest::READABLE, "pipe", |_, _| {})
            .unwrap();
        check(&mut lp, "fd watcher", watch);
        let any = "127.0.0.1:0".parse().unwrap();
        let listener = TcpListener::listen(&mut lp, any, 8, |_, _| {}).unwrap();
        check(&mut lp, "TCP listener", listener);
        let addr = listener.local_addr(&lp).unwrap();
        let server = Server::create(&mut lp, |_, _| {});
        check(&mut lp, "net server", server);
        let task = lp.spawn(std::future::pending::<()>());
        assert!(task.has_ref(&lp), "task: ref'd when made");
        task.unref(&mut lp).unref(&mut lp);
        assert!(!task.has_ref(&lp), "task: unref clears the flag");
        task.ref_(&mut lp);
        assert!(task.has_ref(&lp), "task: one ref_ undoes two unrefs");
        task.unref(&mut lp);
        assert!(
            !lp.is_alive(),
            "everything unref'd: nothing keeps the loop alive"
        );
        // A connect in flight is a request, which keeps the loop alive however the socket is
        // ref'd: so the socket comes last.
        let socket = Socket::connect(&mut lp, addr, |_, _| {});
        check(&mut lp, "net socket", socket);
        socket.destroy(&mut lp);
        server.close(&mut lp, |_, _| {});
        listener.close(&mut lp, |_| {}).unwrap();
        lp.run(RunMode::Default);
    }

    #[test]
    fn before_exit_can_restart_the_loop_three_times() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        let mut rounds = 0;
        lp.on_before_exit(move |lp, code| {
            l.push(format!("beforeExit {code} round {rounds}"));
            if rounds < 3 {
                lp.set_timeout(l.at("timer"), 1);
            }
            rounds += 1;
        });
        assert_eq!(lp.run_main(|_| {}).unwrap(), 0);
        assert_eq!(
            log.entries(),
            [
                "beforeExit 0 round 0",
                "timer@1",
                "beforeExit 0 round 1",
                "timer@2",
                "beforeExit 0 round 2",
                "timer@3",
                "beforeExit 0 round 3",
            ]
        );
    }

    #[test]
    fn exit_listeners_cannot_schedule_more_work() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_exit(move |lp, code| {
            l.push(format!("exit {code}"));
            lp.set_timeout(l.cb("timer set in exit"), 0);
            lp.next_tick(l.cb("tick queued in exit"));
            lp.set_immediate(l.cb("immediate set in exit"));
        });
        lp.set_exit_code(3);
        assert_eq!(lp.run_main(|_| {}).unwrap(), 3);
        assert_eq!(log.entries(), ["exit 3"]);
        assert_eq!(lp.exit_code(), 3);
    }

    /// Node 20: `process.on('exit', () => { process.nextTick(a); queueMicrotask(b);
    /// process.exitCode = 7 })` prints only b, and the process exits with 7.
    #[test]
    fn after_exit_listeners_microtasks_run_ticks_are_dropped_and_the_code_is_reread() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_exit(move |lp, code| {
            l.push(format!("exit {code} {}", lp.exit_code()));
            lp.next_tick(l.cb("tick in exit"));
            lp.queue_microtask(l.cb("microtask in exit"));
            lp.set_exit_code(7);
        });
        assert_eq!(lp.run_main(|_| {}).unwrap(), 7);
        assert_eq!(log.entries(), ["exit 0 0", "microtask in exit"]);
    }

    /// Node 20: after an uncaught throw, `exit` listeners see code 1 and `process.exitCode`
    /// 1; one that sets `process.exitCode = 5` makes the process exit with 5.
    #[test]
    fn after_an_uncaught_error_exit_listeners_see_code_1_and_may_change_it() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_exit(move |lp, code| {
            l.push(format!("exit {code} {}", lp.exit_code()));
            lp.set_exit_code(5);
        });
        let err = lp
            .run_main(|lp| {
                lp.set_timeout(|_| panic!("boom"), 1);
            })
            .unwrap_err();
        assert_eq!(err.message, "boom");
        assert_eq!(log.entries(), ["exit 1 1"]);
        assert_eq!(lp.exit_code(), 5);
    }

    #[test]
    fn exit_ends_the_process_at_once_with_its_code() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_before_exit(move |_, _| l.push("beforeExit (must not run)"));
        let l = log.clone();
        lp.on_exit(move |_, code| l.push(format!("exit {code}")));
        let l = log.clone();
        let code = lp
            .run_main(move |lp| {
                lp.set_timeout(l.cb("timer (must not run)"), 0);
                let l2 = l.clone();
                lp.next_tick(move |lp| {
                    l2.push("tick calls exit(7)");
                    lp.exit(7);
                    l2.push("after exit (must not run)");
                });
            })
            .unwrap();
        assert_eq!(code, 7);
        assert_eq!(log.entries(), ["tick calls exit(7)", "exit 7"]);
    }

    #[test]
    fn a_panicking_callback_is_an_uncaught_error_naming_its_frames() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_exit(move |_, code| l.push(format!("exit {code}")));
        let err = lp
            .run_main(|lp| {
                lp.set_timeout(|_| panic!("boom in a timer"), 5);
            })
            .unwrap_err();
        assert_eq!(err.message, "boom in a timer");
        assert_eq!(err.frames, ["setTimeout", "processTimers"]);
        assert!(err.rejection.is_none());
        assert_eq!(
            err.to_string(),
            "Uncaught boom in a timer\n    at setTimeout\n    at processTimers"
        );
        assert_eq!(log.entries(), ["exit 1"]);
        assert!(lp.stack().is_empty(), "the stack is clean after the unwind");
    }

    #[test]
    fn run_reports_whether_the_loop_is_still_alive() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        lp.set_timeout(log.cb("t"), 5);
        assert!(lp.run(RunMode::NoWait));
        assert!(!lp.run(RunMode::Default));
        assert_eq!(log.entries(), ["t"]);
    }

    /// A drain has one panic boundary for all its jobs; a tick or microtask that panics is
    /// still reported with its own frame, and the drain goes on with the next job.
    #[test]
    fn a_panicking_tick_or_microtask_is_reported_and_the_drain_goes_on() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_uncaught_exception(move |_, err| {
            l.push(format!("uncaught: {} in {:?}", err.message, err.frames));
        });
        let l = log.clone();
        let code = lp
            .run_main(move |lp| {
                lp.next_tick(l.cb("tick 1"));
                lp.next_tick(|_| panic!("tick 2 throws"));
                lp.next_tick(l.cb("tick 3"));
                lp.queue_microtask(|_| panic!("microtask 1 throws"));
                lp.queue_microtask(l.cb("microtask 2"));
            })
            .unwrap();
        assert_eq!(code, 0);
        assert_eq!(
            log.entries(),
            [
                "tick 1",
                "uncaught: tick 2 throws in [\"nextTick\"]",
                "tick 3",
                "uncaught: microtask 1 throws in [\"queueMicrotask\"]",
                "microtask 2"
            ]
        );
        assert!(lp.stack().is_empty(), "every frame was popped");
    }

    #[test]
    fn with_an_uncaught_exception_listener_a_panic_is_reported_and_the_loop_goes_on() {
        // With the quiet hook, a handled panic is not printed, and its location is known.
        let mut lp = eventloop::event_loop::EventLoop::builder()
            .clock(eventloop::clock::ManualClock::new())
            .quiet_panics(true)
            .build()
            .unwrap();
        let log = Log::default();
        let l = log.clone();
        lp.on_uncaught_exception(move |lp, err| {
            l.push(format!("uncaught: {} in {:?}", err.message, err.frames));
            assert!(
                err.location
                    .as_deref()
                    .is_some_and(|l| l.contains("tests/refs.rs"))
            );
            assert_eq!(lp.stack().top(), Some("uncaughtException"));
        });
        let l = log.clone();
        let code = lp
            .run_main(move |lp| {
                let l2 = l.clone();
                let mut n = 0;
                let iv = super::common::slot();
                let iv2 = iv.clone();
                iv.set(Some(lp.set_interval(
                    move |lp| {
                        n += 1;
                        l2.push(format!("interval {n}"));
                        if n == 3 {
                            lp.clear_interval(iv2.get().unwrap());
                        }
                        if n < 3 {
                            panic!("interval {n} throws");
                        }
                    },
                    10,
                )));
                lp.set_immediate(|_| panic!("immediate 1 throws"));
                lp.set_immediate(l.cb("immediate 2 still runs"));
                lp.set_timeout(|_| panic!("timeout A throws"), 5);
                lp.set_timeout(l.cb("timeout B still runs"), 5);
            })
            .unwrap();
        assert_eq!(code, 0);
        assert_eq!(
            log.entries(),
            [
                r#"uncaught: immediate 1 throws in ["setImmediate", "processImmediate"]"#,
                "immediate 2 still runs",
                r#"uncaught: timeout A throws in ["setTimeout", "processTimers"]"#,
                "timeout B still runs",
                "interval 1",
                r#"uncaught: interval 1 throws in ["setInterval", "processTimers"]"#,
                "interval 2",
                r#"uncaught: interval 2 throws in ["setInterval", "processTimers"]"#,
                "interval 3",
            ]
        );
        assert!(lp.stack().is_empty());
    }

    #[test]
    fn a_panic_in_the_uncaught_exception_listener_is_fatal() {
        let (mut lp, _clock) = manual_loop();
        lp.on_uncaught_exception(|_, _| panic!("the listener itself fails"));
        let err = lp
            .run_main(|lp| {
                lp.set_immediate(|_| panic!("first"));
            })
            .unwrap_err();
        assert_eq!(err.message, "the listener itself fails");
        assert_eq!(err.frames[0], "uncaughtException");
    }

    /// Runs `lp` until it ends, catching the one panic that escapes on the way.
    fn run_through_a_panic(lp: &mut eventloop::event_loop::EventLoop, expected: &str) {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lp.run(RunMode::Default);
        }));
        let payload = caught.expect_err("the panic escapes run()");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&expected));
    }

    #[test]
    fn outside_run_main_immediates_after_a_panicking_one_run_on_the_next_pass() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        lp.set_immediate(|_| panic!("first"));
        lp.set_immediate(log.cb("second"));
        run_through_a_panic(&mut lp, "first");
        lp.run(RunMode::Once); // one pass: not lost, and not spinning on a stale count
        assert_eq!(log.entries(), ["second"]);
        assert!(!lp.is_alive());
    }

    #[test]
    fn outside_run_main_a_panicking_timer_leaves_the_others_armed() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let calls = std::rc::Rc::new(std::cell::Cell::new(0));
        let (l, c) = (log.clone(), calls.clone());
        let interval = std::rc::Rc::new(std::cell::Cell::new(None));
        let me = interval.clone();
        // An interval that panics on its first run: like Node's `finally`, it is re-armed.
        interval.set(Some(lp.set_interval(
            move |lp| {
                c.set(c.get() + 1);
                if c.get() == 1 {
                    panic!("interval");
                }
                l.push("interval again");
                lp.clear_interval(me.get().unwrap());
            },
            10,
        )));
        lp.set_timeout(log.cb("same list"), 10);
        lp.set_timeout(log.cb("later list"), 20);
        run_through_a_panic(&mut lp, "interval");
        assert!(lp.is_alive(), "the other timers still keep the loop alive");
        lp.run(RunMode::Default);
        // The order Node prints without the panic: the interval's list was re-queued after
        // the 20 ms one, so at 20 ms it comes second.
        assert_eq!(log.entries(), ["same list", "later list", "interval again"]);
    }

    #[test]
    fn run_from_inside_a_callback_is_an_error_not_a_spin() {
        let (mut lp, _clock) = manual_loop();
        let err = lp
            .run_main(|lp| {
                lp.set_immediate(|lp| {
                    lp.run(RunMode::Default);
                });
                lp.set_immediate(|_| {});
            })
            .unwrap_err();
        assert!(err.message.contains("not reentrant"), "{}", err.message);
        assert_eq!(err.frames, ["setImmediate", "processImmediate"]);
    }

    #[test]
    fn run_main_inside_a_running_program_is_an_error_that_changes_nothing_else() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_exit(move |_, code| l.push(format!("exit {code}")));
        let err = lp
            .run_main(|lp| {
                lp.set_timeout(|lp| drop(lp.run_main(|_| {})), 1);
            })
            .unwrap_err();
        assert!(
            err.message.contains("one program at a time"),
            "{}",
            err.message
        );
        assert_eq!(
            log.entries(),
            ["exit 1"],
            "the exit listeners ran once, at the end"
        );
    }

    #[test]
    fn each_program_starts_with_exit_code_zero() {
        let (mut lp, _clock) = manual_loop();
        assert!(lp.run_main(|_| panic!("the first program fails")).is_err());
        assert_eq!(lp.exit_code(), 1);
        assert_eq!(lp.run_main(|_| {}).unwrap(), 0);
        assert_eq!(lp.run_main(|lp| lp.exit(3)).unwrap(), 3);
        assert_eq!(lp.run_main(|_| {}).unwrap(), 0);
        lp.set_exit_code(5); // set for the coming program: kept
        assert_eq!(lp.run_main(|_| {}).unwrap(), 5);
    }

    #[test]
    fn after_run_main_the_loop_takes_ticks_again() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        assert_eq!(lp.run_main(|_| {}).unwrap(), 0);
        let l = log.clone();
        lp.run_main(move |lp| lp.next_tick(l.cb("tick in a second program")))
            .unwrap();
        lp.next_tick(log.cb("tick for a plain run"));
        lp.run(RunMode::Default);
        assert_eq!(
            log.entries(),
            ["tick in a second program", "tick for a plain run"]
        );
    }

    #[test]
    fn outside_run_main_an_uncaught_panic_reaches_the_embedder_with_a_clean_stack() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        lp.set_immediate(|_| panic!("nobody listens"));
        lp.set_timeout(log.cb("later timer"), 50);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lp.run(RunMode::Default);
        }));
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"nobody listens"));
        assert!(lp.stack().is_empty(), "frames were popped on the way out");
        // Nothing queued was corrupted: the loop can run again.
        lp.run(RunMode::Default);
        assert_eq!(log.entries(), ["later timer"]);
    }

    /// The process's panic hook belongs to the program: a loop takes it over only when built
    /// with `quiet_panics(true)`, and a panic is reported once either way — by the program's
    /// hook, or by the loop. Run in a child process (this test binary again, with
    /// `REFS_HOOK_CHILD=1`), because it sets the process-wide hook.
    #[test]
    fn the_panic_hook_is_the_programs_unless_a_loop_is_built_with_quiet_panics() {
        if std::env::var_os("REFS_HOOK_CHILD").is_some() {
            hook_child();
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "process::the_panic_hook_is_the_programs_unless_a_loop_is_built_with_quiet_panics",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("REFS_HOOK_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("hook child: ok"),
            "child failed:\n{stdout}\n{stderr}"
        );
        let reports: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("note: uncaught in the loop's callback"))
            .collect();
        assert_eq!(
            reports,
            ["note: uncaught in the loop's callback; frames: setImmediate <- processImmediate"],
            "the loop reports an escaping panic once, and only when it was asked to:\n{stderr}"
        );
        assert!(
            stderr.contains("panicked at") && stderr.contains("deep in an immediate"),
            "the loop's report has Rust's shape:\n{stderr}"
        );
    }

    fn hook_child() {
        use eventloop::clock::ManualClock;
        use eventloop::event_loop::EventLoop;
        use std::panic::{AssertUnwindSafe, catch_unwind};
        use std::sync::Mutex;

        static HEARD: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let heard = || HEARD.lock().unwrap().clone();
        std::panic::set_hook(Box::new(|info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map_or("?".to_string(), |s| s.to_string());
            HEARD.lock().unwrap().push(message);
        }));

        // A default loop leaves the hook alone: the program's hook hears the panic, the loop
        // returns it and prints nothing.
        let mut lp = EventLoop::with_clock(ManualClock::new());
        let err = lp
            .run_main(|lp| {
                lp.set_timeout(|_| panic!("in a timer"), 5);
            })
            .unwrap_err();
        assert_eq!(err.message, "in a timer");
        assert_eq!(err.location, None, "only the quiet hook knows where");
        lp.set_immediate(|_| panic!("escapes run"));
        assert!(catch_unwind(AssertUnwindSafe(|| lp.run(RunMode::Default))).is_err());
        assert_eq!(
            heard(),
            ["in a timer", "escapes run"],
            "the program's hook, once each"
        );

        // Asked to, the loop wraps the hook: quiet inside callbacks, the program's outside.
        let mut quiet = EventLoop::builder()
            .clock(ManualClock::new())
            .quiet_panics(true)
            .build()
            .unwrap();
        let err = quiet
            .run_main(|lp| {
                lp.set_timeout(|_| panic!("quiet timer"), 5);
            })
            .unwrap_err();
        assert!(err.location.is_some_and(|l| l.contains("tests/refs.rs")));
        // Nested frames catch the same panic on its way out: one report, by the innermost.
        quiet.set_immediate(|_| panic!("deep in an immediate"));
        assert!(catch_unwind(AssertUnwindSafe(|| quiet.run(RunMode::Default))).is_err());
        assert!(catch_unwind(|| panic!("outside any loop")).is_err());
        assert_eq!(
            heard(),
            ["in a timer", "escapes run", "outside any loop"],
            "inside a callback the loop reports; outside, the program's hook still does"
        );
        println!("hook child: ok");
    }
}
