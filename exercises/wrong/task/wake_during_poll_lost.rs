// mistake: a wake that arrives while the task runs is dropped instead of marked NOTIFIED
// region: schedule
let mut state = self.state.load(Ordering::Acquire);
loop {
    if state & (DONE | SCHEDULED | NOTIFIED) != 0 {
        return false;
    }
    let (next, queue) = if state & RUNNING != 0 {
        (state, false)
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
