//! Chapter 7: the thread pool (SPEC §4, and §1.2 for liveness).
//!
//! `cargo learn threadpool` runs these tests against `exercises/threadpool.rs`. Concurrency is
//! checked through counters and gates the test opens itself, never through timing.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use eventloop::Ref;
use eventloop::event_loop::EventLoop;
use eventloop::threadpool::{CancelError, Completions, ThreadPool, WorkError, WorkKind};

use common::Log;

/// A door jobs wait at until the test opens it. Jobs wait at a [`Door`] of it; the gate
/// itself stays with the test, and dropping it opens it: a test that fails (panics) before
/// it opened the gate lets the jobs go while it unwinds, so the pool it drops next can join
/// its workers instead of waiting for them forever. Declare it after the pool.
#[derive(Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

/// Where a job waits for a [`Gate`].
#[derive(Clone)]
struct Door(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn door(&self) -> Door {
        Door(self.0.clone())
    }

    fn open(&self) {
        let (open, signal) = &*self.0;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        signal.notify_all();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
    }
}

impl Door {
    fn wait(&self) {
        let (open, signal) = &*self.0;
        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = signal.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A meeting of `n` jobs, like [`Barrier`]: each waits until `n` have arrived, wave after
/// wave. Dropping it lets every waiting job go, so a test that fails while jobs wait for a
/// wave that never fills does not leave the pool unable to join its workers.
struct Meeting {
    state: Arc<(Mutex<Arrivals>, Condvar)>,
    n: usize,
}

#[derive(Default)]
struct Arrivals {
    waiting: usize,
    wave: usize,
    released: bool,
}

/// Where a job waits for its [`Meeting`].
#[derive(Clone)]
struct Seat {
    state: Arc<(Mutex<Arrivals>, Condvar)>,
    n: usize,
}

impl Meeting {
    fn new(n: usize) -> Meeting {
        Meeting {
            state: Arc::default(),
            n,
        }
    }

    fn seat(&self) -> Seat {
        Seat {
            state: self.state.clone(),
            n: self.n,
        }
    }
}

impl Drop for Meeting {
    fn drop(&mut self) {
        let (arrivals, signal) = &*self.state;
        arrivals.lock().unwrap_or_else(|e| e.into_inner()).released = true;
        signal.notify_all();
    }
}

impl Seat {
    fn wait(&self) {
        let (arrivals, signal) = &*self.state;
        let mut a = arrivals.lock().unwrap_or_else(|e| e.into_inner());
        let wave = a.wave;
        a.waiting += 1;
        if a.waiting == self.n {
            a.waiting = 0;
            a.wave += 1;
            signal.notify_all();
            return;
        }
        while a.wave == wave && !a.released {
            a = signal.wait(a).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// How long a test waits for something the pool must do before it fails. Nothing here takes
/// more than milliseconds; the bound only turns a job that is never taken into a failure.
const PATIENCE: Duration = Duration::from_secs(5);

/// What the pool is doing, for failure messages.
fn state(pool: &ThreadPool) -> String {
    format!(
        "{} running, {} queued, {} finished, {} workers alive",
        pool.running(),
        pool.queued(),
        pool.finished(),
        pool.workers_alive()
    )
}

/// Waits (without assuming anything about speed) until `condition` holds; fails if the
/// pool lost its workers, with what killed the last one, or if it does not hold within
/// [`PATIENCE`].
fn wait_until(pool: &ThreadPool, what: &str, condition: impl Fn() -> bool) {
    let give_up = Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            !pool.is_started() || pool.workers_alive() > 0,
            "the pool's workers died while waiting until {what}: {}",
            pool.broken().unwrap_or_default()
        );
        assert!(
            Instant::now() < give_up,
            "waited {PATIENCE:?} until {what}, in vain (pool: {})",
            state(pool)
        );
        std::thread::yield_now();
    }
}

/// Runs the loop until it has nothing left to do, as `run(RunMode::Default)`; fails if the
/// loop still waits for jobs after [`PATIENCE`] (a job that may run is never taken). An
/// unref'd timer stops it: it keeps nothing alive and is cleared afterwards.
fn run_to_end(lp: &mut EventLoop, pool: &ThreadPool) -> bool {
    let stuck = std::rc::Rc::new(std::cell::Cell::new(false));
    let s = stuck.clone();
    let watchdog = lp
        .set_timeout(
            move |lp| {
                s.set(true);
                lp.stop();
            },
            PATIENCE.as_millis() as u64,
        )
        .unref(lp);
    let alive = lp.run(eventloop::event_loop::RunMode::Default);
    lp.clear_timeout(watchdog);
    assert!(
        !stuck.get(),
        "the loop still waited for {} jobs after {PATIENCE:?}: a job that may run was never \
         taken (pool: {})",
        lp.work_in_flight(),
        state(pool)
    );
    alive
}

/// A loop with a pool of its own.
fn loop_with_pool(size: usize) -> (EventLoop, ThreadPool) {
    let pool = ThreadPool::with_size(size);
    let lp = EventLoop::builder()
        .thread_pool(pool.clone())
        .build()
        .expect("default stack limit");
    (lp, pool)
}

mod size {
    use eventloop::event_loop::EventLoop;
    use eventloop::threadpool::{DEFAULT_SIZE, MAX_SIZE, size_from_env};

    /// A loop built with defaults gets the process-wide pool, sized from
    /// `UV_THREADPOOL_SIZE`. The variable is read once per process, so each case runs this
    /// test again in a child process with the variable set.
    #[test]
    fn a_default_loop_gets_a_pool_sized_by_uv_threadpool_size() {
        if let Ok(expected) = std::env::var("EVENTLOOP_TEST_POOL_SIZE") {
            let lp = EventLoop::new();
            assert_eq!(lp.thread_pool().size().to_string(), expected);
            assert!(
                !lp.thread_pool().is_started(),
                "no thread before the first job"
            );
            let other = EventLoop::new();
            assert_eq!(other.thread_pool().size().to_string(), expected);
            return;
        }
        let cases = [
            (Some("3"), "3"),
            (Some("0"), "1"),
            (Some("x"), "1"),
            (None, "4"),
        ];
        for (value, expected) in cases {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap());
            child
                .args([
                    "--exact",
                    "size::a_default_loop_gets_a_pool_sized_by_uv_threadpool_size",
                ])
                .env("EVENTLOOP_TEST_POOL_SIZE", expected)
                .env_remove("UV_THREADPOOL_SIZE");
            if let Some(value) = value {
                child.env("UV_THREADPOOL_SIZE", value);
            }
            let out = child.output().expect("the test binary runs again");
            assert!(
                out.status.success(),
                "UV_THREADPOOL_SIZE={value:?}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("1 passed"),
                "the child ran the test"
            );
        }
    }

    #[test]
    fn uv_threadpool_size_is_parsed_like_libuv_atoi_into_unsigned() {
        let cases = [
            (None, DEFAULT_SIZE),
            (Some("8"), 8),
            (Some("1"), 1),
            (Some("0"), 1),
            (Some(""), 1),
            (Some("abc"), 1),
            (Some(" 3x"), 3),
            (Some("+6"), 6),
            (Some("1024"), 1024),
            (Some("2000"), MAX_SIZE),
            (Some("99999999999999999999999"), MAX_SIZE),
            (Some("-1"), MAX_SIZE), // atoi gives -1; as an unsigned int it is huge
        ];
        for (value, size) in cases {
            assert_eq!(size_from_env(value), size, "UV_THREADPOOL_SIZE={value:?}");
        }
    }
}

mod pool {
    use super::*;

    #[test]
    fn threads_start_lazily_and_all_at_once() {
        let pool = ThreadPool::with_size(3);
        assert!(!pool.is_started());
        assert_eq!(pool.workers_alive(), 0);
        let done = Arc::new(Completions::new());
        pool.submit(WorkKind::Cpu, &done, Box::new(|| Box::new(())));
        assert!(pool.is_started());
        assert_eq!(
            pool.workers_alive(),
            3,
            "every thread starts with the first job"
        );
        wait_until(&pool, "the job finished", || pool.finished() == 1);
        assert_eq!(done.take().len(), 1);
    }

    #[test]
    fn the_slow_io_limit_is_half_the_pool_rounded_up() {
        for (size, limit) in [(1, 1), (2, 1), (4, 2), (5, 3), (8, 4)] {
            assert_eq!(ThreadPool::with_size(size).slow_io_limit(), limit);
        }
    }

    #[test]
    fn sends_coalesce_until_the_loop_looks() {
        let done = Completions::new();
        let wakeup = done.wakeup();
        assert!(wakeup.send(), "the first send notifies");
        assert!(!wakeup.send(), "a send while one is pending costs nothing");
        assert!(wakeup.is_pending());
        assert!(wakeup.take(), "the loop sees one wake-up");
        assert!(!wakeup.take());
        assert!(
            wakeup.send(),
            "after the loop looked, a send notifies again"
        );
    }

    /// A worker can still die after its job ran, while it hands the outcome over: here the
    /// completion queue's notifier (chapter 8's eventfd write) panics once. The outcome was
    /// queued already and arrives once; a new thread takes the dead worker's place.
    #[test]
    fn a_worker_that_dies_is_replaced_and_loses_no_job() {
        let pool = ThreadPool::with_size(1);
        let done = Arc::new(Completions::new());
        let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
        done.wakeup().set_notifier(Box::new(move || {
            if first.swap(false, Ordering::SeqCst) {
                panic!("the notifier panicked");
            }
        }));
        let thread = || -> eventloop::threadpool::Work {
            Box::new(|| Box::new(std::thread::current().id()))
        };
        let a = pool.submit(WorkKind::Cpu, &done, thread());
        let b = pool.submit(WorkKind::Cpu, &done, thread());
        let mut finished = Vec::new();
        let give_up = Instant::now() + Duration::from_secs(20);
        while finished.len() < 2 {
            assert!(
                Instant::now() < give_up,
                "a job was lost with its worker: finished only {finished:?}"
            );
            done.wakeup().wait(Some(Duration::from_millis(100)));
            finished.extend(done.take());
        }
        let ids: Vec<_> = finished.iter().map(|c| c.job).collect();
        assert_eq!(ids, [a, b], "each job once, in order");
        let ran_on: Vec<_> = finished
            .into_iter()
            .map(|c| {
                *c.outcome
                    .unwrap()
                    .downcast::<std::thread::ThreadId>()
                    .unwrap()
            })
            .collect();
        assert_ne!(ran_on[0], ran_on[1], "the second job ran on a new thread");
        // A worker reports before it records the job as finished, and the dead one's thread
        // ends after its replacement started.
        wait_until(
            &pool,
            "the jobs are recorded and the dead thread ended",
            || pool.finished() == 2 && pool.workers_alive() == 1,
        );
        assert_eq!(pool.running(), 0);
        assert_eq!(pool.broken(), None);
    }

    #[test]
    fn dropping_the_last_handle_stops_the_workers_after_their_jobs() {
        let pool = ThreadPool::with_size(2);
        let done = Arc::new(Completions::new());
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        pool.submit(
            WorkKind::Cpu,
            &done,
            Box::new(move || {
                r.fetch_add(1, Ordering::SeqCst);
                Box::new(())
            }),
        );
        wait_until(&pool, "the job finished", || pool.finished() == 1);
        drop(pool); // joins both workers
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert_eq!(
            done.take().len(),
            1,
            "the finished job's completion is kept"
        );
    }
}

mod on_the_loop {
    use super::*;

    #[test]
    fn work_runs_on_a_worker_and_its_callback_on_the_loop_in_the_poll_phase() {
        let (mut lp, pool) = loop_with_pool(2);
        lp.enable_trace();
        let log = Log::default();
        let l = log.clone();
        let loop_thread = std::thread::current().id();
        lp.queue_work(
            move || (std::thread::current().id(), 6 * 7),
            move |lp, result| {
                let (worker, value) = result.expect("the job succeeded");
                assert_ne!(worker, loop_thread, "the work ran on another thread");
                assert_eq!(std::thread::current().id(), loop_thread);
                l.push(format!(
                    "after_work {value} in {:?}",
                    lp.stack().trace().frames()
                ));
            },
        );
        assert!(lp.is_alive(), "a queued job keeps the loop alive");
        assert_eq!(lp.active_requests(), 1);
        assert!(!run_to_end(&mut lp, &pool));
        assert_eq!(log.entries(), ["after_work 42 in [\"queueWork\"]"]);
        assert_eq!(lp.active_requests(), 0);
        assert_eq!(lp.work_in_flight(), 0);
        let trace = lp.take_trace();
        let done = trace
            .iter()
            .position(|e| *e == eventloop::trace::TraceEvent::WorkDone(1))
            .expect("the poll phase took the completion");
        let phase_before = trace[..done]
            .iter()
            .rev()
            .find_map(|e| match e {
                eventloop::trace::TraceEvent::Phase(p) => Some(*p),
                _ => None,
            })
            .expect("inside a phase");
        assert_eq!(phase_before, eventloop::trace::Phase::Poll);
    }

    #[test]
    fn with_one_thread_jobs_complete_in_submission_order() {
        let (mut lp, pool) = loop_with_pool(1);
        let gate = Gate::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        let log = Log::default();
        for name in ["heavy", "medium", "light"] {
            let (gate, order, l) = (gate.door(), order.clone(), log.clone());
            lp.queue_work(
                move || {
                    gate.wait(); // every job could run at once if there were threads for it
                    order.lock().unwrap().push(name);
                    name
                },
                move |_, result| l.push(format!("{} done", result.unwrap())),
            );
        }
        gate.open();
        run_to_end(&mut lp, &pool);
        assert_eq!(*order.lock().unwrap(), ["heavy", "medium", "light"]);
        assert_eq!(log.entries(), ["heavy done", "medium done", "light done"]);
        assert_eq!(pool.max_running(), 1);
    }

    /// Slow jobs wait in a queue of their own, yet with room under the cap the oldest job
    /// still goes first, whatever its kind.
    #[test]
    fn with_one_thread_jobs_of_every_kind_complete_in_submission_order() {
        let (mut lp, pool) = loop_with_pool(1);
        let gate = Gate::default();
        let log = Log::default();
        let kinds = [
            WorkKind::SlowIo,
            WorkKind::Cpu,
            WorkKind::SlowIo,
            WorkKind::FastIo,
            WorkKind::SlowIo,
            WorkKind::Cpu,
        ];
        for (i, kind) in kinds.into_iter().enumerate() {
            let (gate, l) = (gate.door(), log.clone());
            lp.submit_work(
                kind,
                "job",
                move || gate.wait(),
                move |_, r| {
                    r.unwrap();
                    l.push(format!("{i} {kind:?}"));
                },
            );
        }
        gate.open();
        run_to_end(&mut lp, &pool);
        assert_eq!(
            log.entries(),
            [
                "0 SlowIo", "1 Cpu", "2 SlowIo", "3 FastIo", "4 SlowIo", "5 Cpu"
            ]
        );
        assert_eq!(pool.max_running(), 1);
    }

    /// The cap on slow jobs is not a priority: a slow job that may run (the cap has room)
    /// keeps its place in the queue, ahead of a fast job queued after it.
    #[test]
    fn a_slow_job_queued_first_runs_first_while_the_cap_has_room() {
        let (mut lp, pool) = loop_with_pool(1);
        let gate = Gate::default();
        // The only thread is busy, so both jobs wait in the queue, slow one first.
        let door = gate.door();
        lp.queue_work(move || door.wait(), |_, r| r.unwrap());
        wait_until(&pool, "the first job runs", || pool.running() == 1);
        let log = Log::default();
        for (kind, name) in [(WorkKind::SlowIo, "slow"), (WorkKind::FastIo, "fast")] {
            let l = log.clone();
            lp.submit_work(
                kind,
                name,
                || (),
                move |_, r| {
                    r.unwrap();
                    l.push(name);
                },
            );
        }
        gate.open();
        run_to_end(&mut lp, &pool);
        assert_eq!(
            log.entries(),
            ["slow", "fast"],
            "oldest first: with room under the slow-I/O cap (no slow job running, at most 1), \
             the slow job queued first runs before the fast one queued after it; the cap only \
             passes over slow jobs while it is full, it does not put fast jobs first"
        );
    }

    #[test]
    fn a_pool_of_four_runs_four_jobs_at_once_and_no_more() {
        let (mut lp, pool) = loop_with_pool(4);
        // Each wave of four jobs meets: a wave can only pass if all four of its jobs run at
        // the same time.
        let meeting = Meeting::new(4);
        let done = Log::default();
        for i in 0..8 {
            let (seat, l) = (meeting.seat(), done.clone());
            lp.queue_work(
                move || {
                    seat.wait();
                    i
                },
                move |_, r| l.push(r.unwrap().to_string()),
            );
        }
        run_to_end(&mut lp, &pool);
        assert_eq!(done.entries().len(), 8);
        assert_eq!(pool.max_running(), 4);
    }

    #[test]
    fn slow_io_never_takes_more_than_half_the_threads_and_other_work_passes_it() {
        let (mut lp, pool) = loop_with_pool(4);
        let gate = Gate::default();
        let slow_running = Arc::new(AtomicUsize::new(0));
        let slow_max = Arc::new(AtomicUsize::new(0));
        let log = Log::default();
        for i in 0..4 {
            let (gate, running, max) = (gate.door(), slow_running.clone(), slow_max.clone());
            let l = log.clone();
            lp.submit_work(
                WorkKind::SlowIo,
                "dns.lookup",
                move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    gate.wait();
                    running.fetch_sub(1, Ordering::SeqCst);
                },
                move |_, r| {
                    r.unwrap();
                    l.push(format!("slow {i}"));
                },
            );
        }
        wait_until(&pool, "two of the four slow jobs run", || {
            pool.running() >= 2
        });
        // A CPU job queued behind them runs at once on a free thread.
        let l = log.clone();
        lp.queue_work(|| "cpu", move |_, r| l.push(r.unwrap().to_string()));
        wait_until(
            &pool,
            "the cpu job queued behind the slow jobs finished: slow-I/O jobs may hold at most \
             (4 + 1) / 2 = 2 of the 4 threads, and a job that may run goes before slow jobs \
             the cap holds back",
            || pool.finished() == 1,
        );
        assert_eq!(
            (pool.running(), pool.queued()),
            (2, 2),
            "two slow jobs run, the other two wait for the cap"
        );
        gate.open();
        run_to_end(&mut lp, &pool);
        assert_eq!(
            slow_max.load(Ordering::SeqCst),
            2,
            "(4 + 1) / 2 = 2 at most"
        );
        let entries = log.entries();
        assert_eq!(entries.len(), 5);
        assert_eq!(
            entries[0], "cpu",
            "the cpu job passed the waiting slow jobs"
        );
    }

    #[test]
    fn cancel_succeeds_only_while_queued_and_the_cancelled_callback_comes_first() {
        let (mut lp, pool) = loop_with_pool(1);
        let gate = Gate::default();
        let log = Log::default();
        let (g, l) = (gate.door(), log.clone());
        let running = lp.queue_work(
            move || g.wait(),
            move |_, r| l.push(format!("running job: {r:?}")),
        );
        let l = log.clone();
        let queued = lp.queue_work(|| (), move |_, r| l.push(format!("queued job: {r:?}")));
        wait_until(&pool, "the first job runs", || pool.running() == 1);
        assert_eq!(lp.cancel_work(running), Err(CancelError::Busy));
        assert_eq!(lp.cancel_work(queued), Ok(()));
        assert_eq!(
            lp.cancel_work(queued),
            Err(CancelError::Busy),
            "cancelling twice is refused"
        );
        gate.open();
        run_to_end(&mut lp, &pool);
        assert_eq!(
            log.entries(),
            ["queued job: Err(Canceled)", "running job: Ok(())"]
        );
        // A worker records a job as finished just after reporting it.
        wait_until(&pool, "the running job is recorded", || {
            pool.finished() >= 1
        });
        assert_eq!(pool.finished(), 1, "the cancelled job never ran");
        assert_eq!(lp.active_requests(), 0);
        assert_eq!(
            lp.cancel_work(running),
            Err(CancelError::Busy),
            "a finished job cannot be cancelled"
        );
    }

    /// Job ids are counted per pool, so two loops with pools of their own number their jobs
    /// alike. A's request used on B must not cancel B's job with the same number: it is
    /// refused as a stale request is (`Busy`).
    #[test]
    fn a_work_request_of_another_loop_cancels_nothing() {
        let (mut a, pool_a) = loop_with_pool(1);
        let (mut b, pool_b) = loop_with_pool(1);
        // Dropped first (declared after the pools): a failing assertion opens the gate, so
        // the workers can finish.
        let gate = Gate::default();
        let log = Log::default();
        let mut queued = Vec::new();
        for (name, lp, pool) in [("a", &mut a, &pool_a), ("b", &mut b, &pool_b)] {
            let g = gate.door();
            lp.queue_work(move || g.wait(), |_, _| {});
            let l = log.clone();
            queued.push(lp.queue_work(|| (), move |_, r| l.push(format!("{name}: {r:?}"))));
            wait_until(pool, "the first job runs", || pool.running() == 1);
        }
        let (from_a, of_b) = (queued[0], queued[1]);
        assert_ne!(
            from_a, of_b,
            "equal job numbers, different loops: different ids"
        );
        assert_eq!(b.cancel_work(from_a), Err(CancelError::Busy));
        assert_eq!(
            a.cancel_work(from_a),
            Ok(()),
            "on its own loop it is A's job"
        );
        gate.open();
        run_to_end(&mut b, &pool_b);
        assert_eq!(
            log.entries(),
            ["b: Ok(())"],
            "B's queued job ran, not canceled"
        );
        run_to_end(&mut a, &pool_a);
        assert_eq!(log.entries(), ["b: Ok(())", "a: Err(Canceled)"]);
    }

    #[test]
    fn a_panicking_job_reaches_its_callback_and_its_worker_keeps_serving() {
        let (mut lp, pool) = loop_with_pool(1);
        let log = Log::default();
        let l = log.clone();
        lp.queue_work(
            || -> u32 { panic!("hash exploded") },
            move |_, r| l.push(format!("{r:?}")),
        );
        let l = log.clone();
        lp.queue_work(|| 7u32, move |_, r| l.push(format!("{r:?}")));
        let code = lp.run_main(|_| {}).expect("a job's panic is not uncaught");
        assert_eq!(code, 0);
        assert_eq!(
            log.entries(),
            [
                format!(
                    "{:?}",
                    Err::<u32, _>(WorkError::Panicked("hash exploded".into()))
                ),
                "Ok(7)".to_string()
            ]
        );
        assert_eq!(pool.workers_alive(), 1, "the worker survived");
    }

    /// A panic payload is the job's own value, and its `Drop` may panic too. Dropped outside
    /// any `catch_unwind`, it used to end the worker: the job's callback never ran, and with
    /// a second worker alive the loop waited for it forever.
    #[test]
    fn a_panic_whose_payload_panics_when_dropped_still_reaches_its_callback() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("the payload's own drop panicked");
            }
        }
        let (mut lp, pool) = loop_with_pool(2);
        let log = Log::default();
        let l = log.clone();
        lp.queue_work(
            || -> u32 { std::panic::panic_any(Bomb) },
            move |_, r| l.push(format!("{r:?}")),
        );
        let l = log.clone();
        lp.queue_work(|| 7u32, move |_, r| l.push(format!("{r:?}")));
        // One non-blocking iteration at a time, so that a lost callback fails the test
        // instead of hanging it.
        let give_up = Instant::now() + Duration::from_secs(20);
        while lp.run(eventloop::event_loop::RunMode::NoWait) {
            assert!(
                Instant::now() < give_up,
                "a job's callback never ran: its worker died, got only {:?}",
                log.entries()
            );
            std::thread::yield_now();
        }
        let mut entries = log.entries();
        entries.sort();
        assert_eq!(
            entries,
            [
                format!(
                    "{:?}",
                    Err::<u32, _>(WorkError::Panicked("a pool job panicked".into()))
                ),
                "Ok(7)".to_string()
            ]
        );
        assert_eq!(pool.workers_alive(), 2, "no worker died");
    }

    #[test]
    fn a_hundred_thousand_tiny_jobs_lose_nothing_and_double_nothing() {
        const JOBS: usize = 100_000;
        let (mut lp, pool) = loop_with_pool(4);
        let seen = std::rc::Rc::new(std::cell::RefCell::new(vec![0u8; JOBS]));
        for i in 0..JOBS {
            let seen = seen.clone();
            lp.queue_work(move || i, move |_, r| seen.borrow_mut()[r.unwrap()] += 1);
        }
        assert_eq!(lp.active_requests(), JOBS);
        run_to_end(&mut lp, &pool);
        assert!(
            seen.borrow().iter().all(|&n| n == 1),
            "each callback ran once"
        );
        assert_eq!(lp.active_requests(), 0);
        assert_eq!(lp.work_in_flight(), 0);
    }

    #[test]
    fn ticks_and_microtasks_drain_after_each_completion_of_one_poll_phase() {
        let (mut lp, pool) = loop_with_pool(1);
        lp.enable_trace();
        let log = Log::default();
        let l = log.clone();
        lp.queue_work(
            || (),
            move |lp, _| {
                l.push("job 1");
                lp.set_immediate(l.cb("immediate queued by job 1"));
                lp.next_tick(l.cb("tick after job 1"));
                lp.queue_microtask(l.cb("microtask after job 1"));
            },
        );
        let l = log.clone();
        lp.queue_work(|| (), move |_, _| l.push("job 2"));
        // Both finish before the loop looks, so one poll phase delivers both.
        wait_until(&pool, "both jobs finished", || pool.finished() == 2);
        run_to_end(&mut lp, &pool);
        assert_eq!(
            log.entries(),
            [
                "job 1",
                "tick after job 1",
                "microtask after job 1",
                "job 2",
                "immediate queued by job 1"
            ]
        );
        assert!(
            lp.take_trace()
                .contains(&eventloop::trace::TraceEvent::WorkDone(2))
        );
    }

    #[test]
    fn on_a_manual_clock_the_poll_phase_waits_for_jobs_instead_of_jumping() {
        let clock = eventloop::clock::ManualClock::new();
        let mut lp = EventLoop::builder()
            .clock(clock.clone())
            .thread_pool(ThreadPool::with_size(1))
            .build()
            .unwrap();
        let log = Log::default();
        lp.set_timeout(log.at("timeout"), 1000);
        let gate = Gate::default();
        let g = gate.door();
        let l = log.clone();
        lp.queue_work(
            move || g.wait(),
            move |lp, _| l.push(format!("job@{}", lp.now())),
        );
        let opener = std::thread::spawn(move || gate.open());
        lp.run(eventloop::event_loop::RunMode::Default);
        opener.join().unwrap();
        assert_eq!(log.entries(), ["job@0", "timeout@1000"]);
    }

    #[test]
    fn a_loop_with_only_a_queued_job_stays_alive_until_its_callback_ran() {
        let (mut lp, pool) = loop_with_pool(1);
        let gate = Gate::default();
        let g = gate.door();
        let log = Log::default();
        let l = log.clone();
        lp.queue_work(move || g.wait(), move |_, _| l.push("callback"));
        assert!(
            lp.run(eventloop::event_loop::RunMode::NoWait),
            "still alive"
        );
        assert!(log.entries().is_empty());
        gate.open();
        wait_until(&pool, "the job finished", || pool.finished() == 1);
        assert!(
            lp.is_alive(),
            "finished but not yet delivered: still a request"
        );
        assert!(!lp.run(eventloop::event_loop::RunMode::NoWait));
        assert_eq!(log.entries(), ["callback"]);
    }
}

