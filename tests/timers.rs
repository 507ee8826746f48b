//! Chapter 3: timers — libuv's heap (SPEC §2.1) and Node's duration lists (SPEC §2.2).
//!
//! `cargo learn timers` runs the `timer_heap::` tests against `exercises/timers.rs`.

mod common;

mod timer_heap {
    use eventloop::timers::{NeverStarted, TimerHeap};

    /// Runs one pass at `now` and returns the payloads in firing order.
    fn pass(heap: &mut TimerHeap<&'static str>, now: u64) -> Vec<&'static str> {
        heap.collect_due(now);
        let mut fired = Vec::new();
        while let Some(t) = heap.pop_ready(now) {
            fired.push(*heap.payload(t).unwrap());
        }
        fired
    }

    #[test]
    fn collect_due_returns_how_many_timers_it_moved() {
        let mut heap = TimerHeap::new();
        for (name, timeout) in [("A", 10), ("B", 20), ("C", 20), ("D", 30)] {
            let t = heap.insert(name);
            heap.start(t, 0, timeout, 0);
        }
        assert_eq!(
            heap.collect_due(5),
            0,
            "nothing is due at 5: collect_due moves none"
        );
        assert_eq!(
            heap.collect_due(20),
            3,
            "A, B and C are due at 20: collect_due says 3"
        );
        assert_eq!(
            heap.collect_due(20),
            0,
            "a second collect at the same time finds nothing left in the heap"
        );
        assert_eq!(heap.collect_due(30), 1, "D alone is due at 30");
    }

    #[test]
    fn equal_deadlines_fire_in_start_order_probe_t4() {
        // uvcheck T4: start A(10) B(10) C(5) D(10), run at 30 → C A B D.
        let mut heap = TimerHeap::new();
        for (name, timeout) in [("A", 10), ("B", 10), ("C", 5), ("D", 10)] {
            let t = heap.insert(name);
            heap.start(t, 0, timeout, 0);
        }
        assert_eq!(pass(&mut heap, 30), ["C", "A", "B", "D"]);
        assert_eq!(heap.active(), 0);
    }

    #[test]
    fn a_restarted_timer_goes_behind_others_with_the_same_deadline() {
        let mut heap = TimerHeap::new();
        let a = heap.insert("A");
        let b = heap.insert("B");
        heap.start(a, 0, 10, 0);
        heap.start(b, 0, 10, 0);
        heap.start(a, 0, 10, 0); // same deadline, new start id
        assert_eq!(pass(&mut heap, 10), ["B", "A"]);
    }

    #[test]
    fn only_due_timers_are_collected() {
        let mut heap = TimerHeap::new();
        for (name, timeout) in [("5", 5), ("10", 10), ("15", 15)] {
            let t = heap.insert(name);
            heap.start(t, 0, timeout, 0);
        }
        assert_eq!(pass(&mut heap, 4), Vec::<&str>::new());
        assert_eq!(pass(&mut heap, 10), ["5", "10"]);
        assert_eq!(heap.next_timeout(10), Some(5));
        assert_eq!(pass(&mut heap, 15), ["15"]);
        assert_eq!(heap.next_timeout(15), None);
    }

    #[test]
    fn stopping_a_due_timer_before_it_runs_cancels_it_probe_t9() {
        let mut heap = TimerHeap::new();
        let a = heap.insert("A");
        let b = heap.insert("B");
        heap.start(a, 0, 0, 0);
        heap.start(b, 0, 0, 0);
        heap.collect_due(0);
        assert_eq!(heap.pop_ready(0), Some(a));
        heap.stop(b); // A's callback stops B
        assert_eq!(heap.pop_ready(0), None);
        assert!(!heap.is_active(b));
    }

    #[test]
    fn a_timer_restarted_with_zero_inside_the_pass_waits_for_the_next_pass_probe_t3() {
        let mut heap = TimerHeap::new();
        let t = heap.insert("T");
        heap.start(t, 0, 0, 0);
        heap.collect_due(0);
        let mut calls = 0;
        while let Some(timer) = heap.pop_ready(0) {
            calls += 1;
            heap.start(timer, 0, 0, 0); // the callback re-arms itself with 0 ms
        }
        assert_eq!(calls, 1, "libuv ≥ 1.48 runs it once per pass");
        assert!(heap.is_active(t));
        assert_eq!(pass(&mut heap, 0), ["T"], "it runs in the next pass");
    }

    #[test]
    fn a_repeating_timer_is_rearmed_from_the_pass_time_before_its_callback() {
        let mut heap = TimerHeap::new();
        let t = heap.insert("R");
        heap.start(t, 0, 10, 10);
        heap.collect_due(25); // the loop was late
        assert_eq!(heap.pop_ready(25), Some(t));
        assert_eq!(
            heap.due(t),
            Some(35),
            "pass now + repeat, not deadline + repeat"
        );
        assert!(heap.is_active(t), "re-armed before the callback runs");
        assert_eq!(heap.pop_ready(25), None, "at most once per pass");
    }

    #[test]
    fn again_restarts_repeating_timers_and_rejects_unstarted_ones() {
        let mut heap = TimerHeap::new();
        let t = heap.insert("T");
        assert_eq!(heap.again(t, 0), Err(NeverStarted));
        heap.start(t, 0, 100, 0);
        heap.again(t, 50).unwrap();
        assert_eq!(heap.due(t), Some(100), "no repeat: again does nothing");
        heap.set_repeat(t, 30);
        heap.again(t, 50).unwrap();
        assert_eq!(heap.due(t), Some(80));
        assert_eq!(heap.repeat(t), Some(30));
    }

    #[test]
    fn absurd_timeouts_saturate_instead_of_overflowing() {
        let mut heap = TimerHeap::new();
        let t = heap.insert("never");
        heap.start(t, 1_000, u64::MAX, 0);
        assert_eq!(heap.due(t), Some(u64::MAX));
        assert_eq!(
            heap.next_timeout(1_000),
            Some(i32::MAX as u64),
            "capped like libuv"
        );
        assert_eq!(heap.due_in(t, 1_000), u64::MAX - 1_000);
        assert_eq!(pass(&mut heap, 1_000_000), Vec::<&str>::new());
    }

    #[test]
    fn next_timeout_is_zero_for_an_overdue_timer() {
        let mut heap = TimerHeap::new();
        let t = heap.insert("late");
        heap.start(t, 0, 10, 0);
        assert_eq!(heap.next_timeout(0), Some(10));
        assert_eq!(heap.next_timeout(7), Some(3));
        assert_eq!(heap.next_timeout(50), Some(0));
    }

    #[test]
    fn removed_and_stale_timers_are_harmless() {
        let mut heap = TimerHeap::new();
        let t = heap.insert("gone");
        heap.start(t, 0, 5, 0);
        assert_eq!(heap.remove(t), Some("gone"));
        assert!(heap.is_empty());
        heap.stop(t);
        assert!(!heap.start(t, 0, 1, 0), "a stale key cannot be started");
        assert_eq!(heap.again(t, 0), Err(NeverStarted));
        assert_eq!(pass(&mut heap, 100), Vec::<&str>::new());
    }

    #[test]
    fn the_heap_matches_a_sorted_model_under_random_operations() {
        // A small deterministic generator (xorshift) drives starts, stops and passes.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut heap = TimerHeap::new();
        let timers: Vec<_> = (0..64).map(|i| heap.insert(i)).collect();
        // The model: for every active timer, (due, start order).
        let mut model: Vec<Option<(u64, u64)>> = vec![None; timers.len()];
        let mut starts = 0;
        let mut now = 0;
        for _ in 0..20_000 {
            let i = (next() % timers.len() as u64) as usize;
            match next() % 4 {
                0 | 1 => {
                    let timeout = next() % 50;
                    heap.start(timers[i], now, timeout, 0);
                    model[i] = Some((now + timeout, starts));
                    starts += 1;
                }
                2 => {
                    heap.stop(timers[i]);
                    model[i] = None;
                }
                _ => {
                    now += next() % 20;
                    heap.collect_due(now);
                    let mut fired = Vec::new();
                    while let Some(t) = heap.pop_ready(now) {
                        fired.push(*heap.payload(t).unwrap());
                    }
                    let mut expected: Vec<(u64, u64, usize)> = model
                        .iter()
                        .enumerate()
                        .filter_map(|(i, m)| {
                            m.filter(|(due, _)| *due <= now).map(|(d, s)| (d, s, i))
                        })
                        .collect();
                    expected.sort();
                    let expected: Vec<usize> = expected.into_iter().map(|(_, _, i)| i).collect();
                    assert_eq!(fired, expected, "at now = {now}");
                    for i in fired {
                        model[i] = None;
                    }
                }
            }
            let active = model.iter().filter(|m| m.is_some()).count();
            assert_eq!(heap.active(), active);
            let earliest = model
                .iter()
                .flatten()
                .map(|(due, _)| due.saturating_sub(now))
                .min();
            assert_eq!(heap.next_timeout(now), earliest);
        }
    }
}

mod node_timers {
    use super::common::{Log, manual_loop, run_counted, slot};
    use eventloop::Ref;
    use eventloop::event_loop::{Delay, EventLoop, RunMode};
    use eventloop::timers::{TIMEOUT_MAX, TimerLists, normalize_delay};
    use std::time::Duration;

