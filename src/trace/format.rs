//! The trace format: a header line, then the events — as JSON lines, one event a line
//! (version 1, the readable form), or in the compact binary encoding of version 2
//! ([`binary`], what `EVENTLOOP_TRACE` writes unless the path ends in
//! `.jsonl`). [`read`] reads both; [`to_json_lines`] turns a binary trace into JSON lines.
//!
//! ```text
//! {"format":"eventloop-trace","version":1,"crate":"0.1.0","clock":"manual","unit":"ms"}
//! {"t":0,"ev":"start","name":"main"}
//! {"t":0,"ev":"queued","queue":"timers","name":"setTimeout","id":1,"by":"main"}
//! {"t":0,"ev":"output","line":"main"}
//! {"t":0,"ev":"end","name":"main"}
//! {"t":0,"ev":"phase","phase":"timers"}
//! ```
//!
//! **The header** names the format (`"eventloop-trace"`), its version ([`FORMAT_VERSION`]),
//! the version of the crate that wrote it, and the clock the loop ran on: `"manual"` (a
//! [`ManualClock`](crate::clock::ManualClock): times are exact and the same on every run),
//! `"system"` (real milliseconds) or `"none"` (nothing but output was recorded). `unit` is the
//! unit of every time, milliseconds. An optional `program` names what was traced.
//!
//! **An event** has `t`, the loop's cached time when it was recorded (`uv_now`), `ev`, its
//! kind (one of [`EVENT_KINDS`](super::EVENT_KINDS)), and the fields of that kind, named as in
//! [`TraceEvent`]: `phase`, `name`, `queue`, `id`, `by`, `timeout` (`null`: no limit),
//! `waited`, `events`, `job`, `worker`, `ran_us`, `jobs`, `handles`, `requests`, `alive`,
//! `code`, `line`, and the seven queue lengths of `queues`. Strings escape `<`, `>` and `&`,
//! so a trace can be pasted into an HTML `<script>` element as it is.
//!
//! **Queues.** A `queued` event puts an entry on a queue; an `unqueued` event takes it off
//! (to run it, or because it was cleared), by `id` or, without one, the oldest. The jobs of a
//! checkpoint are the exception: between `drain` and `drain_end`, each `start` at the depth of
//! the call stack where the drain began takes the oldest tick if its frame is `nextTick`, and
//! the oldest microtask otherwise.
//!
//! **Versions.** Adding a field to an event keeps the version: readers ignore fields they do
//! not know. A new kind of event, a field removed or a meaning changed makes a new version; a
//! reader refuses a version newer than its own with an error that names both. Version 2 is the
//! binary encoding of version 1's events (its header says `"encoding":"binary"`); JSON lines
//! are still written as version 1, which they are, so a reader of version 1 reads them.

use std::fmt;
use std::io::{self, BufRead, Write};

use super::binary::{self, FrameError};
use super::json::{Line, Value, parse_object};
use super::writer::JsonText;
use super::{Phase, Queue, QueueLengths, TraceEvent, TraceSink};

/// The `format` of every header.
///
/// ```
/// use eventloop::trace::{FORMAT_NAME, Header};
///
/// assert_eq!(FORMAT_NAME, "eventloop-trace");
/// assert!(Header::new("manual").to_line().contains(r#""format":"eventloop-trace""#));
/// ```
pub const FORMAT_NAME: &str = "eventloop-trace";
/// The newest version this crate reads, and the one its binary traces are written in.
///
/// ```
/// use eventloop::trace::{FORMAT_VERSION, Header};
///
/// assert_eq!(Header::binary("manual").version, FORMAT_VERSION); // EVENTLOOP_TRACE's default
/// ```
pub const FORMAT_VERSION: u32 = 2;

/// The version of JSON lines: their events have not changed since version 1.
///
/// ```
/// use eventloop::trace::{Header, JSON_LINES_VERSION};
///
/// assert_eq!(Header::new("manual").version, JSON_LINES_VERSION);
/// ```
pub const JSON_LINES_VERSION: u32 = 1;

