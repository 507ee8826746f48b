//! What one wait costs with epoll and with `poll(2)`, as the number of watched descriptors
//! grows and the number of ready ones stays at one (chapter 8).
//!
//! `poll(2)` hands the kernel the whole interest list on every call, and the kernel checks
//! every entry; epoll keeps the list in the kernel and a wait only collects the ready ones.
//! So with one socket ready out of n, a `poll(2)` wait should grow with n and an epoll wait
//! should not. Each measured iteration is one `wait` with a zero timeout, on n registered
//! Unix socket pairs of which exactly one (the last registered) has a byte to read.
//!
//! Sockets stay open for the whole group: 5,000 pairs are 10,000 descriptors, within the usual
//! soft limit (`ulimit -n`) of machines where this is run; the bench says so if it is not.

use std::hint::black_box;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use eventloop::sys::{Event, Interest, epoll, poll};

/// Registered socket pairs; one of them is readable.
const WATCHED: [usize; 4] = [10, 100, 1_000, 5_000];
const WARM_UP: Duration = Duration::from_secs(1);
const MEASUREMENT: Duration = Duration::from_secs(3);

/// `n` non-blocking socket pairs, the last one with a byte waiting on its first end.
fn pairs(n: usize) -> Vec<(UnixStream, UnixStream)> {
    let mut pairs: Vec<_> = (0..n)
        .map(|_| {
            let (a, b) = UnixStream::pair().unwrap_or_else(|e| {
                panic!(
                    "socketpair failed ({e}): raise `ulimit -n` to above {}",
                    2 * n + 16
                )
            });
            a.set_nonblocking(true).expect("fcntl");
            b.set_nonblocking(true).expect("fcntl");
            (a, b)
        })
        .collect();
    pairs
        .last_mut()
        .expect("n > 0")
        .1
        .write_all(b"!")
        .expect("a byte fits");
    pairs
}

/// Registers the first end of every pair with `add` (token = its index).
fn register(pairs: &[(UnixStream, UnixStream)], mut add: impl FnMut(BorrowedFd<'_>, usize)) {
    for (token, (a, _)) in pairs.iter().enumerate() {
        add(a.as_fd(), token);
    }
}

fn one_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("pollers/one_ready");
    group.warm_up_time(WARM_UP).measurement_time(MEASUREMENT);
    for n in WATCHED {
        let sockets = pairs(n);
        let mut events: Vec<Event> = Vec::with_capacity(16);

        let mut epoll = epoll::Poller::new().expect("epoll_create1");
        register(&sockets, |fd, token| {
            epoll.add(fd, token, Interest::READABLE).expect("epoll_ctl")
        });
        epoll.wait(&mut events, Some(Duration::ZERO)).unwrap();
        assert_eq!(events.len(), 1, "exactly one socket is readable");
        group.bench_with_input(BenchmarkId::new("epoll", format!("n={n}")), &n, |b, _| {
            b.iter(|| {
                events.clear();
                black_box(epoll.wait(&mut events, Some(Duration::ZERO)).unwrap())
            });
        });

        let mut poll = poll::Poller::new().expect("never fails");
        register(&sockets, |fd, token| {
            poll.add(fd, token, Interest::READABLE).expect("a new fd")
        });
        events.clear();
        poll.wait(&mut events, Some(Duration::ZERO)).unwrap();
        assert_eq!(events.len(), 1, "exactly one socket is readable");
        group.bench_with_input(BenchmarkId::new("poll", format!("n={n}")), &n, |b, _| {
            b.iter(|| {
                events.clear();
                black_box(poll.wait(&mut events, Some(Duration::ZERO)).unwrap())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, one_ready);
criterion_main!(benches);
