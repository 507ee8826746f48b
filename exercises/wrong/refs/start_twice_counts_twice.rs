// mistake: start counts every call, so a handle started twice is counted twice
// region: start
flags.active = true;
if flags.refed {
    self.active_handles += 1;
}
