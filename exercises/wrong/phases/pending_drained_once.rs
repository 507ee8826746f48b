// mistake: after the poll the pending queue is drained once more at most, not up to PENDING_DRAINS_AFTER_POLL times
// region: run_once
let can_sleep = self.queues.pending.is_empty() && self.queues.idle.is_empty();
self.run_pending();
self.run_idle();
self.run_prepare();
let timeout = if mode == RunMode::Default || (mode == RunMode::Once && can_sleep) {
    self.backend_timeout()
} else {
    Some(0)
};
self.poll_io(timeout);
if !self.queues.pending.is_empty() {
    self.run_pending();
}
self.run_check();
self.run_closing();
self.update_time();
self.run_timers();
