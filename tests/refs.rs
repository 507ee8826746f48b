//! Chapter 6: refs and the end of the process (SPEC §1.2, §3.1, §5.1).
//!
//! `cargo learn refs` runs the `liveness::` tests against `exercises/refs.rs`.

mod common;

mod liveness {
    use eventloop::refs::{Liveness, RefFlags};

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
    use eventloop::event_loop::RunMode;

    #[test]
    fn a_loop_with_only_unrefd_handles_exits() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let idle = lp.idle_init(|_, _| {});
        lp.start_handle(idle).unwrap();
        lp.unref(idle);
        lp.set_timeout(log.cb("timeout"), 10).unref(&mut lp);
        lp.set_immediate(log.cb("immediate")).unref(&mut lp);
        assert!(!lp.is_alive());
        assert_eq!(lp.run_main(|_| {}).unwrap(), 0);
        assert!(log.entries().is_empty());
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
}
