// mistake: the poll phase may sleep while idle handles (immediates) are active
// region: backend_timeout
let may_sleep = !self.status.stop
    && (self.liveness.active_handles() > 0 || self.liveness.active_requests() > 0)
    && self.queues.pending.is_empty()
    && self.queues.closing.is_empty();
if may_sleep {
    self.timers.uv.next_timeout(self.now)
} else {
    Some(0)
}
