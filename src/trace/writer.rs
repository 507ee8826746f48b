//! Tracing to a file at the loop's speed: the loop's thread writes each event in a few bytes
//! into a chunk, and a writer thread writes full chunks out — as they are, in a frame of the
//! binary encoding ([`binary`](super::binary), the default), or turned into JSON lines.
//!
//! A traced loop makes tens of millions of events a second (a `nextTick` chain makes three a
//! tick) and the JSON of each is some fifty bytes: formatting and writing them where they
//! happen made a traced loop up to 25 times slower. Here the loop's part of an event is a
//! byte for its kind, one for a time that changed, and a byte or two for each field — frame
//! names become small numbers the first time the loop sees them ([`Names`]), output lines
//! travel beside the bytes. Those bytes are the binary encoding itself: a writer thread of a
//! binary trace adds a frame's head (the new names, the lines, the length) and writes them as
//! they are. A writer thread of JSON lines decodes them back into the same [`TraceEvent`]s
//! and writes each as the format's line ([`JsonText`]), in the order they were recorded, so the
//! file is what the loop would have written itself, byte for byte.
//!
//! The queue between the two is bounded ([`IN_FLIGHT`] chunks of [`CHUNK`] bytes): when the
//! writer falls that far behind, the loop waits for it rather than lose events or grow
//! without end. [`Writer::finish`] hands over the last chunk and waits until the sink has
//! written and flushed everything; the recorder calls it when it is dropped — also when the
//! loop is dropped while a panic unwinds — so a trace keeps its tail.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use super::binary::{
    ALIVE, BEFORE_EXIT, DRAIN, DRAIN_END, Decoder, END, EXIT, OUTPUT, PHASE, PHASE_END, POLL_READY,
    POLL_WAIT, POLL_WOKE, QUEUED, QUEUES, RUN_RETURNED, STALLED, START, TIME, UNQUEUED, WORK_DONE,
    WORK_FINISHED, WORK_QUEUED, WORK_STARTED, frame_head, phase_change, zigzag,
};
use super::format::{Encoding, Header, write_event};
use super::json::{digits_into, escape_into};
use super::{Phase, Queue, QueueLengths, TraceEvent};

/// Bytes of encoded events the loop gathers before it hands them to the writer.
const CHUNK: usize = 256 * 1024;
/// Chunks that may wait for the writer (256 MiB: some 80 million events, 4 GB of JSON) before
/// the loop waits for it.
const IN_FLIGHT: usize = 1024;
/// More than the longest encoded event (a time and seven queue lengths: 82 bytes) or run of
/// events written at once (the alive decision and the next phase: 37), and the ten bytes a
/// number's copy may write past it.
const SLACK: usize = 128;

/// What the loop's thread sends the writer, in order.
enum Message {
    /// Write the header, for a clock of this kind.
    Begin(String),
    /// Events to write.
    Chunk(Chunk),
    /// Flush the sink and answer with its first error.
    Flush(Sender<io::Result<()>>),
}

/// A run of encoded events, with what they refer to that bytes cannot hold.
struct Chunk {
    bytes: Vec<u8>,
    /// The lines of its `OUTPUT` events, in order.
    lines: Vec<String>,
    /// Frame names seen for the first time in it: they take the next numbers.
    names: Vec<&'static str>,
}

/// Frame names as small numbers. Names are `&'static str`s the loop passes around, so a name
/// is found again by its address, in a small table the address picks the slot of; the full
/// list is searched only on a miss.
struct Names {
    all: Vec<&'static str>,
    /// (address, length, number) of a name recently seen, by a hash of its address.
    recent: [(usize, usize, u32); 64],
    /// Names numbered since the last chunk was sent.
    new: Vec<&'static str>,
    /// The name seen last: (address, length, number).
    last: (usize, usize, u32),
}

impl Names {
    fn new() -> Names {
        Names {
            all: Vec::new(),
            recent: [(0, 0, 0); 64],
            new: Vec::new(),
            last: (0, 0, 0),
        }
    }

    #[inline(always)]
    fn number(&mut self, name: &'static str) -> u32 {
        let address = name.as_ptr() as usize;
        // A chain names one frame over and over: the last name first.
        if address == self.last.0 && name.len() == self.last.1 {
            return self.last.2;
        }
        let n = self.slot(name, address);
        self.last = (address, name.len(), n);
        n
    }

    #[inline(always)]
    fn slot(&mut self, name: &'static str, address: usize) -> u32 {
        let slot = ((address >> 3) ^ name.len()) & 63;
        let (a, len, n) = self.recent[slot];
        if a == address && len == name.len() {
            return n;
        }
        self.lookup(name, address, slot)
    }

    /// The number of `name` if it was seen lately — the last name, or the one in its slot of
    /// the recent ones — without a call; `None` sends the caller the long way.
    #[inline(always)]
    fn known(&self, name: &'static str) -> Option<u32> {
        let address = name.as_ptr() as usize;
        if address == self.last.0 && name.len() == self.last.1 {
            return Some(self.last.2);
        }
        let (a, len, n) = self.recent[((address >> 3) ^ name.len()) & 63];
        (a == address && len == name.len()).then_some(n)
    }

