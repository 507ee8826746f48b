// mistake: whether the poll may sleep is decided after the pending and idle phases ran, so Once mode sleeps though there was work when the iteration began
// region: run_once
self.run_pending();
self.run_idle();
self.run_prepare();
let can_sleep = self.queues.pending.is_empty() && self.queues.idle.is_empty();
let timeout = if mode == RunMode::Default || (mode == RunMode::Once && can_sleep) {
    self.backend_timeout()
} else {
    Some(0)
};
self.poll_io(timeout);
for _ in 0..PENDING_DRAINS_AFTER_POLL {
    if self.queues.pending.is_empty() {
        break;
    }
    self.run_pending();
}
self.run_check();
self.run_closing();
self.update_time();
self.run_timers();
