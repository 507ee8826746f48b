//! The file system on the thread pool: every call's success and failure, Node-shaped error
//! messages naming the path, one callback per call, and completions delivered one poll phase
//! at a time with a checkpoint after each.
//!
//! Each test works in a fresh directory under the system temp dir, removed at the end.

use std::cell::{Cell, RefCell};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use eventloop::event_loop::EventLoop;
use eventloop::fs::{self, FileHandle, FsError, RmOptions};
use eventloop::promise::Promise;
use eventloop::threadpool::ThreadPool;
use eventloop::trace::TraceEvent;

/// A fresh directory, removed (with everything in it) on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("eventloop-fs-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("the temp dir is writable");
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A file holding `text`.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, text).expect("the temp dir is writable");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loop with a pool of its own, so that parallel tests never share a queue.
fn new_loop(threads: usize) -> EventLoop {
    EventLoop::builder()
        .thread_pool(ThreadPool::with_size(threads))
        .build()
        .expect("default stack limit")
}

type Cb<T> = Box<dyn FnOnce(&mut EventLoop, io::Result<T>)>;

/// Waits until the pool has finished `jobs` jobs. Fails, with what killed them, if its
/// workers are gone (an unfinished thread-pool exercise), and after a minute at most.
fn wait_for_finished(pool: &ThreadPool, jobs: u64) {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while pool.finished() < jobs {
        assert!(
            pool.workers_alive() > 0,
            "the pool's workers died before finishing {jobs} jobs: {}",
            pool.broken().unwrap_or_default()
        );
        assert!(
            std::time::Instant::now() < give_up,
            "the pool finished {} of {jobs} jobs in a minute",
            pool.finished()
        );
        std::thread::yield_now();
    }
}

/// Makes one fs call on a fresh loop, runs the loop to its end, and returns what the
/// callback got — checking that it ran exactly once and that no request is left.
fn call<T: 'static>(start: impl FnOnce(&mut EventLoop, Cb<T>)) -> io::Result<T> {
    let got = Rc::new(RefCell::new(Vec::new()));
    let mut lp = new_loop(2);
    let g = got.clone();
    lp.run_main(|lp| start(lp, Box::new(move |_, result| g.borrow_mut().push(result))))
        .expect("no callback panicked");
    assert_eq!(lp.active_requests(), 0, "a request leaked");
    assert_eq!(lp.work_in_flight(), 0);
    let mut got = got.take();
    assert_eq!(got.len(), 1, "the callback runs exactly once");
    got.pop().expect("one result")
}

/// Checks an error's kind, Node-shaped message, and parts.
#[track_caller]
fn assert_fs_error(err: &io::Error, kind: io::ErrorKind, code: &str, message: String) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.to_string(), message);
    let fs = FsError::of(err).expect("an FsError inside");
    assert_eq!(fs.code(), code);
    let source = std::error::Error::source(fs).expect("the OS error is the source");
    assert!(source.downcast_ref::<io::Error>().is_some());
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn read_file_reads_and_names_the_missing_path() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "hello");
    let p = path.clone();
    assert_eq!(call(|lp, cb| fs::read_file(lp, p, cb)).unwrap(), b"hello");

    let missing = dir.join("missing.txt");
    let m = missing.clone();
    let err = call(|lp, cb| fs::read_file(lp, m, cb)).unwrap_err();
    let message = format!(
        "ENOENT: no such file or directory, open '{}'",
        show(&missing)
    );
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
    let fs = FsError::of(&err).unwrap();
    assert_eq!(
        (fs.syscall(), fs.path(), fs.dest()),
        ("open", Some(&*missing), None)
    );
    assert_eq!(fs.raw_os_error(), Some(2));

    let d = dir.0.clone();
    let err = call(|lp, cb| fs::read_file(lp, d, cb)).unwrap_err();
    let message = format!(
        "EISDIR: illegal operation on a directory, read '{}'",
        show(&dir.0)
    );
    assert_fs_error(&err, io::ErrorKind::IsADirectory, "EISDIR", message);
}

