// mistake: after a Pending poll, a wake that came during it is forgotten: the task is not queued again
// region: finish_poll
if ready {
    self.state.store(DONE, Ordering::Release);
    return false;
}
let mut state = self.state.load(Ordering::Acquire);
loop {
    let notified = state & NOTIFIED != 0;
    let mut next = state & !(RUNNING | NOTIFIED);

    match self
        .state
        .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => return notified,
        Err(actual) => state = actual,
    }
}
