// mistake: an error or a hang-up is not counted as readable and writable: a watcher waiting for one side never hears of it
// region: dispatch
while let Some(event) = self.events.pop() {
    let key = Key::from_bits(event.token as u64);
    let Some(watcher) = self.watchers.get(key) else {
        continue;
    };
    let ready = Event {
        readable: watcher.interest.readable && event.readable,
        writable: watcher.interest.writable && event.writable,
        ..event
    };
    if !ready.readable && !ready.writable {
        continue;
    }
    return Some((WatcherId(key), watcher.payload, ready));
}
None
