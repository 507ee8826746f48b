// mistake: the check phase runs until the queue is empty, immediates queued during it included (no snapshot)
// region: process_immediates
if self.immediates.entries.is_empty() {
    self.immediates.queue.clear();
    self.stop_immediate_idle_if_unrefd();
    return;
}
self.call_in_frame("processImmediate", |lp| {
    let mut first = true;
    while {
        lp.immediates.queue.begin_pass(false);
        lp.immediates.queue.in_pass()
    } {
        if !first {
            lp.checkpoint();
        }
        first = false;
        let key = lp
            .immediates
            .queue
            .next()
            .expect("a tick cannot shorten the pass");
        let Some(entry) = lp.immediates.entries.remove(key) else {
            continue;
        };
        if entry.refed {
            lp.immediates.ref_count -= 1;
        }
        lp.invoke(entry.callback, "setImmediate", Input::None);
    }
});
self.checkpoint();
self.stop_immediate_idle_if_unrefd();
