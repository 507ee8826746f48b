// mistake: the generation wraps around after u32::MAX instead of the slot being retired, so an ancient key matches again
// region: remove
let slot = self.slots.get_mut(key.index as usize)?;
if slot.generation != key.generation {
    return None;
}
let value = slot.value.take()?;
self.len -= 1;
slot.generation = slot.generation.wrapping_add(1);
self.free.push(key.index);
Some(value)
