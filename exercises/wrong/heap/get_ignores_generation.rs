// mistake: get looks the slot up by index alone: a stale key reads the slot's new value
// region: get
self.slots.get(key.index as usize)?.value.as_ref()
