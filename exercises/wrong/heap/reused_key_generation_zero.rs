// mistake: a key for a reused slot gets generation 0, not the slot's current generation
// region: insert
self.len += 1;
if let Some(index) = self.free.pop() {
    let slot = &mut self.slots[index as usize];
    slot.value = Some(value);
    return Key {
        index,
        generation: 0,
    };
}
let index = u32::try_from(self.slots.len()).expect("a heap holds at most u32::MAX slots");
self.slots.push(Slot {
    generation: 0,
    value: Some(value),
});
Key {
    index,
    generation: 0,
}
