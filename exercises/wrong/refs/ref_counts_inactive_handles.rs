// mistake: ref counts the handle even while it is stopped
// region: ref_
if !flags.refed {
    flags.refed = true;
    self.active_handles += 1;
}
// region: unref
if flags.refed {
    flags.refed = false;
    self.active_handles = self.active_handles.saturating_sub(1);
}
