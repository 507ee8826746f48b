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
    self, EVENT_KINDS, FORMAT_VERSION, FormatError, JsonLines, Phase, Queue, QueueLengths,
    Recorded, Stamped, TraceEvent, TraceSink, format,
};

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
            "{{\"format\":\"eventloop-trace\",\"version\":{FORMAT_VERSION},\"crate\":\"{}\",\
             \"clock\":\"system\",\"unit\":\"ms\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{first}"
    );
    let header = format::read(&bytes[..]).unwrap().header;
    assert_eq!(header.version, FORMAT_VERSION);
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
    let err = format::read(header(2).as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            FormatError::Version {
                found: 2,
                supported: 1
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("read it with a newer eventloop"),
        "{err}"
    );
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
    let path = dir.join("run.jsonl");
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
    for (file, n) in [("run.jsonl", 0), ("run-2.jsonl", 1)] {
        let bytes = std::fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("loop {n} should have written {file}: {e}"));
        let read = format::read(&bytes[..]).unwrap();
        assert_eq!(read.header.clock, "manual");
        let line = format!("immediate of loop {n}");
        assert!(
            read.events
                .iter()
                .any(|e| e.event == TraceEvent::Output(line.clone())),
            "{file} holds its own loop's output"
        );
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