    #[cold]
    fn lookup(&mut self, name: &'static str, address: usize, slot: usize) -> u32 {
        let n = match self.all.iter().position(|known| *known == name) {
            Some(n) => n as u32,
            None => {
                self.all.push(name);
                self.new.push(name);
                (self.all.len() - 1) as u32
            }
        };
        self.recent[slot] = (address, name.len(), n);
        n
    }
}

/// The room at the chunk's end where a hot event's bytes go (the chunk's [`SLACK`]: more than
/// any one of them, or any run written at once, needs). Its count of bytes written lives in
/// a register and is checked against the room's fixed size, not the chunk: a byte is a
/// compare and a store, where writing into the chunk itself reloaded its length and bounds
/// after every byte (a store through the chunk's pointer could, for all the compiler knew,
/// have changed them).
pub(super) struct Room<'a> {
    out: &'a mut [u8; SLACK],
    n: usize,
    /// The chunk's length, which [`done`](Self::done) moves past the bytes written.
    len: &'a mut usize,
}

impl Room<'_> {
    #[inline(always)]
    pub(super) fn byte(&mut self, b: u8) {
        self.out[self.n] = b;
        self.n += 1;
    }

    #[inline(always)]
    pub(super) fn bytes<const N: usize>(&mut self, b: [u8; N]) {
        self.out[self.n..self.n + N].copy_from_slice(&b);
        self.n += N;
    }

    /// `n` as LEB128: in line up to three bytes (an entry's id in a long run).
    #[inline(always)]
    pub(super) fn number(&mut self, n: u64) {
        if n < 0x80 {
            self.byte(n as u8);
        } else if n < 1 << 14 {
            self.bytes([(n as u8) | 0x80, (n >> 7) as u8]);
        } else if n < 1 << 21 {
            self.bytes([(n as u8) | 0x80, ((n >> 7) as u8) | 0x80, (n >> 14) as u8]);
        } else {
            self.n = long_number(self.out, self.n, n);
        }
    }

    /// `n`, under 2^21, as LEB128: one to three bytes, with no call (the short ways check
    /// their numbers are this small before they write anything).
    #[inline(always)]
    pub(super) fn small(&mut self, n: u64) {
        debug_assert!(n < 1 << 21, "checked by the caller");
        if n < 0x80 {
            self.byte(n as u8);
        } else if n < 1 << 14 {
            self.bytes([(n as u8) | 0x80, (n >> 7) as u8]);
        } else {
            self.bytes([(n as u8) | 0x80, ((n >> 7) as u8) | 0x80, (n >> 14) as u8]);
        }
    }

    /// `0` for none, `n + 1` for `Some(n)`.
    #[inline(always)]
    pub(super) fn optional(&mut self, n: Option<u64>) {
        self.number(n.map_or(0, |n| n.wrapping_add(1)));
    }

    /// Ends an event written the short way: the chunk takes its bytes (a full chunk is sent
    /// by the next event the long way).
    #[inline(always)]
    pub(super) fn end(self) {
        *self.len += self.n;
    }

    /// Ends the event: the chunk takes its bytes. True when the chunk is full.
    #[inline(always)]
    fn done(self) -> bool {
        *self.len += self.n;
        *self.len >= CHUNK
    }
}

/// `n` as LEB128 into `out` from `at`; where it ends. (Out of line, and given the room's
/// count by value, so the count of the hot paths stays in a register.)
#[cold]
#[inline(never)]
fn long_number(out: &mut [u8; SLACK], mut at: usize, mut n: u64) -> usize {
    while n >= 0x80 {
        out[at] = (n as u8) | 0x80;
        n >>= 7;
        at += 1;
    }
    out[at] = n as u8;
    at + 1
}

/// A new time, `time`, into `out` from `at`; where it ends.
#[cold]
#[inline(never)]
fn new_time(out: &mut [u8; SLACK], at: usize, time: u64) -> usize {
    out[at] = TIME;
    long_number(out, at + 1, time)
}

/// A chunk's bytes: [`CHUNK`] of events, and the [`SLACK`] the last one may run into.
type ChunkBytes = [u8; CHUNK + SLACK];

/// A chunk to fill: `spare`, emptied by the writer thread, or a new one.
fn chunk_bytes(spare: Option<Vec<u8>>) -> Box<ChunkBytes> {
    spare
        .filter(|bytes| bytes.len() == CHUNK + SLACK)
        .and_then(|bytes| bytes.into_boxed_slice().try_into().ok())
        .unwrap_or_else(|| {
            vec![0; CHUNK + SLACK]
                .into_boxed_slice()
                .try_into()
                .expect("CHUNK + SLACK bytes")
        })
}

/// A trace written by a thread of its own: what the recorder holds instead of a sink.
pub(super) struct Writer {
    /// The chunk being filled; `len` bytes of it are events. Its size is in its type, so
    /// writing into it checks no length loaded from memory.
    bytes: Box<ChunkBytes>,
    len: usize,
    lines: Vec<String>,
    names: Names,
    /// The time of the last event encoded.
    at: u64,
    /// `None` once the writer thread is gone (its sink panicked).
    to_writer: Option<SyncSender<Message>>,
    /// Chunks the writer has emptied, to be filled again.
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<()>>,
    /// Events were lost because the writer thread is gone; `finish` says so, once.
    lost: bool,
}

