// mistake: get_mut looks the slot up by index alone: a stale key can change the new value
// region: get_mut
self.slots.get_mut(key.index as usize)?.value.as_mut()
