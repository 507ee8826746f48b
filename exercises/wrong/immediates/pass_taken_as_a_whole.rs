// mistake: the pass is moved into a local list before it runs: a panic loses the rest of it
// region: process_immediates
if self.immediates.entries.is_empty() {
    self.immediates.queue.clear();
    self.stop_immediate_idle_if_unrefd();
    return;
}
self.immediates.queue.begin_pass(false);
let pass: Vec<Key> = std::iter::from_fn(|| self.immediates.queue.next()).collect();
self.call_in_frame("processImmediate", |lp| {
    let mut first = true;
    for key in pass {
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