impl Writer {
    /// Starts the writer thread, which writes the trace to `out` from now on.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub(super) fn start(
        out: impl Write + Send + 'static,
        encoding: Encoding,
    ) -> io::Result<Writer> {
        let (to_writer, messages) = mpsc::sync_channel(IN_FLIGHT);
        let (give_back, spare) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("eventloop-trace".into())
            .spawn(move || write(out, encoding, &messages, &give_back))?;
        Ok(Writer {
            bytes: chunk_bytes(None),
            len: 0,
            lines: Vec::new(),
            names: Names::new(),
            at: 0,
            to_writer: Some(to_writer),
            spare,
            thread: Some(thread),
            lost: false,
        })
    }

    fn send(&mut self, message: Message) {
        if let Some(to_writer) = &self.to_writer
            && to_writer.send(message).is_err()
        {
            self.to_writer = None;
        }
        if self.to_writer.is_none() {
            self.lost = true;
        }
    }

    pub(super) fn begin(&mut self, clock: &str) {
        self.send(Message::Begin(clock.to_string()));
    }

    /// Hands the events gathered so far to the writer.
    #[cold]
    fn send_chunk(&mut self) {
        if self.len == 0 && self.lines.is_empty() && self.names.new.is_empty() {
            return;
        }
        let empty = chunk_bytes(self.spare.try_recv().ok());
        let full = std::mem::replace(&mut self.bytes, empty) as Box<[u8]>;
        let mut bytes = full.into_vec();
        bytes.truncate(std::mem::take(&mut self.len));
        let chunk = Chunk {
            bytes,
            lines: std::mem::take(&mut self.lines),
            names: std::mem::take(&mut self.names.new),
        };
        self.send(Message::Chunk(chunk));
    }

    /// Appends `bytes` to the chunk. The chunk is a buffer of its full size, written by index:
    /// no growing, so the hot paths below need no call but the chunk's hand-over.
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        self.bytes[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Appends `n` as LEB128: in line for a number under 128 (one byte), most of them.
    #[inline(always)]
    fn put_number(&mut self, n: u64) {
        if n < 0x80 {
            self.put(&[n as u8]);
        } else if n < 1 << 21 {
            // An entry's id in a long run: two or three bytes, still in line.
            let bytes = [(n as u8) | 0x80, ((n >> 7) as u8) | 0x80, (n >> 14) as u8];
            let len = if n < 1 << 14 { 2 } else { 3 };
            let end = self.len + 3;
            self.bytes[self.len..end].copy_from_slice(&bytes);
            self.bytes[self.len + len - 1] &= 0x7f;
            self.len += len;
        } else {
            self.put_long_number(n);
        }
    }

    /// Appends `n` as LEB128. Ten bytes are copied whatever `n` is (a copy of a fixed size is
    /// a few moves, not a call), and the chunk's end moves past those `n` needs.
    #[inline(never)]
    fn put_long_number(&mut self, n: u64) {
        let mut out = [0; 10];
        let mut len = 0;
        let mut n = n;
        while n >= 0x80 {
            out[len] = (n as u8) | 0x80;
            n >>= 7;
            len += 1;
        }
        out[len] = n as u8;
        self.bytes[self.len..self.len + 10].copy_from_slice(&out);
        self.len += len + 1;
    }

    /// Appends the number of the frame name `name`.
    #[inline]
    fn put_name(&mut self, name: &'static str) {
        let n = self.names.number(name);
        self.put_number(n.into());
    }

    /// Appends `0` for none, `n + 1` for `Some(n)`.
    #[inline(always)]
    fn put_optional(&mut self, n: Option<u64>) {
        self.put_number(n.map_or(0, |n| n.wrapping_add(1)));
    }

    /// Encodes `event`, recorded at `at`.
    pub(super) fn record(&mut self, at: u64, event: &TraceEvent) {
        self.end_event(); // a chunk the short ways filled goes first
        self.stamp(at);
        self.encode(event);
        self.end_event();
    }

    /// Encodes `event` into the chunk.
    fn encode(&mut self, event: &TraceEvent) {
        match event {
            TraceEvent::Phase(phase) => self.put(&[PHASE, *phase as u8]),
            TraceEvent::PhaseEnd(phase) => self.put(&[PHASE_END, *phase as u8]),
            TraceEvent::Queues(lengths) => {
                self.put(&[QUEUES]);
                for queue in Queue::ALL {
                    self.put_number(lengths.get(queue) as u64);
                }
            }
            TraceEvent::Queued {
                queue,
                name,
                id,
                by,
            } => {
                self.put(&[QUEUED, *queue as u8]);
                self.put_name(name);
                self.put_optional(*id);
                let by = by.map(|by| u64::from(self.names.number(by)));
                self.put_optional(by);
            }
            TraceEvent::Unqueued { queue, id } => {
                self.put(&[UNQUEUED, *queue as u8]);
                self.put_optional(*id);
            }
            TraceEvent::CallbackStarted(name) => {
                self.put(&[START]);
                self.put_name(name);
            }
            TraceEvent::CallbackFinished(name) => {
                self.put(&[END]);
                self.put_name(name);
            }
            TraceEvent::Drain { ticks, microtasks } => {
                self.put(&[DRAIN]);
                self.put_number(*ticks as u64);
                self.put_number(*microtasks as u64);
            }
            TraceEvent::DrainEnd => self.put(&[DRAIN_END]),
            TraceEvent::PollWait(timeout) => {
                self.put(&[POLL_WAIT]);
                self.put_optional(*timeout);
            }
            TraceEvent::PollWoke { waited, events } => {
                self.put(&[POLL_WOKE]);
                self.put_number(*waited);
                self.put_number(*events as u64);
            }
            TraceEvent::PollReady(events) => {
                self.put(&[POLL_READY]);
                self.put_number(*events as u64);
            }
            TraceEvent::Stalled => self.put(&[STALLED]),
            TraceEvent::WorkQueued { name, job } => {
                self.put(&[WORK_QUEUED]);
                self.put_name(name);
                self.put_number(*job);
            }
            TraceEvent::WorkStarted { job, worker } => {
                self.put(&[WORK_STARTED]);
                self.put_number(*job);
                self.put_number(*worker as u64);
            }
            TraceEvent::WorkFinished {
                job,
                worker,
                ran_us,
            } => {
                self.put(&[WORK_FINISHED]);
                self.put_number(*job);
                self.put_number(*worker as u64);
                self.put_number(*ran_us);
            }
            TraceEvent::WorkDone(jobs) => {
                self.put(&[WORK_DONE]);
                self.put_number(*jobs as u64);
            }
            TraceEvent::Alive {
                handles,
                requests,
                alive,
            } => {
                self.put(&[ALIVE]);
                self.put_number(*handles as u64);
                self.put_number(*requests as u64);
                self.put(&[u8::from(*alive)]);
            }
            TraceEvent::BeforeExit => self.put(&[BEFORE_EXIT]),
            TraceEvent::Exit(code) => {
                self.put(&[EXIT]);
                self.put_number(zigzag(*code));
            }
            TraceEvent::RunReturned(alive) => self.put(&[RUN_RETURNED, u8::from(*alive)]),
            TraceEvent::Output(line) => {
                self.put(&[OUTPUT]);
                self.lines.push(line.clone());
            }
        }
    }

    /// Notes the time of the next event, when it changed.
    #[inline]
    fn stamp(&mut self, at: u64) {
        if at != self.at {
            self.new_time(at);
        }
    }

    #[cold]
    #[inline(never)]
    fn new_time(&mut self, at: u64) {
        self.at = at;
        self.put(&[TIME]);
        self.put_number(at);
    }

    /// The time of the last event encoded.
    pub(super) fn time(&self) -> u64 {
        self.at
    }

    /// Sends the chunk once it is full.
    #[inline]
    fn end_event(&mut self) {
        if self.len >= CHUNK {
            self.send_chunk();
        }
    }

    // The events a busy loop records by the million, encoded without building a
    // `TraceEvent` first (the recorder's short way, `Recorder::fast`), each through
    // [`event`](Self::event) into the room at the chunk's end.

    /// The room at the chunk's end for an event at `at`, the time written first if it
    /// changed. The event's bytes go in; then [`Room::done`] says whether the chunk is full.
    #[inline(always)]
    fn room(&mut self, at: u64) -> Room<'_> {
        self.end_event(); // a chunk the short ways filled goes first
        let Writer {
            bytes,
            len,
            at: last,
            ..
        } = self;
        let out = (&mut bytes[*len..*len + SLACK])
            .try_into()
            .expect("a range of SLACK bytes");
        let mut room = Room { out, n: 0, len };
        if at != *last {
            *last = at;
            room.n = new_time(room.out, 0, at);
        }
        room
    }

    // The short ways (`Trace`'s `*_short`): the commonest form of a hot event, written with
    // no call at all — so the recorder's function that writes it saves no registers and is a
    // few moves. Each asks first whether it can ([`Writer::short`]): the event's time is the
    // last one's, and the chunk is not full. A chunk they fill is handed over by the next
    // event the long way (which makes room first), or by `finish`.

    /// The room at the chunk's end for an event at `at`, if it can be written the short way.
    #[inline(always)]
    pub(super) fn short(&mut self, at: u64) -> Option<Room<'_>> {
        if at != self.at || self.len >= CHUNK {
            return None;
        }
        let Writer { bytes, len, .. } = self;
        let out = (&mut bytes[*len..*len + SLACK]).try_into().ok()?;
        Some(Room { out, n: 0, len })
    }

    /// The number of the frame name `name`, if known without a call ([`Names::known`]) and
    /// under 128 (a byte).
    #[inline(always)]
    pub(super) fn short_name(&self, name: &'static str) -> Option<u8> {
        self.names
            .known(name)
            .filter(|&n| n < 0x80)
            .map(|n| n as u8)
    }

    // ANCHOR: hot_events
    /// `ended` (if a phase was open) ends and `phase` begins, at `at`.
    #[inline(always)]
    pub(super) fn phase(&mut self, at: u64, ended: Option<Phase>, phase: Phase) {
        let mut room = self.room(at);
        match ended {
            // The commonest pair, a byte: most phases of a busy loop run nothing.
            Some(ended) => room.byte(phase_change(ended, phase)),
            None => room.bytes([PHASE, phase as u8]),
        }
        if room.done() {
            self.send_chunk();
        }
    }

    /// The queue lengths, at `at`.
    #[inline]
    pub(super) fn queues(&mut self, at: u64, lengths: &QueueLengths) {
        self.record(at, &TraceEvent::Queues(*lengths));
    }

    /// A callback started (`started`) or finished, at `at`.
    #[inline(always)]
    pub(super) fn callback(&mut self, at: u64, name: &'static str, started: bool) {
        let n = self.names.number(name);
        let kind = if started { START } else { END };
        // The first 128 names fit a byte: the event is two bytes.
        let mut room = self.room(at);
        room.byte(kind);
        room.number(n.into());
        if room.done() {
            self.send_chunk();
        }
    }

    // ANCHOR_END: hot_events

    /// A whole poll phase the commonest way, in one go: `ended` (if a phase was open) ends and
    /// the poll phase begins at `began`, with a wait of `timeout`; the wait is over at `woke`,
    /// having returned `events`.
    #[inline(always)]
    pub(super) fn poll_phase(
        &mut self,
        began: u64,
        ended: Option<Phase>,
        timeout: Option<u64>,
        woke: u64,
        events: usize,
    ) {
        let mut room = self.room(began);
        match ended {
            Some(ended) => room.byte(phase_change(ended, Phase::Poll)),
            None => room.bytes([PHASE, Phase::Poll as u8]),
        }
        room.byte(POLL_WAIT);
        room.optional(timeout);
        if room.done() {
            self.send_chunk();
        }
        self.poll_woke(woke, woke.saturating_sub(began), events);
    }

    /// The poll phase is about to wait `timeout` ms (`None`: until woken), at `at`.
    #[inline(always)]
    pub(super) fn poll_wait(&mut self, at: u64, timeout: Option<u64>) {
        let mut room = self.room(at);
        room.byte(POLL_WAIT);
        room.optional(timeout);
        if room.done() {
            self.send_chunk();
        }
    }

    /// The poll's wait is over, at `at`.
    #[inline(always)]
    pub(super) fn poll_woke(&mut self, at: u64, waited: u64, events: usize) {
        let mut room = self.room(at);
        room.byte(POLL_WOKE);
        room.number(waited);
        room.number(events as u64);
        if room.done() {
            self.send_chunk();
        }
    }

    /// The loop's decision whether it is alive, at `at`, ending the phase `ended` if one was
    /// open — and, with `then`, the phase that begins the next iteration.
    #[inline(always)]
    pub(super) fn alive(
        &mut self,
        at: u64,
        ended: Option<Phase>,
        (handles, requests): (usize, usize),
        alive: bool,
        then: Option<Phase>,
    ) {
        let mut room = self.room(at);
        if let Some(ended) = ended {
            room.bytes([PHASE_END, ended as u8]);
        }
        room.byte(ALIVE);
        room.number(handles as u64);
        room.number(requests as u64);
        room.byte(u8::from(alive));
        if let Some(phase) = then {
            room.bytes([PHASE, phase as u8]);
        }
        if room.done() {
            self.send_chunk();
        }
    }

    /// An entry joined `queue`, at `at`.
    #[inline(always)]
    pub(super) fn queued(
        &mut self,
        at: u64,
        queue: Queue,
        name: &'static str,
        id: Option<u64>,
        by: Option<&'static str>,
    ) {
        let n = self.names.number(name);
        // Queued by a frame of its own name (a tick queuing the next): one lookup.
        let by = by.map(|by| {
            if by.as_ptr() == name.as_ptr() && by.len() == name.len() {
                n
            } else {
                self.names.number(by)
            }
        });
        let mut room = self.room(at);
        room.bytes([QUEUED, queue as u8]);
        room.number(n.into());
        room.optional(id);
        room.optional(by.map(u64::from));
        if room.done() {
            self.send_chunk();
        }
    }

    /// An entry left `queue`, at `at`.
    #[inline]
    pub(super) fn unqueued(&mut self, at: u64, queue: Queue, id: Option<u64>) {
        let mut room = self.room(at);
        room.bytes([UNQUEUED, queue as u8]);
        room.optional(id);
        if room.done() {
            self.send_chunk();
        }
    }

    /// Hands over every event recorded so far and waits until the sink has written and
    /// flushed them; reports the sink's first error, or that events were lost.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        self.send_chunk();
        let (reply, answer) = mpsc::channel();
        self.send(Message::Flush(reply));
        let finished = answer.recv().unwrap_or(Ok(()));
        if std::mem::take(&mut self.lost) {
            return Err(io::Error::other(
                "the trace's writer thread stopped: the trace is incomplete",
            ));
        }
        finished
    }
}