#[test]
fn write_file_and_append_file_create_replace_and_append() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "old contents");
    let p = path.clone();
    call(|lp, cb| fs::write_file(lp, p, "new", cb)).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    for text in [" and", " more"] {
        let p = path.clone();
        call(|lp, cb| fs::append_file(lp, p, text, cb)).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new and more");
    let fresh = dir.join("fresh.txt");
    let p = fresh.clone();
    call(|lp, cb| fs::append_file(lp, p, vec![1u8, 2], cb)).unwrap();
    assert_eq!(std::fs::read(&fresh).unwrap(), [1, 2]);

    let nowhere = dir.join("no-dir/a.txt");
    let message = format!(
        "ENOENT: no such file or directory, open '{}'",
        show(&nowhere)
    );
    let n = nowhere.clone();
    let err = call(|lp, cb| fs::write_file(lp, n, "x", cb)).unwrap_err();
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message.clone());
    let n = nowhere.clone();
    let err = call(|lp, cb| fs::append_file(lp, n, "x", cb)).unwrap_err();
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
}

#[test]
fn stat_reports_metadata_or_the_missing_path() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "12345");
    let meta = call(|lp, cb| fs::stat(lp, path, cb)).unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len(), 5);

    let missing = dir.join("missing");
    let m = missing.clone();
    let err = call(|lp, cb| fs::stat(lp, m, cb)).unwrap_err();
    let message = format!(
        "ENOENT: no such file or directory, stat '{}'",
        show(&missing)
    );
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
}

#[test]
fn read_dir_sorts_names_by_bytes_as_libuv_scandir() {
    let dir = TempDir::new();
    for name in ["b", "B", "a", "_", "1", ".hidden", "é"] {
        dir.file(name, "");
    }
    std::fs::create_dir(dir.join("sub")).unwrap();
    let d = dir.0.clone();
    let names = call(|lp, cb| fs::read_dir(lp, d, cb)).unwrap();
    assert_eq!(names, [".hidden", "1", "B", "_", "a", "b", "sub", "é"]);

    let file = dir.join("a");
    let f = file.clone();
    let err = call(|lp, cb| fs::read_dir(lp, f, cb)).unwrap_err();
    let message = format!("ENOTDIR: not a directory, scandir '{}'", show(&file));
    assert_fs_error(&err, io::ErrorKind::NotADirectory, "ENOTDIR", message);

    let missing = dir.join("missing");
    let m = missing.clone();
    let err = call(|lp, cb| fs::read_dir(lp, m, cb)).unwrap_err();
    let message = format!(
        "ENOENT: no such file or directory, scandir '{}'",
        show(&missing)
    );
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
}

#[test]
fn mkdir_with_and_without_recursive() {
    let dir = TempDir::new();
    let new = dir.join("new");
    let n = new.clone();
    call(|lp, cb| fs::mkdir(lp, n, false, cb)).unwrap();
    assert!(new.is_dir());

    let n = new.clone();
    let err = call(|lp, cb| fs::mkdir(lp, n, false, cb)).unwrap_err();
    let message = format!("EEXIST: file already exists, mkdir '{}'", show(&new));
    assert_fs_error(&err, io::ErrorKind::AlreadyExists, "EEXIST", message);
    let n = new.clone();
    call(|lp, cb| fs::mkdir(lp, n, true, cb)).expect("recursive: an existing dir is fine");

    let deep = dir.join("x/y/z");
    let d = deep.clone();
    let err = call(|lp, cb| fs::mkdir(lp, d, false, cb)).unwrap_err();
    let message = format!("ENOENT: no such file or directory, mkdir '{}'", show(&deep));
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
    let d = deep.clone();
    call(|lp, cb| fs::mkdir(lp, d, true, cb)).unwrap();
    assert!(deep.is_dir());

    let under_file = dir.file("f", "").join("sub");
    let u = under_file.clone();
    let err = call(|lp, cb| fs::mkdir(lp, u, true, cb)).unwrap_err();
    let message = format!("ENOTDIR: not a directory, mkdir '{}'", show(&under_file));
    assert_fs_error(&err, io::ErrorKind::NotADirectory, "ENOTDIR", message);
}

