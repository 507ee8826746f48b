// mistake: only a wake on the loop's own thread is queued: a wake from another thread is dropped
// expect: lost wake-up
// region: send
if let Some(tasks) = local_tasks(self) {
    tasks.queue_entry(key);
}