impl Drop for Writer {
    /// Lets the writer thread end (the recorder has finished it already) and waits for it.
    fn drop(&mut self) {
        self.to_writer = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join(); // a panic in the sink was reported by `finish`
        }
    }
}

/// The writer thread: writes each chunk, in order, to `out` — as a frame of the binary
/// encoding, or turned into JSON lines. The first write error stops the trace; the next flush
/// reports it.
fn write(
    mut out: impl Write,
    encoding: Encoding,
    messages: &Receiver<Message>,
    give_back: &Sender<Vec<u8>>,
) {
    let mut json = JsonText::default();
    let mut error = None;
    for message in messages {
        match message {
            Message::Begin(clock) => {
                let header = match encoding {
                    Encoding::Binary => Header::binary(&clock),
                    Encoding::JsonLines => Header::new(&clock),
                };
                json.text.extend_from_slice(header.to_line().as_bytes());
                json.text.push(b'\n');
            }
            Message::Chunk(mut chunk) => {
                match encoding {
                    Encoding::Binary => {
                        // The frame as the loop made it: its head, then its bytes untouched.
                        frame_head(
                            &mut json.text,
                            &chunk.names,
                            &chunk.lines,
                            chunk.bytes.len(),
                        );
                        if error.is_none()
                            && let Err(e) = out
                                .write_all(&json.text)
                                .and_then(|()| out.write_all(&chunk.bytes))
                        {
                            error = Some(e);
                        }
                        json.text.clear();
                    }
                    Encoding::JsonLines => {
                        json.chunk(&chunk.bytes, &chunk.names, chunk.lines)
                            .expect("the loop's own chunks decode");
                    }
                }
                // Back to its full size here, off the loop's thread.
                chunk.bytes.clear();
                chunk.bytes.resize(CHUNK + SLACK, 0);
                let _ = give_back.send(chunk.bytes);
            }
            Message::Flush(reply) => {
                let _ = reply.send(match error.take() {
                    Some(e) => Err(e),
                    None => out.flush(),
                });
                continue;
            }
        }
        if error.is_none()
            && let Err(e) = out.write_all(&json.text)
        {
            error = Some(e);
        }
        json.text.clear();
    }
}