#[test]
fn rm_and_unlink() {
    let dir = TempDir::new();
    let file = dir.file("a.txt", "");
    let f = file.clone();
    call(|lp, cb| fs::rm(lp, f, RmOptions::default(), cb)).unwrap();
    assert!(!file.exists());

    let f = file.clone();
    let err = call(|lp, cb| fs::rm(lp, f, RmOptions::default(), cb)).unwrap_err();
    let message = format!("ENOENT: no such file or directory, lstat '{}'", show(&file));
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
    let force = RmOptions {
        force: true,
        ..RmOptions::default()
    };
    let f = file.clone();
    call(|lp, cb| fs::rm(lp, f, force, cb)).expect("force: a missing path is fine");

    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("inner")).unwrap();
    std::fs::write(tree.join("inner/leaf"), "x").unwrap();
    let t = tree.clone();
    let err = call(|lp, cb| fs::rm(lp, t, RmOptions::default(), cb)).unwrap_err();
    let message = format!(
        "EISDIR: illegal operation on a directory, rm '{}'",
        show(&tree)
    );
    assert_fs_error(&err, io::ErrorKind::IsADirectory, "EISDIR", message);
    let recursive = RmOptions {
        recursive: true,
        ..RmOptions::default()
    };
    let t = tree.clone();
    call(|lp, cb| fs::rm(lp, t, recursive, cb)).unwrap();
    assert!(!tree.exists());

    let file = dir.file("b.txt", "");
    let f = file.clone();
    call(|lp, cb| fs::unlink(lp, f, cb)).unwrap();
    let f = file.clone();
    let err = call(|lp, cb| fs::unlink(lp, f, cb)).unwrap_err();
    let message = format!(
        "ENOENT: no such file or directory, unlink '{}'",
        show(&file)
    );
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
}

#[test]
fn rename_and_copy_file_name_both_paths() {
    let dir = TempDir::new();
    let (a, b) = (dir.file("a.txt", "A"), dir.join("b.txt"));
    let (x, y) = (a.clone(), b.clone());
    call(|lp, cb| fs::rename(lp, x, y, cb)).unwrap();
    assert!(!a.exists());
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "A");

    let onto = dir.join("no-dir/b.txt");
    let (x, y) = (b.clone(), onto.clone());
    let err = call(|lp, cb| fs::rename(lp, x, y, cb)).unwrap_err();
    let message = format!(
        "ENOENT: no such file or directory, rename '{}' -> '{}'",
        show(&b),
        show(&onto)
    );
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
    assert_eq!(FsError::of(&err).unwrap().dest(), Some(&*onto));

    let copy = dir.join("copy.txt");
    let (x, y) = (b.clone(), copy.clone());
    call(|lp, cb| fs::copy_file(lp, x, y, cb)).unwrap();
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "A");
    let (x, y) = (a.clone(), copy.clone());
    let err = call(|lp, cb| fs::copy_file(lp, x, y, cb)).unwrap_err();
    let message = format!(
        "ENOENT: no such file or directory, copyfile '{}' -> '{}'",
        show(&a),
        show(&copy)
    );
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
}

fn open_(path: &Path, flags: &'static str) -> io::Result<FileHandle> {
    let path = path.to_path_buf();
    call(move |lp, cb| fs::open(lp, path, flags, cb))
}

fn read_(handle: &FileHandle, len: usize, at: Option<u64>) -> io::Result<Vec<u8>> {
    call(|lp, cb| fs::read(lp, handle, len, at, cb))
}

fn write_(handle: &FileHandle, data: &str, at: Option<u64>) -> io::Result<usize> {
    let data = data.to_string();
    call(|lp, cb| fs::write(lp, handle, data, at, cb))
}

fn close_(handle: &FileHandle) -> io::Result<()> {
    let handle = handle.clone();
    call(|lp, cb| fs::close(lp, handle, cb))
}

