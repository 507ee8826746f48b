// mistake: an error or a hang-up counts for the readable side only; a watcher waiting to write never hears of it
// region: dispatch
while let Some(event) = self.events.pop() {
    let key = Key::from_bits(event.token as u64);
    let Some(watcher) = self.watchers.get(key) else {
        continue;
    };
    let problem = event.error || event.hangup;
    let ready = Event {
        readable: watcher.interest.readable && (event.readable || problem),
        writable: watcher.interest.writable && event.writable,
        ..event
    };
    if !ready.readable && !ready.writable {
        continue;
    }
    return Some((WatcherId(key), watcher.payload, ready));
}
None
