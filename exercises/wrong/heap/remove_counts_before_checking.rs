// mistake: remove lowers the count before checking the key: a stale remove still counts
// region: remove
self.len = self.len.saturating_sub(1);
let slot = self.slots.get_mut(key.index as usize)?;
if slot.generation != key.generation {
    return None;
}
let value = slot.value.take()?;
if let Some(next) = slot.generation.checked_add(1) {
    slot.generation = next;
    self.free.push(key.index);
}
Some(value)