/// How a trace's events are written after its header.
///
/// ```
/// use eventloop::trace::{Encoding, Header};
///
/// assert_eq!(Header::new("manual").encoding, Encoding::JsonLines);
/// assert_eq!(Header::binary("manual").encoding, Encoding::Binary);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A line of JSON an event (version 1).
    JsonLines,
    /// Frames of the binary encoding (version 2; see [`binary`]).
    Binary,
}

/// The first line of a trace.
///
/// ```
/// use eventloop::trace::{Header, format::parse_header};
///
/// let mut header = Header::new("manual");
/// header.program = Some("puzzle-1".into());
/// assert_eq!(parse_header(&header.to_line()).unwrap(), header); // a round trip
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The format version the trace was written in.
    pub version: u32,
    /// The version of the `eventloop` crate that wrote it.
    pub crate_version: String,
    /// `"manual"`, `"system"` or `"none"`.
    pub clock: String,
    /// What was traced, when the writer said.
    pub program: Option<String>,
    /// How the events are written.
    pub encoding: Encoding,
}

impl Header {
    /// The header this crate writes for a loop on a clock of kind `clock`.
    ///
    /// ```
    /// use eventloop::trace::{Header, JSON_LINES_VERSION};
    ///
    /// let header = Header::new("system");
    /// assert_eq!((header.version, header.clock.as_str()), (JSON_LINES_VERSION, "system"));
    /// assert_eq!(header.program, None);
    /// ```
    pub fn new(clock: &str) -> Header {
        Header {
            version: JSON_LINES_VERSION,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            clock: clock.to_string(),
            program: None,
            encoding: Encoding::JsonLines,
        }
    }

    /// The header of a binary trace (version 2) for a loop on a clock of kind `clock`.
    ///
    /// ```
    /// use eventloop::trace::{Encoding, Header};
    ///
    /// let line = Header::binary("system").to_line();
    /// assert!(line.starts_with(r#"{"format":"eventloop-trace","version":2,"#));
    /// assert!(line.ends_with(r#","encoding":"binary"}"#));
    /// ```
    pub fn binary(clock: &str) -> Header {
        Header {
            version: FORMAT_VERSION,
            encoding: Encoding::Binary,
            ..Header::new(clock)
        }
    }

    /// The header as a line of the format (without the newline).
    ///
    /// ```
    /// use eventloop::trace::Header;
    ///
    /// let line = Header::new("manual").to_line();
    /// assert!(line.starts_with(r#"{"format":"eventloop-trace","version":1,"#));
    /// assert!(line.ends_with(r#""clock":"manual","unit":"ms"}"#));
    /// ```
    #[allow(
        clippy::missing_panics_doc,
        reason = "the line is made of strings: valid UTF-8"
    )]
    pub fn to_line(&self) -> String {
        let mut out = Vec::new();
        let mut line = Line::new(&mut out);
        line.str("format", FORMAT_NAME)
            .uint("version", self.version.into())
            .str("crate", &self.crate_version)
            .str("clock", &self.clock)
            .str("unit", "ms");
        if let Some(program) = &self.program {
            line.str("program", program);
        }
        if self.encoding == Encoding::Binary {
            line.str("encoding", "binary");
        }
        line.finish();
        String::from_utf8(out).expect("the line is made of strings")
    }
}

/// An event with the loop time it was recorded at.
///
/// ```
/// use eventloop::trace::{Phase, Stamped, TraceEvent, format::parse_event};
///
/// let stamped = parse_event(r#"{"t":5,"ev":"phase","phase":"timers"}"#).unwrap();
/// assert_eq!(stamped, Stamped { at: 5, event: TraceEvent::Phase(Phase::Timers) });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped<N = &'static str> {
    /// The loop's cached time, in ms.
    pub at: u64,
    /// What happened.
    pub event: TraceEvent<N>,
}

