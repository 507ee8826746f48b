//! `finally`: a handler that runs whichever way the promise settles and passes the outcome
//! through. It is a `then` whose handler adopts a second `then`, so it costs more hops than
//! either, as the specification's steps do.

use super::Promise;
use super::then::Step;
use crate::event_loop::EventLoop;

impl<T: Clone + 'static> Promise<T> {
    // ANCHOR: finally
    /// `promise.finally(onFinally)`: runs `on_finally` either way, then settles the new promise
    /// as this one settled. As in the specification, the handler's result goes through a
    /// resolved promise and a `then`, so `finally` costs more hops than `then`.
    ///
    /// ```
    /// use eventloop::prelude::*;
    ///
    /// let mut lp = EventLoop::new();
    /// let p = Promise::resolved(5).finally(&mut lp, |lp| lp.set_exit_code(1));
    /// lp.run(RunMode::Default);
    /// assert_eq!((p.settled().unwrap().unwrap(), lp.exit_code()), (5, 1)); // value passed through
    /// ```
    pub fn finally(
        &self,
        lp: &mut EventLoop,
        on_finally: impl FnOnce(&mut EventLoop) + 'static,
    ) -> Promise<T> {
        self.chain(lp, move |lp, outcome| {
            on_finally(lp);
            let after = Promise::resolved(()).chain(lp, move |_, _| match outcome {
                Ok(v) => Step::Value(v),
                Err(r) => Step::Reject(r),
            });
            Step::Adopt(after)
        })
    }
    // ANCHOR_END: finally
}
