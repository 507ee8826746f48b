// mistake: events are taken from the front of the list, which `poll` reversed: the batch runs in the opposite of the kernel's order
// region: dispatch
while !self.events.is_empty() {
    let event = self.events.remove(0);
    let key = Key::from_bits(event.token as u64);
    let Some(watcher) = self.watchers.get(key) else {
        continue;
    };
    let problem = event.error || event.hangup;
    let ready = Event {
        readable: watcher.interest.readable && (event.readable || problem),
        writable: watcher.interest.writable && (event.writable || problem),
        ..event
    };
    if !ready.readable && !ready.writable {
        continue;
    }
    return Some((WatcherId(key), watcher.payload, ready));
}
None
