//! Randomized model tests of the two timer structures (part of the reliability suite).
//!
//! Each test drives the real structure and a deliberately plain model of it with the same
//! random operations — fixed seeds, so a failure replays exactly — and compares every
//! answer and every observable field after every operation:
//! - [`TimerHeap`] (libuv's heap) against a map of timers whose next firing order comes from
//!   sorting by (deadline, start id), not from a heap;
//! - [`TimerLists`] (Node's duration lists) against lists kept as plain vectors, the queue of
//!   lists found by a linear scan, plus two rules checked on every timers pass that hold
//!   whatever the data structure: no timeout runs before its time, and none that is due at
//!   the pass's start is left behind when the pass ends.
//!
//! Timers passes interleave with what callbacks do (start, stop, clear, refresh, create,
//! unref — the running timer itself included), as the loop interleaves them.
//!
//! `cargo test --test timer_models` runs 10,000 operations per structure (spread over the
//! seeds); the long version (`scripts/reliability.sh`) runs 100,000 per seed.

use std::collections::{BTreeMap, VecDeque};

use eventloop::heap::Key;
use eventloop::timers::{AfterCallback, Due, TimerHeap, TimerLists};

mod common;
use common::XorShift;

/// Operations per seed: 10,000 in all for `cargo test`, 100,000 per seed for the long run.
const SHORT_OPS: usize = 10_000 / SEEDS.len();
const LONG_OPS: usize = 100_000;
const SEEDS: [u64; 3] = [1, 0xDEC0DE, 20_240_601];
/// At most this many timers at once, so passes find several due together.
const MAX_TIMERS: usize = 48;

#[test]
fn timer_heap_matches_its_model() {
    for seed in SEEDS {
        HeapRun::new(seed).run(SHORT_OPS);
    }
}

#[test]
fn timer_lists_match_their_model() {
    for seed in SEEDS {
        ListsRun::new(seed).run(SHORT_OPS);
    }
}

mod long {
    use super::*;

    #[test]
    #[ignore = "long: scripts/reliability.sh"]
    fn timer_heap_matches_its_model() {
        for seed in SEEDS {
            HeapRun::new(seed).run(LONG_OPS);
        }
    }

    #[test]
    #[ignore = "long: scripts/reliability.sh"]
    fn timer_lists_match_their_model() {
        for seed in SEEDS {
            ListsRun::new(seed).run(LONG_OPS);
        }
    }
}

/// The model's map from key to value: a vector indexed by the key's slot, which also holds
/// the key, so a stale key finds nothing (and no hashing slows the debug build down).
struct KeyMap<T>(Vec<Option<(Key, T)>>);

impl<T> Default for KeyMap<T> {
    fn default() -> Self {
        KeyMap(Vec::new())
    }
}

impl<T> KeyMap<T> {
    fn insert(&mut self, key: Key, value: T) {
        let i = key.index() as usize;
        if self.0.len() <= i {
            self.0.resize_with(i + 1, || None);
        }
        self.0[i] = Some((key, value));
    }

    fn get(&self, key: Key) -> Option<&T> {
        match self.0.get(key.index() as usize)? {
            Some((k, v)) if *k == key => Some(v),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.0.get_mut(key.index() as usize)? {
            Some((k, v)) if *k == key => Some(v),
            _ => None,
        }
    }

    fn remove(&mut self, key: Key) -> Option<T> {
        self.get(key)?;
        self.0[key.index() as usize].take().map(|(_, v)| v)
    }

    fn len(&self) -> usize {
        self.0.iter().flatten().count()
    }

    fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.0.iter().flatten().map(|(k, v)| (*k, v))
    }

    fn values(&self) -> impl Iterator<Item = &T> {
        self.iter().map(|(_, v)| v)
    }
}

/// Live keys and a few stale ones (removed since), to aim operations at.
#[derive(Default)]
struct Keys {
    live: Vec<Key>,
    stale: VecDeque<Key>,
}

impl Keys {
    fn add(&mut self, key: Key) {
        self.live.push(key);
    }

    fn forget(&mut self, key: Key) {
        if let Some(i) = self.live.iter().position(|&k| k == key) {
            self.live.swap_remove(i);
            self.stale.push_back(key);
            if self.stale.len() > 16 {
                self.stale.pop_front();
            }
        }
    }