/// The binary encoding's events turned into JSON lines: what a writer thread writing JSON
/// lines does with each chunk, and what [`to_json_lines`](super::format::to_json_lines) does
/// with each frame of a file. It knows what runs across chunks (the names, the time) and holds
/// the text of the chunk at hand.
#[derive(Default)]
pub(super) struct JsonText {
    pub(super) text: Vec<u8>,
    /// Every name so far, as a JSON string, quotes and all.
    quoted: Vec<Vec<u8>>,
    /// Every name so far, as it is.
    plain: Vec<String>,
    /// `{"t":` and the time of the events at hand, `,"ev":"`: what every line starts with.
    prefix: Vec<u8>,
    /// The time of the events at hand.
    at: u64,
}

impl JsonText {
    /// Appends the lines of a chunk's events to `self.text`; `names` are the chunk's new names
    /// and `lines` its output lines. The kinds a busy loop makes by the million (phases, queue
    /// entries, callbacks) are written here piece by piece; the rest go through
    /// [`write_event`], the format's own writer, which the tests hold these to.
    ///
    /// # Errors
    /// What is wrong with bytes that are not events, and where (their offset).
    pub(super) fn chunk<S: AsRef<str>>(
        &mut self,
        bytes: &[u8],
        names: &[S],
        lines: Vec<String>,
    ) -> Result<(), (usize, String)> {
        for name in names {
            let mut quoted = Vec::new();
            escape_into(&mut quoted, name.as_ref());
            self.quoted.push(quoted);
            self.plain.push(name.as_ref().to_string());
        }
        let known = self.plain.len();
        let mut lines = lines.into_iter();
        let mut decoder = Decoder::new(bytes);
        let mut at = self.at;
        while !decoder.at_end() {
            let pos = decoder.pos;
            decoder
                .event(
                    &|n| (n < known).then_some(n),
                    &mut lines,
                    &mut at,
                    &mut |at, event| self.line(at, &event),
                )
                .map_err(|e| (pos, e))?;
        }
        self.at = at;
        match lines.len() {
            0 => Ok(()),
            n => Err((
                bytes.len(),
                format!("{n} output lines left over after the events"),
            )),
        }
    }

