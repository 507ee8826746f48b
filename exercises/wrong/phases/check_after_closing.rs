// mistake: the check phase runs after the closing phase
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
for _ in 0..PENDING_DRAINS_AFTER_POLL {
    if self.queues.pending.is_empty() {
        break;
    }
    self.run_pending();
}
self.run_closing();
self.run_check();
self.update_time();
self.run_timers();