    /// A live key most of the time, a stale one sometimes; `None` when there is none.
    fn any(&self, rng: &mut XorShift) -> Option<Key> {
        if !self.stale.is_empty() && (self.live.is_empty() || rng.chance(10)) {
            return Some(self.stale[rng.index(self.stale.len())]);
        }
        (!self.live.is_empty()).then(|| *rng.pick(&self.live))
    }

    fn all(&self) -> impl Iterator<Item = Key> + '_ {
        self.live.iter().chain(self.stale.iter()).copied()
    }
}

// ---------------------------------------------------------------------------------------
// libuv's timer heap

/// What a timer is, in the model.
#[derive(Debug, Clone)]
struct ModelTimer {
    payload: u64,
    started: bool,
    active: bool,
    ready: bool,
    due: u64,
    repeat: u64,
    start_id: u64,
}

#[derive(Default)]
struct HeapModel {
    timers: KeyMap<ModelTimer>,
    next_start_id: u64,
    ready: VecDeque<Key>,
}

impl HeapModel {
    fn start(&mut self, key: Key, now: u64, timeout: u64, repeat: u64) -> bool {
        let Some(t) = self.timers.get_mut(key) else {
            return false;
        };
        t.ready = false;
        t.active = true;
        t.started = true;
        t.due = now.saturating_add(timeout);
        t.repeat = repeat;
        t.start_id = self.next_start_id;
        self.next_start_id += 1;
        true
    }

    fn stop(&mut self, key: Key) {
        if let Some(t) = self.timers.get_mut(key) {
            t.ready = false;
            t.active = false;
        }
    }

    fn again(&mut self, key: Key, now: u64) -> bool {
        match self.timers.get(key) {
            Some(t) if t.started => {
                let repeat = t.repeat;
                if repeat != 0 {
                    self.start(key, now, repeat, repeat);
                }
                true
            }
            _ => false,
        }
    }

    /// Every active timer due at `now`, earliest deadline first, then start order: sorted,
    /// no heap.
    fn collect_due(&mut self, now: u64) -> usize {
        let mut due: Vec<(u64, u64, Key)> = self
            .timers
            .iter()
            .filter(|(_, t)| t.active && t.due <= now)
            .map(|(k, t)| (t.due, t.start_id, k))
            .collect();
        due.sort();
        for &(_, _, key) in &due {
            let t = self.timers.get_mut(key).unwrap();
            t.active = false;
            t.ready = true;
            self.ready.push_back(key);
        }
        due.len()
    }

    fn pop_ready(&mut self, now: u64) -> Option<Key> {
        while let Some(key) = self.ready.pop_front() {
            match self.timers.get_mut(key) {
                Some(t) if t.ready => {
                    t.ready = false;
                    self.again(key, now);
                    return Some(key);
                }
                _ => continue,
            }
        }
        None
    }

    fn next_timeout(&self, now: u64) -> Option<u64> {
        self.timers
            .values()
            .filter(|t| t.active)
            .map(|t| t.due.saturating_sub(now).min(i32::MAX as u64))
            .min()
    }
}

struct HeapRun {
    seed: u64,
    rng: XorShift,
    real: TimerHeap<u64>,
    model: HeapModel,
    keys: Keys,
    now: u64,
    next_payload: u64,
    step: usize,
    /// What happened lately, printed when a comparison fails.
    recent: VecDeque<String>,
    fired: u64,
    passes: u64,
}

impl HeapRun {
    fn new(seed: u64) -> HeapRun {
        HeapRun {
            seed,
            rng: XorShift::new(seed),
            real: TimerHeap::new(),
            model: HeapModel::default(),
            keys: Keys::default(),
            now: 0,
            next_payload: 0,
            step: 0,
            recent: VecDeque::new(),
            fired: 0,
            passes: 0,
        }
    }

    fn note(&mut self, what: String) {
        self.recent.push_back(what);
        if self.recent.len() > 24 {
            self.recent.pop_front();
        }
    }

    #[track_caller]
    fn same<T: PartialEq + std::fmt::Debug>(&self, what: &str, real: T, model: T) {
        if real != model {
            panic!(
                "timer heap, seed {}, step {}: {what}: the heap says {real:?}, the model {model:?}\n\
                 now = {}; last operations:\n  {}",
                self.seed,
                self.step,
                self.now,
                self.recent.iter().cloned().collect::<Vec<_>>().join("\n  ")
            );
        }
    }

