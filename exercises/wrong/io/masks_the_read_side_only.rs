// mistake: only the readable side is masked by the current interest; writability is passed on as the kernel said
// region: dispatch
while let Some(event) = self.events.pop() {
    let key = Key::from_bits(event.token as u64);
    let Some(watcher) = self.watchers.get(key) else {
        continue;
    };
    let problem = event.error || event.hangup;
    let ready = Event {
        readable: watcher.interest.readable && (event.readable || problem),
        writable: event.writable || problem,
        ..event
    };
    if !ready.readable && !ready.writable {
        continue;
    }
    return Some((WatcherId(key), watcher.payload, ready));
}
None
