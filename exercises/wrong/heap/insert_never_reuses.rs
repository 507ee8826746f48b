// mistake: insert always grows the vector and never takes a slot from the free list
// region: insert
self.len += 1;
let index = u32::try_from(self.slots.len()).expect("a heap holds at most u32::MAX slots");
self.slots.push(Slot {
    generation: 0,
    value: Some(value),
});
Key {
    index,
    generation: 0,
}
