// mistake: a wake on the loop thread goes through the inbox too, not straight to the microtask queue
// region: send
self.woken
    .lock()
    .unwrap_or_else(|poisoned| poisoned.into_inner())
    .push(key);
self.wakeup.wakeup().send();
