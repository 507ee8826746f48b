//! Chapter 12, watching the loop: the trace format (every event through a round trip, the
//! header, versions, broken input), the three ways to switch tracing on, what a real run
//! records, and the book's recorded traces (each must be what its port records today).

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::Path;
use std::rc::Rc;

use eventloop::clock::ManualClock;
use eventloop::event_loop::EventLoop;
use eventloop::trace::{
    self, EVENT_KINDS, Encoding, FORMAT_VERSION, FormatError, JSON_LINES_VERSION, JsonLines, Phase,
    Queue, QueueLengths, Recorded, Stamped, TraceEvent, TraceSink, format,
};

mod common;
#[allow(dead_code)] // the ports are written for the conformance test
mod ports;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A writer into a buffer the test keeps.
#[derive(Clone, Default)]
struct Buffer(Rc<RefCell<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn read(&self) -> Recorded {
        format::read(&self.0.borrow()[..]).expect("the loop wrote a valid trace")
    }
}

/// One event of every kind, with names that need escaping.
fn one_of_each() -> Vec<Stamped> {
    let lengths = QueueLengths {
        timers: 1,
        immediates: 2,
        ticks: 3,
        microtasks: 4,
        pending: 5,
        closing: 6,
        pool: 7,
    };
    [
        TraceEvent::Phase(Phase::Timers),
        TraceEvent::PhaseEnd(Phase::Closing),
        TraceEvent::Queues(lengths),
        TraceEvent::Queued {
            queue: Queue::Timers,
            name: "setTimeout",
            id: Some(1),
            by: Some("main"),
        },
        TraceEvent::Queued {
            queue: Queue::Ticks,
            name: "nextTick",
            id: None,
            by: None,
        },
        TraceEvent::Unqueued {
            queue: Queue::Immediates,
            id: Some(2),
        },
        TraceEvent::Unqueued {
            queue: Queue::Microtasks,
            id: None,
        },
        TraceEvent::CallbackStarted("a \"quoted\" <frame>"),
        TraceEvent::CallbackFinished("a \"quoted\" <frame>"),
        TraceEvent::Drain {
            ticks: 1,
            microtasks: 2,
        },
        TraceEvent::DrainEnd,
        TraceEvent::PollWait(None),
        TraceEvent::PollWait(Some(25)),
        TraceEvent::PollWoke {
            waited: 25,
            events: 2,
        },
        TraceEvent::PollReady(2),
        TraceEvent::Stalled,
        TraceEvent::WorkQueued {
            name: "fs.readFile",
            job: 3,
        },
        TraceEvent::WorkStarted { job: 3, worker: 1 },
        TraceEvent::WorkFinished {
            job: 3,
            worker: 1,
            ran_us: 1234,
        },
        TraceEvent::WorkDone(1),
        TraceEvent::Alive {
            handles: 1,
            requests: 0,
            alive: true,
        },
        TraceEvent::BeforeExit,
        TraceEvent::Exit(-3),
        TraceEvent::RunReturned(false),
        TraceEvent::Output("line with </script> & é\nand a newline".to_string()),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, event)| Stamped {
        at: i as u64 * 7,
        event,
    })
    .collect()
}

/// A sink that writes the given events as they come, like the loop does.
fn write(events: &[Stamped], clock: &str) -> Vec<u8> {
    let buffer = Buffer::default();
    let mut sink = JsonLines::new(buffer.clone()).program("round trip");
    sink.begin(clock);
    for e in events {
        sink.record(e.at, &e.event);
    }
    sink.finish().unwrap();
    buffer.0.take()
}

#[test]
fn every_kind_of_event_reads_back_as_written() {
    let events = one_of_each();
    let mut kinds: Vec<&str> = events.iter().map(|e| e.event.kind()).collect();
    kinds.dedup();
    assert_eq!(
        kinds, EVENT_KINDS,
        "one_of_each covers every kind, in order"
    );

    let bytes = write(&events, "manual");
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(
        text.lines().count(),
        events.len() + 1,
        "a header, then a line an event"
    );
    assert!(
        !text.contains("</script>") && !text.contains('<'),
        "safe inside an HTML script element:\n{text}"
    );
    let read = format::read(&bytes[..]).unwrap();
    let expected: Vec<Stamped<String>> = events
        .into_iter()
        .map(|e| Stamped {
            at: e.at,
            event: e.event.map_names(str::to_string),
        })
        .collect();
    assert_eq!(read.events, expected);
    assert_eq!(read.header.program.as_deref(), Some("round trip"));
}

