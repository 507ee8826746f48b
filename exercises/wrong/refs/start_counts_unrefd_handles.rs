// mistake: starting a handle counts it even when it is unref'd
// region: start
if !flags.active {
    flags.active = true;
    self.active_handles += 1;
}
// region: stop
if flags.active {
    flags.active = false;
    self.active_handles -= 1;
}
