//! Timers, in the two layers Node really has.
//!
//! - [`TimerHeap`] is libuv's: every `uv_timer_t` of a loop in one binary min-heap ordered by
//!   deadline, then start order.
//! - [`TimerLists`] is Node's, on top of a *single* libuv timer: `setTimeout`'s timeouts kept
//!   in one list per duration, the lists in a priority queue.
//!
//! Both are plain data structures: they hold keys, and answer which keys are due at a given
//! loop time. The event loop owns the callbacks and runs them (chapter 4).

#[cfg_attr(feature = "learn-timers", path = "../../exercises/timers.rs")]
mod timer_heap;
#[cfg_attr(feature = "learn-lists", path = "../../exercises/lists.rs")]
mod timer_lists;

pub use timer_heap::{NeverStarted, TimerHeap};
pub use timer_lists::{AfterCallback, Due, TimerLists};

/// The largest delay Node accepts: 2^31 − 1 ms, about 24.8 days (`TIMEOUT_MAX`).
///
/// ```
/// use eventloop::timers::{normalize_delay, TIMEOUT_MAX};
///
/// assert_eq!(normalize_delay(TIMEOUT_MAX), (TIMEOUT_MAX, false));
/// assert_eq!(normalize_delay(TIMEOUT_MAX + 1.0), (1.0, true)); // too large: 1 ms, and a warning
/// ```
pub const TIMEOUT_MAX: f64 = 2_147_483_647.0;

// ANCHOR: normalize_delay
/// What Node makes of a delay (the `Timeout` constructor): anything that is not a number from
/// 1 to [`TIMEOUT_MAX`] becomes 1 — NaN, negative, zero and too large alike. Fractions are
/// kept (the list a timeout joins truncates them). The second value is true when the delay
/// was too large, which Node reports with a `TimeoutOverflowWarning`.
///
/// ```
/// use eventloop::timers::normalize_delay;
///
/// assert_eq!(normalize_delay(2.5), (2.5, false));
/// assert_eq!(normalize_delay(0.0), (1.0, false)); // setTimeout(f, 0) waits 1 ms
/// assert_eq!(normalize_delay(f64::NAN), (1.0, false));
/// ```
pub fn normalize_delay(delay: f64) -> (f64, bool) {
    if (1.0..=TIMEOUT_MAX).contains(&delay) {
        (delay, false)
    } else {
        (1.0, delay > TIMEOUT_MAX)
    }
}
// ANCHOR_END: normalize_delay

/// The text of Node's `TimeoutOverflowWarning` for `delay`.
///
/// ```
/// use eventloop::timers::overflow_warning;
///
/// assert!(overflow_warning(3e9).starts_with("3000000000 does not fit"));
/// ```
pub fn overflow_warning(delay: f64) -> String {
    format!(
        "{} does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.",
        js_number(delay)
    )
}

/// Formats a number the way JavaScript's `String(number)` does: shortest round-trip digits,
/// with an exponent from 1e21 on.
fn js_number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if value.abs() >= 1e21 {
        // Rust writes `1.8446744073709552e22`; JavaScript writes `1.8446744073709552e+22`.
        format!("{value:e}").replace('e', "e+").replace("e+-", "e-")
    } else {
        value.to_string()
    }
}