    fn run(mut self, ops: usize) {
        while self.step < ops {
            self.step += 1;
            match self.rng.below(100) {
                0..=54 => self.mutate(),
                55..=74 => {
                    let by = match self.rng.below(10) {
                        0 => 0,
                        1 => 100 + self.rng.below(1000),
                        _ => 1 + self.rng.below(12),
                    };
                    self.now += by;
                    self.note(format!("advance {by} -> {}", self.now));
                }
                _ => self.pass(),
            }
            self.check();
        }
        println!(
            "timer heap, seed {}: {ops} operations, {} timers passes, {} callbacks fired, \
             heap and model agreed at every step",
            self.seed, self.passes, self.fired
        );
    }

    /// One operation a program (or a callback) might do.
    fn mutate(&mut self) {
        let now = self.now;
        let roll = self.rng.below(100);
        if roll < 20 || self.keys.live.is_empty() {
            if self.keys.live.len() >= MAX_TIMERS {
                return;
            }
            let payload = self.next_payload;
            self.next_payload += 1;
            let key = self.real.insert(payload);
            self.model.timers.insert(
                key,
                ModelTimer {
                    payload,
                    started: false,
                    active: false,
                    ready: false,
                    due: 0,
                    repeat: 0,
                    start_id: 0,
                },
            );
            self.keys.add(key);
            self.note(format!("insert {key:?} ({payload})"));
            return;
        }
        let Some(key) = self.keys.any(&mut self.rng) else {
            return;
        };
        match roll {
            20..=54 => {
                let timeout = match self.rng.below(12) {
                    0 => 0,
                    1 => u64::MAX,
                    2 => self.rng.below(1000),
                    _ => self.rng.below(20),
                };
                let repeat = *self.rng.pick(&[0, 0, 0, 1, 3, 7, 50]);
                let real = self.real.start(key, now, timeout, repeat);
                let model = self.model.start(key, now, timeout, repeat);
                self.note(format!("start {key:?} timeout {timeout} repeat {repeat}"));
                self.same("start returned", real, model);
            }
            55..=69 => {
                self.real.stop(key);
                self.model.stop(key);
                self.note(format!("stop {key:?}"));
            }
            70..=79 => {
                let real = self.real.again(key, now).is_ok();
                let model = self.model.again(key, now);
                self.note(format!("again {key:?}"));
                self.same("again succeeded", real, model);
            }
            80..=87 => {
                let repeat = *self.rng.pick(&[0, 2, 5, 20]);
                self.real.set_repeat(key, repeat);
                if let Some(t) = self.model.timers.get_mut(key) {
                    t.repeat = repeat;
                }
                self.note(format!("set_repeat {key:?} {repeat}"));
            }
            _ => {
                let real = self.real.remove(key);
                let model = self.model.timers.remove(key).map(|t| t.payload);
                self.keys.forget(key);
                self.note(format!("remove {key:?}"));
                self.same("remove returned", real, model);
            }
        }
    }

    /// A timers pass: collect what is due, then pop it one timer at a time, with what the
    /// callbacks do in between.
    fn pass(&mut self) {
        self.passes += 1;
        let now = self.now;
        let real = self.real.collect_due(now);
        let model = self.model.collect_due(now);
        self.note(format!("collect_due at {now}: {real}"));
        self.same("collect_due count", real, model);
        loop {
            let real = self.real.pop_ready(now);
            let model = self.model.pop_ready(now);
            self.note(format!("pop_ready -> {real:?}"));
            self.same("pop_ready (firing order)", real, model);
            if real.is_none() {
                break;
            }
            self.fired += 1;
            // The callback: sometimes nothing, sometimes a few operations. Between two
            // callbacks the counts and the timer just popped are compared; every timer is,
            // after each step of `run`.
            for _ in 0..self.rng.below(3) {
                self.mutate();
            }
            self.check_counts();
            self.check_timer(real.expect("Some"));
        }
    }

    fn check(&self) {
        self.check_counts();
        for key in self.keys.all() {
            self.check_timer(key);
        }
    }

    fn check_counts(&self) {
        self.same("len", self.real.len(), self.model.timers.len());
        let active = self.model.timers.values().filter(|t| t.active).count();
        self.same("active", self.real.active(), active);
        self.same(
            "next_timeout",
            self.real.next_timeout(self.now),
            self.model.next_timeout(self.now),
        );
    }

