//! The names most programs need, to import at once: `use eventloop::prelude::*;` — the
//! loop, timers and immediates, promises and tasks, the [`Ref`] verbs, [`console`], and the
//! `net`, `fs` and `dns` modules (as a Node program `require`s them).
//!
//! ```
//! use eventloop::prelude::*;
//!
//! let mut lp = EventLoop::new();
//! lp.run_main(|lp| {
//!     let t = lp.set_interval(|_| console::log("tick"), 1_000);
//!     t.unref(lp); // the `Ref` trait: the interval no longer keeps the process alive
//! })
//! .unwrap();
//! ```

pub use crate::console::{self, Console};
pub use crate::event_loop::{
    Delay, EventLoop, ExitCode, Immediate, Ref, RunMode, Timeout, Uncaught,
};
pub use crate::promise::{Promise, Rejection, Resolver};
pub use crate::task::{self, JoinError, JoinHandle};
pub use crate::{dns, fs, net};
