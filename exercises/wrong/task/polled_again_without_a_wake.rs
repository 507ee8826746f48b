// mistake: every Pending poll queues the task again, woken or not: it is polled over and over
// expect: double poll
// region: finish_poll
if ready {
    self.state.store(DONE, Ordering::Release);
    return false;
}
let mut state = self.state.load(Ordering::Acquire);
loop {
    let next = (state & !(RUNNING | NOTIFIED)) | SCHEDULED;
    match self
        .state
        .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => return true,
        Err(actual) => state = actual,
    }
}