/// A trace read back: its header and its events, in order.
///
/// ```
/// use eventloop::trace::{TraceEvent, format};
///
/// let text = "{\"format\":\"eventloop-trace\",\"version\":1,\"crate\":\"0.1.0\",\"clock\":\"manual\",\"unit\":\"ms\"}\n\
///             {\"t\":0,\"ev\":\"output\",\"line\":\"main\"}\n";
/// let recorded = format::read(text.as_bytes()).unwrap();
/// assert_eq!(recorded.header.clock, "manual");
/// assert_eq!(recorded.events[0].event, TraceEvent::Output("main".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The header.
    pub header: Header,
    /// The events.
    pub events: Vec<Stamped<String>>,
}

/// Why a trace could not be read.
///
/// ```
/// use eventloop::trace::{FormatError, format};
///
/// let err = format::read(&b"{\"t\":0,\"ev\":\"stalled\"}\n"[..]).unwrap_err();
/// assert!(matches!(err, FormatError::NotATrace(_))); // no header first
/// assert!(err.to_string().starts_with("not an eventloop trace"));
/// ```
#[derive(Debug)]
pub enum FormatError {
    /// Reading failed.
    Io(io::Error),
    /// The first line is not a header of this format.
    NotATrace(String),
    /// The trace is in a newer version than this reader knows.
    Version {
        /// The trace's version.
        found: i64,
        /// The newest version this reader knows.
        supported: u32,
    },
    /// A line after the header is not a valid event.
    Line {
        /// The line number, from 1 (the header).
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A binary trace ends inside a frame: it was cut off (the program was killed while its
    /// trace was being written, or the file was copied while it was).
    Truncated {
        /// The frame cut off, from 1.
        frame: usize,
        /// Where it begins in the file.
        at: u64,
    },
    /// A binary trace's bytes are not what the encoding allows.
    Corrupt {
        /// Where, in bytes from the start of the file.
        at: u64,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Io(e) => write!(f, "cannot read the trace: {e}"),
            FormatError::NotATrace(why) => write!(
                f,
                "not an eventloop trace: {why} (the first line must be a header with \
                 \"format\":\"{FORMAT_NAME}\")"
            ),
            FormatError::Version { found, supported } => write!(
                f,
                "the trace is in format version {found}, newer than version {supported}, \
                 the newest this reader knows: read it with a newer eventloop"
            ),
            FormatError::Line { line, message } => write!(f, "trace line {line}: {message}"),
            FormatError::Truncated { frame, at } => write!(
                f,
                "the trace is cut off: it ends inside frame {frame}, which begins at byte {at}"
            ),
            FormatError::Corrupt { at, message } => {
                write!(f, "the binary trace is corrupt at byte {at}: {message}")
            }
        }
    }
}

impl std::error::Error for FormatError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FormatError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FormatError> for io::Error {
    fn from(e: FormatError) -> io::Error {
        match e {
            FormatError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// `event`, recorded at loop time `at`, as a line of the format (without the newline).
///
/// ```
/// use eventloop::trace::{Phase, TraceEvent, format::event_line};
///
/// let line = event_line(3, &TraceEvent::<&str>::Phase(Phase::Check));
/// assert_eq!(line, r#"{"t":3,"ev":"phase","phase":"check"}"#);
/// ```
#[allow(
    clippy::missing_panics_doc,
    reason = "the line is made of strings: valid UTF-8"
)]
pub fn event_line<N: AsRef<str>>(at: u64, event: &TraceEvent<N>) -> String {
    let mut out = Vec::new();
    write_event(&mut out, at, event);
    String::from_utf8(out).expect("the line is made of strings")
}

// ANCHOR: write_event
/// Appends `event`, recorded at loop time `at`, to `out` as a line of the format (without the
/// newline).
///
/// ```
/// use eventloop::trace::{TraceEvent, format::write_event};
///
/// let mut out = Vec::new();
/// write_event(&mut out, 0, &TraceEvent::<&str>::PollWait(None));
/// assert_eq!(out, br#"{"t":0,"ev":"poll_wait","timeout":null}"#);
/// ```
pub fn write_event<N: AsRef<str>>(out: &mut Vec<u8>, at: u64, event: &TraceEvent<N>) {
    let mut line = Line::new(out);
    line.uint("t", at).str("ev", event.kind());
    match event {
        TraceEvent::Phase(phase) | TraceEvent::PhaseEnd(phase) => {
            line.str("phase", phase.name());
        }
        TraceEvent::Queues(q) => {
            for queue in Queue::ALL {
                line.uint(queue.name(), q.get(queue) as u64);
            }
        }
        TraceEvent::Queued {
            queue,
            name,
            id,
            by,
        } => {
            line.str("queue", queue.name()).str("name", name.as_ref());
            if let Some(id) = id {
                line.uint("id", *id);
            }
            if let Some(by) = by {
                line.str("by", by.as_ref());
            }
        }
        TraceEvent::Unqueued { queue, id } => {
            line.str("queue", queue.name());
            if let Some(id) = id {
                line.uint("id", *id);
            }
        }
        TraceEvent::CallbackStarted(name) | TraceEvent::CallbackFinished(name) => {
            line.str("name", name.as_ref());
        }
        TraceEvent::Drain { ticks, microtasks } => {
            line.uint("ticks", *ticks as u64)
                .uint("microtasks", *microtasks as u64);
        }
        TraceEvent::PollWait(Some(ms)) => {
            line.uint("timeout", *ms);
        }
        TraceEvent::PollWait(None) => {
            line.null("timeout");
        }
        TraceEvent::PollWoke { waited, events } => {
            line.uint("waited", *waited).uint("events", *events as u64);
        }
        TraceEvent::PollReady(events) => {
            line.uint("events", *events as u64);
        }
        TraceEvent::WorkQueued { name, job } => {
            line.str("name", name.as_ref()).uint("job", *job);
        }
        TraceEvent::WorkStarted { job, worker } => {
            line.uint("job", *job).uint("worker", *worker as u64);
        }
        TraceEvent::WorkFinished {
            job,
            worker,
            ran_us,
        } => {
            line.uint("job", *job)
                .uint("worker", *worker as u64)
                .uint("ran_us", *ran_us);
        }
        TraceEvent::WorkDone(jobs) => {
            line.uint("jobs", *jobs as u64);
        }
        TraceEvent::Alive {
            handles,
            requests,
            alive,
        } => {
            line.uint("handles", *handles as u64)
                .uint("requests", *requests as u64)
                .bool("alive", *alive);
        }
        TraceEvent::Exit(code) => {
            line.int("code", (*code).into());
        }
        TraceEvent::RunReturned(alive) => {
            line.bool("alive", *alive);
        }
        TraceEvent::Output(text) => {
            line.str("line", text);
        }
        TraceEvent::Stalled | TraceEvent::DrainEnd | TraceEvent::BeforeExit => {}
    }
    line.finish();
}
// ANCHOR_END: write_event

/// The fields of one line, with typed getters whose errors name the field.
struct Fields(Vec<(String, Value)>);

impl Fields {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn str(&self, key: &str) -> Result<String, String> {
        match self.get(key) {
            Some(Value::Str(s)) => Ok(s.clone()),
            Some(other) => Err(format!("`{key}` should be a string, not {other:?}")),
            None => Err(format!("the field `{key}` is missing")),
        }
    }

