//! The binary encoding of a trace (format version 2): what `EVENTLOOP_TRACE` writes unless
//! the path ends in `.jsonl`. The events are the same as in the JSON lines of version 1, event
//! for event; only their bytes differ — 1.7 to 4 bytes an event on the book's workloads, against
//! about 50 as JSON.
//!
//! ```text
//! {"format":"eventloop-trace","version":2,"crate":"0.1.0","clock":"system","unit":"ms","encoding":"binary"}
//! frame frame frame …
//! ```
//!
//! **The header** is the first line, JSON as in version 1, with `"version":2` and
//! `"encoding":"binary"`, so `head -1` says what a file is. Binary frames follow the newline
//! to the end of the file.
//!
//! **A frame** is what the loop's thread handed the writer thread at once (a chunk of up to
//! 256 KiB of events); the writer writes it as it is, with what the bytes refer to in front:
//!
//! ```text
//! 0xF2                             the frame's mark
//! n   then n × (len, UTF-8 bytes)  frame names seen for the first time: they take the next
//!                                  numbers of the trace's names table, from 0
//! m   then m × (len, UTF-8 bytes)  the lines of the frame's `output` events, in order
//! len then len bytes               the events
//! ```
//!
//! Every number (`n`, `len`, and every field below) is unsigned LEB128: seven bits a byte,
//! the low ones first, the top bit set on every byte but the last (so 0–127 take one byte,
//! up to 16,383 two). The names table and the time run on across frames.
//!
//! **An event** is a byte for its kind, then its fields, in this order ("name" is a number
//! in the names table; "n?" an optional number: 0 for none, n + 1 for n):
//!
//! | byte | event | fields |
//! |---|---|---|
//! | 0 | (time) | the loop time, in ms, of the events that follow, until the next |
//! | 1 | `phase` | phase: a byte, 0–6 in [`Phase::ALL`]'s order |
//! | 2 | `phase_end` | phase |
//! | 3 | `queues` | the seven lengths, in [`Queue::ALL`]'s order |
//! | 4 | `queued` | queue: a byte, 0–6 in [`Queue::ALL`]'s order; name; id?; by (a name)? |
//! | 5 | `unqueued` | queue; id? |
//! | 6 | `start` | name |
//! | 7 | `end` | name |
//! | 8 | `drain` | ticks; microtasks |
//! | 9 | `drain_end` | |
//! | 10 | `poll_wait` | timeout? |
//! | 11 | `poll_woke` | waited; events |
//! | 12 | `poll_ready` | events |
//! | 13 | `stalled` | |
//! | 14 | `work_queued` | name; job |
//! | 15 | `work_started` | job; worker |
//! | 16 | `work_finished` | job; worker; ran_us |
//! | 17 | `work_done` | jobs |
//! | 18 | `alive` | handles; requests; alive: a byte, 0 or 1 |
//! | 19 | `before_exit` | |
//! | 20 | `exit` | code, zigzag (0, −1, 1, −2 … as 0, 1, 2, 3 …) |
//! | 21 | `run_returned` | alive: a byte |
//! | 22 | `output` | none: its line is the frame's next |
//! | 32 + 7·e + p | `phase_end` e, then `phase` p | none: one byte for the commonest pair |
//!
//! The last row is why a phase that ran nothing costs a byte: the loop's iteration is seven
//! phase changes, and most phases of a busy loop find nothing to do.
//!
//! A reader ([`read`](super::format::read)) refuses a file cut off inside a frame, a frame
//! whose bytes are not events, and a version it does not know, each with an error that says
//! where — never with a panic. A file cut at a frame's end reads as the shorter trace it is.

use super::{Phase, Queue, QueueLengths, TraceEvent};

