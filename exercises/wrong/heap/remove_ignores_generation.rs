// mistake: remove checks only that the slot holds a value: a stale key removes the newer value
// region: remove
let slot = self.slots.get_mut(key.index as usize)?;
let value = slot.value.take()?;
self.len -= 1;
if let Some(next) = slot.generation.checked_add(1) {
    slot.generation = next;
    self.free.push(key.index);
}
Some(value)
