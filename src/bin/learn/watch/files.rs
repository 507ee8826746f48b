//! Noticing saves: a thread that looks at the exercise folder a few times a second.
//!
//! An OS file watcher (inotify, kqueue, ReadDirectoryChanges) would tell us at once, but the
//! crate that wraps all three (`notify`, with `inotify`, `walkdir` and their dependencies) was
//! a tenth of the console's cold build (issue 11: time to a learner's first feedback). Watch
//! mode needs far less: one folder, not its subfolders, and a few dozen small files. So a
//! thread lists the folder every [`POLL`] and compares each file's modification time and
//! length with the last listing: a save shows up within [`POLL`], and the debounce that
//! follows it (an editor's save-as-rename is several changes) is longer than that anyway.
//! Reading a folder of fifteen entries four times a second costs nothing anyone can see.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread;
use std::time::{Duration, SystemTime};

use super::input::Event;

/// How often the folder is listed.
pub const POLL: Duration = Duration::from_millis(250);

/// What a listing remembers of one file: when it was last written, and its length (a save
/// within the file system's timestamp granularity still changes one or the other, unless it
/// writes the same number of bytes in the same tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

/// The files of one folder (not its subfolders), by path.
pub type Listing = BTreeMap<PathBuf, Stamp>;

/// Lists the files directly in `dir`.
///
/// # Errors
/// When `dir` cannot be read. A file that vanishes between the listing and its metadata is
/// left out (it was removed: the next comparison says so).
pub fn list(dir: &Path) -> io::Result<Listing> {
    let mut listing = Listing::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_file() {
            let stamp = Stamp {
                modified: meta.modified().ok(),
                len: meta.len(),
            };
            listing.insert(entry.path(), stamp);
        }
    }
    Ok(listing)
}

/// The files written, created or removed between two listings, in path order.
pub fn changes(before: &Listing, after: &Listing) -> Vec<PathBuf> {
    let written_or_created = after
        .iter()
        .filter(|(path, stamp)| before.get(*path) != Some(stamp));
    let removed = before.iter().filter(|(path, _)| !after.contains_key(*path));
    let mut paths: Vec<PathBuf> = written_or_created
        .chain(removed)
        .map(|(path, _)| path.clone())
        .collect();
    paths.sort();
    paths
}

/// The watching thread, stopped when this is dropped.
pub struct FileWatcher {
    stop: Arc<AtomicBool>,
}

impl Drop for FileWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Watches `dir` (not its subfolders) and sends an [`Event::Saved`] for every file written,
/// created or removed, and an [`Event::WatchFailed`] when the folder cannot be read (once,
/// until it can be again).
///
/// # Errors
/// When `dir` cannot be read at the start.
pub fn watch_files(dir: &Path, tx: Sender<Event>) -> io::Result<FileWatcher> {
    let mut last = list(dir)?;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = FileWatcher { stop: stop.clone() };
    let dir = dir.to_path_buf();
    thread::Builder::new()
        .name("learn-watch-files".into())
        .spawn(move || {
            let mut failing = false;
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(POLL);
                let sent = match list(&dir) {
                    Ok(now) => {
                        failing = false;
                        let sent = changes(&last, &now)
                            .into_iter()
                            .all(|path| tx.send(Event::Saved(path)).is_ok());
                        last = now;
                        sent
                    }
                    Err(_) if failing => true,
                    Err(e) => {
                        failing = true;
                        tx.send(Event::WatchFailed(format!("{}: {e}", dir.display())))
                            .is_ok()
                    }
                };
                if !sent {
                    return; // watch mode has ended
                }
            }
        })?;
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::UNIX_EPOCH;

    fn stamp(secs: u64, len: u64) -> Stamp {
        Stamp {
            modified: Some(UNIX_EPOCH + Duration::from_secs(secs)),
            len,
        }
    }

    fn listing(files: &[(&str, Stamp)]) -> Listing {
        files
            .iter()
            .map(|(name, stamp)| (PathBuf::from(name), *stamp))
            .collect()
    }

    #[test]
    fn a_write_a_new_file_and_a_removal_are_changes_and_nothing_else_is() {
        let before = listing(&[("heap.rs", stamp(1, 10)), ("queue.rs", stamp(1, 10))]);
        assert!(changes(&before, &before.clone()).is_empty());
        let later = listing(&[("heap.rs", stamp(2, 10)), ("queue.rs", stamp(1, 10))]);
        assert_eq!(changes(&before, &later), [PathBuf::from("heap.rs")]);
        let longer = listing(&[("heap.rs", stamp(1, 11)), ("queue.rs", stamp(1, 10))]);
        assert_eq!(changes(&before, &longer), [PathBuf::from("heap.rs")]);
        let created = listing(&[
            ("heap.rs", stamp(1, 10)),
            ("queue.rs", stamp(1, 10)),
            ("stack.rs", stamp(1, 3)),
        ]);
        assert_eq!(changes(&before, &created), [PathBuf::from("stack.rs")]);
        let removed = listing(&[("queue.rs", stamp(1, 10))]);
        assert_eq!(changes(&before, &removed), [PathBuf::from("heap.rs")]);
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("learn-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("sub")).unwrap();
        dir
    }

    #[test]
    fn a_listing_holds_the_folders_files_not_its_subfolders() {
        let dir = scratch_dir("list");
        fs::write(dir.join("heap.rs"), "fn main() {}").unwrap();
        fs::write(dir.join("sub/deep.rs"), "").unwrap();
        let before = list(&dir).unwrap();
        assert_eq!(before.keys().collect::<Vec<_>>(), [&dir.join("heap.rs")]);
        fs::write(dir.join("heap.rs"), "fn main() { todo!() }").unwrap();
        assert_eq!(
            changes(&before, &list(&dir).unwrap()),
            [dir.join("heap.rs")]
        );
        fs::remove_dir_all(&dir).unwrap();
        assert!(list(&dir).is_err(), "a missing folder is an error");
    }

    #[test]
    fn the_thread_reports_a_save_and_a_missing_folder() {
        let dir = scratch_dir("thread");
        assert!(watch_files(&dir.join("none"), mpsc::channel().0).is_err());
        let (tx, rx) = mpsc::channel();
        let watcher = watch_files(&dir, tx).unwrap();
        fs::write(dir.join("stack.rs"), "saved").unwrap();
        // Bounded: the thread lists the folder every POLL.
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Event::Saved(path)) => assert_eq!(path, dir.join("stack.rs")),
            _ => panic!("no save reported within 10 s"),
        }
        fs::remove_dir_all(&dir).unwrap();
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Event::WatchFailed(why)) => assert!(why.contains("learn-files-thread"), "{why}"),
            _ => panic!("no failure reported within 10 s"),
        }
        drop(watcher);
        // Stopped: nothing more after the failure, and the thread drops its sender within
        // one POLL.
        assert!(
            matches!(
                rx.recv_timeout(Duration::from_secs(10)),
                Err(mpsc::RecvTimeoutError::Disconnected)
            ),
            "the watcher's thread did not end within 10 s of its drop"
        );
    }
}