    fn opt_str(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.str(key).map(Some),
        }
    }

    fn int(&self, key: &str) -> Result<i64, String> {
        match self.get(key) {
            Some(Value::Int(n)) => Ok(*n),
            Some(other) => Err(format!("`{key}` should be an integer, not {other:?}")),
            None => Err(format!("the field `{key}` is missing")),
        }
    }

    fn uint(&self, key: &str) -> Result<u64, String> {
        let n = self.int(key)?;
        u64::try_from(n).map_err(|_| format!("`{key}` should not be negative, is {n}"))
    }

    fn count(&self, key: &str) -> Result<usize, String> {
        let n = self.uint(key)?;
        usize::try_from(n).map_err(|_| format!("`{key}` is too large: {n}"))
    }

    fn opt_uint(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.uint(key).map(Some),
        }
    }

    fn bool(&self, key: &str) -> Result<bool, String> {
        match self.get(key) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("`{key}` should be true or false, not {other:?}")),
            None => Err(format!("the field `{key}` is missing")),
        }
    }

    fn phase(&self) -> Result<Phase, String> {
        let name = self.str("phase")?;
        Phase::from_name(&name).ok_or_else(|| format!("`{name}` is not a phase"))
    }

    fn queue(&self) -> Result<Queue, String> {
        let name = self.str("queue")?;
        Queue::from_name(&name).ok_or_else(|| format!("`{name}` is not a queue"))
    }
}