#[test]
fn the_header_names_the_format_its_version_the_crate_and_the_clock() {
    let bytes = write(&[], "system");
    let first = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        first.starts_with(&format!(
            "{{\"format\":\"eventloop-trace\",\"version\":{JSON_LINES_VERSION},\"crate\":\"{}\",\
             \"clock\":\"system\",\"unit\":\"ms\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{first}"
    );
    let header = format::read(&bytes[..]).unwrap().header;
    assert_eq!(header.version, JSON_LINES_VERSION);
    assert_eq!(header.encoding, Encoding::JsonLines);
    assert_eq!(header.crate_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(header.clock, "system");
}

#[test]
fn a_loop_names_its_clock_and_output_alone_has_none() {
    let (_, manual) = trace::capture_json(|| {
        let mut lp = EventLoop::with_clock(ManualClock::new());
        lp.run_main(|_| {}).unwrap();
    });
    assert_eq!(format::read(&manual[..]).unwrap().header.clock, "manual");
    let (_, system) = trace::capture_json(|| {
        let mut lp = EventLoop::new();
        lp.run_main(|_| {}).unwrap();
    });
    assert_eq!(format::read(&system[..]).unwrap().header.clock, "system");
    let (_, none) = trace::capture_json(|| trace::output("no loop at all"));
    let read = format::read(&none[..]).unwrap();
    assert_eq!(read.header.clock, "none");
    assert_eq!(
        read.events,
        [Stamped {
            at: 0,
            event: TraceEvent::Output("no loop at all".to_string())
        }]
    );
}

fn header(version: i64) -> String {
    format!(
        "{{\"format\":\"eventloop-trace\",\"version\":{version},\"crate\":\"0.1.0\",\
         \"clock\":\"manual\",\"unit\":\"ms\"}}\n"
    )
}

#[test]
fn versions_and_broken_traces_give_errors_that_say_what_and_where() {
    let err = format::read(header(3).as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Version {
                found: 3,
                supported: FORMAT_VERSION
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("read it with a newer eventloop"),
        "{err}"
    );
    // Version 2 is the binary encoding, and says so.
    let err = format::read(header(2).as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("version 2 has no encoding of JSON lines"),
        "{err}"
    );
    let binary = header(2).replace("}\n", ",\"encoding\":\"binary\"}\n");
    assert_eq!(format::read(binary.as_bytes()).unwrap().events, []);
    assert!(matches!(
        format::read(header(0).as_bytes()),
        Err(FormatError::Version { found: 0, .. })
    ));
    for (text, says) in [
        ("", "it is empty"),
        ("{\"hello\":1}\n", "`format` is missing"),
        (
            "{\"format\":\"chrome-trace\"}\n",
            "its format is `chrome-trace`",
        ),
        ("[1,2]\n", "expected `{`"),
    ] {
        let err = format::read(text.as_bytes()).unwrap_err();
        assert!(matches!(err, FormatError::NotATrace(_)), "{text:?}: {err}");
        assert!(err.to_string().contains(says), "{text:?}: {err}");
    }
    for (line, says) in [
        (
            "{\"t\":0,\"ev\":\"beam\"}",
            "`beam` is not an event of format version 1",
        ),
        ("{\"t\":0,\"ev\":\"start\"}", "the field `name` is missing"),
        (
            "{\"t\":-1,\"ev\":\"stalled\"}",
            "`t` should not be negative",
        ),
        (
            "{\"t\":0,\"ev\":\"phase\",\"phase\":\"lunch\"}",
            "`lunch` is not a phase",
        ),
        (
            "{\"t\":0,\"ev\":\"alive\",\"handles\":1,\"requests\":0,\"alive\":\"yes\"}",
            "`alive` should be true or false",
        ),
        ("{\"t\":0,\"ev\":\"output\",\"line\":\"x\"", "found the end"),
    ] {
        let text = format!("{}{{\"t\":0,\"ev\":\"stalled\"}}\n\n{line}\n", header(1));
        let err = format::read(text.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, FormatError::Line { line: 4, .. }),
            "{line}: {err} (the 4th line, counting the header and a blank one)"
        );
        assert!(err.to_string().contains(says), "{line}: {err}");
        let io: io::Error = err.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
    }
    // A field a later writer added is ignored: adding a field keeps the version.
    let text = format!(
        "{}{{\"t\":3,\"ev\":\"start\",\"name\":\"main\",\"new_field\":[]}}\n",
        header(1).replace("\"unit\":\"ms\"", "\"unit\":\"ms\",\"host\":\"x\"")
    );
    let err = format::read(text.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("flat objects"), "{err}");
    let text = format!(
        "{}{{\"t\":3,\"ev\":\"start\",\"name\":\"main\",\"new_field\":7}}\n",
        header(1)
    );
    let read = format::read(text.as_bytes()).unwrap();
    assert_eq!(
        read.events[0].event,
        TraceEvent::CallbackStarted("main".to_string())
    );
}

#[test]
fn the_builder_traces_a_loop_into_a_writer() {
    let buffer = Buffer::default();
    let mut lp = EventLoop::builder()
        .clock(ManualClock::new())
        .trace(buffer.clone())
        .build()
        .unwrap();
    lp.run_main(|lp| {
        lp.set_timeout(|lp| lp.log("timeout"), 5);
        lp.log("main");
    })
    .unwrap();
    lp.finish_trace().unwrap();
    let read = buffer.read();
    assert_eq!(read.header.clock, "manual");
    let printed: Vec<(u64, &str)> = read
        .events
        .iter()
        .filter_map(|e| match &e.event {
            TraceEvent::Output(line) => Some((e.at, line.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        printed,
        [(0, "main"), (5, "timeout")],
        "each line at its loop time"
    );
    assert!(
        lp.take_trace().is_empty(),
        "a writer, not memory: nothing is kept for take_trace"
    );
}

/// A writer that fails after `left` bytes.
struct Failing {
    left: usize,
}

impl Write for Failing {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.left < bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "the disk is full",
            ));
        }
        self.left -= bytes.len();
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_stops_the_trace_not_the_program() {
    let mut lp = EventLoop::builder()
        .clock(ManualClock::new())
        .trace(Failing { left: 300 })
        .build()
        .unwrap();
    let ran = Rc::new(RefCell::new(0));
    let r = ran.clone();
    let code = lp
        .run_main(move |lp| {
            for _ in 0..50 {
                let r = r.clone();
                lp.set_immediate(move |_| *r.borrow_mut() += 1);
            }
        })
        .unwrap();
    assert_eq!((code, *ran.borrow()), (0, 50), "the program ran to the end");
    let err = lp.finish_trace().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    assert!(lp.finish_trace().is_ok(), "the error is reported once");
}

#[test]
fn a_capture_traces_every_loop_built_inside_it_and_ends_with_it() {
    let ((), bytes) = trace::capture_json(|| {
        for n in 0..2 {
            let mut lp = EventLoop::with_clock(ManualClock::new());
            lp.run_main(move |_| trace::output(format!("program {n}")))
                .unwrap();
        }
    });
    let read = format::read(&bytes[..]).unwrap();
    let printed: Vec<&TraceEvent<String>> = read
        .events
        .iter()
        .map(|e| &e.event)
        .filter(|e| matches!(e, TraceEvent::Output(_)))
        .collect();
    assert_eq!(
        printed,
        [
            &TraceEvent::Output("program 0".into()),
            &TraceEvent::Output("program 1".into())
        ]
    );
    // Outside the capture, a loop is not traced, and output goes nowhere.
    let mut lp = EventLoop::with_clock(ManualClock::new());
    lp.run_main(|_| trace::output("unseen")).unwrap();
    assert!(lp.take_trace().is_empty());
}

#[test]
fn a_capture_is_restored_when_its_code_panics() {
    let outer = Buffer::default();
    let (result, finished) = trace::capture(JsonLines::new(outer.clone()), || {
        let inner = std::panic::catch_unwind(|| {
            trace::capture_json(|| panic!("the inner program panicked"));
        });
        assert!(inner.is_err());
        // The outer capture is in force again.
        let mut lp = EventLoop::with_clock(ManualClock::new());
        lp.run_main(|_| trace::output("after the panic")).unwrap();
    });
    finished.unwrap();
    let () = result;
    let read = outer.read();
    assert!(
        read.events
            .iter()
            .any(|e| e.event == TraceEvent::Output("after the panic".into())),
        "{:?}",
        read.events
    );
}

// ---- EVENTLOOP_TRACE: a separate process, since the variable is read once ------------------

/// Run only by [`the_environment_variable_traces_any_program_without_recompiling`], in a child
/// process with `EVENTLOOP_TRACE` set: two loops, so two files.
#[test]
#[ignore = "a child process of another test"]
fn child_program_traced_by_the_environment() {
    for n in 0..2 {
        let mut lp = EventLoop::with_clock(ManualClock::new());
        lp.run_main(move |lp| {
            lp.set_immediate(move |lp| lp.log(format!("immediate of loop {n}")));
        })
        .unwrap();
    }
}

#[test]
fn the_environment_variable_traces_any_program_without_recompiling() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("trace-env");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Binary unless the path ends in .jsonl.
    for (ext, encoding) in [("trace", Encoding::Binary), ("jsonl", Encoding::JsonLines)] {
        let path = dir.join(format!("run.{ext}"));
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_program_traced_by_the_environment",
                "--ignored",
                "--test-threads=1",
            ])
            .env(trace::ENV_VAR, &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        for (file, n) in [(format!("run.{ext}"), 0), (format!("run-2.{ext}"), 1)] {
            let bytes = std::fs::read(dir.join(&file))
                .unwrap_or_else(|e| panic!("loop {n} should have written {file}: {e}"));
            let read = format::read(&bytes[..]).unwrap();
            assert_eq!(read.header.clock, "manual");
            assert_eq!(read.header.encoding, encoding, "{file}");
            let line = format!("immediate of loop {n}");
            assert!(
                read.events
                    .iter()
                    .any(|e| e.event == TraceEvent::Output(line.clone())),
                "{file} holds its own loop's output"
            );
        }
    }
    // A path that cannot be created: the program runs untraced, and says so.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_program_traced_by_the_environment",
            "--ignored",
            "--nocapture",
        ])
        .env(trace::ENV_VAR, dir.join("no/such/dir/run.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("EVENTLOOP_TRACE: cannot create") && err.contains("not traced"),
        "{err}"
    );
}

