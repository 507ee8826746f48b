// mistake: due timers are picked by scanning the heap's vector, so they fire in storage order, not deadline order
// region: collect_due
let due: Vec<Entry> = self
    .order
    .iter()
    .filter(|entry| entry.due <= now)
    .copied()
    .collect();
for entry in &due {
    let t = self.timers.get_mut(entry.timer).expect("heap entries are live");
    let position = t.position.expect("in the heap");
    self.remove_at(position);
    let t = self.timers.get_mut(entry.timer).expect("heap entries are live");
    t.ready = true;
    self.ready.push_back(entry.timer);
}
due.len()
