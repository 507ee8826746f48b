// mistake: a stopped loop may still sleep in the poll phase
// region: backend_timeout
let may_sleep = (self.liveness.active_handles() > 0 || self.liveness.active_requests() > 0)
    && self.queues.pending.is_empty()
    && self.queues.idle.is_empty()
    && self.queues.closing.is_empty();
if may_sleep {
    self.timers.uv.next_timeout(self.now)
} else {
    Some(0)
}
