// mistake: the entry marks the task running but leaves SCHEDULED set, so every later wake thinks an entry is queued
// expect: lost wake-up
// region: start
let mut state = self.state.load(Ordering::Acquire);
loop {
    if state & SCHEDULED == 0 || state & DONE != 0 {
        return false;
    }
    let next = state | RUNNING;
    match self
        .state
        .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => return true,
        Err(actual) => state = actual,
    }
}
