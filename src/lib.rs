//! # eventloop — Node's event loop, rebuilt in Rust
//!
//! This crate is the code of the book *Build Your Own Event Loop*. Each module is one
//! mechanism of the loop that runs Node.js programs, built in the chapter that explains it:
//!
//! | chapter | module |
//! |---|---|
//! | 1. Stack and heap | [`stack`], [`heap`] |
//! | 2. The task queue | [`queue`] |
//!
//! Every module that holds a chapter's exercise can be swapped for the learner's copy in
//! `exercises/` with a `learn-<module>` cargo feature (see `cargo learn`).

pub mod clock;
pub mod event_loop;
#[cfg_attr(feature = "learn-heap", path = "../exercises/heap.rs")]
pub mod heap;
#[cfg_attr(feature = "learn-microtasks", path = "../exercises/microtasks.rs")]
pub mod microtasks;
pub mod promise;
#[cfg_attr(feature = "learn-queue", path = "../exercises/queue.rs")]
pub mod queue;
#[cfg_attr(feature = "learn-refs", path = "../exercises/refs.rs")]
pub mod refs;
#[cfg_attr(feature = "learn-stack", path = "../exercises/stack.rs")]
pub mod stack;
pub mod timers;
pub mod trace;