// The kinds of events, as listed in the module's table.
pub(super) const TIME: u8 = 0;
pub(super) const PHASE: u8 = 1;
pub(super) const PHASE_END: u8 = 2;
pub(super) const QUEUES: u8 = 3;
pub(super) const QUEUED: u8 = 4;
pub(super) const UNQUEUED: u8 = 5;
pub(super) const START: u8 = 6;
pub(super) const END: u8 = 7;
pub(super) const DRAIN: u8 = 8;
pub(super) const DRAIN_END: u8 = 9;
pub(super) const POLL_WAIT: u8 = 10;
pub(super) const POLL_WOKE: u8 = 11;
pub(super) const POLL_READY: u8 = 12;
pub(super) const STALLED: u8 = 13;
pub(super) const WORK_QUEUED: u8 = 14;
pub(super) const WORK_STARTED: u8 = 15;
pub(super) const WORK_FINISHED: u8 = 16;
pub(super) const WORK_DONE: u8 = 17;
pub(super) const ALIVE: u8 = 18;
pub(super) const BEFORE_EXIT: u8 = 19;
pub(super) const EXIT: u8 = 20;
pub(super) const RUN_RETURNED: u8 = 21;
pub(super) const OUTPUT: u8 = 22;
/// `PHASES + 7 × ended + began`: a phase ends and the next begins, in one byte.
pub(super) const PHASES: u8 = 32;
/// The first byte of every frame.
pub(super) const FRAME: u8 = 0xF2;

/// The byte of "`ended` ends, `began` begins".
#[inline]
pub(super) fn phase_change(ended: Phase, began: Phase) -> u8 {
    PHASES + 7 * ended as u8 + began as u8
}

