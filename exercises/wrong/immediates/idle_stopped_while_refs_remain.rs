// mistake: the idle handle is stopped whenever the count goes down, not when it reaches 0
// region: add_immediate_ref
let before = self.immediates.ref_count;
self.immediates.ref_count = before.checked_add_signed(delta).expect("ref count >= 0");
let idle = self.immediates.idle_handle.expect("created with the loop");
match (before, self.immediates.ref_count) {
    (0, 1..) => self
        .start_handle(idle)
        .expect("Node's idle handle is never closed"),
    (b, a) if a < b => self
        .stop_handle(idle)
        .expect("Node's idle handle is never closed"),
    _ => {}
}
