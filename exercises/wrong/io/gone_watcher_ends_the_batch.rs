// mistake: an event whose watcher is gone ends the batch (return None) instead of being skipped
// region: dispatch
while let Some(event) = self.events.pop() {
    let key = Key::from_bits(event.token as u64);
    let watcher = self.watchers.get(key)?;
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