    #[test]
    fn delays_are_normalised_as_node_does() {
        assert_eq!(normalize_delay(0.0), (1.0, false));
        assert_eq!(normalize_delay(-5.0), (1.0, false));
        assert_eq!(normalize_delay(f64::NAN), (1.0, false));
        assert_eq!(normalize_delay(0.5), (1.0, false));
        assert_eq!(normalize_delay(1.0), (1.0, false));
        assert_eq!(normalize_delay(2.9), (2.9, false), "fractions are kept");
        assert_eq!(normalize_delay(TIMEOUT_MAX), (TIMEOUT_MAX, false));
        assert_eq!(normalize_delay(TIMEOUT_MAX + 1.0), (1.0, true));
        assert_eq!(normalize_delay(f64::INFINITY), (1.0, true));
        assert_eq!(normalize_delay(Delay::from(u64::MAX).0), (1.0, true));
        assert_eq!(normalize_delay(Delay::from(Duration::MAX).0), (1.0, true));
        assert_eq!(normalize_delay(Delay::from(i64::MIN).0), (1.0, false));
    }

    #[test]
    fn a_timeout_fires_once_at_its_deadline() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        lp.set_timeout(log.at("t"), 250);
        assert!(
            !run_counted(&mut lp, RunMode::Default),
            "the loop ends when the timeout is done"
        );
        assert_eq!(log.entries(), ["t@250"]);
    }

