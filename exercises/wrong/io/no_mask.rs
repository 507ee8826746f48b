// mistake: the kernel's answer is handed out as it came, not masked by what the watcher wants now
// region: dispatch
while let Some(event) = self.events.pop() {
    let key = Key::from_bits(event.token as u64);
    let Some(watcher) = self.watchers.get(key) else {
        continue;
    };
    return Some((WatcherId(key), watcher.payload, event));
}
None
