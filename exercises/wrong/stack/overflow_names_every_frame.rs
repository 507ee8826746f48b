// mistake: the overflow error carries every frame of the stack, not the innermost few
// region: push
if self.frames.len() >= self.limit {
    return Err(StackOverflow {
        limit: self.limit,
        frame: name,
        top: self.frames.iter().rev().copied().collect(),
    });
}
self.frames.push(name);
Ok(())