#[test]
fn open_follows_nodes_flag_strings() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "0123456789");

    let r = open_(&path, "r").unwrap();
    assert_eq!(r.path(), path);
    assert_eq!(read_(&r, 4, None).unwrap(), b"0123");
    assert_eq!(read_(&r, 4, None).unwrap(), b"4567", "the position moved");
    assert_eq!(read_(&r, 3, Some(1)).unwrap(), b"123");
    assert_eq!(
        read_(&r, 100, Some(8)).unwrap(),
        b"89",
        "a short read is no error"
    );
    assert_eq!(read_(&r, 4, Some(50)).unwrap(), b"", "end of file");
    close_(&r).unwrap();

    let rw = open_(&path, "r+").unwrap();
    assert_eq!(write_(&rw, "ab", Some(2)).unwrap(), 2);
    assert_eq!(read_(&rw, 10, Some(0)).unwrap(), b"01ab456789");
    close_(&rw).unwrap();

    let a = open_(&path, "a").unwrap();
    write_(&a, "!", None).unwrap();
    close_(&a).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "01ab456789!");

    let w = open_(&path, "w").unwrap();
    close_(&w).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "w truncates");

    let err = open_(&path, "wx").unwrap_err();
    let message = format!("EEXIST: file already exists, open '{}'", show(&path));
    assert_fs_error(&err, io::ErrorKind::AlreadyExists, "EEXIST", message);
    let fresh = dir.join("fresh.txt");
    let wx = open_(&fresh, "wx+").unwrap();
    write_(&wx, "new", None).unwrap();
    assert_eq!(read_(&wx, 3, Some(0)).unwrap(), b"new");
    close_(&wx).unwrap();

    let missing = dir.join("missing.txt");
    let err = open_(&missing, "r").unwrap_err();
    let message = format!(
        "ENOENT: no such file or directory, open '{}'",
        show(&missing)
    );
    assert_fs_error(&err, io::ErrorKind::NotFound, "ENOENT", message);
}

#[test]
fn a_bad_flag_string_is_an_error_through_the_callback() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "");
    for flags in ["rw", "R", "", "x", "ws", "r++"] {
        let err = open_(&path, flags).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert_eq!(
            err.to_string(),
            format!("The argument 'flags' is invalid. Received '{flags}'")
        );
    }
}

#[test]
fn writing_to_a_read_only_handle_is_ebadf() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "x");
    let r = open_(&path, "r").unwrap();
    let err = write_(&r, "y", None).unwrap_err();
    assert_eq!(err.to_string(), "EBADF: bad file descriptor, write");
    assert_eq!(FsError::of(&err).unwrap().code(), "EBADF");
    close_(&r).unwrap();
    let w = open_(&path, "w").unwrap();
    let err = read_(&w, 1, None).unwrap_err();
    assert_eq!(err.to_string(), "EBADF: bad file descriptor, read");
    close_(&w).unwrap();
}

#[test]
fn a_closed_handle_is_ebadf_for_every_call() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "x");
    let handle = open_(&path, "r+").unwrap();
    let clone = handle.clone();
    close_(&handle).unwrap();
    assert!(clone.is_closed(), "closing closes every clone");
    let err = read_(&clone, 1, None).unwrap_err();
    assert_eq!(err.to_string(), "EBADF: bad file descriptor, read");
    let err = write_(&clone, "y", Some(0)).unwrap_err();
    assert_eq!(err.to_string(), "EBADF: bad file descriptor, write");
    let err = close_(&clone).unwrap_err();
    assert_eq!(err.to_string(), "EBADF: bad file descriptor, close");
    assert_eq!(FsError::of(&err).unwrap().code(), "EBADF");
}

#[test]
fn a_read_submitted_before_close_still_reads() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "abc");
    let handle = open_(&path, "r").unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut lp = new_loop(1);
    let (l1, l2) = (log.clone(), log.clone());
    lp.run_main(|lp| {
        fs::read(lp, &handle, 3, Some(0), move |_, data| {
            l1.borrow_mut()
                .push(format!("{:?}", data.map(String::from_utf8)));
        });
        fs::close(lp, handle.clone(), move |_, closed| {
            l2.borrow_mut().push(format!("close {closed:?}"));
        });
        assert!(handle.is_closed(), "closed at once for later calls");
    })
    .unwrap();
    assert_eq!(*log.borrow(), ["Ok(Ok(\"abc\"))", "close Ok(())"]);
}

