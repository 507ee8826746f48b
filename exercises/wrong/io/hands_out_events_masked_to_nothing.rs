// mistake: an event masked down to nothing is still handed out: the callback runs for something it no longer wants
// region: dispatch
let event = self.events.pop()?;
let key = Key::from_bits(event.token as u64);
let Some(watcher) = self.watchers.get(key) else {
    return self.dispatch();
};
let problem = event.error || event.hangup;
let ready = Event {
    readable: watcher.interest.readable && (event.readable || problem),
    writable: watcher.interest.writable && (event.writable || problem),
    ..event
};
Some((WatcherId(key), watcher.payload, ready))
