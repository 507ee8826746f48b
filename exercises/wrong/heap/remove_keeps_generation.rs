// mistake: remove frees the slot without bumping its generation: old keys match the next value
// region: remove
let slot = self.slots.get_mut(key.index as usize)?;
if slot.generation != key.generation {
    return None;
}
let value = slot.value.take()?;
self.len -= 1;
self.free.push(key.index);
Some(value)
