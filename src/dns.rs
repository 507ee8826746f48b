//! Name lookup: Node's `dns.lookup`, a host name turned into addresses by the system resolver
//! on the thread pool.
//!
//! The system resolver (`getaddrinfo`) blocks: it reads `/etc/hosts`, then may ask a DNS
//! server and wait seconds for the answer. So libuv runs it on the pool
//! (`uv_getaddrinfo`) as [slow I/O](WorkKind::SlowIo): at most `(size + 1) / 2` lookups run at
//! once, and the other threads stay free for files and hashing even while a DNS server is
//! down. The answer comes back in the poll phase, like any pool job.
//!
//! Two answers never reach the pool, as in Node's `lib/dns.js` `lookup()`:
//! - an IP literal (`"127.0.0.1"`, `"::1"`) is its own answer, delivered on the next tick;
//! - a host Node would reject before calling `getaddrinfo` is an error, delivered on the next
//!   tick too. Node answers an empty host with *no* address and a deprecation warning
//!   (DEP0118); we make it an [`InvalidInput`](io::ErrorKind::InvalidInput) error, as we do
//!   for a host containing a NUL byte (which C cannot even pass to `getaddrinfo`).
//!
//! Ticks run at the next checkpoint: after the callback (or the
//! [`run_main`](EventLoop::run_main) script) that called `lookup`, or, for a call made before
//! [`run`](EventLoop::run), when `run` starts.
//!
//! ```
//! use eventloop::{dns, event_loop::EventLoop};
//!
//! let mut lp = EventLoop::new();
//! lp.run_main(|lp| {
//!     dns::lookup(lp, "localhost", |_, address| {
//!         let address = address.expect("localhost resolves");
//!         assert!(address.is_loopback()); // 127.0.0.1 or ::1, as the system says
//!     });
//! })
//! .expect("nothing panicked");
//! ```

use std::fmt;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};

use crate::event_loop::EventLoop;
use crate::threadpool::{WorkError, WorkKind};

/// Why `getaddrinfo` found no address, in Node's shape: `getaddrinfo ENOTFOUND example.invalid`.
///
/// It travels inside the [`io::Error`] a lookup fails with; reach it with
/// `err.get_ref().and_then(|e| e.downcast_ref::<LookupError>())`.
///
/// A name the resolver does not know (not run here: the answer for a `.invalid` name may
/// need a DNS server):
///
/// ```no_run
/// use eventloop::dns::LookupError;
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// dns::lookup(&mut lp, "example.invalid", |_, addr| {
///     let err = addr.unwrap_err();
///     let lookup = err.get_ref().and_then(|e| e.downcast_ref::<LookupError>()).unwrap();
///     assert_eq!(lookup.code, Some("ENOTFOUND"));
///     assert_eq!(err.to_string(), "getaddrinfo ENOTFOUND example.invalid");
/// });
/// lp.run(RunMode::Default);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError {
    /// Node's `err.code`: `ENOTFOUND` (no such name, or no address for it), `EAI_AGAIN` (the
    /// DNS server did not answer: try again), `EAI_FAIL` (it answered with a failure), or
    /// `None` when the resolver's message is one we do not know.
    pub code: Option<&'static str>,
    /// Node's `err.hostname`: the name that was looked up.
    pub hostname: String,
    /// The resolver's own words (from `gai_strerror`, through std).
    pub detail: String,
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "getaddrinfo {code} {}", self.hostname),
            None => write!(f, "getaddrinfo {}: {}", self.hostname, self.detail),
        }
    }
}

impl std::error::Error for LookupError {}

impl LookupError {
    /// The error Node reports when the resolver found nothing.
    fn not_found(hostname: &str, detail: impl Into<String>) -> io::Error {
        io::Error::new(
            io::ErrorKind::NotFound,
            LookupError {
                code: Some("ENOTFOUND"),
                hostname: hostname.to_string(),
                detail: detail.into(),
            },
        )
    }
}

// ANCHOR: lookup
/// Resolves `host` to its first address and calls `callback` with it (`dns.lookup(host, cb)`).
///
/// The first address is the first the system resolver gives, in its own order (Node ≥ 17's
/// `verbatim: true`): `localhost` may be `127.0.0.1` or `::1`.
///
/// # Errors
/// Through the callback: [`InvalidInput`](io::ErrorKind::InvalidInput) for an empty host or
/// one containing a NUL byte (on the next tick); a [`LookupError`] such as
/// `getaddrinfo ENOTFOUND <host>` (kind [`NotFound`](io::ErrorKind::NotFound)) when the
/// resolver finds nothing.
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// dns::lookup(&mut lp, "localhost", |_, addr| assert!(addr.unwrap().is_loopback()));
/// dns::lookup(&mut lp, "", |_, addr| assert!(addr.is_err())); // InvalidInput, on the next tick
/// lp.run(RunMode::Default); // the lookup ran on the thread pool
/// ```
pub fn lookup(
    lp: &mut EventLoop,
    host: &str,
    callback: impl FnOnce(&mut EventLoop, io::Result<IpAddr>) + 'static,
) {
    let name = host.to_string();
    lookup_all(lp, host, move |lp, addresses| {
        // `lookup_all` turns an empty answer into ENOTFOUND already; this is belt and braces.
        let first = addresses.and_then(|all| {
            all.first()
                .copied()
                .ok_or_else(|| LookupError::not_found(&name, "the resolver returned no address"))
        });
        callback(lp, first);
    });
}
// ANCHOR_END: lookup