    fn check_timer(&self, key: Key) {
        let now = self.now;
        {
            let m = self.model.timers.get(key);
            self.same("payload", self.real.payload(key), m.map(|t| &t.payload));
            self.same(
                "is_active",
                self.real.is_active(key),
                m.is_some_and(|t| t.active),
            );
            let due = m.filter(|t| t.active).map(|t| t.due);
            self.same("due", self.real.due(key), due);
            self.same(
                "due_in",
                self.real.due_in(key, now),
                due.map_or(0, |d| d.saturating_sub(now)),
            );
            self.same("repeat", self.real.repeat(key), m.map(|t| t.repeat));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Node's timer lists

/// A `Timeout`, in the model.
#[derive(Debug, Clone)]
struct ModelTimeout {
    payload: u64,
    idle_timeout: f64,
    idle_start: u64,
    repeat: bool,
    refed: bool,
    /// Sits in its duration's list (false while its callback runs).
    scheduled: bool,
}

impl ModelTimeout {
    fn msecs(&self) -> u64 {
        self.idle_timeout as u64
    }
}

/// A duration's list: a plain vector, oldest first.
#[derive(Debug, Clone)]
struct ModelList {
    expiry: u64,
    id: u64,
    members: Vec<Key>,
}

struct ListsModel {
    timeouts: KeyMap<ModelTimeout>,
    lists: BTreeMap<u64, ModelList>,
    next_list_id: u64,
    next_expiry: u64,
    ref_count: usize,
}

impl ListsModel {
    fn new() -> ListsModel {
        ListsModel {
            timeouts: KeyMap::default(),
            lists: BTreeMap::new(),
            next_list_id: 0,
            next_expiry: u64::MAX,
            ref_count: 0,
        }
    }

    fn create(
        &mut self,
        key: Key,
        payload: u64,
        delay: f64,
        repeat: bool,
        now: u64,
    ) -> Option<u64> {
        self.timeouts.insert(
            key,
            ModelTimeout {
                payload,
                idle_timeout: delay,
                idle_start: now,
                repeat,
                refed: true,
                scheduled: false,
            },
        );
        self.ref_count += 1;
        self.insert(key, now)
    }

    fn unlink(&mut self, key: Key) {
        let Some(t) = self.timeouts.get_mut(key).filter(|t| t.scheduled) else {
            return;
        };
        t.scheduled = false;
        let msecs = t.msecs();
        let list = self
            .lists
            .get_mut(&msecs)
            .expect("a scheduled timeout's list");
        list.members.retain(|&k| k != key);
    }

    fn insert(&mut self, key: Key, start: u64) -> Option<u64> {
        self.unlink(key);
        let t = self.timeouts.get_mut(key)?;
        t.idle_start = start;
        t.scheduled = true;
        let msecs = t.msecs();
        let mut schedule = None;
        if !self.lists.contains_key(&msecs) {
            let expiry = start.saturating_add(msecs);
            let id = self.next_list_id;
            self.next_list_id += 1;
            self.lists.insert(
                msecs,
                ModelList {
                    expiry,
                    id,
                    members: Vec::new(),
                },
            );
            if self.next_expiry > expiry {
                schedule = Some(msecs);
                self.next_expiry = expiry;
            }
        }
        self.lists.get_mut(&msecs).unwrap().members.push(key);
        schedule
    }

    fn clear(&mut self, key: Key) -> Option<u64> {
        self.unlink(key);
        let t = self.timeouts.remove(key)?;
        if t.refed {
            if self
                .lists
                .get(&t.msecs())
                .is_some_and(|l| l.members.is_empty())
            {
                self.lists.remove(&t.msecs());
            }
            self.ref_count -= 1;
        }
        Some(t.payload)
    }

    fn set_ref(&mut self, key: Key, refed: bool) {
        if let Some(t) = self.timeouts.get_mut(key)
            && t.refed != refed
        {
            t.refed = refed;
            if refed {
                self.ref_count += 1;
            } else {
                self.ref_count -= 1;
            }
        }
    }

    /// Node's `processTimers`/`listOnTimeout`, one timeout at a time: the earliest list (by
    /// expiry, then id) found by scanning.
    fn next_due(&mut self, now: u64) -> Due {
        loop {
            let Some((&msecs, list)) = self.lists.iter().min_by_key(|(_, l)| (l.expiry, l.id))
            else {
                return Due::Done(None);
            };
            if list.expiry > now {
                self.next_expiry = list.expiry;
                return Due::Done(Some(list.expiry));
            }
            let Some(&head) = list.members.first() else {
                self.lists.remove(&msecs);
                continue;
            };
            let idle_start = self.timeouts.get(head).unwrap().idle_start;
            if now.saturating_sub(idle_start) < msecs {
                let id = self.next_list_id;
                self.next_list_id += 1;
                let list = self.lists.get_mut(&msecs).unwrap();
                list.expiry = idle_start.saturating_add(msecs).max(now + 1);
                list.id = id;
                continue;
            }
            self.unlink(head);
            return Due::Timer(head);
        }
    }

    fn after_callback(&mut self, key: Key, start: u64) -> AfterCallback<u64> {
        let Some(t) = self.timeouts.get(key) else {
            return AfterCallback::Unchanged;
        };
        if t.repeat {
            return AfterCallback::Rescheduled(self.insert(key, start));
        }
        if t.scheduled {
            return AfterCallback::Unchanged;
        }
        let t = self.timeouts.remove(key).unwrap();
        if t.refed {
            self.ref_count -= 1;
        }
        AfterCallback::Released(t.payload)
    }
}

/// Delays as the loop hands them over (already normalised: 1 to 2^31 − 1); a fraction
/// shares the list of its whole part. Mostly short ones, so that passes find work.
const DELAYS: [f64; 8] = [1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 10.9, 25.0];
/// Now and then a long one, which lingers in its list across many passes.
const LONG_DELAYS: [f64; 3] = [100.0, 1000.0, 86_400_000.0];

struct ListsRun {
    seed: u64,
    rng: XorShift,
    real: TimerLists<u64>,
    model: ListsModel,
    keys: Keys,
    now: u64,
    next_payload: u64,
    step: usize,
    recent: VecDeque<String>,
    fired: u64,
    passes: u64,
}

impl ListsRun {
    fn new(seed: u64) -> ListsRun {
        ListsRun {
            seed,
            rng: XorShift::new(seed),
            real: TimerLists::new(),
            model: ListsModel::new(),
            keys: Keys::default(),
            now: 0,
            next_payload: 0,
            step: 0,
            recent: VecDeque::new(),
            fired: 0,
            passes: 0,
        }
    }

    fn note(&mut self, what: String) {
        self.recent.push_back(what);
        if self.recent.len() > 24 {
            self.recent.pop_front();
        }
    }

    #[track_caller]
    fn same<T: PartialEq + std::fmt::Debug>(&self, what: &str, real: T, model: T) {
        if real != model {
            self.fail(&format!(
                "{what}: the lists say {real:?}, the model {model:?}"
            ));
        }
    }

    #[track_caller]
    fn fail(&self, what: &str) -> ! {
        panic!(
            "timer lists, seed {}, step {}: {what}\nnow = {}; last operations:\n  {}",
            self.seed,
            self.step,
            self.now,
            self.recent.iter().cloned().collect::<Vec<_>>().join("\n  ")
        );
    }

    fn run(mut self, ops: usize) {
        while self.step < ops {
            self.step += 1;
            match self.rng.below(100) {
                0..=54 => self.mutate(None),
                55..=74 => {
                    let by = match self.rng.below(10) {
                        0 => 0,
                        1 => 100 + self.rng.below(1000),
                        _ => 1 + self.rng.below(12),
                    };
                    self.now += by;
                    self.note(format!("advance {by} -> {}", self.now));
                }
                _ => self.pass(),
            }
            self.check();
        }
        println!(
            "timer lists, seed {}: {ops} operations, {} timers passes, {} callbacks fired, \
             lists and model agreed at every step",
            self.seed, self.passes, self.fired
        );
    }

    /// One operation of a program, or of the callback of `running`.
    fn mutate(&mut self, running: Option<Key>) {
        let now = self.now;
        let roll = self.rng.below(100);
        if roll < 35 || self.keys.live.is_empty() {
            if self.keys.live.len() >= MAX_TIMERS {
                return;
            }
            let payload = self.next_payload;
            self.next_payload += 1;
            let delay = if self.rng.chance(10) {
                *self.rng.pick(&LONG_DELAYS)
            } else {
                *self.rng.pick(&DELAYS)
            };
            let repeat = self.rng.chance(20);
            let (key, real) = self.real.create(payload, delay, repeat, now);
            let model = self.model.create(key, payload, delay, repeat, now);
            self.keys.add(key);
            self.note(format!("create {key:?} delay {delay} repeat {repeat}"));
            self.same("create's restart of the libuv timer", real, model);
            return;
        }
        // A callback often acts on its own timeout.
        let key = match running {
            Some(key) if self.rng.chance(40) => key,
            _ => match self.keys.any(&mut self.rng) {
                Some(key) => key,
                None => return,
            },
        };
        match roll {
            35..=54 => {
                let real = self.real.clear(key);
                let model = self.model.clear(key);
                self.keys.forget(key);
                self.note(format!("clear {key:?}"));
                self.same("clear returned", real, model);
            }
            55..=69 => {
                let real = self.real.refresh(key, now);
                let model = self.model.insert(key, now);
                self.note(format!("refresh {key:?}"));
                self.same("refresh's restart of the libuv timer", real, model);
            }
            _ => {
                let on = self.rng.chance(50);
                self.real.set_ref(key, on);
                self.model.set_ref(key, on);
                self.note(format!("set_ref {key:?} {on}"));
            }
        }
    }

    /// A timers pass at `now`, each callback's operations interleaved.
    fn pass(&mut self) {
        self.passes += 1;
        let now = self.now;
        self.real.begin_pass();
        self.model.next_expiry = u64::MAX;
        self.note(format!("pass at {now}"));
        loop {
            let real = self.real.next_due(now);
            let model = self.model.next_due(now);
            self.note(format!("next_due -> {real:?}"));
            self.same("next_due (firing order)", real, model);
            match real {
                Due::Timer(key) => {
                    self.fired += 1;
                    let t = self.model.timeouts.get(key).unwrap();
                    if t.idle_start + t.msecs() > now {
                        self.fail(&format!("{key:?} ran before its time: {t:?}"));
                    }
                    for _ in 0..self.rng.below(3) {
                        self.mutate(Some(key));
                    }
                    let real = self.real.after_callback(key, now);
                    let model = self.model.after_callback(key, now);
                    if matches!(real, AfterCallback::Released(_)) {
                        self.keys.forget(key);
                    }
                    self.note(format!("after_callback {key:?} -> {real:?}"));
                    self.same("after_callback", real, model);
                    self.check_counts();
                    self.check_timeout(key);
                }
                Due::Done(next) => {
                    // Whatever the lists: nothing due at `now` is left, and the next wake-up
                    // is not later than the earliest timeout.
                    let earliest = self
                        .model
                        .timeouts
                        .values()
                        .filter(|t| t.scheduled)
                        .map(|t| t.idle_start + t.msecs())
                        .min();
                    if let Some(earliest) = earliest {
                        if earliest <= now {
                            self.fail(&format!("a timeout due at {earliest} was left behind"));
                        }
                        if next.is_none_or(|n| n > earliest) {
                            self.fail(&format!(
                                "the pass ended with the next wake-up at {next:?}, after a \
                                 timeout due at {earliest}"
                            ));
                        }
                    }
                    return;
                }
            }
        }
    }

    fn check(&self) {
        self.check_counts();
        for key in self.keys.all() {
            self.check_timeout(key);
        }
    }

    fn check_counts(&self) {
        self.same("len", self.real.len(), self.model.timeouts.len());
        self.same("ref_count", self.real.ref_count(), self.model.ref_count);
        self.same("list_count", self.real.list_count(), self.model.lists.len());
    }

    fn check_timeout(&self, key: Key) {
        {
            let m = self.model.timeouts.get(key);
            self.same("payload", self.real.payload(key), m.map(|t| &t.payload));
            self.same(
                "has_ref",
                self.real.has_ref(key),
                m.is_some_and(|t| t.refed),
            );
            self.same(
                "idle_timeout",
                self.real.idle_timeout(key),
                m.map(|t| t.idle_timeout),
            );
            self.same(
                "idle_start",
                self.real.idle_start(key),
                m.map(|t| t.idle_start),
            );
            self.same(
                "is_scheduled",
                self.real.is_scheduled(key),
                m.is_some_and(|t| t.scheduled),
            );
        }
    }
}
