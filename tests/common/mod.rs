//! Helpers shared by the chapter tests.
#![allow(dead_code)] // each test file uses a different subset

use eventloop::uv::Uv;
use std::cell::RefCell;
use std::rc::Rc;

use eventloop::Ref;
use eventloop::clock::ManualClock;
use eventloop::event_loop::EventLoop;

/// A shared, ordered record of what happened.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    pub fn entries(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.borrow_mut())
    }

    /// A callback that records `entry`.
    pub fn cb(&self, entry: impl Into<String>) -> impl FnOnce(&mut EventLoop) + 'static {
        let log = self.clone();
        let entry = entry.into();
        move |_| log.push(entry)
    }

    /// A callback that records `entry` with the loop time: `"entry@12"`.
    pub fn at(&self, entry: impl Into<String>) -> impl FnMut(&mut EventLoop) + 'static {
        let log = self.clone();
        let entry = entry.into();
        move |lp| log.push(format!("{entry}@{}", lp.now()))
    }
}

/// A loop on a manual clock at 0 ms, and the clock.
pub fn manual_loop() -> (EventLoop, ManualClock) {
    let clock = ManualClock::new();
    (EventLoop::with_clock(clock.clone()), clock)
}

/// A cell to hand an id to a callback created before the id exists.
pub fn slot<T: Copy>() -> Rc<std::cell::Cell<Option<T>>> {
    Rc::new(std::cell::Cell::new(None))
}

/// Runs `test` on a thread of its own and fails with a message naming `what` if it has not
/// finished within `limit`: for tests whose wrong answer is a loop that never returns. (A loop
/// left hanging stays on its thread until the test binary exits.) A panic in `test` goes on.
pub fn within<T: Send + 'static>(
    limit: std::time::Duration,
    what: &str,
    test: impl FnOnce() -> T + Send + 'static,
) -> T {
    use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(catch_unwind(AssertUnwindSafe(test)));
    });
    match outcome.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => resume_unwind(panic),
        Err(_) => panic!("still running after {limit:?}: {what}"),
    }
}

/// What a test has reached so far, for the [`Watchdog`] to print if it hangs. Tests that
/// share it run one at a time (each such test file has its own serial lock).
static TRAIL: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Notes a step of the running test (kept for the watchdog's report).
pub fn trail(step: impl Into<String>) {
    TRAIL
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(step.into());
}

/// Ends the whole test binary with a report if the test that made it is still running
/// after `limit`: a hang in a test that waits on the kernel (a lost event, a peer that never
/// answers) becomes a failure that says where it stopped, instead of a CI run that never
/// ends. It measures nothing; no assertion depends on it.
pub struct Watchdog {
    done: Option<std::sync::mpsc::Sender<()>>,
}

impl Watchdog {
    pub fn new(test: &str, limit: std::time::Duration) -> Watchdog {
        TRAIL.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let test = test.to_string();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
                let trail = TRAIL.lock().unwrap_or_else(|e| e.into_inner()).join("\n  ");
                // Straight to the descriptor: the harness captures `eprintln!` and would
                // throw the report away with the process.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "\n{test}: still running after {limit:?}: it hangs. Steps it reached:\n  {trail}\n"
                );
                std::process::exit(3);
            }
        });
        Watchdog { done: Some(done) }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take()); // the watchdog thread wakes up and leaves
    }
}

/// A tiny deterministic random number generator (Marsaglia's xorshift64*): randomized tests
/// replay exactly from their seed, with no dependency.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for `seed` (any value; 0 is remapped, xorshift cannot leave 0).
    pub fn new(seed: u64) -> XorShift {
        XorShift((seed ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// An index into a slice of length `len` (`len > 0`).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}

/// How long [`run_bounded`] lets a loop run. Every test loop here is done in well under a
/// second; the bound only turns a loop that never ends into a failure.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// `lp.run(mode)`, bounded: an unref'd timer (it keeps nothing alive) stops the loop if it
/// still runs after [`PATIENCE`], and the test fails saying what the loop was waiting for,
/// instead of hanging. Returns what `run` returned. Needs a loop on the real clock.
pub fn run_bounded(lp: &mut EventLoop, mode: eventloop::event_loop::RunMode) -> bool {
    let stuck = Rc::new(std::cell::Cell::new(false));
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
    let alive = lp.run(mode);
    lp.clear_timeout(watchdog);
    assert!(
        !stuck.get(),
        "the loop still ran after {PATIENCE:?}, with {} active handles and {} requests in \
         flight: something it waits for never happens",
        lp.active_handles(),
        lp.active_requests()
    );
    alive
}

/// How many iterations [`run_counted`] lets a loop make. The tests that use it need a few.
pub const MAX_ITERATIONS: u64 = 100_000;

/// `lp.run(mode)`, bounded by iterations rather than time, for loops on a manual clock (where
/// a timer never fires by itself): an unref'd prepare handle (it keeps nothing alive and runs
/// no callback of the test's) counts the iterations and stops the loop after
/// [`MAX_ITERATIONS`], and the test fails saying so, instead of spinning forever. Returns what
/// `run` returned.
pub fn run_counted(lp: &mut EventLoop, mode: eventloop::event_loop::RunMode) -> bool {
    let iterations = Rc::new(std::cell::Cell::new(0u64));
    let n = iterations.clone();
    let counter = lp.prepare_init(move |lp, _| {
        n.set(n.get() + 1);
        if n.get() >= MAX_ITERATIONS {
            lp.stop();
        }
    });
    lp.start_handle(counter)
        .expect("a new prepare handle starts");
    counter.unref(lp);
    let alive = lp.run(mode);
    // Stopped, not closed: a closing handle would keep the loop alive for one more iteration.
    lp.stop_handle(counter).expect("the counter stops");
    assert!(
        iterations.get() < MAX_ITERATIONS,
        "the loop still iterated after {MAX_ITERATIONS} iterations, with {} active handles \
         and {} requests in flight: something keeps it alive (or busy) that should not",
        lp.active_handles(),
        lp.active_requests()
    );
    alive
}

/// Runs `future` on `lp` to the end under a watchdog of `ms` loop milliseconds: an unref'd
/// timer whose callback panics, so that a lost wake-up fails with `what` instead of hanging.
/// The watchdog is a plain callback, not a task: it works even when the tasks' state machine
/// is broken. An error of `block_on` fails with `what` too.
pub fn block_on_within<T: 'static>(
    lp: &mut EventLoop,
    what: &str,
    ms: u64,
    future: impl std::future::Future<Output = T> + 'static,
) -> T {
    let message = format!("{what}: the task was never polled again (a lost wake-up)");
    let watchdog = lp.set_timeout(move |_| panic!("{message}"), ms).unref(lp);
    let outcome = lp.block_on(future);
    lp.clear_timeout(watchdog);
    outcome.unwrap_or_else(|e| panic!("{what}: {e}"))
}