/// `fs::read` allocates what can be read, not `len`: a 10-byte file read with
/// `len = MAX_READ` used to zero-fill 2 GiB first (seconds, and the memory).
#[test]
fn a_read_allocates_what_can_be_read_not_what_was_asked_for() {
    let dir = TempDir::new();
    let small = open_(&dir.file("ten.txt", "0123456789"), "r").unwrap();
    let all = read_(&small, fs::MAX_READ, None).unwrap();
    assert_eq!(all, b"0123456789");
    assert!(all.capacity() < 1024, "a {} byte buffer", all.capacity());
    assert_eq!(
        read_(&small, fs::MAX_READ, None).unwrap(),
        b"",
        "at the end"
    );
    let tail = read_(&small, fs::MAX_READ, Some(6)).unwrap();
    assert_eq!((&tail[..], tail.capacity() < 1024), (&b"6789"[..], true));
    assert_eq!(read_(&small, fs::MAX_READ, Some(50)).unwrap(), b"");
    close_(&small).unwrap();

    // Larger than one chunk, from a position and from the current one.
    let text: String = (0..200_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let big = open_(&dir.file("big.txt", &text), "r").unwrap();
    assert_eq!(read_(&big, 1000, None).unwrap(), &text.as_bytes()[..1000]);
    let rest = read_(&big, fs::MAX_READ, None).unwrap();
    assert_eq!(rest, &text.as_bytes()[1000..]);
    assert!(rest.capacity() < 2 * text.len(), "{}", rest.capacity());
    let middle = read_(&big, 150_000, Some(20_000)).unwrap();
    assert_eq!(
        middle,
        &text.as_bytes()[20_000..170_000],
        "len still bounds it"
    );
    close_(&big).unwrap();

    // A write-only handle is still EBADF, past the size checks.
    let w = open_(&dir.join("ten.txt"), "a").unwrap();
    let err = read_(&w, fs::MAX_READ, None).unwrap_err();
    assert_eq!(err.to_string(), "EBADF: bad file descriptor, read");
    close_(&w).unwrap();
}

/// Files whose size says nothing: `/proc` reports 0 for files full of text, and a device
/// has no size at all.
#[cfg(target_os = "linux")]
#[test]
fn a_large_read_of_a_file_without_a_size_still_reads() {
    let status = open_(Path::new("/proc/self/status"), "r").unwrap();
    let text = String::from_utf8(read_(&status, fs::MAX_READ, None).unwrap()).unwrap();
    assert!(text.starts_with("Name:") && text.ends_with('\n'), "{text}");
    assert_eq!(
        read_(&status, fs::MAX_READ, None).unwrap(),
        b"",
        "read to its end"
    );
    close_(&status).unwrap();

    let zero = open_(Path::new("/dev/zero"), "r").unwrap();
    assert_eq!(read_(&zero, 1000, None).unwrap(), [0; 1000]);
    let some = read_(&zero, fs::MAX_READ, None).unwrap();
    assert!(
        !some.is_empty() && some.len() <= 64 * 1024,
        "{}",
        some.len()
    );
    assert!(some.iter().all(|&b| b == 0));
    close_(&zero).unwrap();
}

#[test]
fn a_huge_read_length_is_an_error_not_a_panic() {
    let dir = TempDir::new();
    let handle = open_(&dir.file("a.txt", "x"), "r").unwrap();
    let err = read_(&handle, fs::MAX_READ + 1, None).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("out of range"), "{err}");
    close_(&handle).unwrap();
}

