//! W7b: eight password hashes queued at once, and when each one finishes — the thread pool's
//! size made visible. The Rust side of `bench/node/w7b.js` (same protocol, same output).
//!
//! ```text
//! cargo run --release --example pbkdf2_waves
//! UV_THREADPOOL_SIZE=8 cargo run --release --example pbkdf2_waves
//! ```
//!
//! Each hash is `crypto::pbkdf2` with 1,000,000 rounds of HMAC-SHA-256 (about 100-300 ms of one
//! core). With the default pool of 4 threads, four hashes run and four wait: the finish
//! times come in **two waves**, the second about twice as late as the first. With
//! `UV_THREADPOOL_SIZE=8` all eight run at once: **one wave**.
//!
//! One wave is not a faster wave. Threads are not cores: on a machine with 2 cores, 4 threads
//! already share 2 cores (each hash takes twice its solo time), and 8 threads share them
//! four ways, so the single wave lands about when the second of two would have. The output
//! prints the number of cores next to the pool size for that reason.
//!
//! Prints one line per hash as its callback runs, then one machine-readable line:
//! `w7b pool=<n> cores=<n> hashes=8 iterations=<n> max_running=<n> fourth_ms=<n> last_ms=<n>
//! done_ms=<a,b,..>` (`done_ms` in completion order). Two waves show as `last_ms` about twice
//! `fourth_ms`; one wave as the two about equal. `max_running` is the most hashes the pool ran
//! at once. One run, no warm-up: the pool's lazy start is part of it, as in Node. A
//! measurement program: it reports, it asserts nothing about speed.

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use eventloop::crypto;
use eventloop::event_loop::EventLoop;

/// Hashes queued at once: twice the default pool size.
const HASHES: usize = 8;
/// Rounds per hash: ~110 ms of one core for our SHA-256 on an EPYC with SHA extensions, ~200 ms
/// for Node 20's OpenSSL, when the machine is quiet.
const ITERATIONS: u32 = 1_000_000;

fn main() -> ExitCode {
    let mut lp = EventLoop::new();
    let pool = lp.thread_pool().clone();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "pbkdf2 waves: {HASHES} hashes of {ITERATIONS} rounds queued at once, \
         pool of {} threads, {cores} CPU cores",
        pool.size()
    );
    let done_ms: Rc<RefCell<Vec<u128>>> = Rc::default();
    let start = Instant::now();
    let outcome = lp.run_main(|lp| {
        for i in 0..HASHES {
            let done_ms = done_ms.clone();
            crypto::pbkdf2(
                lp,
                "pw",
                format!("salt{i}"),
                ITERATIONS,
                32,
                move |_, key| {
                    let ms = start.elapsed().as_millis();
                    key.expect("valid arguments");
                    println!("hash {i} done at {ms} ms");
                    done_ms.borrow_mut().push(ms);
                },
            );
        }
    });
    if let Err(e) = outcome {
        eprintln!("pbkdf2_waves: {e:?}");
        return ExitCode::FAILURE;
    }
    let done_ms = done_ms.borrow();
    let list: Vec<String> = done_ms.iter().map(u128::to_string).collect();
    println!(
        "w7b pool={} cores={cores} hashes={HASHES} iterations={ITERATIONS} max_running={} \
         fourth_ms={} last_ms={} done_ms={}",
        pool.size(),
        pool.max_running(),
        done_ms.get(3).copied().unwrap_or_default(),
        done_ms.last().copied().unwrap_or_default(),
        list.join(",")
    );
    ExitCode::SUCCESS
}
