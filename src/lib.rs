//! # eventloop — Node's event loop, rebuilt in Rust
//!
//! A single-threaded runtime with Node's semantics: timers, immediates, `nextTick`,
//! promises and `async`/`.await`, TCP servers and sockets, files, DNS and hashing on a
//! thread pool — every callback run in the order Node would run it. It is also the code of
//! the book *Build Your Own Event Loop*, which builds each mechanism in a chapter; those
//! modules are listed [at the end](#the-chapters-mechanisms).
//!
//! ## A first program
//!
//! An echo server, and a client that says hello to it (`node echo.js`, in Rust); it prints
//! `echoed: hello`, then `closed`, and exits 0:
//!
//! ```
//! use eventloop::net::{Server, Socket};
//! use eventloop::prelude::*;
//!
//! fn main() {
//!     let mut lp = EventLoop::new();
//!     let code = lp.run_main(|lp| {
//!         let server = Server::create(lp, |lp, conn| {
//!             conn.on_data(lp, move |lp, data| drop(conn.write(lp, data))); // echo
//!         });
//!         server.listen(lp, "127.0.0.1:0".parse().unwrap(), move |lp| {
//!             let addr = server.address(lp).unwrap();
//!             let client = Socket::connect(lp, addr, |lp, s| drop(s.write(lp, b"hello")));
//!             client.on_data(lp, move |lp, data| {
//!                 console::log(format!("echoed: {}", String::from_utf8_lossy(data)));
//!                 client.end(lp); // the server ends its side too, then closes
//!                 server.close(lp, |_, _| console::log("closed"));
//!             });
//!         });
//!     });
//!     std::process::exit(code.unwrap_or(1)); // an uncaught error exits 1, as in Node
//! }
//! ```
//!
//! A program is a closure given to [`EventLoop::run_main`], as a script given to `node`: it
//! runs, then the loop runs everything it scheduled until nothing keeps the process alive,
//! and `run_main` returns the exit code (or the uncaught error, [`Uncaught`]). Every
//! callback gets the loop, `&mut EventLoop`, and can schedule more. The ids the runtime
//! hands out ([`Timeout`], [`net::Socket`], …) are small `Copy` values, so a callback can
//! keep the ones it needs.
//!
//! ## What the runtime offers
//!
//! | Node | here |
//! |---|---|
//! | `setTimeout`, `setInterval`, `setImmediate`, `process.nextTick`, `queueMicrotask` | methods of [`EventLoop`]: [`set_timeout`](EventLoop::set_timeout), [`set_interval`](EventLoop::set_interval), [`set_immediate`](EventLoop::set_immediate), [`next_tick`](EventLoop::next_tick), [`queue_microtask`](EventLoop::queue_microtask) |
//! | `Promise`, `then`, `Promise.all`, … | [`Promise`], [`Resolver`] |
//! | `async function`, `await` | [`EventLoop::spawn`], [`JoinHandle`], [`task`] (`sleep`, `timeout`, async TCP in [`task::net`]) |
//! | `ref()`, `unref()`, `hasRef()` | the [`Ref`] trait, for every handle |
//! | `net.createServer`, `net.connect` | [`net::Server`], [`net::Socket`]: `'data'`, `'end'`, `'drain'`, `'close'`, backpressure |
//! | `fs.readFile`, `fs.writeFile`, `fs.stat`, … | [`fs`], on the thread pool |
//! | `dns.lookup` | [`dns`] |
//! | `crypto.pbkdf2` | [`crypto`] |
//! | libuv's `uv_queue_work` | [`EventLoop::queue_work`], [`task::spawn_blocking`] |
//! | `process.on('exit')`, `process.exitCode`, `'uncaughtException'` | [`EventLoop::on_exit`], [`EventLoop::set_exit_code`], [`EventLoop::on_uncaught_exception`] |
//! | `console.log` | [`console`] |
//!
//! [`prelude`] brings the names most programs need into scope at once. Errors are
//! `std::io::Error`s; [`net::NetError`] and [`fs::FsError`] give their Node `code`
//! (`ECONNREFUSED`, `ENOENT`). A program keeps its own state in the loop's typed state slots
//! ([`EventLoop::state_mut`]), next to the runtime's, rather than in `Rc<RefCell<…>>`.
//!
//! To use the crate as a runtime only, depend on it without the book's learner console:
//! `eventloop = { version = "0.1", default-features = false }`.
//!
//! ## The chapters' mechanisms
//!
//! Each module below is one mechanism of the loop, built in the book's chapter that explains
//! it. They stay public so the book's tests and exercises can reach them, and so a reader can
//! take the loop apart; a program needs none of them directly.
//!
//! | chapter | module |
//! |---|---|
//! | 1. Stack and heap | [`stack`], [`heap`] |
//! | 2. The task queue | [`queue`] |
//! | 3. Timers | [`clock`], [`timers`] |
//! | 4. Phases | [`event_loop`] |
//! | 5. nextTick and microtasks | [`microtasks`], [`promise`] |
//! | 6. Refs: when the loop ends | [`refs`] |
//! | 7. The thread pool | [`threadpool`], [`fs`], [`dns`], [`crypto`] |
//! | 8. Kernel I/O | [`sys`], [`io`] |
//! | 9. TCP | [`net`] |
//! | 10. Futures on the loop | [`task`] |
//! | 11. The complete runtime | this page, [`prelude`], [`console`] |
//! | 12. Watching the loop (to come) | [`trace`], which the tests use from chapter 4 on |
//!
//! The modules are layered, and no module imports one above it, so the module graph has no
//! cycle and each chapter's module can be read, tested and swapped for its exercise alone:
//!
//! ```text
//! prelude                               the names most programs need, from every layer
//! task                                  futures on the loop (chapter 10): tasks, wakers, and
//!                                       the services below as futures; its state in a slot
//! promise  net  fs  dns  crypto         services: build on the EventLoop; net keeps its state
//!                                       in the loop's typed state slots (state_mut::<T>)
//! event_loop                            composes the mechanisms: run, run_once, the phases
//! timers  queue  threadpool  io         mechanisms: hold keys and data, answer questions
//! heap  stack  clock  microtasks  refs  leaves: import nothing of this crate (but console,
//! trace  console  sys                   which notes each line it prints in the trace)
//! ```
//!
//! The loop holds no field of a service: `net` keeps its sockets in
//! [`EventLoop::state_mut`], where an embedder keeps its own
//! state too. What the loop must call on a promise (run a reaction, ask whether a rejection was
//! handled) is a trait of the leaf [`microtasks`]. The tasks of chapter 10 keep their state in
//! a slot too; what the loop asks them (has a task been woken from another thread?) goes
//! through a trait the loop defines itself, its wake source. `tests/layering.rs` holds the
//! crate to this picture.
//!
//! The order in which the loop runs what a program scheduled is Node's:
//!
//! ```
//! use eventloop::prelude::*;
//!
//! let mut lp = EventLoop::new();
//! let code = lp
//!     .run_main(|lp| {
//!         lp.set_timeout(|_| println!("timeout"), 10);
//!         lp.set_immediate(|_| println!("immediate"));
//!         Promise::resolved(()).then(lp, |_, ()| println!("promise"));
//!         lp.next_tick(|_| println!("nextTick"));
//!         println!("main");
//!     })
//!     .expect("nothing panicked");
//! assert_eq!(code, 0); // printed: main, nextTick, promise, immediate, timeout
//! ```
//!
//! Every exercise — the heart of a chapter's module, cut out — can be swapped in for the
//! reference with a `learn-<exercise>` cargo feature (see `cargo learn`).

