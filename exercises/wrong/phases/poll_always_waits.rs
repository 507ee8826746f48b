// mistake: the poll phase always waits as long as backend_timeout says, whatever the run mode
// region: run_once
let can_sleep = self.queues.pending.is_empty() && self.queues.idle.is_empty();
self.run_pending();
self.run_idle();
self.run_prepare();
let timeout = self.backend_timeout();
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
