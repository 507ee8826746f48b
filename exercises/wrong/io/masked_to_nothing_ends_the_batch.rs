// mistake: an event masked down to nothing ends the batch (return None) instead of being skipped
// region: dispatch
while let Some(event) = self.events.pop() {
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
        return None;
    }
    return Some((WatcherId(key), watcher.payload, ready));
}
None