/// Many calls in one loop, half failing: each callback runs once, and the loop ends with
/// nothing in flight.
#[test]
fn every_callback_runs_once_and_the_loop_ends() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "x");
    let calls = Rc::new(Cell::new(0));
    let mut lp = new_loop(4);
    let missing = dir.join("missing");
    lp.run_main(|lp| {
        for _ in 0..50 {
            let c = calls.clone();
            fs::read_file(lp, &path, move |_, r| {
                assert!(r.is_ok(), "{r:?}");
                c.set(c.get() + 1);
            });
            let c = calls.clone();
            fs::stat(lp, &missing, move |_, r| {
                assert!(r.is_err());
                c.set(c.get() + 1);
            });
            let c = calls.clone();
            fs::open(lp, &path, "nope", move |_, r| {
                assert!(r.is_err());
                c.set(c.get() + 1);
            });
        }
        assert_eq!(
            lp.active_requests(),
            150,
            "every call is a request in flight"
        );
    })
    .unwrap();
    assert_eq!(calls.get(), 150);
    assert_eq!(lp.active_requests(), 0);
    assert_eq!(lp.work_in_flight(), 0);
}

/// With one thread, jobs finish in submission order; when all have finished before the loop
/// looks, one poll phase runs every callback, each followed by its ticks and microtasks, and
/// the immediates they queue wait for the check phase (Node puzzles p23, c07).
#[test]
fn completions_in_one_poll_phase_run_in_order_with_a_checkpoint_after_each() {
    let dir = TempDir::new();
    let path = dir.file("a.txt", "x");
    let log = Rc::new(RefCell::new(Vec::<String>::new()));
    let mut lp = new_loop(1);
    lp.enable_trace();
    lp.run_main(|lp| {
        for name in ["A", "B", "C"] {
            let log = log.clone();
            fs::stat(lp, &path, move |lp, meta| {
                meta.expect("exists");
                log.borrow_mut().push(format!("stat {name}"));
                let l = log.clone();
                lp.set_immediate(move |_| l.borrow_mut().push(format!("immediate {name}")));
                let l = log.clone();
                Promise::resolved(()).then(lp, move |_, ()| {
                    l.borrow_mut().push(format!("promise {name}"))
                });
                let l = log.clone();
                lp.next_tick(move |_| l.borrow_mut().push(format!("tick {name}")));
            });
        }
        // The pool works; the loop has not looked yet.
        wait_for_finished(lp.thread_pool(), 3);
    })
    .unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "stat A",
            "tick A",
            "promise A",
            "stat B",
            "tick B",
            "promise B",
            "stat C",
            "tick C",
            "promise C",
            "immediate A",
            "immediate B",
            "immediate C",
        ]
    );
    let done: Vec<_> = lp
        .take_trace()
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::WorkDone(_)))
        .collect();
    assert_eq!(
        done,
        [TraceEvent::WorkDone(3)],
        "one poll phase took all three"
    );
}

/// Our errno table says what Node says (`util.getSystemErrorMap()`), when Node is here.
#[cfg(unix)]
#[test]
fn error_names_match_nodes() {
    let script = "for (const [n, [c, d]] of require('util').getSystemErrorMap()) \
                  console.log(`${-n} ${c} ${d}`)";
    let Ok(out) = Command::new("node").args(["-e", script]).output() else {
        eprintln!("node is not installed: skipping");
        return;
    };
    let node: Vec<(i32, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (n, rest) = line.split_once(' ')?;
            Some((n.parse().ok()?, rest.to_string()))
        })
        .collect();
    let mut checked = 0;
    for (errno, text) in node {
        if let Some((code, description)) = fs::errno_name(errno) {
            assert_eq!(format!("{code} {description}"), text, "errno {errno}");
            checked += 1;
        }
    }
    assert!(checked >= 25, "only {checked} codes checked");
}

/// A path the OS cannot take (a NUL byte inside) is an error in the callback, not a panic.
#[test]
fn a_path_with_a_nul_byte_is_an_error() {
    let err = call(|lp, cb| fs::read_file(lp, "bad\0name", cb)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(
        err.to_string()
            .starts_with("EINVAL: invalid argument, open 'bad"),
        "{err}"
    );
}

/// Files that report size 0 (procfs) are read to their end, not taken as empty.
#[cfg(target_os = "linux")]
#[test]
fn read_file_reads_a_file_whose_size_is_unknown() {
    let status = call(|lp, cb| fs::read_file(lp, "/proc/self/status", cb)).unwrap();
    assert!(String::from_utf8_lossy(&status).contains("Name:"));
}