/// Resolves `host` to every address the system resolver gives, in its order
/// (`dns.lookup(host, { all: true }, cb)`). Never an empty list: no address is an error.
///
/// # Errors
/// As [`lookup`].
///
/// ```
/// use eventloop::prelude::*;
///
/// let mut lp = EventLoop::new();
/// dns::lookup_all(&mut lp, "127.0.0.1", |_, all| {
///     assert_eq!(all.unwrap(), ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
/// });
/// lp.run(RunMode::Default);
/// ```
// ANCHOR: lookup_all
pub fn lookup_all(
    lp: &mut EventLoop,
    host: &str,
    callback: impl FnOnce(&mut EventLoop, io::Result<Vec<IpAddr>>) + 'static,
) {
    if let Err(e) = check_host(host) {
        lp.next_tick(move |lp| callback(lp, Err(e)));
        return;
    }
    if let Ok(address) = host.parse::<IpAddr>() {
        // Node's `isIP` shortcut: nothing to resolve, so nothing for the pool to do.
        lp.next_tick(move |lp| callback(lp, Ok(vec![address])));
        return;
    }
    let host = host.to_string();
    lp.submit_work(
        WorkKind::SlowIo,
        "getaddrinfo",
        move || resolve(&host),
        move |lp, outcome: Result<io::Result<Vec<IpAddr>>, WorkError>| {
            let addresses = outcome.unwrap_or_else(|e| Err(io::Error::other(e)));
            callback(lp, addresses);
        },
    );
}
// ANCHOR_END: lookup_all

/// What Node checks before it calls `getaddrinfo`, and what C cannot pass to it.
pub(crate) fn check_host(host: &str) -> io::Result<()> {
    if host.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "dns.lookup: the hostname is empty",
        ));
    }
    if host.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("dns.lookup: the hostname {host:?} contains a NUL byte"),
        ));
    }
    Ok(())
}

// ANCHOR: resolve
/// The blocking part, on a worker: the system resolver through std (`getaddrinfo` on unix,
/// `GetAddrInfoW` on Windows), one address per entry it returns (port 0 is a placeholder).
pub(crate) fn resolve(host: &str) -> io::Result<Vec<IpAddr>> {
    let addresses: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| resolver_error(host, &e))?
        .map(|socket| socket.ip())
        .collect();
    if addresses.is_empty() {
        return Err(LookupError::not_found(
            host,
            "the resolver returned no address",
        ));
    }
    Ok(addresses)
}
// ANCHOR_END: resolve

/// Turns std's resolver error into Node's shape. std keeps only `gai_strerror`'s text, so we
/// read the code back from it (glibc, musl and macOS wordings), as Node maps `EAI_NONAME` and
/// `EAI_NODATA` both to `ENOTFOUND` (`lib/internal/errors.js` `dnsException`).
fn resolver_error(host: &str, error: &io::Error) -> io::Error {
    let detail = error.to_string();
    let text = detail.to_ascii_lowercase();
    let (code, kind) = if [
        "name or service not known",
        "no address associated",
        "nodename nor servname",
        "name does not resolve",
        "no such host",
    ]
    .iter()
    .any(|t| text.contains(t))
    {
        (Some("ENOTFOUND"), io::ErrorKind::NotFound)
    } else if text.contains("temporary failure") || text.contains("try again") {
        (Some("EAI_AGAIN"), io::ErrorKind::TimedOut)
    } else if text.contains("non-recoverable") {
        (Some("EAI_FAIL"), io::ErrorKind::Other)
    } else {
        (None, error.kind())
    };
    io::Error::new(
        kind,
        LookupError {
            code,
            hostname: host.to_string(),
            detail,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(message: &str) -> (Option<&'static str>, io::ErrorKind, String) {
        let e = resolver_error("example.invalid", &io::Error::other(message));
        let kind = e.kind();
        let text = e.to_string();
        let inner = e
            .into_inner()
            .and_then(|e| e.downcast::<LookupError>().ok())
            .expect("a LookupError inside");
        (inner.code, kind, text)
    }

    #[test]
    fn resolver_messages_become_node_codes() {
        let (code, kind, text) =
            code_of("failed to lookup address information: Name or service not known");
        assert_eq!(code, Some("ENOTFOUND"));
        assert_eq!(kind, io::ErrorKind::NotFound);
        assert_eq!(text, "getaddrinfo ENOTFOUND example.invalid");
        let (code, ..) = code_of("nodename nor servname provided, or not known");
        assert_eq!(code, Some("ENOTFOUND"));
        let (code, kind, _) = code_of("Temporary failure in name resolution");
        assert_eq!((code, kind), (Some("EAI_AGAIN"), io::ErrorKind::TimedOut));
        let (code, _, text) = code_of("something new");
        assert_eq!(code, None);
        assert_eq!(text, "getaddrinfo example.invalid: something new");
    }
}