/// Appends `n` as LEB128: seven bits a byte, low first, the top bit set on all but the last.
#[inline]
pub(super) fn number(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// An exit code as an unsigned number, small either side of zero.
pub(super) fn zigzag(code: i32) -> u64 {
    u64::from(((code << 1) ^ (code >> 31)) as u32)
}

fn unzigzag(n: u64) -> Result<i32, String> {
    let n = u32::try_from(n).map_err(|_| format!("the exit code {n} is not a 32-bit number"))?;
    Ok(((n >> 1) as i32) ^ -((n & 1) as i32))
}

/// Appends a frame's head: the mark, its new names, its lines, and the events' length (the
/// events follow).
pub(super) fn frame_head<S: AsRef<str>>(
    out: &mut Vec<u8>,
    names: &[S],
    lines: &[String],
    len: usize,
) {
    out.push(FRAME);
    for list in [
        &names.iter().map(AsRef::as_ref).collect::<Vec<&str>>()[..],
        &lines.iter().map(String::as_str).collect::<Vec<&str>>()[..],
    ] {
        number(out, list.len() as u64);
        for text in list {
            number(out, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
    }
    number(out, len as u64);
}

/// Reads the events of a frame (or of a chunk, on the writer thread).
pub(super) struct Decoder<'a> {
    bytes: &'a [u8],
    /// Where the next byte is.
    pub(super) pos: usize,
}

impl<'a> Decoder<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder { bytes, pos: 0 }
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or("the bytes end in the middle of an event")?;
        self.pos += 1;
        Ok(b)
    }

    fn number(&mut self) -> Result<u64, String> {
        let mut n = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("a number does not fit in 64 bits".into());
            }
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(n);
            }
            shift += 7;
        }
    }

    fn count(&mut self) -> Result<usize, String> {
        let n = self.number()?;
        usize::try_from(n).map_err(|_| format!("{n} is too large a count"))
    }

    fn optional(&mut self) -> Result<Option<u64>, String> {
        Ok(self.number()?.checked_sub(1))
    }

    fn flag(&mut self) -> Result<bool, String> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("{b} is not a flag (0 or 1)")),
        }
    }

    fn phase(&mut self) -> Result<Phase, String> {
        self.one_of(&Phase::ALL, "phase")
    }

    fn queue(&mut self) -> Result<Queue, String> {
        self.one_of(&Queue::ALL, "queue")
    }

    /// A byte that indexes `all` (a phase, a queue): the entry, or what it is not.
    fn one_of<T: Copy>(&mut self, all: &[T], what: &str) -> Result<T, String> {
        let b = self.byte()?;
        all.get(usize::from(b))
            .copied()
            .ok_or_else(|| format!("{b} is not a {what} (0-{})", all.len() - 1))
    }

    fn name<N>(&mut self, names: &impl Fn(usize) -> Option<N>) -> Result<N, String> {
        let n = self.count()?;
        names(n).ok_or_else(|| format!("name {n} is not in the names table"))
    }

    /// Reads the next event (two for a phase change), handing each to `emit` with its time;
    /// `at` is the time in force, which a time entry changes. `names` gives the name of a
    /// number; `lines`, the line of the next `output` event.
    pub(super) fn event<N>(
        &mut self,
        names: &impl Fn(usize) -> Option<N>,
        lines: &mut impl Iterator<Item = String>,
        at: &mut u64,
        emit: &mut impl FnMut(u64, TraceEvent<N>),
    ) -> Result<(), String> {
        let kind = self.byte()?;
        let event = match kind {
            TIME => {
                *at = self.number()?;
                return Ok(());
            }
            PHASE => TraceEvent::Phase(self.phase()?),
            PHASE_END => TraceEvent::PhaseEnd(self.phase()?),
            QUEUES => {
                let mut lengths = QueueLengths::default();
                for queue in Queue::ALL {
                    lengths.set(queue, self.count()?);
                }
                TraceEvent::Queues(lengths)
            }
            QUEUED => TraceEvent::Queued {
                queue: self.queue()?,
                name: self.name(names)?,
                id: self.optional()?,
                by: match self.optional()? {
                    None => None,
                    Some(n) => Some(
                        names(n as usize)
                            .ok_or_else(|| format!("name {n} is not in the names table"))?,
                    ),
                },
            },
            UNQUEUED => TraceEvent::Unqueued {
                queue: self.queue()?,
                id: self.optional()?,
            },
            START => TraceEvent::CallbackStarted(self.name(names)?),
            END => TraceEvent::CallbackFinished(self.name(names)?),
            DRAIN => TraceEvent::Drain {
                ticks: self.count()?,
                microtasks: self.count()?,
            },
            DRAIN_END => TraceEvent::DrainEnd,
            POLL_WAIT => TraceEvent::PollWait(self.optional()?),
            POLL_WOKE => TraceEvent::PollWoke {
                waited: self.number()?,
                events: self.count()?,
            },
            POLL_READY => TraceEvent::PollReady(self.count()?),
            STALLED => TraceEvent::Stalled,
            WORK_QUEUED => TraceEvent::WorkQueued {
                name: self.name(names)?,
                job: self.number()?,
            },
            WORK_STARTED => TraceEvent::WorkStarted {
                job: self.number()?,
                worker: self.count()?,
            },
            WORK_FINISHED => TraceEvent::WorkFinished {
                job: self.number()?,
                worker: self.count()?,
                ran_us: self.number()?,
            },
            WORK_DONE => TraceEvent::WorkDone(self.count()?),
            ALIVE => TraceEvent::Alive {
                handles: self.count()?,
                requests: self.count()?,
                alive: self.flag()?,
            },
            BEFORE_EXIT => TraceEvent::BeforeExit,
            EXIT => TraceEvent::Exit(unzigzag(self.number()?)?),
            RUN_RETURNED => TraceEvent::RunReturned(self.flag()?),
            OUTPUT => TraceEvent::Output(
                lines
                    .next()
                    .ok_or("an output event, but the frame has no line left for it")?,
            ),
            pair if (PHASES..PHASES + 49).contains(&pair) => {
                let pair = usize::from(pair - PHASES);
                emit(*at, TraceEvent::PhaseEnd(Phase::ALL[pair / 7]));
                TraceEvent::Phase(Phase::ALL[pair % 7])
            }
            other => return Err(format!("{other} is not a kind of event")),
        };
        emit(*at, event);
        Ok(())
    }
}

