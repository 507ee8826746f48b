//! # eventloop — Node's event loop, rebuilt in Rust
//!
//! This crate is the code of the book *Build Your Own Event Loop*. Each module is one
//! mechanism of the loop that runs Node.js programs, built in the chapter that explains it:
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
//! | 12. Watching the loop (to come) | [`trace`], which the tests use from chapter 4 on |
//!
//! The modules are layered, and no module imports one above it, so the module graph has no
//! cycle and each chapter's module can be read, tested and swapped for its exercise alone:
//!
//! ```text
//! task                                  futures on the loop (chapter 10): tasks, wakers, and
//!                                       the services below as futures; its state in a slot
//! promise  net  fs  dns  crypto         services: build on the EventLoop; net keeps its state
//!                                       in the loop's typed state slots (state_mut::<T>)
//! event_loop                            composes the mechanisms: run, run_once, the phases
//! timers  queue  threadpool  io         mechanisms: hold keys and data, answer questions
//! heap  stack  clock  microtasks  refs  trace  sys      leaves: import nothing of this crate
//! ```
//!
//! The loop holds no field of a service: `net` keeps its sockets in
//! [`EventLoop::state_mut`](event_loop::EventLoop::state_mut), where an embedder keeps its own
//! state too. What the loop must call on a promise (run a reaction, ask whether a rejection was
//! handled) is a trait of the leaf [`microtasks`]. The tasks of chapter 10 keep their state in
//! a slot too; what the loop asks them (has a task been woken from another thread?) goes
//! through a trait the loop defines itself, its wake source. `tests/layering.rs` holds the
//! crate to this picture.
//!
//! A program runs on an [`EventLoop`](event_loop::EventLoop) the way Node runs a script:
//!
//! ```
//! use eventloop::event_loop::EventLoop;
//! use eventloop::promise::Promise;
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

pub mod clock;
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
