// mistake: the count is compared but never updated
// region: add_immediate_ref
let before = self.immediates.ref_count;
let after = before.checked_add_signed(delta).expect("ref count >= 0");
let idle = self.immediates.idle_handle.expect("created with the loop");
match (before, after) {
    (0, 1..) => self
        .start_handle(idle)
        .expect("Node's idle handle is never closed"),
    (1.., 0) => self
        .stop_handle(idle)
        .expect("Node's idle handle is never closed"),
    _ => {}
}
