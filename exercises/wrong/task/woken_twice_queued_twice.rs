// mistake: a wake of a task already scheduled queues it again: two entries, two polls
// region: schedule
let mut state = self.state.load(Ordering::Acquire);
loop {
    if state & (DONE | NOTIFIED) != 0 {
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
