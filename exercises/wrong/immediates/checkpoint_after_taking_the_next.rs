// mistake: the checkpoint between two immediates runs after the next one was taken from the pass, so a tick cannot clear it
// region: process_immediates
if self.immediates.entries.is_empty() {
    self.immediates.queue.clear();
    self.stop_immediate_idle_if_unrefd();
    return;
}
self.immediates.queue.begin_pass(false);
self.call_in_frame("processImmediate", |lp| {
    let mut first = true;
    while lp.immediates.queue.in_pass() {
        let key = lp
            .immediates
            .queue
            .next()
            .expect("a tick cannot shorten the pass");
        if !first {
            lp.checkpoint();
        }
        first = false;
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
