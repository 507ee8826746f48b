// mistake: a wake does not look at DONE: waking a finished task schedules it and rings the loop
// expect: a wake of a finished task must do nothing
// region: schedule
let mut state = self.state.load(Ordering::Acquire);
loop {
    if state & (SCHEDULED | NOTIFIED) != 0 {
        return false;
    }
    let (next, queue) = if state & RUNNING != 0 {
        (state | NOTIFIED, false)
    } else {
        (state | SCHEDULED, true)
    };
    match self
        .state
        .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => return queue,
        Err(actual) => state = actual,
    }
}
