// mistake: refuses only when the stack holds more than `limit` frames (> instead of >=)
// region: push
if self.frames.len() > self.limit {
    return Err(StackOverflow {
        limit: self.limit,
        frame: name,
        top: self
            .frames
            .iter()
            .rev()
            .take(FRAMES_IN_OVERFLOW)
            .copied()
            .collect(),
    });
}
self.frames.push(name);
Ok(())