/// Reads a header line.
///
/// # Errors
/// [`FormatError`] for a line that is not a header, or one of a version this crate cannot read.
///
/// ```
/// use eventloop::trace::{FormatError, format::parse_header};
///
/// let newer = r#"{"format":"eventloop-trace","version":99,"crate":"9.0.0","clock":"manual","unit":"ms"}"#;
/// let err = parse_header(newer).unwrap_err();
/// assert!(matches!(err, FormatError::Version { found: 99, supported: 2 }));
/// ```
pub fn parse_header(text: &str) -> Result<Header, FormatError> {
    let fields = Fields(parse_object(text).map_err(FormatError::NotATrace)?);
    match fields.str("format") {
        Ok(name) if name == FORMAT_NAME => {}
        Ok(name) => return Err(FormatError::NotATrace(format!("its format is `{name}`"))),
        Err(e) => return Err(FormatError::NotATrace(e)),
    }
    let version = fields.int("version").map_err(FormatError::NotATrace)?;
    if version < 1 || version > i64::from(FORMAT_VERSION) {
        return Err(FormatError::Version {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let bad = |message: String| FormatError::Line { line: 1, message };
    let unit = fields.str("unit").map_err(bad)?;
    if unit != "ms" {
        return Err(bad(format!("the unit is `{unit}`; trace times are in ms")));
    }
    let encoding = match (version, fields.opt_str("encoding").map_err(bad)?.as_deref()) {
        (1, None | Some("json")) => Encoding::JsonLines,
        (2, Some("binary")) => Encoding::Binary,
        (_, other) => {
            return Err(bad(format!(
                "version {version} has no encoding {}",
                other.map_or("of JSON lines".to_string(), |e| format!("`{e}`"))
            )));
        }
    };
    Ok(Header {
        version: version as u32,
        crate_version: fields.str("crate").map_err(bad)?,
        clock: fields.str("clock").map_err(bad)?,
        program: fields.opt_str("program").map_err(bad)?,
        encoding,
    })
}

/// Reads an event line.
///
/// # Errors
/// What is wrong with a line that is not an event, in words.
///
/// ```
/// use eventloop::trace::{TraceEvent, format::parse_event};
///
/// let stamped = parse_event(r#"{"t":7,"ev":"start","name":"setTimeout"}"#).unwrap();
/// assert_eq!((stamped.at, stamped.event), (7, TraceEvent::CallbackStarted("setTimeout".to_string())));
/// assert!(parse_event(r#"{"t":7,"ev":"start"}"#).unwrap_err().contains("`name`"));
/// ```
pub fn parse_event(text: &str) -> Result<Stamped<String>, String> {
    let f = Fields(parse_object(text)?);
    let at = f.uint("t")?;
    let kind = f.str("ev")?;
    let event = match kind.as_str() {
        "phase" => TraceEvent::Phase(f.phase()?),
        "phase_end" => TraceEvent::PhaseEnd(f.phase()?),
        "queues" => {
            let mut lengths = QueueLengths::default();
            for queue in Queue::ALL {
                lengths.set(queue, f.count(queue.name())?);
            }
            TraceEvent::Queues(lengths)
        }
        "queued" => TraceEvent::Queued {
            queue: f.queue()?,
            name: f.str("name")?,
            id: f.opt_uint("id")?,
            by: f.opt_str("by")?,
        },
        "unqueued" => TraceEvent::Unqueued {
            queue: f.queue()?,
            id: f.opt_uint("id")?,
        },
        "start" => TraceEvent::CallbackStarted(f.str("name")?),
        "end" => TraceEvent::CallbackFinished(f.str("name")?),
        "drain" => TraceEvent::Drain {
            ticks: f.count("ticks")?,
            microtasks: f.count("microtasks")?,
        },
        "drain_end" => TraceEvent::DrainEnd,
        "poll_wait" => TraceEvent::PollWait(match f.get("timeout") {
            Some(Value::Null) => None,
            _ => Some(f.uint("timeout")?),
        }),
        "poll_woke" => TraceEvent::PollWoke {
            waited: f.uint("waited")?,
            events: f.count("events")?,
        },
        "poll_ready" => TraceEvent::PollReady(f.count("events")?),
        "stalled" => TraceEvent::Stalled,
        "work_queued" => TraceEvent::WorkQueued {
            name: f.str("name")?,
            job: f.uint("job")?,
        },
        "work_started" => TraceEvent::WorkStarted {
            job: f.uint("job")?,
            worker: f.count("worker")?,
        },
        "work_finished" => TraceEvent::WorkFinished {
            job: f.uint("job")?,
            worker: f.count("worker")?,
            ran_us: f.uint("ran_us")?,
        },
        "work_done" => TraceEvent::WorkDone(f.count("jobs")?),
        "alive" => TraceEvent::Alive {
            handles: f.count("handles")?,
            requests: f.count("requests")?,
            alive: f.bool("alive")?,
        },
        "before_exit" => TraceEvent::BeforeExit,
        "exit" => TraceEvent::Exit(
            i32::try_from(f.int("code")?).map_err(|_| "`code` is not a 32-bit integer")?,
        ),
        "run_returned" => TraceEvent::RunReturned(f.bool("alive")?),
        "output" => TraceEvent::Output(f.str("line")?),
        other => {
            return Err(format!(
                "`{other}` is not an event of format version {JSON_LINES_VERSION}"
            ));
        }
    };
    Ok(Stamped { at, event })
}

// ANCHOR: read
/// Reads a whole trace, in either encoding: the header, then one event a line (blank lines
/// are skipped) or the frames of the binary encoding.
///
/// # Errors
/// [`FormatError`]: a read failed, the first line is not a header of this format or is of a
/// newer version, a line is not an event (the error gives its number), or a binary trace is
/// cut off or corrupt (the error gives the byte).
///
/// ```
/// use eventloop::trace::{FormatError, format};
///
/// let header = r#"{"format":"eventloop-trace","version":1,"crate":"0.1.0","clock":"none","unit":"ms"}"#;
/// let text = format!("{header}\n\n{{\"t\":0,\"ev\":\"drain_end\"}}\n{{\"t\":0}}\n");
/// let err = format::read(text.as_bytes()).unwrap_err();
/// assert!(matches!(err, FormatError::Line { line: 4, .. })); // blank lines count
/// ```
pub fn read(mut input: impl BufRead) -> Result<Recorded, FormatError> {
    let (header, header_lines, offset, _) = read_header(&mut input)?;
    let mut events = Vec::new();
    if header.encoding == Encoding::Binary {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(FormatError::Io)?;
        let mut names: Vec<String> = Vec::new();
        let mut at = 0;
        frames(&bytes, offset, |frame| {
            names.extend(frame.names);
            let mut lines = frame.lines.into_iter();
            let mut decoder = binary::Decoder::new(frame.events);
            while !decoder.at_end() {
                let pos = decoder.pos;
                decoder
                    .event(
                        &|n| names.get(n).cloned(),
                        &mut lines,
                        &mut at,
                        &mut |at, event| events.push(Stamped { at, event }),
                    )
                    .map_err(|e| (pos, e))?;
            }
            match lines.len() {
                0 => Ok(()),
                n => Err((frame.events.len(), format!("{n} output lines left over"))),
            }
        })?;
        return Ok(Recorded { header, events });
    }
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(FormatError::Io)?;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_event(&line).map_err(|message| FormatError::Line {
            line: header_lines + n + 1,
            message,
        })?;
        events.push(event);
    }
    Ok(Recorded { header, events })
}
// ANCHOR_END: read

/// Reads the header, the first line that is not blank: it, how many lines it took, how many
/// bytes, and its line as it was.
fn read_header(input: &mut impl BufRead) -> Result<(Header, usize, u64, Vec<u8>), FormatError> {
    let mut offset = 0;
    let mut lines = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(FormatError::Io)?;
        if n == 0 {
            return Err(FormatError::NotATrace("it is empty".into()));
        }
        offset += n as u64;
        lines += 1;
        let text = std::str::from_utf8(&line)
            .map_err(|_| FormatError::NotATrace("its first line is not text".into()))?;
        if !text.trim().is_empty() {
            let header = parse_header(text.trim_end_matches(['\n', '\r']))?;
            return Ok((header, lines, offset, line));
        }
    }
}

/// Reads the frames of a binary trace's `bytes` (which began at byte `base` of the file),
/// handing each to `each`; an error of `each` is an offset into the frame's events and what
/// is wrong there.
fn frames(
    bytes: &[u8],
    base: u64,
    mut each: impl FnMut(binary::Frame<'_>) -> Result<(), (usize, String)>,
) -> Result<(), FormatError> {
    let mut pos = 0;
    let mut n = 0;
    while pos < bytes.len() {
        n += 1;
        let begins = pos;
        let frame = binary::frame(bytes, &mut pos).map_err(|e| match e {
            FrameError::Truncated => FormatError::Truncated {
                frame: n,
                at: base + begins as u64,
            },
            FrameError::Corrupt(at, message) => FormatError::Corrupt {
                at: base + at as u64,
                message: format!("frame {n}: {message}"),
            },
        })?;
        let events_at = base + frame.events_at as u64;
        each(frame).map_err(|(at, message)| FormatError::Corrupt {
            at: events_at + at as u64,
            message: format!("frame {n}: {message}"),
        })?;
    }
    Ok(())
}

/// Writes the trace `input` as JSON lines to `out`: a binary trace decoded, line for line
/// what a trace written as JSON lines would hold; a trace in JSON lines, as it is.
///
/// # Errors
/// What [`read`] would say of `input`, or a write error.
///
/// ```
/// use eventloop::trace::{self, format};
///
/// let text = "{\"format\":\"eventloop-trace\",\"version\":1,\"crate\":\"0.1.0\",\"clock\":\"none\",\"unit\":\"ms\"}\n";
/// let mut out = Vec::new();
/// format::to_json_lines(text.as_bytes(), &mut out).unwrap();
/// assert_eq!(out, text.as_bytes()); // JSON lines already
/// ```
pub fn to_json_lines(mut input: impl BufRead, mut out: impl Write) -> Result<(), FormatError> {
    let (header, _, offset, line) = read_header(&mut input)?;
    if header.encoding == Encoding::JsonLines {
        out.write_all(&line).map_err(FormatError::Io)?;
        io::copy(&mut input, &mut out).map_err(FormatError::Io)?;
        return out.flush().map_err(FormatError::Io);
    }
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(FormatError::Io)?;
    let mut json = JsonText::default();
    json.text.extend_from_slice(
        Header {
            version: JSON_LINES_VERSION,
            encoding: Encoding::JsonLines,
            ..header
        }
        .to_line()
        .as_bytes(),
    );
    json.text.push(b'\n');
    let mut written = Ok(());
    frames(&bytes, offset, |frame| {
        json.chunk(frame.events, &frame.names, frame.lines)?;
        if written.is_ok() {
            written = out.write_all(&json.text);
        }
        json.text.clear();
        Ok(())
    })?;
    if written.is_ok() {
        written = out.write_all(&json.text);
    }
    written.and_then(|()| out.flush()).map_err(FormatError::Io)
}

/// A [`TraceSink`] writing the format to `W`: the header, then a line an event.
///
/// Give it a buffered writer (a `BufWriter<File>`): the loop writes one short line per
/// event. The first write error stops the trace; [`finish`](TraceSink::finish) reports it.
///
/// ```
/// use eventloop::trace::{JsonLines, TraceEvent, TraceSink, format};
///
/// let mut sink = JsonLines::new(Vec::new());
/// sink.begin("manual");
/// sink.record(0, &TraceEvent::Output("hi".into()));
/// sink.finish().unwrap();
/// let recorded = format::read(&sink.into_inner()[..]).unwrap();
/// assert_eq!(recorded.events.len(), 1);
/// ```
#[derive(Debug)]
pub struct JsonLines<W: Write> {
    out: W,
    program: Option<String>,
    /// The line being written, reused for every event.
    line: Vec<u8>,
    error: Option<io::Error>,
}

impl<W: Write> JsonLines<W> {
    /// A sink writing to `out`.
    ///
    /// ```
    /// use eventloop::trace::{JsonLines, TraceSink};
    ///
    /// let mut sink = JsonLines::new(std::io::BufWriter::new(Vec::new()));
    /// sink.begin("system");
    /// assert!(sink.finish().is_ok());
    /// ```
    pub fn new(out: W) -> Self {
        JsonLines {
            out,
            program: None,
            line: Vec::with_capacity(128),
            error: None,
        }
    }

    /// Names the traced program in the header.
    ///
    /// ```
    /// use eventloop::trace::{JsonLines, TraceSink, format};
    ///
    /// let mut sink = JsonLines::new(Vec::new()).program("echo_server");
    /// sink.begin("manual");
    /// let header = format::read(&sink.into_inner()[..]).unwrap().header;
    /// assert_eq!(header.program.as_deref(), Some("echo_server"));
    /// ```
    pub fn program(mut self, name: impl Into<String>) -> Self {
        self.program = Some(name.into());
        self
    }

    /// The writer, with everything written so far.
    ///
    /// ```
    /// use eventloop::trace::{JsonLines, TraceEvent, TraceSink};
    ///
    /// let mut sink = JsonLines::new(Vec::new());
    /// sink.record(2, &TraceEvent::Stalled);
    /// assert_eq!(sink.into_inner(), b"{\"t\":2,\"ev\":\"stalled\"}\n");
    /// ```
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes the line in `self.line`, and a newline.
    fn write_line(&mut self) {
        self.line.push(b'\n');
        if self.error.is_none()
            && let Err(e) = self.out.write_all(&self.line)
        {
            self.error = Some(e);
        }
        self.line.clear();
    }
}

impl<W: Write> TraceSink for JsonLines<W> {
    fn begin(&mut self, clock: &str) {
        let mut header = Header::new(clock);
        header.program = self.program.clone();
        self.line.extend_from_slice(header.to_line().as_bytes());
        self.write_line();
    }

    fn record(&mut self, at: u64, event: &TraceEvent) {
        write_event(&mut self.line, at, event);
        self.write_line();
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}