/// A frame read from a file: its new names, its lines, and its events' bytes.
pub(super) struct Frame<'a> {
    pub(super) names: Vec<String>,
    pub(super) lines: Vec<String>,
    pub(super) events: &'a [u8],
    /// Where the events begin, in the bytes the frame was read from.
    pub(super) events_at: usize,
}

/// Why a frame could not be read: the bytes end inside it, or they are not a frame.
pub(super) enum FrameError {
    /// The bytes end inside the frame (which began at this offset).
    Truncated,
    /// Something else, at this offset.
    Corrupt(usize, String),
}

/// Reads the frame starting at `bytes[*pos]`, and moves `pos` past it.
pub(super) fn frame<'a>(bytes: &'a [u8], pos: &mut usize) -> Result<Frame<'a>, FrameError> {
    let mut d = Decoder::new(bytes);
    d.pos = *pos;
    let cut = |d: &Decoder<'_>, e: String| {
        if d.pos >= bytes.len() {
            FrameError::Truncated
        } else {
            FrameError::Corrupt(d.pos, e)
        }
    };
    let mark = d.byte().map_err(|e| cut(&d, e))?;
    if mark != FRAME {
        return Err(FrameError::Corrupt(
            *pos,
            format!("a frame begins with the byte 0x{FRAME:02x}, not 0x{mark:02x}"),
        ));
    }
    let mut texts = [Vec::new(), Vec::new()];
    for list in &mut texts {
        let n = d.count().map_err(|e| cut(&d, e))?;
        for _ in 0..n {
            let len = d.count().map_err(|e| cut(&d, e))?;
            let at = d.pos;
            let text = bytes
                .get(at..at.saturating_add(len))
                .ok_or(FrameError::Truncated)?;
            let text = std::str::from_utf8(text).map_err(|e| {
                FrameError::Corrupt(at, format!("a name or line is not UTF-8: {e}"))
            })?;
            list.push(text.to_string());
            d.pos = at + len;
        }
    }
    let len = d.count().map_err(|e| cut(&d, e))?;
    let events_at = d.pos;
    let events = bytes
        .get(events_at..events_at.saturating_add(len))
        .ok_or(FrameError::Truncated)?;
    *pos = events_at + len;
    let [names, lines] = texts;
    Ok(Frame {
        names,
        lines,
        events,
        events_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips() {
        for code in [0, 1, -1, 2, -2, i32::MAX, i32::MIN] {
            assert_eq!(unzigzag(zigzag(code)), Ok(code));
        }
        assert_eq!(zigzag(-1), 1, "small either side of zero");
        assert!(unzigzag(1 << 40).is_err(), "not a 32-bit code");
    }

    #[test]
    fn phases_and_queues_are_numbered_as_listed() {
        for (i, phase) in Phase::ALL.into_iter().enumerate() {
            assert_eq!(phase as usize, i, "{phase}");
        }
        for (i, queue) in Queue::ALL.into_iter().enumerate() {
            assert_eq!(queue as usize, i, "{queue}");
        }
    }

    #[test]
    fn numbers_round_trip_and_a_65_bit_one_is_refused() {
        for n in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut out = Vec::new();
            number(&mut out, n);
            let mut d = Decoder::new(&out);
            assert_eq!(d.number(), Ok(n));
            assert!(d.at_end(), "{n}: every byte used");
        }
        let mut too_long = vec![0xff; 9];
        too_long.push(0x02); // bit 64
        assert!(
            Decoder::new(&too_long)
                .number()
                .unwrap_err()
                .contains("64 bits")
        );
        assert!(
            Decoder::new(&[0x80])
                .number()
                .unwrap_err()
                .contains("middle of an event")
        );
    }
}
