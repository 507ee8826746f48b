// mistake: the overflow error lists the outermost frames, not the innermost ones
// region: push
if self.frames.len() >= self.limit {
    return Err(StackOverflow {
        limit: self.limit,
        frame: name,
        top: self
            .frames
            .iter()
            .take(FRAMES_IN_OVERFLOW)
            .copied()
            .collect(),
    });
}
self.frames.push(name);
Ok(())
