// mistake: a pass moves only the earliest due timer (if instead of while)
// region: collect_due
let mut moved = 0;
if self.order.first().is_some_and(|first| first.due <= now) {
    let first = self.remove_at(0);
    let t = self
        .timers
        .get_mut(first.timer)
        .expect("heap entries are live");
    t.ready = true;
    self.ready.push_back(first.timer);
    moved += 1;
}
moved
