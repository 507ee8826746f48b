// mistake: a Ready poll only clears RUNNING, as a Pending one does: the finished task is idle, and a later wake schedules it again
// expect: a wake of a finished task must do nothing
// region: finish_poll
let mut state = self.state.load(Ordering::Acquire);
loop {
    let notified = state & NOTIFIED != 0 && !ready;
    let mut next = state & !(RUNNING | NOTIFIED);
    if notified {
        next |= SCHEDULED;
    }
    match self
        .state
        .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => return notified,
        Err(actual) => state = actual,
    }
}
