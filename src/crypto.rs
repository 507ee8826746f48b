//! Password hashing on the thread pool: Node's `crypto.pbkdf2`, the classic example of CPU
//! work the loop must not do itself.
//!
//! PBKDF2 (RFC 8018) derives a key from a password by running HMAC over and over, on purpose:
//! `iterations` rounds make every guess an attacker tries that much slower. Hundreds of
//! milliseconds of hashing on the loop thread would freeze every timer and socket, so Node
//! runs it on the pool as CPU work (`uv_queue_work` from its `CryptoJob`), and four hashes at
//! once keep the default four threads busy: a fifth waits for one of them. That is the
//! classic "why did my fifth request take twice as long" surprise, made visible by
//! `examples/pbkdf2_waves.rs`.
//!
//! The hashing itself is RustCrypto's `pbkdf2` with HMAC-SHA-256 (Node's digest `'sha256'`).
//!
//! ```
//! use eventloop::{crypto, event_loop::EventLoop};
//!
//! let mut lp = EventLoop::new();
//! lp.run_main(|lp| {
//!     crypto::pbkdf2(lp, "pw", "salt", 1000, 32, |_, key| {
//!         let key = key.expect("valid arguments");
//!         assert_eq!(key.len(), 32);
//!         assert_eq!(key[..4], [0x0a, 0x38, 0x25, 0x35]); // what Node's pbkdf2Sync gives
//!     });
//! })
//! .expect("nothing panicked");
//! ```

use std::io;

use sha2::Sha256;

use crate::event_loop::EventLoop;
use crate::threadpool::{WorkError, WorkKind};

/// The largest `iterations` and `key_len` Node accepts: its `validateInt32` bound.
///
/// ```
/// use eventloop::prelude::*;
///
/// use eventloop::crypto;
///
/// let mut lp = EventLoop::new();
/// let too_long = crypto::MAX_ARG as usize + 1;
/// crypto::pbkdf2(&mut lp, "pw", "salt", 1, too_long, |_, key| assert!(key.is_err())); // ERR_OUT_OF_RANGE
/// lp.run(RunMode::Default);
/// ```
pub const MAX_ARG: u64 = i32::MAX as u64;

// ANCHOR: pbkdf2
/// Derives a `key_len`-byte key from `password` and `salt` with `iterations` rounds of
/// HMAC-SHA-256 on the thread pool, then calls `callback` with it on the loop, in the poll
/// phase (`crypto.pbkdf2(password, salt, iterations, keylen, 'sha256', cb)`).
///
/// # Errors
/// Through the callback, on the next tick (Node throws these synchronously instead; a Rust
/// callback API has one error path): [`InvalidInput`](io::ErrorKind::InvalidInput) with
/// Node's `ERR_OUT_OF_RANGE` message when `iterations` is 0 or either number is above
/// 2147483647. On the worker, [`OutOfMemory`](io::ErrorKind::OutOfMemory) when a key that
/// large cannot be allocated (Node allocates up to 2 GiB the same way).
///
/// ```
/// use eventloop::prelude::*;
///
/// use eventloop::crypto;
///
/// let mut lp = EventLoop::new();
/// crypto::pbkdf2(&mut lp, "passwd", "salt", 1, 4, |_, key| {
///     assert_eq!(key.unwrap(), [0x55, 0xac, 0x04, 0x6e]); // RFC 7914's vector, first 4 bytes
/// });
/// lp.run(RunMode::Default);
/// ```
pub fn pbkdf2(
    lp: &mut EventLoop,
    password: impl AsRef<[u8]>,
    salt: impl AsRef<[u8]>,
    iterations: u32,
    key_len: usize,
    callback: impl FnOnce(&mut EventLoop, io::Result<Vec<u8>>) + 'static,
) {
    if let Err(e) = check_args(iterations, key_len) {
        lp.next_tick(move |lp| callback(lp, Err(e)));
        return;
    }
    // The worker needs its own copies: the caller's buffers may change before it runs.
    let password = password.as_ref().to_vec();
    let salt = salt.as_ref().to_vec();
    lp.submit_work(
        WorkKind::Cpu,
        "pbkdf2",
        move || derive(&password, &salt, iterations, key_len),
        move |lp, outcome: Result<io::Result<Vec<u8>>, WorkError>| {
            callback(lp, outcome.unwrap_or_else(|e| Err(io::Error::other(e))));
        },
    );
}
// ANCHOR_END: pbkdf2

/// Node's checks (`lib/internal/crypto/pbkdf2.js` `check`), with its words.
fn check_args(iterations: u32, key_len: usize) -> io::Result<()> {
    if iterations == 0 || u64::from(iterations) > MAX_ARG {
        return Err(out_of_range("iterations", 1, iterations.into()));
    }
    let key_len = u64::try_from(key_len).unwrap_or(u64::MAX);
    if key_len > MAX_ARG {
        return Err(out_of_range("keylen", 0, key_len));
    }
    Ok(())
}

/// `ERR_OUT_OF_RANGE`, as `validateInt32` words it.
fn out_of_range(name: &str, min: u64, received: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "The value of \"{name}\" is out of range. It must be >= {min} && <= {MAX_ARG}. \
             Received {}",
            node_number(received)
        ),
    )
}

/// A number as `ERR_OUT_OF_RANGE` prints it: plain up to 2^32, with `_` between thousands
/// above (`addNumericalSeparator`), so 2147483648 stays `2147483648` but 2^33 is
/// `8_589_934_592`.
fn node_number(n: u64) -> String {
    let digits = n.to_string();
    if n <= 1 << 32 {
        return digits;
    }
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(d);
    }
    out
}

/// The CPU work, on a worker. The key buffer is reserved fallibly: a too-large `key_len` is
/// an error for the caller, not an abort of the process.
fn derive(password: &[u8], salt: &[u8], iterations: u32, key_len: usize) -> io::Result<Vec<u8>> {
    let mut key = Vec::new();
    key.try_reserve_exact(key_len).map_err(|e| {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("pbkdf2: cannot allocate a {key_len}-byte key: {e}"),
        )
    })?;
    key.resize(key_len, 0);
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut key);
    Ok(key)
}
