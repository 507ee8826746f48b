//! What a caught panic said, for the two places that catch panics: a callback on the loop (an
//! uncaught exception, chapter 6) and a job on the thread pool (chapter 7).

use std::any::Any;

/// The message a panic carried — `panic!("…")` leaves a `&str` or a `String` — or `None` for
/// a payload of another type (`std::panic::panic_any`).
pub(crate) fn message(payload: &(dyn Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}
