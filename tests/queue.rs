//! Chapter 2: the task queue and the one-queue loop of the popular diagrams.

use std::cell::RefCell;
use std::rc::Rc;

use eventloop::queue::{NaiveLoop, TaskQueue};
use eventloop::stack::CallStack;

/// A shared list of what happened, in order.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }
    fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

#[test]
fn a_task_queue_is_first_in_first_out() {
    let mut queue = TaskQueue::new();
    assert!(queue.is_empty());
    for i in 1..=3 {
        queue.push(i);
    }
    assert_eq!(queue.len(), 3);
    assert_eq!(queue.pop(), Some(1));
    queue.push(4);
    assert_eq!(queue.pop(), Some(2));
    assert_eq!(queue.pop(), Some(3));
    assert_eq!(queue.pop(), Some(4));
    assert_eq!(queue.pop(), None);
}

#[test]
fn take_all_snapshots_the_queue() {
    let mut queue = TaskQueue::new();
    queue.push("a");
    queue.push("b");
    let snapshot = queue.take_all();
    queue.push("c");
    assert_eq!(snapshot.collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(queue.pop(), Some("c"));
}

#[test]
fn tasks_run_in_the_order_they_were_posted() {
    let log = Log::default();
    let mut lp = NaiveLoop::new();
    for name in ["one", "two", "three"] {
        let log = log.clone();
        lp.post(name, move |_| log.push(name));
    }
    assert_eq!(lp.queued(), 3);
    assert!(log.entries().is_empty(), "posting runs nothing");
    assert_eq!(lp.run().unwrap(), 3);
    assert_eq!(log.entries(), ["one", "two", "three"]);
    assert_eq!(lp.queued(), 0);
    assert_eq!(lp.tasks_run(), 3);
}

#[test]
fn tasks_posted_during_a_task_run_after_those_already_queued() {
    let log = Log::default();
    let mut lp = NaiveLoop::new();
    let l = log.clone();
    lp.post("a", move |lp| {
        l.push("a");
        let l2 = l.clone();
        lp.post("a.child", move |_| l2.push("a.child"));
        l.push("a ends");
    });
    let l = log.clone();
    lp.post("b", move |_| l.push("b"));
    lp.run().unwrap();
    assert_eq!(log.entries(), ["a", "a ends", "b", "a.child"]);
}

#[test]
fn nested_posting_runs_breadth_first() {
    // Each task posts two children; the queue visits the tree level by level.
    fn spawn(lp: &mut NaiveLoop, log: &Log, name: String, depth: u32) {
        let log = log.clone();
        lp.post("node", move |lp| {
            log.push(name.clone());
            if depth < 2 {
                spawn(lp, &log, format!("{name}.0"), depth + 1);
                spawn(lp, &log, format!("{name}.1"), depth + 1);
            }
        });
    }
    let log = Log::default();
    let mut lp = NaiveLoop::new();
    spawn(&mut lp, &log, "r".into(), 0);
    assert_eq!(lp.run().unwrap(), 7);
    assert_eq!(
        log.entries(),
        ["r", "r.0", "r.1", "r.0.0", "r.0.1", "r.1.0", "r.1.1"]
    );
}

#[test]
fn every_task_runs_in_its_own_frame_on_an_empty_stack() {
    let log = Log::default();
    let mut lp = NaiveLoop::new();
    for name in ["first", "second"] {
        let log = log.clone();
        lp.post(name, move |lp| {
            log.push(format!("{:?}", lp.stack().trace().frames()));
            let inner = lp
                .call("helper", |lp| format!("{:?}", lp.stack().trace().frames()))
                .unwrap();
            log.push(inner);
        });
    }
    lp.run().unwrap();
    assert_eq!(
        log.entries(),
        [
            r#"["first"]"#,
            r#"["helper", "first"]"#,
            r#"["second"]"#,
            r#"["helper", "second"]"#,
        ]
    );
    assert!(lp.stack().is_empty(), "the stack is empty after the loop");
}

#[test]
fn runaway_recursion_inside_a_task_is_a_stack_overflow_and_the_loop_goes_on() {
    fn recurse(lp: &mut NaiveLoop) -> Result<(), eventloop::stack::StackOverflow> {
        lp.call("recurse", recurse)?
    }
    let log = Log::default();
    let mut lp = NaiveLoop::with_stack(CallStack::with_limit(20));
    let l = log.clone();
    lp.post("main", move |lp| {
        let err = recurse(lp).unwrap_err();
        l.push(format!("{} at depth {}", err.frame, err.limit));
        l.push(format!("depth after unwinding: {}", lp.stack().depth()));
    });
    let l = log.clone();
    lp.post("next", move |_| l.push("next task"));
    assert_eq!(lp.run().unwrap(), 2);
    assert_eq!(
        log.entries(),
        [
            "recurse at depth 20",
            "depth after unwinding: 1",
            "next task"
        ]
    );
}

#[test]
#[should_panic(expected = "run-to-completion violated")]
fn a_task_that_leaves_a_frame_behind_breaks_run_to_completion() {
    let mut lp = NaiveLoop::new();
    lp.post("leaky", |lp| lp.stack_mut().push("forgotten").unwrap());
    lp.post("next", |_| {});
    let _ = lp.run();
}

#[test]
fn a_loop_whose_stack_cannot_hold_a_frame_reports_an_error() {
    let log = Log::default();
    let mut lp = NaiveLoop::with_stack(CallStack::with_limit(0));
    let l = log.clone();
    lp.post("never", move |_| l.push("ran"));
    lp.post("queued", |_| {});
    let err = lp.run().unwrap_err();
    assert_eq!(err.frame, "never");
    assert!(log.entries().is_empty());
    assert_eq!(lp.queued(), 1, "the other tasks stay queued");
}

#[test]
fn run_returns_how_many_tasks_ran_in_that_call() {
    let mut lp = NaiveLoop::new();
    assert_eq!(lp.run().unwrap(), 0, "an empty queue runs nothing");
    lp.post("a", |_| {});
    assert_eq!(lp.run().unwrap(), 1);
    lp.post("b", |lp| lp.post("c", |_| {}));
    assert_eq!(lp.run().unwrap(), 2);
    assert_eq!(lp.tasks_run(), 3);
}