#![warn(missing_docs)]
// Every public function that can fail or panic says when (`# Errors`, `# Panics`).
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

pub mod clock;
pub mod console;
pub mod crypto;
pub mod dns;
pub mod event_loop;
pub mod fs;
#[cfg_attr(feature = "learn-heap", path = "../exercises/heap.rs")]
pub mod heap;
#[cfg_attr(feature = "learn-io", path = "../exercises/io.rs")]
pub mod io;
#[cfg_attr(feature = "learn-microtasks", path = "../exercises/microtasks.rs")]
pub mod microtasks;
pub mod net;
mod panics;
pub mod prelude;
pub mod promise;
#[cfg_attr(feature = "learn-queue", path = "../exercises/queue.rs")]
pub mod queue;
#[cfg_attr(feature = "learn-refs", path = "../exercises/refs.rs")]
pub mod refs;
#[cfg_attr(feature = "learn-stack", path = "../exercises/stack.rs")]
pub mod stack;
#[allow(unsafe_code)] // the one module allowed to make raw system calls
pub mod sys;
pub mod task;
#[cfg_attr(feature = "learn-threadpool", path = "../exercises/threadpool.rs")]
pub mod threadpool;
pub mod timers;
pub mod trace;

pub use event_loop::uv;
pub use event_loop::{
    Builder, Delay, EventLoop, ExitCode, Immediate, Ref, RunMode, Timeout, Uncaught,
};
pub use promise::{Promise, Rejection, Resolver};
pub use task::{JoinError, JoinHandle, spawn_blocking};
