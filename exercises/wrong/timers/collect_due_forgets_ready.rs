// mistake: due timers are queued without being marked ready, so the pass skips them as stopped
// region: collect_due
let mut moved = 0;
while self.order.first().is_some_and(|first| first.due <= now) {
    let first = self.remove_at(0);
    self.ready.push_back(first.timer);
    moved += 1;
}
moved
