// mistake: the poll phase may sleep though nothing keeps the loop alive
// region: backend_timeout
let may_sleep = !self.status.stop
    && self.queues.pending.is_empty()
    && self.queues.idle.is_empty()
    && self.queues.closing.is_empty();
if may_sleep {
    self.timers.uv.next_timeout(self.now)
} else {
    Some(0)
}
