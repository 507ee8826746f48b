// mistake: remove never puts the slot on the free list: churn grows the vector without end
// region: remove
let slot = self.slots.get_mut(key.index as usize)?;
if slot.generation != key.generation {
    return None;
}
let value = slot.value.take()?;
self.len -= 1;
slot.generation = slot.generation.wrapping_add(1);
Some(value)