// ---- a trace to a file is written by a thread: nothing lost, reordered or cut off ---------

/// The directory of a test's trace files, emptied.
fn trace_dir(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the ignored test `child` in a child process with `EVENTLOOP_TRACE=path` and `env`.
fn run_child(child: &str, path: &Path, env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child, "--ignored", "--test-threads=1"])
        .env(trace::ENV_VAR, path)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The trace files a traced child wrote at `path`, in the order its loops were built.
fn files_of(path: &Path) -> Vec<Recorded> {
    let mut traces = Vec::new();
    for n in 1.. {
        let file = if n == 1 {
            path.to_path_buf()
        } else {
            let stem = path.file_stem().unwrap().to_string_lossy();
            let ext = path.extension().unwrap().to_string_lossy();
            path.with_file_name(format!("{stem}-{n}.{ext}"))
        };
        let Ok(bytes) = std::fs::read(&file) else {
            break;
        };
        traces.push(format::read(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", file.display())));
    }
    traces
}

/// Run only by [`a_file_trace_holds_every_event_of_each_puzzle_in_order`]: the port named by
/// `TRACE_PORT`, traced by the environment.
#[test]
#[ignore = "a child process of another test"]
fn child_runs_one_port() {
    let name = std::env::var("TRACE_PORT").unwrap();
    let (_, port) = ports::all().into_iter().find(|(n, _)| *n == name).unwrap();
    port();
}

#[test]
fn a_file_trace_holds_every_event_of_each_puzzle_in_order() {
    // The same puzzle traced three times: to memory, event by event as the loop records them
    // (a capture), and to a file through the writer thread (EVENTLOOP_TRACE), once in the
    // binary encoding and once as JSON lines. Both files must hold the very same events, in
    // the same order; the binary one turned into JSON lines must be the JSON file, byte for
    // byte.
    let dir = trace_dir("trace-ports");
    let mut compared = 0;
    for (name, port) in ports::all() {
        let (_, bytes) = trace::capture_json(port);
        let here = format::read(&bytes[..]).unwrap();
        if here.events.is_empty() {
            continue; // a port with no loop (chapter 1's stack)
        }
        let mut files = Vec::new();
        for ext in ["trace", "jsonl"] {
            let path = dir.join(format!("{name}.{ext}"));
            let out = run_child("child_runs_one_port", &path, &[("TRACE_PORT", name)]);
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
            files.push((path.clone(), files_of(&path)));
        }
        if files.iter().any(|(_, traces)| traces.len() != 1) {
            continue; // several loops: one file each, where a capture makes one trace
        }
        let real_world = here.header.clock != "manual"
            || here.events.iter().any(|e| {
                matches!(
                    e.event,
                    TraceEvent::WorkQueued { .. } | TraceEvent::PollReady(_)
                )
            });
        if real_world {
            continue; // the pool or the kernel in the race: no one order to hold
        }
        for (path, traces) in &files {
            let there = &traces[0];
            assert_eq!(there.header.clock, here.header.clock, "{name}");
            let (here, there) = (steady(&here), steady(there));
            if let Some(i) = (0..here.len().max(there.len())).find(|&i| here.get(i) != there.get(i))
            {
                panic!(
                    "{name}: event {i} of {} is {:?}, but the loop recorded {:?} (the writer \
                     thread lost or reordered events, or the encoding changed one)",
                    path.display(),
                    there.get(i),
                    here.get(i)
                );
            }
        }
        let binary = std::fs::read(&files[0].0).unwrap();
        assert!(binary.starts_with(b"{\"format\":\"eventloop-trace\",\"version\":2,"));
        let mut converted = Vec::new();
        trace::to_json_lines(&binary[..], &mut converted).unwrap();
        let json = std::fs::read(&files[1].0).unwrap();
        assert!(
            converted == json,
            "{name}: the binary trace turned into JSON lines is not the JSON lines file"
        );
        compared += 1;
    }
    println!("{compared} puzzles compared");
    assert!(compared >= 20, "only {compared} puzzles compared");
}

#[test]
fn a_keys_slot_is_in_the_low_bits_the_recorder_indexes_its_ids_by() {
    // The recorder numbers queue entries by the slot of their key, which it reads from the
    // low 32 bits of `Key::to_bits` (the trace module knows nothing of the heap's types).
    use eventloop::heap::Heap;
    let mut heap = Heap::new();
    let keys: Vec<_> = (0..3).map(|n| heap.insert(n)).collect();
    heap.remove(keys[1]);
    let reused = heap.insert(9);
    assert_eq!(reused.index(), keys[1].index(), "the freed slot is reused");
    assert_ne!(reused.to_bits(), keys[1].to_bits(), "by a new generation");
    for key in [keys[0], keys[2], reused] {
        assert_eq!(key.to_bits() & u64::from(u32::MAX), u64::from(key.index()));
    }
}

/// How many immediates the panicking child runs: enough events to fill several of the
/// writer's chunks, so the panic comes with a partly filled one.
const CHAIN: u32 = 20_000;

/// Run only by [`a_file_trace_keeps_its_tail_when_the_program_panics`].
#[test]
#[ignore = "a child process of another test"]
fn child_panics_after_a_long_chain() {
    fn step(lp: &mut EventLoop, n: u32) {
        if n == CHAIN {
            lp.log("last words");
            panic!("the program panicked");
        }
        lp.set_immediate(move |lp| step(lp, n + 1));
    }
    let mut lp = EventLoop::with_clock(ManualClock::new());
    lp.set_immediate(|lp| step(lp, 1));
    lp.run(eventloop::event_loop::RunMode::Default);
    unreachable!("the panic escapes run");
}

#[test]
fn a_file_trace_keeps_its_tail_when_the_program_panics() {
    let dir = trace_dir("trace-panic");
    for ext in ["trace", "jsonl"] {
        keeps_its_tail_when_the_program_panics(&dir.join(format!("run.{ext}")));
    }
}

fn keeps_its_tail_when_the_program_panics(path: &Path) {
    let path = path.to_path_buf();
    let out = run_child("child_panics_after_a_long_chain", &path, &[]);
    assert!(!out.status.success(), "the child panicked");
    let files = files_of(&path);
    assert_eq!(files.len(), 1);
    let events = &files[0].events;
    let started = events
        .iter()
        .filter(|e| e.event == TraceEvent::CallbackStarted("setImmediate".into()))
        .count();
    assert_eq!(
        started, CHAIN as usize,
        "every immediate that ran is in the trace"
    );
    let tail: Vec<_> = events.iter().rev().take(2).map(|e| &e.event).collect();
    assert_eq!(
        tail,
        [
            &TraceEvent::Output("last words".into()),
            &TraceEvent::CallbackStarted("setImmediate".into())
        ],
        "the trace ends where the program did: the unwinding loop wrote its tail"
    );
}

/// Steps of [`long_mixed_chain`]: enough for several of the writer's chunks and for entry
/// ids past 16,383 (three bytes).
const LONG: u32 = 20_000;

/// A long program that takes every way a hot event has to the file: immediates, each queuing
/// the next, a tick and a microtask; timeouts set and some cleared; and now and then a wait
/// of 5 ms, which moves the manual clock (a new time, which the short ways leave to the long
/// one).
fn long_mixed_chain() {
    fn step(lp: &mut EventLoop, n: u32) {
        if n == LONG {
            lp.log("done");
            return;
        }
        lp.next_tick(|_| {});
        lp.queue_microtask(|_| {});
        if n.is_multiple_of(3) {
            let timeout = lp.set_timeout(|_| {}, 1);
            if n.is_multiple_of(2) {
                lp.clear_timeout(timeout);
            }
        }
        if n % 1_000 == 999 {
            lp.set_timeout(move |lp| step(lp, n + 1), 5);
        } else {
            lp.set_immediate(move |lp| step(lp, n + 1));
        }
    }
    let mut lp = EventLoop::with_clock(ManualClock::new());
    lp.run_main(|lp| {
        lp.set_immediate(|lp| step(lp, 0));
    })
    .unwrap();
}

/// Run only by [`a_long_file_trace_is_the_loops_own_record_event_for_event`].
#[test]
#[ignore = "a child process of another test"]
fn child_runs_a_long_mixed_chain() {
    long_mixed_chain();
}

#[test]
fn a_long_file_trace_is_the_loops_own_record_event_for_event() {
    // The writer's short ways (no call: names, time, chunk and ids all at hand) and its long
    // ways must write the same events: the file, across many chunks, is what a capture
    // records the long way, event for event.
    let (_, bytes) = trace::capture_json(long_mixed_chain);
    let here = format::read(&bytes[..]).unwrap();
    let path = trace_dir("trace-long-chain").join("run.trace");
    let out = run_child("child_runs_a_long_mixed_chain", &path, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let files = files_of(&path);
    assert_eq!(files.len(), 1);
    let there = &files[0].events;
    assert!(here.events.len() > 300_000, "{} events", here.events.len());
    if let Some(i) =
        (0..here.events.len().max(there.len())).find(|&i| here.events.get(i) != there.get(i))
    {
        panic!(
            "event {i} of the file is {:?}, but the loop recorded {:?} (events {}..{} of the \
             file: {:?})",
            there.get(i),
            here.events.get(i),
            i.saturating_sub(3),
            i + 3,
            &there[i.saturating_sub(3)..(i + 3).min(there.len())]
        );
    }
}

/// Run only by [`a_file_trace_is_complete_when_the_program_exits_the_process`]: a program
/// that ends with `process.exit`, then the process exits at once, with the loop alive.
#[test]
#[ignore = "a child process of another test"]
fn child_exits_the_process() {
    let mut lp = EventLoop::with_clock(ManualClock::new());
    let code = lp.run_main(|lp| {
        lp.on_exit(|lp, code| lp.log(format!("exit listener: {code}")));
        for n in 0..5_000 {
            lp.set_timeout(move |lp| lp.log(format!("timeout {n}")), 1);
        }
        lp.set_timeout(|lp| lp.exit(3), 2);
        lp.set_timeout(|lp| lp.log("never"), 3);
    });
    std::process::exit(code.unwrap()); // no destructor runs: not the loop's, not the trace's
}

#[test]
fn a_file_trace_is_complete_when_the_program_exits_the_process() {
    let dir = trace_dir("trace-exit");
    for ext in ["trace", "jsonl"] {
        is_complete_when_the_program_exits_the_process(&dir.join(format!("run.{ext}")));
    }
}

fn is_complete_when_the_program_exits_the_process(path: &Path) {
    let path = path.to_path_buf();
    let out = run_child("child_exits_the_process", &path, &[]);
    assert_eq!(out.status.code(), Some(3), "the program's exit code");
    let files = files_of(&path);
    assert_eq!(files.len(), 1);
    let printed: Vec<&str> = files[0]
        .events
        .iter()
        .filter_map(|e| match &e.event {
            TraceEvent::Output(line) => Some(line.as_str()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..5_000)
        .map(|n| format!("timeout {n}"))
        .chain(["exit listener: 3".to_string()])
        .collect();
    assert_eq!(
        printed, expected,
        "every line, in order, up to the exit listener's"
    );
    assert!(
        files[0]
            .events
            .iter()
            .any(|e| e.event == TraceEvent::Exit(3)),
        "the exit is in the trace"
    );
}

// ---- the book's traces ------------------------------------------------------------------------

/// What may differ between two recordings of one puzzle: on the system clock, times (the
/// loop's, a wait's, a job's run); on a manual clock nothing may.
fn steady(recorded: &Recorded) -> Vec<Stamped<String>> {
    let real_time = recorded.header.clock == "system";
    recorded
        .events
        .iter()
        .cloned()
        .map(|mut e| {
            if real_time {
                e.at = 0;
                match &mut e.event {
                    TraceEvent::PollWoke { waited, .. } => *waited = 0,
                    TraceEvent::WorkFinished { ran_us, .. } => *ran_us = 0,
                    TraceEvent::PollWait(Some(ms)) if *ms > 0 => *ms = 1,
                    _ => {}
                }
            }
            e
        })
        .collect()
}

// ANCHOR: book_traces_are_current
#[test]
fn the_books_traces_are_what_their_ports_record_today() {
    let dir = Path::new(REPO).join("chapters/traces");
    let mut checked = 0;
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("chapters/traces exists") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (_, port) = ports::all()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{} is not the trace of a puzzle", path.display()));
        let book = format::read(&std::fs::read(&path).unwrap()[..])
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (_, bytes) = trace::capture_json_named(Some(&name), port);
        let now = format::read(&bytes[..]).unwrap();
        if book.header != now.header || steady(&book) != steady(&now) {
            stale.push(name);
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} traces in chapters/traces");
    assert!(
        stale.is_empty(),
        "the book's traces of {stale:?} are not what their ports record now: run \
         scripts/record-traces.sh and commit chapters/traces/"
    );
}
// ANCHOR_END: book_traces_are_current

// ---- the binary encoding: a reader that never panics ----------------------------------------

/// The binary trace (and the JSON lines) of the port `name`, written by a child process.
fn binary_trace_of(name: &str) -> (Vec<u8>, Recorded) {
    let path = trace_dir(&format!("trace-binary-{name}")).join("run.trace");
    let out = run_child("child_runs_one_port", &path, &[("TRACE_PORT", name)]);
    assert!(out.status.success(), "{name}");
    let bytes = std::fs::read(&path).unwrap();
    let read = format::read(&bytes[..]).unwrap();
    (bytes, read)
}

/// Reads `bytes`, which must not panic; a cut-off file must read as a shorter trace (when cut
/// at a frame's end) or fail with `Truncated`, never anything else.
fn read_prefix(bytes: &[u8], full: &Recorded, header_len: usize) {
    let cut = bytes.len();
    match format::read(bytes) {
        Ok(read) => assert!(
            full.events.starts_with(&read.events),
            "cut at {cut}: read events that are not the trace's first ones"
        ),
        Err(FormatError::Truncated { .. }) if cut >= header_len => {}
        Err(e) if cut < header_len => assert!(
            matches!(
                e,
                FormatError::NotATrace(_) | FormatError::Line { line: 1, .. }
            ),
            "cut at {cut}, in the header: {e}"
        ),
        Err(e) => panic!("cut at {cut}: {e}; a cut-off file should say it is cut off"),
    }
}

#[test]
fn every_cut_of_a_binary_trace_reads_as_a_shorter_trace_or_says_it_is_cut_off() {
    let (bytes, full) = binary_trace_of("c04-immediate-vs-timeout-in-timer");
    assert!(full.events.len() > 50, "a trace worth cutting");
    let header_len = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    for cut in 0..bytes.len() {
        read_prefix(&bytes[..cut], &full, header_len);
    }
    let err = format::read(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(
        err.to_string().contains("cut off") && err.to_string().contains("frame 1"),
        "{err}"
    );
}

#[test]
fn a_long_binary_trace_is_cut_into_frames_each_readable() {
    // 20,000 immediates: several frames of 256 KiB, each a place where a cut leaves a whole
    // trace behind.
    let path = trace_dir("trace-binary-long").join("run.trace");
    run_child("child_panics_after_a_long_chain", &path, &[]);
    let bytes = std::fs::read(&path).unwrap();
    let full = format::read(&bytes[..]).unwrap();
    let header_len = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let body = bytes.len() - header_len;
    assert!(body > 2 * 256 * 1024, "several frames: {body} bytes");
    for k in 0..40 {
        let cut = header_len + k * body / 40 + k % 7;
        read_prefix(&bytes[..cut], &full, header_len);
    }
    let bytes_per_event = (bytes.len() - header_len) as f64 / full.events.len() as f64;
    assert!(
        bytes_per_event < 3.0,
        "{bytes_per_event:.2} bytes an event: the encoding is meant to be compact"
    );
}

#[test]
fn corrupt_or_random_bytes_give_an_error_never_a_panic() {
    let (bytes, _) = binary_trace_of("p04-microtasks-between-timers");
    let header_len = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    // Every byte of the body changed, one at a time, to a few values: an error or another
    // trace, but never a panic.
    let mut errors = 0;
    for at in header_len..bytes.len() {
        for value in [0x00, 0x7f, 0x80, 0xff, bytes[at] ^ 0x55] {
            let mut broken = bytes.clone();
            broken[at] = value;
            errors += usize::from(format::read(&broken[..]).is_err());
        }
    }
    assert!(errors > 0);
    // A frame that does not begin with its mark says where.
    let mut broken = bytes.clone();
    broken[header_len] = b'x';
    let err = format::read(&broken[..]).unwrap_err();
    assert!(
        matches!(err, FormatError::Corrupt { at, .. } if at == header_len as u64),
        "{err}"
    );
    assert!(err.to_string().contains("corrupt at byte"), "{err}");
    // An unknown kind of event.
    let mut random = common::XorShift::new(0x2545_f491_4f6c_dd1d);
    for len in [1, 2, 7, 100, 5_000] {
        for _ in 0..200 {
            let noise: Vec<u8> = (0..len).map(|_| random.next_u64() as u8).collect();
            let mut file = bytes[..header_len].to_vec();
            file.extend_from_slice(&noise);
            let _ = format::read(&file[..]);
            let mut framed = bytes[..header_len].to_vec();
            framed.extend_from_slice(&[0xF2, 0, 0]);
            framed.push(noise.len().min(127) as u8);
            framed.extend_from_slice(&noise[..noise.len().min(127)]);
            let _ = format::read(&framed[..]);
            assert!(
                format::read(&noise[..]).is_err(),
                "random bytes are not a trace"
            );
        }
    }
    // A newer version is refused by name.
    let newer = String::from_utf8(bytes[..header_len].to_vec())
        .unwrap()
        .replace("\"version\":2", "\"version\":3");
    assert!(matches!(
        format::read(newer.as_bytes()),
        Err(FormatError::Version { found: 3, .. })
    ));
}
