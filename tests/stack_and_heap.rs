//! Chapter 1: the call stack and the heap.
//!
//! `cargo learn stack` runs the `stack::` tests against the learner's `exercises/stack.rs`,
//! `cargo learn heap` the `heap::` tests against `exercises/heap.rs`.

mod stack {
    use eventloop::stack::{CallStack, DEFAULT_STACK_LIMIT, StackOverflow};

    #[test]
    fn a_new_stack_is_empty() {
        let stack = CallStack::new();
        assert!(stack.is_empty());
        assert_eq!(stack.depth(), 0);
        assert_eq!(stack.top(), None);
        assert_eq!(stack.limit(), DEFAULT_STACK_LIMIT);
        assert!(stack.trace().frames().is_empty());
    }

    #[test]
    fn frames_push_and_pop_in_stack_order() {
        let mut stack = CallStack::new();
        stack.push("main").unwrap();
        stack.push("outer").unwrap();
        stack.push("inner").unwrap();
        assert_eq!(stack.depth(), 3);
        assert_eq!(stack.top(), Some("inner"));
        assert_eq!(stack.pop(), Some("inner"));
        assert_eq!(stack.pop(), Some("outer"));
        assert_eq!(stack.top(), Some("main"));
        assert_eq!(stack.pop(), Some("main"));
        assert_eq!(stack.pop(), None, "popping an empty stack gives None");
        assert!(stack.is_empty());
    }

    #[test]
    fn a_trace_lists_the_innermost_frame_first() {
        let mut stack = CallStack::new();
        for name in ["main", "a", "b", "c"] {
            stack.push(name).unwrap();
        }
        let trace = stack.trace();
        assert_eq!(trace.frames(), ["c", "b", "a", "main"]);
        assert_eq!(
            trace.to_string(),
            "    at c\n    at b\n    at a\n    at main"
        );
        // A trace is a snapshot: later pushes do not change it.
        stack.push("d").unwrap();
        assert_eq!(trace.frames().len(), 4);
    }

    #[test]
    fn the_limit_allows_exactly_limit_frames() {
        let mut stack = CallStack::with_limit(3);
        stack.push("main").unwrap();
        stack.push("f").unwrap();
        stack.push("g").unwrap();
        assert_eq!(stack.depth(), 3, "a stack holds exactly `limit` frames");

        let err = stack.push("h").unwrap_err();
        assert_eq!(
            err,
            StackOverflow {
                limit: 3,
                frame: "h",
                top: vec!["g", "f", "main"],
            }
        );
        assert_eq!(
            stack.depth(),
            3,
            "a refused push leaves the stack unchanged"
        );
        assert_eq!(stack.top(), Some("g"));
    }

    #[test]
    fn runaway_recursion_becomes_a_typed_error_naming_the_top_frames() {
        fn recurse(stack: &mut CallStack, calls: &mut usize) -> Result<(), StackOverflow> {
            *calls += 1;
            stack.call("recurse", |stack| recurse(stack, calls))?
        }
        let mut stack = CallStack::with_limit(50);
        stack.push("main").unwrap();
        let mut calls = 0;
        let err = recurse(&mut stack, &mut calls).unwrap_err();
        assert_eq!(err.limit, 50);
        assert_eq!(err.frame, "recurse");
        assert_eq!(
            err.top.len(),
            10,
            "the error names the ten innermost frames"
        );
        assert!(err.top.iter().all(|f| *f == "recurse"));
        assert_eq!(
            calls, 50,
            "main + 49 recurse frames fit; the 50th call is refused"
        );
        assert_eq!(
            stack.depth(),
            1,
            "every frame that was pushed was popped again"
        );
        let message = err.to_string();
        assert!(
            message
                .starts_with("Maximum call stack size exceeded: cannot call `recurse` at depth 50"),
            "{message}"
        );
        assert!(message.contains("\n    at recurse"), "{message}");
    }

    #[test]
    fn the_overflow_error_names_at_most_ten_frames_innermost_first() {
        let names: [&'static str; 12] = [
            "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11",
        ];
        let mut stack = CallStack::with_limit(names.len());
        for name in names {
            stack.push(name).unwrap();
        }
        let err = stack.push("one too many").unwrap_err();
        assert_eq!(
            err.top,
            ["f11", "f10", "f9", "f8", "f7", "f6", "f5", "f4", "f3", "f2"]
        );
    }

    #[test]
    fn a_limit_of_zero_refuses_every_frame() {
        let mut stack = CallStack::with_limit(0);
        let err = stack.push("main").unwrap_err();
        assert_eq!(err.top, Vec::<&str>::new());
        assert!(stack.is_empty());
        assert!(stack.call("f", |_| unreachable!("not called")).is_err());
    }

    #[test]
    fn call_runs_the_closure_inside_its_frame() {
        let mut stack = CallStack::new();
        stack.push("main").unwrap();
        let seen = stack
            .call("greet", |stack| stack.trace().frames().to_vec())
            .unwrap();
        assert_eq!(seen, ["greet", "main"]);
        assert_eq!(stack.trace().frames(), ["main"]);
    }
}

