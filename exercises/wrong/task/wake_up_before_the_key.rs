// mistake: the loop is woken before the key is on the inbox: it may look, find nothing, and sleep
// region: send
if let Some(tasks) = local_tasks(self) {
    tasks.queue_entry(key);
    return;
}
self.wakeup.wakeup().send();
self.woken
    .lock()
    .unwrap_or_else(|poisoned| poisoned.into_inner())
    .push(key);
