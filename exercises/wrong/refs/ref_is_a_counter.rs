// mistake: ref and unref count calls (like a reference count) instead of setting a flag
// region: ref_
flags.refed = true;
if flags.active {
    self.active_handles += 1;
}
// region: unref
flags.refed = false;
if flags.active {
    self.active_handles = self.active_handles.saturating_sub(1);
}