    #[test]
    fn absurd_delays_fire_after_one_millisecond_and_overflow_warns_later() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.on_warning(move |_, w| l.push(format!("warning {}: {}", w.name, w.message)));
        let l = log.clone();
        lp.run_main(move |lp| {
            lp.set_timeout(l.at("u64::MAX"), u64::MAX);
            lp.set_timeout(l.at("Duration::MAX"), Duration::MAX);
            lp.set_timeout(l.at("negative"), -1_000);
            lp.set_timeout(l.at("NaN"), f64::NAN);
            l.push("end of script");
        })
        .unwrap();
        assert_eq!(
            log.entries(),
            [
                "end of script",
                "warning TimeoutOverflowWarning: 18446744073709552000 does not fit into a 32-bit \
                 signed integer.\nTimeout duration was set to 1.",
                "warning TimeoutOverflowWarning: 1.8446744073709552e+22 does not fit into a \
                 32-bit signed integer.\nTimeout duration was set to 1.",
                "u64::MAX@1",
                "Duration::MAX@1",
                "negative@1",
                "NaN@1",
            ]
        );
    }

    #[test]
    fn timeouts_run_by_deadline_then_list_creation_then_insertion() {
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        lp.set_timeout(log.cb("10 first"), 10);
        lp.set_timeout(log.cb("5"), 5);
        lp.set_timeout(log.cb("1 #1"), 1);
        lp.set_timeout(log.cb("0 (is 1) #2"), 0);
        lp.set_timeout(log.cb("1.8 (list 1) #3"), 1.8);
        clock.advance(50);
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(
            log.entries(),
            ["1 #1", "0 (is 1) #2", "1.8 (list 1) #3", "5", "10 first"]
        );
    }

    #[test]
    fn set_timeout_reads_the_clock_like_get_libuv_now() {
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        clock.advance(40); // a slow start: the cached loop time is stale
        assert_eq!(lp.now(), 0);
        lp.set_timeout(log.at("t"), 10);
        assert_eq!(lp.now(), 40, "setTimeout refreshed the loop time");
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(log.entries(), ["t@50"]);
    }

    #[test]
    fn a_timer_created_in_a_timer_waits_for_a_later_pass_even_when_overdue() {
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        let (l, c) = (log.clone(), clock.clone());
        lp.set_timeout(
            move |lp| {
                l.push("A");
                lp.set_timeout(l.cb("nested"), 1);
                lp.set_immediate(l.cb("immediate"));
                c.advance(20); // the nested timer is overdue before this pass ends
            },
            1,
        );
        lp.set_timeout(log.cb("B"), 1);
        clock.advance(5);
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(log.entries(), ["A", "B", "immediate", "nested"]);
    }

    #[test]
    fn clearing_is_a_no_op_for_fired_cleared_and_stale_timeouts() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let fired = lp.set_timeout(log.cb("fired"), 1);
        run_counted(&mut lp, RunMode::Default);
        lp.clear_timeout(fired);
        let cleared = lp.set_timeout(log.cb("never"), 1);
        lp.clear_timeout(cleared);
        lp.clear_timeout(cleared);
        lp.clear_interval(cleared);
        let after = lp.set_timeout(log.cb("after"), 1);
        lp.clear_timeout(fired); // stale id: must not cancel `after`, which may reuse the slot
        assert!(after.is_scheduled(&lp));
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(log.entries(), ["fired", "after"]);
    }

    #[test]
    fn an_interval_repeats_with_its_period_measured_from_each_start() {
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        let iv = slot();
        let (l, c, i) = (log.clone(), clock.clone(), iv.clone());
        let mut n = 0;
        iv.set(Some(lp.set_interval(
            move |lp| {
                n += 1;
                l.push(format!("tick {n}@{}", lp.now()));
                c.advance(4); // each call takes 4 ms
                if n == 3 {
                    lp.clear_interval(i.get().unwrap());
                }
            },
            10,
        )));
        assert!(!run_counted(&mut lp, RunMode::Default));
        assert_eq!(log.entries(), ["tick 1@10", "tick 2@20", "tick 3@30"]);
    }

    #[test]
    fn refresh_moves_a_timeout_behind_the_others_of_its_duration() {
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        let a = lp.set_timeout(log.at("A"), 10);
        lp.set_timeout(log.at("B"), 10);
        clock.advance(5);
        a.refresh(&mut lp);
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(log.entries(), ["B@10", "A@15"]);
        a.refresh(&mut lp); // fired: the id is stale, nothing happens
        assert!(!a.is_scheduled(&lp));
    }

    /// A list whose head was refreshed goes back into the queue with a new id
    /// (`listOnTimeout`: `list.id = timerListId++`), so among lists with the same expiry it
    /// comes after the ones created before that moment.
    #[test]
    fn a_list_put_back_in_the_queue_goes_behind_older_lists_of_the_same_expiry() {
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        let x = lp.set_timeout(log.at("X"), 10); // the 10 ms list, expiry 10
        lp.set_timeout(log.at("Y"), 15); // the 15 ms list, created after it, expiry 15
        clock.advance(5);
        x.refresh(&mut lp); // X is due at 15 now; its list still says 10
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(
            log.entries(),
            ["Y@15", "X@15"],
            "at 10 the 10 ms list's head is not due: the list goes back into the queue with \
             expiry 15 and a new id, behind the 15 ms list created before"
        );
    }

    /// After a pass, the loop remembers the expiry the libuv timer is armed for: a list made
    /// later that expires after it must not re-arm the timer for its own, later expiry.
    #[test]
    fn a_later_list_does_not_delay_the_timer_armed_for_an_earlier_one() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let l = log.clone();
        lp.set_timeout(
            move |lp| {
                l.push(format!("A@{}", lp.now()));
                // After the pass: in the check phase of the same iteration.
                let l = l.clone();
                lp.set_immediate(move |lp| {
                    lp.set_timeout(move |lp| l.push(format!("C@{}", lp.now())), 50);
                });
            },
            10,
        );
        lp.set_timeout(log.at("B"), 30);
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(
            log.entries(),
            ["A@10", "B@30", "C@60"],
            "the pass that ran A re-armed the libuv timer for B's list (30) and must remember \
             it (next_expiry): C's new list expires at 60, later, and must not re-arm it"
        );
    }

    /// Inside its own callback, a timeout's `FnOnce` is being consumed: `refresh` there does
    /// nothing (Node would run the callback again) instead of arming a timer that would fire
    /// nothing while keeping the loop alive. Inside an interval's callback it changes nothing
    /// either, as in Node (checked there: 101 ms, then 202 ms with a 30 ms callback that
    /// refreshes): the interval is re-armed from the start of its call.
    #[test]
    fn refresh_inside_its_own_callback_changes_nothing() {
        let (mut lp, clock) = manual_loop();
        let log = Log::default();
        let me = slot::<eventloop::event_loop::Timeout>();
        let (l, m) = (log.clone(), me.clone());
        me.set(Some(lp.set_timeout(
            move |lp| {
                l.push(format!("once@{}", lp.now()));
                let t = m.get().unwrap().refresh(lp);
                assert!(!t.is_scheduled(lp), "nothing armed to fire nothing");
            },
            10,
        )));
        assert!(!run_counted(&mut lp, RunMode::Default));
        assert_eq!(log.take(), ["once@10"]);
        assert_eq!(
            lp.now(),
            10,
            "the loop ended at once, with no phantom firing"
        );

        let calls = std::rc::Rc::new(std::cell::Cell::new(0));
        let (l, c, m, ck) = (log.clone(), calls.clone(), me.clone(), clock.clone());
        me.set(Some(lp.set_interval(
            move |lp| {
                c.set(c.get() + 1);
                l.push(format!("interval@{}", lp.now()));
                let i = m.get().unwrap();
                if c.get() == 1 {
                    ck.advance(3); // the callback takes 3 ms
                    i.refresh(lp); // still next at 30: re-armed from 20, the call's start
                } else {
                    lp.clear_interval(i);
                }
            },
            10,
        )));
        assert!(!run_counted(&mut lp, RunMode::Default));
        assert_eq!(log.entries(), ["interval@20", "interval@30"]);
    }

    #[test]
    fn an_unrefd_timeout_alone_does_not_keep_the_loop_alive() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        let t = lp.set_timeout(log.cb("never"), 1_000).unref(&mut lp);
        assert!(!t.has_ref(&lp));
        assert!(!lp.is_alive());
        assert!(!run_counted(&mut lp, RunMode::Default));
        assert!(log.entries().is_empty());
        t.ref_(&mut lp);
        assert!(t.has_ref(&lp) && lp.is_alive());
        run_counted(&mut lp, RunMode::Default);
        assert_eq!(log.entries(), ["never"]);
    }

    #[test]
    fn an_unrefd_interval_still_fires_while_something_else_keeps_the_loop_alive() {
        let (mut lp, _clock) = manual_loop();
        let log = Log::default();
        lp.set_interval(log.at("unref'd"), 10).unref(&mut lp);
        lp.set_timeout(log.at("ref'd"), 35);
        assert!(!run_counted(&mut lp, RunMode::Default));
        assert_eq!(
            log.entries(),
            ["unref'd@10", "unref'd@20", "unref'd@30", "ref'd@35"]
        );
    }

    #[test]
    fn same_duration_timeouts_share_one_list() {
        let mut lists = TimerLists::new();
        let (_, first) = lists.create("a", 100.0, false, 0);
        assert_eq!(first, Some(100), "the first list arms the libuv timer");
        let (_, second) = lists.create("b", 100.0, false, 3);
        assert_eq!(second, None, "appending to a list needs no re-arm");
        lists.create("c", 100.9, false, 4);
        assert_eq!(lists.list_count(), 1);
        let (_, earlier) = lists.create("d", 50.0, false, 5);
        assert_eq!(
            earlier,
            Some(50),
            "a list that expires sooner re-arms the timer"
        );
        assert_eq!(lists.list_count(), 2);
        assert_eq!(lists.ref_count(), 4);
    }

    #[test]
    fn a_hundred_thousand_timeouts_all_fire_in_deadline_order() {
        let (mut lp, _clock) = manual_loop();
        let fired = std::rc::Rc::new(std::cell::RefCell::new(Vec::with_capacity(100_000)));
        for i in 0..100_000u64 {
            let f = fired.clone();
            lp.set_timeout(
                move |lp: &mut EventLoop| f.borrow_mut().push((lp.now(), i)),
                i % 100,
            );
        }
        assert!(!run_counted(&mut lp, RunMode::Default));
        let fired = fired.borrow();
        assert_eq!(fired.len(), 100_000);
        assert!(
            fired.windows(2).all(|w| w[0].0 <= w[1].0),
            "never earlier than an earlier fire"
        );
        assert!(
            fired.iter().all(|(at, i)| *at == (i % 100).max(1)),
            "each at its deadline"
        );
    }

    /// Two fresh loops put their first timeout in the same slot, with the same generation:
    /// only the loop tag tells the ids apart. Loop A's id used on loop B must reach nothing
    /// there — not clear, refresh or unref B's timeout — as a stale id reaches nothing.
    #[test]
    fn a_timeout_id_of_another_loop_reaches_nothing() {
        let (mut a, _ca) = manual_loop();
        let (mut b, _cb) = manual_loop();
        let log = Log::default();
        let from_a = a.set_timeout(log.at("a"), 10);
        let of_b = b.set_timeout(log.at("b"), 10);
        assert_ne!(a.id(), b.id(), "every loop has an identity of its own");
        assert_ne!(from_a, of_b, "equal keys, different loops: different ids");

        assert!(!from_a.has_ref(&b) && !from_a.is_scheduled(&b));
        assert_eq!(from_a.delay(&b), None);
        from_a.unref(&mut b);
        assert!(
            of_b.has_ref(&b),
            "unref through A's id left B's timeout ref'd"
        );
        from_a.refresh(&mut b);
        b.clear_timeout(from_a);
        b.clear_interval(from_a);
        assert!(
            of_b.is_scheduled(&b),
            "clearing A's id on B cleared B's timeout"
        );
        assert!(!b.run(RunMode::Default));
        assert_eq!(log.entries(), ["b@10"], "B's timeout fired, once, on time");
        assert!(from_a.is_scheduled(&a), "and A's is untouched");
    }
}