mod cost {
    use super::*;

    /// Cancelling is libuv's O(1) `uv__work_cancel`; ours must not scan and shift the queue
    /// under the pool's lock for each job. The worst case for a scan is newest first. Prints
    /// what queueing and cancelling cost; asserts no time.
    #[test]
    fn cancelling_a_hundred_thousand_queued_jobs_newest_first() {
        const JOBS: usize = 100_000;
        let (mut lp, pool) = loop_with_pool(1);
        let gate = Gate::default();
        let g = gate.door();
        lp.queue_work(move || g.wait(), |_, r| r.unwrap());
        let cancelled = std::rc::Rc::new(std::cell::Cell::new(0));
        let start = Instant::now();
        let requests: Vec<_> = (0..JOBS)
            .map(|_| {
                let c = cancelled.clone();
                lp.queue_work(
                    || (),
                    move |_, r| {
                        assert_eq!(r, Err(WorkError::Canceled));
                        c.set(c.get() + 1);
                    },
                )
            })
            .collect();
        let took = start.elapsed();
        println!(
            "queued {JOBS} jobs in {:.1} ms ({} ns each)",
            took.as_secs_f64() * 1e3,
            took.as_nanos() / JOBS as u128
        );
        wait_until(&pool, "the gate job runs", || pool.running() == 1);
        let start = Instant::now();
        for request in requests.into_iter().rev() {
            assert_eq!(lp.cancel_work(request), Ok(()));
        }
        let took = start.elapsed();
        println!(
            "cancelled {JOBS} queued jobs, newest first, in {:.1} ms ({} ns each)",
            took.as_secs_f64() * 1e3,
            took.as_nanos() / JOBS as u128
        );
        assert_eq!(pool.queued(), 0);
        gate.open();
        run_to_end(&mut lp, &pool);
        assert_eq!(cancelled.get(), JOBS, "every cancelled callback ran");
        wait_until(&pool, "the gate job is recorded", || pool.finished() >= 1);
        assert_eq!(pool.finished(), 1, "only the gate job ran");
    }
}