    /// Appends the line of `event`, at `at`.
    fn line(&mut self, at: u64, event: &TraceEvent<usize>) {
        if self.prefix.is_empty() || at != self.at {
            self.at = at;
            self.prefix.clear();
            self.prefix.extend_from_slice(b"{\"t\":");
            digits_into(&mut self.prefix, at);
            self.prefix.extend_from_slice(b",\"ev\":\"");
        }
        let out = &mut self.text;
        let phase = |out: &mut Vec<u8>, prefix: &[u8], kind: &[u8], phase: Phase| {
            out.extend_from_slice(prefix);
            out.extend_from_slice(kind);
            out.extend_from_slice(phase.name().as_bytes());
            out.extend_from_slice(b"\"}\n");
        };
        match *event {
            TraceEvent::Phase(p) => phase(out, &self.prefix, b"phase\",\"phase\":\"", p),
            TraceEvent::PhaseEnd(p) => phase(out, &self.prefix, b"phase_end\",\"phase\":\"", p),
            TraceEvent::CallbackStarted(name) | TraceEvent::CallbackFinished(name) => {
                out.extend_from_slice(&self.prefix);
                out.extend_from_slice(if matches!(event, TraceEvent::CallbackStarted(_)) {
                    b"start\",\"name\":"
                } else {
                    b"end\",\"name\":"
                });
                out.extend_from_slice(&self.quoted[name]);
                out.extend_from_slice(b"}\n");
            }
            TraceEvent::Queued {
                queue,
                name,
                id,
                by,
            } => {
                out.extend_from_slice(&self.prefix);
                out.extend_from_slice(b"queued\",\"queue\":\"");
                out.extend_from_slice(queue.name().as_bytes());
                out.extend_from_slice(b"\",\"name\":");
                out.extend_from_slice(&self.quoted[name]);
                if let Some(id) = id {
                    out.extend_from_slice(b",\"id\":");
                    digits_into(out, id);
                }
                if let Some(by) = by {
                    out.extend_from_slice(b",\"by\":");
                    out.extend_from_slice(&self.quoted[by]);
                }
                out.extend_from_slice(b"}\n");
            }
            TraceEvent::Unqueued { queue, id } => {
                out.extend_from_slice(&self.prefix);
                out.extend_from_slice(b"unqueued\",\"queue\":\"");
                out.extend_from_slice(queue.name().as_bytes());
                out.push(b'"');
                if let Some(id) = id {
                    out.extend_from_slice(b",\"id\":");
                    digits_into(out, id);
                }
                out.extend_from_slice(b"}\n");
            }
            _ => {
                let plain = &self.plain;
                write_event(out, at, &event.clone().map_names(|n| plain[n].as_str()));
                out.push(b'\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::format::{self, FORMAT_VERSION, Recorded, Stamped};

    /// Every kind, with numbers at the edges of their encodings.
    fn one_of_each() -> Vec<(u64, TraceEvent)> {
        let lengths = QueueLengths {
            timers: 1 << 20,
            immediates: 127,
            ticks: 128,
            microtasks: 0,
            pending: 3,
            closing: 4,
            pool: usize::MAX,
        };
        vec![
            (0, TraceEvent::Phase(Phase::Timers)),
            (0, TraceEvent::PhaseEnd(Phase::Pending)),
            (1, TraceEvent::Queues(lengths)),
            (
                1,
                TraceEvent::Queued {
                    queue: Queue::Pool,
                    name: "setTimeout",
                    id: Some(0),
                    by: Some("main"),
                },
            ),
            (
                1,
                TraceEvent::Queued {
                    queue: Queue::Ticks,
                    name: "nextTick",
                    id: None,
                    by: None,
                },
            ),
            (
                1,
                TraceEvent::Queued {
                    queue: Queue::Microtasks,
                    name: "promiseReaction",
                    id: None,
                    by: Some("nextTick"),
                },
            ),
            (
                u64::MAX,
                TraceEvent::Unqueued {
                    queue: Queue::Closing,
                    id: Some(u64::MAX - 1),
                },
            ),
            (5, TraceEvent::CallbackStarted("setTimeout")),
            (5, TraceEvent::CallbackFinished("main")),
            (
                5,
                TraceEvent::Drain {
                    ticks: 9,
                    microtasks: 300,
                },
            ),
            (5, TraceEvent::DrainEnd),
            (5, TraceEvent::PollWait(None)),
            (5, TraceEvent::PollWait(Some(0))),
            (
                6,
                TraceEvent::PollWoke {
                    waited: 1,
                    events: 2,
                },
            ),
            (6, TraceEvent::PollReady(1)),
            (6, TraceEvent::Stalled),
            (
                6,
                TraceEvent::WorkQueued {
                    name: "fs.readFile",
                    job: 7,
                },
            ),
            (6, TraceEvent::WorkStarted { job: 7, worker: 3 }),
            (
                6,
                TraceEvent::WorkFinished {
                    job: 7,
                    worker: 3,
                    ran_us: 123_456,
                },
            ),
            (6, TraceEvent::WorkDone(1)),
            (
                6,
                TraceEvent::Alive {
                    handles: 2,
                    requests: 1,
                    alive: true,
                },
            ),
            (6, TraceEvent::BeforeExit),
            (6, TraceEvent::Exit(-3)),
            (6, TraceEvent::Exit(i32::MIN)),
            (6, TraceEvent::Exit(i32::MAX)),
            (6, TraceEvent::RunReturned(false)),
            (6, TraceEvent::Output("hello <world>".into())),
            (0, TraceEvent::Output(String::new())),
        ]
    }

    /// A writer whose bytes the test can read once the thread has written them.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Records `event` the short way the loop's hot events take, where there is one.
    fn record_fast(writer: &mut Writer, at: u64, event: &TraceEvent) {
        match *event {
            TraceEvent::Phase(phase) => writer.phase(at, None, phase),
            TraceEvent::Queues(lengths) => writer.queues(at, &lengths),
            TraceEvent::CallbackStarted(name) => writer.callback(at, name, true),
            TraceEvent::CallbackFinished(name) => writer.callback(at, name, false),
            TraceEvent::Queued {
                queue,
                name,
                id,
                by,
            } => writer.queued(at, queue, name, id, by),
            TraceEvent::Unqueued { queue, id } => writer.unqueued(at, queue, id),
            TraceEvent::PollWait(timeout) => writer.poll_wait(at, timeout),
            TraceEvent::PollWoke { waited, events } => writer.poll_woke(at, waited, events),
            TraceEvent::Alive {
                handles,
                requests,
                alive,
            } => writer.alive(at, None, (handles, requests), alive, None),
            _ => writer.record(at, event),
        }
    }

    #[test]
    fn the_writer_writes_every_event_as_the_format_does_and_in_order() {
        let written = Shared::default();
        let mut writer = Writer::start(written.clone(), Encoding::JsonLines).unwrap();
        writer.begin("manual");
        let mut expected = Header::new("manual").to_line().into_bytes();
        expected.push(b'\n');
        let mut sent = 0;
        // Enough to fill several chunks, so order across chunks is checked too.
        for round in 0..(3 * CHUNK / 64) as u64 {
            for (at, event) in one_of_each() {
                let at = at.wrapping_add(round);
                if round % 2 == 0 {
                    writer.record(at, &event);
                } else {
                    record_fast(&mut writer, at, &event);
                }
                write_event(&mut expected, at, &event);
                expected.push(b'\n');
                sent += 1;
            }
        }
        writer.finish().unwrap();
        drop(writer);
        let written = std::mem::take(&mut *written.0.lock().unwrap());
        let expected = String::from_utf8(expected).unwrap();
        let written = String::from_utf8(written).unwrap();
        let (mut expected, mut written) = (expected.lines(), written.lines());
        for n in 0..=sent {
            let (e, w) = (expected.next(), written.next());
            assert_eq!(w, e, "line {} differs from what the format writes", n + 1);
        }
        assert_eq!(written.next(), None, "nothing more");
    }

    #[test]
    fn names_past_the_first_128_take_the_long_way_and_come_out_right() {
        let written = Shared::default();
        let mut writer = Writer::start(written.clone(), Encoding::JsonLines).unwrap();
        let mut expected = Vec::new();
        for n in 0..300 {
            let name: &'static str = Box::leak(format!("frame{n}").into_boxed_str());
            let events = [
                TraceEvent::CallbackStarted(name),
                TraceEvent::Queued {
                    queue: Queue::Ticks,
                    name,
                    id: None,
                    by: Some(name),
                },
                TraceEvent::CallbackFinished(name),
            ];
            for event in &events {
                record_fast(&mut writer, 0, event);
                write_event(&mut expected, 0, event);
                expected.push(b'\n');
            }
        }
        writer.finish().unwrap();
        drop(writer);
        let written = std::mem::take(&mut *written.0.lock().unwrap());
        assert_eq!(String::from_utf8(written), String::from_utf8(expected));
    }

    #[test]
    fn a_write_error_is_reported_by_finish_once() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "the disk is full",
                ))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut writer = Writer::start(Full, Encoding::Binary).unwrap();
        writer.begin("system");
        writer.record(0, &TraceEvent::Stalled);
        let err = writer.finish().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert!(writer.finish().is_ok(), "reported once");
    }

    #[test]
    fn names_are_numbered_once_by_content() {
        let mut names = Names::new();
        let owned = String::from("setTimeout");
        let leaked: &'static str = Box::leak(owned.into_boxed_str());
        let a = names.number("setTimeout");
        let b = names.number(leaked); // the same text at another address
        let c = names.number("nextTick");
        assert_eq!((a, b, c), (0, 0, 1));
        assert_eq!(names.all, ["setTimeout", "nextTick"]);
    }

    /// What `record` does, in the encoding `encoding`, read back by the format's reader.
    fn written(encoding: Encoding, record: impl FnOnce(&mut Writer)) -> Recorded {
        let out = Shared::default();
        let mut writer = Writer::start(out.clone(), encoding).unwrap();
        writer.begin("manual");
        record(&mut writer);
        writer.finish().unwrap();
        drop(writer);
        let bytes = std::mem::take(&mut *out.0.lock().unwrap());
        let read = format::read(&bytes[..]).unwrap();
        assert_eq!(read.header.encoding, encoding);
        read
    }

    #[test]
    fn a_binary_trace_reads_back_as_the_events_written_across_frames() {
        let mut expected = Vec::new();
        let read = written(Encoding::Binary, |writer| {
            for round in 0..(3 * CHUNK / 64) as u64 {
                for (at, event) in one_of_each() {
                    let at = at.wrapping_add(round);
                    if round % 2 == 0 {
                        writer.record(at, &event);
                    } else {
                        record_fast(writer, at, &event);
                    }
                    expected.push(Stamped {
                        at,
                        event: event.map_names(String::from),
                    });
                }
            }
        });
        assert_eq!(read.header.version, FORMAT_VERSION);
        assert_eq!(read.events.len(), expected.len());
        if let Some(i) = (0..expected.len()).find(|&i| read.events[i] != expected[i]) {
            panic!(
                "event {i}: read {:?}, written {:?}",
                read.events[i], expected[i]
            );
        }
    }

    #[test]
    fn a_phase_change_is_one_byte_and_reads_back_as_its_end_and_its_beginning() {
        for encoding in [Encoding::Binary, Encoding::JsonLines] {
            let read = written(encoding, |writer| {
                for ended in Phase::ALL {
                    for began in Phase::ALL {
                        writer.phase(3, Some(ended), began);
                    }
                }
            });
            let expected: Vec<_> = Phase::ALL
                .into_iter()
                .flat_map(|e| Phase::ALL.map(|b| (e, b)))
                .flat_map(|(e, b)| [TraceEvent::PhaseEnd(e), TraceEvent::Phase(b)])
                .map(|event| Stamped { at: 3, event })
                .collect();
            assert_eq!(read.events, expected, "{encoding:?}");
        }
        let mut writer = Writer::start(io::sink(), Encoding::Binary).unwrap();
        writer.phase(0, Some(Phase::Check), Phase::Closing);
        assert_eq!(
            writer.bytes[..writer.len],
            [phase_change(Phase::Check, Phase::Closing)]
        );
        writer.finish().unwrap();
    }
}