mod heap {
    use eventloop::heap::{Heap, Key};

    #[test]
    fn inserted_values_can_be_read_changed_and_removed() {
        let mut heap = Heap::new();
        assert!(heap.is_empty());
        let a = heap.insert(String::from("a"));
        let b = heap.insert(String::from("b"));
        assert_eq!(heap.len(), 2);
        assert_ne!(a, b);
        assert_eq!(heap.get(a).map(String::as_str), Some("a"));
        heap.get_mut(b).unwrap().push('!');
        assert_eq!(heap.get(b).map(String::as_str), Some("b!"));
        assert!(heap.contains(a));
        assert_eq!(heap.remove(a).as_deref(), Some("a"));
        assert_eq!(heap.len(), 1);
        assert!(!heap.contains(a));
        assert_eq!(heap.remove(a), None, "removing twice is a no-op");
        assert_eq!(heap.len(), 1, "a second remove does not change the count");
    }

    #[test]
    fn a_stale_key_after_reuse_finds_nothing() {
        let mut heap = Heap::new();
        let timer = heap.insert("timer callback");
        heap.remove(timer);
        let other = heap.insert("a newer callback");
        assert_eq!(other.index(), timer.index(), "the freed slot is reused");
        assert_ne!(other.generation(), timer.generation());
        // Clearing the old timer id must not touch the new callback.
        assert_eq!(heap.get(timer), None);
        assert_eq!(heap.get_mut(timer), None);
        assert_eq!(heap.remove(timer), None);
        assert_eq!(heap.get(other), Some(&"a newer callback"));
        assert_eq!(heap.len(), 1);
    }

    #[test]
    fn freed_slots_are_reused_before_the_slab_grows() {
        let mut heap = Heap::new();
        let keys: Vec<_> = (0..8).map(|i| heap.insert(i)).collect();
        assert_eq!(heap.slot_count(), 8);
        for key in &keys[2..6] {
            heap.remove(*key);
        }
        for i in 0..4 {
            heap.insert(100 + i);
        }
        assert_eq!(
            heap.slot_count(),
            8,
            "four frees then four inserts reuse the slots"
        );
        heap.insert(200);
        assert_eq!(heap.slot_count(), 9, "a full slab grows by one slot");
        assert_eq!(heap.len(), 9);
    }

    #[test]
    fn a_million_insert_remove_cycles_keep_memory_bounded() {
        let mut heap = Heap::new();
        let mut expected: Vec<u64> = (0..100).collect();
        let mut live: Vec<_> = expected.iter().map(|&v| heap.insert(v)).collect();
        for round in 0..1_000_000u64 {
            let slot = (round as usize * 37) % live.len();
            assert_eq!(heap.remove(live[slot]), Some(expected[slot]));
            expected[slot] = round + 1_000;
            live[slot] = heap.insert(expected[slot]);
        }
        assert_eq!(heap.len(), 100);
        assert_eq!(
            heap.slot_count(),
            100,
            "churn never grows the slab past the peak"
        );
        for (key, value) in live.iter().zip(&expected) {
            assert_eq!(heap.get(*key), Some(value));
        }
    }

    #[test]
    fn a_slot_at_its_last_generation_is_retired_not_wrapped_around() {
        // A slot that has already been reused 2^32 - 2 times (reaching it by removes would
        // take billions of them).
        let mut heap = Heap::with_free_slot_at_generation(u32::MAX - 1);
        let older = heap.insert("older");
        assert_eq!((older.index(), older.generation()), (0, u32::MAX - 1));
        assert_eq!(heap.remove(older), Some("older"));
        let last = heap.insert("the slot's last value");
        assert_eq!(
            (last.index(), last.generation()),
            (0, u32::MAX),
            "the free slot is reused at its next generation"
        );
        assert_eq!(heap.remove(last), Some("the slot's last value"));
        let fresh = heap.insert("fresh");
        assert_eq!(
            fresh.index(),
            1,
            "a slot whose generation would wrap around is retired, never reused: at generation \
             0 again, a key from 2^32 generations ago would name the new value"
        );
        let ancient = Key::from_bits(0); // slot 0, generation 0
        assert_eq!(heap.get(ancient), None, "an ancient key matches nothing");
        assert_eq!((heap.len(), heap.slot_count()), (1, 2));
    }

    #[test]
    fn keys_name_values_not_positions() {
        let mut heap = Heap::new();
        let keys: Vec<_> = (0..5).map(|i| heap.insert(i * 10)).collect();
        heap.remove(keys[1]);
        heap.remove(keys[3]);
        let live: Vec<_> = heap.iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(live, [(keys[0], 0), (keys[2], 20), (keys[4], 40)]);
        heap.clear();
        assert!(heap.is_empty());
        assert!(keys.iter().all(|k| heap.get(*k).is_none()));
        let fresh = heap.insert(7);
        assert!(
            !keys.contains(&fresh),
            "a key from before clear never matches again"
        );
    }
}
